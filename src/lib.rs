//! clusterpulse: cluster coordination performance monitoring and accountability to affected
//! populations. `Application::build(config)` gives a bound, ready-to-run server.

#[cfg(test)]
mod architecture;
pub mod charts;
pub mod config;
pub mod db;
pub mod domain;
pub mod kernel;
pub mod mail;
pub mod render;
pub mod scheduler;
pub mod scoring;
pub mod surveys;
pub mod web;

use actix_web::dev::Server;
use std::net::TcpListener;
use std::sync::Arc;

pub use config::Config;

/// mimalloc for the whole process (server, CLI, and the tests and benches that link this
/// library, so they measure what runs in production). Under the submission load glibc's
/// malloc and free took about 18% of the server's CPU samples, much of it consolidating
/// and unlinking chunks freed by other threads (issue 17, BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A server bound to its listener, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: Arc<web::AppState>,
    mail_worker: Option<mail::WorkerHandle>,
}

impl Application {
    /// Connects to the database, runs migrations, loads and stores survey definitions,
    /// compiles templates and binds the listener (`:0` picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&config.bind).map_err(|e| {
            anyhow::anyhow!("CLUSTERPULSE_BIND: cannot listen on {}: {e}", config.bind)
        })?;
        let addr = listener.local_addr()?;
        let port = addr.port();
        let mut config = config;
        if !config.public_url_explicit {
            // Links in emails point at the address actually bound (port 0 → the real port).
            config.public_url = format!("http://{addr}");
        }
        let state = Arc::new(web::AppState::init(config.clone()).await?);
        let mail_worker = match config.mail.worker {
            true => Some(mail::spawn_worker_with(
                state.pool.clone(),
                &config,
                state.mail_notify.clone(),
            )?),
            false => None,
        };
        let server = web::server(state.clone(), listener, config.workers)?;
        Ok(Application {
            port,
            server,
            state,
            mail_worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> Arc<web::AppState> {
        self.state.clone()
    }

    /// Serves until stopped, with the background scheduler running beside.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let scheduler = tokio::spawn(scheduler::run(self.state.app.clone()));
        let result = self.server.await;
        scheduler.abort();
        if let Some(worker) = self.mail_worker {
            worker.stop().await;
        }
        result
    }
}
