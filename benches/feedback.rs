//! Public feedback submissions over HTTP: 32 concurrent keep-alive clients on loopback, each
//! posting complete anonymous items (the per-address rate limit lifted by configuration),
//! after a warm-up; then a check that every acknowledged reference is stored exactly once.
//! Also the raw ceiling: the same validation and insert from Rust without HTTP, one thread.
//!
//! Then the same load from an outside generator, `wrk` (install it with `apt-get install wrk`
//! on Debian; skipped with a note when it is missing): 32 connections posting the same
//! kinds of items (`benches/support/wrk_post.lua`), and the same exactly-once check.
//!
//! Run: `cargo bench --bench feedback` (SQLite in a temp folder), and with
//! `BENCH_DATABASE_URL=postgres://…/postgres` for PostgreSQL (a scratch database is created
//! and dropped). `BENCH_SECONDS` (default 20), `BENCH_CLIENTS` (default 32),
//! `BENCH_WRK_SECONDS` (default 10).
//! Under `cargo test` (no `--bench` flag) it does a 1-second smoke run only.

mod support;

use clusterpulse::domain::feedback::{self, SubmitBody};
use clusterpulse::Application;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{percentile, ScratchDb};

fn body(i: usize) -> Value {
    let categories = [
        "question",
        "complaint",
        "suggestion",
        "request",
        "appreciation",
        "sensitive",
    ];
    let language = ["en", "ar", "fr", "es"][i % 4];
    let sex = ["female", "male"][i % 2];
    json!({
        "operation": "shelter-yemen",
        "channel": "web",
        "language": language,
        "answers": {
            "category": categories[i % categories.len()],
            "message": "The distribution list left out several families who arrived last month; please check block C.",
            "consent_to_contact": if i.is_multiple_of(3) { "yes" } else { "no" },
            "contact": if i.is_multiple_of(3) { Value::from("+967 700 000 000") } else { Value::Null },
            "sex": sex,
            "age_group": "18_59",
            "admin1": "Aden"
        }
    })
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
    let config = db.config(&[("CLUSTERPULSE_RATE_LIMIT_PUBLIC", "0")]);
    let backend = db.backend;
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
        let pool = state.pool.clone();
        tokio::task::spawn_blocking(move || {
            use clusterpulse::db::schema::{clusters, operations};
            use diesel::prelude::*;
            let mut c = pool.get().unwrap();
            let now = clusterpulse::kernel::time::now();
            diesel::insert_into(clusters::table)
                .values((
                    clusters::code.eq("shelter"),
                    clusters::name.eq("Global Shelter Cluster"),
                    clusters::lead_emails.eq("[]"),
                    clusters::language.eq("en"),
                    clusters::created_at.eq(now),
                ))
                .execute(&mut c)
                .unwrap();
            let cid: i32 = clusters::table.select(clusters::id).first(&mut c).unwrap();
            diesel::insert_into(operations::table)
                .values((
                    operations::slug.eq("shelter-yemen"),
                    operations::cluster_id.eq(cid),
                    operations::country.eq("YE"),
                    operations::name.eq("Shelter Cluster Yemen"),
                    operations::created_at.eq(now),
                ))
                .execute(&mut c)
                .unwrap();
        })
        .await
        .unwrap();

        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let errors = Arc::new(AtomicUsize::new(0));
        let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
        let counter = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let measure_from = start + Duration::from_secs(warmup);
        let end = measure_from + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (acked, errors, latencies, counter) =
                (acked.clone(), errors.clone(), latencies.clone(), counter.clone());
            let url = format!("http://127.0.0.1:{port}/api/v1/feedback");
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap();
                let (mut mine, mut lat, mut measured) = (Vec::new(), Vec::new(), 0usize);
                while Instant::now() < end {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    let t0 = Instant::now();
                    let r = client.post(&url).json(&body(i)).send().await;
                    let ms = t0.elapsed().as_secs_f64() * 1000.0;
                    match r {
                        Ok(resp) if resp.status() == 201 => {
                            let v: Value = resp.json().await.unwrap();
                            mine.push(v["reference"].as_str().unwrap().to_string());
                            if t0 >= measure_from {
                                lat.push(ms);
                                measured += 1;
                            }
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                acked.lock().unwrap().extend(mine);
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

        // Exactly once: every acknowledged reference stored, nothing else stored.
        let pool = state.pool.clone();
        let refs = acked.clone();
        let (stored, found, distinct) = tokio::task::spawn_blocking(move || {
            use clusterpulse::db::schema::feedback;
            use diesel::prelude::*;
            let mut c = pool.get().unwrap();
            let stored: i64 = feedback::table.count().get_result(&mut c).unwrap();
            let mut found = 0i64;
            for chunk in refs.chunks(1000) {
                let n: i64 = feedback::table
                    .filter(feedback::reference.eq_any(chunk))
                    .count()
                    .get_result(&mut c)
                    .unwrap();
                found += n;
            }
            let distinct: std::collections::HashSet<_> = refs.iter().collect();
            (stored, found, distinct.len())
        })
        .await
        .unwrap();

        // Raw ceiling: the same validation and insert, no HTTP, one thread.
        let pool = state.pool.clone();
        let catalog = state.catalog.current();
        let config = state.config.clone();
        let raw_secs = if full { 5.0 } else { 0.5 };
        let (raw, raw_n) = tokio::task::spawn_blocking(move || {
            let mut c = pool.get().unwrap();
            let t0 = Instant::now();
            let mut n = 0usize;
            while t0.elapsed().as_secs_f64() < raw_secs {
                let b: SubmitBody = serde_json::from_value(body(n)).unwrap();
                feedback::submit(&mut c, &catalog, &config, None, &b)
                    .map_err(|e| e.to_string())
                    .unwrap();
                n += 1;
            }
            (n as f64 / t0.elapsed().as_secs_f64(), n)
        })
        .await
        .unwrap();

        // The outside load generator: wrk, then the same exactly-once check.
        let wrk_seconds: u64 = std::env::var("BENCH_WRK_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if full { 10 } else { 1 });
        let count = |pool: clusterpulse::db::Pool| {
            use clusterpulse::db::schema::feedback;
            use diesel::prelude::*;
            feedback::table
                .count()
                .get_result::<i64>(&mut pool.get().unwrap())
                .unwrap()
        };
        let before = count(state.pool.clone());
        let bodies: Vec<String> = (0..600).map(|i| body(i).to_string()).collect();
        let url = format!("http://127.0.0.1:{port}/api/v1/feedback");
        let wrk = tokio::task::spawn_blocking(move || {
            support::run_wrk(&url, &bodies, wrk_seconds, clients)
        })
        .await
        .unwrap();
        let wrk_stored = count(state.pool.clone()) - before;

        let rate = measured as f64 / seconds as f64;
        println!("backend: {backend}; clients: {clients}; anonymous web items; warm-up {warmup}s, measured {seconds}s");
        println!(
            "throughput: {rate:.0} items/s (201 in the window: {measured}); errors: {}",
            errors.load(Ordering::Relaxed)
        );
        println!(
            "latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}",
            percentile(&lat, 0.5),
            percentile(&lat, 0.9),
            percentile(&lat, 0.99),
            lat.last().copied().unwrap_or(f64::NAN)
        );
        let exact = found == acked.len() as i64 && distinct == acked.len() && stored == acked.len() as i64;
        println!(
            "exactly once: acknowledged {} (distinct {distinct}), found {found}, stored over HTTP {stored} → {}",
            acked.len(),
            if exact { "OK" } else { "MISMATCH" }
        );
        println!("raw ceiling (same validation + insert, no HTTP, 1 thread): {raw:.0} items/s ({raw_n} items)");
        if let Some(w) = &wrk {
            w.print("items");
            // Requests still in flight when wrk stops may be stored without wrk seeing the 201.
            let ok = wrk_stored >= w.created as i64
                && wrk_stored <= (w.created + clients as u64) as i64;
            println!(
                "wrk exactly once: 201 answers {}, stored {wrk_stored} → {}",
                w.created,
                if ok { "OK" } else { "MISMATCH" }
            );
            assert!(ok, "wrk: acknowledged and stored items differ");
        }
        assert!(exact, "acknowledged and stored items differ");
    });
}
