//! The inter-cluster view of a country, for the humanitarian coordinator's team and OCHA's
//! inter-cluster coordinators (role `inter_cluster_coordinator`, scoped to countries):
//! every cluster operation of the country side by side — the function statuses of its
//! latest closed CCPM round, its AAP indicators (counts only, sensitive items sealed as for
//! any reader who is not a PSEA focal point), its open and overdue action-plan items — and
//! the gaps: functions rated weak or unsatisfactory in several clusters.
//!
//! The yearly consolidated report (per global cluster and across clusters) and the
//! quarterly action-plan progress report are in [`consolidated`].

pub mod consolidated;

use crate::db::models::{self, Operation, Round};
use crate::db::schema::{action_items, clusters, rounds};
use crate::db::DbConnection;
use crate::domain::feedback::metrics::{feedback_metrics, Visibility};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::kernel::vocab::{ActionStatus, RoundState};
use crate::scoring::Status;
use crate::surveys::model::Catalog;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

/// A function rated weak or unsatisfactory in at least this many clusters of a country is a
/// gap of the country.
pub const GAP_MIN_CLUSTERS: usize = 2;

/// A country's ISO 3166-1 alpha-2 code, checked (upper case).
pub fn parse_country(field: &str, s: &str) -> Result<String, AppError> {
    let c = s.trim().to_ascii_uppercase();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(AppError::field(
            field,
            "use a two-letter ISO 3166 country code, e.g. YE",
        ))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountryView {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Every cluster operation of the country in use, by cluster.
    pub operations: Vec<OperationSummary>,
    /// Functions rated weak or unsatisfactory in at least two clusters of the country.
    pub gaps: Vec<Gap>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationSummary {
    pub slug: String,
    pub name: String,
    /// The global cluster's code.
    pub cluster: String,
    pub cluster_name: String,
    /// The latest closed CCPM round, if any.
    pub round: Option<LatestRound>,
    /// AAP indicators of the last 365 days (counts and shares; sensitive items sealed).
    pub aap: AapSummary,
    pub actions: ActionCounts,
    /// Current members and observers in the operation's membership register.
    pub membership: Option<MembershipCounts>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LatestRound {
    pub id: i32,
    pub title: String,
    pub framework: String,
    /// RFC 3339, UTC: when it closed.
    pub closed_at: String,
    pub overall_score: Option<f64>,
    pub overall_status: Status,
    pub functions: Vec<FunctionStatus>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunctionStatus {
    pub id: String,
    pub title: String,
    pub score: Option<f64>,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AapSummary {
    pub total: u64,
    pub acknowledged_within_sla_pct: Option<f64>,
    pub closed_pct: Option<f64>,
    pub satisfied_pct: Option<f64>,
    /// Sensitive items as the sealed rule shows them: a number, "fewer than 3" or "at least N".
    pub sensitive: String,
    pub overdue: u64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ActionCounts {
    /// Not done yet (open or in progress).
    pub open: u64,
    /// Not done and past their due date.
    pub overdue: u64,
    pub done: u64,
}

/// Current members and observers of an operation's register (former members left out).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MembershipCounts {
    pub members: u64,
    pub observers: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Gap {
    /// The framework function's id.
    pub function: String,
    pub title: String,
    /// The operations (slugs) where it is rated weak or unsatisfactory.
    pub operations: Vec<String>,
}

/// The latest closed round of each operation (CCPM: the operation's own rounds), by `at`.
pub fn latest_closed_rounds(
    conn: &mut DbConnection,
    catalog: &Catalog,
    ops: &[Operation],
    at: chrono::NaiveDateTime,
) -> Result<Vec<Option<Round>>, AppError> {
    let ids: Vec<i32> = ops.iter().map(|o| o.id).collect();
    let all: Vec<Round> = rounds::table
        .filter(rounds::operation_id.eq_any(&ids))
        .order((rounds::closes_at.desc(), rounds::id.desc()))
        .select(Round::as_select())
        .load(conn)?;
    Ok(ops
        .iter()
        .map(|o| {
            all.iter()
                .find(|r| {
                    r.operation_id == Some(o.id)
                        && r.effective_state(at) == RoundState::Closed
                        && catalog.framework(&r.framework).is_some()
                })
                .cloned()
        })
        .collect())
}

/// Open, overdue and done action-plan items of each round (by round id).
pub fn action_counts(
    conn: &mut DbConnection,
    round_ids: &[i32],
    today: NaiveDate,
) -> Result<std::collections::HashMap<i32, ActionCounts>, AppError> {
    let rows: Vec<(i32, String, Option<NaiveDate>)> = action_items::table
        .filter(action_items::round_id.eq_any(round_ids))
        .select((
            action_items::round_id,
            action_items::status,
            action_items::due_date,
        ))
        .load(conn)?;
    let mut out: std::collections::HashMap<i32, ActionCounts> = Default::default();
    for (round, status, due) in rows {
        let c = out.entry(round).or_default();
        if status == ActionStatus::Done.as_str() {
            c.done += 1;
        } else {
            c.open += 1;
            if due.is_some_and(|d| d < today) {
                c.overdue += 1;
            }
        }
    }
    Ok(out)
}

/// The title of a framework function in English (the language of the staff pages).
pub fn function_title(catalog: &Catalog, framework: &str, id: &str) -> String {
    catalog
        .framework(framework)
        .and_then(|fw| fw.functions.iter().find(|f| f.id == id))
        .and_then(|f| f.title.get("en").or_else(|| f.title.values().next()))
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// The country view (admins, and inter-cluster coordinators of the country).
pub fn country_view(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    country: &str,
) -> Result<CountryView, AppError> {
    let country = parse_country("country", country)?;
    if !actor.can_read_country(&country) {
        return Err(AppError::Forbidden(
            "only the country's inter-cluster coordinators (or an admin) can see this view".into(),
        ));
    }
    let at = now();
    let mut ops: Vec<Operation> = models::all_operations(conn)?
        .into_iter()
        .filter(|o| o.country == country && o.archived_at.is_none())
        .collect();
    let cluster_rows: Vec<(i32, String, String)> = clusters::table
        .select((clusters::id, clusters::code, clusters::name))
        .load(conn)?;
    let cluster_of = |id: i32| {
        cluster_rows
            .iter()
            .find(|c| c.0 == id)
            .map(|c| (c.1.clone(), c.2.clone()))
            .unwrap_or_default()
    };
    ops.sort_by_key(|o| (cluster_of(o.cluster_id).0, o.slug.clone()));
    let latest = latest_closed_rounds(conn, catalog, &ops, at)?;
    let results = crate::domain::scores::compute_many(
        conn,
        catalog,
        latest.iter().flatten().cloned().collect(),
    )?;
    let mut results = results.into_iter();
    let round_ids: Vec<i32> = rounds::table
        .filter(rounds::operation_id.eq_any(ops.iter().map(|o| o.id).collect::<Vec<_>>()))
        .select(rounds::id)
        .load(conn)?;
    let round_owner: Vec<(i32, Option<i32>)> = rounds::table
        .filter(rounds::id.eq_any(&round_ids))
        .select((rounds::id, rounds::operation_id))
        .load(conn)?;
    let counts = action_counts(conn, &round_ids, at.date())?;
    let op_ids: Vec<i32> = ops.iter().map(|o| o.id).collect();
    let registers = crate::domain::membership::register::counts_by_operation(conn, &op_ids)?;
    let mut out = Vec::with_capacity(ops.len());
    for (op, round) in ops.iter().zip(latest) {
        let round = match round {
            Some(_) => results.next().map(|r| {
                let functions = r
                    .scores
                    .functions
                    .iter()
                    .map(|f| FunctionStatus {
                        id: f.id.clone(),
                        title: function_title(catalog, &r.round.framework, &f.id),
                        score: f.score,
                        status: f.status,
                    })
                    .collect();
                LatestRound {
                    id: r.round.id,
                    title: r.round.title.clone(),
                    framework: r.round.framework.clone(),
                    closed_at: crate::kernel::time::rfc3339(
                        r.round
                            .closed_at
                            .unwrap_or(r.round.closes_at)
                            .min(r.round.closes_at),
                    ),
                    overall_score: r.scores.overall.score,
                    overall_status: r.scores.overall.status,
                    functions,
                }
            }),
            None => None,
        };
        let m = feedback_metrics(
            conn,
            op.id,
            Some(at.date() - chrono::Duration::days(364)),
            Some(at.date()),
            at,
            Visibility::Sealed,
        )?;
        let mut actions = ActionCounts::default();
        for (rid, _) in round_owner.iter().filter(|(_, o)| *o == Some(op.id)) {
            if let Some(c) = counts.get(rid) {
                actions.open += c.open;
                actions.overdue += c.overdue;
                actions.done += c.done;
            }
        }
        let (cluster, cluster_name) = cluster_of(op.cluster_id);
        out.push(OperationSummary {
            slug: op.slug.clone(),
            name: op.name.clone(),
            cluster,
            cluster_name,
            round,
            aap: AapSummary {
                total: m.total,
                acknowledged_within_sla_pct: m.acknowledged_within_sla_pct,
                closed_pct: m.closed_pct,
                satisfied_pct: m.satisfied_pct,
                sensitive: m.sensitive_display.clone(),
                overdue: m.overdue,
            },
            actions,
            membership: registers
                .get(&op.id)
                .map(|&(members, observers)| MembershipCounts { members, observers }),
        });
    }
    let gaps = gaps_of(&out);
    Ok(CountryView {
        country,
        operations: out,
        gaps,
    })
}

/// Functions rated weak or unsatisfactory in at least [`GAP_MIN_CLUSTERS`] operations
/// (same framework function id), most widespread first.
pub fn gaps_of(ops: &[OperationSummary]) -> Vec<Gap> {
    let mut by: std::collections::BTreeMap<String, (String, Vec<String>)> = Default::default();
    for op in ops {
        let Some(r) = &op.round else { continue };
        for f in &r.functions {
            if matches!(f.status, Status::Weak | Status::Unsatisfactory) {
                let e = by
                    .entry(f.id.clone())
                    .or_insert_with(|| (f.title.clone(), Vec::new()));
                e.1.push(op.slug.clone());
            }
        }
    }
    let mut gaps: Vec<Gap> = by
        .into_iter()
        .filter(|(_, (_, o))| o.len() >= GAP_MIN_CLUSTERS)
        .map(|(function, (title, operations))| Gap {
            function,
            title,
            operations,
        })
        .collect();
    gaps.sort_by_key(|g| std::cmp::Reverse(g.operations.len()));
    gaps
}
