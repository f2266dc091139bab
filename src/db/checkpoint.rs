//! WAL checkpoints for SQLite, off the writer's thread.
//!
//! SQLite copies the write-ahead log back into the database file (a checkpoint) from the
//! connection whose commit took the log past 1,000 pages. With one writer thread
//! ([`super::writer`]), that thread did the copying and its `fsync`s while every waiting
//! submission queued behind it: under the submission load the checkpoints were 22% of the
//! writer's CPU samples (issue 17, BENCHMARKS.md). So the writer's connection turns
//! automatic checkpoints off and a [`Checkpointer`] thread, on a connection of its own,
//! runs a PASSIVE checkpoint (it never waits for the writer or readers) at most every
//! [`INTERVAL`] while commits keep coming, and once more when it stops.

use super::DbConnection;
use diesel::prelude::*;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The shortest time between two checkpoints while commits keep coming.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// What the writer's connection runs first: no automatic checkpoints on it.
pub const WRITER_PRAGMA: &str = "PRAGMA wal_autocheckpoint = 0;";

pub struct Checkpointer {
    /// Capacity 1: commits signalled while a checkpoint is due count as one.
    signal: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with `conn` (a connection to the same SQLite database).
    pub fn start(conn: DbConnection) -> anyhow::Result<Checkpointer> {
        let (signal, commits) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || serve(conn, commits))?;
        Ok(Checkpointer {
            signal: Some(signal),
            thread: Some(thread),
        })
    }

    /// Tells the thread that a transaction committed (never blocks).
    pub fn committed(&self) {
        if let Some(s) = &self.signal {
            match s.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::error!("the database checkpoint thread has stopped");
                }
            }
        }
    }
}

impl Drop for Checkpointer {
    /// Stops the thread after a last checkpoint.
    fn drop(&mut self) {
        self.signal.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut conn: DbConnection, commits: Receiver<()>) {
    let mut last = Instant::now() - INTERVAL;
    loop {
        match commits.recv() {
            Ok(()) => {}
            Err(_) => break,
        }
        // Let commits gather for the rest of the interval, so that a checkpoint copies each
        // page once however often it changed meanwhile.
        let wait = INTERVAL.saturating_sub(last.elapsed());
        if !wait.is_zero() {
            match commits.recv_timeout(wait) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        checkpoint(&mut conn);
        last = Instant::now();
    }
    checkpoint(&mut conn);
}

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
}

fn checkpoint(conn: &mut DbConnection) {
    let r = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Outcome>(conn);
    match r {
        Ok(o) if o.busy != 0 => tracing::debug!("WAL checkpoint could not finish (busy)"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    /// One unit writes about 2 MB (500 rows of 4,000 random bytes).
    const CHUNK: &str =
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500) \
                         INSERT INTO t (x) SELECT randomblob(4000) FROM c";

    /// The writer's connection makes no checkpoints itself, yet the log does not grow with
    /// every commit: the checkpoint thread copies it back, so the next transaction starts
    /// the log again from its beginning. Without the thread the log would hold all four
    /// chunks; with automatic checkpoints on the writer it would hold one as well, which is
    /// why the test also checks that the writer's connection has them off.
    #[test]
    fn the_log_is_checkpointed_off_the_writer_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let url = path.display().to_string();
        let pool = crate::db::connect(&url, 1).unwrap();
        pool.get()
            .unwrap()
            .batch_execute("CREATE TABLE t (x BLOB NOT NULL)")
            .unwrap();
        let wal = dir.path().join("c.db-wal");
        let writer = crate::db::start_writer(&url, 1).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let autocheckpoint: i64 = rt
            .block_on(writer.submit(|c| -> Result<i64, diesel::result::Error> {
                #[derive(diesel::QueryableByName)]
                struct Pages {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    wal_autocheckpoint: i64,
                }
                use diesel::RunQueryDsl;
                Ok(diesel::sql_query("PRAGMA wal_autocheckpoint")
                    .get_result::<Pages>(c)?
                    .wal_autocheckpoint)
            }))
            .unwrap();
        assert_eq!(
            autocheckpoint, 0,
            "the writer's connection checkpoints itself"
        );
        let mut first = 0;
        for round in 0..4 {
            rt.block_on(writer.submit(|c| c.batch_execute(CHUNK)))
                .unwrap();
            let size = std::fs::metadata(&wal).unwrap().len();
            if round == 0 {
                first = size;
                assert!(first > 1_000_000, "one chunk took {first} bytes of log");
            }
            // Longer than the checkpoint interval: the thread has had its turn.
            std::thread::sleep(super::INTERVAL * 2);
        }
        let size = std::fs::metadata(&wal).unwrap().len();
        assert!(
            size < first * 2,
            "the log grew to {size} bytes over four chunks of {first}: it is not checkpointed"
        );
        drop(writer);
    }
}
