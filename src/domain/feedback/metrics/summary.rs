//! The AAP indicators read from the summary rows (`super::super::summaries`).
//!
//! The population `[from, to]` is covered by whole created months (grain 2) and the days at
//! its ragged ends (grain 1), so "all time" reads one row set per month. Everything but two
//! parts is a sum of summary rows; those two read a few items through their own indexes
//! (migration `…_feedback_summaries`):
//!
//! - the medians: the closure histogram (per closing month and hour of time to close) says
//!   which bucket holds the middle value(s) and at which rank; only the items of those
//!   buckets are read, for their exact milliseconds. If their number differs from the
//!   histogram's, the summaries are stale and the caller falls back to the items;
//! - the `now`-dependent counts: not yet acknowledged items whose deadline falls on a day
//!   before `now`'s are all due (and overdue when open), those on a later day none; only the
//!   ones due on `now`'s date are compared with `now` one by one.

use super::{Bind, Population, Visibility};
use crate::db::DbConnection;
use crate::domain::feedback::summaries::BUCKET_MILLIS;
use crate::kernel::error::AppError;
use crate::scoring::aap::{self, AapInput, AapMetrics, MonthDaysToClose, VolumeGroup};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Text};
use std::collections::BTreeMap;

/// One range of summary rows: `grain` and the first and last `period` (`None`: unbounded).
type Range = (i32, Option<NaiveDate>, Option<NaiveDate>);

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The ranges of summary rows that cover the created dates `[from, to]` exactly once: the
/// whole months inside it as grain 2, the days before and after them as grain 1.
fn ranges(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<Range> {
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Vec::new();
        }
    }
    let next_month = |d: NaiveDate| month_start(d).checked_add_months(Months::new(1));
    // First and last whole month (by their first day); `None` where unbounded.
    let first = from.map(|f| if f.day() == 1 { Some(f) } else { next_month(f) });
    let last = to.map(|t| {
        if t.succ_opt().is_none_or(|n| n.day() == 1) {
            Some(month_start(t))
        } else {
            month_start(t).checked_sub_months(Months::new(1))
        }
    });
    let (first, last) = match (first, last) {
        // A bound beyond the calendar: no whole month on that side.
        (Some(None), _) | (_, Some(None)) => {
            return vec![(1, from, to)];
        }
        (f, l) => (f.flatten(), l.flatten()),
    };
    if let (Some(f), Some(l)) = (first, last) {
        if f > l {
            return vec![(1, from, to)];
        }
    }
    let mut out = vec![(2, first, last)];
    if let (Some(from), Some(first)) = (from, first) {
        if from < first {
            out.push((1, Some(from), first.pred_opt()));
        }
    }
    if let (Some(to), Some(last)) = (to, last) {
        if let Some(after) = last.checked_add_months(Months::new(1)) {
            if after <= to {
                out.push((1, Some(after), Some(to)));
            }
        }
    }
    out
}

/// What the summary queries share: the backend's placeholders, the operation, the ranges
/// and who is asking.
struct Plan {
    placeholder: fn(usize) -> String,
    operation_id: i32,
    ranges: Vec<Range>,
    visibility: Visibility,
}

impl Plan {
    /// `SELECT columns FROM table` over the ranges (`UNION ALL`), or `None` when the period
    /// is empty.
    fn select(&self, columns: &str, table: &str) -> Option<(String, Vec<Bind>)> {
        let mut p = Population {
            sql: String::new(),
            binds: Vec::new(),
        };
        let ph = self.placeholder;
        let parts: Vec<String> = self
            .ranges
            .iter()
            .map(|&(grain, first, last)| {
                let op = p.bind(ph, Bind::Int(self.operation_id));
                let grain = p.bind(ph, Bind::Int(grain));
                let mut sql = format!(
                    "SELECT {columns} FROM {table} WHERE operation_id = {op} AND grain = {grain}"
                );
                if let Some(first) = first {
                    sql.push_str(&format!(" AND period >= {}", p.bind(ph, Bind::Date(first))));
                }
                if let Some(last) = last {
                    sql.push_str(&format!(" AND period <= {}", p.bind(ph, Bind::Date(last))));
                }
                if self.visibility == Visibility::Sealed {
                    sql.push_str(" AND NOT sensitive");
                }
                sql
            })
            .collect();
        (!parts.is_empty()).then(|| (parts.join(" UNION ALL "), p.binds))
    }
}

#[derive(QueryableByName)]
struct ItemsRow {
    #[diesel(sql_type = Date)]
    period: NaiveDate,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Bool)]
    sensitive: bool,
    #[diesel(sql_type = BigInt)]
    items: i64,
    #[diesel(sql_type = BigInt)]
    acknowledged: i64,
    #[diesel(sql_type = BigInt)]
    ack_in_sla: i64,
    #[diesel(sql_type = BigInt)]
    closed: i64,
    #[diesel(sql_type = BigInt)]
    closed_responded: i64,
    #[diesel(sql_type = BigInt)]
    closed_rated: i64,
    #[diesel(sql_type = BigInt)]
    closed_satisfied: i64,
}

#[derive(QueryableByName)]
struct ProfileRow {
    #[diesel(sql_type = Text)]
    dimension: String,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    items: i64,
}

#[derive(QueryableByName)]
struct UnackedRow {
    #[diesel(sql_type = Date)]
    due_day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    items: i64,
    #[diesel(sql_type = BigInt)]
    open_items: i64,
}

#[derive(QueryableByName)]
struct ClosureRow {
    #[diesel(sql_type = Date)]
    closed_month: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    bucket: i32,
    #[diesel(sql_type = BigInt)]
    items: i64,
}

#[derive(QueryableByName)]
struct DueRow {
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
}

#[derive(QueryableByName)]
struct MillisRow {
    #[diesel(sql_type = BigInt)]
    millis: i64,
}

#[derive(QueryableByName)]
struct SealedRow {
    #[diesel(sql_type = Date)]
    period: NaiveDate,
    #[diesel(sql_type = BigInt)]
    items: i64,
}

/// The SQL of the two remainders read from the items, per backend. The expressions are
/// those of the indexes of migration `…_feedback_summaries`, character for character.
struct Remainder {
    placeholder: fn(usize) -> String,
    /// `FROM` for the named index.
    from: fn(&str) -> String,
    closed_month: &'static str,
    millis: &'static str,
}

const SQLITE: Remainder = Remainder {
    placeholder: |i| format!("?{i}"),
    from: |index| format!("feedback INDEXED BY {index}"),
    closed_month: "date(closed_at, 'start of month')",
    millis: "CAST(round((julianday(closed_at) - julianday(created_at)) * 86400000.0) AS INTEGER)",
};

const POSTGRES: Remainder = Remainder {
    placeholder: |i| format!("${i}"),
    from: |_| "feedback".to_string(),
    closed_month: "date_trunc('month', closed_at)",
    millis: "CAST(round(date_part('epoch', closed_at - created_at) * 1000) AS BIGINT)",
};

/// The times to close in `bucket` (`[lo, hi]` in milliseconds) of one closing month.
fn bucket_bounds(bucket: i32) -> (i64, i64) {
    let b = bucket as i64 * BUCKET_MILLIS;
    match bucket {
        1.. => (b, b + BUCKET_MILLIS - 1),
        0 => (-(BUCKET_MILLIS - 1), BUCKET_MILLIS - 1),
        _ => (b - (BUCKET_MILLIS - 1), b),
    }
}

/// Reads the items of the period that the summaries cannot answer alone.
struct Items<'a> {
    r: &'static Remainder,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    visibility: Visibility,
    /// Exact times to close already read, per (closing month, bucket), sorted.
    buckets: BTreeMap<(NaiveDate, i32), Vec<i64>>,
    hist: &'a BTreeMap<NaiveDate, BTreeMap<i32, u64>>,
}

impl Items<'_> {
    fn population(&self) -> Population {
        Population::new(
            self.r.placeholder,
            self.operation_id,
            self.from,
            self.to,
            self.visibility,
        )
    }

    /// The sorted times to close of one (closing month, bucket); `None` when their number
    /// is not the histogram's.
    fn bucket(
        &mut self,
        conn: &mut DbConnection,
        month: NaiveDate,
        bucket: i32,
    ) -> QueryResult<Option<&[i64]>> {
        if !self.buckets.contains_key(&(month, bucket)) {
            let r = self.r;
            let mut p = self.population();
            let (lo, hi) = bucket_bounds(bucket);
            // SQLite compares the date's text, PostgreSQL the truncated timestamp.
            let month_key = p.bind(
                r.placeholder,
                match conn {
                    DbConnection::Sqlite(_) => Bind::Date(month),
                    DbConnection::Postgres(_) => Bind::Time(month.and_time(NaiveTime::MIN)),
                },
            );
            let (lo, hi) = (
                p.bind(r.placeholder, Bind::Big(lo)),
                p.bind(r.placeholder, Bind::Big(hi)),
            );
            let sql = format!(
                "SELECT {millis} AS millis FROM {t} WHERE {w} AND closed_at IS NOT NULL \
                 AND {month} = {month_key} AND {millis} BETWEEN {lo} AND {hi}",
                millis = r.millis,
                t = (r.from)("feedback_close_times"),
                w = p.sql,
                month = r.closed_month,
            );
            let query = (sql, p.binds);
            let mut values: Vec<i64> = load_any!(conn, "close times", &query, MillisRow)?
                .into_iter()
                .map(|r| r.millis)
                .collect();
            values.sort_unstable();
            self.buckets.insert((month, bucket), values);
        }
        let values = &self.buckets[&(month, bucket)];
        let expected = self.hist.get(&month).and_then(|b| b.get(&bucket)).copied();
        Ok((expected == Some(values.len() as u64)).then_some(values.as_slice()))
    }

    /// Not yet acknowledged items due on `now`'s date: (due by `now`, overdue at `now`).
    fn due_today(&self, conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<(u64, u64)> {
        let r = self.r;
        let mut p = self.population();
        let today = now.date().and_time(NaiveTime::MIN);
        let start = p.bind(r.placeholder, Bind::Time(today));
        let end = p.bind(r.placeholder, Bind::Time(today + chrono::Duration::days(1)));
        let now = p.bind(r.placeholder, Bind::Time(now));
        let sql = format!(
            "SELECT count(*) FILTER (WHERE ack_due_at <= {now}) AS due, \
             count(*) FILTER (WHERE closed_at IS NULL AND ack_due_at < {now}) AS overdue \
             FROM {t} WHERE {w} AND acknowledged_at IS NULL \
             AND ack_due_at >= {start} AND ack_due_at < {end}",
            t = (r.from)("feedback_unacked_due"),
            w = p.sql,
        );
        let query = (sql, p.binds);
        let rows = load_any!(conn, "due today", &query, DueRow)?;
        Ok(rows
            .first()
            .map_or((0, 0), |r| (r.due as u64, r.overdue as u64)))
    }
}

/// The indices (0-based) of the middle value(s) of `n` sorted values.
fn middle(n: u64) -> [u64; 2] {
    if n % 2 == 1 {
        [n / 2, n / 2]
    } else {
        [n / 2 - 1, n / 2]
    }
}

/// The bucket holding the value of rank `rank` in a histogram, and the rank inside it.
fn locate(hist: &BTreeMap<i32, u64>, mut rank: u64) -> Option<(i32, u64)> {
    for (&bucket, &n) in hist {
        if rank < n {
            return Some((bucket, rank));
        }
        rank -= n;
    }
    None
}

/// The indicators over the period from the summaries, or `None` when the summaries turn
/// out not to match the items.
pub(super) fn population_metrics(
    conn: &mut DbConnection,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
    visibility: Visibility,
) -> Result<Option<AapMetrics>, AppError> {
    conn.transaction(|conn| {
        if let DbConnection::Postgres(_) = conn {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        read(conn, operation_id, from, to, now, visibility)
    })
}

fn read(
    conn: &mut DbConnection,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
    visibility: Visibility,
) -> Result<Option<AapMetrics>, AppError> {
    let r: &'static Remainder = match conn {
        DbConnection::Sqlite(_) => &SQLITE,
        DbConnection::Postgres(_) => &POSTGRES,
    };
    let plan = Plan {
        placeholder: r.placeholder,
        operation_id,
        ranges: ranges(from, to),
        visibility,
    };
    let queries = (
        plan.select(
            "period, category, sensitive, items, acknowledged, ack_in_sla, closed, \
             closed_responded, closed_rated, closed_satisfied",
            "feedback_sum_items",
        ),
        plan.select("dimension, value, items", "feedback_sum_profile"),
        plan.select("due_day, items, open_items", "feedback_sum_unacked"),
        plan.select("closed_month, bucket, items", "feedback_sum_closures"),
    );
    let (Some(items_q), Some(profile_q), Some(unacked_q), Some(closures_q)) = queries else {
        return Ok(Some(
            aap::aap_metrics(&AapInput::default()).map_err(internal)?,
        ));
    };
    let items = load_any!(conn, "summary items", &items_q, ItemsRow)?;
    let profile = load_any!(conn, "summary profile", &profile_q, ProfileRow)?;
    let unacked = load_any!(conn, "summary unacked", &unacked_q, UnackedRow)?;
    let closures = load_any!(conn, "summary closures", &closures_q, ClosureRow)?;

    // Counts that do not depend on `now`, per created month and category.
    let mut volume: Vec<VolumeGroup> = items
        .into_iter()
        .map(|r| VolumeGroup {
            month: aap::month_index(r.period.year(), r.period.month()),
            count: r.items as u64,
            sensitive: if r.sensitive { r.items as u64 } else { 0 },
            sla_due: r.acknowledged as u64,
            sla_met: r.ack_in_sla as u64,
            closed: r.closed as u64,
            responded: r.closed_responded as u64,
            satisfaction_recorded: r.closed_rated as u64,
            satisfied: r.closed_satisfied as u64,
            overdue: 0,
            category: r.category,
        })
        .collect();

    // The `now`-dependent counts.
    let hist = closure_histograms(&closures);
    let mut reader = Items {
        r,
        operation_id,
        from,
        to,
        visibility,
        buckets: BTreeMap::new(),
        hist: &hist,
    };
    let today = now.date();
    let (mut due, mut overdue) = (0, 0);
    for u in &unacked {
        if u.due_day < today {
            due += u.items as u64;
            overdue += u.open_items as u64;
        }
    }
    if unacked.iter().any(|u| u.due_day == today && u.items > 0) {
        let (d, o) = reader.due_today(conn, now)?;
        (due, overdue) = (due + d, overdue + o);
    }
    if !volume.is_empty() {
        volume.push(VolumeGroup {
            sla_due: due,
            overdue,
            ..Default::default()
        });
    }
    let mut m = aap::aap_metrics(&AapInput {
        volume,
        ..Default::default()
    })
    .map_err(internal)?;

    for p in profile.into_iter().filter(|p| p.items > 0) {
        let map = match p.dimension.as_str() {
            "channel" => &mut m.by_channel,
            "sex" => &mut m.by_sex,
            "age_group" => &mut m.by_age_group,
            _ => &mut m.by_admin1,
        };
        *map.entry(p.value).or_default() += p.items as u64;
    }

    // Medians: per closing month, then over all months.
    let mut all: BTreeMap<i32, u64> = BTreeMap::new();
    for buckets in hist.values() {
        for (&b, &n) in buckets {
            *all.entry(b).or_default() += n;
        }
    }
    for (&month, buckets) in &hist {
        let n: u64 = buckets.values().sum();
        let mut mid = [0i64; 2];
        for (slot, rank) in mid.iter_mut().zip(middle(n)) {
            let Some((bucket, at)) = locate(buckets, rank) else {
                return Ok(None);
            };
            let Some(values) = reader.bucket(conn, month, bucket)? else {
                return Ok(None);
            };
            *slot = values[at as usize];
        }
        m.days_to_close_by_month.push(MonthDaysToClose {
            month: aap::month_label(aap::month_index(month.year(), month.month())),
            median_days: aap::median_days(mid[0], mid[1]),
            closed: n,
        });
    }
    let n: u64 = all.values().sum();
    if n > 0 {
        let mut mid = [0i64; 2];
        for (slot, rank) in mid.iter_mut().zip(middle(n)) {
            let Some((bucket, at)) = locate(&all, rank) else {
                return Ok(None);
            };
            let mut values = Vec::new();
            for (&month, buckets) in &hist {
                if buckets.contains_key(&bucket) {
                    let Some(v) = reader.bucket(conn, month, bucket)? else {
                        return Ok(None);
                    };
                    values.extend_from_slice(v);
                }
            }
            values.sort_unstable();
            *slot = values[at as usize];
        }
        m.median_days_to_close = Some(aap::median_days(mid[0], mid[1]));
    }
    Ok(Some(m))
}

/// Closed items per closing month and bucket (zero counts left out).
fn closure_histograms(rows: &[ClosureRow]) -> BTreeMap<NaiveDate, BTreeMap<i32, u64>> {
    let mut hist: BTreeMap<NaiveDate, BTreeMap<i32, u64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.items > 0) {
        *hist
            .entry(r.closed_month)
            .or_default()
            .entry(r.bucket)
            .or_default() += r.items as u64;
    }
    hist
}

fn internal(e: anyhow::Error) -> AppError {
    AppError::Internal(e.context("computing feedback metrics"))
}

/// Sealed items per whole calendar month overlapping `[from, to]` (up to `now`'s month when
/// `to` is open), from the monthly rows: `(month index, count)`.
pub(super) fn sealed_months(
    conn: &mut DbConnection,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
) -> Result<Vec<(i32, u64)>, AppError> {
    let ph = match conn {
        DbConnection::Sqlite(_) => SQLITE.placeholder,
        DbConnection::Postgres(_) => POSTGRES.placeholder,
    };
    let mut p = Population {
        sql: String::new(),
        binds: Vec::new(),
    };
    let op = p.bind(ph, Bind::Int(operation_id));
    let mut sql = format!(
        "SELECT period, items FROM feedback_sum_items \
         WHERE operation_id = {op} AND grain = 2 AND sensitive"
    );
    if let Some(from) = from {
        sql.push_str(&format!(
            " AND period >= {}",
            p.bind(ph, Bind::Date(month_start(from)))
        ));
    }
    let last = month_start(to.unwrap_or(now.date()));
    sql.push_str(&format!(" AND period <= {}", p.bind(ph, Bind::Date(last))));
    let query = (sql, p.binds);
    let rows = load_any!(conn, "sealed months", &query, SealedRow)?;
    let mut months: BTreeMap<i32, u64> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.items > 0) {
        *months
            .entry(aap::month_index(r.period.year(), r.period.month()))
            .or_default() += r.items as u64;
    }
    Ok(months.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Every date of a window falls in exactly one range, and none outside it does.
    #[test]
    fn ranges_cover_each_day_once() {
        let covered = |ranges: &[Range], day: NaiveDate| {
            ranges
                .iter()
                .filter(|&&(grain, first, last)| {
                    let key = if grain == 2 { month_start(day) } else { day };
                    first.is_none_or(|f| key >= f) && last.is_none_or(|l| key <= l)
                })
                .count()
        };
        let days: Vec<NaiveDate> = d("2025-11-20").iter_days().take(200).collect();
        let bounds: Vec<Option<NaiveDate>> = [None]
            .into_iter()
            .chain(
                [
                    "2025-12-01",
                    "2025-12-31",
                    "2026-01-15",
                    "2026-01-31",
                    "2026-02-01",
                    "2026-02-28",
                    "2026-03-01",
                    "2026-03-17",
                ]
                .map(|s| Some(d(s))),
            )
            .collect();
        for &from in &bounds {
            for &to in &bounds {
                let r = ranges(from, to);
                for &day in &days {
                    let inside = from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t);
                    assert_eq!(
                        covered(&r, day),
                        inside as usize,
                        "{from:?}..{to:?} on {day}: {r:?}"
                    );
                }
            }
        }
        assert_eq!(ranges(None, None), vec![(2, None, None)]);
    }

    #[test]
    fn buckets_follow_integer_division() {
        for millis in [
            -7_200_001, -3_600_000, -3_599_999, -1, 0, 1, 3_599_999, 3_600_000, 7_199_999,
            86_400_000,
        ] {
            let b = (millis / BUCKET_MILLIS) as i32;
            let (lo, hi) = bucket_bounds(b);
            assert!(
                lo <= millis && millis <= hi,
                "{millis} in bucket {b}: {lo}..{hi}"
            );
        }
        assert_eq!(middle(1), [0, 0]);
        assert_eq!(middle(4), [1, 2]);
        let hist = BTreeMap::from([(0, 2), (3, 1), (5, 4)]);
        assert_eq!(locate(&hist, 0), Some((0, 0)));
        assert_eq!(locate(&hist, 2), Some((3, 0)));
        assert_eq!(locate(&hist, 6), Some((5, 3)));
        assert_eq!(locate(&hist, 7), None);
    }
}
