//! Where messages go: an SMTP server (`SMTP_URL`) or, when it is unset, `.eml` files in
//! `<data dir>/outbox/`.
//!
//! `SMTP_URL` forms (DESIGN.md, "Mail URLs"):
//!
//! - `smtp://host[:port]` — plain SMTP, no TLS (local relays and tests; port 25 by default);
//! - `smtp://user:pass@host[:port]?tls=required` — STARTTLS, required (port 587 by default);
//! - `smtps://user:pass@host[:port]` — implicit TLS (port 465 by default).
//!
//! User name and password are percent-decoded (`%40` for `@`, …).

use super::MailError;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::SmtpTransport;
use lettre::Transport as _;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS at all (`smtp://`).
    Plain,
    /// STARTTLS, refusing to go on without it (`smtp://…?tls=required`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// A parsed `SMTP_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username.as_ref().map(|_| "…"))
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

const URL_FORMS: &str = "expected smtp://host:port, smtp://user:password@host:587?tls=required \
                         or smtps://user:password@host:465";

fn bad(problem: impl fmt::Display) -> MailError {
    MailError::Config(format!("SMTP_URL: {problem} ({URL_FORMS})"))
}

impl SmtpSettings {
    /// Parses an `SMTP_URL`. Errors name `SMTP_URL` and never repeat the password.
    pub fn parse(url: &str) -> Result<SmtpSettings, MailError> {
        let parsed = url::Url::parse(url.trim()).map_err(|e| bad(format!("not a URL: {e}")))?;
        let mut tls: Option<String> = None;
        for (k, v) in parsed.query_pairs() {
            match k.as_ref() {
                "tls" => tls = Some(v.to_ascii_lowercase()),
                other => return Err(bad(format!("unknown parameter {other:?}"))),
            }
        }
        let security = match (parsed.scheme(), tls.as_deref()) {
            ("smtp", None) | ("smtp", Some("none")) => SmtpSecurity::Plain,
            ("smtp", Some("required")) | ("smtp", Some("starttls")) => SmtpSecurity::StartTls,
            ("smtps", None) | ("smtps", Some("required")) => SmtpSecurity::Implicit,
            ("smtp" | "smtps", Some(other)) => {
                return Err(bad(format!(
                    "unknown tls={other:?} (use tls=required for STARTTLS)"
                )))
            }
            (scheme, _) => return Err(bad(format!("unknown scheme {scheme:?}"))),
        };
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(bad("no host")),
        };
        if !(parsed.path().is_empty() || parsed.path() == "/") {
            return Err(bad("unexpected path after the host"));
        }
        let port = parsed.port().unwrap_or(match security {
            SmtpSecurity::Plain => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Implicit => 465,
        });
        let decode = |s: &str, what: &str| -> Result<String, MailError> {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| {
                    bad(format!(
                        "the {what} is not valid UTF-8 once percent-decoded"
                    ))
                })
        };
        let username = match parsed.username() {
            "" => None,
            u => Some(decode(u, "user name")?),
        };
        let password = match parsed.password() {
            None => None,
            Some(p) => Some(decode(p, "password")?),
        };
        if password.is_some() && username.is_none() {
            return Err(bad("a password without a user name"));
        }
        Ok(SmtpSettings {
            host,
            port,
            security,
            username,
            password,
        })
    }
}

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
            Some(url) => Self::smtp(&SmtpSettings::parse(url)?, timeout),
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

    fn ok(url: &str) -> SmtpSettings {
        SmtpSettings::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn plain_starttls_and_implicit() {
        let s = ok("smtp://127.0.0.1:2525");
        assert_eq!(
            s,
            SmtpSettings {
                host: "127.0.0.1".into(),
                port: 2525,
                security: SmtpSecurity::Plain,
                username: None,
                password: None
            }
        );
        assert_eq!(ok("smtp://relay.local").port, 25);

        let s = ok("smtp://user:pass@mail.example.org:587?tls=required");
        assert_eq!(s.security, SmtpSecurity::StartTls);
        assert_eq!(s.host, "mail.example.org");
        assert_eq!(s.port, 587);
        assert_eq!(s.username.as_deref(), Some("user"));
        assert_eq!(s.password.as_deref(), Some("pass"));
        assert_eq!(ok("smtp://mail.example.org?tls=required").port, 587);

        let s = ok("smtps://mail.example.org:465");
        assert_eq!(s.security, SmtpSecurity::Implicit);
        assert_eq!(s.port, 465);
        assert_eq!(ok("smtps://mail.example.org").port, 465);
        assert_eq!(ok("smtp://[::1]:25").host, "::1");
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let s = ok("smtps://alerts%40cluster.org:p%40ss%3Aw%2Frd%20x@mail.example.org");
        assert_eq!(s.username.as_deref(), Some("alerts@cluster.org"));
        assert_eq!(s.password.as_deref(), Some("p@ss:w/rd x"));
        let s = ok("smtp://u:%D8%B3%D8%B1@h:25");
        assert_eq!(s.password.as_deref(), Some("سر"));
        let debug = format!("{s:?}");
        assert!(!debug.contains("سر"), "{debug}");
    }

    #[test]
    fn bad_urls_name_smtp_url_and_hide_the_password() {
        for url in [
            "",
            "mail.example.org:25",
            "http://mail.example.org",
            "smtp://",
            "smtp://host:notaport",
            "smtp://host:25?tls=maybe",
            "smtp://host:25?foo=bar",
            "smtp://host:25/path",
            "smtp://:secret@host:25",
            "smtp://u:%FF%FEsecret@host",
        ] {
            let e = SmtpSettings::parse(url).unwrap_err().to_string();
            assert!(e.starts_with("SMTP_URL: "), "{url}: {e}");
            assert!(!e.contains("secret"), "{url}: {e}");
        }
    }

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
