//! The `outbox` table: enqueue, claim, and record outcomes.
//!
//! Statuses: `queued` (waiting or being retried) → `sent`, or → `failed` after the last
//! attempt. A claim (`claimed_by`, `claimed_until`) is a lease: the worker that holds it is
//! the only one that may send the row until it expires.

use super::{build_message, Email, MailConfig, MailError};
use crate::db::schema::outbox;
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::kernel::time::now;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use std::time::Duration;

pub const STATUS_QUEUED: &str = "queued";
pub const STATUS_SENT: &str = "sent";
pub const STATUS_FAILED: &str = "failed";

/// The result of [`enqueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// Stored with this outbox id.
    Queued(i32),
    /// A message with the same dedupe key is already in the outbox; nothing was stored.
    Duplicate,
}

/// A claimed outbox row, as the worker needs it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i32,
    pub kind: String,
    pub recipient: String,
    pub message: String,
    pub attempts: i32,
    pub claimed_until: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewOutbox<'a> {
    kind: &'a str,
    dedupe_key: Option<&'a str>,
    recipient: &'a str,
    subject: &'a str,
    message: &'a str,
    status: &'a str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Builds `email` and stores it for delivery, in the caller's transaction (call it inside
/// `write_tx`, so the message is sent only if the caller's work commits).
///
/// With a `dedupe_key` already in the outbox (whatever its status) nothing is stored and
/// [`EnqueueOutcome::Duplicate`] is returned; this holds under concurrency on both
/// backends (the UNIQUE constraint decides, inside a savepoint so PostgreSQL's transaction
/// stays usable).
///
/// A message that cannot be built (bad address, bad content type) is returned as
/// `diesel::result::Error::SerializationError` wrapping a [`MailError`], so the function
/// composes with any `write_tx` error type; validate addresses beforehand with
/// [`super::parse_mailbox`] to report them properly.
pub fn enqueue(
    conn: &mut DbConnection,
    kind: &str,
    dedupe_key: Option<&str>,
    from: &str,
    email: &Email,
) -> QueryResult<EnqueueOutcome> {
    let message =
        build_message(from, email).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
    enqueue_message(conn, kind, dedupe_key, &message)
}

/// [`enqueue`] for a message built beforehand (e.g. outside the transaction).
pub fn enqueue_message(
    conn: &mut DbConnection,
    kind: &str,
    dedupe_key: Option<&str>,
    message: &lettre::Message,
) -> QueryResult<EnqueueOutcome> {
    let recipient = match message.envelope().to() {
        [one] => one.to_string(),
        _ => {
            return Err(DieselError::SerializationError(Box::new(MailError::Build(
                "an outbox message has exactly one recipient".into(),
            ))))
        }
    };
    let subject = message
        .headers()
        .get_raw("Subject")
        .unwrap_or_default()
        .to_string();
    let formatted = String::from_utf8(message.formatted()).map_err(|_| {
        DieselError::SerializationError(Box::new(MailError::Build(
            "the formatted message is not UTF-8".into(),
        )))
    })?;

    if let Some(key) = dedupe_key {
        let exists = outbox::table
            .filter(outbox::dedupe_key.eq(key))
            .select(outbox::id)
            .first::<i32>(conn)
            .optional()?;
        if exists.is_some() {
            return Ok(EnqueueOutcome::Duplicate);
        }
    }
    let t = now();
    let row = NewOutbox {
        kind,
        dedupe_key,
        recipient: &recipient,
        subject: &subject,
        message: &formatted,
        status: STATUS_QUEUED,
        attempts: 0,
        next_attempt_at: t,
        created_at: t,
    };
    // A savepoint when the caller is in a transaction (the usual case), a transaction of
    // its own otherwise: a unique violation then leaves the caller's transaction usable.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(outbox::table)
            .values(&row)
            .returning(outbox::id)
            .get_result::<i32>(c)
    });
    match inserted {
        Ok(id) => {
            tracing::debug!(outbox_id = id, kind, "email queued");
            Ok(EnqueueOutcome::Queued(id))
        }
        Err(e) if dedupe_key.is_some() && is_unique_violation(&e) => Ok(EnqueueOutcome::Duplicate),
        Err(e) => Err(e),
    }
}

/// Claims up to `batch` due rows for `worker_id` for `lease`, and returns them.
///
/// Due: `queued`, `next_attempt_at <= now`, and unclaimed or with an expired claim. Each
/// row is taken with a conditional UPDATE whose WHERE re-checks the claim, inside a write
/// transaction, so two workers (or server instances) never both get a row: on SQLite the
/// write transactions are serialised; on PostgreSQL the second UPDATE waits for the
/// first's row lock and then re-evaluates its WHERE against the committed claim.
pub fn claim_due(
    conn: &mut DbConnection,
    worker_id: &str,
    batch: i64,
    lease: Duration,
) -> QueryResult<Vec<OutboxRow>> {
    write_tx(conn, |c| {
        let t = now();
        let until = t + to_chrono(lease);
        let candidates: Vec<i32> = outbox::table
            .filter(outbox::status.eq(STATUS_QUEUED))
            .filter(outbox::next_attempt_at.le(t))
            .filter(
                outbox::claimed_until
                    .is_null()
                    .or(outbox::claimed_until.lt(t)),
            )
            .order(outbox::id)
            .limit(batch)
            .select(outbox::id)
            .load(c)?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for id in candidates {
            let n = diesel::update(
                outbox::table
                    .filter(outbox::id.eq(id))
                    .filter(outbox::status.eq(STATUS_QUEUED))
                    .filter(
                        outbox::claimed_until
                            .is_null()
                            .or(outbox::claimed_until.lt(t)),
                    ),
            )
            .set((
                outbox::claimed_by.eq(worker_id),
                outbox::claimed_until.eq(until),
            ))
            .execute(c)?;
            if n == 1 {
                claimed.push(id);
            }
        }
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        outbox::table
            .filter(outbox::id.eq_any(&claimed))
            .order(outbox::id)
            .select(OutboxRow::as_select())
            .load(c)
    })
}

/// Records a successful delivery and drops the message body (invitation links, scorecard
/// content): a delivered row keeps its metadata only. Returns false when the row was no
/// longer `queued` (another worker sent it after this worker's claim expired).
pub fn mark_sent(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
    let t = now();
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq(STATUS_QUEUED)),
    )
    .set((
        outbox::status.eq(STATUS_SENT),
        outbox::message.eq(""),
        outbox::sent_at.eq(t),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt by `worker_id`: attempts + 1, the error (a kind or status, no
/// personal data), and either a retry after the back-off or `failed` after the last
/// attempt. The claim is released. Returns the new status, or `None` when this worker no
/// longer held the claim.
pub fn mark_attempt_failed(
    conn: &mut DbConnection,
    id: i32,
    worker_id: &str,
    attempts_before: i32,
    error: &str,
    policy: &MailConfig,
) -> QueryResult<Option<&'static str>> {
    let attempts = attempts_before + 1;
    let status = if attempts >= policy.max_attempts {
        STATUS_FAILED
    } else {
        STATUS_QUEUED
    };
    let next = now() + to_chrono(policy.backoff(attempts));
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq(STATUS_QUEUED))
            .filter(outbox::claimed_by.eq(worker_id)),
    )
    .set((
        outbox::status.eq(status),
        outbox::attempts.eq(attempts),
        outbox::last_error.eq(error),
        outbox::next_attempt_at.eq(next),
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok((n == 1).then_some(status))
}

/// Gives a claimed row back without counting an attempt (e.g. the worker is stopping).
pub fn release(conn: &mut DbConnection, id: i32, worker_id: &str) -> QueryResult<()> {
    diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::claimed_by.eq(worker_id)),
    )
    .set((
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Messages waiting to be sent (`queued`, due or not), for metrics.
pub fn queue_depth(conn: &mut DbConnection) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::status.eq(STATUS_QUEUED))
        .count()
        .get_result(conn)
}
