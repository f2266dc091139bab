//! 95% bootstrap intervals for every function score and the overall score.
//!
//! - **Population.** The responses with at least one present item score (the `overall.n`
//!   responses), in ascending order of their response index. Responses without any item are
//!   left out: they carry no score, and drawing them would only shrink the effective sample.
//! - **Resamples.** [`RESAMPLES`] (1,000) resamples, each of `N` draws with replacement from
//!   those `N` responses. Each resample recomputes the scores with the same hierarchy of means
//!   as the point estimates (question = mean over its drawn items, counting a response drawn
//!   k times k times: with `k_r` the number of times population member `r` was drawn, the
//!   question's sum is `Σ_r k_r·s(r,q)` and its count `Σ_r k_r` over the members with an
//!   item for it, each accumulated in population order; indicator = mean of its questions that have a score; function = mean of
//!   its indicators that have one; overall = mean of the functions that have one).
//! - **Random numbers.** ChaCha20 (`rand_chacha::ChaCha20Rng`, stream 0) keyed with the
//!   32 bytes `seed.to_le_bytes()` followed by 24 zero bytes, where `seed` is
//!   [`seed_for_round`](super::seed_for_round)`(round id)`. Draw `k` of a resample takes the
//!   next 64-bit output `x` (`next_u64`, i.e. two consecutive 32-bit words, low word first)
//!   and picks the response at position `floor(x · N / 2^64)` of the population (the
//!   multiply-shift reduction; its bias, below `N / 2^64`, is negligible). Resamples are
//!   drawn one after the other from the one stream. All of this is integer arithmetic,
//!   identical on every platform.
//! - **Interval.** For each function (and overall), the values of the resamples in which it
//!   has a score (a function can lose all its data in a resample when few responses cover
//!   it) are sorted and the 2.5th and 97.5th [`percentile`]s taken, linear interpolation
//!   between order statistics (numpy's default `linear` method). No data at all → no
//!   interval (`null`).
//! - **Cost.** One pass builds a dense `N × Q` matrix of item scores and presence flags;
//!   a resample draws `N` positions into a vector of counts `k`, then adds `k_r ×` row `r`
//!   for the ~63% of rows drawn at least once: about `1.3·N·Q·1000` multiply-adds per round
//!   (40 million for 1,000 responses × 30 questions), which vectorise well.

use super::Prepared;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// Number of bootstrap resamples.
pub const RESAMPLES: usize = 1000;

pub(crate) struct Intervals {
    /// One per function of the framework, in order.
    pub functions: Vec<Option<[f64; 2]>>,
    pub overall: Option<[f64; 2]>,
}

/// The `p`-quantile (0 ≤ p ≤ 1) of ascending `sorted` values by linear interpolation between
/// order statistics: with `h = (m − 1)·p`, `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`
/// (numpy's default). `None` when `sorted` is empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let m = sorted.len();
    if m == 0 {
        return None;
    }
    let h = (m - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(m - 1);
    let frac = h - lo as f64;
    Some(sorted[lo] + frac * (sorted[hi] - sorted[lo]))
}

fn interval(mut values: Vec<f64>) -> Option<[f64; 2]> {
    values.sort_by(f64::total_cmp);
    Some([percentile(&values, 0.025)?, percentile(&values, 0.975)?])
}

/// The ChaCha20 generator of a seed (see the module documentation).
fn rng_for(seed: u64) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    ChaCha20Rng::from_seed(key)
}

#[inline]
fn draw(rng: &mut ChaCha20Rng, n: usize) -> usize {
    ((rng.next_u64() as u128 * n as u128) >> 64) as usize
}

pub(crate) fn intervals(p: &Prepared, seed: u64) -> Intervals {
    let nf = p.n_functions;
    let nq = p.questions.len();
    let width = 2 * nq;

    // Dense rows of the responding population: [scores of q0..qQ, presence of q0..qQ].
    let mut rows: Vec<f64> = Vec::new();
    let mut last: Option<u32> = None;
    for &(r, q, s) in &p.items {
        if last != Some(r) {
            rows.resize(rows.len() + width, 0.0);
            last = Some(r);
        }
        let base = rows.len() - width;
        rows[base + q as usize] = s;
        rows[base + nq + q as usize] = 1.0;
    }
    let n = rows.len().checked_div(width).unwrap_or(0);
    if n == 0 {
        return Intervals {
            functions: vec![None; nf],
            overall: None,
        };
    }

    let n_ind = p.ind_function.len();
    let mut ind_questions: Vec<Vec<usize>> = vec![Vec::new(); n_ind];
    for (q, &i) in p.q_indicator.iter().enumerate() {
        ind_questions[i as usize].push(q);
    }
    let mut fn_indicators: Vec<Vec<usize>> = vec![Vec::new(); nf];
    for (i, &f) in p.ind_function.iter().enumerate() {
        if !ind_questions[i].is_empty() {
            fn_indicators[f as usize].push(i);
        }
    }

    let mut rng = rng_for(seed);
    let mut times_drawn = vec![0u32; n];
    let mut acc = vec![0.0f64; width];
    let mut ind_score: Vec<Option<f64>> = vec![None; n_ind];
    let mut fn_values: Vec<Vec<f64>> = vec![Vec::with_capacity(RESAMPLES); nf];
    let mut overall_values: Vec<f64> = Vec::with_capacity(RESAMPLES);

    for _ in 0..RESAMPLES {
        times_drawn.fill(0);
        for _ in 0..n {
            times_drawn[draw(&mut rng, n)] += 1;
        }
        // Σ_r k_r · row_r in population order (Rust never fuses the multiply-add, so this
        // is the same on every platform).
        acc.fill(0.0);
        for (row, &k) in rows.chunks_exact(width).zip(&times_drawn) {
            if k == 0 {
                continue;
            }
            let k = f64::from(k);
            for (a, v) in acc.iter_mut().zip(row) {
                *a += k * *v;
            }
        }
        let (sums, counts) = acc.split_at(nq);
        for (i, qs) in ind_questions.iter().enumerate() {
            ind_score[i] = mean(
                qs.iter()
                    .filter(|&&q| counts[q] > 0.0)
                    .map(|&q| sums[q] / counts[q]),
            );
        }
        let mut overall = (0.0, 0usize);
        for (f, inds) in fn_indicators.iter().enumerate() {
            if let Some(fs) = mean(inds.iter().filter_map(|&i| ind_score[i])) {
                fn_values[f].push(fs);
                overall.0 += fs;
                overall.1 += 1;
            }
        }
        if overall.1 > 0 {
            overall_values.push(overall.0 / overall.1 as f64);
        }
    }

    Intervals {
        functions: fn_values.into_iter().map(interval).collect(),
        overall: interval(overall_values),
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, c) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (c > 0).then(|| s / c as f64)
}
