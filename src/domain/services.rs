//! The domain's dependencies, built once at start and shared by every entry point: the
//! settings, the database pool, the group-commit writer, the survey catalog, the templates
//! and the mail worker's wake-up.

use crate::config::Config;
use crate::db::writer::Writer;
use crate::db::{DbConnection, Pool};
use crate::domain::catalog::{self, LiveCatalog};
use crate::kernel::error::AppError;
use crate::render::templates::Templates;
use std::sync::Arc;

pub struct Services {
    pub config: Config,
    pub pool: Pool,
    /// Commits the busiest writes (survey responses, feedback) together ([`crate::db::writer`]):
    /// always on SQLite (one writer); on PostgreSQL `CLUSTERPULSE_DB_WRITERS` lanes (one per
    /// core by default), or none with 0: each write is then its own transaction on the pool
    /// (see BENCHMARKS.md, "PostgreSQL and group commit").
    pub writer: Option<Writer>,
    pub catalog: LiveCatalog,
    pub templates: Templates,
    /// Wakes the mail worker when something was queued.
    pub mail_notify: Arc<tokio::sync::Notify>,
    /// Survey versions' response layouts, read once ([`crate::domain::response_store`]).
    pub layouts: Arc<crate::domain::response_store::LayoutCache>,
}

impl Services {
    /// Loads the survey definitions (refusing invalid ones), connects, migrates, records
    /// the definitions' versions and compiles the templates. Blocking.
    pub fn init(config: Config) -> anyhow::Result<Services> {
        let catalog = catalog::load_or_explain(&config.surveys_dir)?;
        let pool = crate::db::connect(&config.database_url, config.db_pool_size)?;
        let applied = crate::db::migrate(&pool)?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        catalog::store_versions(&pool, &catalog)?;
        let catalog = LiveCatalog::new(catalog);
        catalog.refresh(&mut *pool.get()?)?;
        let templates = Templates::load(config.templates_dir.as_deref())?;
        let sqlite = matches!(
            crate::config::DbUrl::parse(&config.database_url),
            Ok(crate::config::DbUrl::Sqlite(_))
        );
        let writer = match (sqlite, config.db_writers) {
            (false, 0) => None,
            (_, lanes) => Some(crate::db::start_writer(&config.database_url, lanes)?),
        };
        Ok(Services {
            config,
            pool,
            writer,
            catalog,
            templates,
            mail_notify: Arc::new(tokio::sync::Notify::new()),
            layouts: Arc::default(),
        })
    }

    /// Runs `f` on a pooled connection on the blocking threads (reads and checks).
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut *pool.get()?))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task: {e}")))?
    }

    /// Runs a write in a transaction and answers once it is durable (or with the error that
    /// stopped it): through the group-commit writer when there is one, else in a transaction
    /// of its own on a pooled connection. `key` picks the writer lane: writes that lock the
    /// same rows pass the same key, so two open transactions never wait on each other for
    /// them.
    pub async fn write<T, E, F>(&self, key: u64, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.submit_keyed(key, f).await,
            None => self.write_on_pool(f).await,
        }
    }

    /// [`Self::write`] for a write that changes nothing but the database, so that it can be
    /// run again after a rollback: the writer then runs its batch without a savepoint per
    /// write unless one fails ([`crate::db::writer`]).
    pub async fn write_repeatable<T, E, F>(&self, key: u64, f: F) -> Result<T, E>
    where
        F: Fn(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.submit_keyed_repeatable(key, f).await,
            None => self.write_on_pool(f).await,
        }
    }

    /// A write in a transaction of its own on a pooled connection, on the blocking threads.
    async fn write_on_pool<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<diesel::result::Error> + Send + 'static,
    {
        let pool = self.pool.clone();
        let unavailable = |what: String| {
            E::from(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new(what),
            ))
        };
        match tokio::task::spawn_blocking(move || match pool.get() {
            Ok(mut conn) => crate::db::write_tx(&mut conn, f),
            Err(e) => Err(unavailable(format!("no database connection: {e}"))),
        })
        .await
        {
            Ok(result) => result,
            Err(e) => Err(unavailable(format!("write task: {e}"))),
        }
    }

    /// Tells the mail worker that messages are waiting.
    pub fn nudge_mail(&self) {
        self.mail_notify.notify_one();
    }
}
