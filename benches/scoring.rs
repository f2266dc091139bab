//! Scoring benchmark: `cargo bench --bench scoring` (release).
//!
//! Synthetic CCPM data (7 functions, 14 indicators, 32 scored questions, each answered with a
//! score by ~94% of responses: ~30 items per response, 8 org types). Times
//! `clusterpulse::scoring::score_round` — point estimates with polars, 1,000 bootstrap
//! resamples, org-type breakdown — for one round of 1,000 responses (repeated), then for
//! 1,000 rounds of 1,000 responses (1,000,000 responses) one after the other on one thread
//! of the caller (polars may use its own pool inside). Generating the data is not timed.
//!
//! Then the shape of the database bench (`scoring_db`) without the database: 10,000 rounds of
//! 100 responses through `score_rounds` in batches of 200 rounds (as `scores::score_each`
//! does), the data of each batch generated before it is timed.
//!
//! Environment: `BENCH_PARTS` (default `single,million,batched`) picks the parts;
//! `BENCH_BATCHED_ROUNDS` (10,000) and `BENCH_BATCHED_PER_ROUND` (100) size the batched part;
//! `BENCH_DUMP=file` writes every interval of the batched part there, one line per round
//! (`round f1_lo f1_hi … overall_lo overall_hi`, `-` for none), to compare two builds.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a tiny smoke version.

use clusterpulse::scoring::{
    score_round, score_rounds, seed_for_round, ItemScore, ResponseMeta, RoundInput,
};
use clusterpulse::surveys::model::{Framework, Function, Indicator, Thresholds};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::time::{Duration, Instant};

/// CPU time (user + system, all threads) of this process so far: on a shared machine this is
/// closer to the cost of the work than the wall clock.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

const QUESTIONS: usize = 32;
const ORG_TYPES: [&str; 8] = [
    "un",
    "ingo",
    "nngo",
    "government",
    "rcrc",
    "donor",
    "academic",
    "other",
];

fn ccpm() -> Framework {
    let structure: [(&str, &[&str]); 7] = [
        ("1", &["1.1", "1.2"]),
        ("2", &["2.1", "2.2", "2.3"]),
        ("3", &["3.1", "3.2", "3.3"]),
        ("4", &["4.1", "4.2"]),
        ("5", &["5.1"]),
        ("6", &["6.1"]),
        ("7", &["7.1", "7.2"]),
    ];
    Framework {
        id: "ccpm".into(),
        languages: vec!["en".into()],
        title: Default::default(),
        thresholds: Thresholds::default(),
        min_respondents: 3,
        functions: structure
            .iter()
            .map(|(id, inds)| Function {
                id: (*id).into(),
                title: Default::default(),
                indicators: inds
                    .iter()
                    .map(|i| Indicator {
                        id: (*i).into(),
                        title: Default::default(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn round(
    fw: &Framework,
    responses: usize,
    rng: &mut ChaCha8Rng,
) -> (Vec<ResponseMeta>, Vec<ItemScore>) {
    let indicators: Vec<&str> = fw.indicator_ids().collect();
    let questions: Vec<(String, &str)> = (0..QUESTIONS)
        .map(|q| (format!("q{q:02}"), indicators[q % indicators.len()]))
        .collect();
    let mut meta = Vec::with_capacity(responses);
    let mut items = Vec::with_capacity(responses * QUESTIONS);
    for r in 0..responses {
        meta.push(ResponseMeta {
            org_type: ORG_TYPES[(rng.next_u32() % 8) as usize].into(),
        });
        for (qi, (q, ind)) in questions.iter().enumerate() {
            if rng.next_u32() % 100 < 94 {
                let level = ((rng.next_u32() % 5) as usize + qi % 2).min(4);
                items.push(ItemScore {
                    response: r as u32,
                    question: q.clone(),
                    indicator: (*ind).into(),
                    score: level as f64 * 25.0,
                });
            }
        }
    }
    (meta, items)
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let total: Duration = times.iter().sum();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pick = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "{label}: {} runs, total {:.3} s, mean {:.2} ms, median {:.2} ms, p95 {:.2} ms, min {:.2} ms, max {:.2} ms",
        times.len(),
        total.as_secs_f64(),
        ms(total) / times.len() as f64,
        ms(pick(0.5)),
        ms(pick(0.95)),
        ms(times[0]),
        ms(times[times.len() - 1]),
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

/// 10,000 rounds × 100 responses through `score_rounds`, 200 rounds a batch.
fn batched(fw: &Framework, full: bool) {
    let rounds = env_usize("BENCH_BATCHED_ROUNDS", if full { 10_000 } else { 20 });
    let per_round = env_usize("BENCH_BATCHED_PER_ROUND", if full { 100 } else { 10 });
    const BATCH: usize = 200;
    let mut dump = std::env::var("BENCH_DUMP")
        .ok()
        .map(|p| std::io::BufWriter::new(std::fs::File::create(p).expect("BENCH_DUMP file")));
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (mut wall, mut cpu) = (Duration::ZERO, Duration::ZERO);
    let mut total_items = 0usize;
    for start in (0..rounds).step_by(BATCH) {
        let data: Vec<_> = (start..(start + BATCH).min(rounds))
            .map(|_| round(fw, per_round, &mut rng))
            .collect();
        let inputs: Vec<RoundInput> = data
            .into_iter()
            .enumerate()
            .map(|(k, (responses, items))| {
                total_items += items.len();
                RoundInput {
                    framework: fw,
                    responses,
                    items,
                    seed: seed_for_round((start + k) as i64 + 1),
                }
            })
            .collect();
        let (t, c) = (Instant::now(), cpu_time());
        let scores = score_rounds(&inputs).expect("scores");
        drop(inputs);
        wall += t.elapsed();
        cpu += cpu_time() - c;
        if let Some(out) = dump.as_mut() {
            for (k, s) in scores.iter().enumerate() {
                let mut line = format!("{}", start + k + 1);
                for ci in s.functions.iter().map(|f| f.ci95).chain([s.overall.ci95]) {
                    match ci {
                        Some([lo, hi]) => line.push_str(&format!(" {lo:?} {hi:?}")),
                        None => line.push_str(" - -"),
                    }
                }
                writeln!(out, "{line}").expect("BENCH_DUMP write");
            }
        }
    }
    println!(
        "batched: {rounds} rounds × {per_round} responses = {} responses, {total_items} items, \
         score_rounds in batches of {BATCH}: scoring {:.2} s wall, CPU time (all threads) {:.2} s",
        rounds * per_round,
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "single,million,batched".into());
    let part = |name: &str| parts.split(',').any(|p| p.trim() == name);
    let (rounds, per_round, repeats) = if full { (1000, 1000, 20) } else { (3, 100, 2) };
    let fw = ccpm();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    if part("single") {
        single(&fw, per_round, repeats, &mut rng);
    }
    if part("million") {
        million(&fw, rounds, per_round, &mut rng);
    }
    if part("batched") {
        batched(&fw, full);
    }
}

fn single(fw: &Framework, per_round: usize, repeats: usize, rng: &mut ChaCha8Rng) {
    let fw = fw.clone();

    // One round, repeated.
    let (meta, items) = round(&fw, per_round, rng);
    let n_items = items.len();
    let mut times = Vec::new();
    let mut cpu = Duration::ZERO;
    let mut first = None;
    for i in 0..=repeats {
        let input = RoundInput {
            framework: &fw,
            responses: meta.clone(),
            items: items.clone(),
            seed: seed_for_round(1),
        };
        let (t, c) = (Instant::now(), cpu_time());
        let scores = score_round(&input).expect("scores");
        let (dt, dc) = (t.elapsed(), cpu_time() - c);
        if i == 0 {
            first = Some(scores); // warm-up (polars thread pool, allocations)
        } else {
            times.push(dt);
            cpu += dc;
        }
    }
    let s = first.unwrap();
    println!(
        "single round: {per_round} responses, {n_items} items, overall {:.2} ci95 {:?}",
        s.overall.score.unwrap_or(f64::NAN),
        s.overall.ci95
    );
    println!(
        "single round: CPU time (all threads) {:.2} ms per run",
        cpu.as_secs_f64() * 1e3 / repeats as f64
    );
    summary("single round", times);
}

fn million(fw: &Framework, rounds: usize, per_round: usize, rng: &mut ChaCha8Rng) {
    let mut times = Vec::with_capacity(rounds);
    let mut total_items = 0usize;
    let mut cpu = Duration::ZERO;
    let wall = Instant::now();
    for k in 0..rounds {
        let (meta, items) = round(fw, per_round, rng);
        total_items += items.len();
        let input = RoundInput {
            framework: fw,
            responses: meta,
            items,
            seed: seed_for_round(k as i64 + 1),
        };
        let (t, c) = (Instant::now(), cpu_time());
        let scores = score_round(&input).expect("scores");
        times.push(t.elapsed());
        cpu += cpu_time() - c;
        assert!(scores.overall.ci95.is_some());
    }
    let wall = wall.elapsed();
    let scoring: Duration = times.iter().sum();
    println!(
        "{rounds} rounds × {per_round} responses = {} responses, {total_items} items: \
         scoring {:.2} s ({:.0} responses/s), CPU time of scoring (all threads) {:.2} s, \
         wall clock with data generation {:.2} s",
        rounds * per_round,
        scoring.as_secs_f64(),
        (rounds * per_round) as f64 / scoring.as_secs_f64(),
        cpu.as_secs_f64(),
        wall.as_secs_f64()
    );
    summary("per round", times);
}
