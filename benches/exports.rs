//! The responses export as CSV and Parquet: `cargo bench --bench exports` (release).
//!
//! Seeds one closed round of `BENCH_RESPONSES` (default 1,000,000) partner responses with
//! `BENCH_ANSWERS` (default 10) answers each, straight into a fresh database with bulk
//! `INSERT … SELECT` statements (not timed), one row per response with its answers and
//! packed scores, as a submission stores them. Then writes the round's responses export as CSV
//! through `domain::exports::write_csv`, as the API does, into a sink that counts the bytes
//! (no network): codes, French labels with the HXL row, codes again; then the same table
//! as Parquet (`write_stream`, as the API streams it). Reports the time to the
//! first chunk, the total time, the size, and the peak memory of the export (VmHWM from
//! /proc/self/status, reset before each run through /proc/self/clear_refs).
//!
//! SQLite in a temp file by default; PostgreSQL with `BENCH_DATABASE_URL=postgres://…/db` (a
//! scratch database is created next to it and dropped). Without `--bench` (as under
//! `cargo test --benches`) it does a smoke run of 3,000 responses.

mod support;

use clusterpulse::db::schema::{response_score_columns, rounds};
use clusterpulse::db::{self, DbConnection};
use clusterpulse::domain::exports::{self, Format, Options, StreamSink};
use clusterpulse::kernel::access::{Actor, Role};
use clusterpulse::kernel::error::AppError;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

/// VmHWM (peak resident memory) in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time of this process so far (user + system), which the machine's load does not
/// inflate the way it does wall-clock time.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

const LEVELS: [&str; 5] = [
    "strongly_disagree",
    "disagree",
    "neutral",
    "agree",
    "strongly_agree",
];

/// Seeds the round; returns its id.
fn seed(conn: &mut DbConnection, questions: &[String], n: usize) -> i32 {
    let pg = matches!(conn, DbConnection::Postgres(_));
    let now = clusterpulse::kernel::time::now();
    let op = support::bench_operation(conn, now);
    let closes = now - chrono::Duration::days(1);
    diesel::insert_into(rounds::table)
        .values((
            rounds::operation_id.eq(op.id),
            rounds::framework.eq("ccpm"),
            rounds::surveys.eq("[\"ccpm-partner\"]"),
            rounds::title.eq("Bench round"),
            rounds::opens_at.eq(closes - chrono::Duration::days(30)),
            rounds::closes_at.eq(closes),
            rounds::state.eq("closed"),
            rounds::created_at.eq(closes - chrono::Duration::days(31)),
            rounds::closed_at.eq(Some(closes)),
        ))
        .execute(conn)
        .unwrap();
    let round: i32 = rounds::table
        .select(rounds::id)
        .order(rounds::id.desc())
        .first(conn)
        .unwrap();
    // Each response's answers as stored (one JSON object), the level of question k being
    // (i + k) % 5 for response i; every answer scores 50 (packed, in layout order).
    let mut answers = String::from("'{'");
    for (k, q) in questions.iter().enumerate() {
        let sep = if k == 0 { "" } else { "," };
        answers.push_str(&format!(" || '{sep}\"{q}\":' || CASE (i % 10 + {k}) % 5"));
        for (j, level) in LEVELS.iter().enumerate() {
            answers.push_str(&format!(" WHEN {j} THEN '\"{level}\"'"));
        }
        answers.push_str(" END");
    }
    answers.push_str(" || '}'");
    let scores = vec!["50"; questions.len()].join(",");
    for (k, q) in questions.iter().enumerate() {
        diesel::insert_into(response_score_columns::table)
            .values((
                response_score_columns::survey_id.eq("ccpm-partner"),
                response_score_columns::survey_version.eq(1),
                response_score_columns::position.eq(k as i32),
                response_score_columns::question.eq(q),
            ))
            .execute(conn)
            .unwrap();
    }
    // Responses: ids in UUID shape, org types and languages cycling, days over 30 days.
    let sql = if pg {
        format!(
            "INSERT INTO responses (uuid, round_id, survey_id, survey_version, org_type, language, \
             answers_digest, submitted_at, answers, scores) \
             SELECT lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(i::text, 12, '0'), {round}, \
             'ccpm-partner', 1, (ARRAY['ingo','nngo','un','government'])[i % 4 + 1], \
             (ARRAY['en','fr','es','ar'])[i % 4 + 1], '', \
             now() - make_interval(days => i % 30), {answers}, '{scores}' \
             FROM generate_series(0, {n} - 1) AS i"
        )
    } else {
        format!(
            "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {n} - 1) \
             INSERT INTO responses (uuid, round_id, survey_id, survey_version, org_type, language, \
             answers_digest, submitted_at, answers, scores) \
             SELECT printf('%08x-0000-4000-8000-%012d', i, i), {round}, 'ccpm-partner', 1, \
             CASE i % 4 WHEN 0 THEN 'ingo' WHEN 1 THEN 'nngo' WHEN 2 THEN 'un' ELSE 'government' END, \
             CASE i % 4 WHEN 0 THEN 'en' WHEN 1 THEN 'fr' WHEN 2 THEN 'es' ELSE 'ar' END, '', \
             datetime('now', '-' || (i % 30) || ' days'), {answers}, '{scores}' FROM seq"
        )
    };
    conn.batch_execute(&sql).unwrap();
    if pg {
        conn.batch_execute("ANALYZE responses").unwrap();
    } else {
        conn.batch_execute("ANALYZE").unwrap();
    }
    round
}

/// Counts what the export writes; notes when the first chunk came.
struct Counter {
    started: Instant,
    first: Option<Duration>,
    bytes: usize,
    lines: usize,
}

impl StreamSink for Counter {
    fn ready(&mut self, outcome: Result<String, AppError>) {
        outcome.expect("the export is allowed");
    }

    fn chunk(&mut self, bytes: Vec<u8>) -> bool {
        self.first.get_or_insert(self.started.elapsed());
        self.bytes += bytes.len();
        self.lines += bytes.iter().filter(|b| **b == b'\n').count();
        true
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full {
        env_usize("BENCH_RESPONSES", 1_000_000)
    } else {
        3_000
    };
    let n_answers = env_usize("BENCH_ANSWERS", 10);
    let scratch = support::ScratchDb::create();
    let config = scratch.config(&[]);
    let catalog = clusterpulse::surveys::load::load_dir(&config.surveys_dir)
        .unwrap_or_else(|p| panic!("surveys: {p:?}"));
    let pool = db::connect(&config.database_url, 2).unwrap();
    db::migrate(&pool).unwrap();
    let mut conn = pool.get().unwrap();
    let questions: Vec<String> = catalog
        .survey("ccpm-partner")
        .unwrap()
        .questions
        .iter()
        .filter(|q| q.indicator.is_some())
        .take(n_answers)
        .map(|q| q.name.clone())
        .collect();
    let t = Instant::now();
    let round = seed(&mut conn, &questions, n);
    println!(
        "exports bench on {}: seeded {n} responses × {} answers in {:.1} s",
        scratch.backend,
        questions.len(),
        t.elapsed().as_secs_f64()
    );
    let actor = Actor {
        id: 0,
        email: "bench@example.org".into(),
        role: Role::Admin,
        cluster_id: None,
        operation_ids: Vec::new(),
        countries: Vec::new(),
    };
    let now = clusterpulse::kernel::time::now();
    let labels = Options {
        labels: true,
        lang: Some("fr".into()),
        hxl: true,
    };
    // The codes run twice: the first export after seeding reads a database no export has
    // read yet, the second shows what that costs.
    let runs = [
        ("codes", Format::Csv, Options::default()),
        ("labels (fr) + HXL", Format::Csv, labels),
        ("codes, again", Format::Csv, Options::default()),
        ("Parquet, codes", Format::Parquet, Options::default()),
    ];
    for (name, format, opts) in runs {
        let header_lines = if opts.hxl { 2 } else { 1 };
        reset_peak();
        let before = peak_mib();
        let cpu = cpu_seconds();
        let mut sink = Counter {
            started: Instant::now(),
            first: None,
            bytes: 0,
            lines: 0,
        };
        exports::write_stream(
            &mut conn,
            format,
            |c| exports::responses::export(c, &catalog, &actor, round, opts, now),
            &mut sink,
        )
        .unwrap();
        let total = sink.started.elapsed();
        let cpu = cpu_seconds() - cpu;
        if format == Format::Csv {
            assert_eq!(sink.lines, n + header_lines, "one line per response");
        }
        println!(
            "{name}: first chunk {:.0} ms, total {:.2} s (CPU {:.2} s), {:.0} responses/s, \
             {:.1} MiB, peak RSS {:.0} MiB (before {:.0} MiB)",
            sink.first.unwrap_or_default().as_secs_f64() * 1000.0,
            total.as_secs_f64(),
            cpu,
            n as f64 / total.as_secs_f64(),
            sink.bytes as f64 / (1024.0 * 1024.0),
            peak_mib(),
            before
        );
    }
}
