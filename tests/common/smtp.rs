//! A real SMTP server for tests: the one scripts/test.sh starts (`TEST_SMTP_URL`,
//! `TEST_SMTP_DIR`), or a `scripts/smtp_sink.py` of the test's own (python3 with aiosmtpd;
//! `SMTP_SINK_PYTHON` names the interpreter). The sink writes each message as a `.eml` file.

use std::path::PathBuf;
use std::time::Duration;

pub fn shared_sink() -> Option<(String, PathBuf)> {
    let url = std::env::var("TEST_SMTP_URL").ok()?;
    let dir = std::env::var("TEST_SMTP_DIR").ok()?;
    Some((url, PathBuf::from(dir)))
}

pub fn sink_python() -> Option<String> {
    let candidates: Vec<String> = match std::env::var("SMTP_SINK_PYTHON") {
        Ok(p) => vec![p],
        Err(_) => vec!["/usr/bin/python3".into(), "python3".into()],
    };
    candidates.into_iter().find(|py| {
        std::process::Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `scripts/smtp_sink.py` of this test's own, stopped when dropped.
pub struct Sink {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Sink {
    pub fn start(python: &str, port: u16) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let mail_dir = dir.path().join("mail");
        let child = std::process::Command::new(python)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smtp_sink.py"))
            .args(["--port", &port.to_string()])
            .arg("--dir")
            .arg(&mail_dir)
            .arg("--ready-file")
            .arg(&ready)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start smtp_sink.py");
        let mut sink = Sink { child, dir };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !ready.exists() {
            if let Some(status) = sink.child.try_wait().unwrap() {
                panic!("smtp_sink.py exited early: {status}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "smtp_sink.py not ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sink
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SMTP server to deliver to: the shared one, or a sink of this test's own.
pub enum SmtpServer {
    Shared { url: String, dir: PathBuf },
    Own { url: String, sink: Sink },
}

impl SmtpServer {
    /// `None` (after printing "skipped: …") when neither is available.
    pub fn start() -> Option<SmtpServer> {
        if let Some((url, dir)) = shared_sink() {
            return Some(SmtpServer::Shared { url, dir });
        }
        let Some(python) = sink_python() else {
            eprintln!("skipped: no SMTP server (set TEST_SMTP_URL/TEST_SMTP_DIR, or install python3-aiosmtpd)");
            return None;
        };
        let port = free_port();
        let sink = Sink::start(&python, port);
        Some(SmtpServer::Own {
            url: format!("smtp://127.0.0.1:{port}"),
            sink,
        })
    }

    pub fn url(&self) -> &str {
        match self {
            SmtpServer::Shared { url, .. } | SmtpServer::Own { url, .. } => url,
        }
    }

    pub fn dir(&self) -> PathBuf {
        match self {
            SmtpServer::Shared { dir, .. } => dir.clone(),
            SmtpServer::Own { sink, .. } => sink.mail_dir(),
        }
    }

    /// The messages delivered to `to` so far (raw RFC 5322).
    pub fn messages_to(&self, to: &str) -> Vec<Vec<u8>> {
        let dir = self.dir();
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = rd
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with(".eml") && !name.starts_with('.')
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter(|raw| delivered_to(raw, to))
            .collect()
    }

    /// Waits (up to 30 s) for `n` messages to `to`; panics if they do not come.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Vec<u8>> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.messages_to(to);
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} of {n} messages to {to} arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn delivered_to(raw: &[u8], to: &str) -> bool {
    mail_parser::MessageParser::default()
        .parse(raw)
        .and_then(|m| {
            m.to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(|a| a.eq_ignore_ascii_case(to))
        })
        .unwrap_or(false)
}

/// The plain-text body of a message.
pub fn text_of(raw: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(raw)
        .and_then(|m| m.body_text(0).map(|t| t.to_string()))
        .unwrap_or_default()
}
