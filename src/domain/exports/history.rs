//! Many rounds at once: the scores of every round of an operation (its history) or of a
//! cluster's operations, and their action plans.
//!
//! The rules are those of the single-round views, applied round by round: only the
//! operations the actor reads (a global lead their cluster's, a coordinator or PSEA focal
//! point their own; a cluster they have no operation in is refused); scores only of rounds
//! that opened, an open round over its published snapshot and marked provisional, without
//! the org-type breakdown until it closes (`domain::scores::withhold_unpublished`); in the
//! breakdown, no org type with fewer than `min_respondents` responses (the scoring core
//! omits them). Scores are computed with `domain::scores::score_each`, the batched path of
//! the scorecards, so the numbers are those of `GET /api/v1/rounds/{id}/scores`.

use super::{actions as round_actions, scores as round_scores, Export, Options, Table};
use crate::db::models::{self, Operation, Round};
use crate::db::schema::rounds;
use crate::db::DbConnection;
use crate::domain::actions;
use crate::domain::scores::{score_each, withhold_unpublished};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::vocab::RoundState;
use crate::render::tables::{Cell, Column, Row};
use crate::scoring::RoundScores;
use crate::surveys::model::Catalog;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Whose rounds.
#[derive(Debug, Clone)]
pub enum Scope {
    /// An operation, by slug.
    Operation(String),
    /// A cluster, by code: the operations of it that the actor reads.
    Cluster(String),
}

/// The operations of `scope` the actor reads, and the stem of the file names.
fn operations(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: &Scope,
) -> Result<(String, Vec<Operation>), AppError> {
    match scope {
        Scope::Operation(slug) => {
            let op = models::operation_by_slug(conn, slug)?
                .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
            if !actor.can_read_operation(&op) {
                return Err(AppError::forbidden());
            }
            Ok((op.slug.clone(), vec![op]))
        }
        Scope::Cluster(code) => {
            let c = models::cluster_by_code(conn, code)?
                .ok_or_else(|| AppError::not_found(format!("no cluster with code {code:?}")))?;
            let ops = models::all_operations(conn)?;
            if !actor.can_read_cluster(c.id, &ops) {
                return Err(AppError::forbidden());
            }
            let ops = ops
                .into_iter()
                .filter(|o| o.cluster_id == c.id && actor.can_read_operation(o))
                .collect();
            Ok((format!("cluster-{}", c.code), ops))
        }
    }
}

/// The rounds of `ops`, oldest first (by closing time).
fn rounds_of(conn: &mut DbConnection, ops: &[Operation]) -> QueryResult<Vec<Round>> {
    let ids: Vec<i32> = ops.iter().map(|o| o.id).collect();
    rounds::table
        .filter(rounds::operation_id.eq_any(ids))
        .order((rounds::closes_at, rounds::id))
        .select(Round::as_select())
        .load(conn)
}

fn context_columns() -> Vec<Column> {
    [
        ("operation", "#sector+operation"),
        ("country", "#country+code"),
        ("round", "#meta+round"),
    ]
    .into_iter()
    .map(|(n, h)| Column::new(n, h).of(super::kind_of(n)))
    .collect()
}

fn score_columns() -> Vec<Column> {
    let mut cols = context_columns();
    cols.extend(
        [
            ("framework", "#meta+framework"),
            ("closes_at", "#date+end"),
            ("provisional", "#meta+provisional"),
            ("org_type", "#org+type"),
        ]
        .into_iter()
        .map(|(n, h)| Column::new(n, h).of(super::kind_of(n))),
    );
    cols.extend(round_scores::columns());
    cols
}

fn context(op: &Operation, round: i32) -> Row {
    vec![
        Cell::text(op.slug.clone()),
        Cell::text(op.country.clone()),
        Cell::Int(i64::from(round)),
    ]
}

/// The rows of one round: all respondents, then the org-type breakdown (overall and
/// functions; the breakdown has no status, interval or per-function count).
fn round_rows(op: &Operation, round: &Round, s: &RoundScores, at: NaiveDateTime) -> Vec<Row> {
    let provisional = round.effective_state(at) != RoundState::Closed;
    let lead = |org_type: Option<&str>| {
        let mut r = context(op, round.id);
        r.extend([
            Cell::text(round.framework.clone()),
            Cell::Time(round.closes_at),
            Cell::flag(Some(provisional)),
            Cell::opt_text(org_type),
        ]);
        r
    };
    let mut rows: Vec<Row> = round_scores::table_rows(s)
        .into_iter()
        .map(|r| {
            let mut out = lead(None);
            out.extend(r);
            out
        })
        .collect();
    let cells = |level: &str, id: &str, score: Option<f64>, n: Option<usize>| {
        vec![
            Cell::text(level),
            Cell::text(id),
            Cell::text(""),
            score.map_or(Cell::Empty, Cell::Num),
            Cell::Empty,
            n.map_or(Cell::Empty, |n| Cell::Int(n as i64)),
            Cell::Empty,
            Cell::Empty,
        ]
    };
    for g in &s.by_org_type {
        let mut r = lead(Some(&g.org_type));
        r.extend(cells("overall", "overall", g.overall, Some(g.n)));
        rows.push(r);
        for f in &g.functions {
            let mut r = lead(Some(&g.org_type));
            r.extend(cells("function", &f.id, f.score, None));
            rows.push(r);
        }
    }
    rows
}

/// The scores of every round of `scope` that has opened, as the actor may see them.
pub fn scores(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    scope: &Scope,
    opts: Options,
    at: NaiveDateTime,
) -> Result<Export, AppError> {
    opts.codes_only("the scores")?;
    let (stem, ops) = operations(conn, actor, scope)?;
    let rounds: Vec<Round> = rounds_of(conn, &ops)?
        .into_iter()
        .filter(|r| matches!(r.effective_state(at), RoundState::Open | RoundState::Closed))
        .collect();
    let mut rows = Vec::new();
    score_each(conn, catalog, &rounds, |round, mut s| {
        withhold_unpublished(round, &mut s);
        if let Some(op) = ops.iter().find(|o| Some(o.id) == round.operation_id) {
            rows.extend(round_rows(op, round, &s, at));
        }
        Ok(())
    })?;
    Ok(Export {
        stem: format!("{stem}-scores"),
        hxl: opts.hxl,
        tables: vec![Table::fixed("scores", score_columns(), rows)],
    })
}

/// The action plans of every round of `scope`, as the actor may see them.
pub fn actions(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    scope: &Scope,
    opts: Options,
    today: NaiveDate,
) -> Result<Export, AppError> {
    opts.codes_only("the action plans")?;
    let (stem, ops) = operations(conn, actor, scope)?;
    let mut rows = Vec::new();
    for round in rounds_of(conn, &ops)? {
        let Some(op) = ops.iter().find(|o| Some(o.id) == round.operation_id) else {
            continue;
        };
        let framework = catalog.framework(&round.framework);
        for a in actions::list_for_round(conn, round.id)? {
            let function = framework
                .and_then(|f| f.function_of(&a.indicator))
                .map(|f| f.id.as_str());
            let mut r = vec![Cell::text(op.slug.clone())];
            r.extend(round_actions::row(&a, function, today));
            rows.push(r);
        }
    }
    let mut cols = vec![Column::new("operation", "#sector+operation")];
    cols.extend(round_actions::columns());
    Ok(Export {
        stem: format!("{stem}-actions"),
        hxl: opts.hxl,
        tables: vec![Table::fixed("actions", cols, rows)],
    })
}
