//! Test harness: the real server on a random port, over a fresh SQLite file or a fresh
//! PostgreSQL database (when `TEST_DATABASE_URL` is set), with helpers to make accounts.
#![allow(dead_code)]

pub mod openrosa;
pub mod smtp;

use clusterpulse::config::Config;
use clusterpulse::domain::accounts as admin;
use clusterpulse::{db, Application};
use std::collections::HashMap;
use std::path::PathBuf;

pub const SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A PostgreSQL database created for one test and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Option<PgDatabase> {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
        let name = format!("cp_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::pg::PgConnection::establish(&admin_url)
            .expect("TEST_DATABASE_URL is set but PostgreSQL is not reachable");
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .expect("TEST_DATABASE_URL has a database name");
        let url = format!("{base}/{name}");
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// Drops the database now (connected clients are cut off).
    pub fn drop_now(&self) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        if let Ok(mut conn) = diesel::pg::PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}

pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub config: Config,
    pub pool: db::Pool,
    pub dir: tempfile::TempDir,
    pub pg: Option<std::sync::Arc<PgDatabase>>,
}

pub fn surveys_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys"))
}

pub fn base_env(dir: &std::path::Path, database_url: &str) -> HashMap<String, String> {
    let mut env = HashMap::new();
    env.insert("DATABASE_URL".into(), database_url.to_string());
    env.insert("CLUSTERPULSE_BIND".into(), "127.0.0.1:0".into());
    env.insert("CLUSTERPULSE_DATA_DIR".into(), dir.display().to_string());
    env.insert("CLUSTERPULSE_SECRET_KEY".into(), SECRET.into());
    env.insert(
        "CLUSTERPULSE_SURVEYS_DIR".into(),
        surveys_dir().display().to_string(),
    );
    env.insert("CLUSTERPULSE_WORKERS".into(), "2".into());
    env.insert("CLUSTERPULSE_DB_POOL_SIZE".into(), "4".into());
    // Tests send scorecards explicitly; the monthly schedule would queue them at start.
    env.insert("CLUSTERPULSE_SCORECARDS".into(), "off".into());
    // Tests sign in admins and PSEA focal points without an authenticator app; tests/totp.rs
    // turns the requirement on where it is tested.
    env.insert("CLUSTERPULSE_TOTP_REQUIRED_ROLES".into(), String::new());
    env
}

impl TestApp {
    /// Starts an app on `backend`; `None` when PostgreSQL was asked for but is not configured.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        tweak: impl FnOnce(&mut HashMap<String, String>),
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("test.db").display()),
                None,
            ),
            Backend::Postgres => {
                let pg = PgDatabase::create()?;
                (pg.url.clone(), Some(std::sync::Arc::new(pg)))
            }
        };
        let mut env = base_env(dir.path(), &url);
        tweak(&mut env);
        Some(Self::start(backend, env, dir, pg).await)
    }

    /// Starts another instance sharing this one's database and secret.
    pub async fn second_instance(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let env = base_env(dir.path(), &self.config.database_url);
        Self::start(self.backend, env, dir, self.pg.clone()).await
    }

    async fn start(
        backend: Backend,
        env: HashMap<String, String>,
        dir: tempfile::TempDir,
        pg: Option<std::sync::Arc<PgDatabase>>,
    ) -> TestApp {
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        let app = Application::build(config).await.expect("app builds");
        let config = app.state().config.clone();
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        let pool = db::connect(&config.database_url, 2).expect("test pool");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        TestApp {
            backend,
            address: format!("http://127.0.0.1:{port}"),
            port,
            client,
            config,
            pool,
            dir,
            pg,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A fresh client without cookies.
    pub fn new_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap()
    }

    /// A cookie client signed in as `email` (password [`PASSWORD`]), for the HTML pages.
    pub async fn login(&self, email: &str) -> reqwest::Client {
        let c = self.new_client();
        let r = c
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200, "sign in as {email}");
        c
    }

    /// Creates a user and returns a bearer token for them.
    pub fn user_token(
        &self,
        email: &str,
        role: &str,
        cluster: Option<&str>,
        ops: &[&str],
    ) -> String {
        let mut conn = self.pool.get().unwrap();
        let ops: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
        admin::add_user(
            &mut conn,
            &admin::NewAccount {
                email,
                role,
                cluster,
                operations: &ops,
                countries: &[],
                password: PASSWORD,
            },
        )
        .expect("add user");
        admin::create_token_for(&mut conn, email, "test").expect("token")
    }

    pub fn admin_token(&self) -> String {
        self.user_token("admin@test.example", "admin", None, &[])
    }

    pub async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Uploads survey definition `text` as file `file_name` and publishes it, as an admin
    /// (`admin`, a token) does; panics with the server's answer when either is refused.
    pub async fn publish_survey(&self, admin: &str, file_name: &str, text: String) {
        let upload: serde_json::Value = self
            .client
            .post(self.url(&format!("/api/v1/surveys/uploads?file_name={file_name}")))
            .bearer_auth(admin)
            .header("Content-Type", "application/octet-stream")
            .body(text)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a JSON reply");
        let id = upload["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("upload refused: {upload}"));
        let r = self
            .client
            .post(self.url(&format!("/api/v1/surveys/uploads/{id}/publish")))
            .bearer_auth(admin)
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "publish: {}", r.status());
    }

    pub async fn get_json(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Seeds two clusters with operations: shelter (shelter-yemen, shelter-sudan) and
    /// health (health-yemen).
    pub async fn seed_directory(&self, admin: &str) {
        for (code, name) in [
            ("shelter", "Global Shelter Cluster"),
            ("health", "Global Health Cluster"),
        ] {
            let r = self
                .post_json(admin, "/api/v1/clusters", serde_json::json!({"code": code, "name": name, "lead_emails": [format!("lead@{code}.example.org")]}))
                .await;
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
        for (slug, cluster, country) in [
            ("shelter-yemen", "shelter", "YE"),
            ("shelter-sudan", "shelter", "SD"),
            ("health-yemen", "health", "YE"),
        ] {
            let r = self
                .post_json(admin, "/api/v1/operations", serde_json::json!({"slug": slug, "cluster": cluster, "country": country, "name": format!("{slug} operation")}))
                .await;
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
    }
}

/// An open CCPM round of shelter-yemen (partner survey) with invitations of `types`, made
/// through the API as `coord`; returns the round and the invitations (with their tokens).
pub async fn round_with(
    app: &TestApp,
    coord: &str,
    types: &[&str],
) -> (i64, Vec<serde_json::Value>) {
    use serde_json::{json, Value};
    let r = app
        .post_json(
            coord,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm", "surveys": ["ccpm-partner"],
                   "opens_at": chrono::Utc::now().to_rfc3339(),
                   "closes_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let invitations: Vec<Value> = types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"email": format!("person{i}-r{id}@relief{i}.example.org"),
                             "organization": format!("Relief Org {i} of round {id}"),
                             "org_type": t, "survey": "ccpm-partner"})
        })
        .collect();
    let r = app
        .post_json(
            coord,
            &format!("/api/v1/rounds/{id}/invitations"),
            json!({"invitations": invitations}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    (id, v["invitations"].as_array().unwrap().clone())
}

/// A closed CCPM round on `operation` with `n` partner responses (org types cycling through
/// ingo, nngo, un), made through the API as `coord`. Returns the round id.
pub async fn closed_round(app: &TestApp, coord: &str, operation: &str, n: usize) -> i64 {
    let id = open_round_with_responses(app, coord, operation, n, serde_json::json!({})).await;
    let r = app
        .post_json(
            coord,
            &format!("/api/v1/rounds/{id}/close"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    id
}

/// An open round of `operation` with `n` partner responses (three org types in turn), each
/// with `extra` answers added (a JSON object).
pub async fn open_round_with_responses(
    app: &TestApp,
    coord: &str,
    operation: &str,
    n: usize,
    extra: serde_json::Value,
) -> i64 {
    use serde_json::{json, Value};
    let r = app
        .post_json(
            coord,
            "/api/v1/rounds",
            json!({"operation": operation, "framework": "ccpm",
            "surveys": ["ccpm-partner"], "opens_at": chrono::Utc::now().to_rfc3339(),
            "closes_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let types = ["ingo", "nngo", "un"];
    let invitations: Vec<Value> = (0..n)
        .map(|i| json!({"email": format!("p{i}-{id}@partner.example"), "organization": format!("Partner {i}"),
                        "org_type": types[i % 3], "survey": "ccpm-partner"}))
        .collect();
    let inv: Value = app
        .post_json(
            coord,
            &format!("/api/v1/rounds/{id}/invitations"),
            json!({"invitations": invitations}),
        )
        .await
        .json()
        .await
        .unwrap();
    let levels = ["strongly_agree", "agree", "disagree", "agree"];
    for i in 0..n {
        let token = inv["invitations"][i]["token"].as_str().unwrap();
        let mut answers = json!({"meeting_attendance": "always", "meetings_useful": levels[i % 4],
            "meetings_focus": levels[(i + 1) % 4], "who_what_where": levels[(i + 2) % 4],
            "assessment_findings": levels[(i + 3) % 4], "overall_rating": 7});
        if let (Some(a), Some(more)) = (answers.as_object_mut(), extra.as_object()) {
            a.extend(more.clone());
        }
        let r = app
            .client
            .post(app.url("/api/v1/responses"))
            .json(&json!({"token": token, "id": uuid::Uuid::new_v4().to_string(), "answers": answers}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    id
}

/// The scorecard period (`YYYY-MM`) of the month the server's clock is in now. Call it after
/// closing the rounds a test expects in the scorecard: a round closed now is in this period.
pub fn this_period() -> String {
    clusterpulse::domain::scorecards::period_of(clusterpulse::kernel::time::now().date())
}

/// Checks a delivered scorecard: headers, every `cid:` of the HTML present as a PNG part,
/// the text part, the CSV attachment.
pub fn check_scorecard_mime(raw: &[u8], to: &str, subject_part: &str) {
    use mail_parser::MimeHeaders;
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("MIME");
    assert!(
        msg.subject().unwrap().contains(subject_part),
        "{:?}",
        msg.subject()
    );
    assert!(msg.from().is_some() && msg.date().is_some() && msg.message_id().is_some());
    assert_eq!(msg.to().unwrap().first().unwrap().address().unwrap(), to);
    let html = msg.body_html(0).expect("html part").to_string();
    let text = msg.body_text(0).expect("text part").to_string();
    assert!(!text.contains('<'), "plain text has no markup");
    assert!(!html.contains("<script"), "no scripts");
    let cids: Vec<String> = html
        .split("src=\"cid:")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect();
    assert!(
        cids.len() >= 3,
        "grid, volume and one functions chart: {cids:?}"
    );
    for cid in &cids {
        let part = msg
            .parts
            .iter()
            .find(|p| p.content_id() == Some(cid.as_str()))
            .unwrap_or_else(|| panic!("no part for cid:{cid}"));
        let bytes = part.contents();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{cid} is a PNG");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
        let reader = decoder.read_info().expect("valid PNG");
        assert!(reader.info().width >= 300);
    }
    // Images carry alt text.
    assert_eq!(
        html.matches("<img").count(),
        html.matches(" alt=\"").count()
    );
    let csv = msg
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".csv")))
        .expect("CSV attachment");
    let csv = String::from_utf8_lossy(csv.contents()).to_string();
    assert!(
        csv.starts_with("cluster,period,operation,round,level,id,"),
        "{csv}"
    );
    assert!(csv.contains(",shelter-yemen,"));
    // The attachment carries what the scorecard reports (overall, function and indicator
    // scores); question and org-type rows are in each round's full CSV on the web.
    let levels: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(4))
        .collect();
    assert_eq!(
        levels,
        ["function", "indicator", "overall"].into_iter().collect(),
        "{csv}"
    );
    // The per-operation function tables are on the web page only.
    assert!(
        !html.contains("border-collapse:collapse;margin-bottom:8px"),
        "function table in the email"
    );
}

/// Runs one async test body on SQLite and (when configured) on PostgreSQL:
/// `both_backends!(name, body_fn);` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        $crate::both_backends!($name, $body, common::TestApp::spawn);
    };
    // With the test file's own way to start the app (`async fn(Backend) -> Option<TestApp>`).
    ($name:ident, $body:path, $spawn:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $spawn(common::Backend::Sqlite).await.unwrap();
                $body(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $spawn(common::Backend::Postgres).await {
                    Some(app) => $body(app).await,
                    None => {
                        eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL not tested")
                    }
                }
            }
        }
    };
}

/// Whether the page tests can drive a browser: Debian's chromium, node and
/// tests/browser/node_modules (scripts/test.sh installs all three); the reason when not.
#[allow(dead_code)]
pub fn browser_ready() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&chromium).exists() {
        return Err(format!("{chromium} not found (apt-get install chromium)"));
    }
    let modules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/browser/node_modules/playwright-core"
    );
    if !std::path::Path::new(modules).exists() {
        return Err("tests/browser/node_modules missing (npm ci in tests/browser)".into());
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("node not found".into());
    }
    Ok(())
}

/// Reverts the one migration whose name starts with `prefix` (later ones stay applied).
pub fn revert_migration(conn: &mut db::DbConnection, prefix: &str) {
    use diesel::migration::MigrationSource;
    use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
    fn one<DB, C>(c: &mut C, source: EmbeddedMigrations, prefix: &str)
    where
        DB: diesel::backend::Backend,
        C: MigrationHarness<DB>,
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let migrations = source.migrations().unwrap();
        let m = migrations
            .iter()
            .find(|m| m.name().to_string().starts_with(prefix))
            .unwrap_or_else(|| panic!("no migration {prefix}"));
        c.revert_migration(m.as_ref()).unwrap();
    }
    match conn {
        db::DbConnection::Sqlite(c) => one(c, db::SQLITE_MIGRATIONS, prefix),
        db::DbConnection::Postgres(c) => one(c, db::POSTGRES_MIGRATIONS, prefix),
    }
}

/// Posts a response with the API (no account: the token is the credential); the status
/// and the JSON answered (`null` if none).
pub async fn post_response(
    app: &TestApp,
    token: &str,
    id: &str,
    answers: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(&serde_json::json!({"token": token, "id": id, "answers": answers}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}
