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
    /// Commits the busiest writes (survey responses, feedback) together ([`crate::db::writer`]).
    pub writer: Writer,
    pub catalog: LiveCatalog,
    pub templates: Templates,
    /// Wakes the mail worker when something was queued.
    pub mail_notify: Arc<tokio::sync::Notify>,
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
        let lanes = match config.db_writers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let writer = crate::db::start_writer(&config.database_url, lanes)?;
        Ok(Services {
            config,
            pool,
            writer,
            catalog,
            templates,
            mail_notify: Arc::new(tokio::sync::Notify::new()),
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

    /// Hands a write to the group-commit writer; the result comes once its transaction is
    /// durable (or the error that stopped it). `key` picks the writer lane: writes that lock
    /// the same rows (the responses of one round) pass the same key, so two open
    /// transactions never wait on each other for them.
    pub async fn write<T, F>(&self, key: u64, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.submit_keyed(key, f).await
    }

    /// Tells the mail worker that messages are waiting.
    pub fn nudge_mail(&self) {
        self.mail_notify.notify_one();
    }
}
