//! Settings from the environment (a `.env` file is read if present), with the defaults of
//! DESIGN.md.

pub mod mail;
pub mod settings;

pub use settings::{DbUrl, MetricsAccess, Schedule, SessionLimits, Sla};

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    /// Base URL used in links sent by email; defaults to `http://{bind}`.
    pub public_url: String,
    /// Whether `CLUSTERPULSE_PUBLIC_URL` was set (otherwise it follows the bound address).
    pub public_url_explicit: bool,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub secret_key: String,
    pub data_dir: PathBuf,
    pub surveys_dir: PathBuf,
    pub templates_dir: Option<PathBuf>,
    /// Requests per minute per client address on public endpoints (0 = off).
    pub rate_limit_public: u32,
    /// Login attempts per minute per client address (0 = off).
    pub rate_limit_login: u32,
    /// Database pool size.
    pub db_pool_size: u32,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// Group-commit writer lanes on PostgreSQL (default one per core; 0 = none, each write
    /// its own transaction on the pool). SQLite always has one writer.
    pub db_writers: usize,
    /// Mark cookies `Secure` (on unless the public URL is plain http on loopback).
    pub secure_cookies: bool,
    /// Outbox worker settings (`CLUSTERPULSE_MAIL_*`).
    pub mail: mail::MailConfig,
    /// Hours to acknowledge feedback by priority (`CLUSTERPULSE_SLA_{HIGH,MEDIUM,LOW}_HOURS`).
    pub sla: Sla,
    /// `CLUSTERPULSE_SCORECARDS`: `monthly` (default) or `off`.
    pub scorecards: Schedule,
    /// Who may read `GET /metrics` besides admins (`CLUSTERPULSE_METRICS_PUBLIC`).
    pub metrics_access: MetricsAccess,
    /// `CLUSTERPULSE_SESSION_IDLE_MINUTES` and `CLUSTERPULSE_SESSION_HOURS`.
    pub sessions: SessionLimits,
    /// `CLUSTERPULSE_TOTP_REQUIRED_ROLES`: roles that must sign in with an authenticator
    /// app (comma-separated; default `admin,psea_focal_point`; empty for none).
    pub totp_required_roles: Vec<crate::kernel::access::Role>,
}

pub const MIN_SECRET_LEN: usize = 32;

impl Config {
    /// Reads `.env` (if present) and the environment.
    pub fn from_env() -> anyhow::Result<Config> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds a config from any key lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let data_dir = PathBuf::from(get("CLUSTERPULSE_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("clusterpulse.db").display()));
        DbUrl::parse(&database_url).map_err(anyhow::Error::msg)?;
        let bind = get("CLUSTERPULSE_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url_explicit = get("CLUSTERPULSE_PUBLIC_URL").is_some();
        let public_url = get("CLUSTERPULSE_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!(
                "CLUSTERPULSE_PUBLIC_URL must start with http:// or https:// (got {public_url:?})"
            );
        }
        let secret_key = match get("CLUSTERPULSE_SECRET_KEY") {
            Some(k) => {
                if k.chars().count() < MIN_SECRET_LEN {
                    bail!(
                        "CLUSTERPULSE_SECRET_KEY must be at least {MIN_SECRET_LEN} characters long"
                    );
                }
                k
            }
            None => load_or_create_secret(&data_dir)?,
        };
        let parse_u32 = |key: &str, default: u32| -> anyhow::Result<u32> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .with_context(|| format!("{key} must be a whole number ≥ 0 (got {v:?})")),
            }
        };
        let secure_cookies = match get("CLUSTERPULSE_SECURE_COOKIES") {
            Some(v) => matches!(v.trim(), "1" | "true" | "yes" | "on"),
            None => public_url.starts_with("https://"),
        };
        let smtp_url = get("SMTP_URL");
        if let Some(u) = &smtp_url {
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                bail!(
                    "SMTP_URL must start with smtp:// or smtps:// (got a URL with another scheme)"
                );
            }
        }
        Ok(Config {
            database_url,
            bind,
            public_url,
            public_url_explicit,
            smtp_url,
            mail_from: get("MAIL_FROM")
                .unwrap_or_else(|| "clusterpulse <noreply@localhost>".into()),
            secret_key,
            surveys_dir: PathBuf::from(
                get("CLUSTERPULSE_SURVEYS_DIR").unwrap_or_else(|| "surveys".into()),
            ),
            templates_dir: get("CLUSTERPULSE_TEMPLATES_DIR").map(PathBuf::from),
            rate_limit_public: parse_u32("CLUSTERPULSE_RATE_LIMIT_PUBLIC", 30)?,
            rate_limit_login: parse_u32("CLUSTERPULSE_RATE_LIMIT_LOGIN", 10)?,
            db_pool_size: parse_u32("CLUSTERPULSE_DB_POOL_SIZE", 8)?.max(1),
            workers: parse_u32("CLUSTERPULSE_WORKERS", 0)? as usize,
            db_writers: parse_u32(
                "CLUSTERPULSE_DB_WRITERS",
                std::thread::available_parallelism().map_or(2, |n| n.get() as u32),
            )? as usize,
            secure_cookies,
            mail: mail::MailConfig::from_lookup(&get)?,
            scorecards: Schedule::parse(
                &get("CLUSTERPULSE_SCORECARDS").unwrap_or_else(|| "monthly".into()),
            )
            .map_err(anyhow::Error::msg)?,
            sla: Sla {
                high_hours: parse_u32("CLUSTERPULSE_SLA_HIGH_HOURS", 24)?.max(1),
                medium_hours: parse_u32("CLUSTERPULSE_SLA_MEDIUM_HOURS", 72)?.max(1),
                low_hours: parse_u32("CLUSTERPULSE_SLA_LOW_HOURS", 168)?.max(1),
            },
            metrics_access: MetricsAccess::parse(get("CLUSTERPULSE_METRICS_PUBLIC").as_deref())?,
            sessions: SessionLimits {
                idle_minutes: parse_u32("CLUSTERPULSE_SESSION_IDLE_MINUTES", 120)?.max(1),
                absolute_hours: parse_u32("CLUSTERPULSE_SESSION_HOURS", 12)?.max(1),
            },
            totp_required_roles: get("CLUSTERPULSE_TOTP_REQUIRED_ROLES")
                .unwrap_or_else(|| "admin,psea_focal_point".into())
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| {
                    crate::kernel::access::Role::parse(r)
                        .map_err(|e| anyhow::anyhow!("CLUSTERPULSE_TOTP_REQUIRED_ROLES: {e}"))
                })
                .collect::<anyhow::Result<_>>()?,
            data_dir,
        })
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

/// The secret key kept in the data directory, created on first use (mode 0600).
fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("secret.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let k = existing.trim().to_string();
        if k.len() >= MIN_SECRET_LEN {
            return Ok(k);
        }
        bail!(
            "{} is shorter than {MIN_SECRET_LEN} characters; delete it to generate a new one",
            path.display()
        );
    }
    std::fs::create_dir_all(data_dir).with_context(|| {
        format!(
            "CLUSTERPULSE_DATA_DIR: cannot create {}",
            data_dir.display()
        )
    })?;
    let key = crate::kernel::secrets::random_token(48);
    match write_private(&path, &key) {
        Ok(()) => Ok(key),
        // Another instance created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_secret(data_dir),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot write the generated secret key to {}",
                path.display()
            )
        }),
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}
