//! Storage: one connection type over SQLite and PostgreSQL, a pool, embedded migrations.

pub mod checkpoint;
pub mod fixed;
pub mod models;
pub mod packed;
pub mod schema;
pub mod writer;

pub use crate::config::DbUrl;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection, to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection (`SqliteConnection` or
/// `PgConnection`), for the statements of the busiest paths (submissions, feedback).
///
/// Through [`DbConnection`] diesel writes a statement's SQL text again on every run, even
/// when it is cached (the multi-backend wrapper serialises each query to pass it on): about
/// 6% of a submission's CPU time. On the backend's connection a cached statement is found by
/// its Rust type and only its values are bound. The body is compiled once per backend, so
/// it must be valid diesel for both, as any query on [`DbConnection`] is.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// r2d2 manager that opens the right backend directly (never guessing by trial).
#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let mut c =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // Per-connection settings: wait for writers instead of failing, WAL for
                // concurrent readers, enforce foreign keys.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(c))
            }
            DbUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    /// Run by the pool on every checkout. A PostgreSQL connection can go stale (the server
    /// restarted, the network dropped it), so it answers a `SELECT 1` first. A SQLite
    /// connection is a file opened in this process and cannot: the probe was parsed and
    /// run for nothing on every request (2% of the server's samples under the submission
    /// load, issue 17).
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        match conn {
            DbConnection::Sqlite(_) => Ok(()),
            DbConnection::Postgres(_) => conn
                .batch_execute("SELECT 1")
                .map_err(r2d2::Error::QueryError),
        }
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Opens a pool. For SQLite the parent folder is created.
pub fn connect(url: &str, max_size: u32) -> anyhow::Result<Pool> {
    let parsed = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
    if let DbUrl::Sqlite(path) = &parsed {
        if path != ":memory:" {
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        anyhow::anyhow!(
                            "DATABASE_URL: cannot create folder {}: {e}",
                            parent.display()
                        )
                    })?;
                }
            }
        }
    }
    if let DbUrl::Sqlite(path) = &parsed {
        if path != ":memory:" {
            // WAL is a property of the file. Switching to it needs a moment alone with the
            // database, so do it once here: otherwise the pool's connections, opened together
            // on a new file, race to switch and the losers fail ("database is locked").
            let mut c = SqliteConnection::establish(path).map_err(|e| {
                anyhow::anyhow!("DATABASE_URL: cannot open the SQLite database {path}: {e}")
            })?;
            c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot switch {path} to WAL: {e}"))?;
        }
    }
    let backend = parsed.backend_name();
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager { url: parsed })
        .map_err(|e| {
            anyhow::anyhow!("DATABASE_URL: cannot connect to the {backend} database: {e}")
        })?;
    Ok(pool)
}

/// Starts the database's group-commit writer ([`writer`]): one lane on SQLite (one write
/// lock), `pg_lanes` on PostgreSQL, each with a connection of its own.
pub fn start_writer(url: &str, pg_lanes: usize) -> anyhow::Result<writer::Writer> {
    let parsed = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
    let (lanes, max_batch) = match parsed {
        DbUrl::Sqlite(_) => (1, 256),
        DbUrl::Postgres(_) => (pg_lanes.max(1), 64),
    };
    let sqlite = matches!(parsed, DbUrl::Sqlite(_));
    let manager = Manager { url: parsed };
    // SQLite: checkpoints mostly on a thread of their own, not the writer's.
    let checkpointer = match sqlite {
        true => Some(checkpoint::Checkpointer::start(manager.connect()?)?),
        false => None,
    };
    let connect: std::sync::Arc<writer::Connect> = std::sync::Arc::new(move || {
        let mut c = manager.connect().map_err(|e| e.to_string())?;
        if sqlite {
            c.batch_execute(&checkpoint::writer_pragma())
                .map_err(|e| e.to_string())?;
        }
        Ok(c)
    });
    writer::Writer::start_with(lanes, max_batch, connect, checkpointer)
}

/// Runs pending migrations for the pool's backend.
pub fn migrate(pool: &Pool) -> anyhow::Result<usize> {
    let mut conn = pool.get()?;
    let applied = match &mut *conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .len(),
        DbConnection::Postgres(c) => {
            // Several instances may start at once: serialise migrations with an advisory lock.
            c.batch_execute("SELECT pg_advisory_lock(727071)")?;
            let r = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            c.batch_execute("SELECT pg_advisory_unlock(727071)")?;
            r?
        }
    };
    Ok(applied)
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (so concurrent writers
/// queue on the busy timeout instead of failing on lock upgrade), a normal transaction on
/// PostgreSQL.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if let DbConnection::Sqlite(c) = conn {
        if AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map_err(E::from)?
            .is_none()
        {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            let result = f(conn);
            let DbConnection::Sqlite(c) = conn else {
                unreachable!("connection variant cannot change")
            };
            return match result {
                Ok(v) => {
                    AnsiTransactionManager::commit_transaction(c)?;
                    Ok(v)
                }
                Err(e) => {
                    AnsiTransactionManager::rollback_transaction(c)?;
                    Err(e)
                }
            };
        }
    }
    conn.transaction(f)
}

pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }

    /// The bundled SQLite is built with `SQLITE_ENABLE_QPSG` (`.cargo/config.toml`): without
    /// it every statement with a bound LIMIT (each `.first()`) is prepared again on every
    /// run, which cost about a fifth of the server's CPU under load (issue 17).
    #[test]
    fn sqlite_is_built_with_a_stable_query_planner() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut c)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(
            options.iter().any(|o| o == "ENABLE_QPSG"),
            "SQLite was built without SQLITE_ENABLE_QPSG (LIBSQLITE3_FLAGS in .cargo/config.toml): {options:?}"
        );
    }
}
