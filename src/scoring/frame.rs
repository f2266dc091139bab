//! The point estimates, with polars' lazy API.
//!
//! One long table holds every present item score (`round, response, org, function,
//! indicator, question, score`) of one round or of many. The same chain of group-bys runs
//! once keyed by `round` and once keyed by (`round`, `org`) (the breakdown by org type):
//!
//! - questions: mean item score and item count per (key, function, indicator, question);
//! - indicators: mean of question scores; functions: mean of indicator scores; overall: mean
//!   of function scores (each from the previous, collected, small table);
//! - `n`: distinct responses per (key, indicator), (key, function) and key.
//!
//! Rows are sorted by (response, question) before the table is built and every group-by keeps
//! the order in which groups first appear, so the sums inside every mean run in the same
//! order whatever the order of the input (and whatever polars' threads do): identical data
//! gives bit-identical scores.

use super::Prepared;
use polars::prelude::{col, len, Column, DataFrame, Expr, IntoLazy, LazyFrame, PolarsResult};
use std::collections::HashMap;

/// Aggregates of one group of responses (the round, or one org type).
#[derive(Debug, Default)]
pub(crate) struct GroupAgg {
    /// (question code, score, n), in no particular order.
    questions: Vec<(u32, f64, usize)>,
    /// indicator code → (score, n)
    indicators: HashMap<u32, (f64, usize)>,
    /// function index → (score, n)
    functions: HashMap<u32, (f64, usize)>,
    overall: Option<(f64, usize)>,
}

impl GroupAgg {
    pub fn indicator(&self, code: u32) -> (Option<f64>, usize) {
        split(self.indicators.get(&code).copied())
    }
    pub fn function(&self, index: u32) -> (Option<f64>, usize) {
        split(self.functions.get(&index).copied())
    }
    pub fn overall(&self) -> (Option<f64>, usize) {
        split(self.overall)
    }
    pub fn questions(&self) -> impl Iterator<Item = (u32, f64, usize)> + '_ {
        self.questions.iter().copied()
    }
}

fn split(v: Option<(f64, usize)>) -> (Option<f64>, usize) {
    match v {
        Some((s, n)) => (Some(s), n),
        None => (None, 0),
    }
}

#[derive(Debug, Default)]
pub(crate) struct Aggregates {
    all: GroupAgg,
    orgs: HashMap<u32, GroupAgg>,
    empty: GroupAgg,
}

impl Aggregates {
    /// The whole round.
    pub fn all(&self) -> &GroupAgg {
        &self.all
    }
    /// One org type (empty when it has no item).
    pub fn org(&self, code: u32) -> &GroupAgg {
        self.orgs.get(&code).unwrap_or(&self.empty)
    }
}

/// The aggregates of each round, in the order given. All rounds go through one long table
/// (with a `round` column) and one chain of group-bys, so scoring many rounds costs a few
/// large polars queries instead of a few small ones per round. Every group-by is keyed by
/// the round first and keeps first-appearance order, so each round's groups, and the sums
/// inside them, come out in the same order as when the round is aggregated alone.
pub(crate) fn aggregate(rounds: &[&Prepared]) -> PolarsResult<Vec<Aggregates>> {
    let mut out: Vec<Aggregates> = rounds.iter().map(|_| Aggregates::default()).collect();
    if rounds.iter().all(|p| p.items.is_empty()) {
        return Ok(out);
    }
    let df = long_frame(rounds)?;
    for ((round, _), g) in by_key(&df, false)? {
        out[round as usize].all = g;
    }
    for ((round, org), g) in by_key(&df, true)? {
        out[round as usize].orgs.insert(org, g);
    }
    Ok(out)
}

fn long_frame(rounds: &[&Prepared]) -> PolarsResult<DataFrame> {
    let n: usize = rounds.iter().map(|p| p.items.len()).sum();
    let mut round = Vec::with_capacity(n);
    let mut response = Vec::with_capacity(n);
    let mut org = Vec::with_capacity(n);
    let mut function = Vec::with_capacity(n);
    let mut indicator = Vec::with_capacity(n);
    let mut question = Vec::with_capacity(n);
    let mut score = Vec::with_capacity(n);
    for (k, p) in rounds.iter().enumerate() {
        for &(r, q, s) in &p.items {
            let ind = p.q_indicator[q as usize];
            round.push(k as u32);
            response.push(r);
            org.push(p.response_org[r as usize]);
            function.push(p.ind_function[ind as usize]);
            indicator.push(ind);
            question.push(q);
            score.push(s);
        }
    }
    DataFrame::new(
        n,
        vec![
            Column::new("round".into(), round),
            Column::new("response".into(), response),
            Column::new("org".into(), org),
            Column::new("function".into(), function),
            Column::new("indicator".into(), indicator),
            Column::new("question".into(), question),
            Column::new("score".into(), score),
        ],
    )
}

/// Aggregates keyed by round (`with_org` false: the org in the returned key is 0) or by
/// (round, org type).
fn by_key(df: &DataFrame, with_org: bool) -> PolarsResult<HashMap<(u32, u32), GroupAgg>> {
    let long: LazyFrame = df.clone().lazy();
    let keys = |level: &[&str]| -> Vec<Expr> {
        let mut k = vec![col("round")];
        if with_org {
            k.push(col("org"));
        }
        k.extend(level.iter().map(|l| col(*l)));
        k
    };

    let questions = long
        .clone()
        .group_by_stable(keys(&["function", "indicator", "question"]))
        .agg([col("score").mean().alias("score"), len().alias("n")])
        .collect()?;
    let indicators = questions
        .clone()
        .lazy()
        .group_by_stable(keys(&["function", "indicator"]))
        .agg([col("score").mean().alias("score")])
        .collect()?;
    let functions = indicators
        .clone()
        .lazy()
        .group_by_stable(keys(&["function"]))
        .agg([col("score").mean().alias("score")])
        .collect()?;
    let overall = functions
        .clone()
        .lazy()
        .group_by_stable(keys(&[]))
        .agg([col("score").mean().alias("score")])
        .collect()?;
    let distinct = |level: &[&str]| -> PolarsResult<DataFrame> {
        long.clone()
            .group_by_stable(keys(level))
            .agg([col("response").n_unique().alias("n")])
            .collect()
    };
    let indicator_n = distinct(&["indicator"])?;
    let function_n = distinct(&["function"])?;
    let overall_n = distinct(&[])?;

    // The (round, org) key of every row of an aggregate.
    let group_keys = |df: &DataFrame| -> PolarsResult<Vec<(u32, u32)>> {
        let r = u32s(df, "round")?;
        Ok(if with_org {
            r.into_iter().zip(u32s(df, "org")?).collect()
        } else {
            r.into_iter().map(|r| (r, 0)).collect()
        })
    };

    let mut groups: HashMap<(u32, u32), GroupAgg> = HashMap::new();

    let (g, q) = (group_keys(&questions)?, u32s(&questions, "question")?);
    let (s, n) = (f64s(&questions, "score")?, idxs(&questions, "n")?);
    for i in 0..g.len() {
        groups
            .entry(g[i])
            .or_default()
            .questions
            .push((q[i], s[i], n[i]));
    }

    type LevelN = HashMap<((u32, u32), u32), usize>;
    let level_n = |df: &DataFrame, level: &str| -> PolarsResult<LevelN> {
        let (g, l, n) = (group_keys(df)?, u32s(df, level)?, idxs(df, "n")?);
        Ok((0..g.len()).map(|i| ((g[i], l[i]), n[i])).collect())
    };
    let ind_n = level_n(&indicator_n, "indicator")?;
    let (g, l, s) = (
        group_keys(&indicators)?,
        u32s(&indicators, "indicator")?,
        f64s(&indicators, "score")?,
    );
    for i in 0..g.len() {
        let n = ind_n.get(&(g[i], l[i])).copied().unwrap_or(0);
        groups
            .entry(g[i])
            .or_default()
            .indicators
            .insert(l[i], (s[i], n));
    }

    let fun_n = level_n(&function_n, "function")?;
    let (g, l, s) = (
        group_keys(&functions)?,
        u32s(&functions, "function")?,
        f64s(&functions, "score")?,
    );
    for i in 0..g.len() {
        let n = fun_n.get(&(g[i], l[i])).copied().unwrap_or(0);
        groups
            .entry(g[i])
            .or_default()
            .functions
            .insert(l[i], (s[i], n));
    }

    let all_n: HashMap<(u32, u32), usize> = {
        let (g, n) = (group_keys(&overall_n)?, idxs(&overall_n, "n")?);
        g.into_iter().zip(n).collect()
    };
    let (g, s) = (group_keys(&overall)?, f64s(&overall, "score")?);
    for i in 0..g.len() {
        let n = all_n.get(&g[i]).copied().unwrap_or(0);
        groups.entry(g[i]).or_default().overall = Some((s[i], n));
    }
    Ok(groups)
}

fn u32s(df: &DataFrame, name: &str) -> PolarsResult<Vec<u32>> {
    Ok(df.column(name)?.u32()?.into_no_null_iter().collect())
}

fn idxs(df: &DataFrame, name: &str) -> PolarsResult<Vec<usize>> {
    Ok(df
        .column(name)?
        .idx()?
        .into_no_null_iter()
        .map(|v| v as usize)
        .collect())
}

fn f64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    Ok(df.column(name)?.f64()?.into_no_null_iter().collect())
}
