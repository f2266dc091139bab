//! clusterpulse: cluster coordination performance monitoring and accountability to affected
//! populations. `Application::build(config)` gives a bound, ready-to-run server.

pub mod admin;
pub mod auth;
pub mod config;
pub mod db;
pub mod definitions;
pub mod error;
pub mod scoring;
pub mod surveys;
pub mod web;

use actix_web::dev::Server;
use std::net::TcpListener;
use std::sync::Arc;

pub use config::Config;

/// A server bound to its listener, not yet running.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to the database, runs migrations, loads and stores survey definitions,
    /// compiles templates and binds the listener (`:0` picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let state = web::AppState::init(config.clone()).await?;
        let listener = TcpListener::bind(&config.bind).map_err(|e| {
            anyhow::anyhow!("CLUSTERPULSE_BIND: cannot listen on {}: {e}", config.bind)
        })?;
        let port = listener.local_addr()?.port();
        let server = web::server(Arc::new(state), listener, config.workers)?;
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
