//! Two-factor sign-in over real HTTP on SQLite and PostgreSQL, with codes made by an
//! outside implementation (Python's pyotp): set-up and confirmation, the second sign-in
//! step, wrong and replayed codes, recovery codes working once, the per-role requirement,
//! turning it off, and wrong codes counting against the sign-in throttle.

mod common;
use common::{Backend, TestApp, PASSWORD};
use serde_json::{json, Value};
use std::path::PathBuf;

fn python() -> PathBuf {
    let path = std::env::var("EXPORT_TOOLS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/export-tools-venv/bin/python"
            ))
        });
    assert!(
        path.exists(),
        "{} not found: run scripts/test.sh, which installs pyotp into target/export-tools-venv \
         (or point EXPORT_TOOLS_PYTHON at a Python that has it)",
        path.display()
    );
    path
}

/// pyotp's code for `secret`, `offset` seconds from now.
fn code(secret: &str, offset: i64) -> String {
    let out = std::process::Command::new(python())
        .args([
            "-c",
            "import sys, time, pyotp; print(pyotp.TOTP(sys.argv[1]).at(int(time.time()) + int(sys.argv[2])))",
            secret,
            &offset.to_string(),
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A code that is certainly wrong now (none of the three accepted steps).
fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-1..=1).map(|s| code(secret, s * 30)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

async fn password_step(app: &TestApp, c: &reqwest::Client, email: &str) -> Value {
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn code_step(app: &TestApp, c: &reqwest::Client, code: &str) -> reqwest::Response {
    c.post(app.url("/api/v1/session/totp"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
}

/// Sets up and confirms an authenticator for the bearer of `token`: (secret, recovery codes).
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let r = app
        .post_json(token, "/api/v1/account/totp", json!({}))
        .await;
    assert_eq!(r.status(), 201);
    let e: Value = r.json().await.unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "20 bytes in base32");
    let r = app
        .post_json(
            token,
            "/api/v1/account/totp/confirm",
            json!({"code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let codes: Vec<String> = v["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

fn audit_actions(app: &TestApp) -> Vec<String> {
    use clusterpulse::db::schema::audit_log;
    use diesel::prelude::*;
    let mut conn = app.pool.get().unwrap();
    audit_log::table
        .filter(audit_log::action.like("totp.%"))
        .order(audit_log::id)
        .select(audit_log::action)
        .load(&mut conn)
        .unwrap()
}

async fn sign_in_with_codes(app: TestApp) {
    // Not required for any role here (TestApp's setting): an admin who chooses it.
    let email = "admin@test.example";
    let token = app.admin_token();

    // A set-up answers the secret and its URI; a wrong first code does not turn it on.
    let r = app
        .post_json(&token, "/api/v1/account/totp", json!({}))
        .await;
    assert_eq!(r.status(), 201);
    let e: Value = r.json().await.unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    assert_eq!(
        e["uri"],
        format!("otpauth://totp/clusterpulse:{email}?secret={secret}&issuer=clusterpulse")
    );
    let r = app
        .post_json(
            &token,
            "/api/v1/account/totp/confirm",
            json!({"code": wrong_code(&secret)}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["fields"]["code"].is_string(), "{v}");
    let c = app.new_client();
    assert!(
        password_step(&app, &c, email).await["email"] == email,
        "not on yet"
    );

    // Starting again gives a new secret; confirmed with pyotp's code.
    let (secret, recovery) = enrol(&app, &token).await;
    assert_eq!(audit_actions(&app), ["totp.enable"]);

    // The password alone gives no session.
    let c = app.new_client();
    assert_eq!(
        password_step(&app, &c, email).await,
        json!({"totp_required": true})
    );
    let r = c.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // A wrong code is refused, the next step's code (the confirmation used this one) works.
    assert_eq!(
        code_step(&app, &c, &wrong_code(&secret)).await.status(),
        400
    );
    let next = code(&secret, 30);
    let r = code_step(&app, &c, &next).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["email"], email);
    assert!(v["csrf_token"].is_string());
    let r = c.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // The same code again, from another browser: refused (replay); so is an older one.
    let c2 = app.new_client();
    password_step(&app, &c2, email).await;
    assert_eq!(code_step(&app, &c2, &next).await.status(), 400);
    assert_eq!(code_step(&app, &c2, &code(&secret, 0)).await.status(), 400);

    // A recovery code works once (in any case, with or without its dash).
    let r = code_step(&app, &c2, &recovery[0].to_uppercase()).await;
    assert_eq!(r.status(), 200);
    let c3 = app.new_client();
    password_step(&app, &c3, email).await;
    assert_eq!(code_step(&app, &c3, &recovery[0]).await.status(), 400);
    assert_eq!(
        audit_actions(&app),
        ["totp.enable", "totp.recovery_code_used"]
    );

    // No pending sign-in: the code step says so.
    let c4 = app.new_client();
    assert_eq!(code_step(&app, &c4, &recovery[1]).await.status(), 401);

    // Turning it off takes a code; then the password alone signs in again.
    let r = app
        .client
        .delete(app.url("/api/v1/account/totp"))
        .bearer_auth(&token)
        .json(&json!({"code": wrong_code(&secret)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .delete(app.url("/api/v1/account/totp"))
        .bearer_auth(&token)
        .json(&json!({"code": recovery[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        audit_actions(&app),
        [
            "totp.enable",
            "totp.recovery_code_used",
            "totp.recovery_code_used",
            "totp.disable"
        ]
    );
    let c5 = app.new_client();
    assert_eq!(password_step(&app, &c5, email).await["email"], email);
}

async fn required_for_role(app: TestApp) {
    let email = "admin@test.example";
    let token = app.admin_token();
    // Bearer tokens stay usable (made by someone already signed in).
    assert_eq!(app.get_json(&token, "/api/v1/users").await.status(), 200);

    let c = app.new_client();
    let v = password_step(&app, &c, email).await;
    let csrf = v["csrf_token"].as_str().unwrap().to_string();
    let r = c.get(app.url("/api/v1/clusters")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("requires sign-in with an authenticator app"),
        "{body}"
    );
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account#totp");
    let r = c.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Your role requires sign-in"));

    // Enrolment through the same cookie session lifts the block.
    let r = c
        .post(app.url("/api/v1/account/totp"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let secret = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url("/api/v1/account/totp/confirm"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"code": code(&secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let recovery: Value = r.json().await.unwrap();
    let r = c.get(app.url("/api/v1/clusters")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The role requires it: it cannot be turned off.
    let r = c
        .delete(app.url("/api/v1/account/totp"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"code": recovery["recovery_codes"][0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Wrong codes count like wrong passwords: after five, this address waits.
    let g = app.new_client();
    password_step(&app, &g, email).await;
    let wrong = wrong_code(&secret);
    for _ in 0..5 {
        assert_eq!(code_step(&app, &g, &wrong).await.status(), 400);
    }
    let r = code_step(&app, &g, &code(&secret, 30)).await;
    assert_eq!(r.status(), 429);
}

async fn required_app(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |env| {
        env.insert(
            "CLUSTERPULSE_TOTP_REQUIRED_ROLES".into(),
            "admin,psea_focal_point".into(),
        );
    })
    .await
}

macro_rules! both {
    ($name:ident, $spawn:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $spawn(Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $spawn(Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

both!(sign_in_with_codes, TestApp::spawn);
both!(required_for_role, required_app);
