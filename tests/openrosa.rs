//! Offline collection through the real server, as ODK Collect and Enketo speak to it
//! (OpenRosa): collector accounts and their QR code, the form list, form and manifest,
//! submissions with their idempotency key, the same checks, sealing and inbox as the web
//! form, and the attacks (revoked token, another operation's token, a replayed instance
//! with other answers). The generated XForms go through Enketo's own transformer
//! (tests/openrosa, installed by scripts/test.sh) and are compared with pyxform's XForm of
//! our XLSForm export. Each test runs on SQLite and on PostgreSQL.

mod common;
use base64::Engine;
use clusterpulse::surveys::model::QuestionType;
use common::openrosa::{or_message, submit};
use common::TestApp;
use md5::Digest;
use serde_json::{json, Value};
use std::io::Read;

const AREAS: &str = "admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\n\
YE24,Aden,YE2401,Al Buraiqeh\nYE24,Aden,YE2402,Al Mansura\nYE15,Lahj,YE1501,Al Mansura\n";
const XF: &str = "http://www.w3.org/2002/xforms";

struct World {
    coord_a: String,
    coord_b: String,
    psea_a: String,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let r = app
        .client
        .put(app.url("/api/v1/operations/shelter-yemen/areas?file_name=areas.csv"))
        .bearer_auth(&admin)
        .header("Content-Type", "application/octet-stream")
        .body(AREAS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
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
        psea_a: app.user_token(
            "psea-a@example.org",
            "psea_focal_point",
            None,
            &["shelter-yemen"],
        ),
    }
}

/// Makes a collector; returns what the API gave back.
async fn make_collector(app: &TestApp, token: &str, slug: &str, name: &str) -> Value {
    let r = app
        .post_json(
            token,
            &format!("/api/v1/operations/{slug}/collectors"),
            json!({ "name": name }),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// An instance of the feedback form as ODK Collect writes it.
fn instance(id: &str, answers: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (k, v) in answers {
        body.push_str(&format!("<{k}>{v}</{k}>"));
    }
    format!(
        "<?xml version='1.0' ?><data id=\"aap-feedback\" version=\"x\" \
         xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\">\
         {body}<meta><instanceID>{id}</instanceID></meta></data>"
    )
}

/// DELETEs collector `id` of operation `slug` as `token`; the status.
async fn revoke(app: &TestApp, token: &str, slug: &str, id: &Value) -> u16 {
    app.client
        .delete(app.url(&format!("/api/v1/operations/{slug}/collectors/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn inbox(app: &TestApp, token: &str, slug: &str) -> Value {
    let r = app
        .get_json(token, &format!("/api/v1/feedback?operation={slug}"))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn collecting_offline(app: TestApp) {
    let w = world(&app).await;

    // Coordinators make collectors for their own operation only; bad fields are named.
    for (body, field) in [
        (json!({"name": " "}), "name"),
        (json!({"name": "Desk", "channel": "pigeon"}), "channel"),
    ] {
        let r = app
            .post_json(
                &w.coord_a,
                "/api/v1/operations/shelter-yemen/collectors",
                body,
            )
            .await;
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert!(e["fields"][field].is_string(), "{e}");
    }
    let r = app
        .post_json(
            &w.coord_b,
            "/api/v1/operations/shelter-yemen/collectors",
            json!({"name": "Intruder"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let made = make_collector(&app, &w.coord_a, "shelter-yemen", "Help desk Aden").await;
    assert_eq!(made["channel"], "helpdesk");
    assert_eq!(made["active"], true);
    let url = made["server_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&app.url("/openrosa/c/")), "{url}");
    let token = url.rsplit('/').next().unwrap();
    assert!(token.len() >= 43, "≥ 256 bits: {token}");

    // The QR code carries ODK Collect's settings: zlib-compressed JSON in base64.
    let packed = base64::engine::general_purpose::STANDARD
        .decode(made["settings"].as_str().unwrap())
        .unwrap();
    let mut settings = String::new();
    flate2::read::ZlibDecoder::new(&packed[..])
        .read_to_string(&mut settings)
        .unwrap();
    let settings: Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(settings["general"]["server_url"], url.as_str());
    assert_eq!(settings["general"]["form_update_mode"], "match_exactly");
    let svg = made["qr_svg"].as_str().unwrap();
    assert!(roxmltree::Document::parse(svg).is_ok());
    // The token is never listed again, and is stored only hashed.
    let listed = app
        .get_json(&w.coord_a, "/api/v1/operations/shelter-yemen/collectors")
        .await
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(token) && listed.contains("Help desk Aden"));
    {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        let stored: Vec<String> = diesel::sql_query("SELECT token_hash AS t FROM collectors")
            .load::<Hash>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|h| h.t)
            .collect();
        assert!(!stored.iter().any(|s| s.contains(token)));
    }

    // The form list, as ODK Collect asks for it.
    let r = app
        .client
        .get(format!("{url}/formList"))
        .header("X-OpenRosa-Version", "1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-openrosa-version"], "1.0");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    let list = r.text().await.unwrap();
    let doc = roxmltree::Document::parse(&list).unwrap();
    let ns = "http://openrosa.org/xforms/xformsList";
    assert!(doc.root_element().has_tag_name((ns, "xforms")));
    let field = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name((ns, name)))
            .and_then(|n| n.text())
            .unwrap_or_else(|| panic!("no {name} in {list}"))
            .to_string()
    };
    assert_eq!(field("formID"), "aap-feedback");
    assert!(field("name").contains("shelter-yemen operation"));
    let hash = field("hash");
    let download = field("downloadUrl");
    let manifest = field("manifestUrl");
    let r = app.client.get(&download).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-openrosa-version"], "1.0");
    let xform = r.text().await.unwrap();
    assert_eq!(
        hash,
        format!("md5:{}", hex::encode(md5::Md5::digest(xform.as_bytes())))
    );
    // The operation's areas cascade: districts filtered by the region answered.
    let form = roxmltree::Document::parse(&xform).unwrap();
    let itemset = form
        .descendants()
        .find(|n| {
            n.has_tag_name((XF, "itemset"))
                && n.parent().and_then(|p| p.attribute("ref")) == Some("/data/admin2")
        })
        .expect("admin2 is a cascading select");
    assert!(itemset
        .attribute("nodeset")
        .unwrap()
        .contains("parent = /data/admin1"));
    assert!(xform.contains("<name>YE1501</name><parent>YE15</parent>"));
    let r = app.client.get(&manifest).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let m = r.text().await.unwrap();
    assert!(roxmltree::Document::parse(&m)
        .unwrap()
        .root_element()
        .has_tag_name(("http://openrosa.org/xforms/xformsManifest", "manifest")));
    let r = app
        .client
        .get(format!("{url}/forms/ccpm-partner/form.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Before sending, the app asks how much it may send.
    let r = app
        .client
        .head(format!("{url}/submission"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers().contains_key("x-openrosa-accept-content-length"));

    // A complaint collected offline: stored once, in the coordinator's inbox.
    let complaint = instance(
        "uuid:6f0c7a40-aaaa-4c1e-9c55-000000000001",
        &[
            ("category", "complaint"),
            (
                "message",
                "The water point at the camp is broken &amp; nobody came",
            ),
            ("consent_to_contact", "yes"),
            ("contact", "+967 777 000 111"),
            ("show_reply", ""),
            ("admin1", "YE24"),
            ("admin2", "YE2402"),
        ],
    );
    let (status, body) = submit(&app, &url, &complaint).await;
    assert_eq!(status, 201, "{body}");
    let msg = or_message(&body);
    let reference = msg.rsplit(' ').next().unwrap().to_string();
    assert!(reference.starts_with("FB-"), "{msg}");
    let items = inbox(&app, &w.coord_a, "shelter-yemen").await;
    assert_eq!(items["total"], 1);
    let item = &items["items"][0];
    assert_eq!(item["reference"], reference.as_str());
    assert_eq!(item["channel"], "helpdesk");
    assert_eq!(item["priority"], "medium");
    assert_eq!(
        item["message"],
        "The water point at the camp is broken & nobody came"
    );
    assert_eq!(item["admin1"], "YE24");
    assert_eq!(item["admin2"], "YE2402");

    // The reply was lost; the app sends the same instance again: a success, no new item.
    let (status, body) = submit(&app, &url, &complaint).await;
    assert_eq!(status, 201, "{body}");
    assert!(or_message(&body).contains(&reference));
    assert_eq!(inbox(&app, &w.coord_a, "shelter-yemen").await["total"], 1);
    // The same instance id with other answers is refused.
    let forged = complaint.replace("broken", "fixed");
    let (status, body) = submit(&app, &url, &forged).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(inbox(&app, &w.coord_a, "shelter-yemen").await["total"], 1);

    // The web form's checks apply: each bad answer is named, nothing is stored.
    for (answers, named) in [
        (
            vec![
                ("category", "gossip"),
                ("message", "m"),
                ("consent_to_contact", "no"),
            ],
            "category",
        ),
        (
            vec![("category", "question"), ("consent_to_contact", "no")],
            "message",
        ),
        (
            vec![
                ("category", "question"),
                ("message", "m"),
                ("consent_to_contact", "no"),
                ("admin2", "YE9999"),
            ],
            "admin2",
        ),
        (
            vec![
                ("category", "question"),
                ("message", "m"),
                ("consent_to_contact", "no"),
                ("contact", "x"),
            ],
            "contact",
        ),
    ] {
        let xml = instance(&format!("uuid:bad-{named}"), &answers);
        let (status, body) = submit(&app, &url, &xml).await;
        assert_eq!(status, 422, "{body}");
        assert!(or_message(&body).contains(named), "{body}");
    }
    let (status, body) = submit(
        &app,
        &url,
        "<data id=\"aap-feedback\"><message>m</message></data>",
    )
    .await;
    assert_eq!(status, 400);
    assert!(or_message(&body).contains("instanceID"), "{body}");
    let (status, body) = submit(&app, &url, "<data id=\"ccpm-partner\"/>").await;
    assert_eq!(status, 400, "{body}");
    let r = app
        .client
        .post(format!("{url}/submission"))
        .header("Content-Type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhi\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(or_message(&r.text().await.unwrap()).contains("xml_submission_file"));
    assert_eq!(inbox(&app, &w.coord_a, "shelter-yemen").await["total"], 1);

    // A sensitive item is sealed: the PSEA focal point sees it, the coordinator does not.
    let sensitive = instance(
        "uuid:6f0c7a40-aaaa-4c1e-9c55-000000000002",
        &[
            ("category", "sensitive"),
            ("message", "A distribution worker asked for favours"),
            ("consent_to_contact", "no"),
        ],
    );
    let (status, body) = submit(&app, &url, &sensitive).await;
    assert_eq!(status, 201, "{body}");
    let coord_view = inbox(&app, &w.coord_a, "shelter-yemen").await;
    assert_eq!(coord_view["total"], 1);
    assert!(!coord_view.to_string().contains("favours"));
    let psea_view = inbox(&app, &w.psea_a, "shelter-yemen").await;
    assert!(psea_view.to_string().contains("favours"), "{psea_view}");
    assert!(psea_view["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["priority"] == "high" && i["channel"] == "helpdesk"));

    // Another operation's collector: its items land in its own operation, never in A's.
    let other = make_collector(&app, &w.coord_b, "shelter-sudan", "Kassala desk").await;
    let other_url = other["server_url"].as_str().unwrap();
    let stray = instance(
        "uuid:6f0c7a40-aaaa-4c1e-9c55-000000000001",
        &[
            ("category", "question"),
            ("message", "From Sudan"),
            ("consent_to_contact", "no"),
        ],
    );
    let (status, body) = submit(&app, other_url, &stray).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(inbox(&app, &w.coord_a, "shelter-yemen").await["total"], 1);
    assert!(inbox(&app, &w.coord_b, "shelter-sudan")
        .await
        .to_string()
        .contains("From Sudan"));
    // Coordinators revoke only their own operation's collectors.
    let slug = "shelter-yemen";
    assert_eq!(revoke(&app, &w.coord_b, slug, &made["id"]).await, 403);
    assert_eq!(revoke(&app, &w.coord_a, slug, &other["id"]).await, 404);

    // Revoked: the form list, the form, the submission address all refuse it.
    assert_eq!(revoke(&app, &w.coord_a, slug, &made["id"]).await, 200);
    let listed = app
        .get_json(&w.coord_a, "/api/v1/operations/shelter-yemen/collectors")
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(listed["collectors"][0]["active"], false);
    assert!(listed["collectors"][0]["last_used_at"].is_string());
    for path in ["/formList", "/forms/aap-feedback/form.xml"] {
        let r = app.client.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        assert!(or_message(&r.text().await.unwrap()).contains("not valid"));
    }
    let late = instance(
        "uuid:6f0c7a40-aaaa-4c1e-9c55-000000000003",
        &[
            ("category", "question"),
            ("message", "late"),
            ("consent_to_contact", "no"),
        ],
    );
    let (status, _) = submit(&app, &url, &late).await;
    assert_eq!(status, 403);
    let made_up = app.url("/openrosa/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let (status, _) = submit(&app, &made_up, &late).await;
    assert_eq!(status, 403);
    assert_eq!(inbox(&app, &w.coord_a, "shelter-yemen").await["total"], 1);

    // The operation page: a coordinator makes a collector and sees its QR code once.
    let page = app.login("coord-a@example.org").await;
    let html = page
        .get(app.url("/operations/shelter-yemen/collectors"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Help desk Aden") && html.contains("revoked"));
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let r = page
        .post(app.url("/operations/shelter-yemen/collectors"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Mobile team"),
            ("channel", "helpdesk"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data:image/svg+xml;base64,"));
    assert!(html.contains(&app.url("/openrosa/c/")));
}

#[derive(diesel::QueryableByName)]
struct Hash {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

both_backends!(collecting, collecting_offline);

/// Whether tests/openrosa's engines are installed (scripts/test.sh installs them; in CI
/// their absence is a failure, not a skip).
fn enketo_ready() -> bool {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openrosa");
    let ok = std::process::Command::new("node")
        .current_dir(dir)
        .args(["-e", "require('enketo-transformer')"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "tests/openrosa's npm packages are missing (scripts/test.sh installs them)"
        );
        eprintln!("skipped: enketo-transformer is not installed in tests/openrosa");
    }
    ok
}

/// Every shipped survey's XForm, and the feedback form as a collector gets it (with the
/// operation's cascading areas), goes through Enketo's transformer; each question is a
/// field of the HTML form it makes, each choice an option.
async fn enketo_transforms_every_form(app: TestApp) {
    if !enketo_ready() {
        return;
    }
    let w = world(&app).await;
    let made = make_collector(&app, &w.coord_a, "shelter-yemen", "Desk").await;
    let served = app
        .client
        .get(format!(
            "{}/forms/aap-feedback/form.xml",
            made["server_url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let catalog = clusterpulse::surveys::load::load_dir(&common::surveys_dir()).unwrap();
    let dir = app.dir.path();
    let mut files = vec![];
    for s in catalog.surveys.values() {
        let opts = clusterpulse::surveys::xform::Options {
            version: "1".into(),
            ..Default::default()
        };
        let path = dir.join(format!("{}.xml", s.id));
        std::fs::write(
            &path,
            clusterpulse::surveys::xform::write(s, &opts).unwrap(),
        )
        .unwrap();
        files.push((path, s.clone()));
    }
    let served_path = dir.join("served-aap-feedback.xml");
    std::fs::write(&served_path, &served).unwrap();
    files.push((served_path, catalog.surveys["aap-feedback"].clone()));
    // And a form with cascades and a repeat.
    let site =
        clusterpulse::surveys::load::parse_survey(&clusterpulse::surveys::load::Source::new(
            "site-visit.toml",
            include_str!("fixtures/site-visit.toml"),
        ))
        .unwrap();
    let site_path = dir.join("site-visit.xml");
    let opts = clusterpulse::surveys::xform::Options::default();
    std::fs::write(
        &site_path,
        clusterpulse::surveys::xform::write(&site, &opts).unwrap(),
    )
    .unwrap();
    files.push((site_path, site));
    let out = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/openrosa/transform.mjs"
        ))
        .args(files.iter().map(|(p, _)| p))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "enketo-transformer refused a form:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), files.len());
    for (result, (path, survey)) in results.iter().zip(&files) {
        let names: Vec<&str> = result["names"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let itemsets: Vec<&str> = result["itemsets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // Each question is a field; a repeat's questions are fields under its path.
        let fields: Vec<(String, &clusterpulse::surveys::model::Question)> = survey
            .questions
            .iter()
            .flat_map(|q| match q.qtype {
                QuestionType::Repeat => q
                    .questions
                    .iter()
                    .map(|c| (format!("/data/{}/{}", q.name, c.name), c))
                    .collect(),
                _ => vec![(format!("/data/{}", q.name), q)],
            })
            .collect();
        for (name, q) in fields {
            assert!(
                names.contains(&name.as_str()),
                "{}: Enketo's form has no field {name}: {names:?}",
                path.display()
            );
            let (Some(list), Some(list_name)) = (survey.choice_list(q), &q.list) else {
                continue;
            };
            if q.choice_filter.is_some() {
                // The options come from the list's instance, filtered.
                let drawn = format!("instance('{list_name}')/root/item[");
                assert!(
                    itemsets.iter().any(|i| i.starts_with(&drawn)),
                    "{name}: {itemsets:?}"
                );
                continue;
            }
            let options: Vec<&str> = result["selects"][&name]
                .as_array()
                .unwrap_or_else(|| panic!("{}: {name} has no options", path.display()))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for c in list {
                assert!(options.contains(&c.value.as_str()), "{name}: {}", c.value);
            }
        }
        if path.ends_with("served-aap-feedback.xml") {
            // Enketo filters the districts by the region chosen.
            assert!(
                result["itemsets"].as_array().unwrap().iter().any(|p| p
                    .as_str()
                    .unwrap()
                    .contains("instance('admin2')/root/item[parent = /data/admin1")),
                "{result}"
            );
        }
        let langs = result["languages"].as_array().unwrap();
        assert_eq!(
            langs.len(),
            survey.languages.len(),
            "{}: {langs:?}",
            path.display()
        );
    }
}

both_backends!(enketo, enketo_transforms_every_form);

/// pyxform (ODK's XLSForm converter) makes an XForm of our XLSForm export of each shipped
/// survey; ours has the same questions, with the same types and the same required ones.
async fn pyxform_agrees(app: TestApp) {
    let python = std::env::var("EXPORT_TOOLS_PYTHON").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/export-tools-venv/bin/python"
        )
        .into()
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} not found: run scripts/test.sh, which installs pyxform there"
    );
    let catalog = clusterpulse::surveys::load::load_dir(&common::surveys_dir()).unwrap();
    let mut forms = vec![];
    for s in catalog.surveys.values() {
        let bytes = app
            .client
            .get(app.url(&format!("/api/v1/surveys/{}/xlsform", s.id)))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        forms.push((s.clone(), bytes.to_vec()));
    }
    // And a form with cascades and a repeat (tests/fixtures/site-visit.toml).
    let text = include_str!("fixtures/site-visit.toml");
    let site = clusterpulse::surveys::load::parse_survey(
        &clusterpulse::surveys::load::Source::new("site-visit.toml", text),
    )
    .unwrap();
    let bytes = clusterpulse::surveys::xlsform::export_xlsx(&site).unwrap();
    forms.push((site, bytes));
    let dir = app.dir.path();
    for (s, bytes) in &forms {
        let (xlsx, theirs) = (
            dir.join(format!("{}.xlsx", s.id)),
            dir.join(format!("{}-pyxform.xml", s.id)),
        );
        std::fs::write(&xlsx, bytes).unwrap();
        let out = std::process::Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/tools/xlsform_tools.py"
            ))
            .args(["convert", xlsx.to_str().unwrap(), theirs.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = std::fs::read_to_string(&theirs).unwrap();
        let ours = clusterpulse::surveys::xform::write(
            s,
            &clusterpulse::surveys::xform::Options::default(),
        )
        .unwrap();
        let (a, b) = (binds(&theirs), binds(&ours));
        assert_eq!(a, b, "{}: pyxform's binds vs ours", s.id);
        assert_eq!(
            controls(&theirs),
            controls(&ours),
            "{}: body controls",
            s.id
        );
        // Repeats, and the lists filtered questions draw on, are the same.
        for what in ["repeat", "itemset"] {
            assert_eq!(
                structure(&theirs, what),
                structure(&ours, what),
                "{}: {what}s",
                s.id
            );
        }
    }
}

/// Per `repeat` its nodeset, per filtered `itemset` the instance it draws on (the nodeset
/// up to its filter), each with the control it belongs to. (pyxform also writes translated
/// lists without a filter as itemsets; ours stay inline.)
fn structure(xml: &str, what: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name((XF, what)))
        .filter(|n| what != "itemset" || n.attribute("nodeset").is_some_and(|s| s.contains('[')))
        .map(|n| {
            let nodeset = n.attribute("nodeset").unwrap_or("");
            let owner = n.parent().and_then(|p| p.attribute("ref")).unwrap_or("");
            format!("{owner} {}", nodeset.split('[').next().unwrap_or(""))
        })
        .collect()
}

/// Question name → (type, required, has relevant, has constraint), from an XForm's binds
/// (groups and meta left out).
fn binds(xml: &str) -> std::collections::BTreeMap<String, (String, bool, bool, bool)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name((XF, "bind")))
        .filter_map(|b| {
            let path = b.attribute("nodeset")?;
            if path.contains("/meta/") || b.attribute("type").is_none() {
                return None;
            }
            let name = path.rsplit('/').next()?.to_string();
            let t = b.attribute("type")?.replace("xsd:", "");
            let t = if t == "select1" || t == "select" {
                "string".into()
            } else {
                t
            };
            Some((
                name,
                (
                    t,
                    b.attribute("required") == Some("true()"),
                    b.attribute("relevant").is_some(),
                    b.attribute("constraint").is_some(),
                ),
            ))
        })
        .collect()
}

/// Question name → body control (input, select1, select).
fn controls(xml: &str) -> std::collections::BTreeMap<String, String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| {
            ["input", "select1", "select"]
                .iter()
                .any(|t| n.has_tag_name((XF, *t)))
        })
        .filter_map(|n| {
            let name = n.attribute("ref")?.rsplit('/').next()?.to_string();
            Some((name, n.tag_name().name().to_string()))
        })
        .collect()
}

both_backends!(pyxform, pyxform_agrees);

/// Whether enketo-core can be driven in Chromium: the browser and tests/browser's
/// playwright-core, tests/enketo's enketo-core and esbuild, tests/openrosa's transformer
/// (scripts/test.sh installs them all; in CI their absence is a failure, not a skip).
fn enketo_core_ready() -> bool {
    let why = common::browser_ready().err().or_else(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/enketo/node_modules");
        ["enketo-core", "esbuild", "sass"]
            .iter()
            .find(|p| !std::path::Path::new(dir).join(p).exists())
            .map(|p| format!("tests/enketo/node_modules/{p} is missing (npm ci in tests/enketo)"))
    });
    match why {
        None => enketo_ready(),
        Some(why) => {
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            false
        }
    }
}

/// Runs tests/enketo/fill.mjs on `form` (a collector's address, or `--xform FILE`) with
/// `plan`; what it printed (one result per run), or a panic with what the browser said.
fn enketo_fill<S: AsRef<std::ffi::OsStr>>(form: &[S], plan: &Value) -> Vec<Value> {
    let mut cmd = std::process::Command::new("node");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/enketo/fill.mjs"
    ))
    .args(form)
    .arg(plan.to_string());
    if let Some(dir) = std::env::var_os("ENKETO_SCREENSHOTS") {
        cmd.arg(dir);
    }
    let out = cmd.output().expect("node runs");
    assert!(
        out.status.success(),
        "enketo-core in Chromium failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The text of element `name` (no namespace) in instance `xml`, if it has one.
fn instance_value(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let node = doc.descendants().find(|n| n.tag_name().name() == name)?;
    node.text().map(str::to_string)
}

/// The feedback form as a collector's app gets it (form list → download), rendered and
/// filled in by Enketo's own form engine (enketo-core) in Chromium: the contact question
/// appears and disappears with the consent answer, the districts offered follow the region
/// chosen, and the instances enketo-core writes are accepted by the submission address —
/// each stored once (sending one again is a replay), a sensitive one sealed.
async fn enketo_core_fills_the_feedback_form(app: TestApp) {
    if !enketo_core_ready() {
        return;
    }
    let w = world(&app).await;
    let made = make_collector(&app, &w.coord_a, "shelter-yemen", "Enketo desk").await;
    let url = made["server_url"].as_str().unwrap().to_string();
    let relevant = |is: bool| json!({"relevant": "/data/contact", "is": is});
    let choose = |q: &str, v: &str| json!({"choose": format!("/data/{q}"), "value": v});
    let typed = |q: &str, t: &str| json!({"type": format!("/data/{q}"), "text": t});
    let offers = |q: &str, are: &[&str]| json!({"options": format!("/data/{q}"), "are": are});
    let plan = json!([
        {"steps": [
            relevant(false),
            choose("category", "complaint"),
            typed("message", "The latrines near block C have no light at night"),
            relevant(false),
            choose("consent_to_contact", "yes"),
            relevant(true),
            choose("consent_to_contact", "no"),
            relevant(false),
            choose("consent_to_contact", "yes"),
            relevant(true),
            typed("contact", "+967 777 123 456"),
            offers("admin1", &["YE24", "YE15", "other"]),
            choose("admin1", "YE24"),
            offers("admin2", &["YE2401", "YE2402", "other"]),
            choose("admin1", "YE15"),
            offers("admin2", &["YE1501", "other"]),
            choose("admin2", "YE1501"),
        ]},
        {"steps": [
            choose("category", "sensitive"),
            typed("message", "A distribution worker asked for favours"),
            choose("consent_to_contact", "yes"),
            typed("contact", "+967 700 000 999"),
            choose("consent_to_contact", "no"),
            relevant(false),
        ]},
    ]);
    let runs = enketo_fill(&[&url], &plan);
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_eq!(run["status"], 201, "{run}");
    }
    let (complaint, sensitive) = (
        runs[0]["instance"].as_str().unwrap(),
        runs[1]["instance"].as_str().unwrap(),
    );
    // enketo-core's instances: its own instance ids, the answers given, and no answer to a
    // question its skip logic left out.
    let id = instance_value(complaint, "instanceID").unwrap();
    assert!(id.starts_with("uuid:"), "{complaint}");
    assert_ne!(instance_value(sensitive, "instanceID").unwrap(), id);
    assert_eq!(
        instance_value(complaint, "contact").as_deref(),
        Some("+967 777 123 456")
    );
    assert_eq!(
        instance_value(complaint, "admin2").as_deref(),
        Some("YE1501")
    );
    assert!(!sensitive.contains("700 000 999"), "{sensitive}");

    let reference = or_message(runs[0]["body"].as_str().unwrap())
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let items = inbox(&app, &w.coord_a, "shelter-yemen").await;
    assert_eq!(items["total"], 1, "{items}");
    let item = &items["items"][0];
    assert_eq!(item["reference"], reference.as_str());
    assert_eq!(item["category"], "complaint");
    assert_eq!(item["channel"], "helpdesk");
    assert_eq!(
        item["message"],
        "The latrines near block C have no light at night"
    );
    assert_eq!(item["admin1"], "YE15");
    assert_eq!(item["admin2"], "YE1501");

    // The reply was lost and the same instance comes again: a replay, still one item.
    let (status, body) = submit(&app, &url, complaint).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(or_message(&body), format!("Already received: {reference}"));
    assert_eq!(inbox(&app, &w.coord_a, "shelter-yemen").await["total"], 1);

    // The sensitive item is sealed as one from the web form: only the PSEA focal point reads it.
    let coord_view = inbox(&app, &w.coord_a, "shelter-yemen").await.to_string();
    assert!(!coord_view.contains("favours"), "{coord_view}");
    let psea_view = inbox(&app, &w.psea_a, "shelter-yemen").await;
    let sealed: Vec<&Value> = psea_view["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["message"] == "A distribution worker asked for favours")
        .collect();
    assert_eq!(sealed.len(), 1, "{psea_view}");
    assert_eq!(sealed[0]["sensitive"], true);
    assert_eq!(sealed[0]["priority"], "high");
    assert_eq!(sealed[0]["channel"], "helpdesk");
    assert_eq!(sealed[0]["has_contact"], false);
    let secret = sealed[0]["reference"].as_str().unwrap();
    let path = format!("/api/v1/feedback/{secret}");
    assert_eq!(app.get_json(&w.coord_a, &path).await.status(), 404);
    assert_eq!(app.get_json(&w.psea_a, &path).await.status(), 200);
    // The contact enketo-core sent is encrypted at rest, as the web form's is.
    use clusterpulse::db::schema::feedback::dsl as f;
    use diesel::prelude::*;
    let (contact, answers): (Option<String>, String) = f::feedback
        .filter(f::reference.eq(&reference))
        .select((f::contact_encrypted, f::answers))
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert!(contact
        .is_some_and(|c| c.starts_with("v1:") && !c.contains("123456") && !c.contains("123 456")));
    assert!(!answers.contains("123 456"), "{answers}");
}

both_backends!(enketo_core, enketo_core_fills_the_feedback_form);

/// The XForm we write for a form with a `choice_filter` and a repeat, rendered by
/// enketo-core in Chromium: the districts offered follow the region chosen (the filter runs
/// on the device), each row of the repeat has its own skip logic and calculation, and the
/// instance enketo-core writes passes the server's own reading and checks, which still
/// refuse a district outside the region.
#[test]
fn enketo_core_fills_cascades_and_repeats() {
    use clusterpulse::surveys::{answers, load, xform};
    if !enketo_core_ready() {
        return;
    }
    let text = include_str!("fixtures/site-visit.toml");
    let survey = load::parse_survey(&load::Source::new("site-visit.toml", text))
        .unwrap_or_else(|p| panic!("{p:?}"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site-visit.xml");
    let opts = xform::Options {
        version: "1".into(),
        ..Default::default()
    };
    std::fs::write(&file, xform::write(&survey, &opts).unwrap()).unwrap();
    let offers = |are: &[&str]| json!({"options": "/data/district", "are": are});
    let region = |v: &str| json!({"choose": "/data/region", "value": v});
    let plan = json!([{"steps": [
        offers(&["camp"]),
        {"options": "/data/also", "are": ["coast"]},
        region("north"),
        offers(&["centre", "hills", "camp"]),
        region("south"),
        offers(&["centre", "coast", "camp"]),
        {"choose": "/data/district", "value": "coast"},
        // Two rows of the repeat, each with its own skip logic.
        {"type": "/data/people/age", "text": "12"},
        {"relevant": "/data/people/school", "is": true},
        {"type": "/data/people/school", "text": "Al Noor"},
        {"add": "/data/people"},
        {"relevant": "/data/people/school", "is": false, "row": 1},
        {"type": "/data/people/age", "text": "70", "row": 1},
        {"relevant": "/data/people/school", "is": false, "row": 1},
        {"relevant": "/data/people/school", "is": true, "row": 0},
        // A cascade inside the rows: each row's districts follow its own region.
        {"choose": "/data/people/met_in", "value": "north", "row": 0},
        {"options": "/data/people/met_district", "are": ["centre", "hills"], "row": 0},
        {"choose": "/data/people/met_in", "value": "south", "row": 1},
        {"options": "/data/people/met_district", "are": ["centre", "coast"], "row": 1},
        {"options": "/data/people/met_district", "are": ["centre", "hills"], "row": 0},
        {"choose": "/data/people/met_district", "value": "hills", "row": 0},
        {"choose": "/data/people/met_district", "value": "coast", "row": 1},
    ]}]);
    let runs = enketo_fill(&[std::ffi::OsStr::new("--xform"), file.as_os_str()], &plan);
    let instance = runs[0]["instance"].as_str().unwrap();
    let read = xform::read_instance(&survey, instance).unwrap();
    let checked = answers::validate(&survey, &read.answers, "en", answers::Mode::Submit)
        .unwrap_or_else(|e| panic!("{e:?}: {instance}"));
    assert_eq!(checked.answers["region"], "south");
    assert_eq!(checked.answers["district"], "coast");
    assert_eq!(
        checked.answers["people"],
        json!([
            {"age": 12, "school": "Al Noor", "older": "no", "met_in": "north",
             "met_district": "hills"},
            {"age": 70, "older": "yes", "met_in": "south", "met_district": "coast"}
        ]),
        "{instance}"
    );
    // What enketo-core computed in each row is what the server computes.
    assert_eq!(read.answers["people"][0]["older"], "no", "{instance}");
    assert_eq!(read.answers["people"][1]["older"], "yes", "{instance}");
    // An instance edited to a district of the other region is still refused by the server.
    let forged = xform::read_instance(&survey, &instance.replace(">coast<", ">hills<")).unwrap();
    let refused = answers::validate(&survey, &forged.answers, "en", answers::Mode::Submit)
        .expect_err("hills is not in the south");
    assert!(refused.contains_key("district"), "{refused:?}");
}

/// The CCPM partner survey as a country might extend it: the partners met, as a repeat whose
/// rows have their own skip logic, in every language of the survey.
fn partner_with_a_repeat() -> String {
    let t = |text: &str| {
        ["en", "fr", "es", "ar"]
            .map(|l| format!("label.{l} = \"{text}\"\n"))
            .concat()
    };
    let mut out = include_str!("../surveys/ccpm-partner.toml").replacen(
        "id = \"ccpm-partner\"",
        "id = \"yemen-household\"",
        1,
    );
    out.push_str(&format!(
        "\n[[questions]]\nname = \"household\"\ntype = \"repeat\"\n{}\
         \n[[questions.questions]]\nname = \"member_name\"\ntype = \"text\"\n{}\
         \n[[questions.questions]]\nname = \"member_age\"\ntype = \"integer\"\n{}\
         \n[[questions.questions]]\nname = \"member_school\"\ntype = \"text\"\n\
         relevant = \"${{member_age}} < 18\"\n{}",
        t("Household members"),
        t("Name"),
        t("Age"),
        t("School"),
    ));
    out
}

/// A survey invitation with a repeat, answered offline: enketo-core in Chromium renders the
/// form the invitation's OpenRosa address serves, two rows are filled in (the school asked
/// only of the child), and the instance it sends is stored as the response, rows and all.
/// Forged instances (a row's skip logic ignored, too many rows) are refused.
async fn enketo_core_answers_an_invitation_with_a_repeat(app: TestApp) {
    if !enketo_core_ready() {
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    app.publish_survey(&admin, "yemen-household.toml", partner_with_a_repeat())
        .await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let round: Value = app
        .post_json(
            &coord,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm",
                   "surveys": ["yemen-household"], "opens_at": chrono::Utc::now().to_rfc3339(),
                   "closes_at": (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let round = round["id"].as_i64().unwrap_or_else(|| panic!("{round}"));
    let r = app
        .post_json(
            &coord,
            &format!("/api/v1/rounds/{round}/invitations"),
            json!({"send": false, "invitations": [
                {"email": "amal@relief.example.org", "organization": "Relief Org",
                 "org_type": "nngo", "survey": "yemen-household"}]}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let token = r.json::<Value>().await.unwrap()["invitations"][0]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let server = app.url(&format!("/openrosa/i/{token}"));

    // A client that ignores the rows' skip logic, or sends more rows than a response takes,
    // is refused by the server naming the repeat; nothing is stored.
    let forged = |rows: &str| {
        format!(
            "<data id=\"yemen-household\"><overall_rating>8</overall_rating>{rows}\
             <meta><instanceID>uuid:{}</instanceID></meta></data>",
            uuid::Uuid::new_v4()
        )
    };
    let adult_at_school = forged(
        "<household><member_name>Saeed</member_name><member_age>40</member_age>\
         <member_school>Al Noor</member_school></household>",
    );
    let too_many = forged(&"<household><member_age>9</member_age></household>".repeat(101));
    for (xml, named) in [
        (adult_at_school, "household.0.member_school"),
        (too_many, "household"),
    ] {
        let (status, body) = submit(&app, &server, &xml).await;
        assert_eq!(status, 422, "{body}");
        assert!(or_message(&body).contains(named), "{named}: {body}");
    }

    let choose = |q: &str, v: &str| json!({"choose": format!("/data/{q}"), "value": v});
    let typed = |q: &str, t: &str, row: usize| json!({"type": format!("/data/household/{q}"), "text": t, "row": row});
    let school = |row: usize, is: bool| json!({"relevant": "/data/household/member_school", "is": is, "row": row});
    let plan = json!([{"steps": [
        choose("meeting_attendance", "always"),
        choose("meetings_useful", "agree"),
        choose("who_what_where", "strongly_agree"),
        {"type": "/data/overall_rating", "text": "8"},
        typed("member_name", "Amal", 0),
        typed("member_age", "15", 0),
        school(0, true),
        typed("member_school", "Al Noor", 0),
        {"add": "/data/household"},
        typed("member_name", "Saeed", 1),
        typed("member_age", "40", 1),
        school(1, false),
        school(0, true),
    ]}]);
    let runs = enketo_fill(&[&server], &plan);
    assert_eq!(runs[0]["status"], 201, "{}", runs[0]);

    use clusterpulse::db::schema::responses;
    use diesel::prelude::*;
    let stored: Vec<String> = responses::table
        .filter(responses::round_id.eq(round as i32))
        .select(responses::answers)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(stored.len(), 1);
    let answers: Value = serde_json::from_str(&stored[0]).unwrap();
    assert_eq!(answers["overall_rating"], 8, "{answers}");
    assert_eq!(
        answers["household"],
        json!([{"member_name": "Amal", "member_age": 15, "member_school": "Al Noor"},
               {"member_name": "Saeed", "member_age": 40}]),
        "{answers}"
    );
}

both_backends!(
    enketo_core_invitation,
    enketo_core_answers_an_invitation_with_a_repeat
);
