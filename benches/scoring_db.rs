//! Scoring end to end from the database: `cargo bench --bench scoring_db` (release).
//!
//! Seeds 1,000,000 responses of 30 scored answers each, spread over 10,000 closed rounds of
//! one operation (responses of the rounds interleaved in the tables, as they arrive in real
//! life), straight into a fresh database with bulk `INSERT … SELECT` statements (not timed).
//! Then times computing every round's scores from the database, as the scorecard job needs
//! them: responses and item scores loaded, point estimates, 1,000-resample bootstrap
//! intervals, org-type breakdown. Two ways:
//!
//! - `per round`: `scores::score_only` once per round (two queries and one scoring call per
//!   round; what the API does for one round);
//! - `batched`: `scores::score_each` over all the rounds (two queries and one
//!   `scoring::score_rounds` call per batch of rounds).
//!
//! Both must give identical scores (checked with a digest of each round's JSON; the digest of
//! all of them is printed, to compare two builds on the same database). Also times
//! one round of 500 responses, with the bootstrap, as the report page needs it
//! (`score_only`, and `compute` which adds the previous round and the response rate).
//!
//! Peak memory is the process's VmHWM from /proc/self/status, reset (via
//! /proc/self/clear_refs) before each timed part.
//!
//! SQLite in a temp file by default; PostgreSQL with `BENCH_DATABASE_URL=postgres://…/db`
//! (a scratch database is created next to it and dropped); `BENCH_SQLITE_PATH=file` keeps the
//! SQLite database there and reuses it when run again, and `BENCH_PG_KEEP=name` does the same
//! with a PostgreSQL database of that name. `BENCH_ROUNDS` (default 10,000)
//! and `BENCH_PER_ROUND` (default 100) change the size; `BENCH_PER_ROUND_LOOP=0` skips the
//! per-round pass. Without `--bench` (e.g. `cargo test --benches`) it does a tiny smoke run.

mod support;

use clusterpulse::db::models::{self, Round};
use clusterpulse::db::schema::{response_score_columns, rounds};
use clusterpulse::db::{self, DbConnection};
use clusterpulse::domain::scores;
use clusterpulse::surveys::model::Catalog;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

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
const LEVELS: [&str; 5] = [
    "strongly_disagree",
    "disagree",
    "neutral",
    "agree",
    "strongly_agree",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

/// (VmRSS, VmHWM) in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

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

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// SQL text of `ORG_TYPES[expr]` and `LEVELS[expr]` as CASE expressions.
fn case(expr: &str, values: &[&str]) -> String {
    let mut s = format!("CASE {expr}");
    for (i, v) in values.iter().enumerate() {
        s.push_str(&format!(" WHEN {i} THEN '{v}'"));
    }
    s.push_str(" END");
    s
}

struct Seeded {
    rounds: Vec<Round>,
    big: Round,
}

/// Seeds `n_rounds` closed rounds of `per_round` responses (30 scored answers each) plus one
/// round of `big` responses, with bulk INSERT … SELECT statements generated in the database.
fn seed(
    conn: &mut DbConnection,
    catalog: &Catalog,
    n_rounds: usize,
    per_round: usize,
    big: usize,
) -> Seeded {
    let pg = matches!(conn, DbConnection::Postgres(_));
    let survey = catalog
        .survey("ccpm-coordinator")
        .expect("ccpm-coordinator");
    let questions: Vec<&str> = survey
        .questions
        .iter()
        .filter(|q| {
            q.indicator.is_some()
                && survey
                    .choice_list(q)
                    .is_some_and(|o| o.iter().any(|c| c.value == "strongly_agree"))
        })
        .map(|q| q.name.as_str())
        .take(30)
        .collect();
    assert_eq!(questions.len(), 30, "30 scored questions");
    let version = survey.version;

    let now = clusterpulse::kernel::time::now();
    let op_id = support::bench_operation(conn, now).id;
    // Rounds: one a week, all closed; the big one last.
    let total_rounds = n_rounds + 1;
    for start in (0..total_rounds).step_by(1000) {
        let rows: Vec<_> = (start..(start + 1000).min(total_rounds))
            .map(|k| {
                let closes = now - chrono::Duration::days(7 * (total_rounds - k) as i64);
                (
                    rounds::operation_id.eq(op_id),
                    rounds::framework.eq("ccpm"),
                    rounds::surveys.eq("[\"ccpm-coordinator\"]"),
                    rounds::title.eq(format!("Bench round {k}")),
                    rounds::opens_at.eq(closes - chrono::Duration::days(20)),
                    rounds::closes_at.eq(closes),
                    rounds::state.eq("closed"),
                    rounds::created_at.eq(closes - chrono::Duration::days(21)),
                    rounds::closed_at.eq(Some(closes)),
                )
            })
            .collect();
        let q = diesel::insert_into(rounds::table).values(rows);
        match conn {
            DbConnection::Sqlite(c) => q.execute(c).unwrap(),
            DbConnection::Postgres(c) => q.execute(c).unwrap(),
        };
    }
    let all: Vec<Round> = rounds::table
        .filter(rounds::operation_id.eq(op_id))
        .order(rounds::id)
        .select(Round::as_select())
        .load(conn)
        .unwrap();
    let first = all[0].id;
    let big_round = all[n_rounds].clone();
    let rounds = all[..n_rounds].to_vec();
    assert!(rounds.iter().zip(0..).all(|(r, k)| r.id == first + k));

    // Bulk load: no secondary indexes, no foreign-key checks; indexes rebuilt at the end.
    if pg {
        conn.batch_execute(
            "DROP INDEX responses_round_uuid; SET session_replication_role = replica;",
        )
        .unwrap();
    } else {
        conn.batch_execute(
            "PRAGMA foreign_keys = OFF; DROP INDEX responses_round_uuid; \
             PRAGMA cache_size = -500000;",
        )
        .unwrap();
    }
    // The layout of the survey version: the 30 questions, in order.
    for (k, q) in questions.iter().enumerate() {
        diesel::insert_into(response_score_columns::table)
            .values((
                response_score_columns::survey_id.eq("ccpm-coordinator"),
                response_score_columns::survey_version.eq(version as i32),
                response_score_columns::position.eq(k as i32),
                response_score_columns::question.eq(*q),
            ))
            .execute(conn)
            .unwrap();
    }
    // Response n (0-based) belongs to round `first + n % n_rounds` (rounds interleaved) or,
    // from n_rounds·per_round on, to the big round. Its id is a UUID-shaped string made
    // unique (and unordered) by an odd multiplier modulo 2^32.
    let uuid = if pg {
        "lpad(to_hex((n * 2654435761) % 4294967296), 8, '0') || '-' || \
         lpad(to_hex(n % 65536), 4, '0') || '-4' || lpad(to_hex(n % 4096), 3, '0') || '-8' || \
         lpad(to_hex((n / 4096) % 4096), 3, '0') || '-' || lpad(to_hex(n), 12, '0')"
    } else {
        "printf('%08x-%04x-4%03x-8%03x-%012x', (n * 2654435761) % 4294967296, n % 65536, \
         n % 4096, (n / 4096) % 4096, n)"
    };
    let small = n_rounds * per_round;
    let total = small + big;
    let round_expr = format!(
        "CASE WHEN n < {small} THEN {first} + n % {n_rounds} ELSE {} END",
        big_round.id
    );
    let org_expr = case(&format!("((n / {n_rounds}) * 3 + n % 7) % 8"), &ORG_TYPES);
    // Scores: the round's level (n % n_rounds % 3), the question and a hash of the response.
    let level = if pg {
        format!(
            "LEAST(4, ((n * 2654435761 / 7 + q.k * 40503) % 5) / 2 + (n % {n_rounds}) % 3 + q.k % 2)"
        )
    } else {
        format!(
            "min(4, ((n * 2654435761 / 7 + q.k * 40503) % 5) / 2 + (n % {n_rounds}) % 3 + q.k % 2)"
        )
    };
    let qvalues: Vec<String> = questions
        .iter()
        .enumerate()
        .map(|(k, q)| format!("({k}, '{q}')"))
        .collect();
    let series = |lo: usize, hi: usize| {
        if pg {
            format!("generate_series({lo}::bigint, {}::bigint) AS s(n)", hi - 1)
        } else {
            format!(
                "(WITH RECURSIVE s(n) AS (SELECT {lo} UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) AS s",
                hi - 1
            )
        }
    };
    let ts = if pg {
        "'2025-01-01 00:00:00'::timestamp"
    } else {
        "'2025-01-01 00:00:00'"
    };
    // One row per response: the answers as a JSON object and the scores packed in layout
    // order (`clusterpulse::db::packed`), both built from the 30 levels of the response.
    let (answers_agg, scores_agg) = if pg {
        (
            "json_object_agg(name, lv ORDER BY k)::text",
            "string_agg((lvl * 25)::text, ',' ORDER BY k)",
        )
    } else {
        (
            "json_group_object(name, lv ORDER BY k)",
            "group_concat(lvl * 25, ',' ORDER BY k)",
        )
    };
    let chunk = 50_000;
    let t = Instant::now();
    for lo in (0..total).step_by(chunk) {
        let hi = (lo + chunk).min(total);
        let sql = format!(
            "INSERT INTO responses (uuid, round_id, survey_id, survey_version, org_type, language, answers_digest, submitted_at, answers, scores)
             SELECT {uuid}, {round_expr}, 'ccpm-coordinator', {version}, {org_expr}, 'en', 'bench', {ts}, {answers_agg}, {scores_agg}
             FROM (
               SELECT n, q.k AS k, q.name AS name, {lv} AS lv, lvl FROM (
                 SELECT n, q.k AS k, q.name AS name, {level} AS lvl
                 FROM {s1} CROSS JOIN (SELECT column1 AS k, column2 AS name FROM (VALUES {qv}) AS v) AS q
               ) AS q
             ) AS x
             GROUP BY n;",
            s1 = series(lo, hi),
            lv = case("lvl", &LEVELS),
            qv = qvalues.join(", "),
        );
        conn.batch_execute(&sql).unwrap();
    }
    let inserted = t.elapsed();
    let t = Instant::now();
    conn.batch_execute("CREATE INDEX responses_round_uuid ON responses(round_id, uuid);")
        .unwrap();
    if pg {
        conn.batch_execute("SET session_replication_role = origin")
            .unwrap();
        conn.batch_execute("VACUUM ANALYZE").unwrap();
    } else {
        conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA cache_size = -2000;")
            .unwrap();
    }
    println!(
        "seeded {total} responses ({} answers) in {:.1} s (+ indexes{} {:.1} s)",
        total * 30,
        inserted.as_secs_f64(),
        if pg { ", VACUUM ANALYZE" } else { "" },
        t.elapsed().as_secs_f64()
    );
    Seeded {
        rounds,
        big: big_round,
    }
}

fn digest(s: &clusterpulse::scoring::RoundScores) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(s).unwrap().hash(&mut h);
    h.finish()
}

fn report(label: &str, wall: Duration, cpu: Duration, responses: usize) {
    let (rss, hwm) = memory();
    println!(
        "{label}: {:.2} s wall ({:.0} responses/s), CPU {:.2} s (all threads), peak RSS (VmHWM) {:.0} MiB, RSS after {:.0} MiB, load average {}",
        wall.as_secs_f64(),
        responses as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64(),
        hwm,
        rss,
        loadavg()
    );
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pick = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "{label}: {} runs, median {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms",
        times.len(),
        ms(pick(0.5)),
        ms(pick(0.9)),
        ms(times[0]),
        ms(times[times.len() - 1]),
    );
}

/// The rounds of an already seeded database (`BENCH_SQLITE_PATH` given twice).
fn seeded(conn: &mut DbConnection) -> Option<Seeded> {
    let op = models::operation_by_slug(conn, "bench-op").ok()??;
    let mut all: Vec<Round> = rounds::table
        .filter(rounds::operation_id.eq(op.id))
        .order(rounds::id)
        .select(Round::as_select())
        .load(conn)
        .ok()?;
    let big = all.pop()?;
    Some(Seeded { rounds: all, big })
}

fn run(url: &str, catalog: &Catalog, full: bool) {
    let n_rounds = env_usize("BENCH_ROUNDS", if full { 10_000 } else { 20 });
    let per_round = env_usize("BENCH_PER_ROUND", if full { 100 } else { 10 });
    let big_size = if full { 500 } else { 50 };
    let per_round_loop = env_usize("BENCH_PER_ROUND_LOOP", 1) != 0;
    // Seeding on its own connection, closed before anything is timed.
    let s = {
        let pool = db::connect(url, 1).unwrap();
        db::migrate(&pool).unwrap();
        let mut conn = pool.get().unwrap();
        match seeded(&mut conn) {
            Some(s) => {
                println!("reusing the seeded database");
                s
            }
            None => seed(&mut conn, catalog, n_rounds, per_round, big_size),
        }
    };
    let n_rounds = s.rounds.len();
    // SAFETY: malloc_trim only returns free heap memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
    let pool = db::connect(url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let conn = &mut *conn;
    let count = |conn: &mut DbConnection, big_round: bool| -> usize {
        use clusterpulse::db::schema::responses;
        let q = responses::table.count().into_boxed();
        let q = if big_round {
            q.filter(responses::round_id.eq(s.big.id))
        } else {
            q.filter(responses::round_id.ne(s.big.id))
        };
        q.get_result::<i64>(conn).unwrap() as usize
    };
    let responses = count(conn, false);
    let big = count(conn, true);
    println!(
        "{n_rounds} rounds, {responses} responses; load average {}",
        loadavg()
    );

    // Batched: every round through score_each.
    let mut batched = Vec::with_capacity(s.rounds.len());
    reset_peak();
    let (t, c) = (Instant::now(), cpu_time());
    let timings = scores::score_each(conn, catalog, &s.rounds, |_, sc| {
        batched.push(digest(&sc));
        Ok(())
    })
    .unwrap();
    report(
        &format!(
            "batched (score_each, {} rounds a batch)",
            scores::BATCH_ROUNDS
        ),
        t.elapsed(),
        cpu_time() - c,
        responses,
    );
    println!(
        "  of which: loading {:.2} s, scoring {:.2} s (its own threads, overlapping the \
         loading; {:.2} s waited for), digests {:.2} s",
        timings.load.as_secs_f64(),
        timings.score.as_secs_f64(),
        timings.wait.as_secs_f64(),
        timings.callback.as_secs_f64()
    );
    // One number for every round's JSON, to compare two builds on the same database.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    batched.hash(&mut h);
    println!("  digest of every round's JSON: {:016x}", h.finish());

    if per_round_loop {
        // Per round: score_only round after round.
        reset_peak();
        let mut mismatches = 0;
        let (t, c) = (Instant::now(), cpu_time());
        for (r, want) in s.rounds.iter().zip(&batched) {
            let sc = scores::score_only(conn, catalog, r).unwrap();
            if digest(&sc) != *want {
                mismatches += 1;
            }
        }
        report(
            "per round (score_only)",
            t.elapsed(),
            cpu_time() - c,
            responses,
        );
        println!(
            "  identical scores, batched and per round: {}",
            if mismatches == 0 {
                "yes".to_string()
            } else {
                format!("NO ({mismatches} rounds differ)")
            }
        );
        assert_eq!(mismatches, 0, "batched and per-round scores differ");
    }

    // One round of `big` responses, as the report page needs it.
    let repeats = if full { 30 } else { 3 };
    for (label, with_context) in [("score_only", false), ("compute", true)] {
        let mut times = Vec::new();
        for i in 0..=repeats {
            let t = Instant::now();
            let sc = if with_context {
                scores::compute(conn, catalog, s.big.clone())
                    .unwrap()
                    .scores
            } else {
                scores::score_only(conn, catalog, &s.big).unwrap()
            };
            let dt = t.elapsed();
            if i == 0 {
                assert_eq!(sc.overall.n, big);
                assert!(sc.overall.ci95.is_some());
            } else {
                times.push(dt);
            }
        }
        summary(
            &format!("one round of {big} responses with bootstrap ({label})"),
            times,
        );
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let catalog = clusterpulse::surveys::load::load_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/surveys"
    )))
    .unwrap_or_else(|p| panic!("surveys: {p:?}"));
    let dir = tempfile::tempdir().unwrap();
    let (url, backend, pg_cleanup) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin_url) if std::env::var("BENCH_PG_KEEP").is_ok() => {
            // Kept (and reused when seeded): the database named by BENCH_PG_KEEP.
            let name = std::env::var("BENCH_PG_KEEP").unwrap();
            let mut c = diesel::pg::PgConnection::establish(&admin_url).unwrap();
            let _ = c.batch_execute(&format!("CREATE DATABASE {name}"));
            let base = admin_url.rsplit_once('/').unwrap().0.to_string();
            (format!("{base}/{name}"), "PostgreSQL", None)
        }
        Ok(admin_url) => {
            let name = format!("cp_scoring_bench_{}", std::process::id());
            let mut c = diesel::pg::PgConnection::establish(&admin_url).unwrap();
            // Two statements: PostgreSQL runs a multi-statement string in one transaction,
            // where CREATE DATABASE is not allowed.
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .unwrap();
            c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            let base = admin_url.rsplit_once('/').unwrap().0.to_string();
            (
                format!("{base}/{name}"),
                "PostgreSQL",
                Some((admin_url, name)),
            )
        }
        Err(_) => (
            format!(
                "sqlite://{}",
                std::env::var("BENCH_SQLITE_PATH").unwrap_or_else(|_| dir
                    .path()
                    .join("bench.db")
                    .display()
                    .to_string())
            ),
            "SQLite",
            None,
        ),
    };
    println!(
        "backend: {backend}; nproc {}; load average {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        loadavg()
    );
    run(&url, &catalog, full);
    if let Some((admin_url, name)) = pg_cleanup {
        let mut c = diesel::pg::PgConnection::establish(&admin_url).unwrap();
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}
