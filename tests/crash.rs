//! Crash safety: the real binary under load is killed with SIGKILL, restarted on the same
//! database, and every submission that got a 2xx is there exactly once; the outbox delivers
//! what was queued before the kill, once. SQLite (with `PRAGMA integrity_check`) and
//! PostgreSQL.

mod common;
use common::{PgDatabase, SECRET};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A blocking HTTP/1.0 GET of /healthz; true on a 200 status line.
fn healthz_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db_url: &str, data: &std::path::Path, port: u16, mail_worker: bool) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_clusterpulse"))
            .arg("serve")
            .env("DATABASE_URL", db_url)
            .env("CLUSTERPULSE_DATA_DIR", data)
            .env("CLUSTERPULSE_SECRET_KEY", SECRET)
            .env("CLUSTERPULSE_SURVEYS_DIR", common::surveys_dir())
            .env("CLUSTERPULSE_BIND", format!("127.0.0.1:{port}"))
            .env("CLUSTERPULSE_RATE_LIMIT_PUBLIC", "0")
            .env("CLUSTERPULSE_SCORECARDS", "off")
            .env("CLUSTERPULSE_WORKERS", "2")
            .env("CLUSTERPULSE_MAIL_POLL_SECS", "0.2")
            .env(
                "CLUSTERPULSE_MAIL_WORKER",
                if mail_worker { "on" } else { "off" },
            )
            .env("RUST_LOG", "warn")
            .env_remove("SMTP_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        let base = format!("http://127.0.0.1:{port}");
        // The listener is bound before migrations run, so an accepted TCP connection does not
        // mean the server is ready: wait for /healthz to answer 200 over HTTP.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if healthz_ok(port) {
                break;
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, base }
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown hooks, no flushing.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn crash_scenario(db_url: String, pg: bool) {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(&db_url, data.path(), port, false);
    let client = reqwest::Client::new();
    let base = server.base.clone();

    // A directory, a coordinator token, an open round with invitations.
    let pool = clusterpulse::db::connect(&db_url, 2).unwrap();
    let admin = {
        let mut c = pool.get().unwrap();
        clusterpulse::domain::accounts::add_user(
            &mut c,
            &clusterpulse::domain::accounts::NewAccount {
                email: "admin@x.org",
                role: "admin",
                cluster: None,
                operations: &[],
                countries: &[],
                password: common::PASSWORD,
            },
        )
        .unwrap();
        clusterpulse::domain::accounts::create_token_for(&mut c, "admin@x.org", "t").unwrap()
    };
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    assert_eq!(
        post(
            "/api/v1/clusters",
            json!({"code": "shelter", "name": "Shelter", "lead_emails": ["lead@x.org"]})
        )
        .await
        .unwrap()
        .status(),
        201
    );
    assert_eq!(post("/api/v1/operations", json!({"slug": "shelter-yemen", "cluster": "shelter", "country": "YE", "name": "Shelter Yemen"})).await.unwrap().status(), 201);
    let round: Value = post(
        "/api/v1/rounds",
        json!({"operation": "shelter-yemen", "framework": "ccpm",
        "surveys": ["ccpm-partner"], "opens_at": chrono::Utc::now().to_rfc3339(),
        "closes_at": (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339()}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let rid = round["id"].as_i64().unwrap();
    let invitations: Vec<Value> = (0..400)
        .map(|i| json!({"email": format!("p{i}@x.org"), "organization": format!("Org {i}"), "org_type": "ingo", "survey": "ccpm-partner"}))
        .collect();
    // Queued before the kill, delivered after the restart (the worker is off for now).
    let inv: Value = post(
        &format!("/api/v1/rounds/{rid}/invitations"),
        json!({"invitations": invitations, "send": true}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let tokens: Vec<String> = inv["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["token"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tokens.len(), 400);

    // Load: 8 clients submitting responses and feedback until the kill.
    let acked_responses = Arc::new(Mutex::new(Vec::<String>::new()));
    let acked_feedback = Arc::new(Mutex::new(Vec::<String>::new()));
    let tokens = Arc::new(Mutex::new(tokens));
    let mut tasks = Vec::new();
    for k in 0..8 {
        let (client, base) = (client.clone(), base.clone());
        let (ar, af, tokens) = (
            acked_responses.clone(),
            acked_feedback.clone(),
            tokens.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                if k % 2 == 0 {
                    let Some(token) = tokens.lock().unwrap().pop() else { break };
                    let id = uuid::Uuid::new_v4().to_string();
                    let r = client
                        .post(format!("{base}/api/v1/responses"))
                        .json(&json!({"token": token, "id": id, "answers": {"meeting_attendance": "always", "meetings_useful": "agree", "overall_rating": 6}}))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => ar.lock().unwrap().push(id),
                        Ok(_) => {}
                        Err(_) => break, // the server is gone
                    }
                } else {
                    let r = client
                        .post(format!("{base}/api/v1/feedback"))
                        .json(&json!({"operation": "shelter-yemen", "answers": {"category": "question", "message": format!("load {k} {i}"), "consent_to_contact": "no"}}))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            let v: Value = r.json().await.unwrap_or(Value::Null);
                            if let Some(reference) = v["reference"].as_str() {
                                af.lock().unwrap().push(reference.to_string());
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill();
    for t in tasks {
        t.await.unwrap();
    }
    let responses = acked_responses.lock().unwrap().clone();
    let feedback = acked_feedback.lock().unwrap().clone();
    assert!(
        !responses.is_empty() && !feedback.is_empty(),
        "load ran before the kill"
    );

    // Restart on the same database, mail worker on.
    let server = Server::start(&db_url, data.path(), port, true);
    {
        use clusterpulse::db::schema::{feedback as fb, responses as rs};
        use diesel::prelude::*;
        let mut c = pool.get().unwrap();
        for id in &responses {
            let n: i64 = rs::table
                .filter(rs::uuid.eq(id))
                .count()
                .get_result(&mut c)
                .unwrap();
            assert_eq!(n, 1, "acknowledged response {id} stored once");
        }
        for r in &feedback {
            let n: i64 = fb::table
                .filter(fb::reference.eq(r))
                .count()
                .get_result(&mut c)
                .unwrap();
            assert_eq!(n, 1, "acknowledged feedback {r} stored once");
        }
        // Nothing half-written: every stored response has its answers and item scores.
        let empty: i64 = diesel::sql_query(
            "SELECT COUNT(*) AS n FROM responses WHERE answers IN ('', '{}') OR scores = ''",
        )
        .get_result::<Count>(&mut c)
        .unwrap()
        .n;
        assert_eq!(empty, 0);
        if !pg {
            let ok: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
                .load(&mut c)
                .unwrap();
            assert_eq!(ok[0].integrity_check, "ok");
        }
        let stored_r: i64 = rs::table.count().get_result(&mut c).unwrap();
        let stored_f: i64 = fb::table.count().get_result(&mut c).unwrap();
        eprintln!(
            "crash test ({}): acknowledged {} responses / {} feedback; stored {stored_r} / {stored_f}",
            if pg { "PostgreSQL" } else { "SQLite" },
            responses.len(),
            feedback.len()
        );
        assert!(stored_r >= responses.len() as i64 && stored_f >= feedback.len() as i64);
    }
    // The 400 invitation emails queued before the kill are delivered after it, once each.
    let out = data.path().join("outbox");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
        if n >= 400 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "outbox not delivered after restart: {n}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut recipients: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| {
            let raw = std::fs::read_to_string(e.path()).unwrap();
            raw.lines()
                .find(|l| l.starts_with("To: "))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(recipients.len(), 400, "each message once");
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 400);
    drop(server);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    crash_scenario(url, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_postgres() {
    let Some(pg) = PgDatabase::create() else {
        eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    };
    crash_scenario(pg.url.clone(), true).await;
    pg.drop_now();
}
