//! Round scores through the API, CSV, CLI, charts, report page and action plan, against
//! numbers computed by hand from DESIGN.md's rules.

mod common;
use common::TestApp;
use serde_json::{json, Value};

fn close_to(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-9)
}

async fn round_with(app: &TestApp, coord: &str, days: i64, people: &[(&str, Value)]) -> i64 {
    let r: Value = app
        .post_json(coord, "/api/v1/rounds", json!({"operation": "shelter-yemen", "framework": "ccpm",
            "surveys": ["ccpm-partner", "ccpm-coordinator"], "opens_at": chrono::Utc::now().to_rfc3339(),
            "closes_at": (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()}))
        .await.json().await.unwrap();
    let id = r["id"].as_i64().unwrap();
    let invitations: Vec<Value> = people.iter().enumerate().map(|(i, (t, _))| json!({
        "email": format!("p{i}-{days}@x.org"), "organization": format!("Org {t} {i}"), "org_type": t, "survey": "ccpm-partner"})).collect();
    let inv: Value = app
        .post_json(
            coord,
            &format!("/api/v1/rounds/{id}/invitations"),
            json!({"invitations": invitations}),
        )
        .await
        .json()
        .await
        .unwrap();
    for (i, (_, answers)) in people.iter().enumerate() {
        let token = inv["invitations"][i]["token"].as_str().unwrap();
        let r = app.client.post(app.url("/api/v1/responses"))
            .json(&json!({"token": token, "id": uuid::Uuid::new_v4().to_string(), "answers": answers})).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    id
}

async fn scores_follow_the_rules(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let lead = app.user_token(
        "lead@shelter.example.org",
        "global_lead",
        Some("shelter"),
        &[],
    );
    let other = app.user_token(
        "coord@health.example.org",
        "coordinator",
        None,
        &["health-yemen"],
    );

    // A previous round, closed: function 1 = 100.
    let prev = round_with(
        &app,
        &coord,
        2,
        &[
            ("ingo", json!({"meetings_focus": "strongly_agree"})),
            ("ingo", json!({"meetings_focus": "strongly_agree"})),
            ("ingo", json!({"meetings_focus": "strongly_agree"})),
        ],
    )
    .await;
    assert_eq!(
        app.post_json(&coord, &format!("/api/v1/rounds/{prev}/close"), json!({}))
            .await
            .status(),
        200
    );

    let id = round_with(
        &app,
        &coord,
        10,
        &[
            (
                "ingo",
                json!({"meetings_focus": "strongly_agree", "who_what_where": "agree"}),
            ),
            (
                "ingo",
                json!({"meetings_focus": "agree", "who_what_where": "dont_know"}),
            ),
            ("ingo", json!({"meetings_focus": "disagree"})),
            (
                "un",
                json!({"meetings_focus": "neutral", "who_what_where": "strongly_disagree"}),
            ),
            (
                "un",
                json!({"meeting_attendance": "always", "works_well": "Shelter kits <arrive> fast",
                    "overall_rating": 8}),
            ),
        ],
    )
    .await;

    // While open, five responses publish no snapshot yet (that takes 2 × min_respondents
    // unpublished; see tests/anonymity.rs): nothing is scored, nothing counted as responded.
    let open: Value = app
        .get_json(&coord, &format!("/api/v1/rounds/{id}/scores"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["provisional"], true);
    assert_eq!(open["overall"]["n"], 0);
    assert_eq!(open["response_rate"]["responded"], 0);
    assert_eq!(open["by_org_type"], json!([]));
    assert_eq!(
        app.post_json(&coord, &format!("/api/v1/rounds/{id}/close"), json!({}))
            .await
            .status(),
        200
    );

    let r = app
        .get_json(&coord, &format!("/api/v1/rounds/{id}/scores"))
        .await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["round"], id);
    assert_eq!(s["operation"], "shelter-yemen");
    assert_eq!(s["framework"], "ccpm");
    assert_eq!(s["provisional"], false);
    // Questions: Q(meetings_focus) = (100+75+25+50)/4, Q(who_what_where) = (75+0)/2.
    let q = |name: &str| {
        s["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == name)
            .cloned()
            .unwrap()
    };
    assert!(close_to(&q("meetings_focus")["score"], 62.5));
    assert_eq!(q("meetings_focus")["n"], 4);
    assert!(close_to(&q("who_what_where")["score"], 37.5));
    assert_eq!(q("who_what_where")["indicator"], "1.2");
    // Function 1 = (62.5 + 37.5) / 2 = 50 → not above 50: unsatisfactory; n = 4 responses.
    let f1 = &s["functions"][0];
    assert_eq!(f1["id"], "1");
    assert!(close_to(&f1["score"], 50.0));
    assert_eq!(f1["status"], "unsatisfactory");
    assert_eq!(f1["n"], 4);
    assert_eq!(f1["indicators"][0]["id"], "1.1");
    assert_eq!(f1["indicators"][0]["status"], "satisfactory");
    assert_eq!(
        f1["indicators"][1]["status"], "insufficient_data",
        "n=2 < 3"
    );
    assert!(
        close_to(&f1["indicators"][1]["score"], 37.5),
        "score still reported"
    );
    let ci = f1["ci95"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() <= 50.0 && ci[1].as_f64().unwrap() >= 50.0);
    // Trend: previous 100, change -50.
    assert!(close_to(&f1["previous"], 100.0));
    assert!(close_to(&f1["change"], -50.0));
    assert_eq!(s["previous_round"], prev);
    // Functions without data are listed with null.
    let f2 = &s["functions"][1];
    assert!(f2["score"].is_null());
    assert_eq!(f2["status"], "insufficient_data");
    assert_eq!(f2["n"], 0);
    assert_eq!(s["functions"].as_array().unwrap().len(), 7);
    assert!(close_to(&s["overall"]["score"], 50.0));
    assert_eq!(s["overall"]["n"], 4);
    // By org type: un (2 responses) is suppressed; ingo F1 = (mean(100,75,25) + 75) / 2.
    let by = s["by_org_type"].as_array().unwrap();
    assert_eq!(by.len(), 1, "{by:?}");
    assert_eq!(by[0]["org_type"], "ingo");
    assert_eq!(by[0]["n"], 3);
    assert!(close_to(
        &by[0]["functions"][0]["score"],
        ((100.0 + 75.0 + 25.0) / 3.0 + 75.0) / 2.0
    ));
    // Response rate counts are not suppressed.
    assert_eq!(s["response_rate"]["invited"], 5);
    assert_eq!(s["response_rate"]["responded"], 5);
    let un = s["response_rate"]["by_org_type"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["org_type"] == "un")
        .unwrap()
        .clone();
    assert_eq!(un["responded"], 2);

    // The same data gives the same interval.
    let again: Value = app
        .get_json(&lead, &format!("/api/v1/rounds/{id}/scores"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["functions"][0]["ci95"], s["functions"][0]["ci95"]);
    assert_eq!(
        app.get_json(&other, &format!("/api/v1/rounds/{id}/scores"))
            .await
            .status(),
        403
    );

    // CSV: one row per level/id.
    let r = app
        .get_json(&coord, &format!("/api/v1/rounds/{id}/scores.csv"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.lines().next().unwrap().starts_with("level,id"));
    assert!(csv.lines().any(|l| l.starts_with("function,1,")));
    assert!(csv.lines().any(|l| l.starts_with("indicator,1.2,")));

    // Charts, SVG and PNG.
    for name in ["functions", "response-rate", "trend"] {
        let r = app
            .get_json(&lead, &format!("/api/v1/rounds/{id}/charts/{name}.svg"))
            .await;
        assert_eq!(r.status(), 200, "{name}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.text().await.unwrap().contains("<svg"));
        let r = app
            .get_json(&lead, &format!("/api/v1/rounds/{id}/charts/{name}.png"))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(&r.bytes().await.unwrap()[..4], b"\x89PNG");
    }
    assert_eq!(
        app.get_json(&lead, &format!("/api/v1/rounds/{id}/charts/pie.svg"))
            .await
            .status(),
        404
    );

    // Action plan: create, validate, list with overdue flag, update; readers cannot write.
    let r = app.post_json(&coord, &format!("/api/v1/rounds/{id}/actions"), json!({
        "indicator": "1.2", "action": "Share the 4W every month", "owner": "IM officer", "due_date": "2020-01-31",
        "support_needed": "Data from partners"})).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["overdue"], true);
    assert_eq!(a["status"], "open");
    let r = app
        .post_json(
            &coord,
            &format!("/api/v1/rounds/{id}/actions"),
            json!({"indicator": "9.9", "action": "", "owner": "x", "due_date": "soon"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    for f in ["indicator", "action", "due_date"] {
        assert!(e["fields"].get(f).is_some(), "{f}: {e}");
    }
    assert_eq!(
        app.post_json(
            &lead,
            &format!("/api/v1/rounds/{id}/actions"),
            json!({"indicator": "1.2", "action": "x", "owner": "y"})
        )
        .await
        .status(),
        403
    );
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/rounds/{id}/actions/{}", a["id"])))
        .bearer_auth(&coord)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a2: Value = r.json().await.unwrap();
    assert_eq!(a2["status"], "done");
    assert_eq!(a2["overdue"], false);
    let list: Value = app
        .get_json(&lead, &format!("/api/v1/rounds/{id}/actions"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["actions"].as_array().unwrap().len(), 1);

    // The report page, for a global lead: scores, charts, lowest questions, print CSS.
    let c = app.new_client();
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "lead@shelter.example.org", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = c
        .get(app.url(&format!("/rounds/{id}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("Provisional"), "the round is closed: final");
    assert!(html.contains(&format!("/api/v1/rounds/{id}/charts/functions.svg")));
    assert!(html.contains("status-unsatisfactory"));
    assert!(html.contains("Share the 4W every month"));
    // What partners wrote, once the round is closed: escaped, counted, and with no org
    // type beside it; the unscored 0–10 rating as a median and distribution.
    let own_words = &html[html
        .find("id=\"open-answers\"")
        .expect("open answers section")..];
    let own_words = &own_words[..own_words.find("<h2>Action plan").unwrap()];
    assert!(
        own_words.contains("Shelter kits &lt;arrive&gt; fast"),
        "{own_words}"
    );
    assert!(own_words.contains("n=1"), "{own_words}");
    assert!(
        own_words.contains("Median <strong>8</strong>"),
        "{own_words}"
    );
    assert!(!own_words.contains("UN agency"), "{own_words}");
}
both_backends!(scores, scores_follow_the_rules);
