//! A new admin runs clusterpulse in a browser only (issue 15's "done when"), in Debian's
//! headless Chromium driven by tests/browser/admin_walk.mjs, on SQLite and PostgreSQL, with
//! invitations delivered by a real SMTP server and authenticator codes from Python's pyotp:
//! sign in and enrol TOTP (required for admins and PSEA focal points, the default), invite
//! a coordinator and a PSEA focal point, who set their passwords from the emailed links
//! (the PSEA focal point enrols too), fix a cluster's lead emails, upload an XLSForm
//! (after a refused file), preview and publish it, let the coordinator start a round on it,
//! and make and revoke an API token. Each step is then checked over the API.
//! Skips (with the reason) when chromium, node, tests/browser/node_modules, the SMTP sink
//! or the Python tools are missing; scripts/test.sh installs them all.

mod common;
use common::smtp::{text_of, SmtpServer};
use common::{Backend, TestApp, PASSWORD};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const PUBLIC_URL: &str = "https://pulse.example.org";

fn python() -> Option<PathBuf> {
    let path: PathBuf = std::env::var("EXPORT_TOOLS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/export-tools-venv/bin/python"
            )
            .into()
        });
    path.exists().then_some(path)
}

fn ready() -> Result<PathBuf, String> {
    common::browser_ready()?;
    python().ok_or_else(|| "the Python tools (pyotp, openpyxl) are missing".to_string())
}

async fn world(backend: Backend) -> Option<(TestApp, SmtpServer)> {
    let smtp = SmtpServer::start()?;
    let url = smtp.url().to_string();
    let app = TestApp::spawn_with(backend, |env| {
        env.insert("SMTP_URL".into(), url);
        env.insert("CLUSTERPULSE_PUBLIC_URL".into(), PUBLIC_URL.into());
        env.insert("CLUSTERPULSE_MAIL_POLL_SECS".into(), "1".into());
        env.insert("CLUSTERPULSE_SECURE_COOKIES".into(), "0".into());
        // The shipped default: admins and PSEA focal points need an authenticator app.
        env.remove("CLUSTERPULSE_TOTP_REQUIRED_ROLES");
    })
    .await?;
    Some((app, smtp))
}

/// Runs one person's part of the walk; its JSON line.
async fn walk(python: &Path, args: &[&str]) -> Value {
    let out = tokio::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/admin_walk.mjs"
        ))
        .args(args)
        .env("EXPORT_TOOLS_PYTHON", python)
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "browser walk {} failed:\n{}\n{}",
        args[0],
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

/// The emailed one-time link, on this server.
async fn link_for(app: &TestApp, smtp: &SmtpServer, to: &str) -> String {
    let mail = smtp.wait_for(to, 1).await;
    let text = text_of(&mail[0]);
    let start = text.find(PUBLIC_URL).expect("the link uses the public URL");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    app.url(link.strip_prefix(PUBLIC_URL).unwrap())
}

async fn admin_runs_it_in_a_browser(backend: Backend) {
    let python = match ready() {
        Ok(p) => p,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let Some((app, smtp)) = world(backend).await else {
        return eprintln!("skipped: no SMTP sink or PostgreSQL");
    };
    let admin = app.admin_token();
    app.seed_directory(&admin).await;

    // The XLSForm to upload: the partner survey as downloaded, edited in a spreadsheet
    // tool (openpyxl) to become another survey.
    let dir = app.dir.path();
    let bytes = app
        .client
        .get(app.url("/api/v1/surveys/ccpm-partner/xlsform"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (downloaded, form, bad) = (
        dir.join("partner.xlsx"),
        dir.join("wash-partners.xlsx"),
        dir.join("broken.toml"),
    );
    std::fs::write(&downloaded, &bytes).unwrap();
    let edit = std::process::Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/tools/xlsform_tools.py"
        ))
        .args([
            "rename",
            downloaded.to_str().unwrap(),
            form.to_str().unwrap(),
        ])
        .args(["wash-partners", "WASH partner survey"])
        .output()
        .unwrap();
    assert!(
        edit.status.success(),
        "{}",
        String::from_utf8_lossy(&edit.stderr)
    );
    std::fs::write(&bad, "id = \"broken\"\nversion = one\n").unwrap();

    let base = app.url("");
    let base = base.trim_end_matches('/');
    // Addresses of their own: the SMTP sink may be shared by tests running at once.
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let coord_email = format!("coordinator.{run}@shelter.example.org");
    let psea_email = format!("psea.{run}@shelter.example.org");
    let (coord_email, psea_email) = (coord_email.as_str(), psea_email.as_str());
    let done = walk(
        &python,
        &[
            "admin",
            base,
            "admin@test.example",
            PASSWORD,
            form.to_str().unwrap(),
            bad.to_str().unwrap(),
            coord_email,
            psea_email,
        ],
    )
    .await;

    let coord_link = link_for(&app, &smtp, coord_email).await;
    let psea_link = link_for(&app, &smtp, psea_email).await;
    let new_password = "a walk in the humanitarian park";
    let coord = walk(
        &python,
        &["coordinator", base, &coord_link, coord_email, new_password],
    )
    .await;
    walk(
        &python,
        &["psea", base, &psea_link, psea_email, new_password],
    )
    .await;

    // Everything the browser did, read back over the API.
    let users: Value = app
        .get_json(&admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    for (email, role) in [
        (coord_email, "coordinator"),
        (psea_email, "psea_focal_point"),
    ] {
        let u = users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap_or_else(|| panic!("{email} in {users}"));
        assert_eq!(u["role"], role);
        assert_eq!(u["status"], "active", "{u}");
        assert_eq!(u["operations"], json!(["shelter-yemen"]));
    }
    // Both accounts that need an authenticator app now have one: the password alone is
    // only the first step.
    for email in ["admin@test.example", psea_email] {
        let password = if email == psea_email {
            new_password
        } else {
            PASSWORD
        };
        let r = app
            .new_client()
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["totp_required"], true, "{email}: {v}");
    }
    assert!(done["secret"].as_str().unwrap().len() >= 16);
    let cluster: Value = app
        .get_json(&admin, "/api/v1/clusters/shelter")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cluster["lead_emails"],
        json!([
            "lead.one@shelter.example.org",
            "lead.two@shelter.example.org"
        ])
    );
    let survey: Value = app
        .get_json(&admin, "/api/v1/surveys/wash-partners")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(survey["title"]["en"], "WASH partner survey");
    assert_eq!(survey["kind"], "performance");
    let round_id = coord["round"].as_i64().unwrap();
    let round: Value = app
        .get_json(&admin, &format!("/api/v1/rounds/{round_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(round["surveys"], json!(["wash-partners"]), "{round}");
    assert_eq!(round["operation"], "shelter-yemen");
    // The token made in the browser is revoked: it opens nothing, and the list says so.
    let token = done["token"].as_str().unwrap();
    assert_eq!(app.get_json(token, "/api/v1/rounds").await.status(), 401);
    let tokens: Value = app
        .get_json(&admin, "/api/v1/tokens")
        .await
        .json()
        .await
        .unwrap();
    let walk_token = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "walk token")
        .unwrap_or_else(|| panic!("{tokens}"));
    assert_eq!(walk_token["active"], false, "{walk_token}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_runs_clusterpulse_in_a_browser_sqlite() {
    admin_runs_it_in_a_browser(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_runs_clusterpulse_in_a_browser_postgres() {
    admin_runs_it_in_a_browser(Backend::Postgres).await;
}
