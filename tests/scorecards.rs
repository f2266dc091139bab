//! Scorecards through the real server: who may send, once per cluster and period, the MIME
//! of the email as delivered (file transport here; over real SMTP in tests/mail.rs), the web
//! view with its charts, and the CLI dry run.

mod common;
use common::TestApp;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

struct World {
    admin: String,
    coord: String,
    lead: String,
    other_lead: String,
    lead_email: String,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token();
    let lead_email = format!("lead-{}@shelter.example.org", uuid::Uuid::new_v4().simple());
    for (code, name, lead, lang) in [
        (
            "shelter",
            "Global Shelter Cluster",
            lead_email.as_str(),
            "fr",
        ),
        (
            "health",
            "Global Health Cluster",
            "lead@health.example.org",
            "en",
        ),
    ] {
        let r = app
            .post_json(
                &admin,
                "/api/v1/clusters",
                json!({"code": code, "name": name, "lead_emails": [lead], "language": lang}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    for (slug, cluster) in [
        ("shelter-yemen", "shelter"),
        ("shelter-sudan", "shelter"),
        ("health-yemen", "health"),
    ] {
        let r = app
            .post_json(&admin, "/api/v1/operations", json!({"slug": slug, "cluster": cluster, "country": "YE", "name": format!("{slug} operation")}))
            .await;
        assert_eq!(r.status(), 201);
    }
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    World {
        lead: app.user_token("lead-a@example.org", "global_lead", Some("shelter"), &[]),
        other_lead: app.user_token("lead-h@example.org", "global_lead", Some("health"), &[]),
        admin,
        coord,
        lead_email,
    }
}

fn eml_to(dir: &Path, to: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "eml")
                && std::fs::read_to_string(&p).is_ok_and(|s| s.contains(to))
            {
                out.push(p);
            }
        }
    }
    out
}

async fn send_rules_and_mime(app: TestApp) {
    let w = world(&app).await;
    common::closed_round(&app, &w.coord, "shelter-yemen", 6).await;
    let r = app
        .new_client()
        .post(app.url("/api/v1/feedback"))
        .json(
            &json!({"operation": "shelter-yemen", "answers": {"category": "sensitive",
            "message": "secret matter", "consent_to_contact": "no"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Who may send.
    let body = json!({"cluster": "shelter", "period": "2026-11"});
    for (token, status) in [(&w.coord, 403), (&w.other_lead, 403)] {
        let r = app
            .post_json(token, "/api/v1/scorecards/send", body.clone())
            .await;
        assert_eq!(r.status(), status);
    }
    let r = app
        .post_json(
            &w.lead,
            "/api/v1/scorecards/send",
            json!({"period": "2026-13"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]
        .get("period")
        .is_some());
    let r = app
        .post_json(
            &w.admin,
            "/api/v1/scorecards/send",
            json!({"cluster": "nope"}),
        )
        .await;
    assert_eq!(r.status(), 404);

    // The lead sends their cluster's scorecard: queued once.
    let r = app
        .post_json(&w.lead, "/api/v1/scorecards/send", body.clone())
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["queued"][0]["cluster"], "shelter");
    assert_eq!(v["queued"][0]["period"], "2026-11");
    assert_eq!(v["queued"][0]["recipients"], json!([w.lead_email]));
    let r = app
        .post_json(&w.admin, "/api/v1/scorecards/send", body.clone())
        .await;
    let v: Value = r.json().await.unwrap();
    assert!(v["queued"].as_array().unwrap().is_empty());
    assert_eq!(v["skipped"][0]["cluster"], "shelter");
    // Forced: queued again.
    let mut forced = body.clone();
    forced["force"] = json!(true);
    let v: Value = app
        .post_json(&w.admin, "/api/v1/scorecards/send", forced)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["queued"].as_array().unwrap().len(), 1);

    // The outbox (admin only) shows both messages; the worker delivers them as .eml files.
    assert_eq!(app.get_json(&w.lead, "/api/v1/outbox").await.status(), 403);
    let dir = app.config.outbox_dir();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while eml_to(&dir, &w.lead_email).len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "scorecards not delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let outbox: Value = app
        .get_json(&w.admin, "/api/v1/outbox?status=sent")
        .await
        .json()
        .await
        .unwrap();
    let scorecards: Vec<&Value> = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "scorecard")
        .collect();
    assert_eq!(scorecards.len(), 2);
    let files = eml_to(&dir, &w.lead_email);
    let raw = std::fs::read(&files[0]).unwrap();
    // The cluster's language is French.
    common::check_scorecard_mime(&raw, &w.lead_email, "tableau de bord");
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains("secret matter"),
        "sensitive content never in a scorecard"
    );

    // The web view: same content, SVG charts, a send button for the lead.
    let c = app.login("lead-a@example.org").await;
    let page = c
        .get(app.url("/clusters/shelter/scorecard?period=2026-11"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/v1/clusters/shelter/scorecard/charts/grid.svg?period"));
    assert!(html.contains("shelter-yemen operation"));
    assert!(html.contains("/clusters/shelter/scorecard/send"));
    for chart in ["grid.svg", "volume.png", "functions-shelter-yemen.svg"] {
        let r = app
            .get_json(
                &w.lead,
                &format!("/api/v1/clusters/shelter/scorecard/charts/{chart}?period=2026-11"),
            )
            .await;
        assert_eq!(r.status(), 200, "{chart}");
    }
    let r = app
        .get_json(
            &w.lead,
            "/api/v1/clusters/shelter/scorecard/charts/functions-health-yemen.svg",
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .get_json(
            &w.other_lead,
            "/api/v1/clusters/shelter/scorecard/charts/grid.svg",
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .login("lead-h@example.org")
        .await
        .get(app.url("/clusters/shelter/scorecard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The button, without and with its CSRF token.
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url("/clusters/shelter/scorecard/send"))
        .form(&[("period", "2026-10")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.url("/clusters/shelter/scorecard/send"))
        .form(&[("csrf_token", csrf.as_str()), ("period", "2026-10")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("sent=queued"));
}
both_backends!(send_and_view, send_rules_and_mime);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_dry_run_writes_files_and_queues_nothing() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let w = world(&app).await;
    common::closed_round(&app, &w.coord, "shelter-yemen", 3).await;
    let out = app.dir.path().join("preview");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_clusterpulse"))
        .args([
            "scorecards",
            "send",
            "--cluster",
            "shelter",
            "--period",
            "2026-11",
            "--dry-run",
            "--out",
        ])
        .arg(&out)
        .env("DATABASE_URL", &app.config.database_url)
        .env("CLUSTERPULSE_DATA_DIR", app.dir.path())
        .env("CLUSTERPULSE_SECRET_KEY", common::SECRET)
        .env("CLUSTERPULSE_SURVEYS_DIR", common::surveys_dir())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("shelter-2026-11.html")).unwrap();
    assert!(html.contains("shelter-2026-11-grid.png"));
    assert!(out.join("shelter-2026-11-grid.png").exists());
    let eml = std::fs::read(out.join("shelter-2026-11-0.eml")).unwrap();
    common::check_scorecard_mime(&eml, &w.lead_email, "tableau de bord");
    let outbox: Value = app
        .get_json(&w.admin, "/api/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert!(outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["kind"] != "scorecard"));
    // An unknown cluster is named.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_clusterpulse"))
        .args([
            "scorecards",
            "send",
            "--cluster",
            "atlantis",
            "--dry-run",
            "--out",
        ])
        .arg(&out)
        .env("DATABASE_URL", &app.config.database_url)
        .env("CLUSTERPULSE_DATA_DIR", app.dir.path())
        .env("CLUSTERPULSE_SECRET_KEY", common::SECRET)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("atlantis"));
}

/// Two server instances on one database asked at the same moment: one queues, one skips.
async fn two_instances_send_once(app: TestApp) {
    let w = world(&app).await;
    common::closed_round(&app, &w.coord, "shelter-yemen", 3).await;
    let other = app.second_instance().await;
    let body = json!({"cluster": "shelter", "period": "2026-09"});
    let (a, b) = tokio::join!(
        app.post_json(&w.admin, "/api/v1/scorecards/send", body.clone()),
        other.post_json(&w.admin, "/api/v1/scorecards/send", body.clone()),
    );
    assert_eq!(a.status(), 200);
    assert_eq!(b.status(), 200);
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    let queued = a["queued"].as_array().unwrap().len() + b["queued"].as_array().unwrap().len();
    let skipped = a["skipped"].as_array().unwrap().len() + b["skipped"].as_array().unwrap().len();
    assert_eq!((queued, skipped), (1, 1), "{a} {b}");
    let outbox: Value = app
        .get_json(&w.admin, "/api/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    let n = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "scorecard")
        .count();
    assert_eq!(n, 1);
}
both_backends!(two_instances, two_instances_send_once);
