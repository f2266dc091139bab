//! Published snapshots of open rounds (DESIGN.md, Scoring: "open rounds").
//!
//! While a round is open its numbers (scores, progress, charts, CSV, report, scorecards)
//! are computed over its *published* responses only: `responses.snapshot` is the number of
//! the snapshot that published a response, `NULL` while unpublished. A snapshot is taken
//! inside the transaction that stores responses (at the end of a group-committed batch, once
//! per round, [`crate::db::writer::once_per_batch`]), when at least `2 × min_respondents`
//! responses are unpublished: it publishes the oldest of them in a batch whose size is the
//! largest multiple of `min_respondents` that leaves at least `min_respondents` unpublished.
//!
//! So, with `m = min_respondents`:
//! - two reads of an open round differ by zero or by whole batches of at least `m`
//!   responses, never by one response (no differencing of `score · n`); each snapshot
//!   publishes a multiple of `m`, picked and marked by one statement, so a response that
//!   commits meanwhile (from another transaction) cannot join it;
//! - at least `m` responses are always unpublished, so the final scores of the closed round
//!   (all responses) also differ from the last snapshot by at least `m`;
//! - a response that commits late (an older `submitted_at` than already published ones)
//!   cannot change a published snapshot: membership is stored, not recomputed.
//!
//! Snapshots are serialised per round: SQLite has one writer (`write_tx` is `BEGIN
//! IMMEDIATE`); on PostgreSQL the round's row is locked (`FOR NO KEY UPDATE`, which leaves
//! the responses' foreign-key locks alone) before counting again, so two concurrent
//! transactions cannot both publish, or publish part of a batch; one that finds the row
//! locked skips the snapshot (`SKIP LOCKED`) rather than wait for the other's COMMIT, and
//! the next write of the round checks again. A writer lane takes that
//! lock last, just before its COMMIT, and the rounds of a batch in order of their ids, so
//! lanes holding responses of the same rounds never wait on each other in a cycle.

use crate::db::schema::responses;
use crate::db::DbConnection;
use diesel::prelude::*;

/// How many of `unpublished` responses the next snapshot publishes (0: not due yet).
pub fn batch_size(unpublished: i64, min_respondents: i64) -> i64 {
    let m = min_respondents.max(1);
    if unpublished < 2 * m {
        return 0;
    }
    m * ((unpublished - m) / m)
}

fn unpublished(conn: &mut DbConnection, round_id: i32) -> QueryResult<i64> {
    crate::db::on_backend!(conn, |c| responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(responses::snapshot.is_null())
        .count()
        .get_result(c))
}

/// Takes the round's next snapshot if one is due. Call inside the write transaction that
/// stored a response. Returns how many responses it published.
pub fn publish_due(
    conn: &mut DbConnection,
    round_id: i32,
    min_respondents: u32,
) -> QueryResult<i64> {
    let m = i64::from(min_respondents);
    if batch_size(unpublished(conn, round_id)?, m) == 0 {
        return Ok(0);
    }
    if matches!(conn, DbConnection::Postgres(_)) {
        // NO KEY UPDATE: publishers exclude each other, but not the KEY SHARE lock every
        // inserted response takes on its round (FOR UPDATE would wait on those, and two
        // submissions that both inserted and then both publish would deadlock). SKIP
        // LOCKED: while another transaction holds it (publishing, until its COMMIT), this
        // one leaves the snapshot to it and to the next write instead of waiting.
        let locked =
            diesel::sql_query("SELECT id FROM rounds WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED")
                .bind::<diesel::sql_types::Integer, _>(round_id)
                .execute(conn)?;
        if locked == 0 {
            return Ok(0);
        }
    }
    // Again, under the lock: another transaction may have published meanwhile.
    let batch = batch_size(unpublished(conn, round_id)?, m);
    if batch == 0 {
        return Ok(0);
    }
    let last: Option<i32> = crate::db::on_backend!(conn, |c| responses::table
        .filter(responses::round_id.eq(round_id))
        .select(diesel::dsl::max(responses::snapshot))
        .first(c))?;
    // The oldest `batch` unpublished in (time, UUID) order (ties on the time go by the
    // client's UUID, as when it was the key), picked and marked by one statement: one
    // text whatever the batch (prepared once), and exactly `batch` responses, even with
    // other transactions committing responses meanwhile.
    let mark = crate::db::fixed::MarkSnapshot {
        round: round_id,
        snapshot: last.unwrap_or(0) + 1,
        count: i32::try_from(batch).unwrap_or(i32::MAX),
    };
    let marked = crate::db::on_backend!(conn, |c| mark.execute(c))?;
    Ok(marked as i64)
}

#[cfg(test)]
mod tests {
    use super::batch_size;

    #[test]
    fn batches_are_whole_multiples_and_leave_a_group_behind() {
        // m = 3: nothing until 6 are unpublished; then 3, leaving 3.
        for u in 0..6 {
            assert_eq!(batch_size(u, 3), 0, "{u}");
        }
        assert_eq!(batch_size(6, 3), 3);
        assert_eq!(batch_size(8, 3), 3);
        assert_eq!(batch_size(9, 3), 6);
        // Whatever arrives, what stays unpublished is at least m, and a batch is ≥ m.
        for m in 1..6 {
            for u in 0..50 {
                let b = batch_size(u, m);
                assert_eq!(b % m, 0);
                assert!(b == 0 || (b >= m && u - b >= m), "u={u} m={m} b={b}");
            }
        }
        // min_respondents 0 is treated as 1.
        assert_eq!(batch_size(2, 0), 1);
    }
}
