//! The command line as a user runs it: the real binary, real database files / servers.

mod common;
use common::{Backend, TestApp, PASSWORD};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clusterpulse"));
    // Start from a clean slate: no inherited settings.
    for k in [
        "DATABASE_URL",
        "SMTP_URL",
        "CLUSTERPULSE_SECRET_KEY",
        "CLUSTERPULSE_DATA_DIR",
        "CLUSTERPULSE_SURVEYS_DIR",
        "CLUSTERPULSE_BIND",
    ] {
        c.env_remove(k);
    }
    c.env("RUST_LOG", "warn");
    c
}

fn run(mut c: Command, stdin: Option<&str>) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("binary runs");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn with_app_env(app: &TestApp) -> Command {
    let mut c = bin();
    c.env("DATABASE_URL", &app.config.database_url)
        .env("CLUSTERPULSE_DATA_DIR", app.dir.path())
        .env("CLUSTERPULSE_SECRET_KEY", common::SECRET)
        .current_dir(app.dir.path());
    c
}

async fn users_and_tokens_from_the_cli(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;

    let mut c = with_app_env(&app);
    c.args([
        "users",
        "add",
        "--email",
        "Coord@Example.org",
        "--role",
        "coordinator",
        "--operation",
        "shelter-yemen",
        "--password-stdin",
    ]);
    let out = run(c, Some(&format!("{PASSWORD}\n")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("created user"));

    let mut c = with_app_env(&app);
    c.args(["tokens", "create", "--email", "coord@example.org"]);
    let out = run(c, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one line: the token");
    let token = stdout.trim();
    let r = app.get_json(token, "/api/v1/operations").await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["operations"].as_array().unwrap().len(), 1);

    // The password works for a session too; it never appears in the database in clear.
    let r = app
        .new_client()
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"email": "coord@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Bad input: each names the option.
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec![
                "users",
                "add",
                "--email",
                "x@example.org",
                "--role",
                "boss",
                "--password-stdin",
            ],
            Some("long enough password"),
            "--role",
        ),
        (
            vec![
                "users",
                "add",
                "--email",
                "not-an-email",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("long enough password"),
            "--email",
        ),
        (
            vec![
                "users",
                "add",
                "--email",
                "x@example.org",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("short"),
            "password",
        ),
        (
            vec![
                "users",
                "add",
                "--email",
                "x@example.org",
                "--role",
                "admin",
            ],
            None,
            "--password-stdin",
        ),
        (
            vec![
                "users",
                "add",
                "--email",
                "x@example.org",
                "--role",
                "global_lead",
                "--password-stdin",
            ],
            Some("long enough password"),
            "--cluster",
        ),
        (
            vec![
                "users",
                "add",
                "--email",
                "x@example.org",
                "--role",
                "coordinator",
                "--operation",
                "nowhere",
                "--password-stdin",
            ],
            Some("long enough password"),
            "--operation",
        ),
        (
            vec![
                "users",
                "add",
                "--email",
                "coord@example.org",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("long enough password"),
            "already exists",
        ),
        (
            vec!["tokens", "create", "--email", "nobody@example.org"],
            None,
            "--email",
        ),
    ];
    for (args, stdin, needle) in cases {
        let mut c = with_app_env(&app);
        c.args(&args);
        let out = run(c, stdin);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
both_backends!(users_and_tokens, users_and_tokens_from_the_cli);

#[test]
fn bad_database_urls_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (url, needle) in [
        ("mysql://localhost/x", "DATABASE_URL: unknown scheme"),
        (
            "postgres://nobody@127.0.0.1:1/none",
            "DATABASE_URL: cannot connect",
        ),
    ] {
        let mut c = bin();
        c.env("DATABASE_URL", url)
            .env("CLUSTERPULSE_DATA_DIR", dir.path())
            .args(["migrate"]);
        let out = run(c, None);
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{url}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let mut c = bin();
    c.env("CLUSTERPULSE_SECRET_KEY", "short")
        .env("CLUSTERPULSE_DATA_DIR", dir.path())
        .args(["migrate"]);
    let out = run(c, None);
    assert!(text(&out.stderr).contains("CLUSTERPULSE_SECRET_KEY"));
}

#[test]
fn help_is_everywhere() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["surveys", "check", "--help"],
        vec!["surveys", "import", "--help"],
        vec!["users", "add", "--help"],
        vec!["tokens", "create", "--help"],
        vec!["migrate", "--help"],
        vec!["feedback", "rebuild-summaries", "--help"],
    ] {
        let out = run(
            {
                let mut c = bin();
                c.args(&args);
                c
            },
            None,
        );
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn surveys_check_passes_on_shipped_and_names_file_and_line() {
    let mut c = bin();
    c.args(["surveys", "check", common::surveys_dir().to_str().unwrap()]);
    let out = run(c, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("4 survey(s)"));

    // A broken copy: every problem with file and line, non-zero exit.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("frameworks")).unwrap();
    std::fs::copy(
        common::surveys_dir().join("frameworks/ccpm.toml"),
        dir.path().join("frameworks/ccpm.toml"),
    )
    .unwrap();
    let original =
        std::fs::read_to_string(common::surveys_dir().join("aap-feedback.toml")).unwrap();
    let broken = original.replacen("type = \"text\"", "type = \"select_one nolist\"", 1);
    std::fs::write(dir.path().join("aap-feedback.toml"), broken).unwrap();
    let mut c = bin();
    c.args(["surveys", "check", dir.path().to_str().unwrap()]);
    let out = run(c, None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("aap-feedback.toml:"), "{err}");
    assert!(err.contains("nolist"), "{err}");

    // The server refuses to start on the same directory, with the same message.
    let data = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.env("CLUSTERPULSE_SURVEYS_DIR", dir.path())
        .env("CLUSTERPULSE_DATA_DIR", data.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/x.db", data.path().display()),
        )
        .env("CLUSTERPULSE_BIND", "127.0.0.1:0")
        .args(["serve"]);
    let out = run(c, None);
    assert!(!out.status.success());
    let err2 = text(&out.stderr);
    assert!(
        err2.contains("aap-feedback.toml:") && err2.contains("nolist"),
        "{err2}"
    );
}

#[test]
fn xlsform_import_writes_a_survey_that_checks() {
    let corpus = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/xlsform-corpus/group.xlsx"
    ));
    if !corpus.exists() {
        eprintln!("skipped: the shared XLSForm corpus is not beside the checkout");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("group.toml");
    let mut c = bin();
    c.args([
        "surveys",
        "import",
        corpus.to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
    ]);
    let out = run(c, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("wrote"));
    let mut c = bin();
    c.args(["surveys", "check", dir.path().to_str().unwrap()]);
    let out = run(c, None);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Not a spreadsheet: a clear refusal naming the file, nothing written.
    let junk = dir.path().join("junk.xlsx");
    std::fs::write(&junk, "this is not a workbook").unwrap();
    let target = dir.path().join("junk.toml");
    let mut c = bin();
    c.args([
        "surveys",
        "import",
        junk.to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
    ]);
    let out = run(c, None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("junk.xlsx"));
    assert!(!target.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeds_and_prints_working_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.env("CLUSTERPULSE_DATA_DIR", dir.path())
        .current_dir(dir.path())
        .args(["demo", "--no-serve"]);
    let out = run(c, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("admin@demo.example"))
        .expect("admin line");
    let password = line.split("password: ").nth(1).unwrap().trim().to_string();
    // The secret key was generated once into the data directory, private.
    let key = dir.path().join("secret.key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Serve the seeded file and sign in with the printed password.
    let db_url = format!("sqlite://{}", dir.path().join("clusterpulse.db").display());
    let app = TestApp::spawn_with(Backend::Sqlite, |env| {
        env.insert("DATABASE_URL".into(), db_url.clone());
    })
    .await
    .unwrap();
    let client = app.new_client();
    let r = client
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"email": "admin@demo.example", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The demo's feedback history kept its summaries exact: a rebuild changes nothing.
    {
        let mut conn = app.pool.get().unwrap();
        let kept = clusterpulse::db::models::feedback_summaries(&mut conn).unwrap();
        assert!(!kept.closures.is_empty());
        clusterpulse::domain::feedback::summaries::rebuild(&mut conn).unwrap();
        assert_eq!(
            kept,
            clusterpulse::db::models::feedback_summaries(&mut conn).unwrap()
        );
    }
    let ops: serde_json::Value = client
        .get(app.url("/api/v1/operations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ops["operations"].as_array().unwrap().len() >= 5);
    // A few hundred feedback items in every state (admins see the non-sensitive ones).
    let fb: serde_json::Value = client
        .get(app.url("/api/v1/feedback?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(fb["total"].as_i64().unwrap() >= 250, "{fb}");
    for status in [
        "received",
        "acknowledged",
        "referred",
        "responded",
        "closed",
    ] {
        let v: serde_json::Value = client
            .get(app.url(&format!("/api/v1/feedback?limit=1&status={status}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(v["total"].as_i64().unwrap() > 0, "demo has {status} items");
    }
    assert!(stdout.contains("psea@demo.example"));
    // Every operation has two closed rounds (so trends show); shelter-yemen also an open one.
    let rounds_of = |v: &serde_json::Value, slug: &str, state: &str| -> Vec<i64> {
        v["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["operation"] == slug && r["state"] == state)
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let rounds: serde_json::Value = client
        .get(app.url("/api/v1/rounds"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for op in ops["operations"].as_array().unwrap() {
        let slug = op["slug"].as_str().unwrap();
        assert_eq!(rounds_of(&rounds, slug, "closed").len(), 2, "{slug}");
    }
    assert_eq!(rounds_of(&rounds, "shelter-yemen", "open").len(), 1);
    let latest = rounds_of(&rounds, "shelter-sudan", "closed")[0];
    let scores: serde_json::Value = client
        .get(app.url(&format!("/api/v1/rounds/{latest}/scores")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(scores["previous_round"].is_i64(), "{scores}");
    let functions = scores["functions"].as_array().unwrap();
    assert!(functions.iter().all(|f| f["change"].is_f64()), "{scores}");
    assert!(functions
        .iter()
        .any(|f| f["change"].as_f64().unwrap() > 0.0));
    assert!(functions
        .iter()
        .any(|f| f["change"].as_f64().unwrap() < 0.0));
    assert!(scores["by_org_type"].as_array().unwrap().len() >= 4);
    // The Global Shelter Cluster's service charter: two closed rounds a year apart, scored
    // (enough answers), with the trend.
    let charter: serde_json::Value = client
        .get(app.url("/api/v1/clusters/shelter/charter-rounds"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let charter = charter["rounds"].as_array().unwrap();
    assert_eq!(charter.len(), 2, "{charter:?}");
    assert!(charter.iter().all(|r| r["state"] == "closed"));
    let latest = charter[0]["id"].as_i64().unwrap();
    let scores: serde_json::Value = client
        .get(app.url(&format!("/api/v1/charter-rounds/{latest}/scores")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(scores["overall"]["score"].is_f64(), "{scores}");
    assert_eq!(scores["previous_round"], charter[1]["id"]);
    assert!(scores["functions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["change"].is_f64()));
    // Running demo again keeps the data and resets the passwords.
    let mut c = bin();
    c.env("CLUSTERPULSE_DATA_DIR", dir.path())
        .current_dir(dir.path())
        .args(["demo", "--no-serve"]);
    assert!(run(c, None).status.success());
    let again: serde_json::Value = client
        .get(app.url("/api/v1/rounds"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["rounds"].as_array().unwrap().len(),
        15,
        "no duplicates"
    );
}

async fn feedback_purge_erases_old_contacts(app: TestApp) {
    use clusterpulse::db::schema::{feedback, feedback_events};
    use diesel::prelude::*;
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let mut refs = Vec::new();
    for _ in 0..2 {
        let r = app
            .post_json(
                &coord,
                "/api/v1/feedback",
                serde_json::json!({
                "operation": "shelter-yemen", "channel": "hotline",
                "answers": {"category": "request", "message": "call me back",
                            "consent_to_contact": "yes", "contact": "+1 555 0100"}}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        let reference = v["reference"].as_str().unwrap().to_string();
        let r = app
            .post_json(
                &coord,
                &format!("/api/v1/feedback/{reference}/events"),
                serde_json::json!({"action": "close", "satisfied": true}),
            )
            .await;
        assert_eq!(r.status(), 200);
        refs.push(reference);
    }
    let mut conn = app.pool.get().unwrap();
    diesel::update(feedback::table.filter(feedback::reference.eq(&refs[0])))
        .set(
            feedback::closed_at.eq(clusterpulse::kernel::time::now() - chrono::Duration::days(400)),
        )
        .execute(&mut conn)
        .unwrap();

    let mut c = with_app_env(&app);
    c.args(["feedback", "purge", "--older-than", "1y"]);
    let out = run(c, None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--older-than"),
        "{}",
        text(&out.stderr)
    );

    let mut c = with_app_env(&app);
    c.args(["feedback", "purge", "--older-than", "365d"]);
    let out = run(c, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("from 1 closed"),
        "{}",
        text(&out.stdout)
    );

    let rows: Vec<(String, Option<String>, Option<chrono::NaiveDateTime>)> = feedback::table
        .select((
            feedback::reference,
            feedback::contact_encrypted,
            feedback::contact_purged_at,
        ))
        .load(&mut conn)
        .unwrap();
    for (reference, contact, purged) in rows {
        let old = reference == refs[0];
        assert_eq!(contact.is_none(), old, "{reference}");
        assert_eq!(purged.is_some(), old, "{reference}");
    }
    let purge_events: i64 = feedback_events::table
        .filter(feedback_events::action.eq("purge_contact"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(purge_events, 1);
    // The item's history shows the erasure to its handlers.
    let v: serde_json::Value = app
        .get_json(&coord, &format!("/api/v1/feedback/{}", refs[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["contact"], serde_json::Value::Null);
    assert_eq!(
        v["history"].as_array().unwrap().last().unwrap()["action"],
        "purge_contact"
    );
}
both_backends!(feedback_purge, feedback_purge_erases_old_contacts);

/// `surveys export` writes an XLSForm; `surveys import --out` names the TOML so that
/// `surveys check` takes it: after the survey's id into a folder, or the id after the file.
#[test]
fn surveys_go_out_as_xlsform_and_come_back_as_checked_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let surveys = common::surveys_dir();
    let form = root.join("partner.xlsx");
    let o = run(
        {
            let mut c = bin();
            c.args(["surveys", "export", "ccpm-partner", "--dir"])
                .arg(&surveys)
                .arg("--out")
                .arg(&form);
            c
        },
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(std::fs::read(&form).unwrap().starts_with(b"PK\x03\x04"));
    let o = run(
        {
            let mut c = bin();
            c.args(["surveys", "export", "nope", "--dir"]).arg(&surveys);
            c
        },
        None,
    );
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("no survey \"nope\""),
        "{}",
        text(&o.stderr)
    );

    // Into a folder of its own (with the framework beside it, as `surveys check` needs).
    let out = root.join("out");
    std::fs::create_dir(&out).unwrap();
    copy_dir(&surveys.join("frameworks"), &out.join("frameworks"));
    let import = |target: &std::path::Path| {
        let mut c = bin();
        c.args(["surveys", "import"])
            .arg(&form)
            .arg("--out")
            .arg(target);
        run(c, None)
    };
    let o = import(&out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(out.join("ccpm-partner.toml").exists());
    let o = import(&out.join("yemen-partners.toml"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("the survey id is 'yemen-partners'"),
        "{}",
        text(&o.stderr)
    );
    let o = import(&out.join("Not An Id.toml"));
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("named after its id"),
        "{}",
        text(&o.stderr)
    );
    let o = run(
        {
            let mut c = bin();
            c.args(["surveys", "check"]).arg(&out);
            c
        },
        None,
    );
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains("2 survey(s), all valid"),
        "{}",
        text(&o.stdout)
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// `feedback rebuild-summaries` refills the summary rows from the items: after items and
/// workflow events through the API (which keep the summaries themselves) and a hand edit
/// that makes them stale, the command gives back exactly the rows the write path kept, and
/// the indicators read the same as computed from the items.
async fn feedback_rebuild_summaries_restores_the_rows(app: TestApp) {
    use clusterpulse::db::models::feedback_summaries;
    use clusterpulse::domain::feedback::metrics::{
        feedback_metrics, feedback_metrics_from_items, Visibility,
    };
    use diesel::prelude::*;
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let psea = app.user_token(
        "psea@example.org",
        "psea_focal_point",
        None,
        &["shelter-yemen"],
    );
    for (i, category) in ["complaint", "question", "sensitive", "request", "complaint"]
        .iter()
        .enumerate()
    {
        let r = app
            .post_json(
                &coord,
                "/api/v1/feedback",
                serde_json::json!({
                "operation": "shelter-yemen", "channel": "hotline",
                "answers": {"category": category, "message": "the water point is broken",
                            "sex": "female", "consent_to_contact": "no"}}),
            )
            .await;
        let status = r.status();
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{v}");
        let reference = v["reference"].as_str().unwrap().to_string();
        let token = if *category == "sensitive" {
            &psea
        } else {
            &coord
        };
        let steps = [
            serde_json::json!({"action": "acknowledge"}),
            serde_json::json!({"action": "respond", "note": "fixed"}),
            serde_json::json!({"action": "close", "satisfied": true}),
            serde_json::json!({"action": "reopen"}),
        ];
        for body in steps.iter().take(i) {
            let r = app
                .post_json(
                    token,
                    &format!("/api/v1/feedback/{reference}/events"),
                    body.clone(),
                )
                .await;
            assert_eq!(r.status(), 200, "{body}");
        }
    }
    let mut conn = app.pool.get().unwrap();
    let kept = feedback_summaries(&mut conn).unwrap();
    assert!(!kept.items.is_empty() && !kept.closures.is_empty() && !kept.unacked.is_empty());
    // A hand edit of the items leaves the summaries stale.
    diesel::sql_query("UPDATE feedback SET category = 'question' WHERE category = 'request'")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("DELETE FROM feedback_sum_closures")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("UPDATE feedback SET category = 'request' WHERE category = 'question'")
        .execute(&mut conn)
        .unwrap();
    assert_ne!(feedback_summaries(&mut conn).unwrap(), kept);

    let mut c = with_app_env(&app);
    c.args(["feedback", "rebuild-summaries"]);
    let out = run(c, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("feedback_sum_closures:"),
        "{}",
        text(&out.stdout)
    );
    // Both question and request items now read `request`: rebuild again from the items as
    // they are, compare with a rebuild done in process.
    let from_cli = feedback_summaries(&mut conn).unwrap();
    clusterpulse::domain::feedback::summaries::rebuild(&mut conn).unwrap();
    assert_eq!(from_cli, feedback_summaries(&mut conn).unwrap());
    assert!(from_cli.items.iter().all(|r| r.category != "question"));
    assert_eq!(from_cli.closures, kept.closures);
    let op = clusterpulse::db::models::operation_by_slug(&mut conn, "shelter-yemen")
        .unwrap()
        .unwrap();
    let now = clusterpulse::kernel::time::now();
    for visibility in [Visibility::All, Visibility::Sealed] {
        assert_eq!(
            feedback_metrics(&mut conn, op.id, None, None, now, visibility).unwrap(),
            feedback_metrics_from_items(&mut conn, op.id, None, None, now, visibility).unwrap()
        );
    }
}

both_backends!(
    feedback_rebuild_summaries,
    feedback_rebuild_summaries_restores_the_rows
);
