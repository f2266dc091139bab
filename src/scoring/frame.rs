//! The point estimates: plain Rust over each round's dense response × question matrix for
//! the questions and every `n`, polars' lazy API for the hierarchy of means above the
//! questions.
//!
//! The groups of responses of a round are the round itself (group 0) and each org type
//! (group `1 + code`, the breakdown by org type).
//!
//! - **Questions and `n` (plain Rust, [`round_stats`]).** One pass over the rows of the
//!   matrix, in response order, keeps for each (group, question) the number of items, the
//!   first response that has one, and the sum of the items, compensated (Kahan summation)
//!   and taken in response order. A question's score is that sum divided by the count (the
//!   item itself when there is one): exactly what polars' grouped `mean` computes from the
//!   same items in the same order. The same pass counts `n`: a response adds 1 to every
//!   indicator and function under which it has an item, and to `overall.n` when it has any
//!   item, both in its org type's group and in the round's.
//! - **The hierarchy (polars, [`aggregate`]).** One small table for all the rounds given,
//!   one row per (round, group, question with a score): `round, group, function, indicator,
//!   score` — about 30 rows per group instead of one row per item. Within a group, questions
//!   come in order of first appearance (the first response with an item for them, then the
//!   question code). Then group-bys that keep first-appearance order: mean of question scores
//!   per (round, group, function, indicator) → indicator scores; mean of those per (round,
//!   group, function) → function scores; mean of those per (round, group) → overall.
//!
//! Every mean adds its members in an order fixed by the data (first appearance), whatever
//! the order of the input and whatever polars' threads do, so identical data gives
//! bit-identical scores, and a round scored alone gets the same numbers as in a batch. The
//! orders and the sums are the ones the earlier design (one polars table with a row per
//! item, sorted by response and question) used, so the scores did not move.

use super::Prepared;
use polars::prelude::{col, Column, DataFrame, Expr, IntoLazy, PolarsResult};

/// Aggregates of one group of responses (the round, or one org type).
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupAgg {
    /// (question code, score, n) of the questions with at least one item.
    questions: Vec<(u32, f64, usize)>,
    /// (score, n) of each indicator (by code).
    indicators: Vec<(Option<f64>, usize)>,
    /// (score, n) of each function (by index).
    functions: Vec<(Option<f64>, usize)>,
    overall: (Option<f64>, usize),
}

impl GroupAgg {
    pub fn indicator(&self, code: u32) -> (Option<f64>, usize) {
        self.indicators
            .get(code as usize)
            .copied()
            .unwrap_or((None, 0))
    }
    pub fn function(&self, index: u32) -> (Option<f64>, usize) {
        self.functions
            .get(index as usize)
            .copied()
            .unwrap_or((None, 0))
    }
    pub fn overall(&self) -> (Option<f64>, usize) {
        self.overall
    }
    pub fn questions(&self) -> impl Iterator<Item = (u32, f64, usize)> + '_ {
        self.questions.iter().copied()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Aggregates {
    /// Group 0 is the round, group `1 + o` org type `o`.
    groups: Vec<GroupAgg>,
    empty: GroupAgg,
}

impl Aggregates {
    /// The whole round.
    pub fn all(&self) -> &GroupAgg {
        self.groups.first().unwrap_or(&self.empty)
    }
    /// One org type (empty when it has no item).
    pub fn org(&self, code: u32) -> &GroupAgg {
        self.groups.get(1 + code as usize).unwrap_or(&self.empty)
    }
}

/// What the plain-Rust pass keeps of one round: the question scores and the `n`s of each
/// group (see the module documentation).
pub(crate) struct RoundStats {
    groups: Vec<GroupAgg>,
}

/// The running totals of one question within one group.
#[derive(Clone, Copy)]
struct QuestionTotals {
    /// Kahan sum of the items: the sum and the running compensation.
    sum: f64,
    compensation: f64,
    count: usize,
    first_response: usize,
    first_item: f64,
}

impl QuestionTotals {
    const NONE: QuestionTotals = QuestionTotals {
        sum: 0.0,
        compensation: 0.0,
        count: 0,
        first_response: usize::MAX,
        first_item: 0.0,
    };

    #[inline(always)]
    fn add(&mut self, item: f64, response: usize) {
        if self.count == 0 {
            self.first_response = response;
            self.first_item = item;
        }
        self.count += 1;
        let y = item - self.compensation;
        let sum = self.sum + y;
        let compensation = (sum - self.sum) - y;
        self.sum = sum;
        // A compensation that overflowed is dropped rather than turning the sum into NaN.
        if compensation.is_finite() {
            self.compensation = compensation;
        }
    }

    fn score(&self) -> f64 {
        if self.count == 1 {
            self.first_item
        } else {
            self.sum / self.count as f64
        }
    }
}

/// One pass over a round's matrix: each group's question scores (in first-appearance order)
/// and the `n` of every indicator, function and overall.
pub(crate) fn round_stats(p: &Prepared) -> RoundStats {
    let nq = p.questions.len();
    let (ni, nf) = (p.ind_function.len(), p.n_functions);
    let ng = 1 + p.org_types.len();
    let mut totals = vec![QuestionTotals::NONE; ng * nq];
    let mut groups: Vec<GroupAgg> = (0..ng)
        .map(|_| GroupAgg {
            questions: Vec::new(),
            indicators: vec![(None, 0); ni],
            functions: vec![(None, 0); nf],
            overall: (None, 0),
        })
        .collect();
    // The last response counted under each indicator and each function.
    let mut ind_seen = vec![usize::MAX; ni];
    let mut fn_seen = vec![usize::MAX; nf];
    if nq > 0 {
        for (r, row) in p.matrix.chunks_exact(nq).enumerate() {
            let g = 1 + p.response_org[r] as usize;
            let mut any = false;
            for (q, &v) in row.iter().enumerate() {
                if v.is_nan() {
                    continue;
                }
                any = true;
                totals[q].add(v, r);
                totals[g * nq + q].add(v, r);
                let i = p.q_indicator[q] as usize;
                if ind_seen[i] != r {
                    ind_seen[i] = r;
                    groups[0].indicators[i].1 += 1;
                    groups[g].indicators[i].1 += 1;
                    let f = p.ind_function[i] as usize;
                    if fn_seen[f] != r {
                        fn_seen[f] = r;
                        groups[0].functions[f].1 += 1;
                        groups[g].functions[f].1 += 1;
                    }
                }
            }
            if any {
                groups[0].overall.1 += 1;
                groups[g].overall.1 += 1;
            }
        }
    }
    for (g, group) in groups.iter_mut().enumerate() {
        let totals = &totals[g * nq..(g + 1) * nq];
        let mut present: Vec<usize> = (0..nq).filter(|&q| totals[q].count > 0).collect();
        present.sort_unstable_by_key(|&q| (totals[q].first_response, q));
        group.questions = present
            .into_iter()
            .map(|q| (q as u32, totals[q].score(), totals[q].count))
            .collect();
    }
    RoundStats { groups }
}

/// The aggregates of each round, in the order given, from their [`round_stats`]: the
/// hierarchy of means of all the rounds in one small polars table and three group-bys.
pub(crate) fn aggregate(
    rounds: &[Prepared],
    stats: Vec<RoundStats>,
) -> PolarsResult<Vec<Aggregates>> {
    let rows: usize = stats
        .iter()
        .flat_map(|s| &s.groups)
        .map(|g| g.questions.len())
        .sum();
    let mut out: Vec<Aggregates> = stats
        .into_iter()
        .map(|s| Aggregates {
            groups: s.groups,
            empty: GroupAgg::default(),
        })
        .collect();
    if rows == 0 {
        return Ok(out);
    }

    let mut round = Vec::with_capacity(rows);
    let mut group = Vec::with_capacity(rows);
    let mut function = Vec::with_capacity(rows);
    let mut indicator = Vec::with_capacity(rows);
    let mut score = Vec::with_capacity(rows);
    for (k, (p, a)) in rounds.iter().zip(&out).enumerate() {
        for (g, ga) in a.groups.iter().enumerate() {
            for &(q, s, _) in &ga.questions {
                let ind = p.q_indicator[q as usize];
                round.push(k as u32);
                group.push(g as u32);
                function.push(p.ind_function[ind as usize]);
                indicator.push(ind);
                score.push(s);
            }
        }
    }
    let questions = DataFrame::new(
        rows,
        vec![
            Column::new("round".into(), round),
            Column::new("group".into(), group),
            Column::new("function".into(), function),
            Column::new("indicator".into(), indicator),
            Column::new("score".into(), score),
        ],
    )?;

    let keys = |level: &[&str]| -> Vec<Expr> {
        ["round", "group"]
            .iter()
            .chain(level)
            .map(|k| col(*k))
            .collect()
    };
    let mean_by = |df: DataFrame, level: &[&str]| -> PolarsResult<DataFrame> {
        df.lazy()
            .group_by_stable(keys(level))
            .agg([col("score").mean().alias("score")])
            .collect()
    };
    let indicators = mean_by(questions, &["function", "indicator"])?;
    let functions = mean_by(indicators.clone(), &["function"])?;
    let overall = mean_by(functions.clone(), &[])?;

    let (r, g, i, s) = (
        u32s(&indicators, "round")?,
        u32s(&indicators, "group")?,
        u32s(&indicators, "indicator")?,
        f64s(&indicators, "score")?,
    );
    for k in 0..r.len() {
        out[r[k] as usize].groups[g[k] as usize].indicators[i[k] as usize].0 = Some(s[k]);
    }
    let (r, g, f, s) = (
        u32s(&functions, "round")?,
        u32s(&functions, "group")?,
        u32s(&functions, "function")?,
        f64s(&functions, "score")?,
    );
    for k in 0..r.len() {
        out[r[k] as usize].groups[g[k] as usize].functions[f[k] as usize].0 = Some(s[k]);
    }
    let (r, g, s) = (
        u32s(&overall, "round")?,
        u32s(&overall, "group")?,
        f64s(&overall, "score")?,
    );
    for k in 0..r.len() {
        out[r[k] as usize].groups[g[k] as usize].overall.0 = Some(s[k]);
    }
    Ok(out)
}

fn u32s(df: &DataFrame, name: &str) -> PolarsResult<Vec<u32>> {
    Ok(df.column(name)?.u32()?.into_no_null_iter().collect())
}

fn f64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    Ok(df.column(name)?.f64()?.into_no_null_iter().collect())
}
