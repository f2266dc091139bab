//! A global cluster's service charter through the real server, on both backends: the
//! cluster's leads start a charter round, the coordinators of its operations are invited
//! and answer with their links, scores come with the CCPM maths, pooled (no breakdown, no
//! score on fewer than `min_respondents` answers), with a trend against the previous charter
//! round, in the leads' scorecard and on the report page; nobody else reads them, and
//! nothing shows which country cluster answered what.

mod common;
use common::TestApp;
use serde_json::{json, Value};

struct World {
    admin: String,
    lead: String,
    other_lead: String,
    coord_yemen: String,
    lead_email: String,
}

const COORDINATORS: [(&str, &str); 3] = [
    ("coord-ye@example.org", "shelter-yemen"),
    ("coord-sd@example.org", "shelter-sudan"),
    ("coord-ht@example.org", "shelter-haiti"),
];

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token();
    let lead_email = format!("lead-{}@shelter.example.org", uuid::Uuid::new_v4().simple());
    for (code, name, lead) in [
        ("shelter", "Global Shelter Cluster", lead_email.as_str()),
        ("health", "Global Health Cluster", "lead@health.example.org"),
    ] {
        let r = app
            .post_json(
                &admin,
                "/api/v1/clusters",
                json!({"code": code, "name": name, "lead_emails": [lead], "language": "en"}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    for (slug, cluster, country) in [
        ("shelter-yemen", "shelter", "YE"),
        ("shelter-sudan", "shelter", "SD"),
        ("shelter-haiti", "shelter", "HT"),
        ("health-yemen", "health", "YE"),
    ] {
        let r = app
            .post_json(&admin, "/api/v1/operations", json!({"slug": slug, "cluster": cluster, "country": country, "name": format!("Operation {slug}")}))
            .await;
        assert_eq!(r.status(), 201);
    }
    let mut tokens = Vec::new();
    for (email, op) in COORDINATORS {
        tokens.push(app.user_token(email, "coordinator", None, &[op]));
    }
    app.user_token(
        "coord-health@example.org",
        "coordinator",
        None,
        &["health-yemen"],
    );
    World {
        lead: app.user_token("lead-s@example.org", "global_lead", Some("shelter"), &[]),
        other_lead: app.user_token("lead-h@example.org", "global_lead", Some("health"), &[]),
        admin,
        coord_yemen: tokens.remove(0),
        lead_email,
    }
}

fn in_days(d: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(d)).to_rfc3339()
}

async fn create_round(app: &TestApp, token: &str, cluster: &str, title: &str, days: i64) -> i64 {
    let r = app
        .post_json(
            token,
            &format!("/api/v1/clusters/{cluster}/charter-rounds"),
            json!({"title": title, "opens_at": in_days(0), "closes_at": in_days(days)}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["cluster"], cluster);
    assert_eq!(v["framework"], "service-charter");
    assert_eq!(v["surveys"], json!(["service-charter-coordinator"]));
    v["id"].as_i64().unwrap()
}

/// The charter questionnaire's scored items, all answered with `level`.
fn answers(level: &str) -> Value {
    let names = [
        "equal_support",
        "timely_answers",
        "surge_help",
        "capacity_review",
        "monitoring_followup",
        "global_advocacy",
        "visibility",
        "decisions_shared",
        "guidance_useful",
        "peer_learning",
        "preparedness_support",
        "training_fit",
        "deployable_staff",
        "activation_advice",
    ];
    Value::Object(
        names
            .iter()
            .map(|n| (n.to_string(), json!(level)))
            .collect(),
    )
}

async fn answer(app: &TestApp, token: &str, level: &str) {
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(&json!({"token": token, "id": uuid::Uuid::new_v4().to_string(), "answers": answers(level)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// The first delivered message to `to` whose subject contains `subject_part`, as
/// (subject, text, HTML), waiting for the outbox worker.
async fn delivered(
    dir: &std::path::Path,
    to: &str,
    subject_part: &str,
) -> (String, String, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        for e in std::fs::read_dir(dir).ok().into_iter().flatten().flatten() {
            let Ok(raw) = std::fs::read(e.path()) else {
                continue;
            };
            let Some(msg) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            let to_matches = msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .is_some_and(|a| a == to);
            let subject = msg.subject().unwrap_or_default().to_string();
            if to_matches && subject.contains(subject_part) {
                let text = msg.body_text(0).map(|t| t.to_string()).unwrap_or_default();
                let html = msg.body_html(0).map(|t| t.to_string()).unwrap_or_default();
                return (subject, text, html);
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message to {to} about {subject_part:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn invite(app: &TestApp, token: &str, id: i64, body: Value) -> reqwest::Response {
    app.post_json(
        token,
        &format!("/api/v1/charter-rounds/{id}/invitations"),
        body,
    )
    .await
}

fn tokens_of(v: &Value) -> Vec<String> {
    v["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["token"].as_str().unwrap().to_string())
        .collect()
}

async fn scores(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app
        .get_json(token, &format!("/api/v1/charter-rounds/{id}/scores"))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn close(app: &TestApp, token: &str, id: i64) {
    let r = app
        .post_json(
            token,
            &format!("/api/v1/charter-rounds/{id}/close"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "closed");
}

async fn charter_end_to_end(app: TestApp) {
    let w = world(&app).await;

    // Who may start a charter round: the cluster's leads and admins.
    let body = json!({"opens_at": in_days(0), "closes_at": in_days(10)});
    for (token, status) in [(&w.other_lead, 403), (&w.coord_yemen, 403)] {
        let r = app
            .post_json(
                token,
                "/api/v1/clusters/shelter/charter-rounds",
                body.clone(),
            )
            .await;
        assert_eq!(r.status(), status);
    }
    let r = app
        .post_json(
            &w.admin,
            "/api/v1/clusters/nope/charter-rounds",
            body.clone(),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .post_json(
            &w.lead,
            "/api/v1/clusters/shelter/charter-rounds",
            json!({"opens_at": in_days(0), "closes_at": in_days(-1)}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]["closes_at"].is_string());
    // The charter is not an operation's framework.
    let coord_ops = app.user_token(
        "coord-ops@example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let r = app
        .post_json(
            &coord_ops,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "service-charter",
                   "surveys": ["service-charter-coordinator"],
                   "opens_at": in_days(0), "closes_at": in_days(10)}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]["framework"].is_string());

    let first = create_round(&app, &w.lead, "shelter", "Charter review A", 10).await;

    // Invitations: the coordinators of the cluster's operations plus named addresses; not
    // the health cluster's coordinator.
    let r = invite(&app, &w.lead, first, json!({"emails": ["not an address"]})).await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]["emails[0]"].is_string());
    assert_eq!(
        invite(&app, &w.other_lead, first, json!({})).await.status(),
        403
    );
    let r = invite(
        &app,
        &w.lead,
        first,
        json!({"emails": ["Co-Lead@Example.org"], "send": true}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let inv: Value = r.json().await.unwrap();
    let mut emails: Vec<&str> = inv["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "co-lead@example.org",
            "coord-ht@example.org",
            "coord-ops@example.org",
            "coord-sd@example.org",
            "coord-ye@example.org"
        ]
    );
    assert_eq!(inv["already_invited"], 0);
    // Repeating it invites nobody twice.
    let again: Value = invite(
        &app,
        &w.lead,
        first,
        json!({"emails": ["co-lead@example.org"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["invitations"], json!([]));
    assert_eq!(again["already_invited"], 5);
    let tokens = tokens_of(&inv);

    // The emailed invitation speaks of the global cluster's support.
    let dir = app.config.outbox_dir();
    let (subject, text, _) = delivered(&dir, "coord-sd@example.org", "support you").await;
    assert!(subject.contains("Global Shelter Cluster"), "{subject}");
    assert!(text.contains("never shown per country"), "{text}");

    // The survey page of a charter link names the global cluster.
    let page = app
        .new_client()
        .get(app.url(&format!("/s/{}", tokens[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Global Shelter Cluster"));

    // A charter round is no operation's round: the operation paths do not find it.
    for path in [
        format!("/api/v1/rounds/{first}"),
        format!("/api/v1/rounds/{first}/scores"),
        format!("/api/v1/rounds/{first}/progress"),
        format!("/api/v1/rounds/{first}/exports/responses.csv"),
    ] {
        assert_eq!(app.get_json(&w.admin, &path).await.status(), 404, "{path}");
    }
    let listed: Value = app
        .get_json(&w.admin, "/api/v1/rounds")
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"].as_i64() != Some(first)));

    // Two answers: nothing is shown while the round is open (no snapshot yet).
    answer(&app, &tokens[0], "agree").await;
    answer(&app, &tokens[1], "strongly_agree").await;
    let s = scores(&app, &w.lead, first).await;
    assert_eq!(s["provisional"], true);
    assert_eq!(s["overall"]["score"], Value::Null);
    assert_eq!(s["response_rate"]["invited"], 5);
    // Two more, then closed: four answers, scored with the CCPM maths.
    answer(&app, &tokens[2], "disagree").await;
    answer(&app, &tokens[3], "agree").await;
    close(&app, &w.lead, first).await;
    let s = scores(&app, &w.lead, first).await;
    assert_eq!(s["provisional"], false);
    assert_eq!(s["overall"]["n"], 4);
    // (75 + 100 + 25 + 75) / 4 on every item.
    assert_eq!(s["overall"]["score"], 68.75);
    assert_eq!(s["overall"]["status"], "satisfactory");
    assert_eq!(s["functions"].as_array().unwrap().len(), 8);
    assert_eq!(s["functions"][0]["score"], 68.75);
    assert_eq!(s["response_rate"]["responded"], 4);
    assert_eq!(s["previous_round"], Value::Null);
    // No breakdown of any kind.
    assert!(s.get("by_org_type").is_none());
    assert!(s["response_rate"].get("by_org_type").is_none());

    // Who reads the scores: the cluster's leads and admins.
    assert_eq!(scores(&app, &w.admin, first).await["round"], first);
    for token in [&w.other_lead, &w.coord_yemen] {
        let r = app
            .get_json(token, &format!("/api/v1/charter-rounds/{first}/scores"))
            .await;
        assert_eq!(r.status(), 403);
    }
    let r = app
        .get_json(&w.other_lead, "/api/v1/clusters/shelter/charter-rounds")
        .await;
    assert_eq!(r.status(), 403);

    // A year later (here: a round closing later): the trend against the previous round.
    let second = create_round(&app, &w.lead, "shelter", "Charter review B", 20).await;
    let inv: Value = invite(&app, &w.lead, second, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let tokens = tokens_of(&inv);
    assert_eq!(tokens.len(), 4);
    for t in &tokens[..3] {
        answer(&app, t, "strongly_agree").await;
    }
    close(&app, &w.lead, second).await;
    let s = scores(&app, &w.lead, second).await;
    assert_eq!(s["previous_round"], first);
    assert_eq!(s["functions"][0]["score"], 100.0);
    assert_eq!(s["functions"][0]["previous"], 68.75);
    assert_eq!(s["functions"][0]["change"], 31.25);
    let listed: Value = app
        .get_json(&w.lead, "/api/v1/clusters/shelter/charter-rounds")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = listed["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [second, first]);

    // The report page: the latest closed round by default, for the leads only.
    let lead_page = app.login("lead-s@example.org").await;
    let r = lead_page
        .get(app.url("/clusters/shelter/charter"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Charter review B"), "{html}");
    assert!(html.contains("Field support for every country"));
    assert!(html.contains("Cluster activation and deactivation"));
    for email in ["lead-h@example.org", "coord-ye@example.org"] {
        let c = app.login(email).await;
        let r = c
            .get(app.url("/clusters/shelter/charter"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{email}");
    }

    // The scorecard: the leads read "How country clusters rate our support" (web and
    // email); a coordinator of the cluster reads the scorecard without it.
    let r = lead_page
        .get(app.url("/clusters/shelter/scorecard"))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("How country clusters rate our support"));
    assert!(html.contains("Charter review B"));
    let coord_page = app.login("coord-ye@example.org").await;
    let html = coord_page
        .get(app.url("/clusters/shelter/scorecard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("How country clusters rate our support"));
    assert!(!html.contains("Charter review"));
    let period = common::this_period();
    let r = app
        .post_json(
            &w.lead,
            "/api/v1/scorecards/send",
            json!({"cluster": "shelter", "period": period}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, text, html) = delivered(&dir, &w.lead_email, "Global Shelter Cluster").await;
    assert!(
        text.contains("How country clusters rate our support"),
        "{text}"
    );
    assert!(text.contains("Charter review B"), "{text}");
    assert!(html.contains("How country clusters rate our support"));
}

both_backends!(end_to_end, charter_end_to_end);

/// Whether `text` names `needle` as a word of its own. A bare substring test would find a
/// two-letter country code inside the random CSRF token a page carries (1 run in ~100).
fn names(text: &str, needle: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

#[test]
fn names_finds_whole_words_only() {
    assert!(names("<td>YE</td>", "YE"));
    assert!(names("/operations/shelter-yemen/", "shelter-yemen"));
    assert!(names("YE", "YE"));
    assert!(!names("value=\"k3YEq-x\"", "YE"));
    assert!(!names("a_YE", "YE"));
}

/// Attacks on the country clusters' anonymity: too few answers show no score at all; no
/// reply, page or stored row tells which country cluster (operation) answered what.
async fn charter_anonymity(app: TestApp) {
    let w = world(&app).await;
    let id = create_round(&app, &w.lead, "shelter", "Small charter round", 10).await;
    let inv: Value = invite(&app, &w.lead, id, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let tokens = tokens_of(&inv);
    // Two of three coordinators answer, very differently: with min_respondents = 3 not one
    // score, interval or question score of theirs may show.
    answer(&app, &tokens[0], "strongly_disagree").await;
    answer(&app, &tokens[1], "strongly_agree").await;
    close(&app, &w.lead, id).await;
    let s = scores(&app, &w.lead, id).await;
    assert_eq!(s["min_respondents"], 3);
    assert_eq!(s["overall"]["score"], Value::Null);
    assert_eq!(s["overall"]["ci95"], Value::Null);
    assert_eq!(s["overall"]["status"], "insufficient_data");
    for f in s["functions"].as_array().unwrap() {
        assert_eq!(f["score"], Value::Null, "{f}");
        assert_eq!(f["ci95"], Value::Null, "{f}");
        for i in f["indicators"].as_array().unwrap() {
            assert_eq!(i["score"], Value::Null, "{i}");
        }
    }
    assert_eq!(s["questions"], json!([]));

    // Neither the scores nor the report page name an operation, a country or a coordinator.
    let page = app
        .login("lead-s@example.org")
        .await
        .get(app.url(&format!("/clusters/shelter/charter?round={id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json_text = s.to_string();
    for needle in [
        "shelter-yemen",
        "shelter-sudan",
        "Operation shelter",
        "coord-ye",
        "coord-sd",
        "YE",
    ] {
        assert!(!names(&json_text, needle), "scores name {needle}");
        assert!(!names(&page, needle), "the report page names {needle}");
    }

    // The stored rows: every charter response carries the org type `other` only, and every
    // invitation the global cluster's name as its organization (not the operation's).
    let mut conn = app.pool.get().unwrap();
    use clusterpulse::db::schema::{invitations, organizations, responses};
    use diesel::prelude::*;
    let types: Vec<String> = responses::table
        .filter(responses::round_id.eq(id as i32))
        .select(responses::org_type)
        .load(&mut conn)
        .unwrap();
    assert_eq!(types, ["other", "other"]);
    let orgs: Vec<String> = invitations::table
        .inner_join(organizations::table)
        .filter(invitations::round_id.eq(id as i32))
        .select(organizations::name)
        .load(&mut conn)
        .unwrap();
    assert!(
        orgs.iter().all(|o| o == "Global Shelter Cluster"),
        "{orgs:?}"
    );

    // The round of another cluster does not leak through a report page of this one.
    let other = create_round(&app, &w.other_lead, "health", "Health charter", 10).await;
    let r = app
        .login("lead-s@example.org")
        .await
        .get(app.url(&format!("/clusters/shelter/charter?round={other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .get_json(&w.lead, &format!("/api/v1/charter-rounds/{other}/scores"))
        .await;
    assert_eq!(r.status(), 403);
}

both_backends!(anonymity, charter_anonymity);
