//! The feedback summary tables: per operation, per created day and per created month, the
//! counts the AAP indicators are read from (`metrics.rs`), so that reading them costs
//! thousands of rows instead of every item. Design and definitions: docs/feedback-metrics.md,
//! "Summaries".
//!
//! Every row is keyed by `(operation_id, grain, period, sensitive, …)`: `grain` 1 is a
//! created day (`period` = that date), 2 a created month (`period` = its first day); each
//! item counts once in each grain. The four tables:
//!
//! - `feedback_sum_items` (… `category`): items and the `now`-independent flags;
//! - `feedback_sum_profile` (… `dimension`, `value`): items per channel, sex, age group and
//!   admin1 (an unset value is stored as `"unknown"`, as the indicators show it);
//! - `feedback_sum_unacked` (… `due_day`): not yet acknowledged items per date of their
//!   deadline, and how many of them are still open;
//! - `feedback_sum_closures` (… `closed_month`, `bucket`): closed items per month of closing
//!   and hour of time to close ([`BUCKET_MILLIS`]), to find where the medians fall.
//!
//! Writes keep them exact inside the writer's transaction: [`add`] after an item is inserted;
//! [`remove`] before and [`add`] after any change to an item. Both take the item from the
//! database with the same SQL as [`rebuild`] (and the migration), so the three always agree.
//! Counts only: no message, answer or contact detail reaches a summary.

use crate::db::DbConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

/// Width of a `bucket` of time to close: one hour, in milliseconds. Bucket `b` holds the
/// times `t` with `t / BUCKET_MILLIS == b` in integer division (truncated toward zero).
pub const BUCKET_MILLIS: i64 = 3_600_000;

/// The summary tables, in the order they are written.
pub const TABLES: [&str; 4] = [
    "feedback_sum_items",
    "feedback_sum_profile",
    "feedback_sum_unacked",
    "feedback_sum_closures",
];

/// The SQL expressions of one backend, over `feedback AS f` and the grains `g`.
pub(crate) struct Dialect {
    /// The created day (grain 1) or the first day of the created month (grain 2).
    pub period: &'static str,
    pub due_day: &'static str,
    /// First day of the month of `closed_at`.
    pub closed_month: &'static str,
    /// `closed_at − created_at` in whole milliseconds (the expression of the raw metrics).
    pub millis: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect {
    period:
        "CASE g.grain WHEN 1 THEN date(f.created_at) ELSE date(f.created_at, 'start of month') END",
    due_day: "date(f.ack_due_at)",
    closed_month: "date(f.closed_at, 'start of month')",
    millis:
        "CAST(round((julianday(f.closed_at) - julianday(f.created_at)) * 86400000.0) AS INTEGER)",
};

pub(crate) const POSTGRES: Dialect = Dialect {
    period: "CASE g.grain WHEN 1 THEN CAST(f.created_at AS DATE) \
             ELSE CAST(date_trunc('month', f.created_at) AS DATE) END",
    due_day: "CAST(f.ack_due_at AS DATE)",
    closed_month: "CAST(date_trunc('month', f.closed_at) AS DATE)",
    millis: "CAST(round(date_part('epoch', f.closed_at - f.created_at) * 1000) AS BIGINT)",
};

fn dialect(conn: &DbConnection) -> &'static Dialect {
    match conn {
        DbConnection::Sqlite(_) => &SQLITE,
        DbConnection::Postgres(_) => &POSTGRES,
    }
}

const GRAINS: &str = "(SELECT 1 AS grain UNION ALL SELECT 2) AS g";

/// One table: its key and counted columns, and how a set of items (`filter` over `f`) adds
/// to them.
struct Table {
    name: &'static str,
    /// Key columns after `operation_id, grain, period, sensitive`.
    key: &'static [&'static str],
    counts: &'static [&'static str],
}

const ITEMS: Table = Table {
    name: "feedback_sum_items",
    key: &["category"],
    counts: &[
        "items",
        "acknowledged",
        "ack_in_sla",
        "closed",
        "closed_responded",
        "closed_rated",
        "closed_satisfied",
    ],
};
const PROFILE: Table = Table {
    name: "feedback_sum_profile",
    key: &["dimension", "value"],
    counts: &["items"],
};
const UNACKED: Table = Table {
    name: "feedback_sum_unacked",
    key: &["due_day"],
    counts: &["items", "open_items"],
};
const CLOSURES: Table = Table {
    name: "feedback_sum_closures",
    key: &["closed_month", "bucket"],
    counts: &["items"],
};

impl Table {
    fn key_columns(&self) -> String {
        let mut k = vec!["operation_id", "grain", "period", "sensitive"];
        k.extend(self.key);
        k.join(", ")
    }

    /// The key expressions after the common ones, the count expressions (each multiplied by
    /// `sign`), what is joined to `f` and `g`, and the extra condition on `f`.
    fn parts(
        &self,
        d: &Dialect,
        sign: &str,
    ) -> (Vec<String>, Vec<String>, &'static str, &'static str) {
        let c = |cond: &str| format!("{sign}count(*) FILTER (WHERE {cond})");
        match self.name {
            "feedback_sum_items" => (
                vec!["f.category".into()],
                vec![
                    format!("{sign}count(*)"),
                    c("f.acknowledged_at IS NOT NULL"),
                    c("f.acknowledged_at <= f.ack_due_at"),
                    c("f.closed_at IS NOT NULL"),
                    c("f.closed_at IS NOT NULL AND f.responded_at IS NOT NULL"),
                    c("f.closed_at IS NOT NULL AND f.satisfied IS NOT NULL"),
                    c("f.closed_at IS NOT NULL AND f.satisfied IS TRUE"),
                ],
                "",
                "",
            ),
            "feedback_sum_profile" => (
                vec![
                    "d.dimension".into(),
                    "CASE d.dimension WHEN 'channel' THEN f.channel \
                     WHEN 'sex' THEN COALESCE(f.sex, 'unknown') \
                     WHEN 'age_group' THEN COALESCE(f.age_group, 'unknown') \
                     ELSE COALESCE(f.admin1, 'unknown') END"
                        .into(),
                ],
                vec![format!("{sign}count(*)")],
                " CROSS JOIN (SELECT 'channel' AS dimension UNION ALL SELECT 'sex' \
                 UNION ALL SELECT 'age_group' UNION ALL SELECT 'admin1') AS d",
                "",
            ),
            "feedback_sum_unacked" => (
                vec![d.due_day.into()],
                vec![format!("{sign}count(*)"), c("f.closed_at IS NULL")],
                "",
                " AND f.acknowledged_at IS NULL",
            ),
            _ => (
                vec![
                    d.closed_month.into(),
                    format!("{} / {BUCKET_MILLIS}", d.millis),
                ],
                vec![format!("{sign}count(*)")],
                "",
                " AND f.closed_at IS NOT NULL",
            ),
        }
    }

    /// `SELECT` of the key expressions and the counts (each multiplied by `sign`) of the
    /// items matching `filter`, grouped by key.
    fn select(&self, d: &Dialect, filter: &str, sign: &str) -> String {
        let (keys, counts, from, filter_more) = self.parts(d, sign);
        let n_keys = 4 + keys.len();
        let group: Vec<String> = (1..=n_keys).map(|i| i.to_string()).collect();
        format!(
            "SELECT f.operation_id, g.grain, {period}, f.sensitive, {keys}, {counts} \
             FROM feedback AS f CROSS JOIN {GRAINS}{from} WHERE {filter}{filter_more} \
             GROUP BY {group}",
            period = d.period,
            keys = keys.join(", "),
            counts = counts.join(", "),
            group = group.join(", "),
        )
    }

    /// Adds the counts of the items matching `filter` (times `sign`) to the table.
    fn upsert(&self, d: &Dialect, filter: &str, sign: &str) -> String {
        let set: Vec<String> = self
            .counts
            .iter()
            .map(|c| format!("{c} = {t}.{c} + excluded.{c}", t = self.name))
            .collect();
        format!(
            "INSERT INTO {t} ({k}, {counts}) {select} ON CONFLICT ({k}) DO UPDATE SET {set}",
            t = self.name,
            k = self.key_columns(),
            counts = self.counts.join(", "),
            select = self.select(d, filter, sign),
            set = set.join(", "),
        )
    }

    /// Deletes the rows of the item `id` (placeholder) that dropped to zero.
    fn delete_empty(&self, d: &Dialect, id: &str) -> String {
        let (keys, _, from, filter_more) = self.parts(d, "");
        format!(
            "DELETE FROM {t} WHERE {first} = 0 AND ({k}) IN (SELECT f.operation_id, g.grain, \
             {period}, f.sensitive, {keys} FROM feedback AS f CROSS JOIN {GRAINS}{from} \
             WHERE f.id = {id}{filter_more})",
            t = self.name,
            first = self.counts[0],
            k = self.key_columns(),
            period = d.period,
            keys = keys.join(", "),
        )
    }
}

const ALL: [&Table; 4] = [&ITEMS, &PROFILE, &UNACKED, &CLOSURES];

/// The statements that rebuild every summary from the items (the tables must be empty):
/// what the migration runs, and [`rebuild`] after emptying them.
pub(crate) fn rebuild_sql(d: &Dialect) -> Vec<String> {
    ALL.iter().map(|t| t.upsert(d, "TRUE", "")).collect()
}

/// The statements of [`add`] and [`remove`] for one backend, each split at its placeholders
/// (all of them the item's id): written once, and prepared once per connection.
struct Statements {
    add: Vec<Vec<String>>,
    remove: Vec<Vec<String>>,
    /// [`add_many`]: on PostgreSQL one statement whose placeholder is an array of ids; on
    /// SQLite one statement per table whose placeholder is the ids as a JSON array.
    add_many: Vec<Vec<String>>,
}

/// Stands for the item's id while a statement is written, then splits it.
const ID: &str = "\u{0}";

impl Statements {
    fn of(d: &Dialect, postgres: bool) -> Statements {
        let split = |sql: String| sql.split(ID).map(str::to_string).collect::<Vec<_>>();
        let filter = format!("f.id = {ID}");
        let adds: Vec<String> = ALL.iter().map(|t| t.upsert(d, &filter, "")).collect();
        let subtracts: Vec<String> = ALL.iter().map(|t| t.upsert(d, &filter, "-")).collect();
        let empties: Vec<String> = ALL.iter().map(|t| t.delete_empty(d, ID)).collect();
        if !postgres {
            let mut remove = Vec::new();
            for (subtract, empty) in subtracts.into_iter().zip(empties) {
                remove.push(split(subtract));
                remove.push(split(empty));
            }
            let listed = format!("f.id IN (SELECT value FROM json_each({ID}))");
            return Statements {
                add: adds.into_iter().map(split).collect(),
                remove,
                add_many: ALL
                    .iter()
                    .map(|t| split(t.upsert(d, &listed, "")))
                    .collect(),
            };
        }
        // PostgreSQL: each statement is a round trip, and a `WITH` may hold the writes to
        // the four tables (one row is never written twice by one statement: each upsert
        // groups by its key). A part of a `WITH` does not see what another part wrote, so
        // the rows that dropped to zero are deleted by a second statement.
        let any = format!("f.id = ANY({ID})");
        let add_many = together(ALL.iter().map(|t| t.upsert(d, &any, "")).collect());
        Statements {
            add: vec![split(together(adds))],
            add_many: vec![split(add_many)],
            remove: vec![
                split(format!(
                    "SELECT id FROM feedback WHERE id = {ID} FOR UPDATE"
                )),
                split(together(subtracts)),
                split(together(empties)),
            ],
        }
    }
}

/// PostgreSQL: data-modifying statements as one, the last as the main statement and the
/// others in a `WITH`.
fn together(statements: Vec<String>) -> String {
    let (last, first) = statements.split_last().expect("at least one statement");
    let parts: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(i, sql)| format!("w{i} AS ({sql})"))
        .collect();
    format!("WITH {} {last}", parts.join(", "))
}

fn statements(conn: &DbConnection) -> &'static Statements {
    match conn {
        DbConnection::Sqlite(_) => statements_of_sqlite(),
        DbConnection::Postgres(_) => statements_of_postgres(),
    }
}

fn statements_of_sqlite() -> &'static Statements {
    static SQLITE_STATEMENTS: std::sync::OnceLock<Statements> = std::sync::OnceLock::new();
    SQLITE_STATEMENTS.get_or_init(|| Statements::of(&SQLITE, false))
}

fn statements_of_postgres() -> &'static Statements {
    static POSTGRES_STATEMENTS: std::sync::OnceLock<Statements> = std::sync::OnceLock::new();
    POSTGRES_STATEMENTS.get_or_init(|| Statements::of(&POSTGRES, true))
}

fn run(conn: &mut DbConnection, parts: &[String], id: i32) -> QueryResult<()> {
    let statement = crate::db::fixed::WithId { parts, id };
    crate::db::on_backend!(conn, |c| statement.execute(c))?;
    Ok(())
}

/// Counts the item `id` (as stored now) in the summaries. Call inside the transaction that
/// inserted or changed it.
pub fn add(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    for sql in &statements(conn).add {
        run(conn, sql, id)?;
    }
    Ok(())
}

/// Counts a newly inserted item `id` in the summaries. Call inside the transaction that
/// inserted it. In a group-committed batch the items of the whole batch are counted
/// together just before its COMMIT ([`add_many`]): statements that write each summary row
/// once, instead of once per item (on PostgreSQL each time a new row version in the same
/// transaction; on SQLite, four upserts per item were most of the writer's time). It fails
/// the batch if it fails.
pub fn add_new(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    crate::db::writer::with_batch_ids(conn, ("feedback summaries", 0), id, add_many)
}

/// Counts the items `ids` (as stored now, each once) in the summaries.
pub fn add_many(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<()> {
    match conn {
        DbConnection::Postgres(c) => {
            for parts in &statements_of_postgres().add_many {
                crate::db::fixed::WithIds { parts, ids }.execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            let list = serde_json::to_string(ids).unwrap_or_default();
            for parts in &statements_of_sqlite().add_many {
                crate::db::fixed::WithText { parts, text: &list }.execute(c)?;
            }
        }
    }
    Ok(())
}

/// Takes the item `id` (as stored now) out of the summaries: call before changing it, inside
/// the same transaction, then [`add`] after. On PostgreSQL the item's row is locked first, so
/// that a concurrent change waits and this reads the committed row.
pub fn remove(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    for sql in &statements(conn).remove {
        run(conn, sql, id)?;
    }
    Ok(())
}

/// Rebuilds every summary row from the items, in one transaction (`clusterpulse feedback
/// rebuild-summaries`). Returns the number of rows per table.
pub fn rebuild(conn: &mut DbConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    crate::db::write_tx(conn, |conn| {
        let d = dialect(conn);
        for t in TABLES {
            conn.batch_execute(&format!("DELETE FROM {t}"))?;
        }
        for sql in rebuild_sql(d) {
            diesel::sql_query(sql).execute(conn)?;
        }
        row_counts(conn)
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows per summary table.
pub fn row_counts(conn: &mut DbConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    TABLES
        .iter()
        .map(|t| {
            let c: Count =
                diesel::sql_query(format!("SELECT count(*) AS n FROM {t}")).get_result(conn)?;
            Ok((*t, c.n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squash(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The migration fills the tables with the statements of [`rebuild`], word for word.
    #[test]
    fn migration_runs_the_rebuild_statements() {
        for (d, up) in [
            (
                &SQLITE,
                include_str!(
                    "../../../migrations/sqlite/2026-12-07-000003_feedback_summaries/up.sql"
                ),
            ),
            (
                &POSTGRES,
                include_str!(
                    "../../../migrations/postgres/2026-12-07-000003_feedback_summaries/up.sql"
                ),
            ),
        ] {
            let up = squash(up);
            for sql in rebuild_sql(d) {
                assert!(
                    up.contains(&squash(&sql)),
                    "missing from the migration: {sql};"
                );
            }
        }
    }
}
