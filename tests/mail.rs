//! The durable outbox end to end, on SQLite and PostgreSQL: enqueue with dedupe, the file
//! transport, a real SMTP server (scripts/smtp_sink.py), SMTP outages with back-off, two
//! workers racing over one queue, and the worker started by the server.
//!
//! SMTP tests use the sink that scripts/test.sh starts (`TEST_SMTP_URL`, `TEST_SMTP_DIR`)
//! and print "skipped: …" without it; the outage test starts its own sink (needs python3
//! with aiosmtpd; `SMTP_SINK_PYTHON` names the interpreter).

mod common;
use clusterpulse::db::{self, schema::outbox};
use clusterpulse::mail::{self, Email, EnqueueOutcome, MailConfig, Mailer, Transport};
use common::smtp::{free_port, shared_sink, sink_python, Sink};
use common::{Backend, TestApp};
use diesel::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FROM: &str = "clusterpulse <noreply@clusterpulse.example>";

/// Like `both_backends!`, with the server's own mail worker off so the test's workers are
/// the only ones touching the outbox.
macro_rules! mail_test {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body(spawn(Backend::Sqlite).await.unwrap()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match spawn(Backend::Postgres).await {
                    Some(app) => $body(app).await,
                    None => {
                        eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested")
                    }
                }
            }
        }
    };
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |env| {
        env.insert("CLUSTERPULSE_MAIL_WORKER".into(), "off".into());
    })
    .await
}

fn policy() -> MailConfig {
    MailConfig {
        smtp_timeout: Duration::from_secs(5),
        ..MailConfig::default()
    }
}

fn file_mailer(dir: &Path) -> Mailer {
    Mailer::new(Transport::files(dir), FROM, policy()).unwrap()
}

fn smtp_mailer(url: &str, policy: MailConfig) -> Mailer {
    let settings = mail::SmtpSettings::parse(url).unwrap();
    Mailer::new(
        Transport::smtp(&settings, policy.smtp_timeout).unwrap(),
        FROM,
        policy,
    )
    .unwrap()
}

fn email(to: &str, subject: &str) -> Email {
    Email {
        to: to.into(),
        subject: subject.into(),
        text: "Bonjour — مرحبا".into(),
        html: Some("<p>Bonjour — <span dir=\"rtl\">مرحبا</span></p>".into()),
        ..Default::default()
    }
}

fn enqueue(app: &TestApp, key: Option<&str>, e: &Email) -> EnqueueOutcome {
    let mut conn = app.pool.get().unwrap();
    db::write_tx(&mut conn, |c| mail::enqueue(c, "test", key, FROM, e)).unwrap()
}

#[derive(Debug, Queryable)]
struct Row {
    id: i32,
    status: String,
    attempts: i32,
    next_attempt_at: chrono::NaiveDateTime,
    claimed_by: Option<String>,
    last_error: Option<String>,
    sent_at: Option<chrono::NaiveDateTime>,
}

fn rows(app: &TestApp) -> Vec<Row> {
    let mut conn = app.pool.get().unwrap();
    outbox::table
        .order(outbox::id)
        .select((
            outbox::id,
            outbox::status,
            outbox::attempts,
            outbox::next_attempt_at,
            outbox::claimed_by,
            outbox::last_error,
            outbox::sent_at,
        ))
        .load(&mut conn)
        .unwrap()
}

fn depth(app: &TestApp) -> i64 {
    mail::queue_depth(&mut app.pool.get().unwrap()).unwrap()
}

/// The finished `.eml` files of a folder (temporary files are hidden).
fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with(".eml") && !name.starts_with('.')
            })
            .collect(),
        Err(_) => vec![],
    };
    v.sort();
    v
}

/// Files of `dir` whose content contains `marker`.
fn files_with(dir: &Path, marker: &str) -> Vec<Vec<u8>> {
    eml_files(dir)
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .filter(|b| String::from_utf8_lossy(b).contains(marker))
        .collect()
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).unwrap()
}

fn marker() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

// --- tests --------------------------------------------------------------------------------

async fn file_transport_delivers_each_message_once(app: TestApp) {
    let out = app.dir.path().join("files-outbox");
    let mailer = file_mailer(&out);
    let m = marker();
    for i in 0..3 {
        let e = email(
            &format!("partner{i}-{m}@example.org"),
            &format!("Invitation {i} — دعوة"),
        );
        assert!(matches!(enqueue(&app, None, &e), EnqueueOutcome::Queued(_)));
    }
    assert_eq!(depth(&app), 3);

    let sent = mail::run_once(&app.pool, &mailer, "w1").await.unwrap();
    assert_eq!(sent, 3);
    let files = eml_files(&out);
    assert_eq!(files.len(), 3, "{files:?}");
    let ids: Vec<i32> = rows(&app).iter().map(|r| r.id).collect();
    for (i, (path, id)) in files.iter().zip(&ids).enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.ends_with(&format!("-{id}.eml")), "{name}");
        let raw = std::fs::read(path).unwrap();
        let msg = parse(&raw);
        let to = msg.to().unwrap().first().unwrap().address().unwrap();
        assert_eq!(to, format!("partner{i}-{m}@example.org"));
        assert_eq!(
            msg.subject(),
            Some(format!("Invitation {i} — دعوة").as_str())
        );
    }
    for r in rows(&app) {
        assert_eq!(r.status, "sent");
        assert_eq!(r.attempts, 1);
        assert!(r.sent_at.is_some());
        assert!(r.claimed_by.is_none());
    }
    assert_eq!(depth(&app), 0);

    // Never twice.
    assert_eq!(mail::run_once(&app.pool, &mailer, "w1").await.unwrap(), 0);
    assert_eq!(mail::run_once(&app.pool, &mailer, "w2").await.unwrap(), 0);
    assert_eq!(eml_files(&out).len(), 3);
}
mail_test!(
    file_transport_delivers_each_message_once,
    file_transport_delivers_each_message_once
);

async fn dedupe_key_queues_once(app: TestApp) {
    let e = email("lead@shelter.example.org", "Scorecard 2026-11");
    let key = "scorecard:shelter:2026-11:lead@shelter.example.org";
    assert!(matches!(
        enqueue(&app, Some(key), &e),
        EnqueueOutcome::Queued(_)
    ));
    assert_eq!(enqueue(&app, Some(key), &e), EnqueueOutcome::Duplicate);
    // Still a duplicate once sent.
    let out = app.dir.path().join("o");
    assert_eq!(
        mail::run_once(&app.pool, &file_mailer(&out), "w")
            .await
            .unwrap(),
        1
    );
    assert_eq!(enqueue(&app, Some(key), &e), EnqueueOutcome::Duplicate);
    // No key: no dedupe.
    assert!(matches!(enqueue(&app, None, &e), EnqueueOutcome::Queued(_)));
    assert!(matches!(enqueue(&app, None, &e), EnqueueOutcome::Queued(_)));
    assert_eq!(rows(&app).len(), 3);

    // A bad address is an error, and the caller's transaction rolls back.
    let mut conn = app.pool.get().unwrap();
    let r = db::write_tx(&mut conn, |c| {
        mail::enqueue(c, "test", Some("k2"), FROM, &email("x@y.org", "ok"))?;
        mail::enqueue(c, "test", Some("k3"), FROM, &email("not an address", "bad"))
    });
    let err = r.unwrap_err().to_string();
    assert!(err.contains("recipient"), "{err}");
    assert_eq!(rows(&app).len(), 3);
}
mail_test!(dedupe_key_queues_once, dedupe_key_queues_once);

/// Two transactions race on one key: the loser's insert hits the UNIQUE constraint (on
/// PostgreSQL it waits for the winner's commit), gets `Duplicate`, and its transaction
/// stays usable.
async fn concurrent_enqueues_with_one_key(app: TestApp) {
    let key = format!("race-{}", marker());
    let (tx_started, started) = std::sync::mpsc::channel();
    let pool = app.pool.clone();
    let k = key.clone();
    let first = std::thread::spawn(move || {
        let mut conn = pool.get().unwrap();
        db::write_tx(&mut conn, |c| {
            let r = mail::enqueue(c, "test", Some(&k), FROM, &email("a@x.org", "one"))?;
            tx_started.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(500));
            Ok::<_, diesel::result::Error>(r)
        })
        .unwrap()
    });
    started.recv().unwrap();
    let pool = app.pool.clone();
    let k = key.clone();
    let second = std::thread::spawn(move || {
        let mut conn = pool.get().unwrap();
        db::write_tx(&mut conn, |c| {
            let dup = mail::enqueue(c, "test", Some(&k), FROM, &email("a@x.org", "two"))?;
            let other = mail::enqueue(
                c,
                "test",
                Some(&format!("{k}-other")),
                FROM,
                &email("b@x.org", "three"),
            )?;
            Ok::<_, diesel::result::Error>((dup, other))
        })
        .unwrap()
    });
    let a = first.join().unwrap();
    let (b, c) = second.join().unwrap();
    assert!(matches!(a, EnqueueOutcome::Queued(_)), "{a:?}");
    assert_eq!(b, EnqueueOutcome::Duplicate);
    assert!(matches!(c, EnqueueOutcome::Queued(_)), "{c:?}");
    assert_eq!(rows(&app).len(), 2);
}
mail_test!(
    concurrent_enqueues_with_one_key,
    concurrent_enqueues_with_one_key
);

async fn claims_are_exclusive_until_they_expire(app: TestApp) {
    for i in 0..4 {
        enqueue(&app, None, &email(&format!("p{i}@x.org"), "s"));
    }
    let mut conn = app.pool.get().unwrap();
    let lease = Duration::from_millis(800);
    let a = mail::claim_due(&mut conn, "wa", 3, lease).unwrap();
    assert_eq!(a.len(), 3);
    let b = mail::claim_due(&mut conn, "wb", 10, lease).unwrap();
    assert_eq!(b.len(), 1, "only the unclaimed row");
    assert!(mail::claim_due(&mut conn, "wc", 10, lease)
        .unwrap()
        .is_empty());
    std::thread::sleep(Duration::from_millis(1000));
    // Expired claims (a crashed worker) are taken over.
    let c = mail::claim_due(&mut conn, "wc", 10, lease).unwrap();
    assert_eq!(c.len(), 4);
}
mail_test!(
    claims_are_exclusive_until_they_expire,
    claims_are_exclusive_until_they_expire
);

async fn two_workers_deliver_every_message_once(app: TestApp) {
    let out = app.dir.path().join("race-outbox");
    let mailer = Mailer::new(
        Transport::files(&out),
        FROM,
        MailConfig {
            batch: 3,
            ..policy()
        },
    )
    .unwrap();
    for i in 0..20 {
        enqueue(&app, None, &email(&format!("p{i}@x.org"), &format!("m{i}")));
    }
    let (a, b) = tokio::join!(
        mail::run_once(&app.pool, &mailer, "worker-a"),
        mail::run_once(&app.pool, &mailer, "worker-b"),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, 20, "a={a} b={b}");
    let files = eml_files(&out);
    assert_eq!(files.len(), 20);
    let mut ids: Vec<i32> = files
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            name.rsplit('-').next().unwrap().parse().unwrap()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "each outbox id written exactly once");
    assert!(rows(&app).iter().all(|r| r.status == "sent"));
}
mail_test!(
    two_workers_deliver_every_message_once,
    two_workers_deliver_every_message_once
);

async fn smtp_delivers_to_a_real_server(app: TestApp) {
    let Some((url, dir)) = shared_sink() else {
        eprintln!(
            "skipped: TEST_SMTP_URL / TEST_SMTP_DIR not set (scripts/test.sh starts an SMTP sink)"
        );
        return;
    };
    let mailer = smtp_mailer(&url, policy());
    let m = marker();
    let to = format!("lead-{m}@shelter.example.org");
    let subject = format!("بطاقة أداء الكتلة — Fiche de résultats {m}");
    let mut e = email(&format!("Chef de file <{to}>"), &subject);
    e.attachments.push(mail::Attachment {
        filename: "scores.csv".into(),
        content_type: "text/csv; charset=utf-8".into(),
        bytes: b"function,score\n1,72.5\n".to_vec(),
    });
    enqueue(&app, Some(&format!("smtp-{m}")), &e);
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 1);
    let got = files_with(&dir, &m);
    assert_eq!(got.len(), 1, "the sink received the message once");
    let msg = parse(&got[0]);
    assert_eq!(
        msg.to().unwrap().first().unwrap().address(),
        Some(to.as_str())
    );
    assert_eq!(msg.subject(), Some(subject.as_str()));
    assert_eq!(msg.attachment_count(), 1);
    let text = String::from_utf8_lossy(&got[0]).to_string();
    assert!(
        text.starts_with(&format!("X-Sink-Rcpt-To: {to}")),
        "envelope recipient"
    );
    let r = &rows(&app)[0];
    assert_eq!(r.status, "sent");
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
    assert_eq!(files_with(&dir, &m).len(), 1);
}
mail_test!(
    smtp_delivers_to_a_real_server,
    smtp_delivers_to_a_real_server
);

async fn two_workers_over_smtp(app: TestApp) {
    let Some((url, dir)) = shared_sink() else {
        eprintln!(
            "skipped: TEST_SMTP_URL / TEST_SMTP_DIR not set (scripts/test.sh starts an SMTP sink)"
        );
        return;
    };
    let mailer = smtp_mailer(
        &url,
        MailConfig {
            batch: 4,
            ..policy()
        },
    );
    let m = marker();
    for i in 0..20 {
        enqueue(
            &app,
            None,
            &email(&format!("p{i}-{m}@x.org"), &format!("race {m} #{i}")),
        );
    }
    let (a, b) = tokio::join!(
        mail::run_once(&app.pool, &mailer, "smtp-a"),
        mail::run_once(&app.pool, &mailer, "smtp-b"),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 20);
    let got = files_with(&dir, &m);
    assert_eq!(got.len(), 20);
    let mut subjects: Vec<String> = got
        .iter()
        .map(|raw| parse(raw).subject().unwrap().to_string())
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 20, "every message exactly once");
}
mail_test!(two_workers_over_smtp, two_workers_over_smtp);

async fn smtp_outage_is_retried_with_backoff(app: TestApp) {
    let Some(python) = sink_python() else {
        eprintln!("skipped: python3 with aiosmtpd not found (apt-get install python3-aiosmtpd)");
        return;
    };
    let port = free_port();
    let mailer = smtp_mailer(
        &format!("smtp://127.0.0.1:{port}"),
        MailConfig {
            retry_base: Duration::from_millis(1500),
            ..policy()
        },
    );
    let m = marker();
    let to = format!("coordinator-{m}@x.org");
    enqueue(&app, Some(&m), &email(&to, &format!("outage {m}")));

    // Nothing listens: the attempt fails, the message stays queued for later.
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
    let r = &rows(&app)[0];
    assert_eq!(r.status, "queued");
    assert_eq!(r.attempts, 1);
    assert!(
        r.next_attempt_at > clusterpulse::kernel::time::now(),
        "retry is in the future"
    );
    assert!(r.claimed_by.is_none(), "claim released");
    let err = r.last_error.clone().unwrap();
    assert!(err.starts_with("smtp"), "{err}");
    assert!(!err.contains(&m), "no personal data in last_error: {err}");
    assert_eq!(depth(&app), 1);
    // Not due yet: no new attempt.
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
    assert_eq!(rows(&app)[0].attempts, 1);

    // The server comes up; once due, the message goes out exactly once.
    let sink = Sink::start(&python, port);
    let due = rows(&app)[0].next_attempt_at;
    while clusterpulse::kernel::time::now() <= due {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 1);
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
    let got = files_with(&sink.mail_dir(), &m);
    assert_eq!(got.len(), 1);
    assert_eq!(
        parse(&got[0]).subject(),
        Some(format!("outage {m}").as_str())
    );
    let r = &rows(&app)[0];
    assert_eq!(r.status, "sent");
    assert_eq!(r.attempts, 2);
    assert!(r.last_error.is_none());
    assert_eq!(depth(&app), 0);
}
mail_test!(
    smtp_outage_is_retried_with_backoff,
    smtp_outage_is_retried_with_backoff
);

async fn gives_up_after_max_attempts(app: TestApp) {
    let port = free_port(); // nothing listens there
    let mailer = smtp_mailer(
        &format!("smtp://127.0.0.1:{port}"),
        MailConfig {
            retry_base: Duration::ZERO,
            max_attempts: 3,
            ..policy()
        },
    );
    enqueue(&app, None, &email("p@x.org", "never"));
    for attempt in 1..=3 {
        assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
        let r = &rows(&app)[0];
        assert_eq!(r.attempts, attempt);
        assert_eq!(r.status, if attempt < 3 { "queued" } else { "failed" });
    }
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
    assert_eq!(
        rows(&app)[0].attempts,
        3,
        "no attempt after failing for good"
    );
    assert_eq!(depth(&app), 0);
}
mail_test!(gives_up_after_max_attempts, gives_up_after_max_attempts);

/// The worker that `Application::build` starts delivers queued mail by itself (here to the
/// `.eml` outbox, `SMTP_URL` being unset).
async fn server_worker_delivers(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |env| {
        env.insert("CLUSTERPULSE_MAIL_POLL_SECS".into(), "0.2".into());
    })
    .await
    else {
        eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested");
        return;
    };
    let m = marker();
    enqueue(
        &app,
        None,
        &email("p@x.org", &format!("from the server {m}")),
    );
    let out = app.config.outbox_dir();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while files_with(&out, &m).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server's worker did not deliver"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(files_with(&out, &m).len(), 1);
    assert_eq!(rows(&app)[0].status, "sent");
}

mod server_worker_delivers {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        server_worker_delivers(Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        server_worker_delivers(Backend::Postgres).await;
    }
}

#[test]
fn bad_smtp_url_stops_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = common::base_env(dir.path(), "sqlite://x.db");
    env.insert(
        "SMTP_URL".into(),
        "smtp://user:hunter2@host:25?tls=sometimes".into(),
    );
    let err = clusterpulse::Config::from_lookup(|k| env.get(k).cloned())
        .unwrap_err()
        .to_string();
    assert!(err.contains("SMTP_URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// A scorecard queued while the SMTP server is down goes out once it is back, exactly once,
/// as a complete message (inline PNG charts, text part, CSV); asking again sends nothing.
async fn scorecard_survives_an_smtp_outage(app: TestApp) {
    let Some(python) = sink_python() else {
        eprintln!("skipped: python3 with aiosmtpd not found (apt-get install python3-aiosmtpd)");
        return;
    };
    let m = marker();
    let lead = format!("lead-{m}@shelter.example.org");
    let admin = app.admin_token();
    let r = app
        .post_json(&admin, "/api/v1/clusters", serde_json::json!({"code": "shelter", "name": "Global Shelter Cluster", "lead_emails": [lead]}))
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(&admin, "/api/v1/operations", serde_json::json!({"slug": "shelter-yemen", "cluster": "shelter", "country": "YE", "name": "Shelter Cluster Yemen"}))
        .await;
    assert_eq!(r.status(), 201);
    let coord = app.user_token("coord@x.org", "coordinator", None, &["shelter-yemen"]);
    common::closed_round(&app, &coord, "shelter-yemen", 4).await;

    let port = free_port();
    let mailer = smtp_mailer(
        &format!("smtp://127.0.0.1:{port}"),
        MailConfig {
            retry_base: Duration::from_millis(1500),
            ..policy()
        },
    );
    let send = serde_json::json!({"cluster": "shelter", "period": common::this_period()});
    let r = app
        .post_json(&admin, "/api/v1/scorecards/send", send.clone())
        .await;
    assert_eq!(r.status(), 200);
    let before = rows(&app).len();
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
    assert_eq!(rows(&app)[0].status, "queued");
    assert_eq!(rows(&app)[0].attempts, 1);

    let sink = Sink::start(&python, port);
    let due = rows(&app)[0].next_attempt_at;
    while clusterpulse::kernel::time::now() <= due {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 1);
    assert_eq!(mail::run_once(&app.pool, &mailer, "w").await.unwrap(), 0);
    let got = files_with(&sink.mail_dir(), &m);
    assert_eq!(got.len(), 1, "delivered exactly once");
    common::check_scorecard_mime(&got[0], &lead, "coordination scorecard");
    // The same cluster and period again: skipped, nothing new in the outbox.
    let v: serde_json::Value = app
        .post_json(&admin, "/api/v1/scorecards/send", send)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["skipped"][0]["cluster"], "shelter");
    assert_eq!(rows(&app).len(), before);
}
mail_test!(
    scorecard_survives_an_smtp_outage,
    scorecard_survives_an_smtp_outage
);
