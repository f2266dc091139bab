//! Mail settings: the outbox worker's (`CLUSTERPULSE_MAIL_*`) and the `SMTP_URL`, checked
//! when the server starts so that a bad value stops it with a message naming the setting.
//!
//! `SMTP_URL` forms (DESIGN.md, "Mail URLs"):
//!
//! - `smtp://host[:port]` — plain SMTP, no TLS (local relays and tests; port 25 by default);
//! - `smtp://user:pass@host[:port]?tls=required` — STARTTLS, required (port 587 by default);
//! - `smtps://user:pass@host[:port]` — implicit TLS (port 465 by default).
//!
//! User name and password are percent-decoded (`%40` for `@`, …).

use anyhow::Context;
use std::fmt;
use std::time::Duration;

/// Outbox worker settings, read from the environment next to [`Config`](super::Config).
#[derive(Debug, Clone, PartialEq)]
pub struct MailConfig {
    /// Run the delivery worker inside `serve` (`CLUSTERPULSE_MAIL_WORKER`, default on).
    pub worker: bool,
    /// How often the worker looks for due messages when not nudged
    /// (`CLUSTERPULSE_MAIL_POLL_SECS`, default 5).
    pub poll_interval: Duration,
    /// Back-off after the first failed attempt; doubles with each further failure
    /// (`CLUSTERPULSE_MAIL_RETRY_BASE_SECS`, default 30).
    pub retry_base: Duration,
    /// Longest back-off (`CLUSTERPULSE_MAIL_RETRY_MAX_SECS`, default 3600).
    pub retry_max: Duration,
    /// Attempts before a message is marked `failed` (`CLUSTERPULSE_MAIL_MAX_ATTEMPTS`,
    /// default 10).
    pub max_attempts: i32,
    /// Messages claimed per round trip.
    pub batch: i64,
    /// How long a claim keeps other workers off a message (15 minutes). A worker starts a
    /// message only while at least 8 × `smtp_timeout` of its claim remains, and gives the
    /// rest of a batch back otherwise, so a claim does not expire mid-send.
    pub lease: Duration,
    /// Timeout of each SMTP command.
    pub smtp_timeout: Duration,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            worker: true,
            poll_interval: Duration::from_secs(5),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            max_attempts: 10,
            batch: 50,
            lease: Duration::from_secs(900),
            smtp_timeout: Duration::from_secs(30),
        }
    }
}

impl MailConfig {
    /// Reads the `CLUSTERPULSE_MAIL_*` settings and checks `SMTP_URL` when it is set, so a
    /// bad URL stops the server at start with a message naming it.
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<MailConfig> {
        let d = MailConfig::default();
        let secs = |key: &str, default: Duration| -> anyhow::Result<Duration> {
            match get(key) {
                None => Ok(default),
                Some(v) => {
                    let n: f64 = v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n: &f64| n.is_finite() && *n >= 0.0)
                        .with_context(|| {
                            format!("{key} must be a number of seconds ≥ 0 (got {v:?})")
                        })?;
                    Ok(Duration::from_secs_f64(n))
                }
            }
        };
        let worker = match get("CLUSTERPULSE_MAIL_WORKER") {
            None => d.worker,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => anyhow::bail!("CLUSTERPULSE_MAIL_WORKER must be on or off (got {v:?})"),
            },
        };
        let max_attempts = match get("CLUSTERPULSE_MAIL_MAX_ATTEMPTS") {
            None => d.max_attempts,
            Some(v) => v
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 1)
                .with_context(|| {
                    format!("CLUSTERPULSE_MAIL_MAX_ATTEMPTS must be a whole number ≥ 1 (got {v:?})")
                })?,
        };
        if let Some(url) = get("SMTP_URL") {
            SmtpSettings::parse(&url).map_err(anyhow::Error::msg)?;
        }
        Ok(MailConfig {
            worker,
            poll_interval: secs("CLUSTERPULSE_MAIL_POLL_SECS", d.poll_interval)?
                .max(Duration::from_millis(50)),
            retry_base: secs("CLUSTERPULSE_MAIL_RETRY_BASE_SECS", d.retry_base)?,
            retry_max: secs("CLUSTERPULSE_MAIL_RETRY_MAX_SECS", d.retry_max)?,
            max_attempts,
            ..d
        })
    }

    /// The wait before the next attempt after `attempts` failed ones (≥ 1):
    /// `retry_base · 2^(attempts-1)`, at most `retry_max`.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.saturating_sub(1).clamp(0, 30) as u32;
        self.retry_base
            .checked_mul(1u32 << exp)
            .unwrap_or(self.retry_max)
            .min(self.retry_max)
    }
}

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

fn bad(problem: impl fmt::Display) -> String {
    format!("SMTP_URL: {problem} ({URL_FORMS})")
}

impl SmtpSettings {
    /// Parses an `SMTP_URL`. Errors name `SMTP_URL` and never repeat the password.
    pub fn parse(url: &str) -> Result<SmtpSettings, String> {
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
        let decode = |s: &str, what: &str| -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> anyhow::Result<MailConfig> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MailConfig::from_lookup(&|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(cfg(&[]).unwrap(), MailConfig::default());
        let c = cfg(&[
            ("CLUSTERPULSE_MAIL_WORKER", "off"),
            ("CLUSTERPULSE_MAIL_RETRY_BASE_SECS", "0.5"),
            ("CLUSTERPULSE_MAIL_MAX_ATTEMPTS", "3"),
        ])
        .unwrap();
        assert!(!c.worker);
        assert_eq!(c.retry_base, Duration::from_millis(500));
        assert_eq!(c.max_attempts, 3);
        assert!(cfg(&[("CLUSTERPULSE_MAIL_WORKER", "maybe")]).is_err());
        assert!(cfg(&[("CLUSTERPULSE_MAIL_MAX_ATTEMPTS", "0")]).is_err());
        let e = cfg(&[("SMTP_URL", "smtp://")]).unwrap_err().to_string();
        assert!(e.contains("SMTP_URL"), "{e}");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let c = MailConfig::default();
        assert_eq!(c.backoff(1), Duration::from_secs(30));
        assert_eq!(c.backoff(2), Duration::from_secs(60));
        assert_eq!(c.backoff(4), Duration::from_secs(240));
        assert_eq!(c.backoff(8), Duration::from_secs(3600));
        assert_eq!(c.backoff(1000), Duration::from_secs(3600));
    }

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
}
