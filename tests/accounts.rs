//! Accounts without a shell, over real HTTP and real SMTP, on SQLite and PostgreSQL:
//! invitations and "forgot password" (one-time links), weak passwords, admins changing and
//! disabling accounts, the audit log page, and one's own account page.

mod common;
use common::smtp::{text_of, SmtpServer};
use common::{Backend, TestApp, PASSWORD};
use serde_json::{json, Value};

const PUBLIC_URL: &str = "https://pulse.example.org";

struct World {
    app: TestApp,
    smtp: SmtpServer,
    admin: String,
}

async fn world(backend: Backend) -> Option<World> {
    let smtp = SmtpServer::start()?;
    let url = smtp.url().to_string();
    let app = TestApp::spawn_with(backend, |env| {
        env.insert("SMTP_URL".into(), url);
        env.insert("CLUSTERPULSE_PUBLIC_URL".into(), PUBLIC_URL.into());
        env.insert("CLUSTERPULSE_MAIL_POLL_SECS".into(), "1".into());
        // The public URL is https, but the test talks plain http on loopback.
        env.insert("CLUSTERPULSE_SECURE_COOKIES".into(), "0".into());
    })
    .await?;
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    Some(World { app, smtp, admin })
}

macro_rules! accounts_test {
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
                    None => eprintln!("skipped: TEST_DATABASE_URL or SMTP not available"),
                }
            }
        }
    };
}

fn uniq() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// The one-time link in a delivered message, as a path on this server.
fn link_path(raw: &[u8]) -> String {
    let text = text_of(raw);
    let start = text.find(PUBLIC_URL).expect("the link uses the public URL");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.strip_prefix(PUBLIC_URL).unwrap().to_string()
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.new_client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf_token\" value=\"")
        .expect("a CSRF field")
        + "name=\"csrf_token\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

async fn set_password(app: &TestApp, path: &str, password: &str, confirm: &str) -> (u16, String) {
    let c = app.new_client();
    let page = c.get(app.url(path)).send().await.unwrap();
    let status = page.status().as_u16();
    let page = page.text().await.unwrap();
    if status != 200 {
        return (status, page);
    }
    let r = c
        .post(app.url(path))
        .form(&[
            ("csrf_token", csrf_of(&page).as_str()),
            ("password", password),
            ("confirm", confirm),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn invite(w: &World, email: &str, body: Value) -> reqwest::Response {
    let mut body = body;
    body["email"] = json!(email);
    w.app
        .post_json(&w.admin, "/api/v1/users/invitations", body)
        .await
}

async fn invitation_sets_a_password_once(w: World) {
    let app = &w.app;
    let email = format!("coord-{}@partner.example.org", uniq());
    let r = invite(
        &w,
        &email,
        json!({"role": "coordinator", "operations": ["shelter-yemen"]}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user"]["status"], "invited");
    assert_eq!(v["user"]["operations"], json!(["shelter-yemen"]));
    assert!(
        v.to_string().find("/password/").is_none(),
        "the link is in the email only"
    );
    // No password yet: nothing signs in.
    assert_eq!(sign_in(app, &email, "").await.status(), 401);

    let mail = w.smtp.wait_for(&email, 1).await;
    let path = link_path(&mail[0]);
    let token = path.strip_prefix("/password/").unwrap().to_string();
    {
        // Only the token's hash is stored.
        use clusterpulse::db::schema::account_links;
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        let hashes: Vec<String> = account_links::table
            .select(account_links::token_hash)
            .load(&mut conn)
            .unwrap();
        assert!(!hashes.contains(&token));
        assert!(hashes.contains(&clusterpulse::kernel::secrets::hash_token(&token)));
    }
    // A weak password or two different ones: refused, and the link still works.
    let (s, page) = set_password(app, &path, "1234567890", "1234567890").await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("common"), "{page}");
    let (s, _) = set_password(app, &path, "a long new password", "another long one").await;
    assert_eq!(s, 400);
    let (s, page) = set_password(app, &path, "my own long password", "my own long password").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        sign_in(app, &email, "my own long password").await.status(),
        200
    );

    // Used once: a clear page, and nothing changes.
    let r = app.new_client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("already been used"));
    let csrf = clusterpulse::kernel::secrets::keyed_digest(common::SECRET, "password-link", &token);
    let r = app
        .new_client()
        .post(app.url(&path))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("password", "a takeover password"),
            ("confirm", "a takeover password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(
        sign_in(app, &email, "a takeover password").await.status(),
        401
    );
    assert_eq!(
        sign_in(app, &email, "my own long password").await.status(),
        200
    );

    // An account in use cannot be invited again.
    let r = invite(&w, &email, json!({"role": "admin"})).await;
    assert_eq!(r.status(), 409);
    // Bad input names the field.
    let r = invite(&w, "x@partner.example.org", json!({"role": "global_lead"})).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["fields"]["cluster"].is_string(), "{v}");
    let r = invite(&w, "not an email", json!({"role": "admin"})).await;
    let v: Value = r.json().await.unwrap();
    assert!(v["fields"]["email"].is_string(), "{v}");
}
accounts_test!(
    invitation_sets_a_password_once,
    invitation_sets_a_password_once
);

async fn expired_links_are_refused(w: World) {
    let app = &w.app;
    let email = format!("late-{}@partner.example.org", uniq());
    assert_eq!(
        invite(&w, &email, json!({"role": "admin"})).await.status(),
        201
    );
    let path = link_path(&w.smtp.wait_for(&email, 1).await[0]);
    {
        use clusterpulse::db::schema::account_links;
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        let past = clusterpulse::kernel::time::now() - chrono::Duration::hours(1);
        diesel::update(account_links::table)
            .set(account_links::expires_at.eq(past))
            .execute(&mut conn)
            .unwrap();
    }
    let (s, page) = set_password(app, &path, "my own long password", "my own long password").await;
    assert_eq!(s, 410);
    assert!(page.contains("expired"), "{page}");
    assert_eq!(
        sign_in(app, &email, "my own long password").await.status(),
        401
    );
}
accounts_test!(expired_links_are_refused, expired_links_are_refused);

async fn forgot_password_says_nothing_about_accounts(w: World) {
    let app = &w.app;
    let known = format!("known-{}@partner.example.org", uniq());
    let unknown = format!("unknown-{}@partner.example.org", uniq());
    app.user_token(&known, "coordinator", None, &["shelter-yemen"]);
    let before = app.login(&known).await;

    let mut answers = Vec::new();
    for email in [&known, &unknown] {
        let r = app
            .new_client()
            .post(app.url("/api/v1/password-resets"))
            .json(&json!({"email": email}))
            .send()
            .await
            .unwrap();
        answers.push((r.status().as_u16(), r.text().await.unwrap()));
        // The page: same status, same page.
        let c = app.new_client();
        let page = c
            .get(app.url("/login/forgot"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = c
            .post(app.url("/login/forgot"))
            .form(&[
                ("csrf_token", csrf_of(&page).as_str()),
                ("email", email.as_str()),
            ])
            .send()
            .await
            .unwrap();
        answers.push((r.status().as_u16(), r.text().await.unwrap()));
    }
    assert_eq!(answers[0], answers[2], "the API answers alike");
    assert_eq!(answers[1], answers[3], "the page answers alike");
    assert_eq!(answers[0].0, 202);
    assert_eq!(answers[1].0, 200);

    // Only the real account gets mail (two requests, two links; the newer replaces the older).
    let mails = w.smtp.wait_for(&known, 2).await;
    assert!(w.smtp.messages_to(&unknown).is_empty());
    // The two requests run in the background: the newer link is the one still unused.
    let (a, b) = (link_path(&mails[0]), link_path(&mails[1]));
    let unused = {
        use clusterpulse::db::schema::account_links;
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        let token = a.strip_prefix("/password/").unwrap();
        account_links::table
            .filter(account_links::token_hash.eq(clusterpulse::kernel::secrets::hash_token(token)))
            .select(account_links::used_at)
            .first::<Option<chrono::NaiveDateTime>>(&mut conn)
            .unwrap()
            .is_none()
    };
    let (old, new) = if unused { (b, a) } else { (a, b) };
    let (s, _) = set_password(app, &old, "reset long password", "reset long password").await;
    assert_eq!(s, 410, "a replaced link does not work");
    let (s, page) = set_password(app, &new, "reset long password", "reset long password").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(sign_in(app, &known, PASSWORD).await.status(), 401);
    assert_eq!(
        sign_in(app, &known, "reset long password").await.status(),
        200
    );
    // The reset ended the sessions signed in before it.
    let r = before.get(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Bad input says only that.
    let r = app
        .new_client()
        .post(app.url("/api/v1/password-resets"))
        .json(&json!({"email": "nonsense"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
accounts_test!(
    forgot_password_says_nothing_about_accounts,
    forgot_password_says_nothing_about_accounts
);

async fn user_id(w: &World, email: &str) -> i64 {
    let v: Value = w
        .app
        .get_json(&w.admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn patch(w: &World, id: i64, body: Value) -> reqwest::Response {
    w.app
        .client
        .patch(w.app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&w.admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn disabling_ends_sessions_and_tokens_at_once(w: World) {
    let app = &w.app;
    let email = format!("leaver-{}@partner.example.org", uniq());
    let token = app.user_token(&email, "coordinator", None, &["shelter-yemen"]);
    let browser = app.login(&email).await;
    assert_eq!(app.get_json(&token, "/api/v1/session").await.status(), 200);
    assert_eq!(
        browser
            .get(app.url("/api/v1/session"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let id = user_id(&w, &email).await;

    // Scope changes take effect on the next request.
    assert_eq!(
        app.get_json(&token, "/api/v1/operations/shelter-sudan")
            .await
            .status(),
        403
    );
    let r = patch(&w, id, json!({"operations": ["shelter-sudan"]})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_json(&token, "/api/v1/operations/shelter-sudan")
            .await
            .status(),
        200
    );
    let r = patch(&w, id, json!({"role": "boss"})).await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]["role"].is_string());

    let r = patch(&w, id, json!({"disabled": true})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "disabled");
    assert_eq!(app.get_json(&token, "/api/v1/session").await.status(), 401);
    assert_eq!(
        browser
            .get(app.url("/api/v1/session"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(sign_in(app, &email, PASSWORD).await.status(), 401);
    // Enabled again: the old token and session stay ended; signing in works.
    assert_eq!(
        patch(&w, id, json!({"disabled": false})).await.status(),
        200
    );
    assert_eq!(app.get_json(&token, "/api/v1/session").await.status(), 401);
    assert_eq!(
        browser
            .get(app.url("/api/v1/session"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(sign_in(app, &email, PASSWORD).await.status(), 200);

    // The audit page shows it, filtered by action.
    let admin_browser = app.login("admin@test.example").await;
    let page = admin_browser
        .get(app.url("/admin/audit?action=user.disable"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("user:{id}")), "{page}");
    assert!(page.contains("tokens_revoked"));
    assert!(!page.contains("<td class=\"action\">user.enable</td>"));
    let r = admin_browser
        .get(app.url("/admin/audit?from=2026-13-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("<html"));
}
accounts_test!(
    disabling_ends_sessions_and_tokens_at_once,
    disabling_ends_sessions_and_tokens_at_once
);

async fn the_last_admin_stays(w: World) {
    let app = &w.app;
    let me = user_id(&w, "admin@test.example").await;
    let r = patch(&w, me, json!({"disabled": true})).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("last active admin"));
    let r = patch(
        &w,
        me,
        json!({"role": "coordinator", "operations": ["shelter-yemen"]}),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        app.get_json(&w.admin, "/api/v1/users").await.status(),
        200,
        "still an admin"
    );
    // With a second admin, the first may step down.
    app.user_token("second-admin@test.example", "admin", None, &[]);
    let r = patch(&w, me, json!({"role": "global_lead", "cluster": "shelter"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get_json(&w.admin, "/api/v1/users").await.status(), 403);
}
accounts_test!(the_last_admin_stays, the_last_admin_stays);

async fn own_account_page(w: World) {
    let app = &w.app;
    let email = format!("self-{}@partner.example.org", uniq());
    app.user_token(&email, "coordinator", None, &["shelter-yemen"]);
    let c = app.login(&email).await;
    let page = c
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let r = c
        .post(app.url("/account/tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("label", "power bi"),
            ("expires_in_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let at = page.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let secret = page[at..].split('<').next().unwrap().to_string();
    assert_eq!(app.get_json(&secret, "/api/v1/session").await.status(), 200);
    let page = c
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&secret), "the secret is shown once");
    let id = page
        .split("id=\"token-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url(&format!("/account/tokens/{id}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.get_json(&secret, "/api/v1/session").await.status(), 401);
    // Changing the password: a common one is refused, then a good one works.
    for (new, status) in [("1234567890", 400), ("a fresh long password", 200)] {
        let r = c
            .post(app.url("/account/password"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm", new),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status);
    }
    assert_eq!(
        sign_in(app, &email, "a fresh long password").await.status(),
        200
    );
}
accounts_test!(own_account_page, own_account_page);
