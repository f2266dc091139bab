//! The foundation end to end: health, sign-in, tokens, the directory API with role checks,
//! bad input, and two instances on one database.

mod common;
use common::{Backend, TestApp, PASSWORD};
use serde_json::{json, Value};

async fn health_is_ok(app: TestApp) {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(r.json::<Value>().await.unwrap()["database"], "ok");
}
both_backends!(health, health_is_ok);

async fn directory_crud_and_errors(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;

    // Shapes of the appendix.
    let r = app
        .post_json(
            &admin,
            "/api/v1/organizations",
            json!({"name": "Relief Org", "org_type": "ingo"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let org: Value = r.json().await.unwrap();
    assert!(org["id"].as_i64().unwrap() > 0);
    assert_eq!(org["org_type"], "ingo");

    let ops: Value = app
        .get_json(&admin, "/api/v1/operations")
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = ops["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["health-yemen", "shelter-sudan", "shelter-yemen"]);
    let one: Value = app
        .get_json(&admin, "/api/v1/operations/shelter-yemen")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["cluster"], "shelter");
    assert_eq!(one["country"], "YE");
    let c: Value = app
        .get_json(&admin, "/api/v1/clusters/shelter")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["lead_emails"], json!(["lead@shelter.example.org"]));
    assert_eq!(c["operations"].as_array().unwrap().len(), 2);

    // Duplicates are 409 with a message naming the value.
    let r = app
        .post_json(
            &admin,
            "/api/v1/clusters",
            json!({"code": "shelter", "name": "Again"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("shelter"));
    let r = app
        .post_json(
            &admin,
            "/api/v1/operations",
            json!({"slug": "shelter-yemen", "cluster": "shelter", "country": "YE", "name": "x"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = app
        .post_json(
            &admin,
            "/api/v1/organizations",
            json!({"name": "  relief   ORG ", "org_type": "un"}),
        )
        .await;
    assert_eq!(r.status(), 409);

    // Bad fields are 400 naming the field.
    let cases = [
        (
            "/api/v1/clusters",
            json!({"code": "Bad Code", "name": "x"}),
            "code",
        ),
        (
            "/api/v1/clusters",
            json!({"code": "ok-code", "name": ""}),
            "name",
        ),
        (
            "/api/v1/clusters",
            json!({"code": "ok-code", "name": "x", "lead_emails": ["nope"]}),
            "lead_emails",
        ),
        (
            "/api/v1/clusters",
            json!({"code": "ok-code", "name": "x", "language": "de"}),
            "language",
        ),
        ("/api/v1/clusters", json!({"name": "x"}), "code"),
        (
            "/api/v1/clusters",
            json!({"code": "ok-code", "name": "x", "colour": "red"}),
            "colour",
        ),
        (
            "/api/v1/operations",
            json!({"slug": "op-x", "cluster": "nope", "country": "YE", "name": "x"}),
            "cluster",
        ),
        (
            "/api/v1/operations",
            json!({"slug": "op-x", "cluster": "shelter", "country": "Yemen", "name": "x"}),
            "country",
        ),
        (
            "/api/v1/operations",
            json!({"slug": "status", "cluster": "shelter", "country": "YE", "name": "x"}),
            "slug",
        ),
        (
            "/api/v1/organizations",
            json!({"name": "New Org", "org_type": "company"}),
            "org_type",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.post_json(&admin, path, body.clone()).await;
        assert_eq!(r.status(), 400, "{path} {body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "bad_request");
        assert!(e["fields"].get(field).is_some(), "{path} {body} → {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }

    // Malformed JSON, wrong content type, oversized body.
    let r = app
        .client
        .post(app.url("/api/v1/clusters"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"code\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "bad_request");
    let r = app
        .client
        .post(app.url("/api/v1/clusters"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body("code=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let huge = json!({"code": "big", "name": "x".repeat(2 * 1024 * 1024)});
    let r = app.post_json(&admin, "/api/v1/clusters", huge).await;
    assert_eq!(r.status(), 413);

    // Unknown records and routes are 404 with the JSON error shape.
    let r = app.get_json(&admin, "/api/v1/operations/nowhere").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "not_found");
    let r = app.get_json(&admin, "/api/v1/no-such-thing").await;
    assert_eq!(r.status(), 404);

    // Nothing was half-written by the failures.
    let all: Value = app
        .get_json(&admin, "/api/v1/clusters")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["clusters"].as_array().unwrap().len(), 2);
}
both_backends!(directory, directory_crud_and_errors);

async fn roles_limit_what_each_user_sees(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let lead = app.user_token(
        "lead@shelter.example.org",
        "global_lead",
        Some("shelter"),
        &[],
    );
    let coord = app.user_token(
        "coord@health.example.org",
        "coordinator",
        None,
        &["health-yemen"],
    );
    let psea = app.user_token(
        "psea@shelter.example.org",
        "psea_focal_point",
        None,
        &["shelter-sudan"],
    );

    let slugs = |v: Value| -> Vec<String> {
        v["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["slug"].as_str().unwrap().to_string())
            .collect()
    };
    let lead_ops = slugs(
        app.get_json(&lead, "/api/v1/operations")
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(lead_ops, ["shelter-sudan", "shelter-yemen"]);
    let coord_ops = slugs(
        app.get_json(&coord, "/api/v1/operations")
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(coord_ops, ["health-yemen"]);
    let psea_ops = slugs(
        app.get_json(&psea, "/api/v1/operations")
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(psea_ops, ["shelter-sudan"]);

    let clusters: Value = app
        .get_json(&coord, "/api/v1/clusters")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clusters["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(clusters["clusters"][0]["code"], "health");

    assert_eq!(
        app.get_json(&lead, "/api/v1/operations/health-yemen")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_json(&coord, "/api/v1/operations/shelter-yemen")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_json(&lead, "/api/v1/clusters/health")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_json(&lead, "/api/v1/clusters/shelter")
            .await
            .status(),
        200
    );

    // Only admins write the directory; coordinators may add organizations.
    for token in [&lead, &coord, &psea] {
        let r = app
            .post_json(
                token,
                "/api/v1/clusters",
                json!({"code": "cccm", "name": "CCCM"}),
            )
            .await;
        assert_eq!(r.status(), 403);
        let r = app
            .post_json(
                token,
                "/api/v1/operations",
                json!({"slug": "x-y", "cluster": "shelter", "country": "YE", "name": "x"}),
            )
            .await;
        assert_eq!(r.status(), 403);
    }
    assert_eq!(
        app.post_json(
            &coord,
            "/api/v1/organizations",
            json!({"name": "Local NGO", "org_type": "nngo"})
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        app.post_json(
            &lead,
            "/api/v1/organizations",
            json!({"name": "Other NGO", "org_type": "nngo"})
        )
        .await
        .status(),
        403
    );

    // No credentials, or a wrong token: 401.
    let anon = app.new_client();
    assert_eq!(
        anon.get(app.url("/api/v1/operations"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let r = anon
        .get(app.url("/api/v1/operations"))
        .bearer_auth("cpt_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthorized");
}
both_backends!(roles, roles_limit_what_each_user_sees);

async fn cookie_sessions_with_csrf(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let client = app.new_client();

    let r = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "admin@test.example", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "nobody@test.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "ADMIN@test.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["role"], "admin");
    let csrf = body["csrf_token"].as_str().unwrap().to_string();

    let me: Value = client
        .get(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "admin@test.example");

    // A cookie-authenticated write needs the CSRF header.
    let r = client
        .post(app.url("/api/v1/clusters"))
        .json(&json!({"code": "wash", "name": "WASH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client
        .post(app.url("/api/v1/clusters"))
        .header("X-CSRF-Token", "forged")
        .json(&json!({"code": "wash", "name": "WASH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client
        .post(app.url("/api/v1/clusters"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"code": "wash", "name": "WASH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // A tampered cookie is ignored.
    let forged = app.new_client();
    let r = forged
        .get(app.url("/api/v1/session"))
        .header("cookie", "cp_session=eyJ1aWQiOjF9.AAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = client
        .delete(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        client
            .get(app.url("/api/v1/session"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
both_backends!(sessions, cookie_sessions_with_csrf);

async fn login_page_flow(app: TestApp) {
    app.admin_token();
    let client = app.new_client();
    let r = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");

    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<form method=\"post\" action=\"/login\""));
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // Without the CSRF field: refused.
    let r = client
        .post(app.url("/login"))
        .form(&[("email", "admin@test.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Wrong password: the page again, with an escaped echo of the email.
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "<script>x</script>@a.org"),
            ("password", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(body.contains("wrong email or password"));
    assert!(
        !body.contains("<script>x</script>"),
        "input must be escaped"
    );
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "admin@test.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let dash = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(dash.status(), 200);
    let html = dash.text().await.unwrap();
    assert!(html.contains("admin@test.example"));
    assert!(html.contains("Dashboard"));
}
both_backends!(login_page, login_page_flow);

async fn lockout_after_repeated_failures(app: TestApp) {
    app.admin_token();
    let client = app.new_client();
    for _ in 0..5 {
        let r = client
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": "admin@test.example", "password": "wrong wrong wrong"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // Locked now, even with the right password.
    let r = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "admin@test.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("locked"));
}
both_backends!(lockout, lockout_after_repeated_failures);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limit_per_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, |env| {
        env.insert("CLUSTERPULSE_RATE_LIMIT_LOGIN".into(), "3".into());
    })
    .await
    .unwrap();
    let client = app.new_client();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = client
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": "x@test.example", "password": "whatever123"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}

async fn two_instances_share_one_database(app: TestApp) {
    let admin = app.admin_token();
    let other = app.second_instance().await;
    assert_ne!(app.port, other.port);
    let r = app
        .post_json(
            &admin,
            "/api/v1/clusters",
            json!({"code": "shelter", "name": "Shelter"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // The other instance sees it, accepts the same token, and enforces the same uniqueness.
    let r = other.get_json(&admin, "/api/v1/clusters/shelter").await;
    assert_eq!(r.status(), 200);
    let r = other
        .post_json(
            &admin,
            "/api/v1/clusters",
            json!({"code": "shelter", "name": "Shelter"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    // Concurrent writes through both instances all land.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (client, base, token) = if i % 2 == 0 {
            (app.client.clone(), app.address.clone(), admin.clone())
        } else {
            (other.client.clone(), other.address.clone(), admin.clone())
        };
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/organizations"))
                .bearer_auth(token)
                .json(&json!({"name": format!("Org {i}"), "org_type": "nngo"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let orgs: Value = other
        .get_json(&admin, "/api/v1/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orgs["organizations"].as_array().unwrap().len(), 20);
    // A session cookie from one instance works on the other (shared secret, no local state).
    let c = app.new_client();
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "admin@test.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = other
        .new_client()
        .get(other.url("/api/v1/session"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
both_backends!(two_instances, two_instances_share_one_database);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_503_when_postgres_goes_away() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.pg.as_ref().unwrap().drop_now();
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["database"], "unreachable");
}

async fn openapi_document_lists_routes(app: TestApp) {
    let r = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/v1/session",
        "/api/v1/clusters",
        "/api/v1/operations",
        "/api/v1/organizations",
        "/api/v1/surveys/{id}",
        "/api/v1/frameworks/{id}",
        "/api/v1/responses",
        "/api/v1/feedback/{reference}/events",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
    // The request types are the server's own: an unknown field is refused, as documented.
    assert_eq!(
        doc["components"]["schemas"]["ClusterBody"]["additionalProperties"],
        false
    );

    // The same document as a page: every operation, every schema, no script.
    let page = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<code>/api/v1/rounds/{id}/invitations</code>"));
    assert!(html.contains(r#"id="schema-RoundView""#));
    assert!(html.contains(r#"id="schema-ErrorBody""#));
    assert!(!html.contains("<script"));
}
both_backends!(openapi, openapi_document_lists_routes);

/// A known path asked with a method it does not serve: 405 with `Allow` and the JSON error.
async fn wrong_method_is_a_json_405(app: TestApp) {
    let r = app
        .client
        .delete(app.url("/api/v1/clusters"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "method_not_allowed");
    assert!(body["message"].as_str().unwrap().contains("GET, POST"));
    let r = app.client.put(app.url("/login")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}
both_backends!(method_not_allowed, wrong_method_is_a_json_405);

/// The web security basics on every kind of reply: pages, JSON, errors, assets, the public
/// form. With `CLUSTERPULSE_SECURE_COOKIES=1` (as behind TLS) the session cookie is
/// `Secure; HttpOnly; SameSite=Lax`. Body limits differ by route: 256 KiB for submissions,
/// 1 MiB elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_cookies_and_body_limits() {
    let app = TestApp::spawn_with(Backend::Sqlite, |env| {
        env.insert("CLUSTERPULSE_SECURE_COOKIES".into(), "1".into());
    })
    .await
    .unwrap();
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let urls = [
        "/login",
        "/api/v1/surveys",
        "/api/v1/clusters",
        "/api/v1/nowhere",
        "/static/app.css",
        "/f/shelter-yemen",
        "/api/docs",
        "/healthz",
    ];
    for path in urls {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {csp}"));
        assert!(
            !script_src.contains("unsafe-inline") && !script_src.contains("unsafe-eval"),
            "{path}: {script_src}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
    }

    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "admin@test.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    // The session cookie carries no email or role in clear.
    assert!(!cookie.contains("admin@test.example"), "{cookie}");

    // Body limits per route: 300 KiB is over the submission limit, under the default one.
    let big = "x".repeat(300 * 1024);
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(&json!({"token": "t", "id": "x", "answers": {"a": big}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "payload_too_large"
    );
    let r = app
        .post_json(
            &admin,
            "/api/v1/organizations",
            json!({"name": big, "org_type": "ingo"}),
        )
        .await;
    assert_eq!(r.status(), 400, "read in full, then refused by validation");
    let body: Value = r.json().await.unwrap();
    assert!(body["fields"]["name"].is_string(), "{body}");

    // A JSON body that is not an object is refused before anything runs.
    let r = app
        .post_json(&admin, "/api/v1/scorecards/send", json!([null, null]))
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("must be an object"));
}
