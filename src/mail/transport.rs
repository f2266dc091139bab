//! Where messages go: an SMTP server (`SMTP_URL`) or, when it is unset, `.eml` files in
//! `<data dir>/outbox/`.
//!
//! The `SMTP_URL` forms are parsed with the settings (`config::mail`).

use super::MailError;
pub use crate::config::mail::{SmtpSecurity, SmtpSettings};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::SmtpTransport;
use lettre::Transport as _;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Delivers one formatted message.
#[derive(Clone)]
pub enum Transport {
    Smtp(Box<SmtpTransport>),
    /// Writes `<dir>/<UTC timestamp>-<outbox id>.eml` (atomically: a hidden temporary file
    /// renamed into place).
    Files(PathBuf),
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Smtp(_) => f.write_str("Transport::Smtp"),
            Transport::Files(d) => write!(f, "Transport::Files({})", d.display()),
        }
    }
}

impl Transport {
    /// SMTP when `smtp_url` is set, files under `outbox_dir` otherwise.
    pub fn new(
        smtp_url: Option<&str>,
        outbox_dir: &Path,
        timeout: Duration,
    ) -> Result<Transport, MailError> {
        match smtp_url {
            Some(url) => Self::smtp(
                &SmtpSettings::parse(url).map_err(MailError::Config)?,
                timeout,
            ),
            None => Ok(Self::files(outbox_dir)),
        }
    }

    pub fn files(dir: impl Into<PathBuf>) -> Transport {
        Transport::Files(dir.into())
    }

    pub fn smtp(settings: &SmtpSettings, timeout: Duration) -> Result<Transport, MailError> {
        let tls_params = || {
            TlsParameters::new(settings.host.clone())
                .map_err(|e| MailError::Config(format!("SMTP_URL: cannot set up TLS: {e}")))
        };
        let tls = match settings.security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_params()?),
            SmtpSecurity::Implicit => Tls::Wrapper(tls_params()?),
        };
        let mut builder = SmtpTransport::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some(user) = &settings.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                settings.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Transport::Smtp(Box::new(builder.build())))
    }

    /// Sends (or writes) the message of outbox row `id`. The error is a short description
    /// without personal data (no address, no server reply text).
    pub fn send(&self, id: i32, envelope: &Envelope, raw: &[u8]) -> Result<(), String> {
        match self {
            Transport::Smtp(t) => t
                .send_raw(envelope, raw)
                .map(|_| ())
                .map_err(|e| describe_smtp_error(&e)),
            Transport::Files(dir) => write_eml(dir, id, raw)
                .map(|_| ())
                .map_err(|e| format!("cannot write to the outbox folder ({:?})", e.kind())),
        }
    }
}

fn describe_smtp_error(e: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    if let Some(code) = e.status() {
        let kind = if e.is_permanent() {
            "permanent"
        } else {
            "transient"
        };
        return format!("smtp {kind} error, reply code {code}");
    }
    if e.is_timeout() {
        return "smtp timeout".into();
    }
    if e.is_tls() {
        return "smtp tls error".into();
    }
    if e.is_response() {
        return "smtp reply could not be parsed".into();
    }
    if e.is_client() {
        return "smtp client error".into();
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return format!("smtp connection error ({:?})", io.kind());
        }
        source = s.source();
    }
    "smtp connection error".into()
}

/// Writes `raw` as `<dir>/<timestamp>-<id>.eml` via a temporary file and a rename, so a
/// reader never sees a partial file.
pub(crate) fn write_eml(dir: &Path, id: i32, raw: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "{}-{id}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
    );
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let target = dir.join(&name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(raw)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|_| target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_build() {
        let t = Transport::new(
            Some("smtp://u:p@mail.example.org:587?tls=required"),
            Path::new("/nonexistent"),
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(matches!(t, Transport::Smtp(_)));
        let t = Transport::new(None, Path::new("/tmp/x"), Duration::from_secs(5)).unwrap();
        assert!(matches!(t, Transport::Files(ref d) if d == Path::new("/tmp/x")));
    }

    #[test]
    fn eml_files_are_written_atomically_with_id_in_name() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("outbox");
        let p = write_eml(&out, 42, b"Subject: x\r\n\r\nbody\r\n").unwrap();
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with("-42.eml"), "{name}");
        let entries: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert_eq!(entries.len(), 1, "no temporary file left behind");
        assert_eq!(std::fs::read(&p).unwrap(), b"Subject: x\r\n\r\nbody\r\n");
    }
}
