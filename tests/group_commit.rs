//! Group commit through the real server, on both backends: many submissions at once, some
//! of them deliberately in conflict. Every acknowledged one is stored exactly once (shown by
//! replaying it and by the round's count), each conflicting one gets 409 without affecting
//! the others, and a refused one leaves nothing half-written behind.

mod common;
use common::{Backend, TestApp};
use serde_json::{json, Value};

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |env| {
        env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "0".into());
    })
    .await
}

fn answers(i: usize) -> Value {
    let levels = ["strongly_agree", "agree", "disagree", "agree"];
    json!({"meeting_attendance": "always", "meetings_useful": levels[i % 4],
           "who_what_where": levels[(i + 1) % 4], "overall_rating": (i % 11) as i64})
}

/// One submission: (token, id, answers) and what the server answered.
#[derive(Clone)]
struct Sent {
    token: String,
    id: String,
    answers: Value,
    status: u16,
    body: Value,
}

async fn submissions_at_once_are_stored_exactly_once(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let r = app
        .post_json(
            &coord,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm", "surveys": ["ccpm-partner"],
                   "opens_at": chrono::Utc::now().to_rfc3339(),
                   "closes_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let round = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let types = ["ingo", "nngo", "un"];
    let invitations: Vec<Value> = (0..104)
        .map(|i| {
            json!({"email": format!("p{i}@partner.example"), "organization": format!("Partner {i}"),
                        "org_type": types[i % 3], "survey": "ccpm-partner"})
        })
        .collect();
    let r = app
        .post_json(
            &coord,
            &format!("/api/v1/rounds/{round}/invitations"),
            json!({"invitations": invitations}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let tokens: Vec<String> = r.json::<Value>().await.unwrap()["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["token"].as_str().unwrap().to_string())
        .collect();

    // 100 plain submissions; two invitations sending the same response id; one invitation
    // answering twice with different ids; one response sent twice at once.
    let fresh = || uuid::Uuid::new_v4().to_string();
    let shared_id = fresh();
    let twice_id = fresh();
    let mut plan: Vec<(String, String, Value)> = (0..100)
        .map(|i| (tokens[i].clone(), fresh(), answers(i)))
        .collect();
    plan.push((tokens[100].clone(), shared_id.clone(), answers(100)));
    plan.push((tokens[101].clone(), shared_id.clone(), answers(101)));
    plan.push((tokens[102].clone(), fresh(), answers(102)));
    plan.push((tokens[102].clone(), fresh(), answers(3)));
    plan.push((tokens[103].clone(), twice_id.clone(), answers(103)));
    plan.push((tokens[103].clone(), twice_id.clone(), answers(103)));
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = plan
        .into_iter()
        .map(|(token, id, answers)| {
            let app = app.clone();
            tokio::spawn(async move {
                let (status, body) = common::post_response(&app, &token, &id, &answers).await;
                Sent {
                    token,
                    id,
                    answers,
                    status,
                    body,
                }
            })
        })
        .collect();
    let mut sent = Vec::new();
    for t in tasks {
        sent.push(t.await.unwrap());
    }
    let statuses = |from: usize| -> Vec<u16> {
        let mut s: Vec<u16> = sent[from..from + 2].iter().map(|s| s.status).collect();
        s.sort();
        s
    };
    for s in &sent[..100] {
        assert_eq!(s.status, 201, "{}", s.body);
    }
    assert_eq!(statuses(100), [201, 409], "one id for two invitations");
    assert_eq!(
        statuses(102),
        [201, 409],
        "two responses for one invitation"
    );
    assert_eq!(statuses(104), [200, 201], "the same response twice at once");
    assert_eq!(sent[104].body, sent[105].body);

    // The invitation that lost the id clash was left unanswered: it can still respond.
    let loser = sent[100..102].iter().find(|s| s.status == 409).unwrap();
    let (status, body) = common::post_response(&app, &loser.token, &fresh(), &loser.answers).await;
    assert_eq!(status, 201, "{body}");

    // Every acknowledged response is stored: a replay returns it as first stored…
    let acknowledged: Vec<&Sent> = sent.iter().filter(|s| s.status == 201).collect();
    assert_eq!(acknowledged.len(), 103);
    for s in &acknowledged {
        let (status, body) = common::post_response(&app, &s.token, &s.id, &s.answers).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, s.body);
    }
    // … other answers under its id are refused …
    let s = acknowledged[7];
    let (status, _) = common::post_response(&app, &s.token, &s.id, &answers(8)).await;
    assert_eq!(status, 409);
    // The snapshots taken while the writes came in together (on PostgreSQL by several
    // lanes, or transactions, at once): whole batches of min_respondents (3), and at least
    // 3 left unpublished. (A snapshot that marked its batch by a bound read in a statement
    // before could take in a response committed meanwhile: 100 published, seen here on
    // the pool path.)
    let open: Value = app
        .get_json(&coord, &format!("/api/v1/rounds/{round}/progress"))
        .await
        .json()
        .await
        .unwrap();
    let published = open["responded"].as_i64().unwrap();
    assert_eq!(published % 3, 0, "{open}");
    assert!(104 - published >= 3, "{open}");
    // … and the round holds each once: 103 acknowledged above and the loser's retry.
    let r = app
        .post_json(&coord, &format!("/api/v1/rounds/{round}/close"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let progress: Value = app
        .get_json(&coord, &format!("/api/v1/rounds/{round}/progress"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(progress["responded"], 104, "{progress}");
}
both_backends!(
    submissions,
    submissions_at_once_are_stored_exactly_once,
    spawn
);

/// The same on PostgreSQL's pool instead of writer lanes (`CLUSTERPULSE_DB_WRITERS=0`; SQLite
/// keeps its writer): concurrent publishers of a round's snapshot must not deadlock.
async fn spawn_on_the_pool(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |env| {
        env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "0".into());
        env.insert("CLUSTERPULSE_DB_WRITERS".into(), "0".into());
    })
    .await
}
both_backends!(
    submissions_on_the_pool,
    submissions_at_once_are_stored_exactly_once,
    spawn_on_the_pool
);

async fn feedback_at_once_is_stored_exactly_once(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..101)
        .map(|i| {
            let app = app.clone();
            // One item names an operation that does not exist: refused, alone.
            let operation = if i == 50 { "nowhere" } else { "shelter-yemen" };
            let (sex, category) = (
                ["female", "male"][i % 2],
                ["question", "complaint", "request"][i % 3],
            );
            tokio::spawn(async move {
                let r = app
                    .client
                    .post(app.url("/api/v1/feedback"))
                    .json(&json!({"operation": operation,
                        "answers": {"category": category, "sex": sex,
                        "message": format!("item {i}"), "consent_to_contact": "no"}}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut references = std::collections::BTreeSet::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let (status, body) = t.await.unwrap();
        if i == 50 {
            assert_eq!(status, 404, "{body}");
            continue;
        }
        assert_eq!(status, 201, "{body}");
        assert!(references.insert(body["reference"].as_str().unwrap().to_string()));
    }
    assert_eq!(references.len(), 100);
    for reference in &references {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/feedback/status/{reference}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{reference}");
    }
    let page: Value = app
        .get_json(
            &admin,
            "/api/v1/feedback?operation=shelter-yemen&limit=1000",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 100);
    let mut messages: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["message"].as_str().unwrap_or_default().to_string())
        .collect();
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), 100, "each item once");
    // The summary rows, written by batches at once (on PostgreSQL for the whole batch in one
    // statement), are exactly what a rebuild from the items gives.
    let mut conn = app.pool.get().unwrap();
    let kept = clusterpulse::db::models::feedback_summaries(&mut conn).unwrap();
    assert!(!kept.items.is_empty() && !kept.profile.is_empty());
    clusterpulse::domain::feedback::summaries::rebuild(&mut conn).unwrap();
    assert_eq!(
        kept,
        clusterpulse::db::models::feedback_summaries(&mut conn).unwrap()
    );
}
both_backends!(feedback, feedback_at_once_is_stored_exactly_once, spawn);
