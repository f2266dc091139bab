//! Community feedback through the real server: the public channel, the staff inbox and its
//! workflow, who sees sensitive items, contact details at rest, rate limits and the form
//! without JavaScript. Each test runs on SQLite and on PostgreSQL.

mod common;
use common::{Backend, TestApp};
use diesel::prelude::*;
use serde_json::{json, Value};

struct World {
    admin: String,
    /// Coordinator of shelter-yemen.
    coord_a: String,
    /// Coordinator of shelter-sudan.
    coord_b: String,
    /// Global lead of shelter.
    lead: String,
    /// Global lead of health.
    other_lead: String,
    /// PSEA focal point of shelter-yemen.
    psea_a: String,
    /// PSEA focal point of shelter-sudan.
    psea_b: String,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    World {
        coord_a: app.user_token(
            "coord-a@example.org",
            "coordinator",
            None,
            &["shelter-yemen"],
        ),
        coord_b: app.user_token(
            "coord-b@example.org",
            "coordinator",
            None,
            &["shelter-sudan"],
        ),
        lead: app.user_token("lead-a@example.org", "global_lead", Some("shelter"), &[]),
        other_lead: app.user_token("lead-h@example.org", "global_lead", Some("health"), &[]),
        psea_a: app.user_token(
            "psea-a@example.org",
            "psea_focal_point",
            None,
            &["shelter-yemen"],
        ),
        psea_b: app.user_token(
            "psea-b@example.org",
            "psea_focal_point",
            None,
            &["shelter-sudan"],
        ),
        admin,
    }
}

async fn public_post(app: &TestApp, body: Value) -> reqwest::Response {
    app.new_client()
        .post(app.url("/api/v1/feedback"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn submit(app: &TestApp, op: &str, category: &str, message: &str) -> String {
    let r = public_post(
        app,
        json!({"operation": op, "channel": "web", "language": "en",
               "answers": {"category": category, "message": message, "consent_to_contact": "no"}}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "received");
    v["reference"].as_str().unwrap().to_string()
}

async fn event(app: &TestApp, token: &str, reference: &str, body: Value) -> reqwest::Response {
    app.post_json(token, &format!("/api/v1/feedback/{reference}/events"), body)
        .await
}

async fn references(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let r = app
        .get_json(token, &format!("/api/v1/feedback{query}"))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reference"].as_str().unwrap().to_string())
        .collect()
}

async fn public_intake(app: TestApp) {
    let w = world(&app).await;
    // A complete submission with consent and contact details.
    let r = public_post(
        &app,
        json!({"operation": "shelter-yemen", "language": "ar",
               "answers": {"category": "complaint", "message": "لم نحصل على المساعدة",
                           "consent_to_contact": "yes", "contact": "+967 777 123 456",
                           "sex": "female", "age_group": "18_59", "admin1": "Aden"}}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let reference = v["reference"].as_str().unwrap().to_string();
    assert!(
        reference.len() == 12 && reference.starts_with("FB-") && &reference[7..8] == "-",
        "{reference}"
    );

    // The status lookup shows the status, never the content.
    let r = app
        .new_client()
        .get(app.url(&format!(
            "/api/v1/feedback/status/{}",
            reference.to_lowercase()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["reference"], reference.as_str());
    assert_eq!(s["status"], "received");
    assert!(s["updated_at"].as_str().unwrap().ends_with('Z'));
    let text = s.to_string();
    assert!(!text.contains("المساعدة") && !text.contains("777 123"));
    let r = app
        .new_client()
        .get(app.url("/api/v1/feedback/status/FB-0000-0000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .new_client()
        .get(app.url("/api/v1/feedback/status/bad!code"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Contact details are encrypted at rest and readable by the coordinator in the API.
    {
        use clusterpulse::db::schema::feedback::dsl as f;
        let mut conn = app.pool.get().unwrap();
        let (sealed, answers, priority): (Option<String>, String, String) = f::feedback
            .filter(f::reference.eq(&reference))
            .select((f::contact_encrypted, f::answers, f::priority))
            .first(&mut conn)
            .unwrap();
        let sealed = sealed.expect("contact stored");
        // The number, spaced or not (three digits alone could turn up in the ciphertext's base64).
        assert!(
            sealed.starts_with("v1:") && !sealed.contains("777123") && !sealed.contains("777 123")
        );
        assert!(
            !answers.contains("777 123") && !answers.contains("777123"),
            "contact is not kept in the answers"
        );
        assert_eq!(priority, "medium");
    }
    let item: Value = app
        .get_json(&w.coord_a, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["contact"], "+967 777 123 456");
    assert_eq!(item["sex"], "female");
    assert_eq!(item["history"][0]["action"], "receive");
    // A global lead reads the item but does not handle it: no contact details.
    let item: Value = app
        .get_json(&w.lead, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(item.get("contact").is_none());
    assert_eq!(item["message"], "لم نحصل على المساعدة");

    // Bad input: every problem named, nothing stored.
    let cases = [
        (
            json!({"operation": "nowhere", "answers": {"category": "question", "message": "x", "consent_to_contact": "no"}}),
            404,
            "",
        ),
        (
            json!({"answers": {"category": "question", "message": "x", "consent_to_contact": "no"}}),
            400,
            "operation",
        ),
        (
            json!({"operation": "shelter-yemen", "answers": {"message": "x", "consent_to_contact": "no"}}),
            422,
            "category",
        ),
        (
            json!({"operation": "shelter-yemen", "answers": {"category": "rumour", "message": "x", "consent_to_contact": "no"}}),
            422,
            "category",
        ),
        (
            json!({"operation": "shelter-yemen", "answers": {"category": "question", "message": "x".repeat(5001), "consent_to_contact": "no"}}),
            422,
            "message",
        ),
        (
            json!({"operation": "shelter-yemen", "answers": {"category": "question", "message": "x", "consent_to_contact": "no", "contact": "me@x.org"}}),
            422,
            "contact",
        ),
        (
            json!({"operation": "shelter-yemen", "answers": {"category": "question", "message": "x", "consent_to_contact": "no", "shoe_size": "42"}}),
            422,
            "shoe_size",
        ),
        (
            json!({"operation": "shelter-yemen", "channel": "pigeon", "answers": {"category": "question", "message": "x", "consent_to_contact": "no"}}),
            400,
            "channel",
        ),
    ];
    for (body, status, field) in cases {
        let r = public_post(&app, body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        if !field.is_empty() {
            assert!(v["fields"].get(field).is_some(), "{field} named in {v}");
        }
    }
    // Only staff log other channels.
    let r = public_post(
        &app,
        json!({"operation": "shelter-yemen", "channel": "hotline",
               "answers": {"category": "question", "message": "x", "consent_to_contact": "no"}}),
    )
    .await;
    assert_eq!(r.status(), 401);
    // Over the body limit: 413.
    let r = public_post(
        &app,
        json!({"operation": "shelter-yemen", "answers": {"category": "question", "message": "x".repeat(300_000), "consent_to_contact": "no"}}),
    )
    .await;
    assert_eq!(r.status(), 413);
    assert_eq!(references(&app, &w.admin, "").await.len(), 1);
}
both_backends!(intake, public_intake);

async fn staff_workflow(app: TestApp) {
    let w = world(&app).await;
    let web = submit(
        &app,
        "shelter-yemen",
        "question",
        "When is the next distribution?",
    )
    .await;
    let other = submit(&app, "shelter-sudan", "complaint", "Tents are leaking").await;
    // Staff log a hotline call.
    let r = app
        .post_json(
            &w.coord_a,
            "/api/v1/feedback",
            json!({"operation": "shelter-yemen", "channel": "hotline", "language": "fr",
                   "answers": {"category": "complaint", "message": "Pas de kit reçu", "consent_to_contact": "no"}}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let hotline = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    // Not for an operation they do not manage.
    let r = app
        .post_json(
            &w.coord_a,
            "/api/v1/feedback",
            json!({"operation": "shelter-sudan", "channel": "hotline",
                   "answers": {"category": "question", "message": "x", "consent_to_contact": "no"}}),
        )
        .await;
    assert_eq!(r.status(), 403);

    // Listings and filters.
    let mut mine = references(&app, &w.coord_a, "").await;
    mine.sort();
    let mut expected = vec![web.clone(), hotline.clone()];
    expected.sort();
    assert_eq!(mine, expected);
    assert_eq!(
        references(&app, &w.coord_a, "?channel=hotline").await,
        vec![hotline.clone()]
    );
    assert_eq!(
        references(&app, &w.coord_a, "?category=question").await,
        vec![web.clone()]
    );
    assert!(references(&app, &w.coord_a, "?overdue=true")
        .await
        .is_empty());
    assert_eq!(references(&app, &w.lead, "").await.len(), 3);
    assert!(references(&app, &w.other_lead, "").await.is_empty());
    let r = app
        .get_json(&w.coord_a, "/api/v1/feedback?operation=shelter-sudan")
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .get_json(&w.coord_a, "/api/v1/feedback?status=lost")
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("status"));
    let r = app
        .get_json(&w.coord_a, &format!("/api/v1/feedback/{other}"))
        .await;
    assert_eq!(r.status(), 404);
    let r = app.get_json(&w.coord_a, "/api/v1/feedback").await;
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 2);
    let r = app
        .new_client()
        .get(app.url("/api/v1/feedback"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The workflow: every event appended with who and when.
    let r = event(&app, &w.coord_a, &web, json!({"action": "acknowledge"})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = event(&app, &w.coord_a, &web, json!({"action": "acknowledge"})).await;
    assert_eq!(r.status(), 409);
    let r = event(&app, &w.coord_a, &web, json!({"action": "refer"})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("referred_to"));
    let r = event(
        &app,
        &w.coord_a,
        &web,
        json!({"action": "refer", "referred_to": "Distribution partner"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = event(&app, &w.coord_a, &web, json!({"action": "respond"})).await;
    assert_eq!(r.status(), 400);
    let r = event(
        &app,
        &w.coord_a,
        &web,
        json!({"action": "respond", "note": "Told them: next Tuesday at the school"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = event(
        &app,
        &w.coord_a,
        &web,
        json!({"action": "close", "satisfied": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["satisfied"], true);
    let r = event(
        &app,
        &w.coord_a,
        &web,
        json!({"action": "respond", "note": "again"}),
    )
    .await;
    assert_eq!(r.status(), 409);
    let r = event(&app, &w.coord_a, &web, json!({"action": "dance"})).await;
    assert_eq!(r.status(), 400);
    // Global leads read; they do not act.
    let r = event(&app, &w.lead, &web, json!({"action": "reopen"})).await;
    assert_eq!(r.status(), 403);
    let r = event(&app, &w.coord_b, &web, json!({"action": "reopen"})).await;
    assert_eq!(r.status(), 404);
    let r = event(
        &app,
        &w.coord_a,
        &web,
        json!({"action": "reopen", "note": "Not delivered"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "acknowledged");
    assert_eq!(v["satisfied"], Value::Null);
    let actions: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "receive",
            "acknowledge",
            "refer",
            "respond",
            "close",
            "reopen"
        ]
    );
    assert_eq!(v["history"][2]["referred_to"], "Distribution partner");
    assert_eq!(v["history"][4]["satisfied"], true);
    assert_eq!(v["history"][1]["by"], "coord-a@example.org");
    assert_eq!(
        references(&app, &w.coord_a, "?status=acknowledged").await,
        vec![web.clone()]
    );
    // The public still sees status only.
    let s: Value = app
        .new_client()
        .get(app.url(&format!("/api/v1/feedback/status/{web}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["status"], "acknowledged");

    // Overdue: an unacknowledged item past its deadline.
    {
        use clusterpulse::db::schema::feedback::dsl as f;
        let mut conn = app.pool.get().unwrap();
        diesel::update(f::feedback.filter(f::reference.eq(&hotline)))
            .set(f::ack_due_at.eq(clusterpulse::kernel::time::now() - chrono::Duration::hours(1)))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(
        references(&app, &w.coord_a, "?overdue=true").await,
        vec![hotline.clone()]
    );
    let v: Value = app
        .get_json(&w.coord_a, &format!("/api/v1/feedback/{hotline}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["overdue"], true);
    assert_eq!(v["channel"], "hotline");
}
both_backends!(workflow, staff_workflow);

/// Sensitive items: every route that returns feedback, as every role.
async fn sensitive_visibility(app: TestApp) {
    let w = world(&app).await;
    let normal = submit(&app, "shelter-yemen", "question", "ordinary question").await;
    let secret = submit(
        &app,
        "shelter-yemen",
        "sensitive",
        "A guard asked for money to register us",
    )
    .await;
    let marked = submit(
        &app,
        "shelter-yemen",
        "complaint",
        "Later found to be abuse",
    )
    .await;

    // Before marking: the coordinator sees `marked`.
    assert!(references(&app, &w.coord_a, "").await.contains(&marked));
    let r = event(
        &app,
        &w.coord_a,
        &marked,
        json!({"action": "mark_sensitive"}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["sensitive"], true);

    // (who, sees sensitive content)
    let roles: [(&str, &str, bool); 7] = [
        ("admin", &w.admin, false),
        ("coordinator A", &w.coord_a, false),
        ("coordinator B", &w.coord_b, false),
        ("global lead", &w.lead, false),
        ("other global lead", &w.other_lead, false),
        ("PSEA A", &w.psea_a, true),
        ("PSEA B", &w.psea_b, false),
    ];
    for (who, token, sees) in roles {
        for query in ["", "?operation=shelter-yemen", "?status=received"] {
            let r = app
                .get_json(token, &format!("/api/v1/feedback{query}"))
                .await;
            if r.status() == 403 {
                continue; // no access to the operation at all
            }
            assert_eq!(r.status(), 200, "{who} {query}");
            let body = r.text().await.unwrap();
            assert_eq!(body.contains(&secret), sees, "{who} listing {query}");
            assert_eq!(body.contains(&marked), sees, "{who} listing {query}");
            assert_eq!(
                body.contains("asked for money") || body.contains("found to be abuse"),
                sees,
                "{who} content {query}"
            );
        }
        for reference in [&secret, &marked] {
            let r = app
                .get_json(token, &format!("/api/v1/feedback/{reference}"))
                .await;
            assert_eq!(r.status() == 200, sees, "{who} item");
            if !sees {
                assert_eq!(r.status(), 404, "{who} item");
            }
            let r = event(&app, token, reference, json!({"action": "acknowledge"})).await;
            if sees {
                assert!(r.status() == 200 || r.status() == 409, "{who} acts");
            } else {
                assert_eq!(r.status(), 404, "{who} cannot act");
            }
        }
    }
    // The PSEA focal point sees the history of the marked item, including who marked it.
    let v: Value = app
        .get_json(&w.psea_a, &format!("/api/v1/feedback/{marked}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["history"][1]["action"], "mark_sensitive");
    assert_eq!(v["priority"], "high");
    // Ordinary items stay visible to the coordinator and the PSEA focal point.
    assert!(references(&app, &w.coord_a, "").await.contains(&normal));
    assert!(references(&app, &w.psea_a, "").await.contains(&normal));
    // Staff who receive a sensitive complaint at a help desk log it: it is sealed at once,
    // the coordinator gets its reference and cannot open it afterwards.
    let body = json!({"operation": "shelter-yemen", "channel": "helpdesk",
                      "answers": {"category": "sensitive", "message": "reported at the desk", "consent_to_contact": "no"}});
    let r = app
        .post_json(&w.coord_a, "/api/v1/feedback", body.clone())
        .await;
    assert_eq!(r.status(), 201);
    let logged = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get_json(&w.coord_a, &format!("/api/v1/feedback/{logged}"))
        .await;
    assert_eq!(r.status(), 404);
    assert!(!references(&app, &w.coord_a, "").await.contains(&logged));
    assert!(references(&app, &w.psea_a, "").await.contains(&logged));
    // Staff of another operation still cannot log for this one.
    assert_eq!(
        app.post_json(&w.coord_b, "/api/v1/feedback", body.clone())
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_json(&w.psea_a, "/api/v1/feedback", body)
            .await
            .status(),
        201
    );
    // The inbox page follows the same rule.
    let coord_page = app
        .login("coord-a@example.org")
        .await
        .get(app.url("/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(coord_page.contains(&normal) && !coord_page.contains(&secret));
    let psea_page = app
        .login("psea-a@example.org")
        .await
        .get(app.url(&format!("/feedback/{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(psea_page.status(), 200);
    assert!(psea_page.text().await.unwrap().contains("asked for money"));
    let r = app
        .login("coord-a@example.org")
        .await
        .get(app.url(&format!("/feedback/{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
both_backends!(sensitive, sensitive_visibility);

async fn public_rate_limit(app: TestApp) {
    let w = world(&app).await;
    let body = json!({"operation": "shelter-yemen",
                      "answers": {"category": "question", "message": "x", "consent_to_contact": "no"}});
    for _ in 0..3 {
        assert_eq!(public_post(&app, body.clone()).await.status(), 201);
    }
    let r = public_post(&app, body.clone()).await;
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("wait a minute"));
    // Status lookups share the public limit.
    let r = app
        .new_client()
        .get(app.url("/api/v1/feedback/status/FB-0000-0000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // Staff are not limited per address.
    let mut staff = body.clone();
    staff["channel"] = json!("hotline");
    for _ in 0..5 {
        assert_eq!(
            app.post_json(&w.coord_a, "/api/v1/feedback", staff.clone())
                .await
                .status(),
            201
        );
    }
    assert_eq!(references(&app, &w.admin, "").await.len(), 8);
}

mod rate_limit {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = TestApp::spawn_with(Backend::Sqlite, |env| {
            env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "3".into());
        })
        .await
        .unwrap();
        public_rate_limit(app).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(app) = TestApp::spawn_with(Backend::Postgres, |env| {
            env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "3".into());
        })
        .await
        else {
            eprintln!("TEST_DATABASE_URL not set: PostgreSQL test skipped");
            return;
        };
        public_rate_limit(app).await;
    }
}

fn field_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .unwrap_or_else(|| panic!("{name} in page"))
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// The public form as a basic phone without JavaScript uses it.
async fn form_without_javascript(app: TestApp) {
    let w = world(&app).await;
    let c = app.new_client();
    let page = c
        .get(app.url("/f/shelter-yemen?lang=ar"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("dir=\"rtl\"") && html.contains("lang=\"ar\""));
    assert!(html.contains("action=\"/f/shelter-yemen\""));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(html.len() < 20_000, "small page: {} bytes", html.len());
    let csrf = field_value(&html, "csrf_token");
    let js = c
        .get(app.url("/f/shelter-yemen/logic.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("\"contact\""));

    // Missing message: the form comes back with the error next to the question, in Arabic.
    let r = c
        .post(app.url("/f/shelter-yemen"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("lang", "ar"),
            ("q_category", "complaint"),
            ("q_consent_to_contact", "no"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("err-message"));
    assert!(html.contains("value=\"complaint\" checked"));

    // Without JavaScript the contact box shows even without consent; it is dropped then.
    let message = "<script>alert('x')</script> the water point is broken";
    let r = c
        .post(app.url("/f/shelter-yemen"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("lang", "ar"),
            ("q_category", "complaint"),
            ("q_message", message),
            ("q_consent_to_contact", "no"),
            ("q_contact", "should be dropped"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/f/status?ref=FB-"), "{location}");
    let reference = location
        .split("ref=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let html = c
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("class=\"reference\""));
    assert!(html.contains(&reference));
    assert!(html.contains("dir=\"rtl\""));
    assert!(
        !html.contains("water point"),
        "status page shows no content"
    );
    // Looking it up later, with the code typed loosely.
    let typed = reference.to_lowercase().replace('-', " ");
    let r = c
        .get(app.url("/f/status"))
        .query(&[("ref", typed.as_str()), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(&reference) && html.contains("data-status=\"received\""));
    let r = c
        .get(app.url("/f/status?ref=FB-ZZZZ-ZZZZ"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("no message with this number"));

    // Stored safely, shown escaped to staff, contact dropped.
    let v: Value = app
        .get_json(&w.coord_a, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["message"], message);
    assert_eq!(v["contact"], Value::Null);
    assert_eq!(v["language"], "ar");
    let inbox = app
        .login("coord-a@example.org")
        .await
        .get(app.url("/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(inbox.contains("&lt;script&gt;alert("));
    assert!(!inbox.contains("<script>alert("));

    // A post without the form token, and an unknown operation.
    let r = c
        .post(app.url("/f/shelter-yemen"))
        .form(&[
            ("q_category", "question"),
            ("q_message", "hi"),
            ("q_consent_to_contact", "no"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c.get(app.url("/f/atlantis")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(references(&app, &w.admin, "").await.len(), 1);
}
both_backends!(public_form, form_without_javascript);

/// The inbox page: log a call, act on it with CSRF-protected forms.
async fn inbox_pages(app: TestApp) {
    let w = world(&app).await;
    let c = app.login("coord-a@example.org").await;
    let html = c
        .get(app.url("/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field_value(&html, "csrf_token");
    let r = c
        .post(app.url("/feedback"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("operation", "shelter-yemen"),
            ("channel", "sms"),
            ("language", "en"),
            ("q_category", "request"),
            ("q_message", "Need blankets for three children"),
            ("q_consent_to_contact", "yes"),
            ("q_contact", "+967 700 000 001"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let reference = location.trim_start_matches("/feedback/").to_string();
    let page = c
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Need blankets") && page.contains("+967 700 000 001"));
    let r = c
        .post(app.url(&format!("/feedback/{reference}/events")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("action", "close"),
            ("satisfied", "no"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let v: Value = app
        .get_json(&w.coord_a, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["satisfied"], false);
    assert_eq!(v["channel"], "sms");
    // Without the CSRF field: refused, nothing recorded.
    let r = c
        .post(app.url(&format!("/feedback/{reference}/events")))
        .form(&[("action", "reopen")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.url("/feedback"))
        .form(&[
            ("operation", "shelter-yemen"),
            ("channel", "sms"),
            ("q_category", "request"),
            ("q_message", "x"),
            ("q_consent_to_contact", "no"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(references(&app, &w.admin, "").await.len(), 1);
    // Signed out: to the login page.
    let r = app
        .new_client()
        .get(app.url("/feedback"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}
both_backends!(inbox, inbox_pages);

/// The AAP indicators over HTTP: for everyone but the operation's PSEA focal points,
/// breakdowns count visible items only and sealed items appear as a monthly count ("fewer
/// than 3"); access follows the operation, charts render, the page shows them.
async fn metrics_over_http(app: TestApp) {
    let w = world(&app).await;
    let a = submit(&app, "shelter-yemen", "complaint", "one").await;
    submit(&app, "shelter-yemen", "question", "two").await;
    // The attack of issue 13: a sensitive complaint whose free-text area names the person.
    let r = public_post(
        &app,
        json!({"operation": "shelter-yemen", "channel": "web", "language": "en",
               "answers": {"category": "sensitive", "message": "three: a private matter",
                           "consent_to_contact": "no", "sex": "female", "age_group": "60_plus",
                           "admin1": "Kassala - Amina B., tent 14"}}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    submit(&app, "shelter-sudan", "question", "elsewhere").await;
    let r = event(
        &app,
        &w.coord_a,
        &a,
        json!({"action": "respond", "note": "done"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = event(
        &app,
        &w.coord_a,
        &a,
        json!({"action": "close", "satisfied": true}),
    )
    .await;
    assert_eq!(r.status(), 200);

    let path = "/api/v1/operations/shelter-yemen/feedback/metrics";
    let r = app.get_json(&w.coord_a, path).await;
    assert_eq!(r.status(), 200);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["total"], 2, "{m}");
    assert_eq!(m["sensitive"], Value::Null);
    assert_eq!(m["sensitive_display"], "fewer than 3");
    assert_eq!(m["sealed_by_month"][0]["display"], "fewer than 3");
    assert!(m["by_category"].get("sensitive").is_none());
    assert_eq!(m["by_channel"]["web"], 2);
    assert!(m["by_sex"].get("female").is_none(), "{m}");
    assert!(m["by_age_group"].get("60_plus").is_none(), "{m}");
    assert!(!m.to_string().contains("Kassala"), "{m}");
    assert!((m["closed_pct"].as_f64().unwrap() - 50.0).abs() < 1e-9);
    // Today's window and the first day of this month read the same sealed count.
    let today = chrono::Utc::now().date_naive();
    let first = today.format("%Y-%m-01").to_string();
    let day_of = |d: &str| format!("{path}?from={d}&to={d}");
    let on_the_day: Value = app
        .get_json(&w.coord_a, &day_of(&today.to_string()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(on_the_day["sealed_by_month"], m["sealed_by_month"]);
    let first_day: Value = app
        .get_json(&w.coord_a, &day_of(&first))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first_day["sealed_by_month"], m["sealed_by_month"]);
    assert_eq!(
        first_day["sensitive_display"],
        on_the_day["sensitive_display"]
    );
    // The PSEA focal point of the operation counts the item in full.
    let p: Value = app.get_json(&w.psea_a, path).await.json().await.unwrap();
    assert_eq!(
        (p["total"].clone(), p["sensitive"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(p["by_category"]["sensitive"], 1);
    assert_eq!(m["responded_pct"], 100.0);
    assert_eq!(m["satisfied_pct"], 100.0);
    assert_eq!(m["overdue"], 0);
    assert!(m["median_days_to_close"].as_f64().unwrap() < 0.01);
    assert!(!m.to_string().contains("private matter"));
    for key in [
        "by_sex",
        "by_age_group",
        "by_admin1",
        "acknowledged_within_sla_pct",
    ] {
        assert!(m.get(key).is_some(), "{key}");
    }
    // Periods: a day before anything was received has nothing.
    let r = app
        .get_json(&w.coord_a, &format!("{path}?from=2020-01-01&to=2020-01-31"))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
    let r = app
        .get_json(&w.coord_a, &format!("{path}?from=yesterday"))
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]
        .get("from")
        .is_some());
    let r = app
        .get_json(&w.coord_a, &format!("{path}?from=2026-02-01&to=2026-01-01"))
        .await;
    assert_eq!(r.status(), 400);
    // Access.
    for (token, status) in [
        (&w.lead, 200),
        (&w.psea_a, 200),
        (&w.admin, 200),
        (&w.coord_b, 403),
        (&w.other_lead, 403),
    ] {
        assert_eq!(app.get_json(token, path).await.status(), status);
    }
    let r = app
        .get_json(&w.admin, "/api/v1/operations/atlantis/feedback/metrics")
        .await;
    assert_eq!(r.status(), 404);
    // Charts.
    for (file, mime) in [
        ("volume.svg", "image/svg+xml"),
        ("volume.png", "image/png"),
        ("close-time.svg", "image/svg+xml"),
        ("close-time.png", "image/png"),
    ] {
        let r = app
            .get_json(
                &w.coord_a,
                &format!("/api/v1/operations/shelter-yemen/feedback/charts/{file}"),
            )
            .await;
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(r.headers()["content-type"], mime);
        let bytes = r.bytes().await.unwrap();
        if mime == "image/png" {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        } else {
            assert!(String::from_utf8_lossy(&bytes).contains("<svg"));
        }
    }
    let r = app
        .get_json(
            &w.coord_a,
            "/api/v1/operations/shelter-yemen/feedback/charts/pie.svg",
        )
        .await;
    assert_eq!(r.status(), 404);
    // The page.
    let html = app
        .login("lead-a@example.org")
        .await
        .get(app.url("/operations/shelter-yemen/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<td id=\"m-total\">2</td>"),
        "a global lead sees visible items"
    );
    assert!(html.contains("<td id=\"m-sensitive\">fewer than 3</td>"));
    assert!(html.contains("charts/volume.svg"));
    assert!(!html.contains("private matter"));
    assert!(!html.contains("Kassala"));
}
both_backends!(metrics, metrics_over_http);

/// Every new sensitive item tells the PSEA focal points of its operation at once, by email
/// through the outbox, without its content; an overdue acknowledgement tells them again,
/// once. Admins see operations that have no focal point.
async fn psea_notices(app: TestApp) {
    use clusterpulse::db::schema::outbox;
    use diesel::prelude::*;
    let w = world(&app).await;
    let reference = submit(
        &app,
        "shelter-yemen",
        "sensitive",
        "the distribution officer asked for favours",
    )
    .await;
    submit(&app, "shelter-yemen", "complaint", "the queue was long").await;
    let notices = |app: &TestApp| -> Vec<(Option<String>, String)> {
        outbox::table
            .filter(outbox::kind.eq("psea_notice"))
            .order(outbox::id)
            .select((outbox::dedupe_key, outbox::recipient))
            .load(&mut app.pool.get().unwrap())
            .unwrap()
    };
    let n = notices(&app);
    assert_eq!(
        n.len(),
        1,
        "one focal point of shelter-yemen, one sensitive item: {n:?}"
    );
    assert!(n[0]
        .0
        .as_deref()
        .unwrap()
        .starts_with(&format!("psea-new:{reference}:")));
    assert_eq!(n[0].1, "psea-a@example.org");
    // As delivered: a link to the item, none of its content.
    let dir = app.config.outbox_dir();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let eml = loop {
        let found = std::fs::read_dir(&dir).ok().and_then(|rd| {
            rd.flatten()
                .map(|e| std::fs::read(e.path()).unwrap_or_default())
                .find(|raw| String::from_utf8_lossy(raw).contains("psea-a@example.org"))
        });
        if let Some(raw) = found {
            break raw;
        }
        assert!(std::time::Instant::now() < deadline, "notice not delivered");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let msg = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let text = msg.body_text(0).unwrap().to_string();
    assert!(text.contains(&format!("/feedback/{reference}")), "{text}");
    assert!(!String::from_utf8_lossy(&eml).contains("favours"));
    assert!(msg.subject().unwrap().contains("sensitive"));

    // Overdue (the high-priority deadline is 24 h): told once more, once.
    let mut conn = app.pool.get().unwrap();
    let later = clusterpulse::kernel::time::now() + chrono::Duration::hours(25);
    let queued =
        clusterpulse::domain::feedback::notify_overdue_sensitive(&mut conn, &app.config, later)
            .unwrap();
    assert_eq!(queued, 1);
    assert_eq!(
        clusterpulse::domain::feedback::notify_overdue_sensitive(&mut conn, &app.config, later)
            .unwrap(),
        0
    );
    let n = notices(&app);
    assert!(n[1]
        .0
        .as_deref()
        .unwrap()
        .starts_with(&format!("psea-overdue:{reference}:")));
    // Acknowledged items are not overdue: nothing for one acknowledged before its deadline.
    let other = submit(&app, "shelter-sudan", "sensitive", "another matter").await;
    let r = event(&app, &w.psea_b, &other, json!({"action": "acknowledge"})).await;
    assert_eq!(r.status(), 200);
    let later = clusterpulse::kernel::time::now() + chrono::Duration::hours(25);
    assert_eq!(
        clusterpulse::domain::feedback::notify_overdue_sensitive(&mut conn, &app.config, later)
            .unwrap(),
        0
    );

    // A coordinator logs a sensitive complaint from the help desk on the inbox page: it is
    // sealed at once; the page gives its reference and says who will see it.
    let c = app.login("coord-a@example.org").await;
    let html = c
        .get(app.url("/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field_value(&html, "csrf_token");
    let r = c
        .post(app.url("/feedback"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("operation", "shelter-yemen"),
            ("channel", "helpdesk"),
            ("language", "en"),
            ("q_category", "sensitive"),
            ("q_message", "a guard demanded payment"),
            ("q_consent_to_contact", "no"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/feedback?sealed=FB-"), "{location}");
    let logged = location.trim_start_matches("/feedback?sealed=").to_string();
    let page = c
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"sealed-notice\"") && page.contains(&logged));
    assert!(!page.contains("demanded payment"));
    let r = c
        .get(app.url(&format!("/feedback/{logged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(notices(&app).iter().any(|(k, _)| k
        .as_deref()
        .is_some_and(|k| k.starts_with(&format!("psea-new:{logged}:")))));

    // health-yemen has no focal point: the admins' dashboard says so.
    let page = app
        .login("admin@test.example")
        .await
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let flag = page
        .split("id=\"without-psea\"")
        .nth(1)
        .expect("flag shown");
    let flag = flag.split("</div>").next().unwrap();
    assert!(flag.contains("health-yemen"), "{flag}");
    assert!(!flag.contains("shelter-yemen"), "{flag}");
    let page = app
        .login("coord-a@example.org")
        .await
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("without-psea"), "admins only");
}
both_backends!(notices, psea_notices);

/// Administrative areas from the operation's P-coded list (COD table loaded with
/// `clusterpulse operations areas`): the form offers them as selects (districts grouped by
/// region), answers must come from the list or be `other`, and aggregates are keyed by
/// P-code only, so no typed text reaches a breakdown.
async fn areas_from_the_operation_list(app: TestApp) {
    let w = world(&app).await;
    // Without a list, a typed area stays with the item but never reaches the metrics.
    let post = |admin1: &str, admin2: Option<&str>| {
        let mut answers = json!({"category": "complaint", "message": "m", "consent_to_contact": "no",
                                 "admin1": admin1});
        if let Some(a2) = admin2 {
            answers["admin2"] = json!(a2);
        }
        json!({"operation": "shelter-yemen", "answers": answers})
    };
    let r = public_post(&app, post("Kassala - Amina B., tent 14", None)).await;
    assert_eq!(r.status(), 201);
    let m = op_metrics(&app, &w.coord_a).await;
    assert!(!m.to_string().contains("Kassala"), "{m}");
    assert_eq!(m["by_admin1"], json!({"unknown": 1}));

    // The CLI loads the operation's COD table; a bad file is refused naming file and line.
    let dir = app.dir.path();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\nYE24,Aden,YE2401,Al Buraiqeh\nYE24,Aden,YE2401,Again\n",
    )
    .unwrap();
    let cli = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_clusterpulse"))
            .args(["operations", "areas", "shelter-yemen"])
            .arg(file)
            .env("DATABASE_URL", &app.config.database_url)
            .env("CLUSTERPULSE_DATA_DIR", dir)
            .env("CLUSTERPULSE_SECRET_KEY", common::SECRET)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let o = cli(&bad);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.csv:line 3") && err.contains("twice"),
        "{err}"
    );
    let good = dir.join("yemen.csv");
    std::fs::write(
        &good,
        "\u{feff}admin0Pcode,admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\n\
         YE,YE24,Aden,YE2401,Al Buraiqeh\nYE,YE24,Aden,YE2402,Dar Sad\n\
         YE,YE15,Taiz,YE1501,Al Mudhaffar\nYE,YE15,Taiz,YE1502,Dar Sad\n",
    )
    .unwrap();
    let o = cli(&good);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 admin1 and 4 admin2"));

    // The form: a select of regions, districts grouped by region, and "other".
    let html = app
        .new_client()
        .get(app.url("/f/shelter-yemen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<select id=\"in-admin1\" name=\"q_admin1\">"),
        "{html}"
    );
    assert!(html.contains("<option value=\"YE24\">Aden</option>"));
    assert!(html.contains("<optgroup label=\"Taiz\"><option value=\"YE1501\">"));
    assert!(html.contains("<option value=\"other\">"));

    // Answers: listed P-codes (or names), `other`; anything else names the field.
    for (a1, a2, status) in [
        ("YE24", Some("YE2402"), 201),
        ("Taiz", Some("Dar Sad"), 201),
        ("other", None, 201),
        ("Kassala - Amina B., tent 14", None, 422),
        ("YE24", Some("YE1501"), 422),
    ] {
        let r = public_post(&app, post(a1, a2)).await;
        assert_eq!(r.status(), status, "{a1} / {a2:?}");
        if status == 422 {
            let e: Value = r.json().await.unwrap();
            let field = if a2 == Some("YE1501") {
                "admin2"
            } else {
                "admin1"
            };
            assert!(e["fields"].get(field).is_some(), "{e}");
        }
    }
    let m = op_metrics(&app, &w.coord_a).await;
    assert_eq!(
        m["by_admin1"],
        json!({"YE24": 1, "YE15": 1, "unknown": 2}),
        "{m}"
    );
    // The indicators page names the regions from the list.
    let page = app
        .login("lead-a@example.org")
        .await
        .get(app.url("/operations/shelter-yemen/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Aden (YE24)") && page.contains("Taiz (YE15)"),
        "{page}"
    );
    assert!(!page.contains("Kassala"));
}
both_backends!(areas, areas_from_the_operation_list);

async fn op_metrics(app: &TestApp, token: &str) -> Value {
    app.get_json(token, "/api/v1/operations/shelter-yemen/feedback/metrics")
        .await
        .json()
        .await
        .unwrap()
}

/// Logs `n` items for shelter-yemen as staff (sensitive ones are sealed for the
/// coordinator); returns their references, newest first.
async fn log_many(app: &TestApp, token: &str, n: usize, category: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for i in 0..n {
        let r = app
            .post_json(
                token,
                "/api/v1/feedback",
                json!({"operation": "shelter-yemen", "channel": "hotline", "language": "en",
                       "answers": {"category": category, "message": format!("call number {i}"),
                                   "consent_to_contact": "no", "sex": "prefer_not_to_say",
                                   "age_group": "18_59"}}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: Value = r.json().await.unwrap();
        refs.push(v["reference"].as_str().unwrap().to_string());
    }
    refs.reverse();
    refs
}

/// The references listed on an inbox page, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<a href=\"/feedback/FB-")
        .skip(1)
        .map(|s| format!("FB-{}", &s[..9]))
        .collect()
}

/// The inbox pages 25 items at a time in SQL, keeps the filters in its page links, puts the
/// intake form above the list, names codes with the form's labels, answers bad page numbers
/// with a page, and counts only what the reader may see.
async fn inbox_paging(app: TestApp) {
    let w = world(&app).await;
    let complaints = log_many(&app, &w.coord_a, 30, "complaint").await;
    log_many(&app, &w.coord_a, 30, "question").await;
    // Sealed for the coordinator: neither listed nor counted nor paged for them.
    log_many(&app, &w.coord_a, 4, "sensitive").await;
    let all = references(&app, &w.coord_a, "?operation=shelter-yemen&limit=1000").await;
    assert_eq!(all.len(), 60);
    let c = app.login("coord-a@example.org").await;
    let get = |path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let r = c.get(url).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };

    let (status, first) = get("/feedback".into()).await;
    assert_eq!(status, 200);
    assert_eq!(listed(&first), all[..25].to_vec());
    assert!(first.contains("Items 1–25 of 60"), "count on page 1");
    assert!(first.contains("(page 1 of 3)"));
    // The intake form comes before the filters and the list, folded.
    let intake = first.find("<details id=\"intake\"").expect("intake form");
    assert!(intake < first.find("id=\"inbox-list\"").unwrap());
    assert!(intake < first.find("aria-label=\"Filters\"").unwrap());
    assert!(first.contains("<summary>Log feedback from another channel</summary>"));
    // Labels, not codes.
    assert!(first.contains(">A question<") && first.contains(">Hotline<"));
    assert!(first.contains(">Prefer not to say<") && first.contains(">18 to 59<"));
    for code in [">question<", ">prefer_not_to_say<", ">18_59<", ">hotline<"] {
        assert!(!first.contains(code), "{code} shown as a code");
    }
    assert!(!first.contains("rel=\"prev\""));

    // Older: the next 25, then the last 10.
    let older = first
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("<a href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#x3D;", "=")
        .replace("&amp;", "&");
    assert_eq!(older, "/feedback?page=2");
    let (_, second) = get(older).await;
    assert_eq!(listed(&second), all[25..50].to_vec());
    assert!(second.contains("Items 26–50 of 60"));
    assert!(second.contains("rel=\"prev\"") && second.contains("rel=\"next\""));
    let (_, third) = get("/feedback?page=3".into()).await;
    assert_eq!(listed(&third), all[50..].to_vec());
    assert!(third.contains("Items 51–60 of 60") && !third.contains("rel=\"next\""));
    // Arabic-Indic digits are page numbers too.
    let (_, arabic) = get("/feedback?page=%D9%A2".into()).await;
    assert_eq!(listed(&arabic), all[25..50].to_vec());

    // Filters stay in the page links.
    let (_, filtered) = get("/feedback?category=complaint&status=received".into()).await;
    assert!(filtered.contains("Items 1–25 of 30"));
    assert!(
        filtered
            .contains("/feedback?category&#x3D;complaint&amp;status&#x3D;received&amp;page&#x3D;2")
            || filtered.contains(
                "/feedback?status&#x3D;received&amp;category&#x3D;complaint&amp;page&#x3D;2"
            ),
        "filters kept in the page link"
    );
    let (_, filtered2) = get("/feedback?category=complaint&status=received&page=2".into()).await;
    assert_eq!(listed(&filtered2), complaints[25..].to_vec());

    // Bad page numbers: a page that says so, never a 500 or JSON.
    let (status, past) = get("/feedback?page=9".into()).await;
    assert_eq!(status, 404);
    assert!(past.contains("There is no page 9: the list has 3 pages"));
    assert!(past.contains("id=\"intake\"") && listed(&past).is_empty());
    let (status, huge) = get("/feedback?page=9223372036854775807".into()).await;
    assert_eq!(status, 404, "{huge}");
    for bad in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
        let (status, page) = get(format!("/feedback?page={bad}")).await;
        assert_eq!(status, 400, "page={bad}");
        assert!(page.contains("<html") && page.contains("page"), "{page}");
        assert!(!page.trim_start().starts_with('{'));
    }

    // The PSEA focal point sees the sealed items too: 64 in 3 pages.
    let (_, psea) = app
        .login("psea-a@example.org")
        .await
        .get(app.url("/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| (0, t))
        .unwrap();
    assert!(psea.contains("Items 1–25 of 64"));

    // A form error keeps what was typed and shows it again, open, with the problem.
    let csrf = field_value(&first, "csrf_token");
    let long = "w".repeat(5001);
    let r = c
        .post(app.url("/feedback"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("operation", "shelter-yemen"),
            ("channel", "box"),
            ("language", "fr"),
            ("q_category", "suggestion"),
            ("q_message", long.as_str()),
            ("q_consent_to_contact", "yes"),
            ("q_contact", "+967 700 123 456"),
            ("q_age_group", "60_plus"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let page = r.text().await.unwrap();
    assert!(page.contains("<details id=\"intake\" class=\"card intake noprint\" open>"));
    assert!(page.contains(&long), "the message is kept");
    assert!(
        page.contains("value=\"+967 700 123 456\""),
        "the contact is kept"
    );
    for kept in [
        "<option value=\"box\" selected>",
        "<option value=\"fr\" selected>",
        "<option value=\"suggestion\" selected>",
        "<option value=\"yes\" selected>",
        "<option value=\"60_plus\" selected>",
    ] {
        assert!(page.contains(kept), "{kept} kept");
    }
    assert!(
        page.contains("href=\"#log-message\""),
        "the problem links to its field"
    );
    assert_eq!(
        references(&app, &w.coord_a, "?limit=1000").await.len(),
        60,
        "nothing stored"
    );
}
both_backends!(inbox_paged, inbox_paging);

/// The indicators page and the item page name answers with the form's labels and dates for
/// people.
async fn labels_not_codes(app: TestApp) {
    let w = world(&app).await;
    let refs = log_many(&app, &w.coord_a, 2, "complaint").await;
    let c = app.login("coord-a@example.org").await;
    let html = c
        .get(app.url("/operations/shelter-yemen/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for label in [
        ">A complaint<",
        ">Hotline<",
        ">Prefer not to say<",
        ">18 to 59<",
    ] {
        assert!(html.contains(label), "{label} on the indicators page");
    }
    for code in [">complaint<", ">hotline<", ">prefer_not_to_say<", ">18_59<"] {
        assert!(!html.contains(code), "{code} shown as a code");
    }
    let r = c
        .post(app.url(&format!("/feedback/{}/events", refs[0])))
        .form(&[
            ("csrf_token", field_value(&html, "csrf_token").as_str()),
            ("action", "acknowledge"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let item = c
        .get(app.url(&format!("/feedback/{}", refs[0])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(item.contains("<strong>A complaint</strong>") && item.contains("by Hotline"));
    assert!(item.contains("<dd>18 to 59</dd>") && item.contains("<dd>Prefer not to say</dd>"));
    // A refer without "to whom": the form comes back as it was filled in, nothing recorded.
    let r = c
        .post(app.url(&format!("/feedback/{}/events", refs[0])))
        .form(&[
            ("csrf_token", field_value(&html, "csrf_token").as_str()),
            ("action", "refer"),
            ("note", "Called the water committee twice"),
            ("referred_to", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let again = r.text().await.unwrap();
    assert!(
        again.contains("<option value=\"refer\" selected>"),
        "action kept"
    );
    assert!(
        again.contains(">Called the water committee twice</textarea>"),
        "note kept"
    );
    assert!(
        again.contains("href=\"#ev-referred_to\""),
        "the problem links to its field"
    );
    let v: Value = app
        .get_json(&w.coord_a, &format!("/api/v1/feedback/{}", refs[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "acknowledged");
    // The history's times read as dates ("4 December 2026, 20:30 UTC"), not RFC 3339.
    let history = item.split("<ol class=\"history\">").nth(1).unwrap();
    let history = history.split("</ol>").next().unwrap();
    assert!(history.contains(" UTC"), "{history}");
    let rfc3339 = history
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'T' && w[2].is_ascii_digit());
    assert!(!rfc3339, "{history}");
    let svg = app
        .get_json(
            &w.coord_a,
            "/api/v1/operations/shelter-yemen/feedback/charts/volume.svg",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        svg.contains("A complaint"),
        "the chart legend names the category"
    );
}
both_backends!(indicator_labels, labels_not_codes);

/// Errors on the staff feedback pages are pages in the person's language (`?lang=`, then
/// `Accept-Language`), never JSON; the API keeps JSON.
async fn staff_error_pages(app: TestApp) {
    let w = world(&app).await;
    let refs = log_many(&app, &w.coord_a, 1, "question").await;
    let c = app.login("coord-a@example.org").await;
    let page = |path: &str, lang: &str| {
        let req = c
            .get(app.url(path))
            .header("Accept-Language", lang)
            .header("Accept", "text/html,application/xhtml+xml");
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let kind = r.headers()["content-type"].to_str().unwrap().to_string();
            (status, kind, r.text().await.unwrap())
        }
    };
    // 404 in French from Accept-Language.
    let (status, kind, body) = page("/feedback/FB-0000-0000", "fr-FR,fr;q=0.9").await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(body.contains("<html lang=\"fr\"") && body.contains("Ce lien ne fonctionne pas"));
    // 400 (a bad page number) in Arabic from ?lang=, right to left.
    let (status, kind, body) = page("/feedback?page=abc&lang=ar", "en").await;
    assert_eq!(status, 400);
    assert!(kind.starts_with("text/html"));
    assert!(body.contains("dir=\"rtl\"") && body.contains("تعذّرت قراءة الطلب"));
    // 403: another operation's inbox.
    let (status, kind, body) = page("/feedback?operation=shelter-sudan", "es").await;
    assert_eq!(status, 403);
    assert!(kind.starts_with("text/html") && body.contains("Acceso no permitido"));
    // 409: acknowledging twice.
    let html = c
        .get(app.url("/feedback"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field_value(&html, "csrf_token");
    for expected in [303, 409] {
        let r = c
            .post(app.url(&format!("/feedback/{}/events", refs[0])))
            .header("Accept-Language", "en")
            .form(&[("csrf_token", csrf.as_str()), ("action", "acknowledge")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
        if expected == 409 {
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            assert!(r.text().await.unwrap().contains("This was already done"));
        }
    }
    // The API answers JSON as before.
    let r = app
        .get_json(&w.coord_a, "/api/v1/feedback/FB-0000-0000")
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "not_found");
}
both_backends!(error_pages, staff_error_pages);

/// The status page shows the reply only to people who asked for it at submission
/// (`show_reply`, default no), and never for a sensitive item; before the reply it shows
/// the status alone.
async fn reply_on_the_status_page(app: TestApp) {
    let w = world(&app).await;
    let post = |category: &str, show: Option<&str>| {
        let mut answers = json!({"category": category, "message": "The tap at block C is broken",
                                 "consent_to_contact": "no"});
        if let Some(s) = show {
            answers["show_reply"] = json!(s);
        }
        json!({"operation": "shelter-yemen", "channel": "web", "language": "en", "answers": answers})
    };
    let mut refs = Vec::new();
    for (category, show) in [
        ("complaint", Some("yes")),
        ("complaint", None),
        ("complaint", Some("no")),
        ("sensitive", Some("yes")),
    ] {
        let r = public_post(&app, post(category, show)).await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        refs.push(v["reference"].as_str().unwrap().to_string());
    }
    let status = |reference: String| {
        let app = &app;
        async move {
            let api: Value = app
                .new_client()
                .get(app.url(&format!("/api/v1/feedback/status/{reference}")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let page = app
                .new_client()
                .get(app.url(&format!("/f/status?ref={reference}&lang=fr")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            (api, page)
        }
    };
    // Before any reply: the status only.
    let (api, page) = status(refs[0].clone()).await;
    assert!(api["reply"].is_null(), "{api}");
    assert!(!page.contains("id=\"reply\""));

    let reply = "The tap will be repaired on Tuesday <b>morning</b>";
    for (i, r) in refs.iter().enumerate() {
        let token = if i == 3 { &w.psea_a } else { &w.coord_a };
        let e = event(&app, token, r, json!({"action": "respond", "note": reply})).await;
        assert_eq!(e.status(), 200, "{}", e.text().await.unwrap());
    }
    let (api, page) = status(refs[0].clone()).await;
    assert_eq!(api["reply"], reply, "{api}");
    assert!(page.contains("Notre réponse"), "{page}");
    assert!(
        page.contains("repaired on Tuesday &lt;b&gt;morning&lt;/b&gt;"),
        "the reply is shown as text: {page}"
    );
    for r in &refs[1..] {
        let (api, page) = status(r.clone()).await;
        assert!(api["reply"].is_null(), "{r}: {api}");
        assert!(!page.contains("repaired"), "{r}");
    }
}
both_backends!(reply_shown_with_consent, reply_on_the_status_page);
