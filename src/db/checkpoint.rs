//! WAL checkpoints for SQLite, mostly off the writer's thread.
//!
//! SQLite copies the write-ahead log back into the database file (a checkpoint) from the
//! connection whose commit took the log past 1,000 pages. With one writer thread
//! ([`super::writer`]), that thread did all the copying and its `fsync`s while every waiting
//! submission queued behind it: under the submission load the checkpoints were 22% of the
//! writer's CPU samples (issue 17, BENCHMARKS.md). Now:
//! - a [`Checkpointer`] thread, on a connection of its own, runs a PASSIVE checkpoint (it
//!   never waits for the writer or for readers) at most every [`INTERVAL`] while commits keep
//!   coming, and once more when it stops: it does the copying, beside the writer;
//! - the writer's connection checkpoints itself only once the log holds
//!   [`WRITER_AUTOCHECKPOINT`] pages (instead of 1,000), and then finds nearly everything
//!   copied already. That checkpoint still matters: the log starts again from its beginning
//!   only when a write transaction begins after everything was copied back, which a
//!   checkpoint running beside a busy writer never sees, so without it the log would grow
//!   for as long as the load lasts.

use super::DbConnection;
use diesel::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The shortest time between two checkpoints while commits keep coming.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// Log length (pages) from which the writer's own commit checkpoints (32 MiB of 4 KiB
/// pages). Each of these copies what the thread has not yet copied and waits for the disk:
/// at 2,000 pages they were still 6% of the server's CPU under the submission load; at
/// 8,000 they come four times less often for the same work each.
pub const WRITER_AUTOCHECKPOINT: i64 = 8000;

/// The writer connection's page cache, in KiB (SQLite's default is 2 MiB). It is the only
/// connection that writes, so its cache stays valid from one transaction to the next;
/// at 2 MiB the pages of the indexes a submission touches (random keys: the response's
/// UUID, the invitation's submission key) were mostly gone by the next time and read back
/// from the OS, 15% of the writer's time under the submission load (BENCHMARKS.md).
pub const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// What the writer's connection runs first.
pub fn writer_pragma() -> String {
    format!(
        "PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT}; \
         PRAGMA cache_size = -{WRITER_CACHE_KIB};"
    )
}

pub struct Checkpointer {
    /// Capacity 1: commits signalled while a checkpoint is due count as one.
    signal: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Set once the thread is found gone (logged once).
    gone: AtomicBool,
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
            gone: AtomicBool::new(false),
        })
    }

    /// Tells the thread that a transaction committed (never blocks).
    pub fn committed(&self) {
        if let Some(s) = &self.signal {
            if let Err(TrySendError::Disconnected(())) = s.try_send(()) {
                if !self.gone.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        "the database checkpoint thread has stopped: the writer's own \
                         checkpoints now do all the copying"
                    );
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
    let mut last: Option<Instant> = None;
    'serve: loop {
        if commits.recv().is_err() {
            break;
        }
        // Commits gather until the interval since the last checkpoint is over, so that a
        // checkpoint copies each page once however often it changed meanwhile.
        if let Some(deadline) = last.map(|l| l + INTERVAL) {
            while let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                match commits.recv_timeout(wait) {
                    Ok(()) => continue,
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => break 'serve,
                }
            }
        }
        checkpoint(&mut conn);
        last = Some(Instant::now());
    }
    checkpoint(&mut conn);
}

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
}

fn checkpoint(conn: &mut DbConnection) {
    match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Outcome>(conn) {
        Ok(o) if o.busy != 0 => tracing::debug!("WAL checkpoint could not finish"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    /// One commit rewrites 100 rows of 4,000 random bytes: about 100 pages of log, while
    /// the database itself stays at that size.
    const REWRITE: &str = "UPDATE t SET x = randomblob(4000)";

    struct Db {
        dir: tempfile::TempDir,
        url: String,
    }

    fn database() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let pool = crate::db::connect(&url, 1).unwrap();
        pool.get()
            .unwrap()
            .batch_execute(
                "CREATE TABLE t (x BLOB NOT NULL); \
                 WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100) \
                 INSERT INTO t (x) SELECT randomblob(4000) FROM c",
            )
            .unwrap();
        Db { dir, url }
    }

    fn rewrite(rt: &tokio::runtime::Runtime, writer: &crate::db::writer::Writer) {
        rt.block_on(writer.submit(|c| c.batch_execute(REWRITE)))
            .unwrap();
    }

    /// (pages in the log, pages of it copied back) from the WAL index (the `-shm` file; see
    /// SQLite's "WAL-mode file format": `mxFrame` at byte 16 of the header, `nBackfill` at
    /// byte 96, native byte order).
    fn log_state(db: &Db) -> (u32, u32) {
        let shm = std::fs::read(db.dir.path().join("c.db-shm")).unwrap();
        let u32_at = |at: usize| u32::from_ne_bytes(shm[at..at + 4].try_into().unwrap());
        (u32_at(16), u32_at(96))
    }

    /// A few commits, well under the writer's own threshold: the thread copies them back.
    /// Without it nothing would be copied until the log reached `WRITER_AUTOCHECKPOINT` pages.
    #[test]
    fn the_thread_copies_the_log_back() {
        let db = database();
        let writer = crate::db::start_writer(&db.url, 1).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for _ in 0..5 {
            rewrite(&rt, &writer);
        }
        let (pages, _) = log_state(&db);
        assert!(pages >= 400, "five commits made {pages} pages of log");
        // The thread's turn comes within an interval; allow for a slow machine.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let copied = loop {
            std::thread::sleep(super::INTERVAL);
            let (pages, copied) = log_state(&db);
            if copied == pages || std::time::Instant::now() > deadline {
                break copied;
            }
        };
        assert_eq!(copied, pages, "the log was not copied back");
        drop(writer);
    }

    /// Commits back to back for three times the writer's checkpoint length of log (about
    /// 100 MB): the log stays bounded, because the
    /// writer's own (rare, cheap) checkpoints let it start again; a checkpoint beside a
    /// busy writer never would.
    #[test]
    fn the_log_stays_bounded_under_back_to_back_commits() {
        let db = database();
        let writer = crate::db::start_writer(&db.url, 1).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let wal = db.dir.path().join("c.db-wal");
        let started = std::time::Instant::now();
        let (mut commits, mut largest) = (0u64, 0u64);
        // Enough commits for three times the writer's checkpoint length (with 100 pages a
        // commit), or 60 s on a very slow disk.
        let enough = 3 * super::WRITER_AUTOCHECKPOINT as u64 / 100;
        while commits < enough && started.elapsed() < std::time::Duration::from_secs(60) {
            rewrite(&rt, &writer);
            commits += 1;
            largest = largest.max(std::fs::metadata(&wal).unwrap().len());
        }
        drop(writer);
        let written = commits * 100 * 4096;
        let bound = 3 * super::WRITER_AUTOCHECKPOINT as u64 * 4096;
        assert!(
            commits >= enough && largest < bound && largest < written / 2,
            "the log reached {largest} bytes over {commits} commits ({written} bytes written)"
        );
    }
}
