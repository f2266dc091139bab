//! An operation's AAP indicators (`GET /api/v1/operations/{slug}/feedback/metrics`), with
//! the definitions in [`crate::scoring::aap`] and the sealed view here.
//!
//! [`feedback_metrics`] reads them from the summary rows ([`super::summaries`], read by
//! `summary.rs`): a few thousand rows per query plus two small remainders read from the
//! items (times to close inside the buckets where the medians fall; not yet acknowledged
//! items whose deadline is today). [`feedback_metrics_from_items`] computes the same from
//! every item (`raw.rs`); the two must agree exactly (tests/aap_metrics.rs), and the raw way
//! is the fallback when the summaries are found inconsistent with the items.

use crate::db::models::Operation;
use crate::db::DbConnection;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::scoring::aap::{self, AapMetrics, SealedMonth};
use chrono::{NaiveDate, NaiveDateTime};

#[derive(Debug, Clone, Copy)]
enum Bind {
    Int(i32),
    Big(i64),
    Time(NaiveDateTime),
    Date(NaiveDate),
}

/// The population's `WHERE` clause and its binds, to which a query may add its own.
struct Population {
    pub(super) sql: String,
    pub(super) binds: Vec<Bind>,
}

impl Population {
    pub(super) fn new(
        placeholder: fn(usize) -> String,
        operation_id: i32,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        visibility: Visibility,
    ) -> Self {
        let mut p = Population {
            sql: String::new(),
            binds: Vec::new(),
        };
        let op = p.bind(placeholder, Bind::Int(operation_id));
        p.sql = format!("operation_id = {op}");
        if visibility == Visibility::Sealed {
            p.sql.push_str(" AND NOT sensitive");
        }
        if let Some(from) = from {
            let ph = p.bind(
                placeholder,
                Bind::Time(from.and_time(chrono::NaiveTime::MIN)),
            );
            p.sql.push_str(&format!(" AND created_at >= {ph}"));
        }
        if let Some(to) = to.and_then(|t| t.succ_opt()) {
            let ph = p.bind(placeholder, Bind::Time(to.and_time(chrono::NaiveTime::MIN)));
            p.sql.push_str(&format!(" AND created_at < {ph}"));
        }
        p
    }

    /// Adds a bind; returns its placeholder.
    pub(super) fn bind(&mut self, placeholder: fn(usize) -> String, b: Bind) -> String {
        self.binds.push(b);
        placeholder(self.binds.len())
    }
}

/// Runs one query (`(sql, binds)`) on a concrete connection; logs its time at debug level.
macro_rules! load {
    ($conn:expr, $backend:ty, $name:expr, $query:expr, $row:ty) => {{
        let started = std::time::Instant::now();
        let (sql, binds): &(String, Vec<Bind>) = $query;
        let mut q = diesel::sql_query(sql.as_str()).into_boxed::<$backend>();
        for b in binds {
            q = match *b {
                Bind::Int(v) => q.bind::<diesel::sql_types::Integer, _>(v),
                Bind::Big(v) => q.bind::<diesel::sql_types::BigInt, _>(v),
                Bind::Time(t) => q.bind::<diesel::sql_types::Timestamp, _>(t),
                Bind::Date(d) => q.bind::<diesel::sql_types::Date, _>(d),
            };
        }
        let rows = q.load::<$row>($conn);
        tracing::debug!(
            query = $name,
            rows = rows.as_ref().map_or(0, Vec::len),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "feedback metrics query"
        );
        rows
    }};
}

/// [`load!`] on whichever backend `conn` is.
macro_rules! load_any {
    ($conn:expr, $name:expr, $query:expr, $row:ty) => {
        match $conn {
            DbConnection::Sqlite(c) => load!(c, diesel::sqlite::Sqlite, $name, $query, $row),
            DbConnection::Postgres(c) => load!(c, diesel::pg::Pg, $name, $query, $row),
        }
    };
}

pub mod raw;
mod summary;

/// Who the metrics are for (DESIGN.md, Feedback: sensitive items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// The PSEA focal points of the operation: every item, sealed ones included.
    All,
    /// Everyone else: the population is the items they can see; sealed items appear only
    /// as a count per whole calendar month ([`AapMetrics::sealed_by_month`]), shown as
    /// "fewer than 3" when 1 or 2.
    Sealed,
}

/// An operation (readable by `actor`, by slug) and its AAP indicators over the period.
/// Sealed items are counted in full for the operation's PSEA focal points only; everyone
/// else gets the sealed view.
pub fn for_operation(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(Operation, AapMetrics), AppError> {
    let op = crate::db::models::operation_by_slug(conn, slug)?
        .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
    if !actor.can_read_operation(&op) {
        return Err(AppError::forbidden());
    }
    let visibility = if actor.can_see_feedback(&op, true) {
        Visibility::All
    } else {
        Visibility::Sealed
    };
    let m = feedback_metrics(
        conn,
        op.id,
        from,
        to,
        crate::kernel::time::now(),
        visibility,
    )?;
    Ok((op, m))
}

/// The AAP indicators of an operation's feedback created on dates in `[from, to]` (UTC,
/// inclusive, both optional), as of `now`, for `visibility`. See [`crate::scoring::aap`]
/// for the definitions and `docs/feedback-metrics.md` for the sealed view.
pub fn feedback_metrics(
    conn: &mut DbConnection,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
    visibility: Visibility,
) -> Result<AapMetrics, AppError> {
    let (m, sealed) =
        match summary::population_metrics(conn, operation_id, from, to, now, visibility)? {
            Some(m) => (
                m,
                summary::sealed_months(conn, operation_id, from, to, now)?,
            ),
            None => {
                tracing::error!(
                    operation_id,
                    "feedback summaries disagree with the items; computing from the items \
                 (run `clusterpulse feedback rebuild-summaries`)"
                );
                (
                    raw::population_metrics(conn, operation_id, from, to, now, visibility)?,
                    raw::sealed_months(conn, operation_id, from, to, now)?,
                )
            }
        };
    Ok(seal(m, sealed, visibility))
}

/// The same indicators computed from the items themselves (four queries over every item of
/// the period; seconds for millions of items): what the summaries are checked against, and
/// the fallback when they disagree with the items.
pub fn feedback_metrics_from_items(
    conn: &mut DbConnection,
    operation_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
    visibility: Visibility,
) -> Result<AapMetrics, AppError> {
    let m = raw::population_metrics(conn, operation_id, from, to, now, visibility)?;
    let sealed = raw::sealed_months(conn, operation_id, from, to, now)?;
    Ok(seal(m, sealed, visibility))
}

/// Adds the sealed months (`(month index, count)`) for `visibility`.
fn seal(mut m: AapMetrics, sealed: Vec<(i32, u64)>, visibility: Visibility) -> AapMetrics {
    match visibility {
        Visibility::All => {
            m.sensitive_display = m.sensitive.unwrap_or(0).to_string();
            m.sealed_by_month = sealed
                .into_iter()
                .map(|(month, n)| SealedMonth {
                    month: aap::month_label(month),
                    count: Some(n),
                    display: n.to_string(),
                })
                .collect();
        }
        Visibility::Sealed => {
            m.sealed_by_month = sealed
                .iter()
                .map(|&(month, n)| SealedMonth {
                    month: aap::month_label(month),
                    count: (n >= SEALED_MIN).then_some(n),
                    display: sealed_display(n),
                })
                .collect();
            let shown: u64 = sealed
                .iter()
                .map(|s| s.1)
                .filter(|n| *n >= SEALED_MIN)
                .sum();
            let hidden = sealed.iter().filter(|s| s.1 < SEALED_MIN).count() as u64;
            let total: u64 = sealed.iter().map(|s| s.1).sum();
            (m.sensitive, m.sensitive_display) = if hidden == 0 {
                (Some(shown), shown.to_string())
            } else if total < SEALED_MIN {
                (None, sealed_display(total))
            } else {
                // Each suppressed month holds at least one: say no more than that.
                (None, format!("at least {}", shown + hidden))
            };
        }
    }
    m
}

/// Below this, a sealed count is shown as "fewer than 3".
pub const SEALED_MIN: u64 = 3;

fn sealed_display(n: u64) -> String {
    if (1..SEALED_MIN).contains(&n) {
        format!("fewer than {SEALED_MIN}")
    } else {
        n.to_string()
    }
}
