//! Exports (README, "Exports and feeds"), read back with tools written elsewhere: Python's
//! `csv` module, `openpyxl` and `libhxl` (`tests/tools/read_export.py`, in the virtualenv
//! that scripts/test.sh makes under target/). Without that interpreter these tests fail and
//! say how to get it. Every test runs on SQLite and, with `TEST_DATABASE_URL`, PostgreSQL.
//!
//! The privacy attacks: an export never carries an email, organization name, invitation
//! token or response id of the seeded data; a lone org type is not shown; a coordinator
//! who is not a PSEA focal point gets no sealed item and no contact details; a user without
//! access to the round or operation is refused; an open round gives only published
//! responses.

mod common;
use common::{round_with, Backend, TestApp};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The Python with openpyxl and libhxl: `EXPORT_TOOLS_PYTHON`, else the virtualenv that
/// scripts/test.sh makes.
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
        "{} not found: run scripts/test.sh, which installs openpyxl and libhxl into \
         target/export-tools-venv (or point EXPORT_TOOLS_PYTHON at a Python that has them)",
        path.display()
    );
    path
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/read_export.py");

/// What `read_export.py` printed, or its error.
fn printed(args: &[String], out: std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "read_export.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from read_export.py")
}

/// What `read_export.py MODE` saw in `bytes`.
fn read(app: &TestApp, mode: &str, ext: &str, bytes: &[u8]) -> Value {
    let file = app
        .dir
        .path()
        .join(format!("{}.{ext}", uuid::Uuid::new_v4()));
    std::fs::write(&file, bytes).unwrap();
    let args = [mode.to_string(), file.display().to_string()];
    let out = std::process::Command::new(python())
        .arg(SCRIPT)
        .args(&args)
        .output()
        .expect("python runs");
    printed(&args, out)
}

/// `read_export.py ARGS…` while the server keeps serving (the OData client calls it).
async fn tool(args: Vec<String>) -> Value {
    let out = tokio::process::Command::new(python())
        .arg(SCRIPT)
        .args(&args)
        .output()
        .await
        .expect("python runs");
    printed(&args, out)
}

/// The shipped surveys, with one select-multiple question added to the partner survey.
fn surveys_with_a_select_multiple() -> PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    let src = common::surveys_dir();
    copy_dir(&src, &dir);
    let partner = dir.join("ccpm-partner.toml");
    let mut text = std::fs::read_to_string(&partner).unwrap();
    text.push_str(
        r#"
[[questions]]
name = "support_types"
type = "select_multiple support"
section = "about"
label.en = "Which support did the cluster give your organisation?"
label.fr = "Quel appui le cluster a-t-il apporté à votre organisation ?"
label.es = "¿Qué apoyo dio el clúster a su organización?"
label.ar = "ما الدعم الذي قدمته المجموعة لمنظمتكم؟"

"#,
    );
    for (value, en, fr, es, ar) in [
        ("training", "Training", "Formation", "Formación", "تدريب"),
        ("funding", "Funding", "Financement", "Financiación", "تمويل"),
        ("data", "Data", "Données", "Datos", "بيانات"),
    ] {
        text.push_str(&format!(
            "\n[[choices.support]]\nvalue = \"{value}\"\nlabel.en = \"{en}\"\n\
             label.fr = \"{fr}\"\nlabel.es = \"{es}\"\nlabel.ar = \"{ar}\"\n"
        ));
    }
    std::fs::write(&partner, text).unwrap();
    dir
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// An app that loads [`surveys_with_a_select_multiple`].
async fn spawn(backend: Backend) -> Option<TestApp> {
    let surveys = surveys_with_a_select_multiple();
    TestApp::spawn_with(backend, |env| {
        env.insert(
            "CLUSTERPULSE_SURVEYS_DIR".into(),
            surveys.display().to_string(),
        );
    })
    .await
}

struct World {
    coord: String,
    coord_b: String,
    psea: String,
    other_lead: String,
    round: i64,
    /// Everything that must never appear in a responses export.
    secrets: Vec<String>,
}

const ORG_TYPES: [&str; 8] = ["ingo", "ingo", "ingo", "ingo", "nngo", "nngo", "nngo", "un"];
const LEVELS: [&str; 4] = ["strongly_agree", "agree", "disagree", "agree"];

/// Submits answers for invitation `i`; returns the response id.
async fn answer(app: &TestApp, token: &str, i: usize) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let support: Vec<&str> = [
        ("training", i.is_multiple_of(2)),
        ("funding", i.is_multiple_of(3)),
        ("data", true),
    ]
    .into_iter()
    .filter_map(|(v, on)| on.then_some(v))
    .collect();
    let mut answers = json!({"meeting_attendance": "always", "meetings_useful": LEVELS[i % 4],
        "who_what_where": LEVELS[(i + 1) % 4], "overall_rating": 7, "support_types": support});
    if LEVELS[i % 4] == "disagree" {
        answers["meetings_improve"] = json!(format!("More field visits, please (answer {i})"));
    }
    let language = if i == 1 { "fr" } else { "en" };
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(&json!({"token": token, "id": id, "language": language, "answers": answers}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    id
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let coord_b = app.user_token(
        "coord-b@shelter.example",
        "coordinator",
        None,
        &["shelter-sudan"],
    );
    let psea = app.user_token(
        "psea@shelter.example",
        "psea_focal_point",
        None,
        &["shelter-yemen"],
    );
    let other_lead = app.user_token("lead@health.example", "global_lead", Some("health"), &[]);
    let (round, invitations) = round_with(app, &coord, &ORG_TYPES).await;
    let mut secrets = Vec::new();
    for (i, inv) in invitations.iter().enumerate() {
        let token = inv["token"].as_str().unwrap();
        secrets.push(answer(app, token, i).await);
        secrets.push(token.to_string());
        secrets.push(inv["email"].as_str().unwrap().to_string());
        secrets.push(format!("Relief Org {i} of round {round}"));
        secrets.push(format!("relief{i}.example.org"));
    }
    let r = app
        .post_json(&coord, &format!("/api/v1/rounds/{round}/close"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    World {
        coord,
        coord_b,
        psea,
        other_lead,
        round,
        secrets,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app.get_json(token, path).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

async fn ok(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let (status, _, body) = get(app, token, path).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    body
}

/// The 4xx error body, with the field it names.
async fn refused(app: &TestApp, token: &str, path: &str, status: u16, field: Option<&str>) {
    let (got, _, body) = get(app, token, path).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(got, status, "{path}: {text}");
    let v: Value = serde_json::from_slice(&body).expect("the JSON error shape");
    assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
    if let Some(f) = field {
        assert!(v["fields"][f].is_string(), "{path}: no fields.{f} in {v}");
    }
}

fn column<'a>(rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = rows[0]
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]));
    rows[1..].iter().map(|r| r[i].as_str()).collect()
}

fn csv_rows(v: &Value) -> Vec<Vec<String>> {
    serde_json::from_value(v["rows"].clone()).unwrap()
}

/// The Parquet twin of the CSV at `csv_path`, read with pyarrow: it must hold the same
/// table (columns, row count and order, every value as the CSV writes it, the CSV's
/// formula guard aside). Returns what pyarrow saw.
async fn same_as_csv(app: &TestApp, token: &str, csv_path: &str) -> Value {
    let csv = csv_rows(&read(app, "csv", "csv", &ok(app, token, csv_path).await));
    let path = csv_path.replacen(".csv", ".parquet", 1);
    let (status, headers, body) = get(app, token, &path).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/vnd.apache.parquet");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".parquet\""));
    assert!(headers.get("content-length").is_none(), "streamed");
    let p = read(app, "parquet", "parquet", &body);
    let rows = csv_rows(&p);
    assert_eq!(rows.len(), csv.len(), "{path}: rows");
    assert_eq!(p["num_rows"], csv.len() - 1);
    assert_eq!(rows[0], csv[0], "{path}: columns");
    for (a, b) in rows.iter().zip(&csv).skip(1) {
        for (x, y) in a.iter().zip(b) {
            assert!(
                x == y || y.strip_prefix('\'') == Some(x.as_str()),
                "{path}: {x:?} in Parquet, {y:?} in CSV"
            );
        }
    }
    p
}

async fn responses(app: TestApp) {
    let w = world(&app).await;
    let base = format!("/api/v1/rounds/{}/exports", w.round);

    // CSV, codes: streamed (no length known up front), with a BOM, one row per response.
    let (status, headers, body) = get(&app, &w.coord, &format!("{base}/responses.csv")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("round-{}-responses.csv", w.round)));
    assert!(headers.get("content-length").is_none(), "streamed");
    let text = String::from_utf8(body.clone()).unwrap();
    for secret in &w.secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the export carries {secret}"
        );
    }
    let v = read(&app, "csv", "csv", &body);
    assert_eq!(v["bom"], true);
    let rows = csv_rows(&v);
    assert_eq!(rows.len(), 1 + ORG_TYPES.len());
    for forbidden in ["id", "email", "organization", "token", "invitation"] {
        assert!(!rows[0].iter().any(|c| c == forbidden), "{forbidden}");
    }
    // Org types: the lone un partner is not singled out; every type shown covers ≥ 3 rows.
    let types = column(&rows, "org_type");
    assert!(!types.contains(&"un"), "{types:?}");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &types {
        *counts.entry(t).or_default() += 1;
    }
    for (t, n) in &counts {
        assert!(*n >= 3, "org type {t:?} shown on {n} rows: {counts:?}");
    }
    assert!(counts.contains_key("ingo"), "{counts:?}");
    // Language: the one French answer is not singled out either.
    assert!(!column(&rows, "language").contains(&"fr"));
    for day in column(&rows, "submitted_on")
        .into_iter()
        .filter(|d| !d.is_empty())
    {
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("a day, not a moment");
    }
    // Answers, codes; select-multiple joined and as 0/1 per choice.
    let useful: BTreeSet<&str> = column(&rows, "meetings_useful").into_iter().collect();
    assert_eq!(
        useful,
        BTreeSet::from(["agree", "disagree", "strongly_agree"])
    );
    let joined = column(&rows, "support_types");
    for choice in ["training", "funding", "data"] {
        let flags = column(&rows, &format!("support_types/{choice}"));
        for (j, f) in joined.iter().zip(flags) {
            let chosen = j.split(' ').any(|c| c == choice);
            assert_eq!(f, if chosen { "1" } else { "0" }, "{j} / {choice}");
        }
    }
    assert!(column(&rows, "meetings_improve")
        .iter()
        .any(|t| t.starts_with("More field visits")));

    // Labels in French.
    let body = ok(
        &app,
        &w.coord,
        &format!("{base}/responses.csv?labels=true&lang=fr"),
    )
    .await;
    let rows = csv_rows(&read(&app, "csv", "csv", &body));
    let useful: BTreeSet<&str> = column(&rows, "meetings_useful").into_iter().collect();
    assert!(
        useful.contains("D'accord") && !useful.contains("agree"),
        "{useful:?}"
    );
    assert!(column(&rows, "support_types")
        .iter()
        .any(|s| s.contains("Données")));

    // Parquet: the same tables as the CSV, typed, in codes and in labels; no HXL row.
    let p = same_as_csv(&app, &w.coord, &format!("{base}/responses.csv")).await;
    assert_eq!(p["types"]["org_type"], "string");
    assert_eq!(p["types"]["survey_version"], "int64");
    assert_eq!(p["types"]["submitted_on"], "date32[day]");
    assert_eq!(p["types"]["support_types/data"], "int64");
    assert_eq!(p["num_rows"], ORG_TYPES.len());
    assert!(p["metadata"]["hxl"].as_str().unwrap().contains("#org+type"));
    let seen = p["rows"].to_string();
    for secret in &w.secrets {
        assert!(
            !seen.contains(secret.as_str()),
            "the Parquet carries {secret}"
        );
    }
    same_as_csv(
        &app,
        &w.coord,
        &format!("{base}/responses.csv?labels=true&lang=fr"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{base}/responses.parquet?hxl=true"),
        400,
        Some("hxl"),
    )
    .await;
    refused(
        &app,
        &w.coord_b,
        &format!("{base}/responses.parquet"),
        403,
        None,
    )
    .await;

    // HXL: libhxl finds the hashtags and the rows.
    let body = ok(&app, &w.coord, &format!("{base}/responses.csv?hxl=true")).await;
    let h = read(&app, "hxl", "csv", &body);
    let tags: Vec<&str> = h["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for tag in [
        "#org+type",
        "#date+reported",
        "#meta+lang",
        "#indicator+i1_1+meetings_useful+code",
    ] {
        assert!(tags.contains(&tag), "{tag} not in {tags:?}");
    }
    assert_eq!(h["rows"], ORG_TYPES.len());
    // The lone un row hides among the smallest other type (nngo): four rows show none.
    assert_eq!(h["org_types"], json!(["ingo"]));

    // XLSX: responses, questions and choices sheets.
    let (status, headers, body) = get(
        &app,
        &w.coord,
        &format!("{base}/responses.xlsx?hxl=true&lang=ar"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let x = read(&app, "xlsx", "xlsx", &body);
    assert_eq!(
        x["sheet_names"],
        json!(["responses", "questions", "choices"])
    );
    let sheet = x["sheets"]["responses"].as_array().unwrap();
    assert_eq!(sheet.len(), 2 + ORG_TYPES.len(), "header, hashtags, rows");
    assert_eq!(sheet[1][1], "#org+type");
    let questions = x["sheets"]["questions"].to_string();
    assert!(questions.contains("meetings_useful") && questions.contains("تساعد اجتماعات"));
    let choices = x["sheets"]["choices"].to_string();
    assert!(choices.contains("strongly_agree") && choices.contains("\"training\""));
    let text = String::from_utf8_lossy(&body).to_string();
    for secret in &w.secrets {
        assert!(!text.contains(secret.as_str()));
    }

    // Bad input names the parameter; no access is refused as everywhere else.
    refused(
        &app,
        &w.coord,
        &format!("{base}/responses.csv?lang=de"),
        400,
        Some("lang"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{base}/responses.csv?labels=maybe"),
        400,
        Some("labels"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{base}/responses.csv?hxl=yes"),
        400,
        Some("hxl"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{base}/responses.json"),
        400,
        Some("file"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{base}/actions.csv?labels=true"),
        400,
        Some("labels"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        "/api/v1/rounds/999999/exports/responses.csv",
        404,
        None,
    )
    .await;
    refused(
        &app,
        &w.coord_b,
        &format!("{base}/responses.csv"),
        403,
        None,
    )
    .await;
    refused(
        &app,
        &w.other_lead,
        &format!("{base}/responses.xlsx"),
        403,
        None,
    )
    .await;
    let r = app
        .client
        .get(app.url(&format!("{base}/responses.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The PSEA focal point reads the operation, so the round too.
    ok(&app, &w.psea, &format!("{base}/responses.csv")).await;
}
both_backends!(responses_export, responses, spawn);

/// An open round: nothing before the first snapshot (409, saying why), then only the
/// published responses.
async fn open_round(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let (round, invitations) = round_with(&app, &coord, &["ingo"; 7]).await;
    let path = format!("/api/v1/rounds/{round}/exports/responses.csv");
    for (i, inv) in invitations.iter().take(5).enumerate() {
        answer(&app, inv["token"].as_str().unwrap(), i).await;
    }
    let (status, _, body) = get(&app, &coord, &path).await;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(v["message"].as_str().unwrap().contains("published"), "{v}");
    // The sixth response publishes a first snapshot of three (m = 3).
    answer(&app, invitations[5]["token"].as_str().unwrap(), 5).await;
    let rows = csv_rows(&read(&app, "csv", "csv", &ok(&app, &coord, &path).await));
    assert_eq!(rows.len(), 1 + 3, "the published snapshot only");
    // The seventh does not move it.
    answer(&app, invitations[6]["token"].as_str().unwrap(), 6).await;
    let rows = csv_rows(&read(&app, "csv", "csv", &ok(&app, &coord, &path).await));
    assert_eq!(rows.len(), 1 + 3);
}
both_backends!(open_round_export, open_round, spawn);

async fn feedback_and_actions(app: TestApp) {
    let w = world(&app).await;
    let refs = feedback_items(
        &app,
        &[
            ("complaint", "The water point in block 4 is broken"),
            ("sensitive", "A distribution worker asked for favours"),
        ],
    )
    .await;
    let (open_ref, sealed_ref) = (&refs[0], &refs[1]);
    let path = "/api/v1/operations/shelter-yemen/exports/feedback.csv";

    // The coordinator: the ordinary item, no sealed one, no contact details.
    let body = ok(&app, &w.coord, &format!("{path}?hxl=true")).await;
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(text.contains(open_ref.as_str()));
    assert!(
        !text.contains(sealed_ref.as_str()),
        "sealed item for a coordinator"
    );
    assert!(
        !text.contains("favours") && !text.contains("912 345"),
        "{text}"
    );
    let h = read(&app, "hxl", "csv", &body);
    let tags = h["tags"].to_string();
    for tag in ["#adm1+code", "#date+reported", "#meta+lang", "#status+code"] {
        assert!(tags.contains(tag), "{tag} not in {tags}");
    }
    assert_eq!(h["rows"], 1);

    // The PSEA focal point: both, still without contact details.
    let body = ok(
        &app,
        &w.psea,
        "/api/v1/operations/shelter-yemen/exports/feedback.xlsx",
    )
    .await;
    let x = read(&app, "xlsx", "xlsx", &body);
    let sheet = x["sheets"]["feedback"].as_array().unwrap();
    assert_eq!(sheet.len(), 3, "{sheet:?}");
    let all = x.to_string();
    assert!(all.contains(sealed_ref.as_str()) && all.contains(open_ref.as_str()));
    assert!(!all.contains("912 345"));

    // Parquet: the same rows for each of them.
    let p = same_as_csv(&app, &w.coord, path).await;
    assert_eq!(p["num_rows"], 1);
    assert_eq!(p["types"]["created_at"], "timestamp[us, tz=UTC]");
    let p = same_as_csv(&app, &w.psea, path).await;
    assert_eq!(p["num_rows"], 2);
    assert!(!p.to_string().contains("912 345"));

    refused(&app, &w.coord_b, path, 403, None).await;
    refused(
        &app,
        &w.coord,
        "/api/v1/operations/no-such-op/exports/feedback.csv",
        404,
        None,
    )
    .await;
    refused(
        &app,
        &w.coord,
        "/api/v1/operations/shelter-yemen/exports/feedback.json",
        400,
        Some("file"),
    )
    .await;

    // The action plan, due a month from now.
    let due = (chrono::Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    let r = app
        .post_json(&w.coord, &format!("/api/v1/rounds/{}/actions", w.round),
            json!({"indicator": "1.1", "action": "=cmd|' /C calc'!A0", "owner": "IM officer", "due_date": due}))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let body = ok(
        &app,
        &w.coord,
        &format!("/api/v1/rounds/{}/exports/actions.csv", w.round),
    )
    .await;
    let rows = csv_rows(&read(&app, "csv", "csv", &body));
    assert_eq!(rows.len(), 2);
    assert_eq!(column(&rows, "function"), ["1"]);
    assert_eq!(column(&rows, "indicator"), ["1.1"]);
    assert_eq!(column(&rows, "due_date"), [due.as_str()]);
    assert_eq!(column(&rows, "overdue"), ["0"]);
    // A formula typed into a field stays text in a spreadsheet.
    assert!(column(&rows, "action")[0].starts_with("'="));
    // The Parquet has the action as typed, unguarded (no spreadsheet opens it).
    let p = same_as_csv(
        &app,
        &w.coord,
        &format!("/api/v1/rounds/{}/exports/actions.csv", w.round),
    )
    .await;
    assert_eq!(p["types"]["due_date"], "date32[day]");
    let body = ok(
        &app,
        &w.coord,
        &format!("/api/v1/rounds/{}/exports/actions.xlsx", w.round),
    )
    .await;
    assert_eq!(
        read(&app, "xlsx", "xlsx", &body)["sheet_names"],
        json!(["actions"])
    );
}
both_backends!(feedback_and_actions_export, feedback_and_actions, spawn);

/// The download buttons of the round report (the round's files and the operation's score
/// history), the inbox and the scorecard (the cluster's) lead to the files.
async fn download_buttons(app: TestApp) {
    let w = world(&app).await;
    let browser = app.login("coord@shelter.example").await;
    let period = common::this_period();
    let pages = [
        (
            format!("/rounds/{}/report", w.round),
            format!("/api/v1/rounds/{}/exports/responses.xlsx", w.round),
        ),
        (
            "/feedback".to_string(),
            "/api/v1/operations/shelter-yemen/exports/feedback.csv".to_string(),
        ),
        (
            format!("/clusters/shelter/scorecard?period={period}"),
            format!("/api/v1/rounds/{}/exports/responses.csv", w.round),
        ),
        (
            format!("/rounds/{}/report", w.round),
            "/api/v1/operations/shelter-yemen/exports/scores.xlsx".to_string(),
        ),
        (
            format!("/rounds/{}/report", w.round),
            format!("/api/v1/rounds/{}/exports/responses.parquet", w.round),
        ),
        (
            format!("/clusters/shelter/scorecard?period={period}"),
            "/api/v1/clusters/shelter/exports/scores.parquet".to_string(),
        ),
        (
            format!("/clusters/shelter/scorecard?period={period}"),
            "/api/v1/clusters/shelter/exports/actions.csv".to_string(),
        ),
    ];
    for (page, link) in pages {
        let r = browser.get(app.url(&page)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{page}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"{link}\"")),
            "{page} has no {link}"
        );
        let r = browser.get(app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{link} from {page}");
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
    }
}
both_backends!(download_buttons_export, download_buttons, spawn);

/// Feedback items of shelter-yemen from the public form, with contact details; their
/// references.
async fn feedback_items(app: &TestApp, items: &[(&str, &str)]) -> Vec<String> {
    let mut refs = Vec::new();
    for (category, message) in items {
        let r = app
            .new_client()
            .post(app.url("/api/v1/feedback"))
            .json(
                &json!({"operation": "shelter-yemen", "language": "en", "answers": {
                "category": category, "message": message,
                "consent_to_contact": "yes", "contact": "Amina, +249 912 345 678"}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        refs.push(
            r.json::<Value>().await.unwrap()["reference"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    refs
}

/// An OData error: the status, OData's error shape, the option it names.
async fn odata_refused(app: &TestApp, token: &str, path: &str, status: u16, target: Option<&str>) {
    let (got, _, body) = get(app, token, path).await;
    assert_eq!(got, status, "{path}: {}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(v["error"]["message"].is_string(), "{v}");
    if let Some(t) = target {
        assert_eq!(v["error"]["target"], t, "{path}: {v}");
    }
}

/// The OData feed read by a published client (python-odata) with Basic auth, three
/// entities a page, following @odata.nextLink to the end; counts compared with the API.
async fn odata_feed(app: TestApp) {
    let w = world(&app).await;
    feedback_items(
        &app,
        &[
            ("complaint", "The water point in block 4 is broken"),
            ("question", "When is the next distribution?"),
            ("sensitive", "A distribution worker asked for favours"),
        ],
    )
    .await;
    let service = app.url(&format!("/odata/rounds/{}", w.round));
    let seen = tool(vec![
        "odata".into(),
        service.clone(),
        w.coord.clone(),
        "3".into(),
    ])
    .await;
    assert_eq!(seen["sets"], json!(["Feedback", "Responses", "Scores"]));
    let keys: Vec<u64> = (1..=ORG_TYPES.len() as u64).collect();
    assert_eq!(seen["Responses"]["rows"], ORG_TYPES.len());
    assert_eq!(seen["Responses"]["keys"], json!(keys));
    assert_eq!(seen["Responses"]["count"], ORG_TYPES.len());
    assert_eq!(
        seen["org_types"],
        json!(["ingo"]),
        "the same suppression as the files"
    );
    // Scores: overall, every function, every indicator, as the API has them.
    let scores: Value = app
        .get_json(&w.coord, &format!("/api/v1/rounds/{}/scores", w.round))
        .await
        .json()
        .await
        .unwrap();
    let functions = scores["functions"].as_array().unwrap();
    let indicators: usize = functions
        .iter()
        .map(|f| f["indicators"].as_array().unwrap().len())
        .sum();
    assert_eq!(seen["Scores"]["rows"], 1 + functions.len() + indicators);
    // Feedback: the coordinator's inbox count (the sealed item is not there).
    let inbox: Value = app
        .get_json(&w.coord, "/api/v1/feedback?operation=shelter-yemen")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["total"], 2);
    assert_eq!(seen["Feedback"]["rows"], inbox["total"]);
    assert_eq!(seen["Feedback"]["count"], inbox["total"]);
    assert_eq!(seen["feedback_since_yesterday"], 2);

    // By hand: paging links, $select, $count, the focal point's view, refusals.
    let get = |token: &str, path: String| {
        app.client
            .get(app.url(&path))
            .bearer_auth(token)
            .header("Prefer", "odata.maxpagesize=2")
            .send()
    };
    let base = format!("/odata/rounds/{}", w.round);
    let r = get(
        &w.coord,
        format!("{base}/Responses?$select=org_type,submitted_on&$count=true"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["odata-version"], "4.0");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["@odata.count"], ORG_TYPES.len());
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    let first = v["value"][0].as_object().unwrap();
    let fields: BTreeSet<&str> = first.keys().map(|k| k.as_str()).collect();
    assert_eq!(fields, BTreeSet::from(["row", "org_type", "submitted_on"]));
    let next = v["@odata.nextLink"].as_str().expect("a next page");
    assert!(
        next.contains("%24skip=2") || next.contains("$skip=2"),
        "{next}"
    );
    let r = app
        .client
        .get(app.url(&format!("{base}/Feedback/$count")))
        .bearer_auth(&w.psea)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        "3",
        "the PSEA focal point counts the sealed item"
    );
    let text = get(&w.psea, format!("{base}/Feedback"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("912 345"), "no contact details");
    for (query, option) in [
        ("$orderby=created_at", "$orderby"),
        ("$filter=status eq 'closed'", "$filter"),
        ("$filter=channel ge 2026-01-01", "$filter"),
        ("$top=abc", "$top"),
        ("$select=email", "$select"),
    ] {
        odata_refused(
            &app,
            &w.coord,
            &format!("{base}/Feedback?{query}"),
            400,
            Some(option),
        )
        .await;
    }
    odata_refused(&app, &w.coord, &format!("{base}/Invitations"), 404, None).await;
    odata_refused(&app, &w.coord_b, &format!("{base}/Responses"), 403, None).await;
    odata_refused(&app, &w.other_lead, &format!("{base}/$metadata"), 403, None).await;
    let r = app.client.get(app.url(&base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let r = app
        .client
        .get(app.url(&base))
        .basic_auth("x", Some("not-a-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A browser that once answered the Basic prompt sends it everywhere, cross-site forms
    // included: Basic reads the feed and nothing else, so it cannot stand in for a token
    // (which skips the CSRF check) on any other route.
    let r = app
        .client
        .get(app.url(&base))
        .basic_auth("x", Some(&w.coord))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(app.url("/api/v1/rounds"))
        .basic_auth("x", Some(&w.coord))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{}/close", w.round)))
        .basic_auth("x", Some(&w.coord))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
both_backends!(odata_feed_export, odata_feed, spawn);

/// Scores of many rounds (an operation's history, a cluster's rounds) and a cluster's
/// action plans: the rules of the single-round scores round by round, read back as CSV,
/// XLSX and Parquet.
async fn history(app: TestApp) {
    let w = world(&app).await;
    let lead = app.user_token("lead@shelter.example", "global_lead", Some("shelter"), &[]);
    // A second round, still open, with a published snapshot of three of its six responses.
    let (open, invitations) = round_with(&app, &w.coord, &["ingo"; 6]).await;
    for (i, inv) in invitations.iter().enumerate() {
        answer(&app, inv["token"].as_str().unwrap(), i).await;
    }
    let r = app
        .post_json(
            &w.coord,
            &format!("/api/v1/rounds/{}/actions", w.round),
            json!({"indicator": "2.1", "action": "Joint needs assessment", "owner": "IM officer"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let path = "/api/v1/operations/shelter-yemen/exports/scores.csv";
    let body = ok(&app, &w.coord, path).await;
    let rows = csv_rows(&read(&app, "csv", "csv", &body));
    let (round, org, level, provisional) = (
        column(&rows, "round"),
        column(&rows, "org_type"),
        column(&rows, "level"),
        column(&rows, "provisional"),
    );
    let (closed_id, open_id) = (w.round.to_string(), open.to_string());
    let rounds: BTreeSet<&str> = round.iter().copied().collect();
    assert_eq!(
        rounds,
        BTreeSet::from([closed_id.as_str(), open_id.as_str()])
    );
    // Suppressed stays suppressed: the lone un partner has no breakdown, the open round none.
    let mut breakdown: BTreeSet<(&str, &str)> = BTreeSet::new();
    for i in 0..round.len() {
        assert_eq!(provisional[i], if round[i] == open_id { "1" } else { "0" });
        if !org[i].is_empty() {
            breakdown.insert((round[i], org[i]));
        }
    }
    assert_eq!(
        breakdown,
        BTreeSet::from([(closed_id.as_str(), "ingo"), (closed_id.as_str(), "nngo")])
    );
    // The numbers are those of the single-round scores (the open round's published snapshot).
    let (score, n) = (column(&rows, "score"), column(&rows, "n"));
    for id in [w.round, open] {
        let api: Value = app
            .get_json(&w.coord, &format!("/api/v1/rounds/{id}/scores"))
            .await
            .json()
            .await
            .unwrap();
        let i = (0..round.len())
            .find(|&i| round[i] == id.to_string() && level[i] == "overall" && org[i].is_empty())
            .expect("an overall row");
        let got: f64 = score[i].parse().unwrap();
        assert!((got - api["overall"]["score"].as_f64().unwrap()).abs() < 1e-9);
        assert_eq!(n[i], api["overall"]["n"].to_string());
        let rows_of = round.iter().filter(|r| **r == id.to_string()).count();
        if id == open {
            assert_eq!(n[i], "3", "the published snapshot only");
            assert_eq!(api["by_org_type"], json!([]));
            let functions = api["functions"].as_array().unwrap();
            let indicators: usize = functions
                .iter()
                .map(|f| f["indicators"].as_array().unwrap().len())
                .sum();
            assert_eq!(rows_of, 1 + functions.len() + indicators);
        }
    }
    let p = same_as_csv(&app, &w.coord, path).await;
    assert_eq!(p["types"]["score"], "double");
    assert_eq!(p["types"]["closes_at"], "timestamp[us, tz=UTC]");
    let x = read(
        &app,
        "xlsx",
        "xlsx",
        &ok(
            &app,
            &w.coord,
            "/api/v1/operations/shelter-yemen/exports/scores.xlsx?hxl=true",
        )
        .await,
    );
    assert_eq!(x["sheet_names"], json!(["scores"]));
    assert_eq!(
        x["sheets"]["scores"].as_array().unwrap().len(),
        1 + rows.len()
    );

    // A cluster: its lead sees every operation's rounds, a coordinator only their own.
    let cluster = "/api/v1/clusters/shelter/exports";
    let lead_rows = csv_rows(&read(
        &app,
        "csv",
        "csv",
        &ok(&app, &lead, &format!("{cluster}/scores.csv")).await,
    ));
    assert_eq!(
        lead_rows, rows,
        "shelter-yemen has the cluster's only rounds"
    );
    same_as_csv(&app, &lead, &format!("{cluster}/scores.csv")).await;
    let b = csv_rows(&read(
        &app,
        "csv",
        "csv",
        &ok(&app, &w.coord_b, &format!("{cluster}/scores.csv")).await,
    ));
    assert_eq!(
        b.len(),
        1,
        "coordinator B has no round in shelter-yemen: {b:?}"
    );
    let actions = same_as_csv(&app, &lead, &format!("{cluster}/actions.csv")).await;
    let actions = csv_rows(&actions);
    assert_eq!(column(&actions, "operation"), ["shelter-yemen"]);
    assert_eq!(column(&actions, "round"), [closed_id.as_str()]);
    assert_eq!(column(&actions, "function"), ["2"]);
    let b = csv_rows(&read(
        &app,
        "csv",
        "csv",
        &ok(&app, &w.coord_b, &format!("{cluster}/actions.csv")).await,
    ));
    assert_eq!(b.len(), 1);
    let own = csv_rows(&read(
        &app,
        "csv",
        "csv",
        &ok(
            &app,
            &w.coord,
            "/api/v1/operations/shelter-yemen/exports/actions.csv",
        )
        .await,
    ));
    assert_eq!(own, actions);

    // Others are refused; bad parameters are named.
    refused(
        &app,
        &w.other_lead,
        &format!("{cluster}/scores.csv"),
        403,
        None,
    )
    .await;
    refused(
        &app,
        &w.other_lead,
        &format!("{cluster}/actions.parquet"),
        403,
        None,
    )
    .await;
    refused(&app, &w.coord_b, path, 403, None).await;
    refused(
        &app,
        &w.other_lead,
        "/api/v1/operations/shelter-yemen/exports/actions.xlsx",
        403,
        None,
    )
    .await;
    refused(
        &app,
        &w.coord,
        "/api/v1/clusters/no-such/exports/scores.csv",
        404,
        None,
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{cluster}/scores.csv?labels=true"),
        400,
        Some("labels"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{cluster}/scores.csv?lang=fr"),
        400,
        Some("lang"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{cluster}/feedback.csv"),
        400,
        Some("file"),
    )
    .await;
    refused(
        &app,
        &w.coord,
        &format!("{cluster}/scores.parquet?hxl=true"),
        400,
        Some("hxl"),
    )
    .await;
    let r = app
        .client
        .get(app.url(&format!("{cluster}/scores.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
both_backends!(history_export, history, spawn);
