//! Scorecards: one email per global cluster and period to the cluster's leads, covering
//! every operation of the cluster (latest closed round, trend, response rate, AAP
//! indicators, weakest indicators, open action-plan items), with inline PNG charts, a
//! plain-text part and a CSV of all scores. The same scorecard is a web page with SVG charts.
//!
//! Sending goes through the durable outbox; `scorecard_sends` (unique per cluster and
//! period) makes a period go out once, also with several instances racing.

use crate::charts::{self, Chart, Series};
pub use crate::config::Schedule;
use crate::db::models::{self, Cluster, Operation, Round};
use crate::db::schema::{action_items, rounds, scorecard_sends};
use crate::db::{write_tx, DbConnection};
use crate::domain::scores::RoundResult;
use crate::domain::services::Services;
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::mail::{Attachment, Email, Inline};
use crate::render::i18n;
use crate::scoring::aap::AapMetrics;
use crate::surveys::model::Catalog;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::kernel::time::period_end;
pub use crate::kernel::time::{parse_period, period_of, previous_period};

pub struct OperationCard {
    pub operation: Operation,
    pub result: Option<RoundResult>,
    pub aap: AapMetrics,
}

pub struct ActionRow {
    pub operation: String,
    pub indicator: String,
    pub action: String,
    pub owner: String,
    pub due: Option<NaiveDate>,
    pub status: String,
    pub overdue: bool,
}

pub struct Scorecard {
    pub cluster: Cluster,
    pub period: String,
    pub lang: String,
    pub operations: Vec<OperationCard>,
    pub actions: Vec<ActionRow>,
    /// The cluster's latest closed service-charter round: for its leads only (the web view
    /// leaves it out for anyone else, `Actor::can_read_charter`).
    pub charter: Option<crate::domain::charter::scores::CharterResult>,
    /// Whether the charter section is shown at all (false on the web for readers who are
    /// not the cluster's leads or an admin).
    pub show_charter: bool,
}

/// Everything a scorecard shows, as of the end of `period` or `at`, whichever comes first
/// (rounds closed by then; the period's last second included).
pub fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    cluster: Cluster,
    period: &str,
    at: NaiveDateTime,
) -> Result<Scorecard, AppError> {
    let first = parse_period(period)?;
    let end = period_end(first);
    // The first moment after the period; a round closed then belongs to the next one.
    let next_period = (end + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let cutoff = next_period.min(at);
    let ops: Vec<Operation> = models::all_operations(conn)?
        .into_iter()
        .filter(|o| o.cluster_id == cluster.id)
        .collect();
    let mut latest_rounds = Vec::new();
    for op in ops {
        // Closed by the end of the period (early closes count from when they closed).
        let latest: Option<Round> = rounds::table
            .filter(rounds::operation_id.eq(op.id))
            .order(rounds::closes_at.desc())
            .select(Round::as_select())
            .load(conn)?
            .into_iter()
            .find(|r| {
                let closed = r.closed_at.unwrap_or(r.closes_at).min(r.closes_at);
                r.effective_state(at) == crate::kernel::vocab::RoundState::Closed
                    && closed < next_period
                    && closed <= at
                    && catalog.framework(&r.framework).is_some()
            });
        latest_rounds.push((op, latest));
    }
    // Every operation's round (and its previous round) scored in one batched pass.
    let mut results = crate::domain::scores::compute_many(
        conn,
        catalog,
        latest_rounds
            .iter()
            .filter_map(|(_, r)| r.clone())
            .collect(),
    )?
    .into_iter();
    let mut cards = Vec::new();
    let mut round_ids = Vec::new();
    for (op, latest) in latest_rounds {
        let result = match latest {
            Some(r) => {
                round_ids.push((r.id, op.name.clone()));
                results.next()
            }
            None => None,
        };
        let aap = crate::domain::feedback::metrics::feedback_metrics(
            conn,
            op.id,
            Some(end - chrono::Duration::days(364)),
            Some(end),
            cutoff,
            // Scorecards go to global leads: sealed items as monthly counts only.
            crate::domain::feedback::metrics::Visibility::Sealed,
        )?;
        cards.push(OperationCard {
            operation: op,
            result,
            aap,
        });
    }
    let ids: Vec<i32> = round_ids.iter().map(|(id, _)| *id).collect();
    let today = at.date();
    let items: Vec<(i32, String, String, String, Option<NaiveDate>, String)> = action_items::table
        .filter(action_items::round_id.eq_any(&ids))
        .filter(action_items::status.ne("done"))
        .order((action_items::due_date.asc(), action_items::id.asc()))
        .select((
            action_items::round_id,
            action_items::indicator,
            action_items::action,
            action_items::owner,
            action_items::due_date,
            action_items::status,
        ))
        .load(conn)?;
    let actions = items
        .into_iter()
        .map(|(rid, indicator, action, owner, due, status)| ActionRow {
            operation: round_ids
                .iter()
                .find(|(id, _)| *id == rid)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            indicator,
            action,
            owner,
            overdue: due.is_some_and(|d| d < today),
            due,
            status,
        })
        .collect();
    let lang = if crate::kernel::vocab::Language::parse(&cluster.language).is_ok() {
        cluster.language.clone()
    } else {
        "en".into()
    };
    let charter = crate::domain::charter::scores::latest_closed(conn, catalog, &cluster, cutoff)?;
    Ok(Scorecard {
        cluster,
        period: period.to_string(),
        lang,
        operations: cards,
        actions,
        charter,
        show_charter: true,
    })
}

fn framework_of<'a>(
    catalog: &'a Catalog,
    sc: &Scorecard,
) -> Option<&'a crate::surveys::model::Framework> {
    sc.operations
        .iter()
        .find_map(|c| c.result.as_ref())
        .and_then(|r| catalog.framework(&r.round.framework))
        .or_else(|| catalog.frameworks.values().next())
}

pub(crate) fn text_in(t: &crate::surveys::model::Text, lang: &str) -> String {
    t.get(lang)
        .or_else(|| t.get("en"))
        .or_else(|| t.values().next())
        .cloned()
        .unwrap_or_default()
}

mod render;
mod scorecard_charts;
mod send;

pub use render::*;
pub use scorecard_charts::*;
pub use send::*;

/// The scorecard of a cluster (by code, readable by `actor`) for a month (`YYYY-MM`,
/// default: this month).
pub fn for_cluster(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    code: &str,
    period: Option<String>,
) -> Result<Scorecard, AppError> {
    let cluster = models::cluster_by_code(conn, code)?
        .ok_or_else(|| AppError::not_found(format!("no cluster with code {code:?}")))?;
    let ops = models::all_operations(conn)?;
    if !actor.can_read_cluster(cluster.id, &ops) {
        return Err(AppError::forbidden());
    }
    let now = crate::kernel::time::now();
    let period = match period.filter(|p| !p.trim().is_empty()) {
        Some(p) => {
            parse_period(&p)?;
            p
        }
        None => period_of(now.date()),
    };
    let can_read_charter = actor.can_read_charter(cluster.id);
    let mut sc = build(conn, catalog, cluster, &period, now)?;
    if !can_read_charter {
        sc.charter = None;
        sc.show_charter = false;
    }
    Ok(sc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert!(parse_period("2026-11").is_ok());
        assert!(parse_period("2026-13").is_err());
        assert!(parse_period("2026-1").is_err());
        assert!(parse_period("november").is_err());
        let d = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        assert_eq!(previous_period(d.and_hms_opt(3, 0, 0).unwrap()), "2025-12");
        assert_eq!(
            period_end(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            period_end(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        // The first second of a year sends December of the year before.
        let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            previous_period(new_year.and_hms_opt(0, 0, 0).unwrap()),
            "2026-12"
        );
        assert_eq!(
            previous_period(new_year.and_hms_opt(0, 10, 0).unwrap()),
            "2026-12"
        );
        // February of a leap year.
        assert_eq!(
            period_end(NaiveDate::from_ymd_opt(2028, 2, 1).unwrap()),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
        let march = NaiveDate::from_ymd_opt(2028, 3, 1).unwrap();
        assert_eq!(
            previous_period(march.and_hms_opt(0, 0, 0).unwrap()),
            "2028-02"
        );
        assert_eq!(Schedule::parse("monthly").unwrap(), Schedule::Monthly);
        assert!(Schedule::parse("weekly").is_err());
    }

    #[test]
    fn arrows() {
        assert_eq!(arrow(Some(5.0)), "▲");
        assert_eq!(arrow(Some(-3.0)), "▼");
        assert_eq!(arrow(Some(1.0)), "▶");
        assert_eq!(arrow(None), "");
    }
}
