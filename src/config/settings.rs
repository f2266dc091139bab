//! Typed values of single settings, parsed from the environment by [`super::Config`].

/// Which backend a URL selects, with the backend-specific connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A file path (or `:memory:`).
    Sqlite(String),
    Postgres(String),
}

impl DbUrl {
    /// Parses `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err("DATABASE_URL: the sqlite URL names no file (expected sqlite://path/to/file.db)".into());
            }
            return Ok(DbUrl::Sqlite(rest.to_string()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(format!(
            "DATABASE_URL: unknown scheme {scheme:?}; use sqlite://path/to/file.db or postgres://user:password@host/database"
        ))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbUrl::Sqlite(_) => "sqlite",
            DbUrl::Postgres(_) => "postgres",
        }
    }
}

/// How long a sign-in session lasts: it ends after `idle_minutes` without a request, and
/// `absolute_hours` after sign-in whatever happens.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub idle_minutes: u32,
    pub absolute_hours: u32,
}

/// Hours allowed to acknowledge an item, by priority.
#[derive(Debug, Clone, Copy)]
pub struct Sla {
    pub high_hours: u32,
    pub medium_hours: u32,
    pub low_hours: u32,
}

impl Default for Sla {
    fn default() -> Self {
        Sla {
            high_hours: 24,
            medium_hours: 72,
            low_hours: 168,
        }
    }
}

impl Sla {
    pub fn hours(&self, priority: &str) -> u32 {
        match priority {
            "high" => self.high_hours,
            "medium" => self.medium_hours,
            _ => self.low_hours,
        }
    }
}

/// Whether the scheduler sends scorecards by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Monthly,
    Off,
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule, String> {
        match s.trim() {
            "monthly" => Ok(Schedule::Monthly),
            "off" | "0" | "false" => Ok(Schedule::Off),
            other => Err(format!(
                "CLUSTERPULSE_SCORECARDS must be monthly or off (got {other:?})"
            )),
        }
    }
}

/// Who may read `/metrics` (`CLUSTERPULSE_METRICS_PUBLIC`). Admins (bearer token or session)
/// always may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAccess {
    /// `0` (default): admins only.
    AdminOnly,
    /// `loopback`: also any client connecting from 127.0.0.1 / ::1 (the TCP peer, not a
    /// forwarded header; do not use behind a reverse proxy on the same host).
    Loopback,
    /// `1`: anyone who can reach the server.
    Public,
}

impl MetricsAccess {
    pub fn parse(v: Option<&str>) -> anyhow::Result<MetricsAccess> {
        Ok(match v.map(str::trim) {
            None | Some("0" | "false" | "no" | "off" | "") => MetricsAccess::AdminOnly,
            Some("1" | "true" | "yes" | "on") => MetricsAccess::Public,
            Some("loopback") => MetricsAccess::Loopback,
            Some(other) => anyhow::bail!(
                "CLUSTERPULSE_METRICS_PUBLIC must be 0, 1 or loopback (got {other:?})"
            ),
        })
    }
}
