//! A round's scores: loads the round's responses and item scores, hands plain rows to
//! `scoring` (polars), and adds what the scoring core leaves to its caller: response rate,
//! the previous round and the change against it.

use crate::db::models::{self, Operation, Round};
use crate::db::packed;
use crate::db::schema::{responses, rounds};
use crate::db::DbConnection;
use crate::domain::response_store;
use crate::kernel::error::AppError;
use crate::kernel::vocab::RoundState;
use crate::scoring::{self, PackedColumn, PackedRound, RoundScores};
use crate::surveys::model::{Catalog, Survey};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

pub struct RoundResult {
    pub round: Round,
    pub operation: Operation,
    pub scores: RoundScores,
    pub progress: crate::domain::rounds::Progress,
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
            None => crate::domain::catalog::stored_version(conn, survey_id, *version as u32)?,
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
    let mut out = None;
    score_each(conn, catalog, std::slice::from_ref(round), |_, s| {
        out = Some(s);
        Ok(())
    })?;
    out.ok_or_else(|| AppError::Internal(anyhow::anyhow!("round {} was not scored", round.id)))
}

/// How many rounds [`score_each`] loads and scores at a time: enough to make the per-query
/// costs (database and polars) small, few enough to keep memory low (about 100 MB for 200
/// rounds of 500 responses).
pub const BATCH_ROUNDS: usize = 200;

/// Where [`score_each`] spent its time.
#[derive(Debug, Default, Clone, Copy)]
pub struct BatchTimings {
    /// Database queries and turning rows into scoring input, on the caller's thread.
    pub load: Duration,
    /// `scoring::score_packed_rounds` (polars and bootstrap), on threads of its own while
    /// the caller loads the next batch.
    pub score: Duration,
    /// How long the caller waited for a batch's scores (scoring not hidden by loading).
    pub wait: Duration,
    /// The callback.
    pub callback: Duration,
}

/// Scores many rounds (without previous-round fields) and hands each result to `f`, in the
/// order given: the path for jobs that need the scores of many rounds (scorecards, trends).
/// Each batch of [`BATCH_ROUNDS`] rounds costs two queries (its responses with their packed
/// scores, their column layouts) and one `scoring::score_packed_rounds` call, instead of a
/// dozen polars queries per round. A batch is scored on another thread while the next one is
/// loaded. Results are identical to [`score_only`] of each round.
pub fn score_each(
    conn: &mut DbConnection,
    catalog: &Catalog,
    rounds: &[Round],
    mut f: impl FnMut(&Round, RoundScores) -> Result<(), AppError>,
) -> Result<BatchTimings, AppError> {
    let mut timings = BatchTimings::default();
    let mut maps = IndicatorMaps::new();
    std::thread::scope(|s| {
        // The batch being scored while the next one loads.
        let mut scoring: Option<(&[Round], ScopedJoinHandle<'_, Scored>)> = None;
        for batch in rounds.chunks(BATCH_ROUNDS) {
            let t = Instant::now();
            let loaded = load_batch(conn, catalog, batch, &mut maps)?;
            timings.load += t.elapsed();
            if let Some((done, handle)) = scoring.take() {
                deliver(done, handle, &mut timings, &mut f)?;
            }
            scoring = Some((batch, s.spawn(move || score_batch(catalog, batch, loaded))));
        }
        if let Some((done, handle)) = scoring.take() {
            deliver(done, handle, &mut timings, &mut f)?;
        }
        Ok(timings)
    })
}

/// The scores of a batch, and how long they took.
type Scored = (Result<Vec<RoundScores>, AppError>, Duration);

fn score_batch(catalog: &Catalog, batch: &[Round], loaded: LoadedBatch) -> Scored {
    let t = Instant::now();
    let LoadedBatch { layouts, rounds } = loaded;
    let scores = packed_inputs(catalog, batch, &layouts, rounds).and_then(|inputs| {
        scoring::score_packed_rounds(&inputs)
            .map_err(|e| AppError::Internal(e.context("scoring rounds")))
    });
    (scores, t.elapsed())
}

/// Waits for a batch's scores and hands them to `f`.
fn deliver(
    batch: &[Round],
    handle: ScopedJoinHandle<'_, Scored>,
    timings: &mut BatchTimings,
    f: &mut impl FnMut(&Round, RoundScores) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let t = Instant::now();
    let (scores, busy) = handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    timings.wait += t.elapsed();
    timings.score += busy;
    let t = Instant::now();
    for (round, s) in batch.iter().zip(scores?) {
        f(round, s)?;
    }
    timings.callback += t.elapsed();
    Ok(())
}

/// A round's responses (in order of their UUIDs) with their packed item scores, as plain
/// vectors (see [`scoring::PackedRound`]).
#[derive(Default)]
struct LoadedRound {
    org_types: Vec<String>,
    response_org: Vec<u32>,
    response_layout: Vec<u32>,
    offsets: Vec<usize>,
    scores: Vec<f64>,
}

/// The rounds of a batch and the column layouts their responses use.
struct LoadedBatch {
    layouts: Vec<Vec<PackedColumn>>,
    rounds: Vec<LoadedRound>,
}

/// The scoring input of each round of a batch: the rounds' vectors moved in, the layouts
/// borrowed.
fn packed_inputs<'a>(
    catalog: &'a Catalog,
    batch: &[Round],
    layouts: &'a [Vec<PackedColumn>],
    rounds: Vec<LoadedRound>,
) -> Result<Vec<PackedRound<'a>>, AppError> {
    let layouts: Vec<&[PackedColumn]> = layouts.iter().map(Vec::as_slice).collect();
    batch
        .iter()
        .zip(rounds)
        .map(|(round, r)| {
            let framework = catalog.framework(&round.framework).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "framework of round {} is not loaded",
                    round.id
                ))
            })?;
            Ok(PackedRound {
                framework,
                layouts: layouts.clone(),
                org_types: r.org_types,
                response_org: r.response_org,
                response_layout: r.response_layout,
                offsets: r.offsets,
                scores: r.scores,
                seed: scoring::seed_for_round(round.id as i64),
            })
        })
        .collect()
}

/// The responses and packed item scores of each round of `batch`, in one read transaction
/// (one snapshot). Just-in-time compilation is switched off for the transaction on
/// PostgreSQL: these are index lookups, and JIT only adds compilation time to them.
fn load_batch(
    conn: &mut DbConnection,
    catalog: &Catalog,
    batch: &[Round],
    maps: &mut IndicatorMaps,
) -> Result<LoadedBatch, AppError> {
    conn.transaction(|conn| {
        if matches!(conn, DbConnection::Postgres(_)) {
            conn.batch_execute("SET LOCAL jit = off")?;
        }
        load_batch_in(conn, catalog, batch, maps)
    })
}

/// round, survey, version, org type, snapshot, packed scores.
type ScoreRow = (i32, String, i32, String, Option<i32>, String);

fn load_batch_in(
    conn: &mut DbConnection,
    catalog: &Catalog,
    batch: &[Round],
    maps: &mut IndicatorMaps,
) -> Result<LoadedBatch, AppError> {
    let ids: Vec<i32> = batch.iter().map(|r| r.id).collect();
    let slot: HashMap<i32, usize> = ids.iter().enumerate().map(|(k, id)| (*id, k)).collect();
    // Open rounds are scored over their published snapshot only (`crate::domain::snapshots`).
    let now = crate::kernel::time::now();
    let open: std::collections::HashSet<i32> = batch
        .iter()
        .filter(|r| r.effective_state(now) != RoundState::Closed)
        .map(|r| r.id)
        .collect();
    // Responses in order of their UUIDs: the order the bootstrap draws by.
    let q = responses::table
        .filter(responses::round_id.eq_any(&ids))
        .order((responses::round_id, responses::uuid))
        .select((
            responses::round_id,
            responses::survey_id,
            responses::survey_version,
            responses::org_type,
            responses::snapshot,
            responses::scores,
        ));
    // On the backend's own connection: spares a conversion per field.
    let rows: Vec<ScoreRow> = match conn {
        DbConnection::Sqlite(c) => q.load(c)?,
        DbConnection::Postgres(c) => q.load(c)?,
    };
    // The (survey, version) pairs answered, without a string per row: there are few.
    let mut versions: Vec<(String, i32)> = Vec::new();
    for (_, survey_id, version, ..) in &rows {
        if !versions.iter().any(|(s, v)| v == version && s == survey_id) {
            versions.push((survey_id.clone(), *version));
        }
    }
    versions.sort();
    let missing: Vec<(String, i32)> = versions
        .iter()
        .filter(|v| !maps.contains_key(*v))
        .cloned()
        .collect();
    maps.extend(indicator_maps(conn, catalog, &missing)?);
    // Each version's columns with their indicators (read per batch: a layout may grow).
    let mut stored = response_store::layouts(conn, &versions)?;
    let layouts: Vec<Vec<PackedColumn>> = versions
        .iter()
        .map(|v| {
            let map = &maps[v];
            stored
                .remove(v)
                .unwrap_or_default()
                .into_iter()
                .map(|question| PackedColumn {
                    indicator: map.get(&question).cloned(),
                    question,
                })
                .collect()
        })
        .collect();

    let mut rounds: Vec<LoadedRound> = batch.iter().map(|_| LoadedRound::default()).collect();
    for (round_id, survey_id, version, org_type, snapshot, scores) in rows {
        if snapshot.is_none() && open.contains(&round_id) {
            continue;
        }
        let Some(&k) = slot.get(&round_id) else {
            continue;
        };
        let r = &mut rounds[k];
        if r.offsets.is_empty() {
            r.offsets.push(0);
        }
        // A round has a handful of org types: a linear search beats hashing each row's.
        let org = match r.org_types.iter().position(|o| *o == org_type) {
            Some(o) => o as u32,
            None => {
                r.org_types.push(org_type);
                r.org_types.len() as u32 - 1
            }
        };
        r.response_org.push(org);
        let l = versions
            .iter()
            .position(|(s, v)| *v == version && *s == survey_id)
            .expect("every answered version has a layout");
        r.response_layout.push(l as u32);
        packed::decode_into(&scores, &mut r.scores).map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "stored scores of a response of round {round_id}: {e}"
            ))
        })?;
        r.offsets.push(r.scores.len());
    }
    for r in &mut rounds {
        if r.offsets.is_empty() {
            r.offsets.push(0);
        }
    }
    Ok(LoadedBatch { layouts, rounds })
}

/// The closed round of the same owner (operation, or global cluster for a service-charter
/// round) and framework with the latest `closes_at`
/// before this round's. "Closed" as in [`Round::effective_state`]: closed by hand, or past
/// its closing time; checked in the query, so only that one round is loaded.
pub fn previous_round(conn: &mut DbConnection, round: &Round) -> QueryResult<Option<Round>> {
    crate::domain::rounds::same_owner(round)
        .filter(rounds::framework.eq(round.framework.clone()))
        .filter(rounds::closes_at.lt(round.closes_at))
        .filter(rounds::id.ne(round.id))
        .filter(
            rounds::state
                .eq(RoundState::Closed.as_str())
                .or(rounds::closes_at.le(crate::kernel::time::now())),
        )
        .order((rounds::closes_at.desc(), rounds::id.desc()))
        .select(Round::as_select())
        .first::<Round>(conn)
        .optional()
}

/// Fills each function's `previous` score and `change` from the previous round's scores.
pub fn compare_with(scores: &mut RoundScores, prev: &RoundScores) {
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

/// What an open round's scores do not show: between two snapshots an org type's group may
/// move by fewer than `min_respondents` responses, so the breakdown waits for the round to
/// close. Every view of scores applies it.
pub fn withhold_unpublished(round: &Round, scores: &mut RoundScores) {
    if round.effective_state(crate::kernel::time::now()) != RoundState::Closed {
        scores.by_org_type.clear();
    }
}

/// Scores a round the actor may read.
pub fn result_for(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &crate::kernel::access::Actor,
    id: i32,
) -> Result<RoundResult, AppError> {
    use crate::domain::rounds::manage::{round_for, Access};
    let (round, _) = round_for(conn, actor, id, Access::Read)?;
    compute(conn, catalog, round)
}

pub fn compute(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round: Round,
) -> Result<RoundResult, AppError> {
    let mut out = compute_many(conn, catalog, vec![round])?;
    out.pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no round was scored")))
}

/// [`compute`] of each round, in the order given, with the scores of all the rounds and of
/// their previous rounds from one [`score_each`] pass (a few large polars queries instead of
/// a dozen small ones per round: what a scorecard of many operations needs).
pub fn compute_many(
    conn: &mut DbConnection,
    catalog: &Catalog,
    rounds: Vec<Round>,
) -> Result<Vec<RoundResult>, AppError> {
    let mut previous = Vec::with_capacity(rounds.len());
    for round in &rounds {
        previous.push(previous_round(conn, round)?);
    }
    let to_score: Vec<Round> = rounds
        .iter()
        .cloned()
        .chain(previous.iter().flatten().cloned())
        .collect();
    let mut scored = Vec::with_capacity(to_score.len());
    score_each(conn, catalog, &to_score, |_, s| {
        scored.push(s);
        Ok(())
    })?;
    let mut prev_scores = scored.split_off(rounds.len()).into_iter();
    let mut out = Vec::with_capacity(rounds.len());
    for ((round, mut scores), previous) in rounds.into_iter().zip(scored).zip(previous) {
        let operation = models::operation_by_id(conn, round.operation()?)?;
        // Between two snapshots an org type's group may move by fewer than
        // `min_respondents` responses: the breakdown waits for the round to close.
        withhold_unpublished(&round, &mut scores);
        let previous = match previous {
            Some(p) => {
                let s = prev_scores.next().ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("previous round {} was not scored", p.id))
                })?;
                Some((p, s))
            }
            None => None,
        };
        if let Some((_, prev)) = &previous {
            compare_with(&mut scores, prev);
        }
        let progress = crate::domain::rounds::progress(conn, &round)?;
        out.push(RoundResult {
            round,
            operation,
            scores,
            progress,
            previous,
        });
    }
    Ok(out)
}

impl RoundResult {
    /// The JSON of `GET /api/v1/rounds/{id}/scores`.
    pub fn view(&self) -> ScoresView {
        let state = self.round.effective_state(crate::kernel::time::now());
        ScoresView {
            scores: self.scores.clone(),
            round: self.round.id,
            operation: self.operation.slug.clone(),
            framework: self.round.framework.clone(),
            state,
            provisional: state != RoundState::Closed,
            previous_round: self.previous.as_ref().map(|(r, _)| r.id),
            response_rate: self.progress.clone(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }
}

/// `GET /api/v1/rounds/{id}/scores`: the round's scores (see DESIGN.md, Scoring) with the
/// round's identity and response rate.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ScoresView {
    #[serde(flatten)]
    pub scores: RoundScores,
    pub round: i32,
    pub operation: String,
    pub framework: String,
    pub state: RoundState,
    /// True until the round is closed: the scores may still change.
    pub provisional: bool,
    /// The previous closed round of the same operation and framework, compared against.
    pub previous_round: Option<i32>,
    pub response_rate: crate::domain::rounds::Progress,
}
