//! Surveys uploaded over the API: checked like `surveys check`, previewed as drafts,
//! published as versions, then used by rounds; survey files stay read-only.

mod common;
use common::TestApp;
use serde_json::{json, Value};

const PARTNER: &str = include_str!("../surveys/ccpm-partner.toml");

async fn upload(app: &TestApp, token: &str, name: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/surveys/uploads?file_name={name}")))
        .bearer_auth(token)
        .header("Content-Type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn status_and_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The partner survey under another id (a country's own variant of it).
fn variant(id: &str, title: &str) -> String {
    PARTNER
        .replacen("id = \"ccpm-partner\"", &format!("id = \"{id}\""), 1)
        .replacen(
            "title.en = ",
            &format!("title.en = \"{title}\"\n# was: "),
            1,
        )
}

async fn upload_publish_and_use(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );

    // A survey file's id cannot be taken over.
    let (s, e) =
        status_and_json(upload(&app, &admin, "ccpm-partner.toml", PARTNER.into()).await).await;
    assert_eq!(s, 409, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("survey files"),
        "{e}"
    );

    // Not a form: the file is named; nothing is stored.
    let (s, e) =
        status_and_json(upload(&app, &admin, "photo.jpg", vec![0xFF, 0xD8, 0xFF, 0xE0, 1]).await)
            .await;
    assert_eq!(s, 400);
    assert!(
        e["fields"]["file"]
            .as_str()
            .unwrap()
            .starts_with("photo.jpg"),
        "{e}"
    );
    // A TOML mistake: file and line, as `surveys check` says them.
    let broken = variant("wash-partner", "WASH").replacen("version = 1", "version = \"one\"", 1);
    let (s, e) = status_and_json(upload(&app, &admin, "wash.toml", broken.into()).await).await;
    assert_eq!(s, 400);
    let msg = e["fields"]["file"].as_str().unwrap();
    assert!(msg.starts_with("wash.toml:"), "{msg}");
    assert!(msg.contains("version"), "{msg}");
    // A performance survey that leaves indicators unscored is refused across definitions.
    let thin = "id = \"thin\"\nversion = 1\nkind = \"performance\"\nrespondent = \"partner\"\n\
        framework = \"ccpm\"\nlanguages = [\"en\"]\ntitle.en = \"Thin\"\n\n[[questions]]\n\
        name = \"note_only\"\ntype = \"text\"\nlabel.en = \"Anything?\"\n";
    let (s, e) = status_and_json(upload(&app, &admin, "thin.toml", thin.into()).await).await;
    assert_eq!(s, 400);
    assert!(
        e["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("has no scored question"),
        "{e}"
    );
    // Only admins upload.
    let (s, _) = status_and_json(
        upload(
            &app,
            &coord,
            "wash.toml",
            variant("wash-partner", "WASH").into(),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
    let list: Value = app
        .get_json(&admin, "/api/v1/surveys/uploads")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["uploads"],
        json!([]),
        "refused uploads leave nothing behind"
    );

    // A good one: a draft, not yet in the catalog.
    let (s, draft) = status_and_json(
        upload(
            &app,
            &admin,
            "wash.toml",
            variant("wash-partner", "WASH partners").into(),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(draft["survey_id"], "wash-partner");
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["usable_in_rounds"], true);
    assert_eq!(draft["published_at"], Value::Null);
    assert_eq!(draft["survey"]["title"]["en"], "WASH partners");
    assert!(
        draft["survey"]["title"]["ar"].is_string(),
        "every language is there to preview"
    );
    let id = draft["id"].as_i64().unwrap();
    let r = app
        .client
        .get(app.url("/api/v1/surveys/wash-partner"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a draft is not published");

    let publish = |id: i64| {
        let c = app.client.clone();
        let url = app.url(&format!("/api/v1/surveys/uploads/{id}/publish"));
        let admin = admin.clone();
        async move { c.post(url).bearer_auth(admin).send().await.unwrap() }
    };
    let (s, done) = status_and_json(publish(id).await).await;
    assert_eq!(s, 200, "{done}");
    assert!(done["published_at"].is_string());
    let (s, again) = status_and_json(publish(id).await).await;
    assert_eq!(s, 409, "{again}");
    let s: Value = app
        .client
        .get(app.url("/api/v1/surveys/wash-partner"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["version"], 1);

    // The same file again changes nothing; a changed one is the next version.
    let (s, e) = status_and_json(
        upload(
            &app,
            &admin,
            "wash.toml",
            variant("wash-partner", "WASH partners").into(),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "{e}");
    let (s, v2) = status_and_json(
        upload(
            &app,
            &admin,
            "wash.toml",
            variant("wash-partner", "WASH partners 2027").into(),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{v2}");
    assert_eq!(v2["version"], 2);
    let old_draft = v2["id"].as_i64().unwrap();
    let (s, v2b) = status_and_json(
        upload(
            &app,
            &admin,
            "wash.toml",
            variant("wash-partner", "WASH partners, 2027").into(),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(v2b["version"], 2, "drafts do not take versions");
    assert_eq!(
        status_and_json(publish(v2b["id"].as_i64().unwrap()).await)
            .await
            .0,
        200
    );
    let (s, e) = status_and_json(publish(old_draft).await).await;
    assert_eq!(s, 409, "version 2 was published meanwhile: {e}");

    // A round names the uploaded survey like any other.
    let body = json!({"operation": "shelter-yemen", "framework": "ccpm", "surveys": ["wash-partner"],
        "opens_at": chrono::Utc::now().to_rfc3339(),
        "closes_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()});
    let r = app.post_json(&coord, "/api/v1/rounds", body).await;
    assert_eq!(r.status(), 201);
    let round: Value = r.json().await.unwrap();
    let rid = round["id"].as_i64().unwrap();
    let inv: Value = app
        .post_json(&coord, &format!("/api/v1/rounds/{rid}/invitations"), json!({"invitations": [
            {"email": "p@wash.example.org", "organization": "Wash Org", "org_type": "nngo", "survey": "wash-partner"}]}))
        .await
        .json()
        .await
        .unwrap();
    let token = inv["invitations"][0]["token"].as_str().unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(
            &json!({"token": token, "id": uuid::Uuid::new_v4().to_string(),
            "answers": {"meetings_focus": "agree"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // The audit log has both acts.
    let page = app.login("admin@test.example").await;
    let html = page
        .get(app.url("/admin/audit?action=survey.publish"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("survey:wash-partner"), "{html}");
}
both_backends!(uploads, upload_publish_and_use);

/// A real XLSForm, written elsewhere, imports as a draft with the import's notes.
async fn xlsform_upload(app: TestApp) {
    let corpus = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/xlsform-corpus/group.xlsx"
    ));
    if !corpus.exists() {
        eprintln!("skipped: the shared XLSForm corpus is not beside the checkout");
        return;
    }
    let admin = app.admin_token();
    let bytes = std::fs::read(corpus).unwrap();
    let (s, draft) = status_and_json(upload(&app, &admin, "group.xlsx", bytes).await).await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(
        draft["usable_in_rounds"], false,
        "an XLSForm says nothing of frameworks"
    );
    assert!(!draft["notes"].as_array().unwrap().is_empty());
    // A broken workbook: named, with what is wrong.
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend_from_slice(&[0; 64]);
    let (s, e) = status_and_json(upload(&app, &admin, "broken.xlsx", zip).await).await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["fields"]["file"]
            .as_str()
            .unwrap()
            .starts_with("broken.xlsx"),
        "{e}"
    );
}
both_backends!(xlsform, xlsform_upload);

/// The Python with openpyxl and pyxform that scripts/test.sh installs.
fn python() -> std::path::PathBuf {
    let path = std::env::var("EXPORT_TOOLS_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/export-tools-venv/bin/python"
            )
            .into()
        });
    assert!(
        path.exists(),
        "{} not found: run scripts/test.sh, which installs openpyxl and pyxform there",
        path.display()
    );
    path
}

fn tool(args: &[&str]) -> Value {
    let out = std::process::Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/tools/xlsform_tools.py"
        ))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xlsform_tools.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A shipped survey downloaded as XLSForm is a form ODK's own converter (pyxform) reads,
/// in every language; edited in a spreadsheet tool (openpyxl: a new form_id and title) it
/// uploads back as a performance survey with the same questions, and a round runs on it.
async fn xlsform_round_trip(app: TestApp) {
    let admin = app.admin_token();
    let r = app
        .client
        .get(app.url("/api/v1/surveys/ccpm-partner/xlsform"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("ccpm-partner-v1.xlsx"));
    let bytes = r.bytes().await.unwrap();
    let dir = app.dir.path();
    let (form, xml, edited) = (
        dir.join("partner.xlsx"),
        dir.join("partner.xml"),
        dir.join("edited.xlsx"),
    );
    std::fs::write(&form, &bytes).unwrap();
    let original: Value = app
        .client
        .get(app.url("/api/v1/surveys/ccpm-partner"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let xform = tool(&["convert", form.to_str().unwrap(), xml.to_str().unwrap()]);
    let langs: Vec<&str> = xform["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    for l in [
        "English (en)",
        "Français (fr)",
        "Español (es)",
        "العربية (ar)",
    ] {
        assert!(langs.contains(&l), "{l} in {langs:?}");
    }
    for q in original["questions"].as_array().unwrap() {
        let name = q["name"].as_str().unwrap();
        assert!(
            xform["binds"].as_array().unwrap().iter().any(|b| b == name),
            "pyxform lost {name}"
        );
    }
    tool(&[
        "rename",
        form.to_str().unwrap(),
        edited.to_str().unwrap(),
        "wash-partners",
        "WASH partner survey",
    ]);
    let (s, draft) =
        status_and_json(upload(&app, &admin, "edited.xlsx", std::fs::read(&edited).unwrap()).await)
            .await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(draft["usable_in_rounds"], true, "{draft}");
    assert_eq!(draft["survey"]["id"], "wash-partners");
    assert_eq!(draft["survey"]["kind"], "performance");
    assert_eq!(draft["survey"]["title"]["en"], "WASH partner survey");
    assert_eq!(draft["survey"]["title"]["fr"], original["title"]["fr"]);
    assert_eq!(draft["survey"]["questions"], original["questions"]);
    assert_eq!(draft["survey"]["choices"], original["choices"]);
    let id = draft["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/surveys/uploads/{id}/publish")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.seed_directory(&admin).await;
    let opens = chrono::Utc::now();
    let r = app
        .post_json(
            &admin,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm", "surveys": ["wash-partners"],
                   "opens_at": opens.to_rfc3339(),
                   "closes_at": (opens + chrono::Duration::days(14)).to_rfc3339()}),
        )
        .await;
    let (s, round) = status_and_json(r).await;
    assert_eq!(s, 201, "{round}");
    assert_eq!(round["surveys"], json!(["wash-partners"]));
}
both_backends!(xlsform_out_and_back, xlsform_round_trip);

/// The partner survey, downloaded and extended in a spreadsheet tool (openpyxl) with what
/// field forms use: cascading selects whose district names repeat across regions, a
/// location, a calculation, a repeat of household members, a statement to confirm and a
/// range. It uploads; its definition says so; pyxform converts its download; and answers
/// are checked by the same rules over the API and through the web form without script.
async fn xlsform_field_types(app: TestApp) {
    let admin = app.admin_token();
    let bytes = app
        .client
        .get(app.url("/api/v1/surveys/ccpm-partner/xlsform"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let dir = app.dir.path();
    let (form, extended, again, xml) = (
        dir.join("partner.xlsx"),
        dir.join("field.xlsx"),
        dir.join("field-again.xlsx"),
        dir.join("field.xml"),
    );
    std::fs::write(&form, &bytes).unwrap();
    tool(&[
        "extend",
        form.to_str().unwrap(),
        extended.to_str().unwrap(),
        "wash-field",
    ]);
    let (s, draft) = status_and_json(
        upload(
            &app,
            &admin,
            "field.xlsx",
            std::fs::read(&extended).unwrap(),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/surveys/uploads/{id}/publish")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The definition, as the API documents it.
    let def: Value = app
        .client
        .get(app.url("/api/v1/surveys/wash-field"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let q = |name: &str| {
        def["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {def}"))
            .clone()
    };
    assert_eq!(q("district")["choice_filter"], "region=${region}");
    assert_eq!(q("site")["type"], "geopoint");
    assert_eq!(q("place")["type"], "calculate");
    assert_eq!(
        q("place")["calculation"],
        "concat(${region}, '/', ${district})"
    );
    assert_eq!(q("consent")["type"], "acknowledge");
    assert_eq!(
        q("rating")["range"],
        json!({"start": 0.0, "end": 10.0, "step": 2.0})
    );
    let household = q("household");
    assert_eq!(household["type"], "repeat");
    let inner: Vec<&str> = household["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(inner, ["member_name", "member_age", "member_school"]);
    assert_eq!(
        def["choices"]["district"],
        json!([
            {"value": "d1", "label": {"en": "Central", "fr": "Central", "es": "Central", "ar": "Central"},
             "score": null, "columns": {"region": "north"}},
            {"value": "d1", "label": {"en": "Central", "fr": "Central", "es": "Central", "ar": "Central"},
             "score": null, "columns": {"region": "south"}},
            {"value": "d2", "label": {"en": "Coast", "fr": "Coast", "es": "Coast", "ar": "Coast"},
             "score": null, "columns": {"region": "south"}},
        ])
    );

    // Downloaded again: ODK's converter reads it, repeat and cascade included, and it
    // uploads back to the same definition.
    let bytes = app
        .client
        .get(app.url("/api/v1/surveys/wash-field/xlsform"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(&again, &bytes).unwrap();
    let xform = tool(&["convert", again.to_str().unwrap(), xml.to_str().unwrap()]);
    assert_eq!(xform["repeats"], json!(["household"]), "{xform}");
    assert!(
        xform["itemsets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i.as_str().unwrap().contains("region")),
        "the cascade: {xform}"
    );
    for name in [
        "district",
        "site",
        "place",
        "member_age",
        "consent",
        "rating",
    ] {
        assert!(
            xform["binds"].as_array().unwrap().iter().any(|b| b == name),
            "pyxform lost {name}: {xform}"
        );
    }
    let (s, back) =
        status_and_json(upload(&app, &admin, "field-again.xlsx", bytes.to_vec()).await).await;
    assert_eq!(s, 409, "the same definition again: {back}");

    // A round on it.
    app.seed_directory(&admin).await;
    let opens = chrono::Utc::now();
    let r = app
        .post_json(
            &admin,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm", "surveys": ["wash-field"],
                   "opens_at": opens.to_rfc3339(),
                   "closes_at": (opens + chrono::Duration::days(14)).to_rfc3339()}),
        )
        .await;
    let (s, round) = status_and_json(r).await;
    assert_eq!(s, 201, "{round}");
    let rid = round["id"].as_i64().unwrap();
    let inv: Value = app
        .post_json(&admin, &format!("/api/v1/rounds/{rid}/invitations"), json!({"invitations": [
            {"email": "a@wash.example.org", "organization": "Wash A", "org_type": "nngo", "survey": "wash-field"},
            {"email": "b@wash.example.org", "organization": "Wash B", "org_type": "ingo", "survey": "wash-field"}]}))
        .await
        .json()
        .await
        .unwrap();
    let token = inv["invitations"][0]["token"].as_str().unwrap();
    let respond = |answers: Value| {
        app.client
            .post(app.url("/api/v1/responses"))
            .json(&json!({"token": token, "id": uuid::Uuid::new_v4().to_string(), "answers": answers}))
            .send()
    };
    // A district of the other region, a latitude past the pole, a bad age in the second
    // row, a school for an adult, an unconfirmed statement, a rating off its steps.
    let (s, e) = status_and_json(
        respond(json!({
            "meetings_focus": "agree", "region": "north", "district": "d2", "site": "95 10",
            "household": [
                {"member_name": "Amina", "member_age": 34, "member_school": "x"},
                {"member_name": "Omar", "member_age": "old"}],
            "consent": "no", "rating": 5,
        }))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let mut fields: Vec<&str> = e["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "consent",
            "district",
            "household.0.member_school",
            "household.1.member_age",
            "rating",
            "site"
        ],
        "{e}"
    );
    assert_eq!(e["fields"]["district"], "Choose one of the options: d1.");
    // The same district name under the region chosen; the calculation is the server's.
    let (s, ok) = status_and_json(
        respond(json!({
            "meetings_focus": "agree", "region": "south", "district": "d1",
            "site": "12.5 -1.5 300 4",
            "household": [{"member_name": "Amina", "member_age": 12, "member_school": "Al Noor"}, {}],
            "consent": "OK", "rating": "4", "place": "sent, and ignored",
            "why_south": "water",
        }))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{ok}");

    // The web form, without script: the filter's columns and the repeat's rows are on the
    // page, the rules in its script; a posted form with a row and an empty row goes in.
    let token = inv["invitations"][1]["token"].as_str().unwrap();
    let page = app
        .client
        .get(app.url(&format!("/s/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-c=\"{&quot;region&quot;:&quot;south&quot;}\""),
        "{page}"
    );
    assert!(page.contains("name=\"q_household.0.member_age\""), "{page}");
    // One empty row to fill (saving the draft brings another).
    assert!(
        !page.contains("name=\"q_household.1.member_age\""),
        "{page}"
    );
    assert!(page.contains("name=\"q_consent\" value=\"OK\""), "{page}");
    let js = app
        .client
        .get(app.url(&format!("/s/{token}/logic.js")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for var in [
        "CP_RULES",
        "CP_CALC",
        "CP_FILTERS",
        "\"member_school\"",
        "\"place\"",
    ] {
        assert!(js.contains(var), "{var} in {js}");
    }
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let post = |form: Vec<(&'static str, &'static str)>| {
        let mut form: Vec<(String, String)> = form
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        form.push(("csrf_token".into(), csrf.clone()));
        form.push(("lang".into(), "en".into()));
        app.new_client()
            .post(app.url(&format!("/s/{token}")))
            .form(&form)
            .send()
    };
    let r = post(vec![
        ("action", "submit"),
        ("q_meetings_focus", "agree"),
        ("q_region", "north"),
        ("q_district", "d2"),
        ("q_household.0.member_name", "Amina"),
        ("q_household.0.member_age", "x"),
        ("q_household.1.member_name", ""),
        ("q_household.1.member_age", ""),
        ("q_consent", "OK"),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("href=\"#q-household.0.member_age\""),
        "{html}"
    );
    assert!(html.contains("Household members, Row 1: Age"), "{html}");
    assert!(html.contains("href=\"#q-district\""), "{html}");
    // What was typed comes back, with a new empty row.
    assert!(html.contains("name=\"q_household.1.member_age\""), "{html}");
    let r = post(vec![
        ("action", "submit"),
        ("q_meetings_focus", "agree"),
        ("q_region", "south"),
        ("q_district", "d1"),
        ("q_site", "١٢.٥ -1.5"),
        ("q_household.0.member_name", "Amina"),
        ("q_household.0.member_age", "9"),
        ("q_household.0.member_school", "Al Noor"),
        ("q_household.1.member_name", ""),
        ("q_household.1.member_age", ""),
        ("q_consent", "OK"),
        ("q_rating", "8"),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}
both_backends!(xlsform_field, xlsform_field_types);
