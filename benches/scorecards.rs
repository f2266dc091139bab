//! All scorecards of a world of 11 clusters × 40 operations × 2 closed rounds (with
//! responses) and feedback: scoring, charts, rendering and queueing (`scorecards::send`),
//! then handing every message to a real SMTP server (`scripts/smtp_sink.py` on loopback, or
//! `.eml` files when python3-aiosmtpd is missing).
//!
//! Run: `cargo bench --bench scorecards` (SQLite in a temp folder), and with
//! `BENCH_DATABASE_URL=postgres://…/postgres` for PostgreSQL. Sizes: `BENCH_CLUSTERS` (11),
//! `BENCH_OPERATIONS` (40 per cluster), `BENCH_RESPONSES` (15 per round),
//! `BENCH_FEEDBACK` (20 items per operation); `BENCH_MAIL_DIR=dir` keeps the delivered
//! messages. Under `cargo test` (no `--bench`) a tiny world.

mod support;

use clusterpulse::db::{self, DbConnection};
use clusterpulse::domain::feedback::{self, NewItem};
use clusterpulse::domain::response_store;
use clusterpulse::domain::scorecards::{self, SendOptions};
use clusterpulse::mail::{Mailer, Transport};
use clusterpulse::surveys::answers::Item;
use diesel::connection::SimpleConnection;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map};
use std::time::{Duration, Instant};
use support::ScratchDb;

fn env_or(key: &str, full: usize, smoke: usize, is_full: bool) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if is_full { full } else { smoke })
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn seed(
    conn: &mut DbConnection,
    catalog: &clusterpulse::surveys::model::Catalog,
    config: &clusterpulse::Config,
    sizes: (usize, usize, usize, usize),
) {
    let (clusters, ops, responses, items) = sizes;
    let survey = catalog.survey("ccpm-partner").unwrap();
    // (question, [(value, score)]) for every scored question.
    let scored: Vec<(String, Vec<(String, f64)>)> = survey
        .questions
        .iter()
        .filter(|q| q.indicator.is_some())
        .filter_map(|q| {
            let choices: Vec<(String, f64)> = survey
                .choice_list(q)?
                .iter()
                .filter_map(|c| c.score.map(|s| (c.value.clone(), s)))
                .collect();
            (!choices.is_empty()).then(|| (q.name.clone(), choices))
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let now = clusterpulse::kernel::time::now();
    let ts = |t: chrono::NaiveDateTime| q(&t.format("%Y-%m-%d %H:%M:%S").to_string());
    let org_types = ["un", "ingo", "nngo", "government", "rcrc"];
    for c in 0..clusters {
        let code = format!("cluster{c:02}");
        conn.batch_execute(&format!(
            "INSERT INTO clusters (code, name, lead_emails, language, created_at) VALUES ({}, {}, {}, 'en', {})",
            q(&code),
            q(&format!("Global Cluster {c}")),
            q(&format!("[\"lead{c}@bench.example\"]")),
            ts(now)
        ))
        .unwrap();
        for o in 0..ops {
            let slug = format!("{code}-op{o:02}");
            conn.batch_execute(&format!(
                "INSERT INTO operations (slug, cluster_id, country, name, created_at) \
                 SELECT {}, id, 'YE', {}, {} FROM clusters WHERE code = {}",
                q(&slug),
                q(&format!("Operation {c}/{o}")),
                ts(now),
                q(&code)
            ))
            .unwrap();
            let mut sql = String::from("BEGIN;");
            for (k, days) in [(0, 400i64), (1, 40)] {
                let closes = now - chrono::Duration::days(days);
                sql.push_str(&format!(
                    "INSERT INTO rounds (operation_id, framework, surveys, title, opens_at, closes_at, state, created_at, closed_at) \
                     SELECT id, 'ccpm', '[\"ccpm-partner\"]', {}, {}, {}, 'closed', {}, {} FROM operations WHERE slug = {};",
                    q(&format!("CCPM {k}")),
                    ts(closes - chrono::Duration::days(30)),
                    ts(closes),
                    ts(closes),
                    ts(closes),
                    q(&slug)
                ));
                let bias: f64 = rng.gen_range(0.2..0.8);
                for r in 0..responses {
                    let id = uuid::Uuid::new_v4().to_string();
                    let mut items = Vec::new();
                    for (name, choices) in &scored {
                        let i = if rng.gen_bool(bias) {
                            rng.gen_range(0..choices.len())
                        } else {
                            choices.len()
                                - 1
                                - rng.gen_range(0..choices.len()).min(choices.len() - 1) / 2
                        };
                        let (v, s) = &choices[i.min(choices.len() - 1)];
                        items.push(Item {
                            question: name.clone(),
                            value: json!(v),
                            score: Some(*s),
                            indicator: None,
                        });
                    }
                    // One row per response, as a submission stores it (the layout of the
                    // survey version is written by the first one).
                    let packed = response_store::pack_scores(
                        conn,
                        "ccpm-partner",
                        survey.version as i32,
                        &items,
                        None,
                    )
                    .unwrap();
                    sql.push_str(&format!(
                        "INSERT INTO responses (uuid, round_id, survey_id, survey_version, org_type, language, \
                         answers_digest, submitted_at, answers, scores) \
                         SELECT {}, r.id, 'ccpm-partner', {}, {}, 'en', 'bench', {}, {}, {} FROM rounds r \
                         JOIN operations o ON o.id = r.operation_id WHERE o.slug = {} AND r.title = {};",
                        q(&id),
                        survey.version,
                        q(org_types[r % org_types.len()]),
                        ts(closes),
                        q(&response_store::answers_text(&items)),
                        q(&packed),
                        q(&slug),
                        q(&format!("CCPM {k}"))
                    ));
                }
            }
            sql.push_str("COMMIT;");
            conn.batch_execute(&sql).unwrap();
            let op = clusterpulse::db::models::operation_by_slug(conn, &slug)
                .unwrap()
                .unwrap();
            let categories = feedback::CATEGORIES;
            for i in 0..items {
                let mut answers = Map::new();
                answers.insert("category".into(), json!(categories[i % categories.len()]));
                answers.insert("message".into(), json!("bench item"));
                answers.insert("consent_to_contact".into(), json!("no"));
                answers.insert("sex".into(), json!(["female", "male"][i % 2]));
                feedback::store(
                    conn,
                    config,
                    NewItem {
                        op: &op,
                        channel: "web",
                        language: "en",
                        answers,
                        contact: None,
                        admin1: None,
                        admin2: None,
                        actor: None,
                        at: now - chrono::Duration::days(rng.gen_range(0..360)),
                    },
                )
                .unwrap();
            }
        }
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = (
        env_or("BENCH_CLUSTERS", 11, 2, full),
        env_or("BENCH_OPERATIONS", 40, 2, full),
        env_or("BENCH_RESPONSES", 15, 4, full),
        env_or("BENCH_FEEDBACK", 20, 3, full),
    );
    let scratch = ScratchDb::create();
    let config = scratch.config(&[]);
    let pool = db::connect(&config.database_url, 4).unwrap();
    db::migrate(&pool).unwrap();
    let (catalog, _) = clusterpulse::domain::catalog::load_catalog(&config.surveys_dir).unwrap();
    let templates = clusterpulse::render::templates::Templates::load(None).unwrap();
    let mut conn = pool.get().unwrap();
    let t0 = Instant::now();
    seed(&mut conn, &catalog, &config, sizes);
    eprintln!("seeded {sizes:?} in {:.1}s", t0.elapsed().as_secs_f64());

    // Phase 1: scoring, charts, rendering, queueing.
    let t = Instant::now();
    let report = scorecards::send(
        &mut conn,
        &catalog,
        &templates,
        &config,
        &SendOptions {
            cluster: None,
            period: None,
            force: false,
            at: clusterpulse::kernel::time::now(),
        },
    )
    .unwrap();
    let build_secs = t.elapsed().as_secs_f64();
    assert_eq!(report.queued.len(), sizes.0, "{:?}", report.skipped);

    // Phase 2: hand every message to the SMTP server.
    let python = "/usr/bin/python3";
    let have_sink = std::process::Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    // BENCH_MAIL_DIR keeps the delivered messages there (to look at their parts).
    let sink_dir = std::env::var("BENCH_MAIL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| scratch.dir.path().join("sink"));
    let mut child = None;
    let transport = if have_sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ready = scratch.dir.path().join("ready");
        child = Some(
            std::process::Command::new(python)
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smtp_sink.py"))
                .args(["--port", &port.to_string()])
                .arg("--dir")
                .arg(&sink_dir)
                .arg("--ready-file")
                .arg(&ready)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        while !ready.exists() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let settings =
            clusterpulse::mail::SmtpSettings::parse(&format!("smtp://127.0.0.1:{port}")).unwrap();
        Transport::smtp(&settings, Duration::from_secs(10)).unwrap()
    } else {
        Transport::files(&sink_dir)
    };
    let mailer = Mailer::new(transport, &config.mail_from, config.mail.clone()).unwrap();
    let t = Instant::now();
    let mut delivered = 0;
    while delivered < sizes.0 {
        delivered += clusterpulse::mail::deliver_due(&pool, &mailer, "bench").unwrap();
    }
    let send_secs = t.elapsed().as_secs_f64();
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
    let bytes: u64 = std::fs::read_dir(&sink_dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let rounds = sizes.0 * sizes.1 * 2;
    println!(
        "backend: {}; {} clusters × {} operations × 2 rounds ({rounds} rounds, {} responses, {} feedback items)",
        scratch.backend,
        sizes.0,
        sizes.1,
        rounds * sizes.2,
        sizes.0 * sizes.1 * sizes.3
    );
    println!("scoring + charts + rendering + queueing: {build_secs:.2} s");
    println!(
        "handing {delivered} messages ({:.1} MB) to {}: {send_secs:.2} s",
        bytes as f64 / 1e6,
        if have_sink {
            "the SMTP server"
        } else {
            ".eml files"
        }
    );
    println!("total: {:.2} s", build_secs + send_secs);
}
