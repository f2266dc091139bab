//! The inter-cluster view and the consolidated reports through the real server, on both
//! backends: an inter-cluster coordinator of Yemen sees Yemen's clusters side by side (CCPM
//! statuses, AAP counts with sensitive items sealed, open and overdue actions) and the gap
//! both clusters share; not Haiti, and no single operation's data. The consolidated report
//! counts which operations ran a CCPM; the quarterly action-plan report lists the actions.

mod common;
use common::{TestApp, PASSWORD};
use serde_json::{json, Value};

/// A staff account with countries (an inter-cluster coordinator); its bearer token.
fn icc_token(app: &TestApp, email: &str, countries: &[&str]) -> String {
    let mut conn = app.pool.get().unwrap();
    let countries: Vec<String> = countries.iter().map(|c| c.to_string()).collect();
    clusterpulse::domain::accounts::add_user(
        &mut conn,
        &clusterpulse::domain::accounts::NewAccount {
            email,
            role: "inter_cluster_coordinator",
            cluster: None,
            operations: &[],
            countries: &countries,
            password: PASSWORD,
        },
    )
    .expect("add user");
    clusterpulse::domain::accounts::create_token_for(&mut conn, email, "t").unwrap()
}

struct World {
    admin: String,
    icc: String,
    icc_haiti: String,
    lead: String,
    coord: String,
    rounds: Vec<i64>,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token();
    for (code, name) in [
        ("shelter", "Global Shelter Cluster"),
        ("health", "Global Health Cluster"),
        ("wash", "Global WASH Cluster"),
    ] {
        let r = app
            .post_json(
                &admin,
                "/api/v1/clusters",
                json!({"code": code, "name": name}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    for (slug, cluster, country) in [
        ("shelter-yemen", "shelter", "YE"),
        ("health-yemen", "health", "YE"),
        ("shelter-haiti", "shelter", "HT"),
        ("wash-haiti", "wash", "HT"),
    ] {
        let r = app
            .post_json(&admin, "/api/v1/operations", json!({"slug": slug, "cluster": cluster, "country": country, "name": format!("Operation {slug}")}))
            .await;
        assert_eq!(r.status(), 201);
    }
    let coord = app.user_token(
        "coord@example.org",
        "coordinator",
        None,
        &["shelter-yemen", "health-yemen"],
    );
    // Both Yemen clusters: advocacy rated very low by everyone (a gap of the country).
    let low =
        json!({"advocacy_issues": "strongly_disagree", "advocacy_action": "strongly_disagree"});
    let mut rounds = Vec::new();
    for op in ["shelter-yemen", "health-yemen"] {
        let id = common::open_round_with_responses(app, &coord, op, 6, low.clone()).await;
        let r = app
            .post_json(&coord, &format!("/api/v1/rounds/{id}/close"), json!({}))
            .await;
        assert_eq!(r.status(), 200);
        rounds.push(id);
    }
    World {
        icc: icc_token(app, "icc-ye@example.org", &["YE"]),
        icc_haiti: icc_token(app, "icc-ht@example.org", &["HT"]),
        lead: app.user_token("lead@example.org", "global_lead", Some("shelter"), &[]),
        admin,
        coord,
        rounds,
    }
}

async fn country_view(app: TestApp) {
    let w = world(&app).await;
    // An overdue action on shelter-yemen; feedback, one item sensitive.
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let r = app
        .post_json(
            &w.coord,
            &format!("/api/v1/rounds/{}/actions", w.rounds[0]),
            json!({"indicator": "4.1", "action": "Agree advocacy messages", "owner": "Coordinator",
                   "due_date": yesterday}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    for category in ["complaint", "sensitive"] {
        let r = app
            .new_client()
            .post(app.url("/api/v1/feedback"))
            .json(
                &json!({"operation": "shelter-yemen", "answers": {"category": category,
                "message": format!("secret {category} matter"), "consent_to_contact": "no"}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    // The register: two members, an observer, and a member whose membership ended.
    for (org, status) in [
        ("Relief Org", "member"),
        ("Local Aid", "member"),
        ("Watching Donor", "observer"),
        ("Gone Org", "member"),
    ] {
        let r = app
            .post_json(
                &w.coord,
                "/api/v1/operations/shelter-yemen/members",
                json!({"organization": org, "org_type": "ingo", "status": status}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        if org == "Gone Org" {
            let id = r.json::<Value>().await.unwrap()["id"].clone();
            let r = app
                .post_json(
                    &w.coord,
                    &format!("/api/v1/operations/shelter-yemen/members/{id}/end"),
                    json!({}),
                )
                .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    }

    let r = app.get_json(&w.icc, "/api/v1/countries/ye").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["country"], "YE");
    let slugs: Vec<&str> = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["health-yemen", "shelter-yemen"]);
    let shelter = &v["operations"][1];
    assert_eq!(shelter["cluster"], "shelter");
    assert_eq!(shelter["round"]["id"], w.rounds[0]);
    let advocacy = shelter["round"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "4")
        .unwrap();
    assert_eq!(advocacy["status"], "weak");
    assert_eq!(
        shelter["actions"],
        json!({"open": 1, "overdue": 1, "done": 0})
    );
    assert_eq!(
        shelter["membership"],
        json!({"members": 2, "observers": 1}),
        "former members are not counted"
    );
    assert_eq!(
        v["operations"][0]["membership"],
        json!({"members": 0, "observers": 0})
    );
    // Counts only; the sensitive item sealed.
    assert_eq!(shelter["aap"]["total"], 1);
    assert_eq!(shelter["aap"]["sensitive"], "fewer than 3");
    assert!(!text.contains("secret"), "no feedback text in the view");
    // The gap: advocacy weak in both clusters.
    let gap = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["function"] == "4")
        .expect("advocacy is a gap");
    assert_eq!(gap["operations"], json!(["health-yemen", "shelter-yemen"]));

    // Who reads which country.
    for (token, path, status) in [
        (&w.icc, "/api/v1/countries/HT", 403),
        (&w.icc_haiti, "/api/v1/countries/YE", 403),
        (&w.icc_haiti, "/api/v1/countries/YE/action-plan", 403),
        (&w.lead, "/api/v1/countries/YE", 403),
        (&w.coord, "/api/v1/countries/YE", 403),
        (&w.admin, "/api/v1/countries/HT", 200),
        (&w.icc, "/api/v1/countries/YEM", 400),
        (
            &w.icc,
            "/api/v1/countries/YE/action-plan?quarter=2026-Q9",
            400,
        ),
    ] {
        let r = app.get_json(token, path).await;
        assert_eq!(r.status(), status, "{path}");
    }
    // The role reads aggregates of its countries, nothing of one operation.
    for path in [
        "/api/v1/operations/shelter-yemen".to_string(),
        format!("/api/v1/rounds/{}/scores", w.rounds[0]),
        "/api/v1/operations/shelter-yemen/feedback/metrics".to_string(),
        "/api/v1/clusters/shelter/charter-rounds".to_string(),
    ] {
        let r = app.get_json(&w.icc, &path).await;
        assert_eq!(r.status(), 403, "{path}");
    }

    // The quarterly action-plan progress report (JSON and a printable page).
    let plan: Value = app
        .get_json(&w.icc, "/api/v1/countries/YE/action-plan")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["totals"]["open"], 1);
    assert_eq!(plan["totals"]["overdue"], 1);
    assert_eq!(
        plan["operations"][1]["items"][0]["action"],
        "Agree advocacy messages"
    );
    assert_eq!(plan["operations"][1]["items"][0]["overdue"], true);
    let page = app.login("icc-ye@example.org").await;
    let html = page
        .get(app.url("/countries/YE/action-plan"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("class=\"printable\"") && html.contains("Agree advocacy messages"));
    let r = page.get(app.url("/countries/YE")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Gaps across clusters") && html.contains("Advocacy"),
        "{html}"
    );
    assert!(!html.contains("secret"));
    let r = page.get(app.url("/countries/HT")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

both_backends!(country, country_view);

async fn consolidated_report(app: TestApp) {
    let w = world(&app).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let path = format!("/api/v1/reports/consolidated?year={year}");
    let v: Value = app.get_json(&w.admin, &path).await.json().await.unwrap();
    assert_eq!(v["operations_total"], 4);
    assert_eq!(v["operations_with_ccpm"], 2);
    assert_eq!(v["ccpm_share"], 0.5);
    let by: Vec<(String, i64, i64)> = v["by_cluster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cluster"].as_str().unwrap().to_string(),
                c["operations_total"].as_i64().unwrap(),
                c["operations_with_ccpm"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by,
        [
            ("health".to_string(), 1, 1),
            ("shelter".to_string(), 2, 1),
            ("wash".to_string(), 1, 0)
        ]
    );
    let advocacy = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "4")
        .unwrap();
    assert_eq!(advocacy["operations"], 2);
    assert_eq!(advocacy["status"], "weak");
    // Per cluster, for its lead; another cluster's report is not theirs.
    let v: Value = app
        .get_json(&w.lead, &format!("{path}&cluster=shelter"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["operations_total"], 2);
    assert_eq!(v["ccpm_share"], 0.5);
    let v: Value = app.get_json(&w.lead, &path).await.json().await.unwrap();
    assert_eq!(
        v["operations_total"], 2,
        "a lead's report covers their cluster"
    );
    assert_eq!(
        app.get_json(&w.lead, &format!("{path}&cluster=health"))
            .await
            .status(),
        403
    );
    // An inter-cluster coordinator: the operations of their countries.
    let v: Value = app.get_json(&w.icc, &path).await.json().await.unwrap();
    assert_eq!(v["operations_total"], 2);
    assert_eq!(v["operations_with_ccpm"], 2);
    let v: Value = app
        .get_json(&w.icc_haiti, &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["operations_with_ccpm"], 0);
    assert_eq!(app.get_json(&w.coord, &path).await.status(), 403);
    let r = app
        .get_json(&w.admin, "/api/v1/reports/consolidated?year=1999")
        .await;
    assert_eq!(r.status(), 400);
    // A cluster code no cluster can have (a NUL byte made PostgreSQL fail: a 500) is a
    // 400 naming the parameter; a well-formed unknown one is a 404.
    let r = app
        .get_json(&w.admin, "/api/v1/reports/consolidated?cluster=she%00lter")
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["fields"]["cluster"].is_string(), "{v}");
    let r = app
        .get_json(&w.admin, "/api/v1/reports/consolidated?cluster=nowhere")
        .await;
    assert_eq!(r.status(), 404);
    // Nothing ran in a year without rounds.
    let v: Value = app
        .get_json(&w.admin, "/api/v1/reports/consolidated?year=2001")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["operations_with_ccpm"], 0);
    // The printable page.
    let page = app.login("lead@example.org").await;
    let html = page
        .get(app.url(&format!("/reports/consolidated?year={year}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("1 of 2") && html.contains("class=\"printable\""),
        "{html}"
    );
}

both_backends!(consolidated, consolidated_report);
