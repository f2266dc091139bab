//! The domain's dependencies, built once at start and shared by every entry point: the
//! settings, the database pool, the survey catalog, the templates and the mail worker's
//! wake-up.

use crate::config::Config;
use crate::db::Pool;
use crate::domain::catalog::{self, LiveCatalog};
use crate::render::templates::Templates;
use std::sync::Arc;

pub struct Services {
    pub config: Config,
    pub pool: Pool,
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
        Ok(Services {
            config,
            pool,
            catalog,
            templates,
            mail_notify: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Tells the mail worker that messages are waiting.
    pub fn nudge_mail(&self) {
        self.mail_notify.notify_one();
    }
}
