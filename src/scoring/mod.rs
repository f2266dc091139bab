//! Round scores: question, indicator, function and overall scores with statuses, bootstrap
//! intervals and the breakdown by organization type (DESIGN.md, "Scoring").
//!
//! Plain Rust types at the edges: the caller turns stored responses into [`ItemScore`]s
//! (one per scored `select_one` answer whose option has a score — unanswered questions and
//! options without a score are simply not passed in) and gets [`RoundScores`] back, shaped
//! like `GET /api/v1/rounds/{id}/scores` minus the parts the caller fills (`round`,
//! `operation`, `framework`, `response_rate`, and each function's `previous` / `change`).
//!
//! Inside, each round becomes a dense response × question matrix of item scores. One
//! plain-Rust pass over it gives every question's score and every `n`; polars' lazy API
//! aggregates the question scores into the hierarchy of means (a small table, one row per
//! question and group of responses; see `frame.rs`); the bootstrap resamples the rows of the
//! matrix in plain Rust (see `bootstrap.rs`). [`score_rounds`] does the same for many rounds
//! at once (one polars table for all of them, the per-round passes and bootstraps on every
//! core), with results identical to [`score_round`] of each.
//!
//! # The rules, to the letter
//! - question score `Q(q)` = mean of the item scores of `q` over the responses that have one;
//! - indicator score = mean of `Q(q)` over its questions that have a score; function score =
//!   mean of its indicators' scores (those that have one); overall = mean of the functions'
//!   scores (those that have one). Every mean weighs its members equally. Nothing is rounded.
//! - `n` of a question / indicator / function = distinct responses with at least one item
//!   under it; `overall.n` = responses with at least one item.
//! - status: `score > good` → `good`; `> satisfactory` → `satisfactory`;
//!   `> unsatisfactory` → `unsatisfactory`; otherwise `weak`. A score exactly on a threshold
//!   goes to the lower band (75 → `satisfactory`). `n < min_respondents` or no score →
//!   `insufficient_data` (the score is still reported).
//! - `by_org_type`: the same scores computed on the responses of one org type; an org type
//!   with fewer than `min_respondents` responses (all its responses, scored items or not) is
//!   omitted. Org types are listed in the canonical order `un, ingo, nngo, government, rcrc,
//!   donor, academic, other`, any other value after them in byte order.
//! - intervals: bootstrap over responses, see `bootstrap.rs`, [`seed_for_round`] and
//!   `docs/scoring.md` (which an outside tool can follow to get the same numbers).

pub mod aap;
mod bootstrap;
mod csv;
mod frame;
mod packed;
#[cfg(test)]
mod tests;

use crate::surveys::model::Framework;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

pub use self::bootstrap::{percentile, RESAMPLES};
pub use self::csv::{to_csv, CSV_HEADER};
pub use self::packed::{PackedColumn, PackedRound};

/// One present item score: response `response` chose, for the scored question `question`
/// (of indicator `indicator`), an option worth `score` (0–100).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemScore {
    /// Dense index of the response into [`RoundInput::responses`].
    pub response: u32,
    pub question: String,
    pub indicator: String,
    pub score: f64,
}

/// What is kept about a response besides its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    pub org_type: String,
}

/// Everything needed to score one round.
///
/// `responses` lists every response of the round (pooled over its surveys), including those
/// without any scored item: they count in `by_org_type[].n`. Give responses a deterministic
/// index (e.g. in order of their ids): the bootstrap draws by that order. The order of
/// `items` does not matter.
#[derive(Debug, Clone)]
pub struct RoundInput<'a> {
    pub framework: &'a Framework,
    pub responses: Vec<ResponseMeta>,
    pub items: Vec<ItemScore>,
    /// Bootstrap seed; use [`seed_for_round`].
    pub seed: u64,
}

/// The seed of a round's bootstrap: the first 8 bytes, read as a big-endian `u64`, of
/// `SHA-256("clusterpulse:scoring:bootstrap:v1:" + round_id in decimal)`.
/// E.g. round 1 hashes the ASCII string `clusterpulse:scoring:bootstrap:v1:1`.
pub fn seed_for_round(round_id: i64) -> u64 {
    let digest = Sha256::digest(format!("clusterpulse:scoring:bootstrap:v1:{round_id}"));
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

/// A status band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Good,
    Satisfactory,
    Unsatisfactory,
    Weak,
    InsufficientData,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Good,
        Status::Satisfactory,
        Status::Unsatisfactory,
        Status::Weak,
        Status::InsufficientData,
    ];

    /// The band of a score with `n` respondents under a framework's thresholds.
    pub fn classify(score: Option<f64>, n: usize, fw: &Framework) -> Status {
        let t = &fw.thresholds;
        match score {
            None => Status::InsufficientData,
            Some(_) if n < fw.min_respondents as usize => Status::InsufficientData,
            Some(s) if s > t.good => Status::Good,
            Some(s) if s > t.satisfactory => Status::Satisfactory,
            Some(s) if s > t.unsatisfactory => Status::Unsatisfactory,
            Some(_) => Status::Weak,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Good => "good",
            Status::Satisfactory => "satisfactory",
            Status::Unsatisfactory => "unsatisfactory",
            Status::Weak => "weak",
            Status::InsufficientData => "insufficient_data",
        }
    }

    /// The status colour (hex RGB) used by charts and scorecards.
    pub fn colour(self) -> &'static str {
        match self {
            Status::Good => "#1a9850",
            Status::Satisfactory => "#fee08b",
            Status::Unsatisfactory => "#fc8d59",
            Status::Weak => "#d73027",
            Status::InsufficientData => "#bdbdbd",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status name of a score (see [`Status::classify`]).
pub fn status_for(score: Option<f64>, n: usize, fw: &Framework) -> &'static str {
    Status::classify(score, n, fw).as_str()
}

/// Status name → colour, in band order.
pub const STATUS_COLOURS: [(&str, &str); 5] = [
    ("good", "#1a9850"),
    ("satisfactory", "#fee08b"),
    ("unsatisfactory", "#fc8d59"),
    ("weak", "#d73027"),
    ("insufficient_data", "#bdbdbd"),
];

/// The colour of a status name; unknown names get the `insufficient_data` grey.
pub fn colour_for(status: &str) -> &'static str {
    Status::parse(status)
        .unwrap_or(Status::InsufficientData)
        .colour()
}

/// Scores of a round (`GET /api/v1/rounds/{id}/scores` without the caller's fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoundScores {
    pub overall: OverallScore,
    pub functions: Vec<FunctionScore>,
    pub questions: Vec<QuestionScore>,
    pub by_org_type: Vec<OrgTypeScores>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverallScore {
    pub score: Option<f64>,
    pub status: Status,
    pub n: usize,
    pub ci95: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FunctionScore {
    pub id: String,
    pub score: Option<f64>,
    pub status: Status,
    pub n: usize,
    pub ci95: Option<[f64; 2]>,
    /// Filled by the caller: the score in the previous closed round.
    pub previous: Option<f64>,
    /// Filled by the caller: `score − previous`.
    pub change: Option<f64>,
    pub indicators: Vec<IndicatorScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorScore {
    pub id: String,
    pub score: Option<f64>,
    pub status: Status,
    pub n: usize,
}

/// A question with at least one item score (questions without one are not listed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionScore {
    pub name: String,
    pub indicator: String,
    pub score: f64,
    pub n: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgTypeScores {
    pub org_type: String,
    /// Responses of this org type (with or without scored items).
    pub n: usize,
    /// The overall score of these responses.
    pub overall: Option<f64>,
    /// Every function of the framework, in order.
    pub functions: Vec<OrgTypeFunctionScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgTypeFunctionScore {
    pub id: String,
    pub score: Option<f64>,
}

/// The canonical order of organization types.
const ORG_TYPE_ORDER: [&str; 8] = [
    "un",
    "ingo",
    "nngo",
    "government",
    "rcrc",
    "donor",
    "academic",
    "other",
];

/// The input turned into dense integer codes and a dense response × question matrix.
pub(crate) struct Prepared {
    /// Function index of each indicator (indicators numbered in framework order).
    pub ind_function: Vec<u32>,
    /// Question names in byte order; a question's code is its index here.
    pub questions: Vec<String>,
    /// Indicator code of each question.
    pub q_indicator: Vec<u32>,
    /// Org types in canonical order; an org type's code is its index here.
    pub org_types: Vec<String>,
    /// Org-type code of each response.
    pub response_org: Vec<u32>,
    /// The item scores, one row per response (in response order) and one column per
    /// question code; `NaN` where the response has no item for the question.
    pub matrix: Vec<f64>,
    pub n_functions: usize,
}

impl Prepared {
    pub fn n_responses(&self) -> usize {
        self.response_org.len()
    }

    /// The row of response `r` (empty when the round has no question).
    pub fn row(&self, r: usize) -> &[f64] {
        let nq = self.questions.len();
        &self.matrix[r * nq..(r + 1) * nq]
    }
}

fn org_rank(org: &str) -> (usize, &str) {
    let rank = ORG_TYPE_ORDER
        .iter()
        .position(|o| *o == org)
        .unwrap_or(ORG_TYPE_ORDER.len());
    (rank, org)
}

/// Indicator codes (framework order) and the function index of each indicator.
type IndicatorCodes<'a> = (HashMap<&'a str, u32>, Vec<u32>);

fn indicator_codes(fw: &Framework) -> anyhow::Result<IndicatorCodes<'_>> {
    let mut ind_code: HashMap<&str, u32> = HashMap::new();
    let mut ind_function = Vec::new();
    for (fi, f) in fw.functions.iter().enumerate() {
        for ind in &f.indicators {
            if ind_code
                .insert(ind.id.as_str(), ind_function.len() as u32)
                .is_some()
            {
                bail!("framework {}: indicator {} appears twice", fw.id, ind.id);
            }
            ind_function.push(fi as u32);
        }
    }
    Ok((ind_code, ind_function))
}

/// The org types present (codes of `response_org` into `names`) in canonical order, and
/// each response's code into that order.
fn canonical_orgs(names: &[&str], response_org: &[u32]) -> (Vec<String>, Vec<u32>) {
    let mut present = vec![false; names.len()];
    for &o in response_org {
        present[o as usize] = true;
    }
    let mut order: Vec<u32> = (0..names.len() as u32)
        .filter(|&o| present[o as usize])
        .collect();
    order.sort_unstable_by(|&a, &b| org_rank(names[a as usize]).cmp(&org_rank(names[b as usize])));
    let mut remap = vec![0u32; names.len()];
    for (k, &o) in order.iter().enumerate() {
        remap[o as usize] = k as u32;
    }
    (
        order
            .iter()
            .map(|&o| names[o as usize].to_string())
            .collect(),
        response_org.iter().map(|&o| remap[o as usize]).collect(),
    )
}

fn prepare(input: &RoundInput) -> anyhow::Result<Prepared> {
    let fw = input.framework;
    let (ind_code, ind_function) = indicator_codes(fw)?;

    // Questions, pooled by name; each must map to one indicator of the framework.
    let mut q_ind: BTreeMap<&str, u32> = BTreeMap::new();
    for it in &input.items {
        let ind = *ind_code.get(it.indicator.as_str()).with_context(|| {
            format!(
                "question {}: indicator {} is not in framework {}",
                it.question, it.indicator, fw.id
            )
        })?;
        match q_ind.get(it.question.as_str()) {
            Some(&prev) if prev != ind => bail!(
                "question {} is scored under two indicators ({} and {})",
                it.question,
                it.indicator,
                indicator_id(fw, prev)
            ),
            Some(_) => {}
            None => {
                q_ind.insert(it.question.as_str(), ind);
            }
        }
    }
    let questions: Vec<String> = q_ind.keys().map(|q| q.to_string()).collect();
    let q_indicator: Vec<u32> = q_ind.values().copied().collect();
    let q_code: HashMap<&str, u32> = q_ind
        .keys()
        .enumerate()
        .map(|(i, q)| (*q, i as u32))
        .collect();

    let n_responses = input.responses.len();
    for it in &input.items {
        if it.response as usize >= n_responses {
            bail!(
                "item of question {} refers to response {} but the round has {} responses",
                it.question,
                it.response,
                n_responses
            );
        }
        if !it.score.is_finite() {
            bail!(
                "response {}, question {}: score {} is not a number",
                it.response,
                it.question,
                it.score
            );
        }
    }
    let nq = questions.len();
    let mut matrix = vec![f64::NAN; n_responses * nq];
    // The first (response, question) that has two items, as the sorted items would show it.
    let mut twice: Option<(u32, u32)> = None;
    for it in &input.items {
        let q = q_code[it.question.as_str()];
        let cell = &mut matrix[it.response as usize * nq + q as usize];
        if cell.is_nan() {
            *cell = it.score;
        } else if twice.is_none_or(|t| (it.response, q) < t) {
            twice = Some((it.response, q));
        }
    }
    if let Some((r, q)) = twice {
        bail!(
            "response {r} has two item scores for question {}",
            questions[q as usize]
        );
    }

    let mut names: Vec<&str> = Vec::new();
    let mut code: HashMap<&str, u32> = HashMap::new();
    let response_org: Vec<u32> = input
        .responses
        .iter()
        .map(|r| {
            *code.entry(r.org_type.as_str()).or_insert_with(|| {
                names.push(r.org_type.as_str());
                names.len() as u32 - 1
            })
        })
        .collect();
    let (org_types, response_org) = canonical_orgs(&names, &response_org);

    Ok(Prepared {
        ind_function,
        questions,
        q_indicator,
        org_types,
        response_org,
        matrix,
        n_functions: fw.functions.len(),
    })
}

fn indicator_id(fw: &Framework, code: u32) -> &str {
    fw.indicator_ids().nth(code as usize).unwrap_or("?")
}

/// Scores a round: point estimates with polars, intervals by bootstrap.
pub fn score_round(input: &RoundInput) -> anyhow::Result<RoundScores> {
    let mut out = score_rounds(std::slice::from_ref(input))?;
    Ok(out.pop().expect("one round in, one out"))
}

/// Scores many rounds at once, in the order given; each result is identical to
/// [`score_round`] of that input. The hierarchy of means of all the rounds comes from one set
/// of polars queries over one small table (instead of a few queries per round), and the
/// per-round passes over the matrix and the bootstraps run on all available cores, one round
/// at a time per core. Meant for jobs that need every round's scores: give it rounds in
/// batches (a few hundred rounds, or a few hundred thousand items, at a time) to bound memory.
pub fn score_rounds(inputs: &[RoundInput]) -> anyhow::Result<Vec<RoundScores>> {
    let prepared: Vec<Prepared> = inputs.iter().map(prepare).collect::<anyhow::Result<_>>()?;
    let frameworks: Vec<&Framework> = inputs.iter().map(|i| i.framework).collect();
    let seeds: Vec<u64> = inputs.iter().map(|i| i.seed).collect();
    score_prepared(&frameworks, &prepared, &seeds)
}

/// [`score_rounds`] of rounds whose item scores come packed by column (the stored form, see
/// [`PackedRound`]); each result is identical to [`score_round`] of the same items.
pub fn score_packed_rounds(inputs: &[PackedRound]) -> anyhow::Result<Vec<RoundScores>> {
    let prepared: Vec<Prepared> = inputs
        .iter()
        .map(packed::prepare)
        .collect::<anyhow::Result<_>>()?;
    let frameworks: Vec<&Framework> = inputs.iter().map(|i| i.framework).collect();
    let seeds: Vec<u64> = inputs.iter().map(|i| i.seed).collect();
    score_prepared(&frameworks, &prepared, &seeds)
}

fn score_prepared(
    frameworks: &[&Framework],
    prepared: &[Prepared],
    seeds: &[u64],
) -> anyhow::Result<Vec<RoundScores>> {
    // Per round, on every core: the plain-Rust pass over the matrix and the bootstrap.
    let per_round = on_all_cores(prepared.len(), |k| {
        (
            frame::round_stats(&prepared[k]),
            bootstrap::intervals(&prepared[k], seeds[k]),
        )
    });
    let (stats, intervals): (Vec<frame::RoundStats>, Vec<bootstrap::Intervals>) =
        per_round.into_iter().unzip();
    let aggs = frame::aggregate(prepared, stats).context("aggregating item scores")?;
    Ok(frameworks
        .iter()
        .zip(prepared)
        .zip(aggs.iter().zip(intervals))
        .map(|((fw, p), (agg, iv))| assemble(fw, p, agg, iv))
        .collect())
}

/// `f(0..n)` on up to `available_parallelism` threads (each takes the next index when it is
/// done with one), the results in index order.
fn on_all_cores<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, T)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if k >= n {
                            break;
                        }
                        mine.push((k, f(k)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("scoring worker panicked"))
            .collect()
    });
    done.sort_unstable_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, v)| v).collect()
}

fn assemble(
    fw: &Framework,
    p: &Prepared,
    agg: &frame::Aggregates,
    intervals: bootstrap::Intervals,
) -> RoundScores {
    let all = agg.all();

    let mut functions = Vec::with_capacity(fw.functions.len());
    let mut ind_code = 0u32;
    for (fi, f) in fw.functions.iter().enumerate() {
        let fi = fi as u32;
        let mut indicators = Vec::with_capacity(f.indicators.len());
        for ind in &f.indicators {
            let (score, n) = all.indicator(ind_code);
            indicators.push(IndicatorScore {
                id: ind.id.clone(),
                score,
                status: Status::classify(score, n, fw),
                n,
            });
            ind_code += 1;
        }
        let (score, n) = all.function(fi);
        functions.push(FunctionScore {
            id: f.id.clone(),
            score,
            status: Status::classify(score, n, fw),
            n,
            ci95: intervals.functions[fi as usize],
            previous: None,
            change: None,
            indicators,
        });
    }
    let (score, n) = all.overall();
    let overall = OverallScore {
        score,
        status: Status::classify(score, n, fw),
        n,
        ci95: intervals.overall,
    };

    // Framework order of indicators, then question name (question codes are in name order).
    let mut qrows: Vec<(u32, f64, usize)> = all.questions().collect();
    qrows.sort_by_key(|&(q, _, _)| (p.q_indicator[q as usize], q));
    let questions = qrows
        .into_iter()
        .map(|(q, score, n)| QuestionScore {
            name: p.questions[q as usize].clone(),
            indicator: indicator_id(fw, p.q_indicator[q as usize]).to_string(),
            score,
            n,
        })
        .collect();

    let mut org_n = vec![0usize; p.org_types.len()];
    for &o in &p.response_org {
        org_n[o as usize] += 1;
    }
    let by_org_type = p
        .org_types
        .iter()
        .enumerate()
        .filter(|(o, _)| org_n[*o] >= fw.min_respondents as usize)
        .map(|(o, org)| {
            let g = agg.org(o as u32);
            OrgTypeScores {
                org_type: org.clone(),
                n: org_n[o],
                overall: g.overall().0,
                functions: fw
                    .functions
                    .iter()
                    .enumerate()
                    .map(|(fi, f)| OrgTypeFunctionScore {
                        id: f.id.clone(),
                        score: g.function(fi as u32).0,
                    })
                    .collect(),
            }
        })
        .collect();

    RoundScores {
        overall,
        functions,
        questions,
        by_org_type,
    }
}
