//! 95% bootstrap intervals for every function score and the overall score.
//!
//! - **Population.** The responses with at least one present item score (the `overall.n`
//!   responses), in ascending order of their response index. Responses without any item are
//!   left out: they carry no score, and drawing them would only shrink the effective sample.
//! - **Resamples.** [`RESAMPLES`] (1,000) resamples, each of `N` draws with replacement from
//!   those `N` responses. With `k_r` the number of times population member `r` was drawn in a
//!   resample, each question's resampled sum is `Σ_r k_r·s(r,q)` and its count `Σ_r k_r`,
//!   both over the members with an item for it, accumulated in population order: one row of
//!   the matrix product `K · [S | P]` of the resample counts (`1000 × N`) with the
//!   per-response item scores `S` and presence flags `P` (`N × Q` each). From there the same
//!   hierarchy of means as the point estimates: question = sum / count; indicator = mean of
//!   its questions that have a count; function = mean of its indicators that have one;
//!   overall = mean of the functions that have one.
//! - **Random numbers.** SplitMix64 (Steele, Lea and Flood's generator, the one Java's
//!   `SplittableRandom` and the xoshiro authors' seeding use): a 64-bit state starting at
//!   `seed` = [`seed_for_round`](super::seed_for_round)`(round id)`; each output adds
//!   `0x9E3779B97F4A7C15` to the state (wrapping) and returns it mixed:
//!   `z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB;
//!   z ^= z >> 31` (wrapping multiplications). Draw `k` of a resample takes the next output
//!   `x` and picks the response at position `floor(x · N / 2^64)` of the population (the
//!   multiply-shift reduction; its bias, below `N / 2^64`, is negligible). Resamples are
//!   drawn one after the other from the one stream. Integer arithmetic only: the same
//!   numbers on every platform.
//! - **Interval.** For each function (and overall), the values of the resamples in which it
//!   has a score (a function can lose all its data in a resample when few responses cover
//!   it) and the 2.5th and 97.5th [`percentile`]s of them, linear interpolation between
//!   order statistics (numpy's default `linear` method). No data at all → no interval
//!   (`null`).
//!
//! # Cost, and why it is exact
//!
//! Item scores are nearly always whole numbers (option scores such as 0, 25, …, 100) or
//! fractions with a power-of-two denominator (12.5). Then every product `k_r·s(r,q)` and every
//! partial sum is an integer multiple of `2^-e` far below `2^53`, so the floating-point sums
//! above are exact, in any order. That case ([`Scaled`]) keeps the rows as 32-bit integers
//! (scores times `2^e`), and a resample adds the row of each of its `N` draws as it is drawn,
//! with no count vector and no multiplication: `N × 2Q` integer additions that vectorise, then
//! one exact conversion back. The sums are bit-identical to the floating-point definition.
//!
//! Any other scores (e.g. sixths of 100) take the floating-point path ([`Float`]): counts
//! `k` first, then `Σ k_r · row_r` over the rows drawn at least once, in population order,
//! a separate multiply and add per term (Rust never fuses them), so again the same result on
//! every platform.
//!
//! The percentiles need only four order statistics per function; they are found by selection
//! (`select_nth_unstable`), which gives the same values as sorting.

use super::Prepared;

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
    let (lo, hi, frac) = positions(m, p);
    Some(sorted[lo] + frac * (sorted[hi] - sorted[lo]))
}

/// The two order statistics (0-based) and the weight of the upper one for the `p`-quantile
/// of `m ≥ 1` values.
fn positions(m: usize, p: f64) -> (usize, usize, f64) {
    let h = (m - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    (lo, (lo + 1).min(m - 1), h - lo as f64)
}

/// The `p`-quantile of unsorted `values`, as [`percentile`] of them sorted, by selection.
fn quantile(values: &mut [f64], p: f64) -> f64 {
    let (lo, hi, frac) = positions(values.len(), p);
    let (_, &mut x_lo, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let x_hi = if hi == lo {
        x_lo
    } else {
        // The next order statistic is the smallest value above position `lo`.
        above.iter().copied().min_by(f64::total_cmp).unwrap_or(x_lo)
    };
    x_lo + frac * (x_hi - x_lo)
}

fn interval(mut values: Vec<f64>) -> Option<[f64; 2]> {
    if values.is_empty() {
        return None;
    }
    Some([quantile(&mut values, 0.025), quantile(&mut values, 0.975)])
}

/// SplitMix64 (see the module documentation).
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A population position in `0..n`.
    #[inline(always)]
    fn draw(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The questions of each indicator and the scored indicators of each function.
struct Hierarchy {
    ind_questions: Vec<Vec<usize>>,
    fn_indicators: Vec<Vec<usize>>,
}

impl Hierarchy {
    fn new(p: &Prepared) -> Hierarchy {
        let mut ind_questions: Vec<Vec<usize>> = vec![Vec::new(); p.ind_function.len()];
        for (q, &i) in p.q_indicator.iter().enumerate() {
            ind_questions[i as usize].push(q);
        }
        let mut fn_indicators: Vec<Vec<usize>> = vec![Vec::new(); p.n_functions];
        for (i, &f) in p.ind_function.iter().enumerate() {
            if !ind_questions[i].is_empty() {
                fn_indicators[f as usize].push(i);
            }
        }
        Hierarchy {
            ind_questions,
            fn_indicators,
        }
    }
}

/// The resampled values of each function and of the overall score.
struct Collector {
    hierarchy: Hierarchy,
    ind_score: Vec<Option<f64>>,
    functions: Vec<Vec<f64>>,
    overall: Vec<f64>,
}

impl Collector {
    fn new(p: &Prepared) -> Collector {
        let hierarchy = Hierarchy::new(p);
        Collector {
            ind_score: vec![None; hierarchy.ind_questions.len()],
            functions: vec![Vec::with_capacity(RESAMPLES); p.n_functions],
            overall: Vec::with_capacity(RESAMPLES),
            hierarchy,
        }
    }

    /// Scores one resample from its per-question sums and counts.
    fn push(&mut self, sums: &[f64], counts: &[f64]) {
        for (slot, qs) in self.ind_score.iter_mut().zip(&self.hierarchy.ind_questions) {
            let (mut total, mut m) = (0.0, 0usize);
            for &q in qs {
                if counts[q] > 0.0 {
                    total += sums[q] / counts[q];
                    m += 1;
                }
            }
            *slot = (m > 0).then(|| total / m as f64);
        }
        let (mut total, mut m) = (0.0, 0usize);
        for (values, inds) in self.functions.iter_mut().zip(&self.hierarchy.fn_indicators) {
            let (mut f_total, mut f_m) = (0.0, 0usize);
            for score in inds.iter().filter_map(|&i| self.ind_score[i]) {
                f_total += score;
                f_m += 1;
            }
            if f_m > 0 {
                let fs = f_total / f_m as f64;
                values.push(fs);
                total += fs;
                m += 1;
            }
        }
        if m > 0 {
            self.overall.push(total / m as f64);
        }
    }

    fn finish(self) -> Intervals {
        Intervals {
            functions: self.functions.into_iter().map(interval).collect(),
            overall: interval(self.overall),
        }
    }
}

/// The responding population's items: `(population position, question, score)`, positions
/// dense from 0, and the population size.
fn population(p: &Prepared) -> (Vec<(usize, usize, f64)>, usize) {
    let mut out = Vec::with_capacity(p.items.len());
    let mut last: Option<u32> = None;
    let mut n = 0usize;
    for &(r, q, s) in &p.items {
        if last != Some(r) {
            last = Some(r);
            n += 1;
        }
        out.push((n - 1, q as usize, s));
    }
    (out, n)
}

/// The power of two `2^e` (`e` ≤ 16) that makes every score an integer whose sums over `n`
/// draws stay within `i32`, if there is one.
fn integer_scale(items: &[(usize, usize, f64)], n: usize) -> Option<f64> {
    let max = items.iter().map(|i| i.2.abs()).fold(0.0f64, f64::max);
    (0..=16).map(|e| f64::from(1u32 << e)).find(|&scale| {
        max * scale * n as f64 <= f64::from(i32::MAX)
            && items.iter().all(|i| {
                let v = i.2 * scale;
                v == v.trunc()
            })
    })
}

pub(crate) fn intervals(p: &Prepared, seed: u64) -> Intervals {
    let (items, n) = population(p);
    let mut out = Collector::new(p);
    if n == 0 {
        return out.finish();
    }
    let nq = p.questions.len();
    let mut rng = SplitMix64(seed);
    match integer_scale(&items, n) {
        Some(scale) => scaled(&items, n, nq, scale, &mut rng, &mut out),
        None => float(&items, n, nq, &mut rng, &mut out),
    }
    out.finish()
}

/// Lanes per block: rows are whole blocks, so that adding a row is a few vector additions.
const LANES: usize = 16;
type Block<L> = [L; LANES];

/// An integer lane of the exact path: `i16` when no sum of `n` draws can leave it (twice
/// as many lanes per vector instruction), `i32` otherwise. Every sum stays in range, so the
/// wrapping additions never wrap and both widths give the same numbers.
trait Lane: Copy + Default {
    /// `v`, known to be in range.
    fn from_i32(v: i32) -> Self;
    fn plus(self, other: Self) -> Self;
    fn to_f64(self) -> f64;
}

impl Lane for i16 {
    #[inline(always)]
    fn from_i32(v: i32) -> Self {
        v as i16
    }
    #[inline(always)]
    fn plus(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Lane for i32 {
    #[inline(always)]
    fn from_i32(v: i32) -> Self {
        v
    }
    #[inline(always)]
    fn plus(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

/// `acc += row`, block by block. Separate arguments (which cannot alias) and whole blocks
/// loaded before the store let the compiler use vector additions.
#[inline(always)]
fn add_row<L: Lane>(acc: &mut [Block<L>], row: &[Block<L>]) {
    for (a, v) in acc.iter_mut().zip(row) {
        let mut x = *a;
        for l in 0..LANES {
            x[l] = x[l].plus(v[l]);
        }
        *a = x;
    }
}

/// The exact integer path (see the module documentation): rows `[s·2^e of q0..qQ, presence
/// of q0..qQ]` as integer blocks, each draw's row added as it is drawn; `i16` lanes when the
/// largest possible sum fits them.
fn scaled(
    items: &[(usize, usize, f64)],
    n: usize,
    nq: usize,
    scale: f64,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    let max = items.iter().map(|i| i.2.abs()).fold(0.0f64, f64::max);
    let largest = (max * scale).max(1.0) * n as f64;
    if largest <= f64::from(i16::MAX) {
        scaled_with::<i16>(items, n, nq, scale, rng, out)
    } else {
        scaled_with::<i32>(items, n, nq, scale, rng, out)
    }
}

/// [`resample`] with lanes of `L`, compiled for AVX2 too and run that way where the CPU has
/// it (twice the lanes per instruction; the same integer additions, so the same numbers).
fn scaled_with<L: Lane>(
    items: &[(usize, usize, f64)],
    n: usize,
    nq: usize,
    scale: f64,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { resample_avx2::<L>(items, n, nq, scale, rng, out) };
    }
    resample::<L>(items, n, nq, scale, rng, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn resample_avx2<L: Lane>(
    items: &[(usize, usize, f64)],
    n: usize,
    nq: usize,
    scale: f64,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    resample::<L>(items, n, nq, scale, rng, out)
}

#[inline(always)]
fn resample<L: Lane>(
    items: &[(usize, usize, f64)],
    n: usize,
    nq: usize,
    scale: f64,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    let blocks = (2 * nq).div_ceil(LANES);
    let mut rows: Vec<Block<L>> = vec![[L::default(); LANES]; n * blocks];
    for &(r, q, s) in items {
        let (sum, count) = (q, nq + q);
        rows[r * blocks + sum / LANES][sum % LANES] = L::from_i32((s * scale) as i32);
        rows[r * blocks + count / LANES][count % LANES] = L::from_i32(1);
    }
    let mut acc: Vec<Block<L>> = vec![[L::default(); LANES]; blocks];
    let mut sums = vec![0.0f64; nq];
    let mut counts = vec![0.0f64; nq];
    for _ in 0..RESAMPLES {
        acc.fill([L::default(); LANES]);
        for _ in 0..n {
            let r = rng.draw(n);
            add_row(&mut acc, &rows[r * blocks..(r + 1) * blocks]);
        }
        let flat = acc.as_flattened();
        for q in 0..nq {
            // Exact: the integers are in range and the scale is a power of two.
            sums[q] = flat[q].to_f64() / scale;
            counts[q] = flat[nq + q].to_f64();
        }
        out.push(&sums, &counts);
    }
}

/// The floating-point path: counts first, then `Σ k_r · row_r` in population order.
fn float(
    items: &[(usize, usize, f64)],
    n: usize,
    nq: usize,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    let width = 2 * nq;
    let mut rows = vec![0.0f64; n * width];
    for &(r, q, s) in items {
        rows[r * width + q] = s;
        rows[r * width + nq + q] = 1.0;
    }
    let mut times_drawn = vec![0u32; n];
    let mut acc = vec![0.0f64; width];
    for _ in 0..RESAMPLES {
        times_drawn.fill(0);
        for _ in 0..n {
            times_drawn[rng.draw(n)] += 1;
        }
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
        out.push(sums, counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::{ItemScore, ResponseMeta, RoundInput};
    use crate::surveys::model::{Framework, Function, Indicator, Thresholds};

    #[test]
    fn splitmix64_matches_its_published_outputs() {
        assert_eq!(SplitMix64(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut g = SplitMix64(1_234_567);
        let first: Vec<u64> = (0..3).map(|_| g.next_u64()).collect();
        assert_eq!(
            first,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn selection_gives_the_sorted_percentiles() {
        let mut g = SplitMix64(9);
        for m in [1usize, 2, 3, 40, 999, 1000] {
            let values: Vec<f64> = (0..m).map(|_| (g.next_u64() % 97) as f64 / 7.0).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for p in [0.0, 0.025, 0.5, 0.975, 1.0] {
                let mut v = values.clone();
                assert_eq!(
                    Some(quantile(&mut v, p)),
                    percentile(&sorted, p),
                    "m={m} p={p}"
                );
            }
        }
    }

    fn framework() -> Framework {
        let f = |id: &str, inds: &[&str]| Function {
            id: id.into(),
            title: Default::default(),
            indicators: inds
                .iter()
                .map(|i| Indicator {
                    id: (*i).into(),
                    title: Default::default(),
                })
                .collect(),
        };
        Framework {
            id: "t".into(),
            languages: vec!["en".into()],
            title: Default::default(),
            thresholds: Thresholds::default(),
            min_respondents: 3,
            functions: vec![f("1", &["1.1", "1.2"]), f("2", &["2.1"]), f("3", &["3.1"])],
        }
    }

    /// The integer path is an exact shortcut: on whole and power-of-two-fraction scores it
    /// gives the floating-point path's intervals bit for bit.
    #[test]
    fn integer_path_equals_the_floating_point_path() {
        let fw = framework();
        let mut g = SplitMix64(5);
        for (n, step) in [
            (1u32, 25.0),
            (7, 25.0),
            (60, 12.5),
            (150, 1.0),
            (33, 0.03125),
            (400, 25.0),
        ] {
            let mut items = Vec::new();
            for r in 0..n {
                for (k, (q, i)) in [
                    ("a", "1.1"),
                    ("b", "1.1"),
                    ("c", "1.2"),
                    ("d", "2.1"),
                    ("e", "3.1"),
                ]
                .iter()
                .enumerate()
                {
                    if g.next_u64() % 10 < 8 || k == 0 {
                        items.push(ItemScore {
                            response: r,
                            question: (*q).into(),
                            indicator: (*i).into(),
                            score: (g.next_u64() % 9) as f64 * step,
                        });
                    }
                }
            }
            let input = RoundInput {
                framework: &fw,
                responses: vec![
                    ResponseMeta {
                        org_type: "un".into()
                    };
                    n as usize
                ],
                items,
                seed: 77 + u64::from(n),
            };
            let p = crate::scoring::prepare(&input).unwrap();
            let (items, m) = population(&p);
            let scale = integer_scale(&items, m).expect("an exact scale");
            // 0: i16 lanes, 1: i32 lanes (both with AVX2 where the CPU has it), 2: floating
            // point, 3 and 4: i16 and i32 lanes compiled for any x86-64.
            let run = |path: u8| {
                let mut out = Collector::new(&p);
                let mut rng = SplitMix64(input.seed);
                let nq = p.questions.len();
                match path {
                    0 => scaled_with::<i16>(&items, m, nq, scale, &mut rng, &mut out),
                    1 => scaled_with::<i32>(&items, m, nq, scale, &mut rng, &mut out),
                    3 => resample::<i16>(&items, m, nq, scale, &mut rng, &mut out),
                    4 => resample::<i32>(&items, m, nq, scale, &mut rng, &mut out),
                    _ => float(&items, m, nq, &mut rng, &mut out),
                }
                (out.functions.clone(), out.overall.clone(), out.finish())
            };
            let (fb, ob, ib) = run(2);
            let max = items.iter().map(|i| i.2.abs()).fold(0.0f64, f64::max);
            let fits_i16 = (max * scale).max(1.0) * m as f64 <= f64::from(i16::MAX);
            assert_eq!(fits_i16, n < 400, "n={n}: the narrow lanes are tried");
            for path in if fits_i16 {
                vec![0, 1, 3, 4]
            } else {
                vec![1, 4]
            } {
                let (fa, oa, ia) = run(path);
                assert_eq!(
                    fa, fb,
                    "n={n} step={step} path={path}: every function score"
                );
                assert_eq!(oa, ob);
                assert_eq!(ia.functions, ib.functions);
                assert_eq!(ia.overall, ib.overall);
            }
        }
        // Scores that are no power-of-two fraction have no exact scale.
        let items = [(0usize, 0usize, 100.0 / 6.0)];
        assert_eq!(integer_scale(&items, 1), None);
        // Nor do sums that could leave i32.
        let items = [(0usize, 0usize, 1e9)];
        assert_eq!(integer_scale(&items, 10), None);
    }
}
