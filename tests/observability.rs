//! `GET /metrics` (Prometheus text) and request ids, through the real server on both backends.

mod common;
use common::{Backend, TestApp};
use serde_json::{json, Value};

fn future(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

/// The value of the sample line `name{labels}` (exact match on the series).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.new_client().get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn metrics_over_http(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@metrics.example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );

    // Who may read: admins only by default.
    assert_eq!(scrape(&app, None).await.status(), 401);
    assert_eq!(scrape(&app, Some(&coord)).await.status(), 403);
    let r = scrape(&app, Some(&admin)).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let before = r.text().await.unwrap();
    let outbox_before = sample(&before, "clusterpulse_outbox_queue_depth").expect("queue depth");
    assert_eq!(outbox_before, 0.0);
    assert_eq!(
        sample(
            &before,
            r#"clusterpulse_survey_responses_submitted_total{via="api"}"#
        ),
        Some(0.0)
    );

    // Traffic: a round with invitations queued by mail (the worker is off, so they wait),
    // one response, three feedback items (two public, one logged from the hotline), and a
    // failed lookup of an unknown reference.
    let r = app
        .post_json(&coord, "/api/v1/rounds", json!({"operation": "shelter-yemen", "framework": "ccpm",
            "surveys": ["ccpm-partner"], "opens_at": chrono::Utc::now().to_rfc3339(), "closes_at": future(30)}))
        .await;
    assert_eq!(r.status(), 201);
    let round = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .post_json(&coord, &format!("/api/v1/rounds/{round}/invitations"), json!({"send": true, "invitations": [
            {"email": "a@ngo-one.org", "organization": "NGO One", "org_type": "ingo", "survey": "ccpm-partner"},
            {"email": "b@ngo-two.org", "organization": "NGO Two", "org_type": "nngo", "survey": "ccpm-partner"}]}))
        .await;
    assert_eq!(r.status(), 201);
    let token = r.json::<Value>().await.unwrap()["invitations"][0]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"token": token, "id": uuid::Uuid::new_v4().to_string(), "language": "en",
                      "answers": {"meeting_attendance": "always", "meetings_useful": "agree"}});
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // An exact replay is not a new submission.
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut references = Vec::new();
    for _ in 0..2 {
        let r = app.client.post(app.url("/api/v1/feedback"))
            .json(&json!({"operation": "shelter-yemen", "answers": {"category": "question", "message": "x", "consent_to_contact": "no"}}))
            .send().await.unwrap();
        assert_eq!(r.status(), 201);
        references.push(
            r.json::<Value>().await.unwrap()["reference"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let r = app
        .post_json(
            &coord,
            "/api/v1/feedback",
            json!({"operation": "shelter-yemen", "channel": "hotline",
            "answers": {"category": "complaint", "message": "y", "consent_to_contact": "no"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .client
        .get(app.url("/api/v1/feedback/status/FB-AAAA-AAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let text = scrape(&app, Some(&admin)).await.text().await.unwrap();
    let get =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series} missing:\n{text}"));
    assert_eq!(
        get(r#"clusterpulse_survey_responses_submitted_total{via="api"}"#),
        1.0
    );
    assert_eq!(
        get(r#"clusterpulse_survey_responses_submitted_total{via="form"}"#),
        0.0
    );
    assert_eq!(
        get(r#"clusterpulse_feedback_submitted_total{channel="web"}"#),
        2.0
    );
    assert_eq!(
        get(r#"clusterpulse_feedback_submitted_total{channel="hotline"}"#),
        1.0
    );
    assert_eq!(get("clusterpulse_outbox_queue_depth"), 2.0);
    assert_eq!(
        get(
            r#"clusterpulse_http_requests_total{method="POST",route="/api/v1/responses",status="2xx"}"#
        ),
        2.0
    );
    assert_eq!(
        get(
            r#"clusterpulse_http_requests_total{method="POST",route="/api/v1/feedback",status="2xx"}"#
        ),
        3.0
    );
    assert_eq!(
        get(
            r#"clusterpulse_http_requests_total{method="GET",route="/api/v1/feedback/status/{reference}",status="4xx"}"#
        ),
        1.0
    );
    assert_eq!(
        get(r#"clusterpulse_http_requests_total{method="GET",route="(unmatched)",status="4xx"}"#),
        1.0
    );
    // The scrapes themselves: 401, 403, 200 so far.
    assert_eq!(
        get(r#"clusterpulse_http_requests_total{method="GET",route="/metrics",status="4xx"}"#),
        2.0
    );
    assert_eq!(
        get(r#"clusterpulse_http_request_duration_seconds_count{route="/api/v1/responses"}"#),
        2.0
    );
    assert_eq!(
        get(
            r#"clusterpulse_http_request_duration_seconds_bucket{route="/api/v1/responses",le="+Inf"}"#
        ),
        2.0
    );
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with(
                r#"clusterpulse_http_request_duration_seconds_bucket{route="/api/v1/responses""#,
            )
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "cumulative buckets"
    );
    // Route patterns only: no token, reference, round id or email in any label.
    for secret in [
        token.as_str(),
        &references[0],
        &references[1],
        "FB-AAAA-AAAA",
        "/no/such/page",
        "ngo-one.org",
    ] {
        assert!(!text.contains(secret), "{secret} appears in /metrics");
    }
    assert!(!text.contains(&format!("/rounds/{round}/")));
    // Every sample line is `name{labels} value` or `name value`.
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("clusterpulse_"), "{line}");
    }
}

async fn request_ids(app: TestApp) {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(
        r.headers()["x-request-id"].to_str().unwrap(),
        id,
        "one per request"
    );
    // A valid incoming id is kept (errors and unmatched paths too).
    for path in ["/healthz", "/api/v1/rounds", "/nowhere"] {
        let r = app
            .client
            .get(app.url(path))
            .header("X-Request-Id", "lb-4f2a.9_Z")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-request-id"], "lb-4f2a.9_Z", "{path}");
    }
    // Invalid ones are replaced.
    for bad in [
        "x".repeat(65),
        "has space".into(),
        "semi;colon".into(),
        "".into(),
    ] {
        let r = app
            .client
            .get(app.url("/healthz"))
            .header("X-Request-Id", bad.as_str())
            .send()
            .await
            .unwrap();
        let got = r.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(got, bad);
        assert_eq!(got.len(), 32);
    }
    assert!(common_id_ok(&"a".repeat(64)));
}

fn common_id_ok(v: &str) -> bool {
    clusterpulse::web::RequestId::is_valid(v)
}

async fn spawn(backend: Backend, public: Option<&'static str>) -> Option<TestApp> {
    TestApp::spawn_with(backend, move |env| {
        env.insert("CLUSTERPULSE_MAIL_WORKER".into(), "0".into());
        env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "0".into());
        if let Some(p) = public {
            env.insert("CLUSTERPULSE_METRICS_PUBLIC".into(), p.into());
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_sqlite() {
    metrics_over_http(spawn(Backend::Sqlite, None).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_postgres() {
    match spawn(Backend::Postgres, None).await {
        Some(app) => metrics_over_http(app).await,
        None => eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_opened() {
    for (setting, anonymous, coordinator) in
        [("1", 200, 200), ("loopback", 200, 200), ("0", 401, 403)]
    {
        let app = spawn(Backend::Sqlite, Some(setting)).await.unwrap();
        assert_eq!(scrape(&app, None).await.status(), anonymous, "{setting}");
        let admin = app.admin_token();
        app.seed_directory(&admin).await;
        let coord = app.user_token("c@x.example.org", "global_lead", Some("shelter"), &[]);
        assert_eq!(
            scrape(&app, Some(&coord)).await.status(),
            coordinator,
            "{setting}"
        );
        assert_eq!(scrape(&app, Some(&admin)).await.status(), 200, "{setting}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_sqlite() {
    request_ids(spawn(Backend::Sqlite, None).await.unwrap()).await;
}
