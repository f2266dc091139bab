//! Group commit: writes handed to writer threads that commit many of them together.
//!
//! A [`Writer`] has one or more lanes (one for SQLite, whose database has a single write
//! lock; several for PostgreSQL). Each lane is a thread owning a write connection and a
//! queue. Callers hand it a unit of work, a closure over `&mut DbConnection`, with a key
//! that picks the lane (units that lock the same rows must share a lane, or two batches
//! could each hold what the other waits for), and await a oneshot reply without blocking a
//! thread. A lane takes everything waiting (up to `max_batch` units),
//! opens one transaction (`BEGIN IMMEDIATE` on SQLite), runs each unit in its own savepoint,
//! commits once and only then replies:
//! - a unit that returns `Err` (or panics) has its savepoint rolled back and gets its own
//!   error; the others in the batch are unaffected;
//! - a failing `COMMIT` fails every unit of the batch with that error (nothing of it stored);
//! - a failing savepoint (the transaction itself is broken) rolls the batch back: the units
//!   already run get the error, the ones not yet run go to the next batch.
//!
//! Units of one lane (so of one key) run in the order they were handed over. Dropping the writer stops the
//! lanes after they have run everything already queued.
//!
//! Two refinements keep a batch to few statements (each a round trip on PostgreSQL):
//! - a unit handed over with [`Writer::submit_keyed_repeatable`] can be run again: a batch of
//!   only such units first runs without savepoints; if one of them fails, the whole
//!   transaction is rolled back and the batch runs again the careful way, a savepoint each;
//! - a unit can leave work for the end of its batch with [`once_per_batch`] (a round's
//!   snapshot check, say): it runs once per key, in the keys' order, just before `COMMIT`.

use super::checkpoint::Checkpointer;
use super::DbConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error};
use diesel::Connection;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Opens a lane's write connection (again after it broke).
pub type Connect = dyn Fn() -> Result<DbConnection, String> + Send + Sync;

/// A unit with its reply channel, type-erased so that one queue carries every kind.
trait Job: Send {
    /// Runs the unit (once, unless [`Self::repeatable`]). True when it succeeded and its
    /// writes are to be kept.
    fn run(&mut self, conn: &mut DbConnection) -> bool;
    /// Whether [`Self::run`] may be called again after a rollback.
    fn repeatable(&self) -> bool;
    /// Replies once the batch is settled: `Ok` when it committed.
    fn reply(self: Box<Self>, settled: Result<(), &Error>);
}

/// The closure of a unit: run once, or as often as needed.
trait Work<T, E>: Send {
    fn call(&mut self, conn: &mut DbConnection) -> Option<Result<T, E>>;
    const REPEATABLE: bool;
}

struct Once<F>(Option<F>);
struct Again<F>(F);

impl<F, T, E> Work<T, E> for Once<F>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send,
{
    fn call(&mut self, conn: &mut DbConnection) -> Option<Result<T, E>> {
        self.0.take().map(|work| work(conn))
    }
    const REPEATABLE: bool = false;
}

impl<F, T, E> Work<T, E> for Again<F>
where
    F: Fn(&mut DbConnection) -> Result<T, E> + Send,
{
    fn call(&mut self, conn: &mut DbConnection) -> Option<Result<T, E>> {
        Some((self.0)(conn))
    }
    const REPEATABLE: bool = true;
}

struct Unit<W, T, E> {
    work: W,
    outcome: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<W, T, E> Job for Unit<W, T, E>
where
    W: Work<T, E>,
    T: Send,
    E: From<Error> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) -> bool {
        let work = &mut self.work;
        let outcome = match catch_unwind(AssertUnwindSafe(|| work.call(conn))) {
            Ok(Some(outcome)) => outcome,
            Ok(None) => return false,
            Err(_) => Err(E::from(failure("a write unit panicked"))),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn repeatable(&self) -> bool {
        W::REPEATABLE
    }

    fn reply(self: Box<Self>, settled: Result<(), &Error>) {
        let answer = match (settled, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            // A unit that failed was rolled back on its own: its error stands.
            (Err(_), Some(Err(own))) => Err(own),
            (Err(e), _) => Err(E::from(copy_error(e))),
            (Ok(()), None) => Err(E::from(failure("the write unit did not run"))),
        };
        // The caller may have gone away (a closed HTTP connection): nothing to tell.
        let _ = self.reply.send(answer);
    }
}

/// Work a unit left for the end of its batch ([`once_per_batch`]).
type Deferred = Box<dyn FnOnce(&mut DbConnection) -> Result<(), Error>>;

/// Work over ids gathered from the units of a batch ([`with_batch_ids`]).
pub type OverIds = fn(&mut DbConnection, &[i32]) -> Result<(), Error>;

/// What units left for the end of their batch, under one key.
enum Left {
    /// The first closure left; if it fails, it is rolled back alone.
    Once(Deferred),
    /// The first unit's work and every id left with it; if it fails, the batch fails.
    Ids(OverIds, Vec<i32>),
}

impl Left {
    /// Adds what a later unit left under the same key.
    fn merge(&mut self, later: Left) {
        if let (Left::Ids(_, ids), Left::Ids(_, more)) = (self, later) {
            ids.extend(more);
        }
    }

    fn required(&self) -> bool {
        matches!(self, Left::Ids(..))
    }

    fn run(self, conn: &mut DbConnection) -> Result<(), Error> {
        let outcome = catch_unwind(AssertUnwindSafe(|| match self {
            Left::Once(work) => work(conn),
            Left::Ids(work, ids) => work(conn, &ids),
        }));
        outcome.unwrap_or_else(|_| Err(failure("work left for the end of a batch panicked")))
    }
}

thread_local! {
    /// On a lane's thread while a unit runs: the work it leaves for the end of the batch.
    static LEFT: RefCell<Option<Vec<(Key, Left)>>> = const { RefCell::new(None) };
}

/// What names a piece of work left for the end of a batch: a kind and an id.
pub type Key = (&'static str, i64);

/// Leaves `left` for the end of the batch when on a lane, else hands it back.
fn leave(key: Key, left: Left) -> Option<Left> {
    LEFT.with(|list| match list.borrow_mut().as_mut() {
        Some(list) => {
            list.push((key, left));
            None
        }
        None => Some(left),
    })
}

/// Runs `work` at the end of the batch that holds the calling unit, once per `key` however
/// many of its units ask (the first one's closure), just before `COMMIT`, in the keys'
/// order (so two lanes take row locks in the same order): work that fails there is rolled
/// back alone and logged, and the batch still commits. Nothing is left by a unit that
/// fails. Called outside a writer lane (a transaction of its own), runs `work` now.
pub fn once_per_batch(
    conn: &mut DbConnection,
    key: Key,
    work: impl FnOnce(&mut DbConnection) -> Result<(), Error> + 'static,
) -> Result<(), Error> {
    match leave(key, Left::Once(Box::new(work))) {
        Some(now) => now.run(conn),
        None => Ok(()),
    }
}

/// Runs `work` once at the end of the batch that holds the calling unit, over the `id`s
/// every unit of the batch left under `key` (in the units' order), before `COMMIT`; if it
/// fails, the whole batch fails (for work that must be done with the units, as summaries
/// kept exact). Outside a writer lane, runs `work(conn, &[id])` now.
pub fn with_batch_ids(
    conn: &mut DbConnection,
    key: Key,
    id: i32,
    work: OverIds,
) -> Result<(), Error> {
    match leave(key, Left::Ids(work, vec![id])) {
        Some(now) => now.run(conn),
        None => Ok(()),
    }
}

/// Runs a unit, collecting what it leaves for the end of the batch into `deferred` if it
/// succeeded.
fn run_unit(
    job: &mut Box<dyn Job>,
    conn: &mut DbConnection,
    deferred: &mut BTreeMap<Key, Left>,
) -> bool {
    LEFT.with(|left| *left.borrow_mut() = Some(Vec::new()));
    let ok = job.run(conn);
    let left = LEFT
        .with(|left| left.borrow_mut().take())
        .unwrap_or_default();
    if ok {
        for (key, work) in left {
            match deferred.entry(key) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(work);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(work),
            }
        }
    }
    ok
}

/// A database error for a failure that is not the database's own.
fn failure(message: &str) -> Error {
    Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_string()))
}

/// The same error again, for each unit of a batch (diesel's error is not `Clone`).
fn copy_error(e: &Error) -> Error {
    match e {
        Error::DatabaseError(kind, info) => {
            Error::DatabaseError(*kind, Box::new(info.message().to_string()))
        }
        other => failure(&other.to_string()),
    }
}

/// How many batches and units the lanes have committed (or tried to).
#[derive(Debug, Default)]
pub struct Counters {
    batches: AtomicU64,
    units: AtomicU64,
}

impl Counters {
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }
    pub fn units(&self) -> u64 {
        self.units.load(Ordering::Relaxed)
    }
}

pub struct Writer {
    queues: Vec<Sender<Box<dyn Job>>>,
    lanes: Vec<JoinHandle<()>>,
    /// Spreads units without a key over the lanes.
    next: AtomicUsize,
    counters: Arc<Counters>,
    /// Dropped after the lanes (fields drop after `Drop::drop`): a last checkpoint.
    _checkpointer: Option<Arc<Checkpointer>>,
}

impl Writer {
    /// Starts `lanes` writer threads (at least one), each opening its connection with
    /// `connect` now; an error opening one is returned.
    pub fn start(lanes: usize, max_batch: usize, connect: Arc<Connect>) -> anyhow::Result<Writer> {
        Self::start_with(lanes, max_batch, connect, None)
    }

    /// [`Self::start`], telling `checkpointer` (SQLite: see [`super::checkpoint`]) of every
    /// batch committed.
    pub fn start_with(
        lanes: usize,
        max_batch: usize,
        connect: Arc<Connect>,
        checkpointer: Option<Checkpointer>,
    ) -> anyhow::Result<Writer> {
        let checkpointer = checkpointer.map(Arc::new);
        let mut queues = Vec::new();
        let counters = Arc::new(Counters::default());
        let mut handles = Vec::new();
        for i in 0..lanes.max(1) {
            let conn = connect().map_err(|e| anyhow::anyhow!("database writer: {e}"))?;
            let (tx, rx) = channel::<Box<dyn Job>>();
            queues.push(tx);
            let lane = Lane {
                conn: Some(conn),
                connect: connect.clone(),
                queue: rx,
                max_batch: max_batch.max(1),
                counters: counters.clone(),
                checkpointer: checkpointer.clone(),
            };
            handles.push(
                std::thread::Builder::new()
                    .name(format!("db-writer-{i}"))
                    .spawn(move || lane.serve())?,
            );
        }
        Ok(Writer {
            queues,
            lanes: handles,
            next: AtomicUsize::new(0),
            counters,
            _checkpointer: checkpointer,
        })
    }

    /// Hands `work` to the next lane in turn now and returns the reply to await: the unit's
    /// result once the transaction holding it has committed, or the error that stopped it.
    pub fn submit<T, E, F>(&self, work: F) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.submit_keyed(self.next.fetch_add(1, Ordering::Relaxed) as u64, work)
    }

    /// [`Self::submit`] to the lane of `key`: units with the same key run on one lane, in
    /// the order handed over.
    pub fn submit_keyed<T, E, F>(
        &self,
        key: u64,
        work: F,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.hand_over(key, Once(Some(work)))
    }

    /// [`Self::submit_keyed`] for a unit that can be run again from the start after a
    /// rollback (it changes nothing but the database): a batch of such units runs without
    /// savepoints unless one of them fails.
    pub fn submit_keyed_repeatable<T, E, F>(
        &self,
        key: u64,
        work: F,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        F: Fn(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.hand_over(key, Again(work))
    }

    fn hand_over<T, E, W>(
        &self,
        key: u64,
        work: W,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        W: Work<T, E> + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Unit {
            work,
            outcome: None,
            reply,
        });
        let queued = match self.queues.len() {
            0 => false,
            n => self.queues[(key % n as u64) as usize].send(job).is_ok(),
        };
        async move {
            if !queued {
                return Err(E::from(failure("the database writer has stopped")));
            }
            answer
                .await
                .unwrap_or_else(|_| Err(E::from(failure("the database writer has stopped"))))
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl Drop for Writer {
    /// Closes the queue; the lanes finish what is queued, then end.
    fn drop(&mut self) {
        self.queues.clear();
        for lane in self.lanes.drain(..) {
            let _ = lane.join();
        }
    }
}

struct Lane {
    conn: Option<DbConnection>,
    connect: Arc<Connect>,
    queue: Receiver<Box<dyn Job>>,
    max_batch: usize,
    counters: Arc<Counters>,
    checkpointer: Option<Arc<Checkpointer>>,
}

impl Lane {
    fn serve(mut self) {
        let mut waiting: VecDeque<Box<dyn Job>> = VecDeque::new();
        loop {
            if waiting.is_empty() {
                match self.queue.recv() {
                    Ok(job) => waiting.push_back(job),
                    // Closed and drained: stop.
                    Err(_) => return,
                }
            }
            while waiting.len() < self.max_batch {
                match self.queue.try_recv() {
                    Ok(job) => waiting.push_back(job),
                    Err(_) => break,
                }
            }
            self.batch(&mut waiting);
        }
    }

    /// Runs up to `max_batch` waiting units in one transaction and replies to them. Units
    /// not reached (the transaction broke first) stay in `waiting`.
    fn batch(&mut self, waiting: &mut VecDeque<Box<dyn Job>>) {
        let take = waiting.len().min(self.max_batch);
        let Some(mut conn) = self.begin(waiting, take) else {
            return;
        };
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        if waiting.iter().take(take).all(|job| job.repeatable()) {
            let mut jobs: Vec<Box<dyn Job>> = waiting.drain(..take).collect();
            if let Some(settled) = straight(&mut conn, &mut jobs) {
                return self.settle(conn, jobs, settled);
            }
            // One failed: all of them again, the careful way, in a new transaction.
            for job in jobs.into_iter().rev() {
                waiting.push_front(job);
            }
            self.conn = Some(conn);
            let Some(again) = self.begin(waiting, take) else {
                return;
            };
            conn = again;
        }
        let mut ran = Vec::with_capacity(take);
        let mut broken = None;
        let mut deferred = BTreeMap::new();
        for _ in 0..take {
            let Some(mut job) = waiting.pop_front() else {
                break;
            };
            let kept = conn.transaction(|c| {
                if run_unit(&mut job, c, &mut deferred) {
                    Ok(())
                } else {
                    Err(Error::RollbackTransaction)
                }
            });
            ran.push(job);
            match kept {
                Ok(()) | Err(Error::RollbackTransaction) => {}
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            }
        }
        let broken = match broken {
            None => run_deferred(&mut conn, deferred, true).err(),
            some => some,
        };
        let settled = match broken {
            Some(e) => {
                roll_back(&mut conn);
                Err(e)
            }
            None => commit(&mut conn),
        };
        self.settle(conn, ran, settled)
    }

    /// The lane's connection (opened again if it broke) inside a new transaction, or `None`
    /// after failing the first `take` waiting units with the reason.
    fn begin(&mut self, waiting: &mut VecDeque<Box<dyn Job>>, take: usize) -> Option<DbConnection> {
        let conn = match self.conn.take() {
            Some(c) => Ok(c),
            None => (self.connect)().map_err(|e| failure(&e)),
        };
        match conn.and_then(|mut c| begin(&mut c).map(|()| c)) {
            Ok(c) => Some(c),
            Err(e) => {
                // No transaction: the connection is dropped and opened again next time.
                tracing::error!(error = %e, "database writer cannot start a transaction");
                for job in waiting.drain(..take) {
                    job.reply(Err(&e));
                }
                None
            }
        }
    }

    /// Replies to the units of a batch that ended `settled`, and keeps the connection
    /// unless it is left inside a transaction it cannot end.
    fn settle(
        &mut self,
        mut conn: DbConnection,
        ran: Vec<Box<dyn Job>>,
        settled: Result<(), Error>,
    ) {
        self.counters
            .units
            .fetch_add(ran.len() as u64, Ordering::Relaxed);
        match (&settled, &self.checkpointer) {
            (Err(e), _) => {
                tracing::error!(error = %e, units = ran.len(), "database writer batch failed")
            }
            (Ok(()), Some(c)) => c.committed(),
            (Ok(()), None) => {}
        }
        for job in ran {
            job.reply(settled.as_ref().map(|_| ()));
        }
        if matches!(inner(&mut conn).depth(), Ok(None)) {
            self.conn = Some(conn);
        }
    }
}

/// Runs repeatable units one after the other in the open transaction, without savepoints.
/// When all succeed, runs what they left and commits: the outcome. When one fails, rolls
/// the whole transaction back and returns `None` (nothing of the batch is kept).
fn straight(conn: &mut DbConnection, jobs: &mut [Box<dyn Job>]) -> Option<Result<(), Error>> {
    let mut deferred = BTreeMap::new();
    let all = jobs
        .iter_mut()
        .all(|job| run_unit(job, conn, &mut deferred));
    if all && run_deferred(conn, deferred, false).is_ok() {
        return Some(commit(conn));
    }
    roll_back(conn);
    None
}

/// Runs what a batch's units left for its end ([`once_per_batch`], [`with_batch_ids`]).
/// `careful`: each in a savepoint, [`Left::Once`] work rolled back alone when it fails, and
/// `Err` only when the transaction broke or required work failed; otherwise (a batch run
/// straight) without savepoints, and any failure is `Err`.
fn run_deferred(
    conn: &mut DbConnection,
    deferred: BTreeMap<Key, Left>,
    careful: bool,
) -> Result<(), Error> {
    for ((kind, id), work) in deferred {
        if !careful {
            work.run(conn)?;
            continue;
        }
        let required = work.required();
        let mut failed = None;
        let kept = conn.transaction(|c| {
            work.run(c).map_err(|e| {
                failed = Some(e);
                Error::RollbackTransaction
            })
        });
        match (kept, failed) {
            (Ok(()), _) => {}
            (Err(Error::RollbackTransaction), Some(e)) if required => return Err(e),
            (Err(Error::RollbackTransaction), failed) => tracing::warn!(
                kind,
                id,
                error = %failed.map(|e| e.to_string()).unwrap_or_default(),
                "work left for the end of a batch failed and was rolled back alone"
            ),
            (Err(e), _) => return Err(e),
        }
    }
    Ok(())
}

/// Rolls back every level of the open transaction (as far as the connection lets it).
fn roll_back(conn: &mut DbConnection) {
    while let Ok(Some(_)) = inner(conn).depth() {
        if inner(conn).rollback().is_err() {
            break;
        }
    }
}

/// The backend connection, whose transaction manager holds the depth.
fn inner(conn: &mut DbConnection) -> &mut dyn AnsiConnection {
    match conn {
        DbConnection::Sqlite(c) => c,
        DbConnection::Postgres(c) => c,
    }
}

/// The two backend connections, as the transaction manager needs them.
trait AnsiConnection {
    fn begin_sql(&mut self, sql: &str) -> Result<(), Error>;
    fn commit(&mut self) -> Result<(), Error>;
    fn rollback(&mut self) -> Result<(), Error>;
    fn depth(&mut self) -> Result<Option<std::num::NonZeroU32>, Error>;
}

macro_rules! ansi_connection {
    ($t:ty) => {
        impl AnsiConnection for $t {
            fn begin_sql(&mut self, sql: &str) -> Result<(), Error> {
                AnsiTransactionManager::begin_transaction_sql(self, sql)
            }
            fn commit(&mut self) -> Result<(), Error> {
                AnsiTransactionManager::commit_transaction(self)
            }
            fn rollback(&mut self) -> Result<(), Error> {
                AnsiTransactionManager::rollback_transaction(self)
            }
            fn depth(&mut self) -> Result<Option<std::num::NonZeroU32>, Error> {
                AnsiTransactionManager::transaction_manager_status_mut(self).transaction_depth()
            }
        }
    };
}
ansi_connection!(diesel::sqlite::SqliteConnection);
ansi_connection!(diesel::pg::PgConnection);

/// Opens the batch's transaction: `BEGIN IMMEDIATE` on SQLite takes the write lock at once.
fn begin(conn: &mut DbConnection) -> Result<(), Error> {
    let sql = match conn {
        DbConnection::Sqlite(_) => "BEGIN IMMEDIATE",
        DbConnection::Postgres(_) => "BEGIN",
    };
    inner(conn).begin_sql(sql)
}

/// Commits the batch (on failure diesel rolls back).
fn commit(conn: &mut DbConnection) -> Result<(), Error> {
    inner(conn).commit()
}

#[cfg(test)]
mod tests {
    //! On a SQLite file, and on a scratch PostgreSQL database when `TEST_DATABASE_URL` is set.
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::r2d2::ManageConnection;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;

    diesel::table! {
        items (id) {
            id -> Integer,
            v -> Text,
        }
    }
    diesel::table! {
        children (id) {
            id -> Integer,
            parent -> Integer,
        }
    }

    /// A database with `items` (unique `v`) and `children` whose foreign key is checked
    /// only at COMMIT; dropped with the value.
    struct Scratch {
        url: crate::config::DbUrl,
        pg_admin: Option<(String, String)>,
        _dir: tempfile::TempDir,
    }

    impl Scratch {
        fn all() -> Vec<Scratch> {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("w.db").display().to_string();
            let mut out = vec![Scratch {
                url: crate::config::DbUrl::Sqlite(path),
                pg_admin: None,
                _dir: dir,
            }];
            if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
                let name = format!("cp_writer_{}", uuid::Uuid::new_v4().simple());
                let mut c = diesel::pg::PgConnection::establish(&admin).unwrap();
                c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let base = admin.rsplit_once('/').unwrap().0.to_string();
                out.push(Scratch {
                    url: crate::config::DbUrl::Postgres(format!("{base}/{name}")),
                    pg_admin: Some((admin, name)),
                    _dir: tempfile::tempdir().unwrap(),
                });
            }
            for s in &out {
                let key = match s.url {
                    crate::config::DbUrl::Sqlite(_) => "INTEGER PRIMARY KEY",
                    crate::config::DbUrl::Postgres(_) => "SERIAL PRIMARY KEY",
                };
                s.open()
                    .unwrap()
                    .batch_execute(&format!(
                        "CREATE TABLE items (id {key}, v TEXT NOT NULL UNIQUE); \
                         CREATE TABLE parents (id INTEGER PRIMARY KEY); \
                         CREATE TABLE children (id {key}, parent INTEGER NOT NULL \
                           REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);"
                    ))
                    .unwrap();
            }
            out
        }

        fn open(&self) -> Result<DbConnection, String> {
            super::super::Manager {
                url: self.url.clone(),
            }
            .connect()
            .map_err(|e| e.to_string())
        }

        fn writer(&self, lanes: usize) -> Writer {
            let url = self.url.clone();
            let connect: Arc<Connect> = Arc::new(move || {
                super::super::Manager { url: url.clone() }
                    .connect()
                    .map_err(|e| e.to_string())
            });
            Writer::start(lanes, 256, connect).unwrap()
        }

        fn stored(&self) -> Vec<String> {
            items::table
                .order(items::v)
                .select(items::v)
                .load(&mut self.open().unwrap())
                .unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            if let Some((admin, name)) = &self.pg_admin {
                if let Ok(mut c) = diesel::pg::PgConnection::establish(admin) {
                    let _ =
                        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }

    fn insert(conn: &mut DbConnection, v: &str) -> Result<i32, Error> {
        diesel::insert_into(items::table)
            .values(items::v.eq(v))
            .returning(items::id)
            .get_result(conn)
    }

    /// Hands the writer a first unit that holds its lane until `go` is sent, so that what
    /// is handed over meanwhile waits and forms the next batch.
    fn hold(
        writer: &Writer,
        v: &'static str,
    ) -> (impl Future<Output = Result<i32, Error>>, mpsc::Sender<()>) {
        let (started_tx, started) = mpsc::channel();
        let (go, go_rx) = mpsc::channel::<()>();
        let first = writer.submit(move |c| {
            started_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            insert(c, v)
        });
        started.recv().unwrap();
        (first, go)
    }

    #[tokio::test]
    async fn units_waiting_together_commit_in_one_batch_in_order() {
        for db in Scratch::all() {
            let writer = db.writer(1);
            let (first, go) = hold(&writer, "first");
            let rest: Vec<_> = (0..50)
                .map(|i| writer.submit(move |c| insert(c, &format!("u{i:02}"))))
                .collect();
            go.send(()).unwrap();
            let first_id = first.await.unwrap();
            let mut ids = vec![first_id];
            for r in rest {
                ids.push(r.await.unwrap());
            }
            // Handed over in this order, run in this order.
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
            assert_eq!(writer.counters().batches(), 2);
            assert_eq!(writer.counters().units(), 51);
            assert_eq!(db.stored().len(), 51);
        }
    }

    #[tokio::test]
    async fn a_failing_unit_fails_alone() {
        for db in Scratch::all() {
            let writer = db.writer(1);
            writer.submit(|c| insert(c, "taken")).await.unwrap();
            let (first, go) = hold(&writer, "first");
            let a = writer.submit(|c| insert(c, "a"));
            let duplicate = writer.submit(|c| insert(c, "taken"));
            let b = writer.submit(|c| insert(c, "b"));
            // Writes, then refuses: its writes are rolled back with it.
            let refused = writer.submit(|c| {
                insert(c, "refused")?;
                Err::<i32, _>(Error::NotFound)
            });
            let panicked = writer.submit(|c| -> Result<i32, Error> {
                insert(c, "panicked")?;
                panic!("a unit that panics");
            });
            // Sees the writes of the units before it in the same transaction.
            let after = writer.submit(|c| {
                items::table
                    .filter(items::v.eq_any(["a", "b"]))
                    .count()
                    .get_result::<i64>(c)
            });
            go.send(()).unwrap();
            first.await.unwrap();
            a.await.unwrap();
            let e = duplicate.await.unwrap_err();
            assert!(crate::db::is_unique_violation(&e), "{e:?}");
            b.await.unwrap();
            assert!(matches!(refused.await, Err(Error::NotFound)));
            assert!(panicked.await.is_err());
            assert_eq!(after.await.unwrap(), 2);
            assert_eq!(writer.counters().batches(), 3);
            assert_eq!(db.stored(), ["a", "b", "first", "taken"]);
        }
    }

    #[tokio::test]
    async fn a_failing_commit_fails_the_whole_batch() {
        for db in Scratch::all() {
            let writer = db.writer(1);
            let (first, go) = hold(&writer, "first");
            let x = writer.submit(|c| insert(c, "x"));
            // A dangling reference, checked only at COMMIT.
            let dangling = writer.submit(|c| {
                diesel::insert_into(children::table)
                    .values(children::parent.eq(999))
                    .execute(c)
            });
            let y = writer.submit(|c| insert(c, "y"));
            go.send(()).unwrap();
            first.await.unwrap();
            assert!(x.await.is_err());
            assert!(dangling.await.is_err());
            assert!(y.await.is_err());
            // The lane goes on.
            writer.submit(|c| insert(c, "z")).await.unwrap();
            assert_eq!(db.stored(), ["first", "z"]);
        }
    }

    /// Hands over a repeatable insert of `v` that counts its runs in `runs`.
    fn counted(
        writer: &Writer,
        v: &'static str,
        runs: &Arc<AtomicUsize>,
    ) -> impl Future<Output = Result<i32, Error>> {
        let runs = runs.clone();
        writer.submit_keyed_repeatable(0, move |c| {
            runs.fetch_add(1, Ordering::SeqCst);
            insert(c, v)
        })
    }

    #[tokio::test]
    async fn repeatable_units_run_once_when_all_succeed_and_again_when_one_fails() {
        for db in Scratch::all() {
            let writer = db.writer(1);
            writer.submit(|c| insert(c, "taken")).await.unwrap();
            // A batch that succeeds: each unit ran once (no second pass).
            let runs = Arc::new(AtomicUsize::new(0));
            let (first, go) = hold(&writer, "first");
            let ok: Vec<_> = ["a", "b", "c"]
                .into_iter()
                .map(|v| counted(&writer, v, &runs))
                .collect();
            go.send(()).unwrap();
            first.await.unwrap();
            for r in ok {
                r.await.unwrap();
            }
            assert_eq!(runs.load(Ordering::SeqCst), 3);
            // A batch with a duplicate: the whole transaction is rolled back and run again
            // with a savepoint each, so the others are kept and only the duplicate fails.
            let runs = Arc::new(AtomicUsize::new(0));
            let (second, go) = hold(&writer, "second");
            let d = counted(&writer, "d", &runs);
            let duplicate = counted(&writer, "taken", &runs);
            let e = counted(&writer, "e", &runs);
            go.send(()).unwrap();
            second.await.unwrap();
            d.await.unwrap();
            let err = duplicate.await.unwrap_err();
            assert!(crate::db::is_unique_violation(&err), "{err:?}");
            e.await.unwrap();
            // d and the duplicate ran twice, e (not reached the first time) once.
            assert_eq!(runs.load(Ordering::SeqCst), 5);
            assert_eq!(
                db.stored(),
                ["a", "b", "c", "d", "e", "first", "second", "taken"]
            );
        }
    }

    #[tokio::test]
    async fn work_left_for_the_end_runs_once_per_key_and_batch() {
        for db in Scratch::all() {
            let writer = db.writer(1);
            // Each unit inserts its item and leaves "count the items" under one key (and
            // its own under another): the first closure left under a key runs, once.
            let leave = |v: &'static str, fail: bool| {
                writer.submit_keyed_repeatable(0, move |c| {
                    insert(c, v)?;
                    once_per_batch(c, ("count", 1), |c| {
                        let n: i64 = items::table.count().get_result(c)?;
                        insert(c, &format!("count {n}")).map(|_| ())
                    })?;
                    once_per_batch(c, ("own", v.len() as i64), move |c| {
                        insert(c, &format!("own {v}")).map(|_| ())
                    })?;
                    if fail {
                        return Err(Error::NotFound);
                    }
                    Ok(())
                })
            };
            let (first, go) = hold(&writer, "first");
            let units = [leave("a", false), leave("bb", true), leave("cc", false)];
            go.send(()).unwrap();
            first.await.unwrap();
            let [a, bb, cc] = units;
            a.await.unwrap();
            assert!(matches!(bb.await, Err(Error::NotFound)));
            cc.await.unwrap();
            // "count" ran once after every unit (first, a, cc: 3 items); "own" for keys 1
            // (a) and 2 (bb failed, so cc's); nothing of bb.
            assert_eq!(
                db.stored(),
                ["a", "cc", "count 3", "first", "own a", "own cc"]
            );
            // Work that fails at the end is rolled back alone: the batch commits.
            let failing = writer.submit_keyed_repeatable(0, |c| {
                insert(c, "kept")?;
                once_per_batch(c, ("fails", 0), |c| {
                    insert(c, "dropped")?;
                    Err(Error::NotFound)
                })
            });
            failing.await.unwrap();
            assert!(db.stored().contains(&"kept".to_string()));
            assert!(!db.stored().contains(&"dropped".to_string()));
            // Outside a lane it runs at once.
            let mut conn = db.open().unwrap();
            once_per_batch(&mut conn, ("now", 0), |c| insert(c, "now").map(|_| ())).unwrap();
            assert!(db.stored().contains(&"now".to_string()));
        }
    }

    #[tokio::test]
    async fn dropping_the_writer_runs_what_is_queued() {
        for db in Scratch::all() {
            let writer = db.writer(2);
            let replies: Vec<_> = (0..200)
                .map(|i| writer.submit(move |c| insert(c, &format!("q{i:03}"))))
                .collect();
            drop(writer);
            for r in replies {
                r.await.unwrap();
            }
            assert_eq!(db.stored().len(), 200);
        }
    }
}
