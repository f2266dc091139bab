//! Email: MIME building, a durable outbox in the database, and a worker that delivers it.
//!
//! The flow is always the same:
//!
//! 1. a caller builds an [`Email`] and calls [`enqueue`] inside its own database
//!    transaction; the fully formatted RFC 5322 message is stored in the `outbox` table, so
//!    nothing is sent unless the caller's work commits, and nothing committed is lost;
//! 2. a worker ([`spawn_worker`], or [`run_once`] directly) claims due rows with a lease,
//!    hands each message to the [`Transport`] (SMTP, or `.eml` files when `SMTP_URL` is
//!    unset) and records the outcome: `sent`, or a retry with exponential back-off, or
//!    `failed` after [`MailConfig::max_attempts`] attempts.
//!
//! Delivery guarantees: a `dedupe_key` makes an enqueue idempotent (a second enqueue with
//! the same key is a [`EnqueueOutcome::Duplicate`]); a row is claimed by one worker at a
//! time (several server instances may share one database); a row is marked `sent`
//! immediately after the transport accepts it. The one window left open is a crash (or a
//! lost database) between the SMTP server accepting a message and the `sent` update being
//! committed: the claim then expires and the message is sent once more. That is the
//! at-least-once half of "never lost"; every other path sends a row at most once.
//!
//! Logs carry outbox ids, counts and error kinds only — never recipients, subjects or
//! bodies.

mod message;
mod outbox;
mod transport;
mod worker;

pub use message::{build_message, parse_mailbox, Attachment, Email, Inline};
pub use outbox::{
    claim_due, enqueue, enqueue_message, queue_depth, EnqueueOutcome, OutboxRow, STATUS_FAILED,
    STATUS_QUEUED, STATUS_SENT,
};
pub use transport::{SmtpSecurity, SmtpSettings, Transport};
pub use worker::{deliver_due, run_once, spawn_worker, spawn_worker_with, Mailer, WorkerHandle};

use anyhow::Context;
use std::time::Duration;

/// Errors from building or delivering a message. Messages never contain addresses,
/// subjects or bodies (they may be logged).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message cannot be built (bad address, content type, …).
    #[error("cannot build the email: {0}")]
    Build(String),
    /// `SMTP_URL` or `MAIL_FROM` is unusable.
    #[error("{0}")]
    Config(String),
}

/// Outbox worker settings, read from the environment next to [`crate::Config`].
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
            SmtpSettings::parse(&url)?;
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
}
