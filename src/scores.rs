//! A round's scores: loads the round's responses and item scores, hands plain rows to
//! `scoring` (polars), and adds what the scoring core leaves to its caller: response rate,
//! the previous round and the change against it.

use crate::db::models::{self, Operation, Round};
use crate::db::schema::{answers, responses, rounds};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::scoring::{self, ItemScore, ResponseMeta, RoundInput, RoundScores};
use crate::surveys::model::{Catalog, Survey};
use diesel::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;

pub struct RoundResult {
    pub round: Round,
    pub operation: Operation,
    pub scores: RoundScores,
    pub progress: Value,
    /// The previous closed round of the same operation and framework, if any.
    pub previous: Option<(Round, RoundScores)>,
}

/// question name → indicator, for each (survey id, version).
type IndicatorMaps = HashMap<(String, i32), HashMap<String, String>>;

/// question name → indicator, for each (survey, version) answered in the round.
fn indicator_maps(
    conn: &mut DbConnection,
    catalog: &Catalog,
    versions: &[(String, i32)],
) -> Result<IndicatorMaps, AppError> {
    let mut out = HashMap::new();
    for (survey_id, version) in versions {
        let current = catalog
            .survey(survey_id)
            .filter(|s| s.version as i32 == *version)
            .cloned();
        let def: Option<Survey> = match current {
            Some(s) => Some(s),
            None => crate::definitions::stored_version(conn, survey_id, *version as u32)?,
        };
        let map = def
            .map(|s| {
                s.questions
                    .iter()
                    .filter_map(|q| q.indicator.clone().map(|i| (q.name.clone(), i)))
                    .collect()
            })
            .unwrap_or_default();
        out.insert((survey_id.clone(), *version), map);
    }
    Ok(out)
}

/// Scores of one round, without previous-round fields.
pub fn score_only(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round: &Round,
) -> Result<RoundScores, AppError> {
    let framework = catalog.framework(&round.framework).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "framework of round {} is not loaded",
            round.id
        ))
    })?;
    let resp: Vec<(String, String, i32, String)> = responses::table
        .filter(responses::round_id.eq(round.id))
        .order(responses::id)
        .select((
            responses::id,
            responses::survey_id,
            responses::survey_version,
            responses::org_type,
        ))
        .load(conn)?;
    let mut versions: Vec<(String, i32)> = resp.iter().map(|r| (r.1.clone(), r.2)).collect();
    versions.sort();
    versions.dedup();
    let maps = indicator_maps(conn, catalog, &versions)?;
    let index: HashMap<&str, (u32, (String, i32))> = resp
        .iter()
        .enumerate()
        .map(|(i, r)| (r.0.as_str(), (i as u32, (r.1.clone(), r.2))))
        .collect();
    let rows: Vec<(String, String, Option<f64>)> = answers::table
        .inner_join(responses::table)
        .filter(responses::round_id.eq(round.id))
        .filter(answers::score.is_not_null())
        .select((answers::response_id, answers::question, answers::score))
        .load(conn)?;
    let mut items = Vec::with_capacity(rows.len());
    for (rid, question, score) in rows {
        let (Some((i, key)), Some(score)) = (index.get(rid.as_str()), score) else {
            continue;
        };
        if let Some(indicator) = maps.get(key).and_then(|m| m.get(&question)) {
            items.push(ItemScore {
                response: *i,
                question,
                indicator: indicator.clone(),
                score,
            });
        }
    }
    let input = RoundInput {
        framework,
        responses: resp
            .iter()
            .map(|r| ResponseMeta {
                org_type: r.3.clone(),
            })
            .collect(),
        items,
        seed: scoring::seed_for_round(round.id as i64),
    };
    scoring::score_round(&input).map_err(|e| AppError::Internal(e.context("scoring a round")))
}

/// The closed round of the same operation and framework with the latest `closes_at`
/// before this round's.
pub fn previous_round(conn: &mut DbConnection, round: &Round) -> QueryResult<Option<Round>> {
    rounds::table
        .filter(rounds::operation_id.eq(round.operation_id))
        .filter(rounds::framework.eq(&round.framework))
        .filter(rounds::closes_at.lt(round.closes_at))
        .filter(rounds::id.ne(round.id))
        .order(rounds::closes_at.desc())
        .select(Round::as_select())
        .load::<Round>(conn)
        .map(|rs| {
            rs.into_iter()
                .find(|r| r.effective_state(crate::db::now()) == "closed")
        })
}

pub fn compute(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round: Round,
) -> Result<RoundResult, AppError> {
    let operation = models::operation_by_id(conn, round.operation_id)?;
    let mut scores = score_only(conn, catalog, &round)?;
    let previous = match previous_round(conn, &round)? {
        Some(p) => {
            let s = score_only(conn, catalog, &p)?;
            Some((p, s))
        }
        None => None,
    };
    if let Some((_, prev)) = &previous {
        for f in scores.functions.iter_mut() {
            f.previous = prev
                .functions
                .iter()
                .find(|p| p.id == f.id)
                .and_then(|p| p.score);
            f.change = match (f.score, f.previous) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            };
        }
    }
    let progress = crate::rounds::progress(conn, round.id)?;
    Ok(RoundResult {
        round,
        operation,
        scores,
        progress,
        previous,
    })
}

impl RoundResult {
    /// The JSON of `GET /api/v1/rounds/{id}/scores`.
    pub fn to_json(&self) -> Value {
        let state = self.round.effective_state(crate::db::now());
        let mut v = serde_json::to_value(&self.scores).unwrap_or_else(|_| json!({}));
        v["round"] = json!(self.round.id);
        v["operation"] = json!(self.operation.slug);
        v["framework"] = json!(self.round.framework);
        v["state"] = json!(state);
        v["provisional"] = json!(state != "closed");
        v["previous_round"] = json!(self.previous.as_ref().map(|(r, _)| r.id));
        v["response_rate"] = self.progress.clone();
        v
    }
}
