//! Item scores as they are stored: one row of scores per response, packed by column
//! (a column is a scored question of the survey version the response answered), turned
//! straight into the dense response × question matrix that the point estimates and the
//! bootstrap read — no per-item strings. The result is the same [`Prepared`] that
//! [`super::RoundInput`] with the equivalent [`super::ItemScore`]s gives, so the scores are
//! identical.

use super::{canonical_orgs, indicator_codes, Prepared};
use crate::surveys::model::Framework;
use anyhow::{bail, ensure};
use std::collections::{BTreeMap, HashMap};

/// One column of a layout: the question and its framework indicator (`None`: not scored
/// under the framework, its scores are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedColumn {
    pub question: String,
    pub indicator: Option<String>,
}

/// One round's responses with their item scores packed by column.
///
/// Response `r` has org type `org_types[response_org[r]]` and the scores
/// `scores[offsets[r]..offsets[r + 1]]`, column `c` of which belongs to
/// `layouts[response_layout[r]][c]` (a row may be shorter than its layout: the missing tail
/// has no score). `NaN` marks a column without a score. Responses keep a deterministic
/// order (the bootstrap draws by it), as in [`super::RoundInput`].
#[derive(Debug, Clone)]
pub struct PackedRound<'a> {
    pub framework: &'a Framework,
    pub layouts: Vec<&'a [PackedColumn]>,
    pub org_types: Vec<String>,
    pub response_org: Vec<u32>,
    pub response_layout: Vec<u32>,
    /// `responses + 1` entries, non-decreasing, the last one `scores.len()`.
    pub offsets: Vec<usize>,
    pub scores: Vec<f64>,
    /// Bootstrap seed; use [`super::seed_for_round`].
    pub seed: u64,
}

impl PackedRound<'_> {
    fn row(&self, r: usize) -> &[f64] {
        &self.scores[self.offsets[r]..self.offsets[r + 1]]
    }
}

pub(super) fn prepare(input: &PackedRound) -> anyhow::Result<Prepared> {
    let fw = input.framework;
    let n = input.response_org.len();
    ensure!(
        input.response_layout.len() == n && input.offsets.len() == n + 1,
        "packed round: {n} responses but {} layouts and {} offsets",
        input.response_layout.len(),
        input.offsets.len()
    );
    ensure!(
        input.offsets.windows(2).all(|w| w[0] <= w[1])
            && input.offsets.last() == Some(&input.scores.len()),
        "packed round: offsets do not cover the scores"
    );
    for (r, &l) in input.response_layout.iter().enumerate() {
        let layout = input
            .layouts
            .get(l as usize)
            .ok_or_else(|| anyhow::anyhow!("response {r} refers to layout {l}"))?;
        ensure!(
            input.row(r).len() <= layout.len(),
            "response {r} has more scores than its layout has columns"
        );
        ensure!(
            (input.response_org[r] as usize) < input.org_types.len(),
            "response {r} refers to an unknown org type"
        );
    }

    // Columns that hold at least one score: their questions are the round's questions.
    let mut used: Vec<Vec<bool>> = input.layouts.iter().map(|l| vec![false; l.len()]).collect();
    for r in 0..n {
        let used = &mut used[input.response_layout[r] as usize];
        for (c, v) in input.row(r).iter().enumerate() {
            if !v.is_nan() {
                used[c] = true;
            }
        }
    }
    let (ind_code, ind_function) = indicator_codes(fw)?;
    let mut q_ind: BTreeMap<&str, u32> = BTreeMap::new();
    for (layout, used) in input.layouts.iter().zip(&used) {
        for (col, _) in layout.iter().zip(used).filter(|(_, u)| **u) {
            let Some(indicator) = col.indicator.as_deref() else {
                continue;
            };
            let Some(&ind) = ind_code.get(indicator) else {
                bail!(
                    "question {}: indicator {indicator} is not in framework {}",
                    col.question,
                    fw.id
                );
            };
            match q_ind.insert(col.question.as_str(), ind) {
                Some(prev) if prev != ind => bail!(
                    "question {} is scored under two indicators ({} and {})",
                    col.question,
                    super::indicator_id(fw, prev),
                    indicator
                ),
                _ => {}
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
    // Question code of each column of each layout (`u32::MAX`: not scored).
    let codes: Vec<Vec<u32>> = input
        .layouts
        .iter()
        .map(|layout| {
            layout
                .iter()
                .map(|col| match col.indicator {
                    Some(_) => q_code
                        .get(col.question.as_str())
                        .copied()
                        .unwrap_or(u32::MAX),
                    None => u32::MAX,
                })
                .collect()
        })
        .collect();

    // Each row's scores go straight to their question's column of the matrix.
    let nq = questions.len();
    let mut matrix = vec![f64::NAN; n * nq];
    for r in 0..n {
        let codes = &codes[input.response_layout[r] as usize];
        let out = &mut matrix[r * nq..(r + 1) * nq];
        // The smallest question code this response has two items for.
        let mut twice: Option<u32> = None;
        for (c, &v) in input.row(r).iter().enumerate() {
            let q = codes[c];
            if v.is_nan() || q == u32::MAX {
                continue;
            }
            if !v.is_finite() {
                bail!("response {r}, question {}: score {v} is not a number", {
                    &input.layouts[input.response_layout[r] as usize][c].question
                });
            }
            let cell = &mut out[q as usize];
            if cell.is_nan() {
                *cell = v;
            } else if twice.is_none_or(|t| q < t) {
                twice = Some(q);
            }
        }
        if let Some(q) = twice {
            bail!(
                "response {r} has two item scores for question {}",
                questions[q as usize]
            );
        }
    }
    let names: Vec<&str> = input.org_types.iter().map(String::as_str).collect();
    let (org_types, response_org) = canonical_orgs(&names, &input.response_org);
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
