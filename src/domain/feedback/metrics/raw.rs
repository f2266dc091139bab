//! The AAP indicators computed from the items themselves (the reference the summaries are
//! checked against, and their fallback): reads the `feedback` table and hands the result to
//! [`crate::scoring::aap`] (polars), which has the definitions.
//!
//! Millions of items must not travel one by one through diesel, so the database does the
//! row-level work in four queries over the population (the operation's items created in
//! `[from, to]`), in one read transaction so that they see the same snapshot:
//!
//! 1. *volume*: items per created month, category and `state` — a small integer packing
//!    the flags that do not depend on `now` (see [`STATE_BITS`]); a few thousand rows;
//! 2. *profile*: items per channel, sex, age group and admin1; a few thousand rows;
//! 3. *unacknowledged*: per created month and category, the not-yet-acknowledged items
//!    whose deadline has passed (`≤ now`, the SLA denominator) and those of them still open
//!    (`< now`, overdue): the only counts that depend on `now`, over a small subset;
//! 4. *closures*: one row per closed item (the closing month and the time to close in
//!    milliseconds) for the exact medians.
//!
//! Indexes (migration `…_feedback_metrics`) let each query read a narrow index instead of
//! the wide rows (messages, answers). On SQLite, which has no hash aggregation, queries 1
//! and 2 read indexes ordered by their `GROUP BY` keys so that grouping streams without a
//! sort; the expressions in queries 1 and 4 are indexed as written here (SQLite then reads
//! them from the index instead of computing them), so **keep the SQL expressions below and
//! the migration identical**. PostgreSQL hashes the groups and reads a covering index.

use super::{Bind, Population, Visibility};
use crate::db::DbConnection;
use crate::kernel::error::AppError;
use crate::scoring::aap::{self, AapInput, AapMetrics, Closure, ProfileGroup, VolumeGroup};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

/// Bits of the `state` of an item (query 1), all independent of `now`.
pub const STATE_BITS: [(i32, &str); 7] = [
    (1, "sensitive"),
    (2, "acknowledged (acknowledged_at set)"),
    (4, "acknowledged within SLA (acknowledged_at <= ack_due_at)"),
    (8, "closed (closed_at set)"),
    (16, "responded (responded_at set)"),
    (32, "satisfaction recorded (satisfied not null)"),
    (64, "satisfied"),
];

const SENSITIVE: i32 = 1;
const ACKNOWLEDGED: i32 = 2;
const WITHIN_SLA: i32 = 4;
const CLOSED: i32 = 8;
const RESPONDED: i32 = 16;
const SATISFACTION_RECORDED: i32 = 32;
const SATISFIED: i32 = 64;

/// SQL of one backend. The SQLite expressions are also those of the indexes.
struct Dialect {
    /// What created months are grouped on …
    created_bucket: &'static str,
    /// … and the month index of such a bucket `m`.
    month_of_bucket: &'static str,
    closed_month: &'static str,
    state: &'static str,
    millis_to_close: &'static str,
    placeholder: fn(usize) -> String,
    /// `FROM` of a query meant for the named index (SQLite: `INDEXED BY`, so that the plan
    /// does not depend on statistics; PostgreSQL picks by itself).
    from: fn(&str) -> String,
}

const SQLITE: Dialect = Dialect {
    created_bucket: "(CAST(substr(created_at, 1, 4) AS INTEGER) * 12 \
                    + CAST(substr(created_at, 6, 2) AS INTEGER) - 1)",
    month_of_bucket: "m",
    closed_month: "(CAST(substr(closed_at, 1, 4) AS INTEGER) * 12 \
                   + CAST(substr(closed_at, 6, 2) AS INTEGER) - 1)",
    state: "(sensitive + 2 * (acknowledged_at IS NOT NULL) \
            + 4 * ((acknowledged_at <= ack_due_at) IS TRUE) + 8 * (closed_at IS NOT NULL) \
            + 16 * (responded_at IS NOT NULL) + 32 * (satisfied IS NOT NULL) \
            + 64 * (satisfied IS TRUE))",
    // julianday() works in whole milliseconds; the difference of two of them, in days times
    // 86,400,000, is a whole number of milliseconds up to float noise, hence the rounding.
    millis_to_close: "CAST(round((julianday(closed_at) - julianday(created_at)) * 86400000.0) \
                      AS INTEGER)",
    placeholder: |i| format!("?{i}"),
    from: |index| format!("feedback INDEXED BY {index}"),
};

// `date_trunc` per row and the month index per group: per-row arithmetic on `EXTRACT`'s
// `numeric` results costs twice the time of the whole scan; `date_part` is a double.
const POSTGRES: Dialect = Dialect {
    created_bucket: "date_trunc('month', created_at)",
    month_of_bucket: "(date_part('year', m) * 12 + date_part('month', m) - 1)::int",
    closed_month: "(date_part('year', closed_at) * 12 + date_part('month', closed_at) - 1)::int",
    state: "(sensitive::int + 2 * (acknowledged_at IS NOT NULL)::int \
            + 4 * ((acknowledged_at <= ack_due_at) IS TRUE)::int \
            + 8 * (closed_at IS NOT NULL)::int + 16 * (responded_at IS NOT NULL)::int \
            + 32 * (satisfied IS NOT NULL)::int + 64 * (satisfied IS TRUE)::int)",
    // Milliseconds, rounded, like SQLite.
    millis_to_close: "round(date_part('epoch', closed_at - created_at) * 1000)::bigint",
    placeholder: |i| format!("${i}"),
    from: |_| "feedback".to_string(),
};

#[derive(QueryableByName)]
struct VolumeRow {
    #[diesel(sql_type = Integer)]
    month: i32,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Integer)]
    state: i32,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ProfileRow {
    #[diesel(sql_type = Text)]
    channel: String,
    #[diesel(sql_type = Nullable<Text>)]
    sex: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    age_group: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    admin1: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct UnacknowledgedRow {
    #[diesel(sql_type = Integer)]
    month: i32,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
}

#[derive(QueryableByName)]
struct ClosureRow {
    #[diesel(sql_type = Integer)]
    month: i32,
    #[diesel(sql_type = BigInt)]
    millis: i64,
}

/// The four queries in one go.
macro_rules! load_all {
    ($conn:expr, $backend:ty, $q:expr) => {
        Ok::<_, diesel::result::Error>(Rows {
            volume: load!($conn, $backend, "volume", &$q.volume, VolumeRow)?,
            profile: load!($conn, $backend, "profile", &$q.profile, ProfileRow)?,
            unacknowledged: load!(
                $conn,
                $backend,
                "unacknowledged",
                &$q.unacknowledged,
                UnacknowledgedRow
            )?,
            closures: load!($conn, $backend, "closures", &$q.closures, ClosureRow)?,
        })
    };
}

/// The four queries of one backend, as SQL with binds.
struct Queries {
    volume: (String, Vec<Bind>),
    profile: (String, Vec<Bind>),
    unacknowledged: (String, Vec<Bind>),
    closures: (String, Vec<Bind>),
}

fn queries(
    d: &Dialect,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
    visibility: Visibility,
) -> Queries {
    let pop = || Population::new(d.placeholder, operation_id, from, to, visibility);
    let p = pop();
    let volume = format!(
        "SELECT {month} AS month, category, state, n FROM (\
         SELECT {bucket} AS m, category, {state} AS state, count(*) AS n \
         FROM {t} WHERE {w} GROUP BY category, {bucket}, {state}) AS g",
        t = (d.from)("feedback_volume"),
        bucket = d.created_bucket,
        month = d.month_of_bucket,
        state = d.state,
        w = p.sql
    );
    let volume = (volume, p.binds);
    let p = pop();
    let profile = format!(
        "SELECT channel, sex, age_group, admin1, count(*) AS n FROM {t} WHERE {w} \
         GROUP BY channel, sex, age_group, admin1",
        t = (d.from)("feedback_profile"),
        w = p.sql
    );
    let profile = (profile, p.binds);
    let mut p = pop();
    let now_ph = p.bind(d.placeholder, Bind::Time(now));
    let unacknowledged = format!(
        "SELECT {month} AS month, category, due, overdue FROM (\
         SELECT {bucket} AS m, category, \
         count(*) FILTER (WHERE ack_due_at <= {now_ph}) AS due, \
         count(*) FILTER (WHERE closed_at IS NULL AND ack_due_at < {now_ph}) AS overdue \
         FROM {t} WHERE {w} AND acknowledged_at IS NULL GROUP BY 1, 2) AS g",
        t = (d.from)("feedback_unacknowledged"),
        bucket = d.created_bucket,
        month = d.month_of_bucket,
        w = p.sql
    );
    let unacknowledged = (unacknowledged, p.binds);
    let p = pop();
    let closures = format!(
        "SELECT {month} AS month, {millis} AS millis FROM {t} \
         WHERE {w} AND closed_at IS NOT NULL",
        t = (d.from)("feedback_closures"),
        month = d.closed_month,
        millis = d.millis_to_close,
        w = p.sql
    );
    let closures = (closures, p.binds);
    Queries {
        volume,
        profile,
        unacknowledged,
        closures,
    }
}

struct Rows {
    volume: Vec<VolumeRow>,
    profile: Vec<ProfileRow>,
    unacknowledged: Vec<UnacknowledgedRow>,
    closures: Vec<ClosureRow>,
}

/// Sealed items per whole calendar month overlapping `[from, to]` (the window is widened to
/// whole months, so a narrow window cannot date an item): `(month index, count)`.
pub(super) fn sealed_months(
    conn: &mut DbConnection,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
) -> Result<Vec<(i32, u64)>, AppError> {
    use crate::db::schema::feedback;
    use chrono::Datelike;
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d).and_time(chrono::NaiveTime::MIN);
    let mut q = feedback::table
        .filter(feedback::operation_id.eq(operation_id))
        .filter(feedback::sensitive.eq(true))
        .into_boxed();
    if let Some(from) = from {
        q = q.filter(feedback::created_at.ge(month_start(from)));
    }
    let to = to.unwrap_or(now.date());
    let next_month = month_start(to)
        .date()
        .checked_add_months(chrono::Months::new(1))
        .map(|d| d.and_time(chrono::NaiveTime::MIN));
    if let Some(end) = next_month {
        q = q.filter(feedback::created_at.lt(end));
    }
    let times: Vec<NaiveDateTime> = q.select(feedback::created_at).load(conn)?;
    let mut months: std::collections::BTreeMap<i32, u64> = Default::default();
    for t in times {
        *months
            .entry(aap::month_index(t.year(), t.month()))
            .or_default() += 1;
    }
    Ok(months.into_iter().collect())
}

pub(super) fn population_metrics(
    conn: &mut DbConnection,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
    visibility: Visibility,
) -> Result<AapMetrics, AppError> {
    let rows = match conn {
        DbConnection::Sqlite(c) => {
            let q = queries(&SQLITE, operation_id, from, to, now, visibility);
            c.transaction(|c| load_all!(c, diesel::sqlite::Sqlite, q))?
        }
        DbConnection::Postgres(c) => {
            let q = queries(&POSTGRES, operation_id, from, to, now, visibility);
            c.build_transaction()
                .read_only()
                .repeatable_read()
                .run(|c| load_all!(c, diesel::pg::Pg, q))?
        }
    };
    let started = std::time::Instant::now();
    let input = input_from(rows);
    let metrics = aap::aap_metrics(&input)
        .map_err(|e| AppError::Internal(e.context("computing feedback metrics")))?;
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1e3,
        "feedback metrics: polars"
    );
    Ok(metrics)
}

fn input_from(rows: Rows) -> AapInput {
    let bit = |state: i32, b: i32| state & b == b;
    let mut volume: Vec<VolumeGroup> = rows
        .volume
        .into_iter()
        .map(|r| {
            let n = r.n as u64;
            let count_if = |yes: bool| if yes { n } else { 0 };
            let closed = bit(r.state, CLOSED);
            VolumeGroup {
                month: r.month,
                category: r.category,
                count: n,
                sensitive: count_if(bit(r.state, SENSITIVE)),
                // Acknowledged items count in the SLA denominator whatever `now`; the
                // unacknowledged ones whose deadline passed are added below.
                sla_due: count_if(bit(r.state, ACKNOWLEDGED)),
                sla_met: count_if(bit(r.state, WITHIN_SLA)),
                closed: count_if(closed),
                responded: count_if(closed && bit(r.state, RESPONDED)),
                satisfaction_recorded: count_if(closed && bit(r.state, SATISFACTION_RECORDED)),
                satisfied: count_if(closed && bit(r.state, SATISFIED)),
                overdue: 0,
            }
        })
        .collect();
    volume.extend(rows.unacknowledged.into_iter().map(|r| VolumeGroup {
        month: r.month,
        category: r.category,
        sla_due: r.due as u64,
        overdue: r.overdue as u64,
        ..Default::default()
    }));
    AapInput {
        volume,
        profile: rows
            .profile
            .into_iter()
            .map(|r| ProfileGroup {
                channel: r.channel,
                sex: r.sex,
                age_group: r.age_group,
                admin1: r.admin1,
                count: r.n as u64,
            })
            .collect(),
        closures: rows
            .closures
            .into_iter()
            .map(|r| Closure {
                month: r.month,
                millis: r.millis,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sqlite::SqliteConnection;
    use diesel_migrations::MigrationHarness;

    #[derive(QueryableByName)]
    struct PlanRow {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    fn plan(c: &mut SqliteConnection, (sql, binds): &(String, Vec<Bind>)) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        let query = (sql, binds.clone());
        let rows = load!(c, diesel::sqlite::Sqlite, "plan", &query, PlanRow).unwrap();
        rows.into_iter()
            .map(|r| r.detail)
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// The SQLite queries read their indexes as written (expressions included), and the two
    /// big GROUP BYs stream in index order instead of sorting.
    #[test]
    fn sqlite_queries_use_their_covering_indexes() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.run_pending_migrations(crate::db::SQLITE_MIGRATIONS)
            .unwrap();
        let now = NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        for (from, to) in [
            (None, None),
            (NaiveDate::from_ymd_opt(2026, 1, 1), None),
            (
                NaiveDate::from_ymd_opt(2026, 1, 1),
                NaiveDate::from_ymd_opt(2026, 3, 31),
            ),
        ] {
            for visibility in [Visibility::All, Visibility::Sealed] {
                let q = queries(&SQLITE, 1, from, to, now, visibility);
                for (name, query, sorts) in [
                    ("feedback_volume", &q.volume, false),
                    ("feedback_profile", &q.profile, false),
                    ("feedback_unacknowledged", &q.unacknowledged, true),
                    ("feedback_closures", &q.closures, false),
                ] {
                    let p = plan(&mut c, query);
                    assert!(p.contains(&format!("COVERING INDEX {name}")), "{name}: {p}");
                    assert_eq!(p.contains("TEMP B-TREE"), sorts, "{name}: {p}");
                }
            }
        }
    }
}
