//! Scorecards through the real server: who may send, once per cluster and period, the MIME
//! of the email as delivered (file transport here; over real SMTP in tests/mail.rs), the web
//! view with its charts, and the CLI dry run.

mod common;
use common::TestApp;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

struct World {
    admin: String,
    coord: String,
    lead: String,
    other_lead: String,
    lead_email: String,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token();
    let lead_email = format!("lead-{}@shelter.example.org", uuid::Uuid::new_v4().simple());
    for (code, name, lead, lang) in [
        (
            "shelter",
            "Global Shelter Cluster",
            lead_email.as_str(),
            "fr",
        ),
        (
            "health",
            "Global Health Cluster",
            "lead@health.example.org",
            "en",
        ),
    ] {
        let r = app
            .post_json(
                &admin,
                "/api/v1/clusters",
                json!({"code": code, "name": name, "lead_emails": [lead], "language": lang}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    for (slug, cluster) in [
        ("shelter-yemen", "shelter"),
        ("shelter-sudan", "shelter"),
        ("health-yemen", "health"),
    ] {
        let r = app
            .post_json(&admin, "/api/v1/operations", json!({"slug": slug, "cluster": cluster, "country": "YE", "name": format!("{slug} operation")}))
            .await;
        assert_eq!(r.status(), 201);
    }
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    World {
        lead: app.user_token("lead-a@example.org", "global_lead", Some("shelter"), &[]),
        other_lead: app.user_token("lead-h@example.org", "global_lead", Some("health"), &[]),
        admin,
        coord,
        lead_email,
    }
}

fn eml_to(dir: &Path, to: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "eml")
                && std::fs::read_to_string(&p).is_ok_and(|s| s.contains(to))
            {
                out.push(p);
            }
        }
    }
    out
}

async fn send_rules_and_mime(app: TestApp) {
    let w = world(&app).await;
    common::closed_round(&app, &w.coord, "shelter-yemen", 6).await;
    let r = app
        .new_client()
        .post(app.url("/api/v1/feedback"))
        .json(
            &json!({"operation": "shelter-yemen", "answers": {"category": "sensitive",
            "message": "secret matter", "consent_to_contact": "no"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Who may send.
    let period = common::this_period();
    let body = json!({"cluster": "shelter", "period": period});
    for (token, status) in [(&w.coord, 403), (&w.other_lead, 403)] {
        let r = app
            .post_json(token, "/api/v1/scorecards/send", body.clone())
            .await;
        assert_eq!(r.status(), status);
    }
    let r = app
        .post_json(
            &w.lead,
            "/api/v1/scorecards/send",
            json!({"period": "2026-13"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["fields"]
        .get("period")
        .is_some());
    let r = app
        .post_json(
            &w.admin,
            "/api/v1/scorecards/send",
            json!({"cluster": "nope"}),
        )
        .await;
    assert_eq!(r.status(), 404);

    // The lead sends their cluster's scorecard: queued once.
    let r = app
        .post_json(&w.lead, "/api/v1/scorecards/send", body.clone())
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["queued"][0]["cluster"], "shelter");
    assert_eq!(v["queued"][0]["period"], period.as_str());
    assert_eq!(v["queued"][0]["recipients"], json!([w.lead_email]));
    let r = app
        .post_json(&w.admin, "/api/v1/scorecards/send", body.clone())
        .await;
    let v: Value = r.json().await.unwrap();
    assert!(v["queued"].as_array().unwrap().is_empty());
    assert_eq!(v["skipped"][0]["cluster"], "shelter");
    // Forced: queued again.
    let mut forced = body.clone();
    forced["force"] = json!(true);
    let v: Value = app
        .post_json(&w.admin, "/api/v1/scorecards/send", forced)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["queued"].as_array().unwrap().len(), 1);

    // The outbox (admin only) shows both messages; the worker delivers them as .eml files.
    assert_eq!(app.get_json(&w.lead, "/api/v1/outbox").await.status(), 403);
    let dir = app.config.outbox_dir();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while eml_to(&dir, &w.lead_email).len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "scorecards not delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The worker writes the message, then marks its row sent: wait for both rows too.
    loop {
        let outbox: Value = app
            .get_json(&w.admin, "/api/v1/outbox?status=sent")
            .await
            .json()
            .await
            .unwrap();
        let sent = outbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "scorecard")
            .count();
        assert!(sent <= 2, "{sent} scorecards sent, 2 queued");
        if sent == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "scorecard rows not marked sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let files = eml_to(&dir, &w.lead_email);
    let raw = std::fs::read(&files[0]).unwrap();
    // The cluster's language is French.
    common::check_scorecard_mime(&raw, &w.lead_email, "tableau de bord");
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains("secret matter"),
        "sensitive content never in a scorecard"
    );

    // The web view: same content, SVG charts, a send button for the lead.
    let c = app.login("lead-a@example.org").await;
    let page = c
        .get(app.url(&format!("/clusters/shelter/scorecard?period={period}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/v1/clusters/shelter/scorecard/charts/grid.svg?period"));
    assert!(html.contains("shelter-yemen operation"));
    assert!(html.contains("/clusters/shelter/scorecard/send"));
    // The detail the email leaves out: function tables and each round's full scores CSV.
    assert!(html.contains("border-collapse:collapse;margin-bottom:8px"));
    assert!(html.contains("/scores.csv\" download>"));
    for chart in ["grid.svg", "volume.png", "functions-shelter-yemen.svg"] {
        let r = app
            .get_json(
                &w.lead,
                &format!("/api/v1/clusters/shelter/scorecard/charts/{chart}?period={period}"),
            )
            .await;
        assert_eq!(r.status(), 200, "{chart}");
    }
    let r = app
        .get_json(
            &w.lead,
            "/api/v1/clusters/shelter/scorecard/charts/functions-health-yemen.svg",
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .get_json(
            &w.other_lead,
            "/api/v1/clusters/shelter/scorecard/charts/grid.svg",
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .login("lead-h@example.org")
        .await
        .get(app.url("/clusters/shelter/scorecard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The button, without and with its CSRF token.
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .post(app.url("/clusters/shelter/scorecard/send"))
        .form(&[("period", "2026-10")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.url("/clusters/shelter/scorecard/send"))
        .form(&[("csrf_token", csrf.as_str()), ("period", "2026-10")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("sent=queued"));
}
both_backends!(send_and_view, send_rules_and_mime);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_dry_run_writes_files_and_queues_nothing() {
    let app = TestApp::spawn(common::Backend::Sqlite).await.unwrap();
    let w = world(&app).await;
    common::closed_round(&app, &w.coord, "shelter-yemen", 3).await;
    let period = common::this_period();
    let out = app.dir.path().join("preview");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_clusterpulse"))
        .args([
            "scorecards",
            "send",
            "--cluster",
            "shelter",
            "--period",
            &period,
            "--dry-run",
            "--out",
        ])
        .arg(&out)
        .env("DATABASE_URL", &app.config.database_url)
        .env("CLUSTERPULSE_DATA_DIR", app.dir.path())
        .env("CLUSTERPULSE_SECRET_KEY", common::SECRET)
        .env("CLUSTERPULSE_SURVEYS_DIR", common::surveys_dir())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join(format!("shelter-{period}.html"))).unwrap();
    assert!(html.contains(&format!("shelter-{period}-grid.png")));
    assert!(out.join(format!("shelter-{period}-grid.png")).exists());
    let eml = std::fs::read(out.join(format!("shelter-{period}-0.eml"))).unwrap();
    common::check_scorecard_mime(&eml, &w.lead_email, "tableau de bord");
    let outbox: Value = app
        .get_json(&w.admin, "/api/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    assert!(outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["kind"] != "scorecard"));
    // An unknown cluster is named.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_clusterpulse"))
        .args([
            "scorecards",
            "send",
            "--cluster",
            "atlantis",
            "--dry-run",
            "--out",
        ])
        .arg(&out)
        .env("DATABASE_URL", &app.config.database_url)
        .env("CLUSTERPULSE_DATA_DIR", app.dir.path())
        .env("CLUSTERPULSE_SECRET_KEY", common::SECRET)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("atlantis"));
}

/// Two server instances on one database asked at the same moment: one queues, one skips.
async fn two_instances_send_once(app: TestApp) {
    let w = world(&app).await;
    common::closed_round(&app, &w.coord, "shelter-yemen", 3).await;
    let other = app.second_instance().await;
    let body = json!({"cluster": "shelter", "period": "2026-09"});
    let (a, b) = tokio::join!(
        app.post_json(&w.admin, "/api/v1/scorecards/send", body.clone()),
        other.post_json(&w.admin, "/api/v1/scorecards/send", body.clone()),
    );
    assert_eq!(a.status(), 200);
    assert_eq!(b.status(), 200);
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    let queued = a["queued"].as_array().unwrap().len() + b["queued"].as_array().unwrap().len();
    let skipped = a["skipped"].as_array().unwrap().len() + b["skipped"].as_array().unwrap().len();
    assert_eq!((queued, skipped), (1, 1), "{a} {b}");
    let outbox: Value = app
        .get_json(&w.admin, "/api/v1/outbox")
        .await
        .json()
        .await
        .unwrap();
    let n = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "scorecard")
        .count();
    assert_eq!(n, 1);
}
both_backends!(two_instances, two_instances_send_once);

/// Moves a closed round in time: it opened 30 days before `closed` and closed then.
fn close_round_at(app: &TestApp, id: i64, closed: chrono::NaiveDateTime) {
    use clusterpulse::db::schema::rounds;
    use diesel::prelude::*;
    let mut conn = app.pool.get().unwrap();
    diesel::update(rounds::table.find(id as i32))
        .set((
            rounds::opens_at.eq(closed - chrono::Duration::days(30)),
            rounds::closes_at.eq(closed),
            rounds::closed_at.eq(Some(closed)),
            rounds::created_at.eq(closed - chrono::Duration::days(31)),
        ))
        .execute(&mut conn)
        .unwrap();
}

fn at(s: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Period boundaries with an injected clock: a round closed in the last second of a month is
/// in that month's scorecard, one closed at midnight is in the next; the monthly schedule's
/// first pass of a new year (00:00–00:10 UTC on 1 January) sends December, once; February
/// of a leap year ends on the 29th.
async fn calendar_boundaries(app: TestApp) {
    use clusterpulse::domain::scorecards::{self, build};
    let w = world(&app).await;
    let yemen = common::closed_round(&app, &w.coord, "shelter-yemen", 3).await;
    let sudan_coord = app.user_token(
        "coord-sd@example.org",
        "coordinator",
        None,
        &["shelter-sudan"],
    );
    let sudan = common::closed_round(&app, &sudan_coord, "shelter-sudan", 3).await;
    close_round_at(&app, yemen, at("2026-12-31 23:59:59"));
    close_round_at(&app, sudan, at("2027-01-01 00:00:00"));

    let (catalog, _) =
        clusterpulse::domain::catalog::load_catalog(&app.config.surveys_dir).unwrap();
    let templates = clusterpulse::render::templates::Templates::load(None).unwrap();
    let mut conn = app.pool.get().unwrap();
    let shelter = || {
        clusterpulse::db::models::cluster_by_code(&mut app.pool.get().unwrap(), "shelter")
            .unwrap()
            .unwrap()
    };
    let with_round = |sc: &scorecards::Scorecard| -> Vec<String> {
        let mut v: Vec<String> = sc
            .operations
            .iter()
            .filter(|c| c.result.is_some())
            .map(|c| c.operation.slug.clone())
            .collect();
        v.sort();
        v
    };

    // December: the round of 23:59:59 on the 31st is in, the one of midnight is not.
    let dec = build(
        &mut conn,
        &catalog,
        shelter(),
        "2026-12",
        at("2027-01-01 00:05:00"),
    )
    .unwrap();
    assert_eq!(with_round(&dec), ["shelter-yemen"]);
    // Seen from inside December, one second before it closed, the round is not there yet.
    let early = build(
        &mut conn,
        &catalog,
        shelter(),
        "2026-12",
        at("2026-12-31 23:59:58"),
    )
    .unwrap();
    assert!(with_round(&early).is_empty());
    // January of the next year has both (the latest closed round of each operation).
    let jan = build(
        &mut conn,
        &catalog,
        shelter(),
        "2027-01",
        at("2027-01-20 12:00:00"),
    )
    .unwrap();
    assert_eq!(with_round(&jan), ["shelter-sudan", "shelter-yemen"]);

    // The monthly schedule: nothing in December for December; on 1 January at 00:00 it
    // sends December (both clusters have leads), and at 00:10 nothing more.
    let mut config = app.config.clone();
    config.scorecards = scorecards::Schedule::Monthly;
    let sent_periods = |conn: &mut clusterpulse::db::DbConnection| -> Vec<String> {
        use clusterpulse::db::schema::scorecard_sends;
        use diesel::prelude::*;
        scorecard_sends::table
            .select(scorecard_sends::period)
            .order(scorecard_sends::id)
            .load(conn)
            .unwrap()
    };
    let n = scorecards::scheduled(
        &mut conn,
        &catalog,
        &templates,
        &config,
        at("2026-12-31 23:59:59"),
    )
    .unwrap();
    assert_eq!(n, 2, "November, for both clusters");
    assert_eq!(sent_periods(&mut conn), ["2026-11", "2026-11"]);
    let n = scorecards::scheduled(
        &mut conn,
        &catalog,
        &templates,
        &config,
        at("2027-01-01 00:00:00"),
    )
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(sent_periods(&mut conn)[2..], ["2026-12", "2026-12"]);
    let n = scorecards::scheduled(
        &mut conn,
        &catalog,
        &templates,
        &config,
        at("2027-01-01 00:10:00"),
    )
    .unwrap();
    assert_eq!(n, 0, "December goes out once");
    // The December email of the shelter leads is queued under its once-per-period key.
    let keys: Vec<Option<String>> = {
        use clusterpulse::db::schema::outbox;
        use diesel::prelude::*;
        outbox::table
            .filter(outbox::kind.eq("scorecard"))
            .select(outbox::dedupe_key)
            .load(&mut conn)
            .unwrap()
    };
    assert!(keys.contains(&Some("scorecard:shelter:2026-12:0".to_string())));

    // A leap year: February 2028 runs to the 29th, 23:59:59 included.
    close_round_at(&app, yemen, at("2028-02-29 23:59:59"));
    close_round_at(&app, sudan, at("2028-03-01 00:00:00"));
    let feb = build(
        &mut conn,
        &catalog,
        shelter(),
        "2028-02",
        at("2028-03-01 00:01:00"),
    )
    .unwrap();
    assert_eq!(with_round(&feb), ["shelter-yemen"]);
    let n = scorecards::scheduled(
        &mut conn,
        &catalog,
        &templates,
        &config,
        at("2028-03-01 00:00:00"),
    )
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(sent_periods(&mut conn).last().unwrap(), "2028-02");
}
both_backends!(calendar, calendar_boundaries);

/// The shifted-clock pass of the test command (faketime) names the month it moved the clock
/// to; this makes sure the server's clock really moved, so that pass cannot pass vacuously.
#[test]
fn the_clock_is_the_one_the_test_command_set() {
    if let Ok(expected) = std::env::var("CLUSTERPULSE_TEST_EXPECT_PERIOD") {
        assert_eq!(common::this_period(), expected);
    }
}

/// The cells of one operation's row of the grid table: (score, mark) in function order.
fn grid_row(html: &str, operation: &str) -> Vec<(String, String)> {
    let table = html
        .split("<table id=\"grid-table\"")
        .nth(1)
        .expect("the grid as an HTML table")
        .split("</table>")
        .next()
        .unwrap();
    let row = table
        .split("<tr>")
        .find(|r| r.contains(&format!(">{operation}</th>")))
        .unwrap_or_else(|| panic!("no row for {operation}"));
    row.split("<td ")
        .skip(1)
        .map(|cell| {
            let score = cell
                .split("<strong style=\"font-size:14px\">")
                .nth(1)
                .map(|s| s.split('<').next().unwrap().to_string())
                .unwrap_or_default();
            let mark = cell
                .split("<span style=\"font-size:11px\">")
                .nth(1)
                .map(|s| s.split('<').next().unwrap().replace("&#x3D;", "="))
                .unwrap_or_default();
            (score, mark)
        })
        .collect()
}

/// The delivered email carries the operations × functions grid as an HTML table too (for
/// mail clients that block images, and phones), with each score, a status letter beside the
/// colour, and a reason where there is no status; each chart's alt text names its own
/// operation and functions; the plain-text part has the same numbers.
async fn grid_as_table(app: TestApp) {
    let w = world(&app).await;
    let coord_sudan = app.user_token(
        "coord-sd@example.org",
        "coordinator",
        None,
        &["shelter-sudan"],
    );
    let yemen = common::closed_round(&app, &w.coord, "shelter-yemen", 4).await;
    // Two responses: fewer than the three needed for a status.
    let sudan = common::closed_round(&app, &coord_sudan, "shelter-sudan", 2).await;
    let period = common::this_period();
    let r = app
        .post_json(
            &w.lead,
            "/api/v1/scorecards/send",
            json!({"cluster": "shelter", "period": period}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let dir = app.config.outbox_dir();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while eml_to(&dir, &w.lead_email).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "scorecard not delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let raw = std::fs::read(&eml_to(&dir, &w.lead_email)[0]).unwrap();
    common::check_scorecard_mime(&raw, &w.lead_email, "tableau de bord");
    let msg = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .unwrap();
    let html = msg.body_html(0).unwrap().to_string();
    let text = msg.body_text(0).unwrap().to_string();
    // Left to right in French (no `start`, which older Outlook does not know).
    assert!(html.contains("<th scope=\"row\" style=\"text-align:left;"));
    // A round made without a title still has words on its report link.
    assert!(
        html.contains(&format!(
            "/rounds/{yemen}/report\" style=\"color:#0b5cad\">#{yemen}</a>"
        )),
        "{html}"
    );
    // Inline styles only: no style sheet for a mail client to drop.
    assert!(!html.contains("<style") && !html.contains("class=\"grid"));

    let framework: Value = app
        .get_json(&w.lead, "/api/v1/frameworks/ccpm")
        .await
        .json()
        .await
        .unwrap();
    let functions = framework["functions"].as_array().unwrap();
    for (round, name, insufficient) in [
        (yemen, "shelter-yemen operation", false),
        (sudan, "shelter-sudan operation", true),
    ] {
        let scores: Value = app
            .get_json(&w.lead, &format!("/api/v1/rounds/{round}/scores"))
            .await
            .json()
            .await
            .unwrap();
        let cells = grid_row(&html, name);
        assert_eq!(
            cells.len(),
            functions.len(),
            "{name}: one cell per function"
        );
        let section = text
            .split(&format!("== {name} =="))
            .nth(1)
            .expect("the operation in the text part")
            .split("==")
            .next()
            .unwrap();
        let mut scored = 0;
        for (f, (score, mark)) in functions.iter().zip(&cells) {
            let got = scores["functions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == f["id"])
                .unwrap();
            match got["score"].as_f64() {
                Some(s) => {
                    scored += 1;
                    assert_eq!(score, &format!("{s:.0}"), "{name} function {}", f["id"]);
                    if insufficient {
                        assert_eq!(mark, &format!("n={}", got["n"]), "{name}: says why");
                    } else {
                        let letter = match got["status"].as_str().unwrap() {
                            "good" => "B",
                            "satisfactory" => "S",
                            "unsatisfactory" => "I",
                            "weak" => "F",
                            other => panic!("{other}"),
                        };
                        assert_eq!(mark, letter, "{name} function {}", f["id"]);
                    }
                    // The text part carries the same number.
                    let title = f["title"]["fr"].as_str().unwrap();
                    assert!(
                        section
                            .contains(&format!("{} {title}: {s:.0} (", f["id"].as_str().unwrap())),
                        "{name} function {} in the text part:\n{section}",
                        f["id"]
                    );
                }
                None => assert_eq!((score.as_str(), mark.as_str()), ("–", "–")),
            }
        }
        assert!(scored >= 1, "{name} has scored functions");

        // The email's charts are one per function across the operations (each operation's
        // own chart is on the web page it links to): each alt text names its function and
        // this operation.
        for f in functions {
            let id = f["id"].as_str().unwrap();
            let alt = html
                .split(&format!("src=\"cid:function-{id}@clusterpulse\" alt=\""))
                .nth(1)
                .expect("the function's chart")
                .split('"')
                .next()
                .unwrap();
            let title = f["title"]["fr"].as_str().unwrap().replace('\'', "&#x27;");
            assert!(alt.contains(&title), "{title} in {alt}");
            assert!(alt.contains(name), "{name} in {alt}");
        }
        assert!(
            !html.contains("cid:functions-"),
            "no per-operation charts in the email"
        );
    }
    // Dates for people: the day the rounds closed (today, early), in French.
    let today = clusterpulse::kernel::time::now().date();
    let closed = clusterpulse::render::i18n::date(today, "fr");
    assert!(
        html.contains(&format!("({closed})")),
        "closing day {closed}"
    );
    // Counts in the text part read as numbers, not JSON strings.
    assert!(text.contains(" 0 sensibles"), "{text}");
    // The key says what the letters and the grey cells mean.
    assert!(html.contains("B bon · S satisfaisant · I insatisfaisant · F faible"));
    assert!(html.contains("il en faut au moins 3"));
    // The grid image's alt text points to the table.
    assert!(html.contains("alt=\"Fonctions essentielles par opération : les mêmes statuts"));
}
both_backends!(grid_table_in_email, grid_as_table);
