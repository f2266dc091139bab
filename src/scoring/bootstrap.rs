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
//! above are exact, in any order. That case (`scaled`) keeps the rows as integers (scores
//! times `2^e`; `i16` lanes when every sum fits them, `i32` otherwise), and a resample adds
//! the row of each of its `N` draws as it is drawn, with no count vector and no
//! multiplication, then converts back exactly. The sums are bit-identical to the
//! floating-point definition. A row holds the scaled items, then the count lanes: questions
//! answered by exactly the same members share one count lane, and a question every member
//! answered needs none (its count is `N` in every resample), so with complete answers a row
//! is just `Q` lanes. With AVX2 (`avx2`), rows of up to twelve 256-bit vectors keep the
//! running sums in registers, and the draws are computed four at a time: SplitMix64's output
//! depends only on the position in the stream (`seed + k·0x9E37…`), so four consecutive
//! outputs are mixed side by side and reduced to positions exactly as one at a time (64-bit
//! products from 32-bit ones; `N` < 2^32).
//!
//! Any other scores (e.g. sixths of 100) take the floating-point path (`float`): counts
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

/// SplitMix64's increment and its two mixing multipliers.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
const MIX1: u64 = 0xBF58_476D_1CE4_E5B9;
const MIX2: u64 = 0x94D0_49BB_1331_11EB;

impl SplitMix64 {
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(MIX1);
        z = (z ^ (z >> 27)).wrapping_mul(MIX2);
        z ^ (z >> 31)
    }

    /// A population position in `0..n`.
    #[inline(always)]
    fn draw(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The bootstrap's view of a round: the population and where each question's count comes
/// from.
struct Population<'a> {
    p: &'a Prepared,
    /// Response index of each population member, ascending.
    members: Vec<usize>,
    /// Count lane of each question, or [`EVERY_DRAW`] when every member has an item for it.
    count_lane: Vec<u32>,
    /// Number of count lanes: questions whose items come from exactly the same members
    /// share one.
    count_lanes: usize,
}

/// A question that every member of the population has an item for: its count in a
/// resample is the number of draws, `N`, and needs no lane.
const EVERY_DRAW: u32 = u32::MAX;

impl<'a> Population<'a> {
    fn new(p: &'a Prepared) -> Population<'a> {
        let nq = p.questions.len();
        let members: Vec<usize> = (0..p.n_responses())
            .filter(|&r| p.row(r).iter().any(|v| !v.is_nan()))
            .collect();
        // Each question's members as a bit set; equal sets share a count lane.
        let words = members.len().div_ceil(64);
        let mut bits = vec![0u64; nq * words];
        for (m, &r) in members.iter().enumerate() {
            for (q, v) in p.row(r).iter().enumerate() {
                if !v.is_nan() {
                    bits[q * words + m / 64] |= 1 << (m % 64);
                }
            }
        }
        let mut lanes: std::collections::HashMap<&[u64], u32> = Default::default();
        let count_lane = (0..nq)
            .map(|q| {
                let set = &bits[q * words..(q + 1) * words];
                let size: usize = set.iter().map(|w| w.count_ones() as usize).sum();
                if size == members.len() {
                    return EVERY_DRAW;
                }
                let next = lanes.len() as u32;
                *lanes.entry(set).or_insert(next)
            })
            .collect();
        Population {
            count_lanes: lanes.len(),
            p,
            members,
            count_lane,
        }
    }

    fn n(&self) -> usize {
        self.members.len()
    }

    fn questions(&self) -> usize {
        self.p.questions.len()
    }

    /// Lanes of a row: the item of each question, then the count lanes.
    fn width(&self) -> usize {
        self.questions() + self.count_lanes
    }

    /// `f(member position, question, item)` for every item of the population, in order.
    fn for_each_item(&self, mut f: impl FnMut(usize, usize, f64)) {
        for (m, &r) in self.members.iter().enumerate() {
            for (q, &v) in self.p.row(r).iter().enumerate() {
                if !v.is_nan() {
                    f(m, q, v);
                }
            }
        }
    }

    /// The largest absolute item.
    fn max_item(&self) -> f64 {
        let mut max = 0.0f64;
        self.for_each_item(|_, _, v| max = max.max(v.abs()));
        max
    }
}

/// The resampled values of each function and of the overall score.
struct Collector {
    /// The questions of each indicator, in question order, flattened: indicator `i` has
    /// `ind_questions[ind_start[i]..ind_start[i + 1]]`.
    ind_questions: Vec<usize>,
    ind_start: Vec<usize>,
    /// The indicators with questions of each function, in framework order, flattened.
    fn_indicators: Vec<usize>,
    fn_start: Vec<usize>,
    /// The questions whose count is a count lane, with their lane (the others' count is
    /// always `N`).
    lane_questions: Vec<(usize, usize)>,
    /// Scratch, one resample at a time: per-question sums and counts, count lanes, question
    /// and indicator scores (`NaN`: none).
    sums: Vec<f64>,
    counts: Vec<f64>,
    lanes: Vec<f64>,
    q_score: Vec<f64>,
    /// Per indicator: the sum of its questions' scores and how many there were; its score.
    ind_total: Vec<f64>,
    ind_m: Vec<f64>,
    ind_score: Vec<f64>,
    /// Per function: the sum of its indicators' scores and how many there were.
    fn_total: Vec<f64>,
    fn_m: Vec<f64>,
    functions: Vec<Vec<f64>>,
    overall: Vec<f64>,
}

impl Collector {
    fn new(pop: &Population) -> Collector {
        let p = pop.p;
        let nq = p.questions.len();
        let ni = p.ind_function.len();
        let mut ind_questions = Vec::with_capacity(nq);
        let mut ind_start = Vec::with_capacity(ni + 1);
        for i in 0..ni as u32 {
            ind_start.push(ind_questions.len());
            ind_questions.extend((0..nq).filter(|&q| p.q_indicator[q] == i));
        }
        ind_start.push(ind_questions.len());
        let mut fn_indicators = Vec::with_capacity(ni);
        let mut fn_start = Vec::with_capacity(p.n_functions + 1);
        for f in 0..p.n_functions as u32 {
            fn_start.push(fn_indicators.len());
            fn_indicators.extend(
                (0..ni).filter(|&i| p.ind_function[i] == f && ind_start[i] < ind_start[i + 1]),
            );
        }
        fn_start.push(fn_indicators.len());
        Collector {
            ind_questions,
            ind_start,
            fn_indicators,
            fn_start,
            lane_questions: (0..nq)
                .filter(|&q| pop.count_lane[q] != EVERY_DRAW)
                .map(|q| (q, pop.count_lane[q] as usize))
                .collect(),
            sums: vec![0.0; nq],
            counts: vec![pop.n() as f64; nq],
            lanes: vec![0.0; pop.count_lanes],
            q_score: vec![0.0; nq],
            ind_total: vec![0.0; ni],
            ind_m: vec![0.0; ni],
            ind_score: vec![f64::NAN; ni],
            fn_total: vec![0.0; p.n_functions],
            fn_m: vec![0.0; p.n_functions],
            functions: vec![Vec::with_capacity(RESAMPLES); p.n_functions],
            overall: Vec::with_capacity(RESAMPLES),
        }
    }

    /// Scores one resample from integer lanes (item sums times `scale`, then the count lanes).
    #[inline(always)]
    fn push_lanes<L: Lane>(&mut self, lanes: &[L], inv_scale: f64) {
        let nq = self.sums.len();
        for (s, l) in self.sums.iter_mut().zip(&lanes[..nq]) {
            // Exact: the integers are in range and the scale is a power of two.
            *s = l.to_f64() * inv_scale;
        }
        for (c, l) in self.lanes.iter_mut().zip(&lanes[nq..]) {
            *c = l.to_f64();
        }
        self.push();
    }

    /// Scores one resample from floating-point lanes (item sums, then the count lanes).
    fn push_f64(&mut self, lanes: &[f64]) {
        let nq = self.sums.len();
        self.sums.copy_from_slice(&lanes[..nq]);
        let count_lanes = self.lanes.len();
        self.lanes.copy_from_slice(&lanes[nq..nq + count_lanes]);
        self.push();
    }

    /// Scores the resample in `sums` and `lanes`.
    #[inline(always)]
    fn push(&mut self) {
        for &(q, lane) in &self.lane_questions {
            self.counts[q] = self.lanes[lane];
        }
        // The divisions of each level at once (they vectorise): a question without items
        // gives a value that is not read, an indicator or function without a score 0/0 = NaN.
        for ((s, &sum), &count) in self.q_score.iter_mut().zip(&self.sums).zip(&self.counts) {
            *s = sum / count;
        }
        for (i, (total, m)) in self.ind_total.iter_mut().zip(&mut self.ind_m).enumerate() {
            (*total, *m) = (0.0, 0.0);
            for &q in &self.ind_questions[self.ind_start[i]..self.ind_start[i + 1]] {
                if self.counts[q] > 0.0 {
                    *total += self.q_score[q];
                    *m += 1.0;
                }
            }
        }
        for ((s, &total), &m) in self
            .ind_score
            .iter_mut()
            .zip(&self.ind_total)
            .zip(&self.ind_m)
        {
            *s = total / m;
        }
        for (f, (total, m)) in self.fn_total.iter_mut().zip(&mut self.fn_m).enumerate() {
            (*total, *m) = (0.0, 0.0);
            for &i in &self.fn_indicators[self.fn_start[f]..self.fn_start[f + 1]] {
                let score = self.ind_score[i];
                if !score.is_nan() {
                    *total += score;
                    *m += 1.0;
                }
            }
        }
        let (mut total, mut m) = (0.0, 0.0);
        for ((values, &f_total), &f_m) in self
            .functions
            .iter_mut()
            .zip(&self.fn_total)
            .zip(&self.fn_m)
        {
            if f_m > 0.0 {
                let fs = f_total / f_m;
                values.push(fs);
                total += fs;
                m += 1.0;
            }
        }
        if m > 0.0 {
            self.overall.push(total / m);
        }
    }

    fn finish(self) -> Intervals {
        Intervals {
            functions: self.functions.into_iter().map(interval).collect(),
            overall: interval(self.overall),
        }
    }
}

/// The power of two `2^e` (`e` ≤ 16) that makes every item an integer whose sums over `N`
/// draws stay within `i32`, if there is one: the smallest `e` that makes every item an
/// integer (a larger one only makes the sums larger).
fn integer_scale(pop: &Population) -> Option<f64> {
    let mut e = 0u32;
    pop.for_each_item(|_, _, v| {
        while e <= 16 && {
            let x = v * f64::from(1u32 << e);
            x != x.trunc()
        } {
            e += 1;
        }
    });
    if e > 16 {
        return None;
    }
    let scale = f64::from(1u32 << e);
    (pop.max_item() * scale * pop.n() as f64 <= f64::from(i32::MAX)).then_some(scale)
}

pub(crate) fn intervals(p: &Prepared, seed: u64) -> Intervals {
    let pop = Population::new(p);
    let mut out = Collector::new(&pop);
    if pop.n() == 0 {
        return out.finish();
    }
    let mut rng = SplitMix64(seed);
    match integer_scale(&pop) {
        Some(scale) => scaled(&pop, scale, &mut rng, &mut out),
        None => float(&pop, &mut rng, &mut out),
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
    const BITS: u32;
    /// `v`, known to be in range.
    fn from_i32(v: i32) -> Self;
    fn plus(self, other: Self) -> Self;
    fn to_f64(self) -> f64;
}

impl Lane for i16 {
    const BITS: u32 = 16;
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
    const BITS: u32 = 32;
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

/// The exact integer path (see the module documentation): rows `[s·2^e of each question,
/// count lanes]` as integer blocks, each draw's row added as it is drawn; `i16` lanes when
/// the largest possible sum fits them.
fn scaled(pop: &Population, scale: f64, rng: &mut SplitMix64, out: &mut Collector) {
    let largest = (pop.max_item() * scale).max(1.0) * pop.n() as f64;
    if largest <= f64::from(i16::MAX) {
        scaled_with::<i16>(pop, scale, rng, out)
    } else {
        scaled_with::<i32>(pop, scale, rng, out)
    }
}

/// The rows of the integer path, `blocks` blocks each.
fn integer_rows<L: Lane>(pop: &Population, scale: f64) -> (Vec<Block<L>>, usize) {
    let nq = pop.questions();
    let blocks = pop.width().div_ceil(LANES);
    let mut rows: Vec<Block<L>> = vec![[L::default(); LANES]; pop.n() * blocks];
    pop.for_each_item(|m, q, v| {
        let row = rows[m * blocks..(m + 1) * blocks].as_flattened_mut();
        row[q] = L::from_i32((v * scale) as i32);
        let lane = pop.count_lane[q];
        if lane != EVERY_DRAW {
            row[nq + lane as usize] = L::from_i32(1);
        }
    });
    (rows, blocks)
}

/// [`resample`] with lanes of `L`, or its AVX2 version where the CPU has it (twice the lanes
/// per instruction; the same integer additions, so the same numbers).
fn scaled_with<L: Lane>(pop: &Population, scale: f64, rng: &mut SplitMix64, out: &mut Collector) {
    let (rows, blocks) = integer_rows::<L>(pop, scale);
    let n = pop.n();
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::resample::<L>(&rows, blocks, n, scale, rng, out) };
    }
    resample::<L>(&rows, blocks, n, scale, rng, out)
}

/// The integer path with AVX2 instructions: a row is `V` 256-bit vectors (16 `i16` or 8 `i32`
/// lanes each), and rows of up to 12 vectors keep the running sums in vector registers.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Block, Collector, Lane, SplitMix64, GAMMA, MIX1, MIX2, RESAMPLES};
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi16, _mm256_add_epi32, _mm256_add_epi64, _mm256_mul_epu32,
        _mm256_set1_epi64x, _mm256_set_epi64x, _mm256_setzero_si256, _mm256_slli_epi64,
        _mm256_srli_epi64, _mm256_storeu_si256, _mm256_xor_si256,
    };

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn resample<L: Lane>(
        rows: &[Block<L>],
        blocks: usize,
        n: usize,
        scale: f64,
        rng: &mut SplitMix64,
        out: &mut Collector,
    ) {
        let inv_scale = 1.0 / scale;
        let vectors = std::mem::size_of_val(rows) / 32 / n.max(1);
        if n > u32::MAX as usize {
            // Four draws at once need `N` < 2^32.
            return super::resample_any::<L>(rows, blocks, n, inv_scale, rng, out);
        }
        match vectors {
            1 => fixed::<L, 1>(rows, n, inv_scale, rng, out),
            2 => fixed::<L, 2>(rows, n, inv_scale, rng, out),
            3 => fixed::<L, 3>(rows, n, inv_scale, rng, out),
            4 => fixed::<L, 4>(rows, n, inv_scale, rng, out),
            5 => fixed::<L, 5>(rows, n, inv_scale, rng, out),
            6 => fixed::<L, 6>(rows, n, inv_scale, rng, out),
            7 => fixed::<L, 7>(rows, n, inv_scale, rng, out),
            8 => fixed::<L, 8>(rows, n, inv_scale, rng, out),
            9 => fixed::<L, 9>(rows, n, inv_scale, rng, out),
            10 => fixed::<L, 10>(rows, n, inv_scale, rng, out),
            11 => fixed::<L, 11>(rows, n, inv_scale, rng, out),
            12 => fixed::<L, 12>(rows, n, inv_scale, rng, out),
            _ => super::resample_any::<L>(rows, blocks, n, inv_scale, rng, out),
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn add<L: Lane>(a: __m256i, b: __m256i) -> __m256i {
        if L::BITS == 16 {
            _mm256_add_epi16(a, b)
        } else {
            _mm256_add_epi32(a, b)
        }
    }

    /// `a · b` modulo 2^64 in each 64-bit lane, `b` given as its low and high 32 bits.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul64(a: __m256i, b_low: __m256i, b_high: __m256i) -> __m256i {
        let low = _mm256_mul_epu32(a, b_low);
        let cross = _mm256_add_epi64(
            _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), b_low),
            _mm256_mul_epu32(a, b_high),
        );
        _mm256_add_epi64(low, _mm256_slli_epi64::<32>(cross))
    }

    /// The next four draws of `rng` from `0..n` (`n` < 2^32, in every lane of `n`), computed
    /// side by side: SplitMix64's outputs depend on the position in the stream only, so four
    /// consecutive ones can be mixed at once. The same numbers as four calls of
    /// [`SplitMix64::draw`].
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn draw4(rng: &mut SplitMix64, n: __m256i) -> [u64; 4] {
        let half = |v: u64| {
            (
                _mm256_set1_epi64x((v & 0xFFFF_FFFF) as i64),
                _mm256_set1_epi64x((v >> 32) as i64),
            )
        };
        let (mix1_low, mix1_high) = half(MIX1);
        let (mix2_low, mix2_high) = half(MIX2);
        let steps = _mm256_set_epi64x(
            GAMMA.wrapping_mul(4) as i64,
            GAMMA.wrapping_mul(3) as i64,
            GAMMA.wrapping_mul(2) as i64,
            GAMMA as i64,
        );
        let mut z = _mm256_add_epi64(_mm256_set1_epi64x(rng.0 as i64), steps);
        rng.0 = rng.0.wrapping_add(GAMMA.wrapping_mul(4));
        z = mul64(
            _mm256_xor_si256(z, _mm256_srli_epi64::<30>(z)),
            mix1_low,
            mix1_high,
        );
        z = mul64(
            _mm256_xor_si256(z, _mm256_srli_epi64::<27>(z)),
            mix2_low,
            mix2_high,
        );
        z = _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z));
        // floor(z · n / 2^64) = (z_high · n + (z_low · n) / 2^32) / 2^32, all exact in 64 bits.
        let high = _mm256_mul_epu32(_mm256_srli_epi64::<32>(z), n);
        let low = _mm256_srli_epi64::<32>(_mm256_mul_epu32(z, n));
        let picks = _mm256_srli_epi64::<32>(_mm256_add_epi64(high, low));
        let mut out = [0u64; 4];
        // SAFETY: `out` is 32 bytes.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast::<__m256i>(), picks) };
        out
    }

    /// Rows of `V` vectors, copied to 32-byte-aligned storage.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn fixed<L: Lane, const V: usize>(
        rows: &[Block<L>],
        n: usize,
        inv_scale: f64,
        rng: &mut SplitMix64,
        out: &mut Collector,
    ) {
        let mut aligned: Vec<[__m256i; V]> = vec![[_mm256_setzero_si256(); V]; n];
        assert_eq!(std::mem::size_of_val(rows), n * V * 32);
        // SAFETY: both hold plain integers, and the sizes are equal (checked above).
        unsafe {
            std::ptr::copy_nonoverlapping(
                rows.as_ptr().cast::<u8>(),
                aligned.as_mut_ptr().cast::<u8>(),
                n * V * 32,
            );
        }
        let mut lanes: Vec<L> = vec![L::default(); V * 32 / std::mem::size_of::<L>()];
        let n_lanes = _mm256_set1_epi64x(n as i64);
        for _ in 0..RESAMPLES {
            let mut acc = [_mm256_setzero_si256(); V];
            for _ in 0..n / 4 {
                for r in draw4(rng, n_lanes) {
                    // SAFETY: a draw is below `n`, the number of rows.
                    let row = unsafe { aligned.get_unchecked(r as usize) };
                    for v in 0..V {
                        acc[v] = add::<L>(acc[v], row[v]);
                    }
                }
            }
            for _ in 0..n % 4 {
                // SAFETY: as above.
                let row = unsafe { aligned.get_unchecked(rng.draw(n)) };
                for v in 0..V {
                    acc[v] = add::<L>(acc[v], row[v]);
                }
            }
            for (v, a) in acc.iter().enumerate() {
                // SAFETY: `lanes` holds `V` vectors' worth of bytes.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>().add(v), *a) };
            }
            out.push_lanes(&lanes, inv_scale);
        }
    }
}

/// All the resamples of the integer path. Rows of up to eight blocks (128 `i16` or `i32`
/// lanes: 128 questions and count lanes) keep the running sums in registers.
#[inline(always)]
fn resample<L: Lane>(
    rows: &[Block<L>],
    blocks: usize,
    n: usize,
    scale: f64,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    let inv_scale = 1.0 / scale;
    match blocks {
        1 => resample_fixed::<L, 1>(rows, n, inv_scale, rng, out),
        2 => resample_fixed::<L, 2>(rows, n, inv_scale, rng, out),
        3 => resample_fixed::<L, 3>(rows, n, inv_scale, rng, out),
        4 => resample_fixed::<L, 4>(rows, n, inv_scale, rng, out),
        5 => resample_fixed::<L, 5>(rows, n, inv_scale, rng, out),
        6 => resample_fixed::<L, 6>(rows, n, inv_scale, rng, out),
        7 => resample_fixed::<L, 7>(rows, n, inv_scale, rng, out),
        8 => resample_fixed::<L, 8>(rows, n, inv_scale, rng, out),
        _ => resample_any::<L>(rows, blocks, n, inv_scale, rng, out),
    }
}

/// Rows of `B` blocks: the running sums are a local array (registers).
#[inline(always)]
fn resample_fixed<L: Lane, const B: usize>(
    rows: &[Block<L>],
    n: usize,
    inv_scale: f64,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    let (rows, _) = rows.as_chunks::<B>();
    for _ in 0..RESAMPLES {
        let mut acc = [[L::default(); LANES]; B];
        for _ in 0..n {
            let row = &rows[rng.draw(n)];
            for b in 0..B {
                for l in 0..LANES {
                    acc[b][l] = acc[b][l].plus(row[b][l]);
                }
            }
        }
        out.push_lanes(acc.as_flattened(), inv_scale);
    }
}

/// Wider rows: the running sums in memory, block by block.
#[inline(always)]
fn resample_any<L: Lane>(
    rows: &[Block<L>],
    blocks: usize,
    n: usize,
    inv_scale: f64,
    rng: &mut SplitMix64,
    out: &mut Collector,
) {
    let mut acc: Vec<Block<L>> = vec![[L::default(); LANES]; blocks];
    for _ in 0..RESAMPLES {
        acc.fill([L::default(); LANES]);
        for _ in 0..n {
            let r = rng.draw(n);
            for (a, v) in acc.iter_mut().zip(&rows[r * blocks..(r + 1) * blocks]) {
                let mut x = *a;
                for l in 0..LANES {
                    x[l] = x[l].plus(v[l]);
                }
                *a = x;
            }
        }
        out.push_lanes(acc.as_flattened(), inv_scale);
    }
}

/// The floating-point path: counts first, then `Σ k_r · row_r` in population order.
fn float(pop: &Population, rng: &mut SplitMix64, out: &mut Collector) {
    let (n, nq, width) = (pop.n(), pop.questions(), pop.width());
    let mut rows = vec![0.0f64; n * width];
    pop.for_each_item(|m, q, v| {
        rows[m * width + q] = v;
        let lane = pop.count_lane[q];
        if lane != EVERY_DRAW {
            rows[m * width + nq + lane as usize] = 1.0;
        }
    });
    let mut times_drawn = vec![0u32; n];
    let mut acc = vec![0.0f64; width];
    for _ in 0..RESAMPLES {
        times_drawn.fill(0);
        for _ in 0..n {
            times_drawn[rng.draw(n)] += 1;
        }
        acc.fill(0.0);
        for (row, &k) in rows.chunks_exact(width.max(1)).zip(&times_drawn) {
            if k == 0 {
                continue;
            }
            let k = f64::from(k);
            for (a, v) in acc.iter_mut().zip(row) {
                *a += k * *v;
            }
        }
        out.push_f64(&acc);
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

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn four_draws_at_once_are_four_draws() {
        use std::arch::x86_64::_mm256_set1_epi64x;
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut g = SplitMix64(11);
        let random: Vec<u64> = (0..20).map(|_| g.next_u64() >> 32).collect();
        for n in [1u64, 2, 3, 7, 100, 4096, 1 << 31, u64::from(u32::MAX)]
            .into_iter()
            .chain(random)
        {
            let seed = g.next_u64();
            let (mut four, mut one) = (SplitMix64(seed), SplitMix64(seed));
            for _ in 0..50 {
                // SAFETY: the CPU has AVX2, checked above.
                let got = unsafe { avx2::draw4(&mut four, _mm256_set1_epi64x(n as i64)) };
                let want: Vec<u64> = (0..4).map(|_| one.draw(n as usize) as u64).collect();
                assert_eq!(got.to_vec(), want, "n={n}");
                assert_eq!(four.0, one.0);
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

    /// The prepared round of `n` responses with these items.
    fn prepared(fw: &Framework, n: u32, items: Vec<ItemScore>) -> crate::scoring::Prepared {
        crate::scoring::prepare(&RoundInput {
            framework: fw,
            responses: vec![
                ResponseMeta {
                    org_type: "un".into()
                };
                n as usize
            ],
            items,
            seed: 0,
        })
        .unwrap()
    }

    /// The integer path is an exact shortcut: on whole and power-of-two-fraction scores it
    /// gives the floating-point path's intervals bit for bit, with rows of any width (running
    /// sums in registers or in memory) and with questions that share a count lane or need
    /// none.
    #[test]
    fn integer_path_equals_the_floating_point_path() {
        let fw = framework();
        let mut g = SplitMix64(5);
        let defs = [
            ("a", "1.1"),
            ("b", "1.1"),
            ("c", "1.2"),
            ("d", "2.1"),
            ("e", "3.1"),
        ];
        // 70 more questions, most with a count lane of their own: rows of more than 8 blocks.
        let many: Vec<(String, &str)> = (0..70)
            .map(|k| (format!("z{k:02}"), ["1.1", "1.2", "2.1", "3.1"][k % 4]))
            .collect();
        for (n, step, wide) in [
            (1u32, 25.0, false),
            (7, 25.0, false),
            (60, 12.5, false),
            (150, 1.0, false),
            (33, 0.03125, false),
            (400, 25.0, false),
            (40, 25.0, true),
            (500, 25.0, true),
        ] {
            let mut items = Vec::new();
            for r in 0..n {
                for (k, (q, i)) in defs.iter().enumerate() {
                    // a: every response; b and c: the same responses (one shared count lane).
                    let keep = match k {
                        0 => true,
                        2 => items
                            .last()
                            .is_some_and(|it: &ItemScore| it.response == r && it.question == "b"),
                        _ => g.next_u64() % 10 < 8,
                    };
                    if keep {
                        items.push(ItemScore {
                            response: r,
                            question: (*q).into(),
                            indicator: (*i).into(),
                            score: (g.next_u64() % 9) as f64 * step,
                        });
                    }
                }
                if wide {
                    for (q, i) in &many {
                        if g.next_u64() % 10 < 9 {
                            items.push(ItemScore {
                                response: r,
                                question: q.clone(),
                                indicator: (*i).into(),
                                score: (g.next_u64() % 5) as f64 * step,
                            });
                        }
                    }
                }
            }
            let p = prepared(&fw, n, items);
            let pop = Population::new(&p);
            let m = pop.n();
            assert_eq!(
                pop.count_lane[0], EVERY_DRAW,
                "n={n}: a needs no count lane"
            );
            if n > 1 {
                assert_eq!(pop.count_lane[1], pop.count_lane[2], "b and c share one");
            }
            let scale = integer_scale(&pop).expect("an exact scale");
            let seed = 77 + u64::from(n);
            // 0: i16 lanes, 1: i32 lanes (both with AVX2 where the CPU has it), 2: floating
            // point, 3 and 4: i16 and i32 lanes compiled for any x86-64.
            let run = |path: u8| {
                let mut out = Collector::new(&pop);
                let mut rng = SplitMix64(seed);
                match path {
                    0 => scaled_with::<i16>(&pop, scale, &mut rng, &mut out),
                    1 => scaled_with::<i32>(&pop, scale, &mut rng, &mut out),
                    3 => {
                        let (rows, blocks) = integer_rows::<i16>(&pop, scale);
                        resample::<i16>(&rows, blocks, m, scale, &mut rng, &mut out)
                    }
                    4 => {
                        let (rows, blocks) = integer_rows::<i32>(&pop, scale);
                        resample::<i32>(&rows, blocks, m, scale, &mut rng, &mut out)
                    }
                    _ => float(&pop, &mut rng, &mut out),
                }
                (out.functions.clone(), out.overall.clone(), out.finish())
            };
            let blocks = pop.width().div_ceil(LANES);
            assert_eq!(blocks > 8, wide, "n={n}: rows of {blocks} blocks");
            let (fb, ob, ib) = run(2);
            let fits_i16 = (pop.max_item() * scale).max(1.0) * m as f64 <= f64::from(i16::MAX);
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
        let one = |score: f64, n: u32| {
            prepared(
                &fw,
                n,
                vec![ItemScore {
                    response: 0,
                    question: "a".into(),
                    indicator: "1.1".into(),
                    score,
                }],
            )
        };
        // Scores that are no power-of-two fraction have no exact scale.
        assert_eq!(integer_scale(&Population::new(&one(100.0 / 6.0, 1))), None);
        assert_eq!(integer_scale(&Population::new(&one(12.5, 1))), Some(2.0));
        // Nor do sums that could leave i32.
        let mut wide = one(1e9, 10);
        for r in 1..10 {
            wide.matrix[r] = 0.0;
        }
        assert_eq!(integer_scale(&Population::new(&wide)), None);
    }
}
