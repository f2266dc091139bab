//! The survey page in a real headless Chromium (Debian's), driven by playwright-core:
//! skip logic, drafts across devices, right-to-left Arabic, submit and thank-you.
//! Skips (with the reason) when chromium, node or tests/browser/node_modules are missing;
//! scripts/test.sh installs all three.

mod common;
use common::TestApp;
use serde_json::json;
use std::path::Path;

fn browser_ready() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!("{chromium} not found (apt-get install chromium)"));
    }
    if !Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/browser/node_modules/playwright-core"
    ))
    .exists()
    {
        return Err("tests/browser/node_modules missing (npm ci in tests/browser)".into());
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("node not found".into());
    }
    Ok(())
}

async fn partner_answers_in_a_browser(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let round: serde_json::Value = app
        .post_json(
            &coord,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm",
            "surveys": ["ccpm-partner"], "opens_at": chrono::Utc::now().to_rfc3339(),
            "closes_at": (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = round["id"].as_i64().unwrap();
    let inv: serde_json::Value = app
        .post_json(&coord, &format!("/api/v1/rounds/{id}/invitations"), json!({"invitations": [
            {"email": "p@ngo.org", "organization": "NGO", "org_type": "ingo", "survey": "ccpm-partner"}]}))
        .await.json().await.unwrap();
    let link = inv["invitations"][0]["link"].as_str().unwrap().to_string();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/survey.mjs");
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(&link)
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The response is in the database with the follow-up the browser showed.
    use clusterpulse::db::schema::{answers, responses};
    use diesel::prelude::*;
    let mut c = app.pool.get().unwrap();
    let n: i64 = responses::table.count().get_result(&mut c).unwrap();
    assert_eq!(n, 1);
    let rows: Vec<(String, String)> = answers::table
        .select((answers::question, answers::value))
        .load(&mut c)
        .unwrap();
    assert!(
        rows.contains(&("meetings_useful".into(), "\"strongly_disagree\"".into())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(
            "meetings_improve".into(),
            "\"Send the agenda two days before\"".into()
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("overall_rating".into(), "8".into())),
        "{rows:?}"
    );
}
both_backends!(survey_in_chromium, partner_answers_in_a_browser);

async fn person_gives_feedback_in_a_browser(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/feedback.mjs");
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(app.url("/f/shelter-yemen"))
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let reference = line["reference"].as_str().unwrap();
    // Stored with the contact details given after consent.
    let item: serde_json::Value = app
        .get_json(&coord, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["category"], "complaint");
    assert_eq!(item["contact"], "+967 711 000 222");
    assert_eq!(item["language"], "en");
}
both_backends!(feedback_in_chromium, person_gives_feedback_in_a_browser);

/// Runs `tests/browser/{script}` with node and returns the JSON line it prints; fails the test
/// with the script's output when it fails.
async fn run_script(script: &str, args: &[&str]) -> serde_json::Value {
    let path = format!("{}/tests/browser/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::process::Command::new("node")
        .arg(path)
        .args(args)
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

/// The staff inbox on a phone: intake first, 25 items a page, labels, logging a call.
async fn coordinator_uses_the_inbox_on_a_phone(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    for i in 0..40 {
        let r = app
            .post_json(
                &coord,
                "/api/v1/feedback",
                json!({"operation": "shelter-yemen", "channel": "hotline",
                       "answers": {"category": "complaint", "message": format!("call {i}"),
                                   "consent_to_contact": "no"}}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let line = run_script(
        "inbox.mjs",
        &[&app.url(""), "coord@example.org", common::PASSWORD],
    )
    .await;
    let reference = line["reference"].as_str().unwrap();
    let item: serde_json::Value = app
        .get_json(&coord, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["channel"], "hotline");
    assert_eq!(item["category"], "request");
    assert_eq!(item["age_group"], "60_plus");
}
both_backends!(inbox_in_chromium, coordinator_uses_the_inbox_on_a_phone);
