//! The survey page in a real headless Chromium (Debian's), driven by playwright-core:
//! section by section on a phone (progress, Back/Next saving the draft, skip logic, review,
//! refused submit), drafts across devices, right-to-left Arabic, the page without JavaScript.
//! Skips (with the reason) when chromium, node or tests/browser/node_modules are missing;
//! scripts/test.sh installs all three.

mod common;
use common::{browser_ready, TestApp};
use serde_json::json;

const PARTNER: &str = include_str!("../surveys/ccpm-partner.toml");

/// The partner survey as a country might adapt it, with a section skip logic can leave out:
/// the advocacy questions only for organisations not working mainly at sub-national level.
fn partner_with_skippable_section() -> String {
    PARTNER
        .replacen("id = \"ccpm-partner\"", "id = \"yemen-partner\"", 1)
        .replace(
            "section = \"f4\"\n",
            "section = \"f4\"\nrelevant = \"${coordination_level} != 'subnational'\"\n",
        )
}

/// Runs one of tests/browser/*.mjs; panics with what the browser said when it fails, else
/// returns what the script printed.
async fn run_script(name: &str, args: &[&str]) -> Vec<u8> {
    let script = format!("{}/tests/browser/{name}", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .args(args)
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "browser run {name} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

async fn partner_answers_in_a_browser(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    // The adapted survey, uploaded and published as an admin does.
    app.publish_survey(
        &admin,
        "yemen-partner.toml",
        partner_with_skippable_section(),
    )
    .await;

    let round: serde_json::Value = app
        .post_json(
            &coord,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm",
            "surveys": ["yemen-partner"], "opens_at": chrono::Utc::now().to_rfc3339(),
            "closes_at": (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = round["id"].as_i64().unwrap();
    let inv: serde_json::Value = app
        .post_json(&coord, &format!("/api/v1/rounds/{id}/invitations"), json!({"invitations": [
            {"email": "en@ngo.org", "organization": "NGO", "org_type": "ingo", "survey": "yemen-partner"},
            {"email": "ar@ngo.org", "organization": "Local NGO", "org_type": "nngo", "survey": "yemen-partner"},
            {"email": "nojs@ngo.org", "organization": "Third NGO", "org_type": "ingo", "survey": "yemen-partner"}]}))
        .await.json().await.unwrap();
    let link = |i: usize| {
        inv["invitations"][i]["link"]
            .as_str()
            .unwrap_or_else(|| panic!("invitation {i}: {inv}"))
            .to_string()
    };

    // Section by section on a phone, in English and in Arabic; then without JavaScript.
    run_script("survey.mjs", &[&link(0), "en", "steps"]).await;
    run_script("survey.mjs", &[&link(1), "ar", "steps"]).await;
    run_script("survey.mjs", &[&link(2), "en", "nojs"]).await;

    // Three responses, with what the browsers showed and nothing from the skipped section.
    use clusterpulse::db::schema::responses;
    use diesel::prelude::*;
    let n: i64 = responses::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(n, 3);
    let rows = stored_answers(&app);
    let count = |q: &str, v: &str| rows.iter().filter(|(a, b)| a == q && b == v).count();
    // The change link was used to turn "strongly disagree" into "disagree".
    assert_eq!(count("meetings_useful", "\"disagree\""), 2, "{rows:?}");
    assert_eq!(
        count("meetings_improve", "\"Send the agenda two days before\""),
        2,
        "{rows:?}"
    );
    // 8 typed in Latin and in Arabic-Indic digits; 7 without JavaScript.
    assert_eq!(count("overall_rating", "8"), 2, "{rows:?}");
    assert_eq!(count("overall_rating", "7"), 1, "{rows:?}");
    assert_eq!(
        count("works_well", "\"Shares <b>maps</b> on time\""),
        2,
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|(q, _)| q.starts_with("advocacy_")),
        "the skipped section left answers: {rows:?}"
    );
}
both_backends!(survey_in_chromium, partner_answers_in_a_browser);

/// The partner survey with field-form questions after it, in every language of the survey.
fn partner_with_field_questions() -> String {
    let t = |key: &str, text: &str| {
        ["en", "fr", "es", "ar"]
            .map(|l| format!("{key}.{l} = \"{text}\"\n"))
            .concat()
    };
    let choice = |list: &str, value: &str, text: &str, region: Option<&str>| {
        let columns = region
            .map(|r| format!("columns = {{ region = \"{r}\" }}\n"))
            .unwrap_or_default();
        format!(
            "\n[[choices.{list}]]\nvalue = \"{value}\"\n{columns}{}",
            t("label", text)
        )
    };
    let mut out = PARTNER.replacen("id = \"ccpm-partner\"", "id = \"yemen-field\"", 1);
    for (list, value, text, region) in [
        ("region", "north", "North", None),
        ("region", "south", "South", None),
        ("district", "d1", "Central", Some("north")),
        ("district", "d1", "Central", Some("south")),
        ("district", "d2", "Coast", Some("south")),
    ] {
        out.push_str(&choice(list, value, text, region));
    }
    out.push_str(&format!(
        "\n[[questions]]\nname = \"region\"\ntype = \"select_one region\"\n{}\
         \n[[questions]]\nname = \"district\"\ntype = \"select_one district\"\n\
         choice_filter = \"region = ${{region}}\"\n{}\
         \n[[questions]]\nname = \"place\"\ntype = \"calculate\"\n\
         calculation = \"concat(${{region}}, '/', ${{district}})\"\n{}\
         \n[[questions]]\nname = \"why_south\"\ntype = \"text\"\n\
         relevant = \"${{place}} = 'south/d1'\"\n{}\
         \n[[questions]]\nname = \"site\"\ntype = \"geopoint\"\n{}\
         \n[[questions]]\nname = \"household\"\ntype = \"repeat\"\n{}\
         \n[[questions.questions]]\nname = \"member_name\"\ntype = \"text\"\n{}\
         \n[[questions.questions]]\nname = \"member_age\"\ntype = \"integer\"\n{}\
         \n[[questions.questions]]\nname = \"member_school\"\ntype = \"text\"\n\
         relevant = \"${{member_age}} < 18 and ${{region}} = 'south'\"\n{}\
         \n[[questions]]\nname = \"consent\"\ntype = \"acknowledge\"\nrequired = true\n{}\
         \n[[questions]]\nname = \"rating\"\ntype = \"range\"\n\
         range = {{ start = 0, end = 10, step = 2 }}\n{}",
        t("label", "Region"),
        t("label", "District"),
        t("label", "Place"),
        t("label", "Why south?"),
        t("label", "Where?"),
        t("label", "Household members"),
        t("label", "Name"),
        t("label", "Age"),
        t("label", "School"),
        t("label", "I confirm"),
        t("label", "Rating"),
    ));
    out
}

/// Cascading selects, a calculation and a repeat in Chromium: the page's script and the
/// server evaluate the same expressions, so what the browser leaves is what is stored.
async fn field_questions_in_a_browser(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    app.publish_survey(&admin, "yemen-field.toml", partner_with_field_questions())
        .await;
    let round: serde_json::Value = app
        .post_json(
            &admin,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm",
            "surveys": ["yemen-field"], "opens_at": chrono::Utc::now().to_rfc3339(),
            "closes_at": (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = round["id"].as_i64().unwrap();
    let inv: serde_json::Value = app
        .post_json(&admin, &format!("/api/v1/rounds/{id}/invitations"), json!({"invitations": [
            {"email": "field@ngo.org", "organization": "NGO", "org_type": "ingo", "survey": "yemen-field"}]}))
        .await.json().await.unwrap();
    let link = inv["invitations"][0]["link"].as_str().unwrap().to_string();
    run_script("survey.mjs", &[&link, "en", "field"]).await;

    let rows = stored_answers(&app);
    let value = |q: &str| -> Option<serde_json::Value> {
        rows.iter()
            .find(|(a, _)| a == q)
            .map(|(_, v)| serde_json::from_str(v).unwrap())
    };
    assert_eq!(value("region"), Some(json!("south")), "{rows:?}");
    assert_eq!(value("district"), Some(json!("d1")));
    assert_eq!(value("place"), Some(json!("south/d1")));
    assert_eq!(value("consent"), Some(json!("OK")));
    assert_eq!(value("rating"), Some(json!(4)));
    assert_eq!(value("site"), Some(json!("12.5 -1.5")));
    assert_eq!(
        value("household"),
        Some(json!([
            {"member_name": "Amina", "member_age": 12, "member_school": "Al Noor"},
            {"member_name": "Omar", "member_age": 40},
        ]))
    );
}
both_backends!(field_questions_in_chromium, field_questions_in_a_browser);

async fn person_gives_feedback_in_a_browser(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let out = run_script("feedback.mjs", &[&app.url("/f/shelter-yemen")]).await;
    let line: serde_json::Value = serde_json::from_slice(&out).expect("one JSON line");
    let reference = line["reference"].as_str().unwrap();
    // Stored with the contact details given after consent.
    let item: serde_json::Value = app
        .get_json(&coord, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["category"], "complaint");
    assert_eq!(item["contact"], "+967 711 000 222");
    assert_eq!(item["language"], "en");
}
both_backends!(feedback_in_chromium, person_gives_feedback_in_a_browser);

/// The staff inbox on a phone: intake first, 25 items a page, labels, logging a call.
async fn coordinator_uses_the_inbox_on_a_phone(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    for i in 0..40 {
        let r = app
            .post_json(
                &coord,
                "/api/v1/feedback",
                json!({"operation": "shelter-yemen", "channel": "hotline",
                       "answers": {"category": "complaint", "message": format!("call {i}"),
                                   "consent_to_contact": "no"}}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let line: serde_json::Value = serde_json::from_slice(
        &run_script(
            "inbox.mjs",
            &[&app.url(""), "coord@example.org", common::PASSWORD],
        )
        .await,
    )
    .expect("one JSON line");
    let reference = line["reference"].as_str().unwrap();
    let item: serde_json::Value = app
        .get_json(&coord, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["channel"], "hotline");
    assert_eq!(item["category"], "request");
    assert_eq!(item["age_group"], "60_plus");
}
both_backends!(inbox_in_chromium, coordinator_uses_the_inbox_on_a_phone);

/// The coordinator's side on a phone: staff bar, closing early behind a fold and a
/// confirmation, the report showing what partners wrote (as text, no org type).
async fn coordinator_closes_and_reads_the_report(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let answer = "Shelter kits <b>arrive</b> fast";
    let round = common::open_round_with_responses(
        &app,
        &coord,
        "shelter-yemen",
        6,
        json!({"works_well": answer}),
    )
    .await;
    let base = app.url("");
    let out = run_script(
        "report.mjs",
        &[
            base.trim_end_matches('/'),
            "coord@example.org",
            common::PASSWORD,
            &round.to_string(),
            answer,
        ],
    )
    .await;
    let line: serde_json::Value = serde_json::from_slice(&out).expect("one JSON line");
    assert_eq!(line["answers"], 6, "{line}");
    let r: serde_json::Value = app
        .get_json(&coord, &format!("/api/v1/rounds/{round}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["state"], "closed", "{r}");
}
both_backends!(report_in_chromium, coordinator_closes_and_reads_the_report);

/// The public side in Arabic on a phone, the browser asking for Arabic: the feedback form
/// in the browser's language naming who receives it, a stale form keeping the message,
/// the status page showing the agreed reply, a bad survey link as an Arabic page.
async fn public_pages_in_arabic(app: TestApp) {
    if let Err(why) = browser_ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let base = app.url("");
    let base = base.trim_end_matches('/');
    let out = run_script(
        "public_ar.mjs",
        &["form", base, "shelter-yemen", "shelter-yemen operation"],
    )
    .await;
    let line: serde_json::Value = serde_json::from_slice(&out).expect("one JSON line");
    let reference = line["reference"].as_str().unwrap().to_string();
    let reply = "سيتم إصلاح المضخة يوم الثلاثاء";
    let r = app
        .post_json(
            &coord,
            &format!("/api/v1/feedback/{reference}/events"),
            json!({"action": "respond", "note": reply}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    run_script("public_ar.mjs", &["status", base, &reference, reply]).await;
    let item: serde_json::Value = app
        .get_json(&coord, &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["language"], "ar", "{item}");
}
both_backends!(public_in_arabic, public_pages_in_arabic);

/// Every stored answer of the app's database: (question, value as JSON text).
fn stored_answers(app: &TestApp) -> Vec<(String, String)> {
    use clusterpulse::db::schema::responses;
    use diesel::prelude::*;
    let mut c = app.pool.get().unwrap();
    let uuids: Vec<String> = responses::table
        .select(responses::uuid)
        .load(&mut c)
        .unwrap();
    uuids
        .iter()
        .flat_map(|u| clusterpulse::domain::response_store::stored_answers(&mut c, u).unwrap())
        .map(|(q, v, _)| (q, v))
        .collect()
}
