//! The yearly consolidated report, per global cluster or across clusters: which operations
//! ran a CCPM that year (the share that did is itself an indicator), the average score and
//! status of each function over their latest round of the year, and the progress of the
//! action plans. And the quarterly action-plan progress report of a country to its country
//! team. Both are printable pages as well as JSON.
//!
//! Who reads what: admins everything; a global lead their cluster; an inter-cluster
//! coordinator the operations of their countries.

use super::{function_title, parse_country, ActionCounts};
use crate::db::models::{self, Operation, Round};
use crate::db::schema::{action_items, clusters, rounds};
use crate::db::DbConnection;
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::kernel::vocab::{ActionStatus, RoundState};
use crate::scoring::Status;
use crate::surveys::model::Catalog;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsolidatedReport {
    pub year: i32,
    /// The global cluster's code; `null` across clusters.
    pub cluster: Option<String>,
    /// Operations in scope that were in use during the year.
    pub operations_total: usize,
    /// Of those, the ones with a CCPM round closed in the year.
    pub operations_with_ccpm: usize,
    /// `operations_with_ccpm / operations_total` (0–1; 0 without operations).
    pub ccpm_share: f64,
    pub by_cluster: Vec<ClusterCoverage>,
    pub operations: Vec<OperationYear>,
    /// Each function's average score over the operations' latest round of the year.
    pub functions: Vec<FunctionAverage>,
    pub actions: ActionProgress,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClusterCoverage {
    pub cluster: String,
    pub name: String,
    pub operations_total: usize,
    pub operations_with_ccpm: usize,
    pub ccpm_share: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationYear {
    pub slug: String,
    pub name: String,
    pub cluster: String,
    pub country: String,
    pub ran_ccpm: bool,
    /// The latest round of the operation closed in the year.
    pub round: Option<i32>,
    pub overall_score: Option<f64>,
    pub overall_status: Option<Status>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunctionAverage {
    pub framework: String,
    pub id: String,
    pub title: String,
    /// Mean of the operations' function scores (operations without one left out).
    pub average_score: Option<f64>,
    /// The status of the average under the framework's thresholds.
    pub status: Status,
    /// How many operations' scores the average is over.
    pub operations: usize,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ActionProgress {
    pub total: u64,
    pub open: u64,
    pub in_progress: u64,
    pub done: u64,
    /// Not done and past their due date (at the end of the year, or today if earlier).
    pub overdue: u64,
    /// Percentage 0–100 of items done; `null` without items.
    pub done_pct: Option<f64>,
}

/// The operations `actor` may see in a consolidated report, of cluster `code` if given.
fn operations_in_scope(
    conn: &mut DbConnection,
    actor: &Actor,
    code: Option<&str>,
) -> Result<(Option<models::Cluster>, Vec<Operation>), AppError> {
    let cluster = match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some({
            // A code of another shape names no cluster; checked first, so that bytes a
            // database refuses (a NUL) are a 400 naming the parameter.
            crate::domain::directory::check_slug("cluster", c)?;
            models::cluster_by_code(conn, c)?
                .ok_or_else(|| AppError::not_found(format!("no cluster with code {c:?}")))?
        }),
        None => None,
    };
    let ops = models::all_operations(conn)?;
    let in_scope: Vec<Operation> = match actor.role {
        Role::Admin => ops,
        Role::GlobalLead => {
            if cluster
                .as_ref()
                .is_some_and(|c| Some(c.id) != actor.cluster_id)
            {
                return Err(AppError::forbidden());
            }
            ops.into_iter()
                .filter(|o| Some(o.cluster_id) == actor.cluster_id)
                .collect()
        }
        Role::InterClusterCoordinator => ops
            .into_iter()
            .filter(|o| actor.can_read_country(&o.country))
            .collect(),
        Role::Coordinator | Role::PseaFocalPoint => return Err(AppError::Forbidden(
            "the consolidated report is for admins, global leads and inter-cluster coordinators"
                .into(),
        )),
    };
    let in_scope = in_scope
        .into_iter()
        .filter(|o| cluster.as_ref().is_none_or(|c| c.id == o.cluster_id))
        .collect();
    Ok((cluster, in_scope))
}

/// When a round closed: by hand, or at its closing time.
fn closed_on(r: &Round) -> NaiveDateTime {
    r.closed_at.unwrap_or(r.closes_at).min(r.closes_at)
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The consolidated report of `year` (default: this year), of cluster `code` or across
/// clusters.
pub fn consolidated(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    year: Option<i32>,
    code: Option<&str>,
) -> Result<ConsolidatedReport, AppError> {
    let at = now();
    let year = year.unwrap_or(at.year());
    if !(2000..=2100).contains(&year) {
        return Err(AppError::field("year", "use a year from 2000 to 2100"));
    }
    let (cluster, ops) = operations_in_scope(conn, actor, code)?;
    let start = NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| AppError::field("year", "not a valid year"))?;
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| AppError::field("year", "not a valid year"))?;
    // Operations in use during the year: created before its end, not archived before it.
    let ops: Vec<Operation> = ops
        .into_iter()
        .filter(|o| o.created_at < end && o.archived_at.is_none_or(|a| a >= start))
        .collect();
    let ids: Vec<i32> = ops.iter().map(|o| o.id).collect();
    let all: Vec<Round> = rounds::table
        .filter(rounds::operation_id.eq_any(&ids))
        .order((rounds::closes_at.desc(), rounds::id.desc()))
        .select(Round::as_select())
        .load(conn)?;
    let latest: Vec<Option<Round>> = ops
        .iter()
        .map(|o| {
            all.iter()
                .find(|r| {
                    r.operation_id == Some(o.id)
                        && r.effective_state(at) == RoundState::Closed
                        && closed_on(r) >= start
                        && closed_on(r) < end
                        && catalog.framework(&r.framework).is_some()
                })
                .cloned()
        })
        .collect();
    let results = crate::domain::scores::compute_many(
        conn,
        catalog,
        latest.iter().flatten().cloned().collect(),
    )?;
    let mut results = results.into_iter();
    let cluster_rows: Vec<(i32, String, String)> = clusters::table
        .select((clusters::id, clusters::code, clusters::name))
        .order(clusters::code)
        .load(conn)?;
    let code_of = |id: i32| {
        cluster_rows
            .iter()
            .find(|c| c.0 == id)
            .map(|c| c.1.clone())
            .unwrap_or_default()
    };
    let mut operations = Vec::with_capacity(ops.len());
    // (framework, function) → scores
    let mut sums: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for (op, round) in ops.iter().zip(&latest) {
        let result = match round {
            Some(_) => results.next(),
            None => None,
        };
        if let Some(r) = &result {
            for f in &r.scores.functions {
                let e = sums
                    .entry((r.round.framework.clone(), f.id.clone()))
                    .or_default();
                if let Some(s) = f.score {
                    e.push(s);
                }
            }
        }
        operations.push(OperationYear {
            slug: op.slug.clone(),
            name: op.name.clone(),
            cluster: code_of(op.cluster_id),
            country: op.country.clone(),
            ran_ccpm: result.is_some(),
            round: result.as_ref().map(|r| r.round.id),
            overall_score: result.as_ref().and_then(|r| r.scores.overall.score),
            overall_status: result.as_ref().map(|r| r.scores.overall.status),
        });
    }
    let functions = sums
        .into_iter()
        .map(|((framework, id), scores)| {
            let average = if scores.is_empty() {
                None
            } else {
                Some(scores.iter().sum::<f64>() / scores.len() as f64)
            };
            let status = match catalog.framework(&framework) {
                // The average of scores that each met the minimum: classified on its own.
                Some(fw) => Status::classify(average, fw.min_respondents as usize, fw),
                None => Status::InsufficientData,
            };
            FunctionAverage {
                title: function_title(catalog, &framework, &id),
                framework,
                id,
                average_score: average,
                status,
                operations: scores.len(),
            }
        })
        .collect();
    let with = operations.iter().filter(|o| o.ran_ccpm).count();
    let mut by_cluster = Vec::new();
    for (cid, ccode, cname) in &cluster_rows {
        let of: Vec<&OperationYear> = operations
            .iter()
            .zip(&ops)
            .filter(|(_, o)| o.cluster_id == *cid)
            .map(|(y, _)| y)
            .collect();
        if of.is_empty() {
            continue;
        }
        let w = of.iter().filter(|o| o.ran_ccpm).count();
        by_cluster.push(ClusterCoverage {
            cluster: ccode.clone(),
            name: cname.clone(),
            operations_total: of.len(),
            operations_with_ccpm: w,
            ccpm_share: share(w, of.len()),
        });
    }
    let cutoff = (end - chrono::Duration::days(1)).date().min(at.date());
    let round_ids: Vec<i32> = all.iter().map(|r| r.id).collect();
    let items: Vec<(String, Option<NaiveDate>)> = action_items::table
        .filter(action_items::round_id.eq_any(&round_ids))
        .filter(action_items::created_at.lt(end))
        .select((action_items::status, action_items::due_date))
        .load(conn)?;
    let mut actions = ActionProgress::default();
    for (status, due) in items {
        actions.total += 1;
        match ActionStatus::parse(&status) {
            Ok(ActionStatus::Done) => actions.done += 1,
            Ok(ActionStatus::InProgress) => actions.in_progress += 1,
            _ => actions.open += 1,
        }
        if status != ActionStatus::Done.as_str() && due.is_some_and(|d| d < cutoff) {
            actions.overdue += 1;
        }
    }
    actions.done_pct =
        (actions.total > 0).then(|| 100.0 * actions.done as f64 / actions.total as f64);
    Ok(ConsolidatedReport {
        year,
        cluster: cluster.map(|c| c.code),
        operations_total: operations.len(),
        operations_with_ccpm: with,
        ccpm_share: share(with, operations.len()),
        by_cluster,
        operations,
        functions,
        actions,
    })
}

/// The quarterly action-plan progress report of a country to its country team.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionPlanReport {
    pub country: String,
    /// `YYYY-Qn`.
    pub quarter: String,
    /// First day of the quarter.
    pub from: String,
    /// Last day of the quarter.
    pub to: String,
    pub operations: Vec<OperationActions>,
    pub totals: ActionCounts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationActions {
    pub slug: String,
    pub name: String,
    pub cluster: String,
    pub items: Vec<ActionLine>,
    pub counts: ActionCounts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionLine {
    pub round: i32,
    pub indicator: String,
    pub action: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: Option<String>,
    pub status: ActionStatus,
    /// Not done and due before the end of the quarter (or today, if earlier).
    pub overdue: bool,
    /// Marked done during the quarter.
    pub done_in_quarter: bool,
}

/// `YYYY-Qn` → (first day, last day).
pub fn parse_quarter(s: &str) -> Result<(NaiveDate, NaiveDate), AppError> {
    let bad = || AppError::field("quarter", "use a quarter such as 2026-Q4");
    let (y, q) = s.trim().split_once("-Q").ok_or_else(bad)?;
    let y: i32 = y.parse().map_err(|_| bad())?;
    let q: u32 = q.parse().map_err(|_| bad())?;
    if !(2000..=2100).contains(&y) || !(1..=4).contains(&q) {
        return Err(bad());
    }
    let from = NaiveDate::from_ymd_opt(y, 3 * q - 2, 1).ok_or_else(bad)?;
    let next = if q == 4 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, 3 * q + 1, 1)
    }
    .ok_or_else(bad)?;
    Ok((from, next - chrono::Duration::days(1)))
}

/// The quarter a day is in, as `YYYY-Qn`.
pub fn quarter_of(d: NaiveDate) -> String {
    format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
}

/// Action items of the country's operations (admins, the country's inter-cluster
/// coordinators): those still to do at the end of the quarter, and those done during it.
pub fn action_plan(
    conn: &mut DbConnection,
    actor: &Actor,
    country: &str,
    quarter: Option<&str>,
) -> Result<ActionPlanReport, AppError> {
    let country = parse_country("country", country)?;
    if !actor.can_read_country(&country) {
        return Err(AppError::Forbidden(
            "only the country's inter-cluster coordinators (or an admin) can see this report"
                .into(),
        ));
    }
    let today = now().date();
    let quarter = match quarter.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => q.to_string(),
        None => quarter_of(today),
    };
    let (from, to) = parse_quarter(&quarter)?;
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
    let end = (to + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let cutoff = to.min(today);
    let ops: Vec<Operation> = models::all_operations(conn)?
        .into_iter()
        .filter(|o| o.country == country && o.archived_at.is_none_or(|a| a >= start))
        .collect();
    let mut out = Vec::new();
    let mut totals = ActionCounts::default();
    for op in &ops {
        type Row = (
            i32,
            String,
            String,
            String,
            Option<NaiveDate>,
            String,
            NaiveDateTime,
        );
        let rows: Vec<Row> = action_items::table
            .inner_join(rounds::table)
            .filter(rounds::operation_id.eq(op.id))
            .filter(action_items::created_at.lt(end))
            .order((action_items::due_date.asc(), action_items::id.asc()))
            .select((
                action_items::round_id,
                action_items::indicator,
                action_items::action,
                action_items::owner,
                action_items::due_date,
                action_items::status,
                action_items::updated_at,
            ))
            .load(conn)?;
        let mut counts = ActionCounts::default();
        let mut items = Vec::new();
        for (round, indicator, action, owner, due, status, updated) in rows {
            let status = ActionStatus::parse(&status).unwrap_or(ActionStatus::Open);
            let done = status == ActionStatus::Done;
            let done_in_quarter = done && updated >= start && updated < end;
            if done && !done_in_quarter {
                // Done before the quarter (or after it): not this quarter's news.
                continue;
            }
            let overdue = !done && due.is_some_and(|d| d < cutoff);
            if done {
                counts.done += 1;
            } else {
                counts.open += 1;
            }
            if overdue {
                counts.overdue += 1;
            }
            items.push(ActionLine {
                round,
                indicator,
                action,
                owner,
                due: due.map(|d| d.to_string()),
                status,
                overdue,
                done_in_quarter,
            });
        }
        totals.open += counts.open;
        totals.done += counts.done;
        totals.overdue += counts.overdue;
        let cluster: String = clusters::table
            .find(op.cluster_id)
            .select(clusters::code)
            .first(conn)?;
        out.push(OperationActions {
            slug: op.slug.clone(),
            name: op.name.clone(),
            cluster,
            items,
            counts,
        });
    }
    Ok(ActionPlanReport {
        country,
        quarter,
        from: from.to_string(),
        to: to.to_string(),
        operations: out,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters() {
        let (a, b) = parse_quarter("2026-Q4").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2026-10-01".into(), "2026-12-31".into())
        );
        let (a, b) = parse_quarter("2028-Q1").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2028-01-01".into(), "2028-03-31".into())
        );
        for bad in ["2026-Q5", "2026-Q0", "2026Q1", "Q1-2026", "1999-Q1"] {
            assert!(parse_quarter(bad).is_err(), "{bad}");
        }
        assert_eq!(
            quarter_of(NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()),
            "2026-Q4"
        );
        assert_eq!(
            quarter_of(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()),
            "2026-Q2"
        );
    }
}
