//! Editing the directory without a shell, over real HTTP on SQLite and PostgreSQL: PATCH of
//! clusters, operations and organizations with field errors, 403 for non-admins, 404 for
//! unknown ones, archiving (no new rounds or invitations, history still readable), merging
//! duplicate organizations (scores identical before and after), the audit log, and the admin
//! page's forms.

mod common;
use common::{closed_round, Backend, TestApp};
use serde_json::{json, Value};

struct World {
    app: TestApp,
    admin: String,
    coord: String,
}

async fn world(backend: Backend) -> Option<World> {
    let app = TestApp::spawn(backend).await?;
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@test.example",
        "coordinator",
        None,
        &["shelter-yemen", "shelter-sudan"],
    );
    Some(World { app, admin, coord })
}

macro_rules! directory_test {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(w) = world(Backend::Sqlite).await {
                    $body(w).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match world(Backend::Postgres).await {
                    Some(w) => $body(w).await,
                    None => eprintln!("skipped: TEST_DATABASE_URL not set"),
                }
            }
        }
    };
}

directory_test!(clusters_are_edited_with_field_errors, clusters);
directory_test!(operations_are_edited_and_archived, operations);
directory_test!(organizations_are_edited_and_archived, organizations);
directory_test!(a_merge_keeps_every_score, merge);
directory_test!(the_admin_page_edits_the_directory, page);
directory_test!(areas_lists_are_uploaded_without_a_shell, areas);

async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A 400 naming `field`.
async fn refused(r: reqwest::Response, field: &str) {
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["fields"][field].is_string(), "{field}: {v}");
}

/// The admin's audit page filtered by `action`.
async fn audit_page(app: &TestApp, action: &str) -> String {
    let c = app.login("admin@test.example").await;
    let r = c
        .get(app.url(&format!("/admin/audit?action={action}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

async fn clusters(w: World) {
    let (app, admin) = (&w.app, &w.admin);
    let r = patch(
        app,
        admin,
        "/api/v1/clusters/shelter",
        json!({"name": "Shelter Cluster", "language": "fr",
               "lead_emails": ["Chef@Shelter.example.org", "two@shelter.example.org"]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = app
        .get_json(admin, "/api/v1/clusters/shelter")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "Shelter Cluster");
    assert_eq!(v["language"], "fr");
    assert_eq!(
        v["lead_emails"],
        json!(["chef@shelter.example.org", "two@shelter.example.org"])
    );
    // Absent fields stay.
    let r = patch(
        app,
        admin,
        "/api/v1/clusters/shelter",
        json!({"language": "en"}),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["language"].as_str()),
        (Some("Shelter Cluster"), Some("en"))
    );
    refused(
        patch(
            app,
            admin,
            "/api/v1/clusters/shelter",
            json!({"lead_emails": ["not-an-email"]}),
        )
        .await,
        "lead_emails",
    )
    .await;
    refused(
        patch(
            app,
            admin,
            "/api/v1/clusters/shelter",
            json!({"language": "xx"}),
        )
        .await,
        "language",
    )
    .await;
    refused(
        patch(
            app,
            admin,
            "/api/v1/clusters/shelter",
            json!({"name": "  "}),
        )
        .await,
        "name",
    )
    .await;
    let r = patch(
        app,
        admin,
        "/api/v1/clusters/shelter",
        json!({"code": "other"}),
    )
    .await;
    assert_eq!(r.status(), 400, "unknown fields are refused");
    let r = patch(app, admin, "/api/v1/clusters/nope", json!({"name": "X"})).await;
    assert_eq!(r.status(), 404);
    let r = patch(
        app,
        &w.coord,
        "/api/v1/clusters/shelter",
        json!({"name": "Mine"}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let page = audit_page(app, "cluster.update").await;
    assert!(
        page.contains("cluster:shelter") && page.contains("chef@shelter.example.org"),
        "{page}"
    );
}

async fn new_round(app: &TestApp, token: &str, op: &str) -> reqwest::Response {
    app.post_json(
        token,
        "/api/v1/rounds",
        json!({"operation": op, "framework": "ccpm", "surveys": ["ccpm-partner"],
               "opens_at": chrono::Utc::now().to_rfc3339(),
               "closes_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()}),
    )
    .await
}

async fn operations(w: World) {
    let (app, admin) = (&w.app, &w.admin);
    let r = patch(
        app,
        admin,
        "/api/v1/operations/shelter-sudan",
        json!({"name": "Sudan shelter", "default_language": "ar"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["default_language"].as_str()),
        (Some("Sudan shelter"), Some("ar"))
    );
    // null clears the default language.
    let v: Value = patch(
        app,
        admin,
        "/api/v1/operations/shelter-sudan",
        json!({"default_language": null}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(v.get("default_language").is_none(), "{v}");
    refused(
        patch(
            app,
            admin,
            "/api/v1/operations/shelter-sudan",
            json!({"default_language": "klingon"}),
        )
        .await,
        "default_language",
    )
    .await;
    refused(
        patch(
            app,
            admin,
            "/api/v1/operations/shelter-sudan",
            json!({"name": ""}),
        )
        .await,
        "name",
    )
    .await;
    assert_eq!(
        patch(app, admin, "/api/v1/operations/nope", json!({"name": "X"}))
            .await
            .status(),
        404
    );
    // Coordinators manage their operations' rounds, not the directory.
    assert_eq!(
        patch(
            app,
            &w.coord,
            "/api/v1/operations/shelter-sudan",
            json!({"name": "X"})
        )
        .await
        .status(),
        403
    );

    // A round before archiving stays readable after it; no new round is started.
    let r = new_round(app, &w.coord, "shelter-sudan").await;
    assert_eq!(r.status(), 201);
    let round = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v: Value = patch(
        app,
        admin,
        "/api/v1/operations/shelter-sudan",
        json!({"archived": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(v["archived_at"].is_string(), "{v}");
    refused(new_round(app, &w.coord, "shelter-sudan").await, "operation").await;
    assert_eq!(
        app.get_json(&w.coord, &format!("/api/v1/rounds/{round}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_json(&w.coord, "/api/v1/operations/shelter-sudan")
            .await
            .status(),
        200
    );
    // Restored, it takes rounds again.
    patch(
        app,
        admin,
        "/api/v1/operations/shelter-sudan",
        json!({"archived": false}),
    )
    .await;
    assert_eq!(
        new_round(app, &w.coord, "shelter-sudan").await.status(),
        201
    );
    let page = audit_page(app, "operation.update").await;
    assert!(page.contains("operation:shelter-sudan"), "{page}");
}

async fn org_id(app: &TestApp, token: &str, name: &str) -> i64 {
    let v: Value = app
        .get_json(token, "/api/v1/organizations")
        .await
        .json()
        .await
        .unwrap();
    v["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {v}"))["id"]
        .as_i64()
        .unwrap()
}

async fn invite(app: &TestApp, token: &str, round: i64, org: &str) -> reqwest::Response {
    app.post_json(token, &format!("/api/v1/rounds/{round}/invitations"),
        json!({"invitations": [{"email": format!("x-{}@partner.example", uuid::Uuid::new_v4().simple()),
               "organization": org, "org_type": "ingo", "survey": "ccpm-partner"}]})).await
}

async fn organizations(w: World) {
    let (app, admin) = (&w.app, &w.admin);
    for name in ["Shelter Aid", "Other Aid"] {
        let r = app
            .post_json(
                admin,
                "/api/v1/organizations",
                json!({"name": name, "org_type": "nngo"}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let id = org_id(app, admin, "Shelter Aid").await;
    let path = format!("/api/v1/organizations/{id}");
    let v: Value = patch(
        app,
        admin,
        &path,
        json!({"name": "Shelter Aid International", "org_type": "ingo"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (v["name"].as_str(), v["org_type"].as_str()),
        (Some("Shelter Aid International"), Some("ingo"))
    );
    refused(
        patch(app, admin, &path, json!({"org_type": "charity"})).await,
        "org_type",
    )
    .await;
    refused(patch(app, admin, &path, json!({"name": ""})).await, "name").await;
    assert_eq!(
        patch(app, admin, &path, json!({"name": "other aid"}))
            .await
            .status(),
        409
    );
    assert_eq!(
        patch(
            app,
            admin,
            "/api/v1/organizations/999999",
            json!({"name": "X"})
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        patch(app, &w.coord, &path, json!({"name": "X"}))
            .await
            .status(),
        403
    );

    let round = new_round(app, &w.coord, "shelter-yemen")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        invite(app, &w.coord, round, "Shelter Aid International")
            .await
            .status(),
        201
    );
    patch(app, admin, &path, json!({"archived": true})).await;
    refused(
        invite(app, &w.coord, round, "Shelter Aid International").await,
        "invitations[0].organization",
    )
    .await;
    // Still listed, and the round's progress (its history) still reads.
    let v: Value = app
        .get_json(admin, "/api/v1/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert!(v.to_string().contains("Shelter Aid International"));
    assert_eq!(
        app.get_json(&w.coord, &format!("/api/v1/rounds/{round}/progress"))
            .await
            .status(),
        200
    );
    patch(app, admin, &path, json!({"archived": false})).await;
    assert_eq!(
        invite(app, &w.coord, round, "Shelter Aid International")
            .await
            .status(),
        201
    );
    let page = audit_page(app, "organization.update").await;
    assert!(page.contains(&format!("organization:{id}")), "{page}");
}

async fn merge(w: World) {
    let (app, admin) = (&w.app, &w.admin);
    let round = closed_round(app, &w.coord, "shelter-yemen", 9).await;
    let scores = format!("/api/v1/rounds/{round}/scores");
    let before: Value = app.get_json(&w.coord, &scores).await.json().await.unwrap();
    assert_eq!(before["overall"]["n"], 9, "{before}");
    assert_eq!(
        before["by_org_type"].as_array().map(Vec::len),
        Some(3),
        "{before}"
    );
    let csv_before = app
        .get_json(&w.coord, &format!("{scores}.csv"))
        .await
        .text()
        .await
        .unwrap();
    // "Partner 1" (nngo) is a duplicate of "Partner 0" (ingo); the survivor's type changes too.
    let (dup, survivor) = (
        org_id(app, admin, "Partner 1").await,
        org_id(app, admin, "Partner 0").await,
    );
    let merge_path = format!("/api/v1/organizations/{dup}/merge");
    assert_eq!(
        app.post_json(&w.coord, &merge_path, json!({"into": survivor}))
            .await
            .status(),
        403
    );
    refused(
        app.post_json(admin, &merge_path, json!({"into": dup}))
            .await,
        "into",
    )
    .await;
    refused(
        app.post_json(admin, &merge_path, json!({"into": 999999}))
            .await,
        "into",
    )
    .await;
    let r = app
        .post_json(admin, &merge_path, json!({"into": survivor}))
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["invitations_moved"], 1, "{v}");
    patch(
        app,
        admin,
        &format!("/api/v1/organizations/{survivor}"),
        json!({"org_type": "un"}),
    )
    .await;
    let after: Value = app.get_json(&w.coord, &scores).await.json().await.unwrap();
    assert_eq!(before, after);
    assert_eq!(
        csv_before,
        app.get_json(&w.coord, &format!("{scores}.csv"))
            .await
            .text()
            .await
            .unwrap()
    );
    // The duplicate is gone; merging it again is a 404.
    let orgs: Value = app
        .get_json(admin, "/api/v1/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert!(!orgs.to_string().contains("\"Partner 1\""), "{orgs}");
    let r = app
        .post_json(admin, &merge_path, json!({"into": survivor}))
        .await;
    assert_eq!(r.status(), 404);
    let page = audit_page(app, "organization.merge").await;
    assert!(page.contains("Partner 1"), "{page}");
}

async fn page(w: World) {
    let app = &w.app;
    let _ = w.admin;
    let c = app.login("admin@test.example").await;
    let r = c.get(app.url("/admin/directory")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let csrf = body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url("/admin/directory/clusters/shelter"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Shelter (edited)"),
            ("language", "es"),
            (
                "lead_emails",
                "a@shelter.example.org, b@shelter.example.org",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let body = c
        .get(app.url("/admin/directory"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Shelter (edited)") && body.contains("b@shelter.example.org"),
        "{body}"
    );
    // A wrong email is a page naming the field.
    let r = c
        .post(app.url("/admin/directory/clusters/shelter"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Shelter"),
            ("language", "es"),
            ("lead_emails", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("lead_emails") && text.contains("<html"),
        "{text}"
    );
    // Archiving an operation from the page.
    let r = c
        .post(app.url("/admin/directory/operations/shelter-sudan"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Sudan"),
            ("default_language", ""),
            ("archived", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let v: Value = app
        .get_json(&w.admin, "/api/v1/operations/shelter-sudan")
        .await
        .json()
        .await
        .unwrap();
    assert!(v["archived_at"].is_string() && v["name"] == "Sudan", "{v}");
    // Not for coordinators.
    let coord = app.login("coord@test.example").await;
    assert_eq!(
        coord
            .get(app.url("/admin/directory"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

const AREAS: &str = "\u{feff}admin0Pcode,admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\n\
    YE,YE24,Aden,YE2401,Al Buraiqeh\nYE,YE24,Aden,YE2402,Dar Sad\n\
    YE,YE15,Taiz,YE1501,Al Mudhaffar\n";

async fn put_areas(app: &TestApp, token: &str, body: &str) -> reqwest::Response {
    app.client
        .put(
            app.url(
                "/api/v1/operations/shelter-yemen/areas?file_name=C:%5Cdata%5Cyemen%20areas.csv",
            ),
        )
        .bearer_auth(token)
        .header("Content-Type", "application/octet-stream")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// A file input posted from a page (`multipart/form-data`).
fn multipart(csrf: &str, file_name: &str, content: &str) -> (String, String) {
    let body = format!(
        "--b0undary\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n{content}\r\n--b0undary--\r\n"
    );
    ("multipart/form-data; boundary=b0undary".to_string(), body)
}

/// An operation's areas list replaced over the API and from the directory page: a bad file
/// is refused naming the file and line and changes nothing; a good one is what the public
/// feedback form offers next.
async fn areas(w: World) {
    let app = &w.app;
    let listed = |v: &Value| -> Vec<String> {
        v["admin2"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["pcode"].as_str().unwrap().to_string())
            .collect()
    };
    let r = put_areas(app, &w.admin, AREAS).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["admin1"].as_i64(), v["admin2"].as_i64()),
        (Some(2), Some(3)),
        "{v}"
    );
    let v: Value = app
        .get_json(&w.coord, "/api/v1/operations/shelter-yemen/areas")
        .await
        .json()
        .await
        .unwrap();
    // Sorted by name: Al Buraiqeh, Al Mudhaffar, Dar Sad.
    assert_eq!(listed(&v), ["YE2401", "YE1501", "YE2402"]);
    let before = v;
    // A duplicate P-code: 400 naming the file (its last path part) and the line; nothing changes.
    let bad = format!("{AREAS}YE,YE15,Taiz,YE1501,Again\n");
    let r = put_areas(app, &w.admin, &bad).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    let msg = e["fields"]["file"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("yemen areas.csv:line 5") && msg.contains("twice"),
        "{e}"
    );
    let after: Value = app
        .get_json(&w.coord, "/api/v1/operations/shelter-yemen/areas")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, before);
    refused(
        put_areas(
            app,
            &w.admin,
            "admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\n",
        )
        .await,
        "file",
    )
    .await;
    refused(put_areas(app, &w.admin, "\u{0}\u{ff}").await, "file").await;
    // Coordinators read the list but do not replace it.
    assert_eq!(put_areas(app, &w.coord, AREAS).await.status(), 403);
    let r = app
        .client
        .put(app.url("/api/v1/operations/no-such-op/areas"))
        .bearer_auth(&w.admin)
        .body(AREAS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The directory page: the count, then a new list from the file input.
    let c = app.login("admin@test.example").await;
    let page = c
        .get(app.url("/admin/directory"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("2 regions and 3 districts listed"), "{page}");
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let sudan = "admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\nYE11,Ibb,YE1101,Al Qafr\n";
    let (ct, body) = multipart(&csrf, "ibb.csv", sudan);
    let r = c
        .post(app.url("/admin/directory/operations/shelter-yemen/areas"))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let v: Value = app
        .get_json(&w.coord, "/api/v1/operations/shelter-yemen/areas")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed(&v), ["YE1101"]);
    let form = app
        .new_client()
        .get(app.url("/f/shelter-yemen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("YE1101") && !form.contains("YE2401"),
        "the form offers the new list"
    );
    // A bad file from the page: a page naming the file and line, the list unchanged.
    let (ct, body) = multipart(
        &csrf,
        "ibb.csv",
        "admin1Pcode,admin1Name_en,admin2Pcode\nYE11,Ibb,YE1101\n",
    );
    let r = c
        .post(app.url("/admin/directory/operations/shelter-yemen/areas"))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("<html") && text.contains("ibb.csv:line 1"),
        "{text}"
    );
    // A form without the page's CSRF token changes nothing.
    let (ct, body) = multipart("forged", "x.csv", AREAS);
    let r = c
        .post(app.url("/admin/directory/operations/shelter-yemen/areas"))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = app
        .get_json(&w.coord, "/api/v1/operations/shelter-yemen/areas")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed(&v), ["YE1101"]);
    assert!(audit_page(app, "operation.areas")
        .await
        .contains("shelter-yemen"));
}
