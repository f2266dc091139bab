//! No personal data in logs: the logs of a full scenario (accounts, a round whose invitations
//! go through the file outbox, responses over the API and the form, public feedback with
//! contact details, staff workflow events, failed sign-ins) are captured at debug level and
//! searched for every email address, token, password, feedback reference, message text,
//! contact detail and note the scenario used.
//!
//! The capture is a process-wide tracing subscriber (with the `log` bridge, which carries
//! actix's request log), so this test lives alone in its own test binary.

mod common;
use common::{Backend, TestApp, PASSWORD, SECRET};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c = Capture(Arc::new(Mutex::new(Vec::new())));
        let writer = c.clone();
        tracing_subscriber::fmt()
            // The server's own filter, so its privacy directives are what is tested.
            .with_env_filter(clusterpulse::kernel::logging::env_filter(
                // The app at its most verbose; the test's own HTTP client stays quiet (it
                // would log the URLs it calls, which are not the server's logs).
                "debug,clusterpulse=trace,reqwest=warn,hyper=warn,hyper_util=warn,h2=warn,rustls=warn",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        c
    })
}

fn logs() -> String {
    String::from_utf8_lossy(&capture().0.lock().unwrap()).into_owned()
}

fn future(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

async fn status(r: reqwest::Response, expected: u16) -> Value {
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(got, expected, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Everything the scenario must keep out of the logs.
#[derive(Default)]
struct Secrets(Vec<(String, &'static str)>);

impl Secrets {
    fn add(&mut self, value: impl Into<String>, what: &'static str) {
        self.0.push((value.into(), what));
    }
}

async fn scenario(app: TestApp) {
    let mut secrets = Secrets::default();
    secrets.add(PASSWORD, "password");
    secrets.add(SECRET, "secret key");
    let admin = app.admin_token();
    secrets.add(&admin, "bearer token");
    secrets.add("admin@test.example", "email");
    app.seed_directory(&admin).await;
    secrets.add("lead@shelter.example.org", "email");
    let coord_email = "amina.coordinator@shelter-yemen.example.org";
    let coord = app.user_token(coord_email, "coordinator", None, &["shelter-yemen"]);
    secrets.add(coord_email, "email");
    secrets.add(&coord, "bearer token");
    let psea_email = "psea.focal@shelter-yemen.example.org";
    let psea = app.user_token(psea_email, "psea_focal_point", None, &["shelter-yemen"]);
    secrets.add(psea_email, "email");
    secrets.add(&psea, "bearer token");

    // Failed sign-ins: API (known and unknown account) and the sign-in page.
    let wrong = "Tr0ub4dor&3-wrong-guess";
    secrets.add(wrong, "password");
    for email in [coord_email, "ghost.user@nowhere.example.org"] {
        let r = app
            .new_client()
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": email, "password": wrong}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    secrets.add("ghost.user@nowhere.example.org", "email");
    let page = app.new_client();
    let html = page
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field(&html, "csrf_token");
    let r = page
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", coord_email),
            ("password", wrong),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A good sign-in with a cookie session.
    let session = app.login(psea_email).await;

    // A round; invitations sent through the file outbox.
    let round = status(
        app.post_json(&coord, "/api/v1/rounds", json!({"operation": "shelter-yemen", "framework": "ccpm",
            "surveys": ["ccpm-partner", "ccpm-coordinator"], "opens_at": chrono::Utc::now().to_rfc3339(),
            "closes_at": future(30)})).await,
        201,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let invitees = [
        "fatima.partner@relief-ngo.example.org",
        "jean.partenaire@ong-locale.example.org",
        "carlos.socio@agencia.example.org",
    ];
    let v = status(
        app.post_json(&coord, &format!("/api/v1/rounds/{round}/invitations"), json!({"send": true, "invitations": [
            {"email": invitees[0], "organization": "Relief NGO", "org_type": "ingo", "survey": "ccpm-partner"},
            {"email": invitees[1], "organization": "ONG Locale", "org_type": "nngo", "survey": "ccpm-partner", "language": "fr"},
            {"email": invitees[2], "organization": "Agencia", "org_type": "un", "survey": "ccpm-partner", "language": "es"}]})).await,
        201,
    )
    .await;
    let tokens: Vec<String> = v["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["token"].as_str().unwrap().to_string())
        .collect();
    for e in invitees {
        secrets.add(e, "email");
    }
    for t in &tokens {
        secrets.add(t, "invitation token");
    }
    // Reminders too.
    status(
        app.post_json(&coord, &format!("/api/v1/rounds/{round}/remind"), json!({}))
            .await,
        200,
    )
    .await;
    // Wait for the worker to write the messages.
    let outbox = app.config.outbox_dir();
    for _ in 0..100 {
        let n = std::fs::read_dir(&outbox).map(|d| d.count()).unwrap_or(0);
        if n >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        std::fs::read_dir(&outbox).map(|d| d.count()).unwrap_or(0) >= 6,
        "invitations and reminders delivered to {}",
        outbox.display()
    );

    // Responses: over the API, over the form (save a draft, then submit), a bad token.
    let works_well = "Weekly meetings chaired by Mr Haddad are excellent";
    secrets.add(works_well, "response text");
    status(
        app.client.post(app.url("/api/v1/responses"))
            .json(&json!({"token": tokens[0], "id": uuid::Uuid::new_v4().to_string(), "language": "en",
                "answers": {"meeting_attendance": "always", "meetings_useful": "agree", "works_well": works_well}}))
            .send().await.unwrap(),
        201,
    )
    .await;
    let survey_csrf =
        clusterpulse::kernel::secrets::keyed_digest(SECRET, "survey-form", &tokens[1]);
    for action in ["save", "submit"] {
        let r = app
            .new_client()
            .post(app.url(&format!("/s/{}", tokens[1])))
            .form(&[
                ("csrf_token", survey_csrf.as_str()),
                ("action", action),
                ("lang", "fr"),
                ("q_meeting_attendance", "always"),
                ("q_meetings_useful", "agree"),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success() || r.status() == 303, "{action}");
    }
    for path in [
        format!("/s/{}", tokens[2]),
        format!("/s/{}/logic.js", tokens[2]),
        format!("/s/{}/thanks", tokens[1]),
        "/s/NotARealTokenButLooksLikeOne".to_string(),
    ] {
        app.client.get(app.url(&path)).send().await.unwrap();
    }
    secrets.add("NotARealTokenButLooksLikeOne", "invitation token");

    // Public feedback with contact details: API and the form.
    let message = "The food distribution in Al-Mansoura skipped our street";
    let phone = "+967 771 234 567";
    let contact_email = "yasmin.resident@mailbox.example.org";
    secrets.add(message, "feedback message");
    secrets.add(phone, "contact detail");
    secrets.add("771 234 567", "contact detail");
    secrets.add(contact_email, "contact detail");
    let mut references = Vec::new();
    for contact in [phone, contact_email] {
        let v = status(
            app.client
                .post(app.url("/api/v1/feedback"))
                .json(
                    &json!({"operation": "shelter-yemen", "language": "en", "answers": {
                    "category": "complaint", "message": message, "consent_to_contact": "yes",
                    "contact": contact, "sex": "female", "admin1": "Aden"}}),
                )
                .send()
                .await
                .unwrap(),
            201,
        )
        .await;
        references.push(v["reference"].as_str().unwrap().to_string());
    }
    let sensitive_message = "A guard at the site asked for favours in exchange for a kit";
    secrets.add(sensitive_message, "feedback message");
    let v = status(
        app.client
            .post(app.url("/api/v1/feedback"))
            .json(&json!({"operation": "shelter-yemen", "answers": {
                "category": "sensitive", "message": sensitive_message, "consent_to_contact": "no"}}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    references.push(v["reference"].as_str().unwrap().to_string());
    let form_message = "Please add a women-only queue at the water point";
    let form_phone = "+967 733 000 111";
    secrets.add(form_message, "feedback message");
    secrets.add(form_phone, "contact detail");
    let form_csrf = clusterpulse::kernel::secrets::keyed_digest(
        SECRET,
        "feedback-form",
        &format!("shelter-yemen|{}", chrono::Utc::now().format("%Y-%m-%d")),
    );
    let r = app
        .new_client()
        .post(app.url("/f/shelter-yemen"))
        .form(&[
            ("csrf_token", form_csrf.as_str()),
            ("q_category", "suggestion"),
            ("q_message", form_message),
            ("q_consent_to_contact", "yes"),
            ("q_contact", form_phone),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let form_ref = location
        .split("ref=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    references.push(form_ref);

    // Status lookups, the staff view, workflow events with notes.
    for r in &references {
        app.client
            .get(app.url(&format!("/api/v1/feedback/status/{r}")))
            .send()
            .await
            .unwrap();
        app.client
            .get(app.url(&format!("/f/status?ref={r}")))
            .send()
            .await
            .unwrap();
        app.get_json(&coord, &format!("/api/v1/feedback/{r}")).await;
    }
    app.client
        .get(app.url("/api/v1/feedback/status/FB-ZZZZ-ZZZ9"))
        .send()
        .await
        .unwrap();
    let referee = "Dr. Samir Al-Hakim at the district health office";
    let answer = "We called Mrs Yasmin back and arranged a delivery on Tuesday";
    secrets.add(referee, "referral");
    secrets.add(answer, "response note");
    let item = &references[0];
    for body in [
        json!({"action": "acknowledge", "note": "seen"}),
        json!({"action": "refer", "referred_to": referee}),
        json!({"action": "respond", "note": answer}),
        json!({"action": "close", "satisfied": true}),
        json!({"action": "acknowledge"}),
    ] {
        app.post_json(&coord, &format!("/api/v1/feedback/{item}/events"), body)
            .await;
    }
    // The PSEA focal point handles the sensitive item through the pages.
    let page_csrf = {
        let html = session
            .get(app.url(&format!("/feedback/{}", references[2])))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        field(&html, "csrf_token")
    };
    let psea_note = "Survivor referred to the GBV case worker Layla";
    secrets.add(psea_note, "response note");
    let r = session
        .post(app.url(&format!("/feedback/{}/events", references[2])))
        .form(&[
            ("csrf_token", page_csrf.as_str()),
            ("action", "respond"),
            ("note", psea_note),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Errors that echo input back to the client.
    app.client
        .post(app.url("/api/v1/feedback"))
        .json(
            &json!({"operation": "shelter-yemen", "answers": {"category": "complaint",
            "message": message, "consent_to_contact": "no", "contact": phone}}),
        )
        .send()
        .await
        .unwrap();
    app.client
        .post(app.url("/api/v1/responses"))
        .json(
            &json!({"token": tokens[2], "id": "not-a-uuid", "answers": {"works_well": works_well}}),
        )
        .send()
        .await
        .unwrap();
    app.post_json(
        &coord,
        "/api/v1/clusters",
        json!({"code": "x", "name": "X", "lead_emails": ["not an email: leaky@example.org"]}),
    )
    .await;
    secrets.add("leaky@example.org", "email");
    for r in &references {
        secrets.add(r, "feedback reference");
        // Also as typed loosely.
        secrets.add(r.replace('-', ""), "feedback reference");
    }

    // Give the request logger and the mail worker a moment to flush.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = logs();
    assert!(
        text.contains("clusterpulse::http"),
        "request log captured:\n{text}"
    );
    assert!(text.contains("POST /api/v1/feedback/{reference}/events 200"));
    assert!(
        text.contains("request_id="),
        "request ids in the request log"
    );
    let mut leaks = Vec::new();
    for (value, what) in &secrets.0 {
        for line in text.lines().filter(|l| l.contains(value.as_str())) {
            leaks.push(format!("{what} {value:?} in: {line}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "personal data in the logs ({} lines captured):\n{}",
        text.lines().count(),
        leaks.join("\n")
    );
    eprintln!(
        "log privacy on {:?}: {} log lines searched for {} values",
        app.backend,
        text.lines().count(),
        secrets.0.len()
    );
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in page"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

// One test per backend would share the global subscriber; run both in one test, one after
// the other, so each search covers its own scenario too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_in_logs() {
    capture();
    let app = TestApp::spawn_with(Backend::Sqlite, |env| {
        env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "0".into());
    })
    .await
    .unwrap();
    scenario(app).await;
    capture().0.lock().unwrap().clear();
    match TestApp::spawn_with(Backend::Postgres, |env| {
        env.insert("CLUSTERPULSE_RATE_LIMIT_PUBLIC".into(), "0".into());
    })
    .await
    {
        Some(app) => scenario(app).await,
        None => eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested"),
    }
}
