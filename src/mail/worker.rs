//! The delivery worker: claims due outbox rows, hands them to the transport, records the
//! outcome.

use super::outbox::{claim_due, mark_attempt_failed, mark_sent, release, OutboxRow};
use super::{parse_mailbox, MailConfig, MailError, Transport, STATUS_FAILED};
use crate::config::Config;
use crate::db::Pool;
use crate::kernel::time::now;
use lettre::address::{Address, Envelope};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Batches one `run_once` may claim before returning (the rest waits for the next run).
const MAX_BATCHES_PER_RUN: usize = 20;

/// A transport with the envelope sender and the retry policy: everything a worker needs.
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: Transport,
    envelope_from: Address,
    policy: MailConfig,
}

impl Mailer {
    /// `mail_from` is `MAIL_FROM` (`a@b.org` or `Name <a@b.org>`): its address is the SMTP
    /// envelope sender.
    pub fn new(
        transport: Transport,
        mail_from: &str,
        policy: MailConfig,
    ) -> Result<Mailer, MailError> {
        let envelope_from = parse_mailbox(mail_from, "MAIL_FROM")
            .map_err(|e| MailError::Config(e.to_string()))?
            .email;
        Ok(Mailer {
            transport,
            envelope_from,
            policy,
        })
    }

    /// The transport of `SMTP_URL` (or the `.eml` outbox folder), `MAIL_FROM`, and the
    /// `CLUSTERPULSE_MAIL_*` policy.
    pub fn from_config(config: &Config) -> Result<Mailer, MailError> {
        let transport = Transport::new(
            config.smtp_url.as_deref(),
            &config.outbox_dir(),
            config.mail.smtp_timeout,
        )?;
        Mailer::new(transport, &config.mail_from, config.mail.clone())
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn policy(&self) -> &MailConfig {
        &self.policy
    }
}

/// Sends every due message (up to a bound per call) and returns how many were delivered.
/// Several calls may run at once, in one process or in several sharing a database: each
/// row is delivered by the one worker that claimed it.
pub async fn run_once(pool: &Pool, mailer: &Mailer, worker_id: &str) -> anyhow::Result<usize> {
    let pool = pool.clone();
    let mailer = mailer.clone();
    let worker_id = worker_id.to_string();
    tokio::task::spawn_blocking(move || deliver_due(&pool, &mailer, &worker_id)).await?
}

/// The blocking body of [`run_once`] (for the CLI or a thread of its own).
pub fn deliver_due(pool: &Pool, mailer: &Mailer, worker_id: &str) -> anyhow::Result<usize> {
    let policy = &mailer.policy;
    // A message is started only while the claim has at least this long left, so a slow
    // server cannot make the claim expire mid-send (which would let another worker send
    // the same row).
    let margin =
        chrono::Duration::from_std(policy.smtp_timeout * 8).unwrap_or(chrono::Duration::MAX);
    let mut delivered = 0;
    for _ in 0..MAX_BATCHES_PER_RUN {
        let rows = {
            let mut conn = pool.get()?;
            claim_due(&mut conn, worker_id, policy.batch, policy.lease)?
        };
        let claimed = rows.len();
        if claimed == 0 {
            break;
        }
        tracing::debug!(claimed, worker_id, "claimed outbox messages");
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            let lease_left = row.claimed_until.map(|u| u - now());
            if lease_left.is_some_and(|left| left < margin) {
                // Out of time on this claim: give the rest back for the next round.
                let mut conn = pool.get()?;
                for r in std::iter::once(row).chain(rows.by_ref()) {
                    release(&mut conn, r.id, worker_id)?;
                }
                break;
            }
            if deliver_one(pool, mailer, worker_id, &row)? {
                delivered += 1;
            }
        }
        if (claimed as i64) < policy.batch {
            break;
        }
    }
    if delivered > 0 {
        tracing::info!(delivered, worker_id, "emails delivered");
    }
    Ok(delivered)
}

/// Sends one claimed row and records the outcome; true when this call delivered it.
fn deliver_one(
    pool: &Pool,
    mailer: &Mailer,
    worker_id: &str,
    row: &OutboxRow,
) -> anyhow::Result<bool> {
    let outcome = row
        .recipient
        .parse::<Address>()
        .map_err(|_| "the stored recipient is not a valid address".to_string())
        .and_then(|to| {
            Envelope::new(Some(mailer.envelope_from.clone()), vec![to])
                .map_err(|_| "cannot build the SMTP envelope".to_string())
        })
        .and_then(|envelope| {
            mailer
                .transport
                .send(row.id, &envelope, row.message.as_bytes())
        });
    match outcome {
        Ok(()) => {
            // The message is out: record it, retrying briefly, since failing here is the
            // one way a message can be sent twice (once the claim expires).
            let mut tries = 0;
            loop {
                tries += 1;
                let r = pool
                    .get()
                    .map_err(anyhow::Error::from)
                    .and_then(|mut c| Ok(mark_sent(&mut c, row.id)?));
                match r {
                    Ok(true) => {
                        tracing::debug!(outbox_id = row.id, kind = %row.kind, "email sent");
                        return Ok(true);
                    }
                    Ok(false) => {
                        tracing::warn!(
                            outbox_id = row.id,
                            "email sent, but the row had already been sent by another worker after this worker's claim expired"
                        );
                        return Ok(true);
                    }
                    Err(e) if tries < 5 => {
                        tracing::warn!(outbox_id = row.id, error = %e, "email sent but not yet recorded; retrying");
                        std::thread::sleep(Duration::from_millis(200 * tries));
                    }
                    Err(e) => {
                        tracing::error!(
                            outbox_id = row.id,
                            error = %e,
                            "email sent but could not be recorded; it will be sent again when the claim expires"
                        );
                        return Err(e);
                    }
                }
            }
        }
        Err(error) => {
            let mut conn = pool.get()?;
            let status = mark_attempt_failed(
                &mut conn,
                row.id,
                worker_id,
                row.attempts,
                &error,
                &mailer.policy,
            )?;
            let attempts = row.attempts + 1;
            match status {
                Some(STATUS_FAILED) => tracing::error!(
                    outbox_id = row.id,
                    attempts,
                    error = %error,
                    "email delivery failed for good"
                ),
                Some(_) => tracing::warn!(
                    outbox_id = row.id,
                    attempts,
                    retry_in_secs = mailer.policy.backoff(attempts).as_secs_f64(),
                    error = %error,
                    "email delivery failed; will retry"
                ),
                None => tracing::warn!(
                    outbox_id = row.id,
                    error = %error,
                    "email delivery failed after this worker's claim was lost"
                ),
            }
            Ok(false)
        }
    }
}

/// A running background worker. Dropping the handle stops it too.
#[derive(Debug)]
pub struct WorkerHandle {
    worker_id: String,
    nudge: Arc<Notify>,
    stop: watch::Sender<bool>,
    join: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Wakes the worker now (e.g. after an enqueue) instead of at its next poll.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// A clonable waker for code that enqueues (e.g. to keep in the app state).
    pub fn nudger(&self) -> Arc<Notify> {
        self.nudge.clone()
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Stops the worker after the run in progress, if any, and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.join.await;
    }
}

/// Starts the delivery worker on the current tokio runtime: a run at start, then one every
/// `CLUSTERPULSE_MAIL_POLL_SECS` or whenever nudged. Fails (naming the setting) when
/// `SMTP_URL` or `MAIL_FROM` is unusable, or when called outside a tokio runtime.
pub fn spawn_worker(pool: Pool, config: &Config) -> anyhow::Result<WorkerHandle> {
    spawn_worker_with(pool, config, Arc::new(Notify::new()))
}

/// [`spawn_worker`] woken through a `Notify` the caller already holds (the app state's).
pub fn spawn_worker_with(
    pool: Pool,
    config: &Config,
    nudge: Arc<Notify>,
) -> anyhow::Result<WorkerHandle> {
    let mailer = Mailer::from_config(config)?;
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| anyhow::anyhow!("the mail worker needs a tokio runtime"))?;
    let worker_id = format!(
        "{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let (stop, mut stopped) = watch::channel(false);
    let poll = config.mail.poll_interval;
    let (id, wake) = (worker_id.clone(), nudge.clone());
    let transport = match mailer.transport() {
        Transport::Smtp(_) => "smtp",
        Transport::Files(_) => "files",
    };
    tracing::info!(worker_id, transport, "mail worker started");
    let join = runtime.spawn(async move {
        loop {
            if let Err(e) = run_once(&pool, &mailer, &id).await {
                tracing::warn!(worker_id = %id, error = %e, "mail worker run failed");
            }
            tokio::select! {
                changed = stopped.changed() => if changed.is_err() || *stopped.borrow() { break },
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
        tracing::info!(worker_id = %id, "mail worker stopped");
    });
    Ok(WorkerHandle {
        worker_id,
        nudge,
        stop,
        join,
    })
}
