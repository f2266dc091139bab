//! A partner's survey invitation filled in offline, as ODK Collect and Enketo speak to the
//! server (OpenRosa at `/openrosa/i/{token}`), through the real server on both backends:
//! the form list in the invitation's language, the XForm (through Enketo's own transformer
//! when tests/openrosa is installed), a submission stored once as the response, the replay
//! after a lost reply, and the refusals (other answers under the same instance id, a second
//! response, a bad instance id, an unknown token, a closed round). The instance's device
//! metadata never reaches the stored response.

mod common;
use common::openrosa::{or_message, submit};
use common::TestApp;
use serde_json::{json, Value};

const XFL: &str = "http://openrosa.org/xforms/xformsList";

/// A `ccpm-partner` instance as ODK Collect writes it, with its device metadata.
fn instance(id: &str, answers: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (k, v) in answers {
        body.push_str(&format!("<{k}>{v}</{k}>"));
    }
    format!(
        "<?xml version='1.0' ?><data id=\"ccpm-partner\" version=\"x\" \
         xmlns:orx=\"http://openrosa.org/xforms\">{body}<meta>\
         <deviceID>collect:Q7pTz2bWx9KfLmNa</deviceID><username>aisha.partner</username>\
         <instanceID>{id}</instanceID></meta></data>"
    )
}

const GOOD: &[(&str, &str)] = &[
    ("meeting_attendance", "always"),
    ("meetings_useful", "agree"),
    ("who_what_where", "strongly_agree"),
    ("overall_rating", "8"),
];

async fn get(app: &TestApp, url: &str) -> (u16, String) {
    let r = app
        .client
        .get(url)
        .header("X-OpenRosa-Version", "1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-openrosa-version"], "1.0");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn stored(app: &TestApp, round: i64) -> Vec<(String, String, String)> {
    use clusterpulse::db::schema::responses;
    use diesel::prelude::*;
    responses::table
        .filter(responses::round_id.eq(round as i32))
        .select((responses::uuid, responses::answers, responses::language))
        .load(&mut app.pool.get().unwrap())
        .unwrap()
}

async fn invitation_offline(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let (round, _) = common::round_with(&app, &coord, &["un"]).await;
    let r = app
        .post_json(
            &coord,
            &format!("/api/v1/rounds/{round}/invitations"),
            json!({"send": false, "invitations": [
                {"email": "aisha@relief.example.org", "organization": "Relief Org",
                 "org_type": "nngo", "survey": "ccpm-partner", "language": "fr"},
                {"email": "omar@aid.example.org", "organization": "Aid Org",
                 "org_type": "ingo", "survey": "ccpm-partner"}]}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    let token = v["invitations"][0]["token"].as_str().unwrap().to_string();
    let other_token = v["invitations"][1]["token"].as_str().unwrap().to_string();
    let server = app.url(&format!("/openrosa/i/{token}"));

    // The survey page gives the address, in the invitation's language.
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
        page.contains(&format!("<code class=\"secret\">{server}</code>")),
        "{page}"
    );
    assert!(page.contains("Remplir hors connexion"), "{page}");

    // The form list: one form, named in the invitation's language, with its addresses.
    let (status, list) = get(&app, &format!("{server}/formList")).await;
    assert_eq!(status, 200, "{list}");
    let doc = roxmltree::Document::parse(&list).unwrap();
    let field = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name((XFL, name)))
            .and_then(|n| n.text())
            .unwrap_or_else(|| panic!("no {name} in {list}"))
            .to_string()
    };
    assert_eq!(field("formID"), "ccpm-partner");
    let catalog = clusterpulse::surveys::load::load_dir(&common::surveys_dir()).unwrap();
    let survey = &catalog.surveys["ccpm-partner"];
    assert!(
        field("name").starts_with(&survey.title["fr"]),
        "{} is not in French",
        field("name")
    );
    let download = field("downloadUrl");
    assert_eq!(download, format!("{server}/forms/ccpm-partner/form.xml"));
    let (status, form) = get(&app, &download).await;
    assert_eq!(status, 200);
    assert!(form.contains("<data id=\"ccpm-partner\""), "{form}");
    let hash = format!(
        "md5:{}",
        hex::encode(<md5::Md5 as md5::Digest>::digest(&form))
    );
    assert_eq!(field("hash"), hash, "the list's hash is the form's");
    let (status, _) = get(&app, &field("manifestUrl")).await;
    assert_eq!(status, 200);
    // Another survey's form is not served at this address.
    let (status, body) = get(&app, &format!("{server}/forms/aap-feedback/form.xml")).await;
    assert_eq!(status, 404);
    assert!(or_message(&body).contains("ccpm-partner"), "{body}");
    // The XForm goes through Enketo's transformer (when tests/openrosa is installed).
    transform_with_enketo(&app, &form);

    // HEAD before sending; an unknown token is a 404 the app shows.
    let r = app
        .client
        .head(format!("{server}/submission"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = get(&app, &app.url("/openrosa/i/Tm9ib2R5SG9sZHNJdA/formList")).await;
    assert_eq!(status, 404);
    assert!(or_message(&body).contains("not valid"), "{body}");

    // Refused before storing anything: a bad instance id, an answer out of range, a form of
    // another survey.
    let (status, body) = submit(&app, &server, &instance("collect:7", GOOD)).await;
    assert_eq!(status, 400, "{body}");
    assert!(or_message(&body).contains("meta/instanceID"), "{body}");
    let id = uuid::Uuid::new_v4().to_string();
    let mut bad = GOOD.to_vec();
    bad[3] = ("overall_rating", "11");
    let (status, body) = submit(&app, &server, &instance(&format!("uuid:{id}"), &bad)).await;
    assert_eq!(status, 422, "{body}");
    assert!(or_message(&body).contains("overall_rating"), "{body}");
    let other_form = instance(&format!("uuid:{id}"), GOOD).replace("ccpm-partner", "aap-feedback");
    let (status, body) = submit(&app, &server, &other_form).await;
    assert_eq!(status, 400, "{body}");
    assert!(stored(&app, round).is_empty());

    // Stored once; the same instance again (the reply was lost) is a replay.
    let xml = instance(&format!("uuid:{id}"), GOOD);
    let (status, body) = submit(&app, &server, &xml).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(or_message(&body), format!("Received: {id}"));
    let (status, body) = submit(&app, &server, &xml).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(or_message(&body), format!("Already received: {id}"));
    let rows = stored(&app, round);
    assert_eq!(rows.len(), 1);
    let (uuid, answers, language) = &rows[0];
    assert_eq!(uuid, &id);
    assert_eq!(language, "fr", "stored in the invitation's language");
    // Only the answers are kept: nothing of the device or the app's user.
    let answers: Value = serde_json::from_str(answers).unwrap();
    assert_eq!(answers["overall_rating"], 8);
    let everything = format!("{:?}", rows);
    for secret in ["Q7pTz2bWx9KfLmNa", "aisha", "deviceID", "username"] {
        assert!(
            !everything.contains(secret),
            "{secret} stored: {everything}"
        );
    }

    // The same instance id with other answers, and a second instance, are refused.
    let mut changed = GOOD.to_vec();
    changed[3] = ("overall_rating", "2");
    let (status, body) = submit(&app, &server, &instance(&format!("uuid:{id}"), &changed)).await;
    assert_eq!(status, 409, "{body}");
    let second = format!("uuid:{}", uuid::Uuid::new_v4());
    let (status, body) = submit(&app, &server, &instance(&second, GOOD)).await;
    assert_eq!(status, 409, "{body}");
    assert!(or_message(&body).contains("already"), "{body}");
    // The form is no longer offered, and the app is told why.
    let (status, body) = get(&app, &format!("{server}/formList")).await;
    assert_eq!(status, 409);
    assert!(or_message(&body).contains("answered already"), "{body}");
    assert_eq!(stored(&app, round).len(), 1);

    // The web form and the API agree: the invitation is answered.
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(
            &json!({"token": token, "id": uuid::Uuid::new_v4().to_string(),
                      "answers": {"meeting_attendance": "always", "overall_rating": 5}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // A closed round takes nothing more, offline or not.
    let r = app
        .post_json(&coord, &format!("/api/v1/rounds/{round}/close"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let other = app.url(&format!("/openrosa/i/{other_token}"));
    let (status, body) = get(&app, &format!("{other}/formList")).await;
    assert_eq!(status, 410, "{body}");
    let late = format!("uuid:{}", uuid::Uuid::new_v4());
    let (status, body) = submit(&app, &other, &instance(&late, GOOD)).await;
    assert_eq!(status, 410, "{body}");
    assert!(or_message(&body).contains("closed"), "{body}");
    assert_eq!(stored(&app, round).len(), 1);

    // Counted apart from the API and the web form.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("clusterpulse_survey_responses_submitted_total{via=\"openrosa\"} 1"),
        "{metrics}"
    );
}

/// Runs tests/openrosa's Enketo transformer on `form` when it is installed (scripts/test.sh
/// installs it; in CI its absence is a failure).
fn transform_with_enketo(app: &TestApp, form: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openrosa");
    let ready = std::process::Command::new("node")
        .current_dir(dir)
        .args(["-e", "require('enketo-transformer')"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "tests/openrosa's npm packages are missing (scripts/test.sh installs them)"
        );
        eprintln!("skipped: enketo-transformer is not installed in tests/openrosa");
        return;
    }
    let path = app.dir.path().join("ccpm-partner-invitation.xml");
    std::fs::write(&path, form).unwrap();
    let out = std::process::Command::new("node")
        .current_dir(dir)
        .arg("transform.mjs")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "enketo-transformer refused the invitation's form: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.contains("overall_rating"), "{html}");
}

both_backends!(invitations, invitation_offline);
