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

pub use crate::config::mail::MailConfig;
pub use message::{build_message, parse_mailbox, Attachment, Email, Inline};
pub use outbox::{
    claim_due, enqueue, enqueue_message, queue_depth, EnqueueOutcome, OutboxRow, STATUS_FAILED,
    STATUS_QUEUED, STATUS_SENT,
};
pub use transport::{SmtpSecurity, SmtpSettings, Transport};
pub use worker::{deliver_due, run_once, spawn_worker, spawn_worker_with, Mailer, WorkerHandle};

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
