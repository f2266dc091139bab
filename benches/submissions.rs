//! Survey submissions over HTTP: 32 concurrent keep-alive clients on loopback, each
//! submitting complete 30-answer responses with fresh invitation tokens, after a warm-up;
//! then a check that every acknowledged response is stored exactly once. Also the raw
//! database ceiling: the same validation and inserts from Rust without HTTP, one thread.
//!
//! Then the same load from an outside generator, `wrk` (install it with `apt-get install wrk`
//! on Debian; skipped with a note when it is missing), 32 connections posting responses with
//! fresh tokens prepared here (`benches/support/wrk_post.lua`), and the same exactly-once
//! check.
//!
//! Run: `cargo bench --bench submissions` (SQLite in a temp folder), and with
//! `BENCH_DATABASE_URL=postgres://…/postgres` for PostgreSQL (a scratch database is created
//! and dropped). `BENCH_SECONDS` (default 20), `BENCH_CLIENTS` (default 32),
//! `BENCH_WRK_SECONDS` (default 10).
//! Under `cargo test` (no `--bench` flag) it does a 1-second smoke run only.

mod support;

use clusterpulse::db::models;
use clusterpulse::domain::demo;
use clusterpulse::domain::rounds::{self, InvitationInput, NewRoundInput};
use clusterpulse::{db, Application};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{percentile, ScratchDb};

fn answers_for(survey: &clusterpulse::surveys::model::Survey) -> Map<String, Value> {
    let mut m = Map::new();
    for q in &survey.questions {
        if q.relevant.is_some() {
            continue;
        }
        let v = match q.qtype {
            clusterpulse::surveys::model::QuestionType::SelectOne => {
                let opts = survey.choice_list(q).unwrap();
                json!(opts[m.len() % opts.len().min(4)].value)
            }
            clusterpulse::surveys::model::QuestionType::Integer => json!(7),
            clusterpulse::surveys::model::QuestionType::Text => {
                json!("Regular, well-prepared meetings.")
            }
            _ => continue,
        };
        m.insert(q.name.clone(), v);
        if m.len() == 30 {
            break;
        }
    }
    m
}

struct Setup {
    round: models::Round,
    coord_id: i32,
}

fn seed(conn: &mut db::DbConnection, catalog: &clusterpulse::surveys::model::Catalog) -> Setup {
    demo::seed_demo(conn, catalog).expect("seed");
    let op = models::operation_by_slug(conn, "health-drc")
        .unwrap()
        .unwrap();
    let coord = models::user_by_email(conn, "admin@demo.example")
        .unwrap()
        .unwrap();
    let round = rounds::create_round(
        conn,
        NewRoundInput {
            operation_id: Some(op.id),
            cluster_id: None,
            framework: "ccpm".into(),
            surveys: vec!["ccpm-partner".into()],
            title: "bench".into(),
            opens_at: clusterpulse::kernel::time::now() - chrono::Duration::hours(1),
            closes_at: clusterpulse::kernel::time::now() + chrono::Duration::days(1),
            remind_days_before: None,
            created_by: coord.id,
        },
    )
    .map_err(|e| e.to_string())
    .unwrap();
    Setup {
        round,
        coord_id: coord.id,
    }
}

fn tokens(
    conn: &mut db::DbConnection,
    catalog: &clusterpulse::surveys::model::Catalog,
    s: &Setup,
    n: usize,
    tag: &str,
) -> Vec<String> {
    let types = ["un", "ingo", "nngo", "government", "rcrc"];
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        let batch: Vec<InvitationInput> = (0..5000.min(n - out.len()))
            .map(|_| {
                i += 1;
                InvitationInput {
                    email: format!("p{i}-{tag}@bench.example"),
                    organization: format!("Bench Org {}", i % 300),
                    org_type: types[i % types.len()].into(),
                    survey: "ccpm-partner".into(),
                    language: None,
                }
            })
            .collect();
        let created = rounds::add_invitations(conn, catalog, &s.round, batch, s.coord_id)
            .map_err(|e| e.to_string())
            .unwrap();
        out.extend(created.into_iter().map(|c| c.token));
    }
    out
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 20 } else { 1 });
    let warmup = if full { 3 } else { 0 };
    let clients: usize = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let db = ScratchDb::create();
    let backend = db.backend;
    let config = db.config(&[]);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let app = Application::build(config).await.unwrap();
        let state = app.state();
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        let catalog = state.catalog.current();
        let survey = catalog.survey("ccpm-partner").unwrap().clone();
        let answers = answers_for(&survey);
        assert_eq!(answers.len(), 30, "30 answers");
        let pool = state.pool.clone();
        let cat2 = catalog.clone();
        let needed = if full { (seconds as usize + warmup as usize) * 9000 } else { 3000 };
        let wrk_seconds: u64 = std::env::var("BENCH_WRK_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if full { 10 } else { 1 });
        let wrk_needed = wrk_seconds as usize * 6000;
        let (setup, toks, raw_toks, wrk_toks) = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            let setup = seed(&mut conn, &cat2);
            let toks = tokens(&mut conn, &cat2, &setup, needed, "http");
            let raw = tokens(&mut conn, &cat2, &setup, if full { 20000 } else { 500 }, "raw");
            let wrk = tokens(&mut conn, &cat2, &setup, wrk_needed, "wrk");
            (setup, toks, raw, wrk)
        })
        .await
        .unwrap();

        // HTTP load.
        let queue = Arc::new(Mutex::new(toks));
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let errors = Arc::new(AtomicUsize::new(0));
        let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
        let start = Instant::now();
        let measure_from = start + Duration::from_secs(warmup);
        let end = measure_from + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (queue, acked, errors, latencies) = (queue.clone(), acked.clone(), errors.clone(), latencies.clone());
            let answers = answers.clone();
            let url = format!("http://127.0.0.1:{port}/api/v1/responses");
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
                let mut mine = Vec::new();
                let mut lat = Vec::new();
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    let Some(token) = queue.lock().unwrap().pop() else { break };
                    let id = uuid::Uuid::new_v4().to_string();
                    let t0 = Instant::now();
                    let r = client.post(&url).json(&json!({"token": token, "id": id, "language": "en", "answers": answers})).send().await;
                    let ms = t0.elapsed().as_secs_f64() * 1000.0;
                    match r {
                        Ok(resp) if resp.status() == 201 => {
                            if t0 >= measure_from {
                                lat.push(ms);
                            }
                            mine.push((id, t0 >= measure_from));
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                let measured = mine.iter().filter(|(_, m)| *m).count();
                acked.lock().unwrap().extend(mine.into_iter().map(|(id, _)| id));
                latencies.lock().unwrap().extend(lat);
                measured
            }));
        }
        let mut measured = 0;
        for t in tasks {
            measured += t.await.unwrap();
        }
        let mut lat = latencies.lock().unwrap().clone();
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let acked = acked.lock().unwrap().clone();

        // Exactly-once check.
        let pool = state.pool.clone();
        let rid = setup.round.id;
        let ids = acked.clone();
        let (stored, distinct_acked, answers_rows) = tokio::task::spawn_blocking(move || {
            use clusterpulse::db::schema::responses;
            use diesel::prelude::*;
            let mut c = pool.get().unwrap();
            let stored: i64 = responses::table.filter(responses::round_id.eq(rid)).count().get_result(&mut c).unwrap();
            let rows: i64 = responses::table
                .select(responses::answers)
                .load::<String>(&mut c)
                .unwrap()
                .iter()
                .map(|a| {
                    let mut n = 0i64;
                    clusterpulse::domain::response_store::each_answer(a, |_, _| n += 1).unwrap();
                    n
                })
                .sum();
            let set: std::collections::HashSet<_> = ids.iter().collect();
            (stored, set.len(), rows)
        })
        .await
        .unwrap();

        // Raw ceiling: validation + the same transaction, no HTTP, one thread.
        let pool = state.pool.clone();
        let cat3 = catalog.clone();
        let answers2 = answers.clone();
        let raw_secs = if full { 5.0 } else { 0.5 };
        let (raw, raw_n) = tokio::task::spawn_blocking(move || {
            let mut c = pool.get().unwrap();
            let t0 = Instant::now();
            let mut n = 0usize;
            for tok in raw_toks {
                if t0.elapsed().as_secs_f64() > raw_secs {
                    break;
                }
                rounds::submit(&mut c, &cat3, &tok, &uuid::Uuid::new_v4().to_string(), "en", &answers2)
                    .map_err(|e| e.to_string())
                    .unwrap();
                n += 1;
            }
            (n as f64 / t0.elapsed().as_secs_f64(), n)
        })
        .await
        .unwrap();

        // The outside load generator: wrk, fresh tokens, then the same exactly-once check.
        let count = |pool: clusterpulse::db::Pool| {
            use clusterpulse::db::schema::responses;
            use diesel::prelude::*;
            responses::table
                .filter(responses::round_id.eq(rid))
                .count()
                .get_result::<i64>(&mut pool.get().unwrap())
                .unwrap()
        };
        let before = count(state.pool.clone());
        let bodies: Vec<String> = wrk_toks
            .iter()
            .map(|t| json!({"token": t, "id": uuid::Uuid::new_v4().to_string(), "language": "en", "answers": answers}).to_string())
            .collect();
        let url = format!("http://127.0.0.1:{port}/api/v1/responses");
        let wrk = tokio::task::spawn_blocking(move || support::run_wrk(&url, &bodies, wrk_seconds, clients))
            .await
            .unwrap();
        let wrk_stored = count(state.pool.clone()) - before;

        let rate = measured as f64 / seconds as f64;
        println!("backend: {backend}; clients: {clients}; 30 answers per response; warm-up {warmup}s, measured {seconds}s");
        println!("throughput: {rate:.0} responses/s (acknowledged 201 in the window: {measured}); errors: {}", errors.load(Ordering::Relaxed));
        println!("latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}", percentile(&lat, 0.5), percentile(&lat, 0.9), percentile(&lat, 0.99), lat.last().copied().unwrap_or(f64::NAN));
        let exact = stored == acked.len() as i64 && distinct_acked == acked.len();
        println!("exactly once: acknowledged over HTTP {} (distinct {distinct_acked}), stored {stored} → {}; raw run stored {raw_n} more", acked.len(),
            if exact { "OK" } else { "MISMATCH" });
        println!("answers stored: {answers_rows}");
        println!("raw ceiling (same validation + transaction, no HTTP, 1 thread): {raw:.0} responses/s");
        if let Some(w) = &wrk {
            w.print("responses");
            // Requests still in flight when wrk stops may be stored without wrk seeing the 201.
            let ok = wrk_stored >= w.created as i64 && wrk_stored <= (w.created + clients as u64) as i64;
            println!("wrk exactly once: 201 answers {}, stored {wrk_stored} → {}", w.created, if ok { "OK" } else { "MISMATCH" });
            assert!(ok, "wrk: acknowledged and stored responses differ");
        }
        assert!(exact, "acknowledged and stored responses differ");
    });
}
