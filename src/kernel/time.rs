//! Time: the clock every layer reads, how moments are written out, and the periods (months
//! and day ranges) that reports and scorecards cover.

use crate::kernel::error::AppError;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

/// The current moment in UTC, as the database stores it (no zone).
pub fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// A moment as RFC 3339 in UTC with whole seconds (`2026-12-02T19:05:00Z`), as every API
/// field and export writes it.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A month written `YYYY-MM`, as its first day; 400 naming `period` otherwise.
pub fn parse_period(s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
        .ok()
        .filter(|_| s.trim().len() == 7)
        .ok_or_else(|| AppError::field("period", "must be a month like 2026-11"))
}

/// The month (`YYYY-MM`) a day falls in.
pub fn period_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The month before `t`'s month: what the monthly schedule sends.
pub fn previous_period(t: NaiveDateTime) -> String {
    let first = t.date().with_day(1).unwrap_or(t.date());
    period_of(first - chrono::Duration::days(1))
}

/// The last day of the month that starts on `first`.
pub fn period_end(first: NaiveDate) -> NaiveDate {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.unwrap_or(first) - chrono::Duration::days(1)
}

/// An inclusive day range from `from` / `to` (`YYYY-MM-DD`, either may be absent or empty);
/// 400 naming the field otherwise, or when `from` is after `to`.
pub fn parse_day_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), AppError> {
    let parse = |field: &str, v: Option<&str>| -> Result<Option<NaiveDate>, AppError> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| AppError::field(field, "must be a date like 2026-01-31")),
        }
    };
    let (from, to) = (parse("from", from)?, parse("to", to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::field("from", "must not be after to"));
        }
    }
    Ok((from, to))
}
