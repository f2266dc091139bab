//! The scores of a service-charter round: the CCPM maths over the round's responses
//! (`domain::scores::score_each`, open rounds through their snapshots), the trend against
//! the cluster's previous closed charter round, and the charter's own anonymity rule.
//!
//! The unit of anonymity is the country cluster: there are few of them, and each answer is
//! its coordinator's. So there is no breakdown at all (every response carries the org type
//! `other`; nothing records the operation), and every score, interval and question score
//! that rests on fewer than `min_respondents` responses is withheld (`null`), not only
//! marked `insufficient_data`.

use crate::db::models::{Cluster, Round};
use crate::db::schema::rounds;
use crate::db::DbConnection;
use crate::domain::rounds::Progress;
use crate::domain::scores::{compare_with, previous_round, score_each};
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::kernel::vocab::RoundState;
use crate::scoring::{FunctionScore, OverallScore, QuestionScore, RoundScores};
use crate::surveys::model::Catalog;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub struct CharterResult {
    pub round: Round,
    pub cluster: Cluster,
    pub scores: RoundScores,
    /// Invited and responded (no breakdown).
    pub progress: Progress,
    pub previous: Option<Round>,
    pub min_respondents: usize,
}

/// Withholds what could single out a country cluster: the breakdown, and every score
/// resting on fewer than `min` responses.
pub fn suppress(s: &mut RoundScores, min: usize) {
    s.by_org_type.clear();
    if s.overall.n < min {
        s.overall.score = None;
        s.overall.ci95 = None;
    }
    for f in s.functions.iter_mut() {
        if f.n < min {
            f.score = None;
            f.ci95 = None;
        }
        for i in f.indicators.iter_mut() {
            if i.n < min {
                i.score = None;
            }
        }
    }
    s.questions.retain(|q| q.n >= min);
}

/// Scores a charter round (and its previous round, for the trend).
pub fn compute(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round: Round,
    cluster: Cluster,
) -> Result<CharterResult, AppError> {
    let previous = previous_round(conn, &round)?;
    let list: Vec<Round> = std::iter::once(round.clone())
        .chain(previous.clone())
        .collect();
    let mut scored = Vec::with_capacity(list.len());
    score_each(conn, catalog, &list, |_, s| {
        scored.push(s);
        Ok(())
    })?;
    let min_respondents = catalog
        .framework(&round.framework)
        .map_or(3, |f| f.min_respondents as usize);
    let mut it = scored.into_iter();
    let mut scores = it
        .next()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("round {} was not scored", round.id)))?;
    suppress(&mut scores, min_respondents);
    if let Some(mut prev) = it.next() {
        suppress(&mut prev, min_respondents);
        compare_with(&mut scores, &prev);
    }
    let mut progress = crate::domain::rounds::progress(conn, &round)?;
    progress.by_org_type = None;
    Ok(CharterResult {
        round,
        cluster,
        scores,
        progress,
        previous,
        min_respondents,
    })
}

/// The scores of a charter round the actor may read.
pub fn result_for(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &crate::kernel::access::Actor,
    id: i32,
) -> Result<CharterResult, AppError> {
    let (round, cluster) = super::round_for(conn, actor, id, false)?;
    compute(conn, catalog, round, cluster)
}

/// The cluster's latest charter round closed by `at`, scored (what its leads see in the
/// scorecard and on the report page).
pub fn latest_closed(
    conn: &mut DbConnection,
    catalog: &Catalog,
    cluster: &Cluster,
    at: NaiveDateTime,
) -> Result<Option<CharterResult>, AppError> {
    let latest = rounds::table
        .filter(rounds::cluster_id.eq(cluster.id))
        .filter(rounds::closes_at.le(at).or(rounds::closed_at.le(at)))
        .order((rounds::closes_at.desc(), rounds::id.desc()))
        .select(Round::as_select())
        .load::<Round>(conn)?
        .into_iter()
        .find(|r| {
            r.effective_state(at) == RoundState::Closed && catalog.framework(&r.framework).is_some()
        });
    match latest {
        Some(r) => Ok(Some(compute(conn, catalog, r, cluster.clone())?)),
        None => Ok(None),
    }
}

impl CharterResult {
    pub fn view(&self) -> CharterScoresView {
        let state = self.round.effective_state(now());
        CharterScoresView {
            round: self.round.id,
            cluster: self.cluster.code.clone(),
            framework: self.round.framework.clone(),
            title: self.round.title.clone(),
            state,
            provisional: state != RoundState::Closed,
            min_respondents: self.min_respondents,
            response_rate: self.progress.clone(),
            overall: self.scores.overall.clone(),
            functions: self.scores.functions.clone(),
            questions: self.scores.questions.clone(),
            previous_round: self.previous.as_ref().map(|r| r.id),
        }
    }
}

/// `GET /api/v1/charter-rounds/{id}/scores`: how the country clusters rate their global
/// cluster, pooled; no breakdown, and no score on fewer than `min_respondents` responses.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CharterScoresView {
    pub round: i32,
    /// The global cluster's code.
    pub cluster: String,
    pub framework: String,
    pub title: String,
    pub state: RoundState,
    /// True until the round is closed (open rounds show published snapshots only).
    pub provisional: bool,
    /// Scores resting on fewer responses are withheld.
    pub min_respondents: usize,
    pub response_rate: Progress,
    pub overall: OverallScore,
    /// Each commitment, with its indicators and the change against the previous round.
    pub functions: Vec<FunctionScore>,
    pub questions: Vec<QuestionScore>,
    /// The cluster's previous closed charter round, compared against.
    pub previous_round: Option<i32>,
}

/// What the charter report page shows: the cluster, its charter rounds (newest first) and
/// the scores of the one asked for, else of the latest closed one.
pub struct CharterReport {
    pub cluster: Cluster,
    pub rounds: Vec<Round>,
    pub result: Option<CharterResult>,
}

pub fn report(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &crate::kernel::access::Actor,
    code: &str,
    round: Option<i32>,
) -> Result<CharterReport, AppError> {
    let (cluster, rounds) = super::rounds_of(conn, actor, code)?;
    let result = match round {
        Some(id) => {
            let r = rounds.iter().find(|r| r.id == id).cloned().ok_or_else(|| {
                AppError::not_found(format!("no service-charter round {id} of this cluster"))
            })?;
            Some(compute(conn, catalog, r, cluster.clone())?)
        }
        None => latest_closed(conn, catalog, &cluster, now())?,
    };
    Ok(CharterReport {
        cluster,
        rounds,
        result,
    })
}
