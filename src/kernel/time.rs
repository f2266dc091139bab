//! Time: the clock every layer reads, and how moments are written out.

/// The current moment in UTC, as the database stores it (no zone).
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// A moment as RFC 3339 in UTC with whole seconds (`2026-12-02T19:05:00Z`), as every API
/// field and export writes it.
pub fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
