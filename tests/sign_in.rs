//! Sign-in throttling as an attacker meets it: guessing from one address does not lock the
//! owner out, unknown and existing emails are answered alike, and a guesser spread over
//! many addresses is stopped while the owner's own browser still gets in. Clients bind to
//! distinct loopback addresses (127.0.0.x) so the server sees distinct peers.

mod common;
use common::{Backend, TestApp, PASSWORD};
use serde_json::{json, Value};
use std::net::IpAddr;

fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last_octet]))
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn sign_in(app: &TestApp, c: &reqwest::Client, email: &str, password: &str) -> (u16, String) {
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body["message"].as_str().unwrap_or("").to_string())
}

async fn a_guesser_elsewhere_leaves_the_owner_in(app: TestApp) {
    app.admin_token();
    let attacker = client_from(2);
    for _ in 0..5 {
        let (s, _) = sign_in(&app, &attacker, "admin@test.example", "wrong wrong wrong").await;
        assert_eq!(s, 401);
    }
    let (s, m) = sign_in(&app, &attacker, "admin@test.example", PASSWORD).await;
    assert_eq!(s, 429, "the guessing address waits: {m}");
    // The owner, from their own address, signs in at once.
    let owner = client_from(1);
    let (s, m) = sign_in(&app, &owner, "admin@test.example", PASSWORD).await;
    assert_eq!(s, 200, "{m}");
}
both_backends!(guesser_elsewhere, a_guesser_elsewhere_leaves_the_owner_in);

async fn unknown_and_existing_emails_answer_alike(backend: Backend) {
    // The per-address request limit is off, so only the throttle answers.
    let Some(app) = TestApp::spawn_with(backend, |env| {
        env.insert("CLUSTERPULSE_RATE_LIMIT_LOGIN".into(), "0".into());
    })
    .await
    else {
        eprintln!("skipped: no TEST_DATABASE_URL");
        return;
    };
    app.admin_token();
    let c = client_from(3);
    let mut real = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..7 {
        real.push(sign_in(&app, &c, "admin@test.example", "wrong wrong wrong").await);
        unknown.push(sign_in(&app, &c, "nobody@test.example", "wrong wrong wrong").await);
    }
    assert_eq!(real, unknown, "the answers tell which account exists");
    assert_eq!(real[0].0, 401);
    assert_eq!(real[6].0, 429);
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alike_sqlite() {
    unknown_and_existing_emails_answer_alike(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alike_postgres() {
    unknown_and_existing_emails_answer_alike(Backend::Postgres).await;
}

async fn many_addresses_stop_strangers_not_the_owner(app: TestApp) {
    app.admin_token();
    // The owner signed in from this browser before: it keeps the device mark.
    let owner = client_from(1);
    assert_eq!(
        sign_in(&app, &owner, "admin@test.example", PASSWORD)
            .await
            .0,
        200
    );
    // Four wrong guesses from each of five addresses: no single address is locked.
    for a in 10..15 {
        let c = client_from(a);
        for _ in 0..4 {
            assert_eq!(
                sign_in(&app, &c, "admin@test.example", "wrong wrong wrong")
                    .await
                    .0,
                401
            );
        }
    }
    // A new address now waits, even with the right password...
    let (s, m) = sign_in(&app, &client_from(20), "admin@test.example", PASSWORD).await;
    assert_eq!(s, 429, "{m}");
    assert!(m.contains("signed in to it before"), "{m}");
    // ...while the owner's browser gets in.
    let (s, m) = sign_in(&app, &owner, "admin@test.example", PASSWORD).await;
    assert_eq!(s, 200, "{m}");
}
both_backends!(many_addresses, many_addresses_stop_strangers_not_the_owner);

fn session_cookie_of(r: &reqwest::Response) -> String {
    r.cookies()
        .find(|c| c.name() == "cp_session")
        .map(|c| format!("cp_session={}", c.value()))
        .expect("session cookie")
}

async fn who_am_i(app: &TestApp, cookie: &str) -> u16 {
    reqwest::Client::new()
        .get(app.url("/api/v1/session"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn sign_in_cookie(app: &TestApp) -> (String, String) {
    let r = app
        .new_client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "admin@test.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = session_cookie_of(&r);
    let body: Value = r.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_string())
}

async fn signing_out_ends_the_session_on_the_server(app: TestApp) {
    app.admin_token();
    let (cookie, _) = sign_in_cookie(&app).await;
    assert_eq!(who_am_i(&app, &cookie).await, 200);
    // A copy of the cookie, taken before signing out...
    let copied = cookie.clone();
    let r = reqwest::Client::new()
        .delete(app.url("/api/v1/session"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // ...is refused afterwards.
    assert_eq!(who_am_i(&app, &copied).await, 401);
    // The cookie holds a random token; the database holds only its hash.
    let token = copied.trim_start_matches("cp_session=").to_string();
    let mut conn = app.pool.get().unwrap();
    use clusterpulse::db::schema::sessions;
    use diesel::prelude::*;
    let hashes: Vec<String> = sessions::table
        .select(sessions::token_hash)
        .load(&mut conn)
        .unwrap();
    assert!(!hashes.is_empty() && !hashes.contains(&token));
}
both_backends!(sign_out, signing_out_ends_the_session_on_the_server);

async fn sign_out_everywhere_and_idle_sessions(app: TestApp) {
    app.admin_token();
    let (phone, _) = sign_in_cookie(&app).await;
    let (laptop, csrf) = sign_in_cookie(&app).await;
    // Without the CSRF header a cookie cannot sign everyone out.
    let r = reqwest::Client::new()
        .delete(app.url("/api/v1/sessions"))
        .header("Cookie", &laptop)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = reqwest::Client::new()
        .delete(app.url("/api/v1/sessions"))
        .header("Cookie", &laptop)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["ended"], 2);
    assert_eq!(who_am_i(&app, &phone).await, 401);
    assert_eq!(who_am_i(&app, &laptop).await, 401);

    // A session unused for longer than the idle limit (120 minutes by default) is over.
    let (desk, _) = sign_in_cookie(&app).await;
    assert_eq!(who_am_i(&app, &desk).await, 200);
    {
        use clusterpulse::db::schema::sessions;
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(121);
        diesel::update(sessions::table.filter(sessions::revoked_at.is_null()))
            .set(sessions::last_seen_at.eq(long_ago))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(who_am_i(&app, &desk).await, 401);
}
both_backends!(everywhere, sign_out_everywhere_and_idle_sessions);

async fn api_tokens_made_listed_and_revoked(app: TestApp) {
    let admin = app.admin_token();
    let r = app
        .post_json(
            &admin,
            "/api/v1/tokens",
            json!({"label": "power bi", "expires_in_days": 0}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]["expires_in_days"].is_string());
    let r = app
        .post_json(
            &admin,
            "/api/v1/tokens",
            json!({"label": "power bi", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(made["expires_at"].is_string() && made["active"] == true);
    // Listed without the secret.
    let list = app
        .get_json(&admin, "/api/v1/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("power bi") && !list.contains(&secret),
        "{list}"
    );
    assert_eq!(app.get_json(&secret, "/api/v1/session").await.status(), 200);
    // Used: last_used_at is shown.
    let listed: Value = app
        .get_json(&admin, "/api/v1/tokens")
        .await
        .json()
        .await
        .unwrap();
    let mine = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == made["id"])
        .unwrap()
        .clone();
    assert!(mine["last_used_at"].is_string(), "{mine}");
    // Revoked: refused at once.
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{}", made["id"])))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], false);
    assert_eq!(app.get_json(&secret, "/api/v1/session").await.status(), 401);
    // Expired: refused too.
    let r = app
        .post_json(
            &admin,
            "/api/v1/tokens",
            json!({"label": "short", "expires_in_days": 1}),
        )
        .await;
    let short: Value = r.json().await.unwrap();
    let short_secret = short["secret"].as_str().unwrap().to_string();
    assert_eq!(
        app.get_json(&short_secret, "/api/v1/session")
            .await
            .status(),
        200
    );
    {
        use clusterpulse::db::schema::api_tokens;
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        diesel::update(api_tokens::table.find(short["id"].as_i64().unwrap() as i32))
            .set(api_tokens::expires_at.eq(Some(past)))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(
        app.get_json(&short_secret, "/api/v1/session")
            .await
            .status(),
        401
    );
}
both_backends!(tokens, api_tokens_made_listed_and_revoked);

async fn changing_the_password_ends_other_sessions(app: TestApp) {
    app.admin_token();
    let (elsewhere, _) = sign_in_cookie(&app).await;
    let (here, csrf) = sign_in_cookie(&app).await;
    let change = |current: &'static str, new: &'static str| {
        reqwest::Client::new()
            .post(app.url("/api/v1/session/password"))
            .header("Cookie", &here)
            .header("X-CSRF-Token", &csrf)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    let r = change("not it at all", "a brand new passphrase")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]["current_password"].is_string());
    let r = change(PASSWORD, "short").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]["new_password"].is_string());
    // Nothing changed so far.
    assert_eq!(who_am_i(&app, &elsewhere).await, 200);
    let r = change(PASSWORD, "a brand new passphrase").await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(who_am_i(&app, &here).await, 200, "this session stays");
    assert_eq!(who_am_i(&app, &elsewhere).await, 401, "the others end");
    let c = client_from(5);
    assert_eq!(
        sign_in(&app, &c, "admin@test.example", PASSWORD).await.0,
        401
    );
    assert_eq!(
        sign_in(&app, &c, "admin@test.example", "a brand new passphrase")
            .await
            .0,
        200
    );
}
both_backends!(password, changing_the_password_ends_other_sessions);
