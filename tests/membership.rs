//! Cluster membership on both backends, through the real server: the register (add, change,
//! end, history, CSV import of a good file and of a bad one that changes nothing), the
//! self-assessment of the minimum commitments through a focal point's emailed link and as
//! entered by a coordinator, the "who meets which commitment" grid, the onboarding
//! checklist, invitations drawn from the register and response rates split by membership.
//! Attacks: a focal point's link reads no other organization's statement and is no API
//! credential; a coordinator of another operation cannot see the register.

mod common;
use common::smtp::{text_of, SmtpServer};
use common::{Backend, TestApp};
use serde_json::{json, Value};

const PUBLIC_URL: &str = "https://pulse.example.org";

struct World {
    app: TestApp,
    smtp: Option<SmtpServer>,
    admin: String,
    coord: String,
    coord_b: String,
    lead: String,
}

async fn spawn(backend: Backend) -> Option<World> {
    // The real SMTP sink when there is one: the focal point's link is then read from the
    // delivered email.
    let smtp = SmtpServer::start();
    let url = smtp.as_ref().map(|s| s.url().to_string());
    let app = TestApp::spawn_with(backend, |env| {
        if let Some(url) = url {
            env.insert("SMTP_URL".into(), url);
        }
        env.insert("CLUSTERPULSE_PUBLIC_URL".into(), PUBLIC_URL.into());
        env.insert("CLUSTERPULSE_MAIL_POLL_SECS".into(), "1".into());
        env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "0".into());
    })
    .await?;
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@test.example",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let coord_b = app.user_token(
        "coord-b@test.example",
        "coordinator",
        None,
        &["shelter-sudan"],
    );
    let lead = app.user_token("lead@test.example", "global_lead", Some("shelter"), &[]);
    Some(World {
        app,
        smtp,
        admin,
        coord,
        coord_b,
        lead,
    })
}

fn uniq() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(json!({"raw": text})),
    )
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    status_json(req.send().await.unwrap()).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    send(app, reqwest::Method::POST, token, path, Some(body)).await
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    send(app, reqwest::Method::GET, token, path, None).await
}

async fn import(app: &TestApp, token: &str, slug: &str, csv: &str) -> (u16, Value) {
    status_json(
        app.client
            .post(app.url(&format!(
                "/api/v1/operations/{slug}/members/import?file_name=members.csv"
            )))
            .bearer_auth(token)
            .header("Content-Type", "application/octet-stream")
            .body(csv.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn every_commitment(rating: &str, comment: &str) -> Value {
    let ids = [
        "principles",
        "protection",
        "aap",
        "duties",
        "participation",
        "response_plan",
        "cross_cutting",
        "senior_staff",
        "resources",
        "working_groups",
        "advocacy",
        "interpretation",
    ];
    let mut m = serde_json::Map::new();
    for id in ids {
        m.insert(id.into(), json!({"rating": rating, "comment": comment}));
    }
    Value::Object(m)
}

async fn register_crud_and_import(w: World) {
    let (app, coord) = (&w.app, &w.coord);
    let base = "/api/v1/operations/shelter-yemen/members";
    // Add: a new organization needs its type; a known one does not.
    let (s, e) = post(
        app,
        coord,
        base,
        json!({"organization": "Relief Org", "status": "member"}),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert!(e["fields"]["org_type"].is_string(), "{e}");
    let since = (today() - chrono::Duration::days(30)).to_string();
    let (s, relief) = post(app, coord, base, json!({"organization": "Relief Org", "org_type": "ingo",
        "status": "member", "level": "national", "since": since, "focal_point_email": "FP@Relief.example.org"}))
    .await;
    assert_eq!(s, 201, "{relief}");
    assert_eq!(relief["status"], "member");
    assert_eq!(relief["since"], since);
    assert_eq!(relief["focal_point_email"], "fp@relief.example.org");
    assert_eq!(relief["organization"]["org_type"], "ingo");
    let id = relief["id"].as_i64().unwrap();
    let (s, e) = post(
        app,
        coord,
        base,
        json!({"organization": "relief  org", "status": "observer"}),
    )
    .await;
    assert_eq!(
        s, 409,
        "the same organization (name as typed differently): {e}"
    );
    for (body, field) in [
        (
            json!({"organization": "X", "org_type": "ngo", "status": "member"}),
            "org_type",
        ),
        (
            json!({"organization": "X", "org_type": "ingo", "status": "former"}),
            "status",
        ),
        (
            json!({"organization": "X", "org_type": "ingo", "status": "member", "level": "regional"}),
            "level",
        ),
        (
            json!({"organization": "X", "org_type": "ingo", "status": "member",
                "since": (today() + chrono::Duration::days(2)).to_string()}),
            "since",
        ),
        (
            json!({"organization": "X", "org_type": "ingo", "status": "member", "focal_point_email": "no"}),
            "focal_point_email",
        ),
    ] {
        let (s, e) = post(app, coord, base, body).await;
        assert_eq!(s, 400, "{e}");
        assert!(e["fields"][field].is_string(), "{field}: {e}");
    }
    let (s, icrc) = post(
        app,
        coord,
        base,
        json!({"organization": "ICRC", "org_type": "rcrc", "status": "observer"}),
    )
    .await;
    assert_eq!(s, 201, "{icrc}");
    assert_eq!(icrc["level"], "national");
    assert_eq!(icrc["since"], today().to_string());

    // Change, end: the history keeps every version.
    let (s, v) = send(
        app,
        reqwest::Method::PATCH,
        coord,
        &format!("{base}/{id}"),
        Some(json!({"level": "subnational"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["level"], "subnational");
    assert_eq!(v["status"], "member");
    let (s, v) = post(app, coord, &format!("{base}/{id}/end"), json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "former");
    let (s, _) = post(app, coord, &format!("{base}/{id}/end"), json!({})).await;
    assert_eq!(s, 409);
    let (s, d) = get(app, coord, &format!("{base}/{id}")).await;
    assert_eq!(s, 200, "{d}");
    let history: Vec<(&str, &str, &str)> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap(),
                h["status"].as_str().unwrap(),
                h["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("added", "member", "national"),
            ("updated", "member", "subnational"),
            ("ended", "former", "subnational")
        ]
    );
    assert_eq!(d["history"][0]["by"], "coord@test.example");
    // Rejoining is a change like any other.
    let (s, v) = send(
        app,
        reqwest::Method::PATCH,
        coord,
        &format!("{base}/{id}"),
        Some(json!({"status": "member", "since": today().to_string()})),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // A bad file changes nothing, and names every bad line.
    let (_, before) = get(app, coord, base).await;
    let bad = "organization,org_type,status,level,since,focal_point_email\n\
               New Partner A,nngo,member,national,2025-02-01,a@partner-a.example.org\n\
               ICRC,,member,,,\n\
               New Partner B,nngo,memberr,,,\n\
               Unknown Org,,observer,,,\n\
               New Partner C,ingo,member,,31/12/2025,\n";
    let (s, e) = import(app, coord, "shelter-yemen", bad).await;
    assert_eq!(s, 400, "{e}");
    let problem = e["fields"]["file"].as_str().unwrap();
    assert!(problem.starts_with("members.csv:"), "{problem}");
    assert!(problem.contains("line 4: status"), "{problem}");
    assert!(problem.contains("line 6: since"), "{problem}");
    assert!(!problem.contains("line 2"), "{problem}");
    let (_, after) = get(app, coord, base).await;
    assert_eq!(before, after, "a refused file changes nothing");
    // Rows that pass the checks but name an unknown organization without a type: refused
    // as a whole too, and the organization of the row before is not created either.
    let (s, e) = import(
        app,
        coord,
        "shelter-yemen",
        "organization,org_type,status\nNew Partner A,nngo,member\nUnknown Org,,observer\n",
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("line 3: org_type"),
        "{e}"
    );
    let (_, orgs) = get(app, &w.admin, "/api/v1/organizations").await;
    assert!(!orgs.to_string().contains("New Partner A"), "{orgs}");
    let (_, after) = get(app, coord, base).await;
    assert_eq!(before, after);

    // The good file: two added, one changed, one unchanged.
    let good = "\u{feff}organization,org_type,status,level,since,focal_point_email\r\n\
                New Partner A,nngo,member,subnational,2025-02-01,a@partner-a.example.org\r\n\
                \"Partner B, Inc\",ingo,observer,,,\r\n\
                ICRC,,member,national,,\r\n\
                Relief Org,,member,subnational,"
        .to_string()
        + &today().to_string()
        + ",fp@relief.example.org\r\n";
    let (s, done) = import(app, coord, "shelter-yemen", &good).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        (
            done["added"].as_u64(),
            done["updated"].as_u64(),
            done["unchanged"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{done}"
    );
    let (_, reg) = get(app, coord, base).await;
    let names: Vec<(&str, &str)> = reg["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["organization"]["name"].as_str().unwrap(),
                m["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("ICRC", "member"),
            ("New Partner A", "member"),
            ("Relief Org", "member"),
            ("Partner B, Inc", "observer")
        ]
    );

    // Who may see it: the operation's coordinator, the cluster's global lead (read only),
    // admins; not the coordinator of another operation, not anyone without credentials.
    let (s, _) = get(app, &w.lead, base).await;
    assert_eq!(s, 200);
    let (s, _) = post(
        app,
        &w.lead,
        base,
        json!({"organization": "ICRC", "status": "member"}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, e) = get(app, &w.coord_b, base).await;
    assert_eq!(s, 403, "{e}");
    assert!(!e.to_string().contains("ICRC"));
    let (s, _) = get(app, &w.coord_b, &format!("{base}/{id}")).await;
    assert_eq!(s, 403);
    let (s, _) = import(app, &w.coord_b, "shelter-yemen", &good).await;
    assert_eq!(s, 403);
    let r = app.new_client().get(app.url(base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // An entry id of another operation's register is not found through this one.
    let (s, other) = post(
        app,
        &w.coord_b,
        "/api/v1/operations/shelter-sudan/members",
        json!({"organization": "ICRC", "status": "observer"}),
    )
    .await;
    assert_eq!(s, 201, "{other}");
    let (s, _) = get(app, coord, &format!("{base}/{}", other["id"])).await;
    assert_eq!(s, 404);

    // The pages: the register under the coordinator's dashboard, adding through its form.
    let c = app.login("coord@test.example").await;
    let dash = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dash.contains("/operations/shelter-yemen/members"));
    assert!(!dash.contains("/operations/shelter-sudan/members"));
    let page = c
        .get(app.url("/operations/shelter-yemen/members"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Partner B, Inc") && page.contains("id=\"import-members\""));
    assert!(page.contains(&clusterpulse::domain::membership::register::CSV_COLUMNS.join(",")));
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url("/operations/shelter-yemen/members"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("organization", "Page Partner"),
            ("org_type", "nngo"),
            ("status", "observer"),
            ("level", "national"),
            ("since", ""),
            ("focal_point_email", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c
        .post(app.url("/operations/shelter-yemen/members"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("organization", "Page Partner 2"),
            ("status", "member"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a new organization without a type");
    assert!(r.text().await.unwrap().contains("org_type"));
    let cb = app.login("coord-b@test.example").await;
    let r = cb
        .get(app.url("/operations/shelter-yemen/members"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = cb
        .get(app.url(&format!("/operations/shelter-yemen/members/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Staff actions are in the audit trail.
    let a = app.login("admin@test.example").await;
    let audit = a
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for action in [
        "membership.added",
        "membership.updated",
        "membership.ended",
        "membership.import",
    ] {
        assert!(audit.contains(action), "{action} in the audit log");
    }
    assert!(
        !audit.contains("fp@relief.example.org"),
        "no focal point address in the audit log"
    );
}

both_backends!(register, register_crud_and_import, spawn);

/// The token of a link in `text` (`…/m/<token>`).
fn token_in(text: &str) -> String {
    let at = text.find(&format!("{PUBLIC_URL}/m/")).expect("a link") + PUBLIC_URL.len() + 3;
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn self_assessment_and_grid(w: World) {
    let (app, coord) = (&w.app, &w.coord);
    let base = "/api/v1/operations/shelter-yemen/members";
    let tag = uniq();
    let fp_a = format!("fp-a-{tag}@alpha.example.org");
    let (_, a) = post(
        app,
        coord,
        base,
        json!({"organization": "Alpha Relief", "org_type": "nngo",
        "status": "member", "focal_point_email": fp_a}),
    )
    .await;
    let (_, b) = post(
        app,
        coord,
        base,
        json!({"organization": "Beta Aid", "org_type": "ingo",
        "status": "member", "focal_point_email": format!("fp-b-{tag}@beta.example.org")}),
    )
    .await;
    let (_, obs) = post(
        app,
        coord,
        base,
        json!({"organization": "Donor Office", "org_type": "donor",
        "status": "observer", "focal_point_email": format!("fp-d-{tag}@donor.example.org")}),
    )
    .await;
    let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());

    // Links for every member (not the observer), emailed when SMTP is there.
    let year = chrono::Datelike::year(&today());
    let (s, links) = post(
        app,
        coord,
        "/api/v1/operations/shelter-yemen/self-assessments/links",
        json!({"send": w.smtp.is_some()}),
    )
    .await;
    assert_eq!(s, 201, "{links}");
    let listed: Vec<&str> = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["organization"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["Alpha Relief", "Beta Aid"],
        "members only, by default"
    );
    assert!(!links.to_string().contains("Donor Office"));
    let token_a = match &w.smtp {
        Some(smtp) => {
            let mail = smtp.wait_for(&fp_a, 1).await;
            let text = text_of(&mail[0]);
            assert!(
                text.contains("Alpha Relief") && text.contains(&year.to_string()),
                "{text}"
            );
            token_in(&text)
        }
        None => links["links"][0]["token"].as_str().unwrap().to_string(),
    };
    assert!(token_a.len() >= 22, "at least 128 bits: {token_a}");
    let token_b = links["links"][1]["token"].as_str().unwrap().to_string();
    assert_ne!(token_a, token_b);

    // The coordinator records Beta's statement (told by phone): a comment only Beta wrote.
    let mut answers = every_commitment("partly", "");
    answers["advocacy"] =
        json!({"rating": "not_yet", "comment": "BETA-PRIVATE remark on advocacy"});
    let (s, st) = post(
        app,
        coord,
        &format!("{base}/{b_id}/self-assessments"),
        json!({"year": year, "answers": answers}),
    )
    .await;
    assert_eq!(s, 201, "{st}");
    assert_eq!(st["via"], "coordinator");
    // Incomplete or unknown answers are refused naming the field.
    let mut partial = every_commitment("meets", "");
    partial.as_object_mut().unwrap().remove("aap");
    partial["bogus"] = json!({"rating": "meets"});
    let (s, e) = post(
        app,
        coord,
        &format!("{base}/{b_id}/self-assessments"),
        json!({"answers": partial}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["fields"]["answers.aap.rating"].is_string() && e["fields"]["answers.bogus"].is_string(),
        "{e}"
    );
    let (s, e) = post(
        app,
        coord,
        &format!("{base}/{b_id}/self-assessments"),
        json!({"year": year + 1, "answers": every_commitment("meets", "")}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(e["fields"]["year"].is_string());

    // The focal point of Alpha opens their link: their organization only, in the language
    // asked for, nothing of Beta's.
    let fp = app.new_client();
    let page = fp
        .get(app.url(&format!("/m/{token_a}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Alpha Relief"));
    assert!(
        !page.contains("Beta Aid") && !page.contains("BETA-PRIVATE"),
        "no other organization"
    );
    let page_ar = fp
        .get(app.url(&format!("/m/{token_a}?lang=ar")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page_ar.contains("dir=\"rtl\"") && page_ar.contains("مستوفى"),
        "Arabic, right to left"
    );
    let fr = fp
        .get(app.url(&format!("/m/{token_a}")))
        .header("Accept-Language", "fr-FR,fr;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        fr.contains("Engagements minimaux"),
        "the browser's language"
    );
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // A form missing answers keeps what was chosen and says what is missing.
    let r = fp
        .post(app.url(&format!("/m/{token_a}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("lang", "en"),
            ("rating.principles", "meets"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("every commitment") && text.contains("value=\"meets\" checked"),
        "kept"
    );
    // A forged form is refused.
    let r = fp
        .post(app.url(&format!("/m/{token_a}")))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let mut form: Vec<(String, String)> = vec![
        ("csrf_token".into(), csrf.clone()),
        ("lang".into(), "en".into()),
    ];
    for (id, _) in every_commitment("meets", "").as_object().unwrap() {
        let rating = if id == "interpretation" {
            "partly"
        } else {
            "meets"
        };
        form.push((format!("rating.{id}"), rating.into()));
    }
    form.push((
        "comment.interpretation".into(),
        "We fund interpreters in two hubs".into(),
    ));
    let r = fp
        .post(app.url(&format!("/m/{token_a}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("id=\"thanks\"") && text.contains("We fund interpreters"));
    assert!(!text.contains("BETA-PRIVATE"));
    // The link is not an API credential, and unknown links are not found.
    for path in [
        "/api/v1/operations/shelter-yemen/self-assessments".to_string(),
        format!("{base}/{b_id}"),
        base.to_string(),
    ] {
        let r = app
            .new_client()
            .get(app.url(&path))
            .bearer_auth(&token_a)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = fp
        .get(app.url("/m/QmFkVG9rZW5Ob2JvZHlIb2xkcw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Beta's link opens Beta's own statement, not Alpha's.
    let page_b = fp
        .get(app.url(&format!("/m/{token_b}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page_b.contains("Beta Aid") && page_b.contains("BETA-PRIVATE"));
    assert!(!page_b.contains("Alpha Relief") && !page_b.contains("We fund interpreters"));

    // The grid: both statements by name, the observer without one.
    let (s, g) = get(
        app,
        coord,
        &format!("/api/v1/operations/shelter-yemen/self-assessments?year={year}"),
    )
    .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["commitments"].as_array().unwrap().len(), 12);
    let row = |name: &str| {
        g["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["organization"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("Alpha Relief")["via"], "link");
    assert_eq!(
        row("Alpha Relief")["answers"]["interpretation"]["rating"],
        "partly"
    );
    assert_eq!(row("Beta Aid")["answers"]["advocacy"]["rating"], "not_yet");
    assert_eq!(row("Donor Office")["answers"], json!({}));
    assert_eq!(row("Donor Office")["member"], obs["id"]);
    let total = g["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["commitment"] == "interpretation")
        .unwrap();
    assert_eq!(
        (
            total["meets"].as_i64(),
            total["partly"].as_i64(),
            total["no_statement"].as_i64()
        ),
        (Some(0), Some(2), Some(1))
    );
    assert!(g["years"].as_array().unwrap().contains(&json!(year)));
    let (s, _) = get(
        app,
        &w.lead,
        "/api/v1/operations/shelter-yemen/self-assessments",
    )
    .await;
    assert_eq!(s, 200, "the cluster's global lead reads it");
    let (s, e) = get(
        app,
        &w.coord_b,
        "/api/v1/operations/shelter-yemen/self-assessments",
    )
    .await;
    assert_eq!(s, 403);
    assert!(!e.to_string().contains("Alpha"));
    let (s, _) = post(
        app,
        &w.coord_b,
        "/api/v1/operations/shelter-yemen/self-assessments/links",
        json!({}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, e) = get(
        app,
        coord,
        "/api/v1/operations/shelter-yemen/self-assessments?year=abc",
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let c = app.login("coord@test.example").await;
    let page = c
        .get(app.url(&format!(
            "/operations/shelter-yemen/commitments?year={year}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Alpha Relief")
            && page.contains("Beta Aid")
            && page.contains("We fund interpreters")
    );
    assert!(
        page.contains(
            "<strong>Alpha Relief</strong>, Language and interpretation (partly): We fund interpreters"
        ),
        "comments are written out, not only in tooltips"
    );
    let r = app
        .login("coord-b@test.example")
        .await
        .get(app.url("/operations/shelter-yemen/commitments"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Ending Alpha's membership ends its link.
    let (s, _) = post(app, coord, &format!("{base}/{a_id}/end"), json!({})).await;
    assert_eq!(s, 200);
    let r = fp
        .get(app.url(&format!("/m/{token_a}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);

    // Onboarding: ticked with who and when, over the API and the page.
    let (s, c1) = post(
        app,
        coord,
        &format!("{base}/{b_id}/onboarding"),
        json!({"item": "meetings", "done": true}),
    )
    .await;
    assert_eq!(s, 200, "{c1}");
    let meetings = c1["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == "meetings")
        .unwrap();
    assert_eq!(meetings["done"], true);
    assert_eq!(meetings["by"], "coord@test.example");
    assert!(meetings["at"].is_string());
    let (s, e) = post(
        app,
        coord,
        &format!("{base}/{b_id}/onboarding"),
        json!({"item": "party", "done": true}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(e["fields"]["item"].is_string());
    let (s, _) = post(
        app,
        &w.lead,
        &format!("{base}/{b_id}/onboarding"),
        json!({"item": "tools", "done": true}),
    )
    .await;
    assert_eq!(s, 403);
    let member_page = c
        .get(app.url(&format!("/operations/shelter-yemen/members/{b_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = member_page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url(&format!(
            "/operations/shelter-yemen/members/{b_id}/onboarding"
        )))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("items", "cluster_approach"),
            ("items", "tools"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, list) = get(app, coord, &format!("{base}/{b_id}/onboarding")).await;
    let done: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["done"] == true)
        .map(|i| i["item"].as_str().unwrap())
        .collect();
    assert_eq!(
        done,
        ["cluster_approach", "tools"],
        "the page sets the whole list"
    );
    let (_, reg) = get(app, coord, base).await;
    let beta = reg["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == b_id)
        .unwrap()
        .clone();
    assert_eq!(
        (
            beta["onboarding_done"].as_i64(),
            beta["onboarding_total"].as_i64()
        ),
        (Some(2), Some(5))
    );
}

both_backends!(self_assessment, self_assessment_and_grid, spawn);

async fn invitations_from_the_register(w: World) {
    let (app, coord) = (&w.app, &w.coord);
    let base = "/api/v1/operations/shelter-yemen/members";
    for (name, t, status, email) in [
        (
            "Member One",
            "ingo",
            "member",
            Some("one@member.example.org"),
        ),
        (
            "Member Two",
            "nngo",
            "member",
            Some("two@member.example.org"),
        ),
        ("Member Silent", "nngo", "member", None),
        (
            "Observer Org",
            "donor",
            "observer",
            Some("obs@observer.example.org"),
        ),
        ("Gone Org", "ingo", "member", Some("gone@gone.example.org")),
    ] {
        let (s, v) = post(
            app,
            coord,
            base,
            json!({"organization": name, "org_type": t, "status": status,
            "focal_point_email": email}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        if name == "Gone Org" {
            let (s, _) = post(app, coord, &format!("{base}/{}/end", v["id"]), json!({})).await;
            assert_eq!(s, 200);
        }
    }
    let (s, round) = post(app, coord, "/api/v1/rounds", json!({"operation": "shelter-yemen", "framework": "ccpm",
        "surveys": ["ccpm-partner", "ccpm-coordinator"], "opens_at": chrono::Utc::now().to_rfc3339(),
        "closes_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()})).await;
    assert_eq!(s, 201, "{round}");
    let id = round["id"].as_i64().unwrap();
    let inv = format!("/api/v1/rounds/{id}/invitations");
    let (s, e) = post(
        app,
        coord,
        &inv,
        json!({"members": {"survey": "ccpm-other"}}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(e["fields"]["members.survey"].is_string(), "{e}");
    // Every active member with a focal point, plus one listed by hand (not in the register).
    let (s, created) = post(app, coord, &inv, json!({"members": {"survey": "ccpm-partner"},
        "invitations": [{"email": "walkin@other.example.org", "organization": "Walk-in NGO", "org_type": "nngo", "survey": "ccpm-partner"}]})).await;
    assert_eq!(s, 201, "{created}");
    let mut emails: Vec<&str> = created["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "one@member.example.org",
            "two@member.example.org",
            "walkin@other.example.org"
        ]
    );
    // Observers when chosen; those already invited are left out.
    let (s, more) = post(
        app,
        coord,
        &inv,
        json!({"members": {"survey": "ccpm-partner", "observers": true}}),
    )
    .await;
    assert_eq!(s, 201, "{more}");
    let emails: Vec<&str> = more["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["obs@observer.example.org"]);
    let (s, e) = post(
        app,
        coord,
        &inv,
        json!({"members": {"survey": "ccpm-partner", "observers": true}}),
    )
    .await;
    assert_eq!(s, 400, "nobody left: {e}");
    assert!(e["fields"]["members"].is_string());
    let (s, _) = post(
        app,
        &w.coord_b,
        &inv,
        json!({"members": {"survey": "ccpm-partner"}}),
    )
    .await;
    assert_eq!(s, 403);

    // While open: invited split by membership, responded not yet (counts of published
    // responses carry no invitation).
    let (s, p) = get(app, coord, &format!("/api/v1/rounds/{id}/progress")).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        p["by_membership"],
        json!([
        {"membership": "member", "invited": 2, "responded": null, "rate": null},
        {"membership": "observer", "invited": 1, "responded": null, "rate": null},
        {"membership": "not_registered", "invited": 1, "responded": null, "rate": null}])
    );
    // A member and the observer answer.
    let token_of = |v: &Value, email: &str| {
        v["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["email"] == email)
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for token in [
        token_of(&created, "one@member.example.org"),
        token_of(&more, "obs@observer.example.org"),
    ] {
        let r = app.client.post(app.url("/api/v1/responses"))
            .json(&json!({"token": token, "id": uuid::Uuid::new_v4().to_string(),
                "answers": {"meeting_attendance": "always", "meetings_useful": "agree", "overall_rating": 7}}))
            .send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let (_, p) = get(app, coord, &format!("/api/v1/rounds/{id}/progress")).await;
    assert!(p["by_membership"][0]["responded"].is_null(), "{p}");
    // The round page offers the draw and shows the split.
    let c = app.login("coord@test.example").await;
    let page = c
        .get(app.url(&format!("/rounds/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"from-register\"") && page.contains("id=\"by-membership\""));
    assert!(page.contains("when the round closes"));
    // Drawing from the page: the coordinator form (nobody left for the coordinator survey
    // but the members).
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url(&format!("/rounds/{id}/invitations")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("lines", ""),
            ("members", "1"),
            ("members_survey", "ccpm-coordinator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("2 invitation(s) created"), "members only");

    let (s, _) = post(app, coord, &format!("/api/v1/rounds/{id}/close"), json!({})).await;
    assert_eq!(s, 200);
    let (_, p) = get(app, coord, &format!("/api/v1/rounds/{id}/progress")).await;
    let rows: Vec<(String, i64, i64)> = p["by_membership"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["membership"].as_str().unwrap().to_string(),
                r["invited"].as_i64().unwrap(),
                r["responded"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("member".into(), 4, 1),
            ("observer".into(), 1, 1),
            ("not_registered".into(), 1, 0)
        ]
    );
    assert_eq!(p["by_membership"][0]["rate"], 0.25);
    // The scores carry the same counts in their response rate, and no score by membership.
    let (s, scores) = get(app, coord, &format!("/api/v1/rounds/{id}/scores")).await;
    assert_eq!(s, 200, "{scores}");
    assert_eq!(scores["response_rate"]["by_membership"], p["by_membership"]);
    let mut without_rates = scores.clone();
    without_rates
        .as_object_mut()
        .unwrap()
        .remove("response_rate");
    assert!(
        !without_rates.to_string().contains("member"),
        "scores are never split by membership"
    );
    let page = c
        .get(app.url(&format!("/rounds/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<td>observer</td><td>1</td><td>1</td><td>100%</td>"),
        "{page}"
    );
}

both_backends!(register_invitations, invitations_from_the_register, spawn);
