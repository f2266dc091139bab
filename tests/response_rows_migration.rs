//! The one-row-per-response migration (`2026-12-07-000001_response_rows`) converts a
//! database in place without losing anything, on both backends.
//!
//! A world is made through the API (rounds closed and open, responses in two languages with
//! free text, numbers and "don't know", a published snapshot, feedback items with their
//! workflow events). Then the migration is reverted, which leaves the database as the app
//! wrote it before the new layout: the test checks that every `answers` row is what the old
//! `submit` wrote (one row per validated answer, its JSON text and score) and adds scores no
//! survey option gives (thirds, 0.1 + 0.2, tiny and huge doubles) straight in SQL. The
//! scores of every round are computed from those old tables the way the old code did (the
//! item scores of the `answers` rows, responses in order of their ids). A second server
//! starts on the database, migrating it as an upgrade does, and then:
//! - every round's scores and intervals equal those computed before, bit for bit;
//! - every API view (scores, scores CSV, progress, the responses exports as codes, French
//!   labels and HXL, Parquet, the feedback metrics, each feedback item with its history,
//!   the operation's scores history) is byte-identical to before the revert;
//! - every response keeps its metadata and, answer by answer, the same value text and score;
//! - reverting once more gives back the same `answers` rows.

mod common;

use clusterpulse::db::{self, DbConnection};
use clusterpulse::domain::response_store;
use clusterpulse::scoring::{self, ItemScore, ResponseMeta, RoundInput, RoundScores};
use clusterpulse::surveys::answers::{validate, Mode};
use clusterpulse::surveys::model::Catalog;
use common::TestApp;
use diesel::prelude::*;
use diesel::sql_types::{Double, Integer, Nullable, Text, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const MIGRATION: &str = "2026-12-07-000001";

/// One submitted response: its id, language and answers as posted.
struct Posted {
    id: String,
    language: String,
    answers: Map<String, Value>,
}

#[derive(QueryableByName, Debug, Clone, PartialEq)]
struct OldAnswer {
    #[diesel(sql_type = Text)]
    response_id: String,
    #[diesel(sql_type = Text)]
    question: String,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = Nullable<Double>)]
    score: Option<f64>,
}

/// A response row's metadata, the same before and after.
#[derive(QueryableByName, Debug, Clone, PartialEq)]
struct Meta {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Integer)]
    round_id: i32,
    #[diesel(sql_type = Text)]
    survey_id: String,
    #[diesel(sql_type = Integer)]
    survey_version: i32,
    #[diesel(sql_type = Text)]
    org_type: String,
    #[diesel(sql_type = Text)]
    language: String,
    #[diesel(sql_type = Text)]
    answers_digest: String,
    #[diesel(sql_type = Timestamp)]
    submitted_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Nullable<Integer>)]
    snapshot: Option<i32>,
}

fn catalog() -> Catalog {
    clusterpulse::surveys::load::load_dir(&common::surveys_dir()).expect("surveys load")
}

fn connect(app: &TestApp) -> db::PooledConn {
    db::connect(&app.config.database_url, 1)
        .unwrap()
        .get()
        .unwrap()
}

fn old_answers(conn: &mut DbConnection) -> Vec<OldAnswer> {
    diesel::sql_query("SELECT response_id, question, value, score FROM answers ORDER BY id")
        .load(conn)
        .unwrap()
}

fn metas(conn: &mut DbConnection, id_column: &str) -> Vec<Meta> {
    diesel::sql_query(format!(
        "SELECT {id_column} AS id, round_id, survey_id, survey_version, org_type, language, \
         answers_digest, submitted_at, snapshot FROM responses ORDER BY {id_column}"
    ))
    .load(conn)
    .unwrap()
}

/// A round's scores from the old tables, as `domain::scores` computed them before the new
/// layout: responses in order of their ids (an open round's published ones only), one item
/// score per `answers` row with a score whose question has an indicator.
fn old_scores(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round_id: i32,
    open: bool,
) -> RoundScores {
    let responses: Vec<Meta> = metas(conn, "id")
        .into_iter()
        .filter(|m| m.round_id == round_id && (!open || m.snapshot.is_some()))
        .collect();
    let index: BTreeMap<&str, u32> = responses
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i as u32))
        .collect();
    let answers = old_answers(conn);
    let mut items = Vec::new();
    for a in &answers {
        let (Some(&i), Some(score)) = (index.get(a.response_id.as_str()), a.score) else {
            continue;
        };
        let survey = catalog.survey(&responses[i as usize].survey_id).unwrap();
        let question = survey.questions.iter().find(|q| q.name == a.question);
        if let Some(indicator) = question.and_then(|q| q.indicator.clone()) {
            items.push(ItemScore {
                response: i,
                question: a.question.clone(),
                indicator,
                score,
            });
        }
    }
    scoring::score_round(&RoundInput {
        framework: catalog.framework("ccpm").unwrap(),
        responses: responses
            .iter()
            .map(|m| ResponseMeta {
                org_type: m.org_type.clone(),
            })
            .collect(),
        items,
        seed: scoring::seed_for_round(i64::from(round_id)),
    })
    .unwrap()
}

/// A round of shelter-yemen with `types.len()` invitations, answered through the API.
async fn round(
    app: &TestApp,
    coord: &str,
    types: &[&str],
    salt: usize,
    posted: &mut Vec<Posted>,
) -> i64 {
    let (id, invitations) = common::round_with(app, coord, types).await;
    let levels = [
        "strongly_agree",
        "agree",
        "disagree",
        "strongly_disagree",
        "dont_know",
    ];
    for (i, inv) in invitations.iter().enumerate() {
        let k = i + salt;
        let mut answers = json!({
            "meeting_attendance": "always",
            "meetings_useful": levels[k % 5],
            "meetings_focus": levels[(k + 1) % 4],
            "who_what_where": levels[(k + 2) % 5],
            "assessment_findings": levels[(k * 3) % 5],
            "gap_analysis": levels[(k + 4) % 4],
            "overall_rating": (k % 10) as i64,
        });
        if k.is_multiple_of(3) {
            answers["works_well"] = json!(format!(
                "Réunions « utiles », \"citées\", 2 lignes\nnuméro {k} — 日本 ✓"
            ));
        }
        if matches!(k % 5, 2 | 3) {
            answers["meetings_improve"] = json!(format!("Plus de visites; réponse {k}"));
        }
        let language = if k.is_multiple_of(2) { "en" } else { "fr" };
        let rid = uuid::Uuid::new_v4().to_string();
        let r = app
            .client
            .post(app.url("/api/v1/responses"))
            .json(
                &json!({"token": inv["token"], "id": rid, "language": language,
                          "answers": answers}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        posted.push(Posted {
            id: rid,
            language: language.into(),
            answers: answers.as_object().unwrap().clone(),
        });
    }
    id
}

async fn fetch(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let r = app.get_json(token, path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.bytes().await.unwrap().to_vec()
}

/// Everything the API shows that depends on the responses or the feedback.
async fn views(
    app: &TestApp,
    token: &str,
    rounds: &[i64],
    refs: &[(String, String)],
) -> Vec<(String, Vec<u8>)> {
    let mut paths = Vec::new();
    for r in rounds {
        for p in [
            "scores",
            "scores.csv",
            "progress",
            "exports/responses.csv",
            "exports/responses.csv?labels=true&lang=fr",
            "exports/responses.csv?hxl=true",
            "exports/responses.parquet",
        ] {
            paths.push(format!("/api/v1/rounds/{r}/{p}"));
        }
    }
    paths.push("/api/v1/operations/shelter-yemen/feedback/metrics".into());
    paths.push("/api/v1/operations/shelter-yemen/exports/scores.csv".into());
    paths.push("/api/v1/operations/shelter-yemen/exports/feedback.csv".into());
    let mut out = Vec::new();
    for p in paths {
        let body = fetch(app, token, &p).await;
        out.push((p, body));
    }
    for (reference, who) in refs {
        let p = format!("/api/v1/feedback/{reference}");
        let body = fetch(app, who, &p).await;
        out.push((p, body));
    }
    out
}

async fn in_place(app: TestApp) {
    let catalog = catalog();
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let psea = app.user_token(
        "psea@shelter.example",
        "psea_focal_point",
        None,
        &["shelter-yemen"],
    );
    let mut posted = Vec::new();
    let types = ["ingo", "ingo", "ingo", "nngo", "nngo", "nngo", "un", "un"];
    let closed = round(&app, &coord, &types, 0, &mut posted).await;
    let r = app
        .post_json(&coord, &format!("/api/v1/rounds/{closed}/close"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let later = round(&app, &coord, &types[..6], 3, &mut posted).await;
    let r = app
        .post_json(&coord, &format!("/api/v1/rounds/{later}/close"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    // Open, with a published snapshot and unpublished responses after it.
    let open = round(&app, &coord, &types[..7], 5, &mut posted).await;
    let rounds = [closed, later, open];

    let mut refs = Vec::new();
    for (k, (category, sensitive)) in [
        ("question", false),
        ("complaint", false),
        ("sensitive", true),
    ]
    .into_iter()
    .enumerate()
    {
        let r = app
            .new_client()
            .post(app.url("/api/v1/feedback"))
            .json(
                &json!({"operation": "shelter-yemen", "language": "en", "answers": {
                "category": category, "message": format!("Message {k}: « accents », \"quotes\""),
                "consent_to_contact": "no"}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let reference = r.json::<Value>().await.unwrap()["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let who = if sensitive { &psea } else { &coord };
        for body in [
            json!({"action": "acknowledge"}),
            json!({"action": "respond", "note": format!("Answered {k}")}),
            json!({"action": "close", "satisfied": k % 2 == 0}),
        ]
        .into_iter()
        .take(k + 1)
        {
            let r = app
                .post_json(who, &format!("/api/v1/feedback/{reference}/events"), body)
                .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        refs.push((reference, who.clone()));
    }

    let before_views = views(&app, &coord, &rounds, &refs).await;
    let mut conn = connect(&app);
    let new_metas = metas(&mut conn, "uuid");
    assert_eq!(new_metas.len(), posted.len());
    assert!(new_metas.iter().any(|m| m.snapshot.is_some()));
    assert!(new_metas.iter().any(|m| m.snapshot.is_none()));

    // Back to the layout of one `answers` row per answer: exactly what the old submit wrote.
    common::revert_migration(&mut conn, MIGRATION);
    assert_eq!(metas(&mut conn, "id"), new_metas);
    let rows = old_answers(&mut conn);
    let mut expected = Vec::new();
    let mut sorted: Vec<&Posted> = posted.iter().collect();
    sorted.sort_by(|a, b| {
        let at = |p: &Posted| new_metas.iter().position(|m| m.id == p.id).unwrap();
        at(a).cmp(&at(b))
    });
    let survey = catalog.survey("ccpm-partner").unwrap();
    for p in &sorted {
        let v = validate(survey, &p.answers, &p.language, Mode::Submit).unwrap();
        for it in v.items {
            expected.push(OldAnswer {
                response_id: p.id.clone(),
                question: it.question,
                value: it.value.to_string(),
                score: it.score,
            });
        }
    }
    let mut got = rows.clone();
    got.sort_by(|a, b| a.response_id.cmp(&b.response_id));
    expected.sort_by(|a, b| a.response_id.cmp(&b.response_id));
    assert_eq!(got, expected, "answers rows as the old submit wrote them");
    assert!(rows.iter().any(|a| a.score.is_none()), "a don't know");

    // Scores no option gives, written as the old column holds them.
    let tricky = [
        200.0 / 3.0,
        0.1 + 0.2,
        1e-7,
        12_345_678.901_234_567,
        100.0 / 7.0,
    ];
    let scored: Vec<&OldAnswer> = rows.iter().filter(|a| a.score.is_some()).collect();
    for (k, a) in scored.iter().step_by(5).enumerate() {
        let n = diesel::sql_query(format!(
            "UPDATE answers SET score = {:e} WHERE response_id = '{}' AND question = '{}'",
            tricky[k % tricky.len()],
            a.response_id,
            a.question
        ))
        .execute(&mut *conn)
        .unwrap();
        assert_eq!(n, 1);
    }
    let rows = old_answers(&mut conn);
    assert!(rows.iter().any(|a| a.score == Some(0.1 + 0.2)));
    let old: Vec<String> = rounds
        .iter()
        .map(|&r| {
            let scores = old_scores(&mut conn, &catalog, r as i32, r == open);
            serde_json::to_string(&scores).unwrap()
        })
        .collect();
    drop(conn);

    // Upgrade: a server starts on the old database and migrates it.
    let app2 = app.second_instance().await;
    let mut conn = connect(&app2);
    assert_eq!(
        metas(&mut conn, "uuid"),
        new_metas,
        "every response, same metadata"
    );
    for p in &posted {
        let mut want: Vec<(String, String, Option<u64>)> = rows
            .iter()
            .filter(|a| a.response_id == p.id)
            .map(|a| {
                (
                    a.question.clone(),
                    a.value.clone(),
                    a.score.map(f64::to_bits),
                )
            })
            .collect();
        let mut got: Vec<(String, String, Option<u64>)> =
            response_store::stored_answers(&mut conn, &p.id)
                .unwrap()
                .into_iter()
                .map(|(q, v, s)| (q, v, s.map(f64::to_bits)))
                .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "answers and scores of response {}", p.id);
    }
    for (&r, old) in rounds.iter().zip(&old) {
        let round = clusterpulse::db::models::round_by_id(&mut conn, r as i32)
            .unwrap()
            .unwrap();
        let now = clusterpulse::domain::scores::score_only(&mut conn, &catalog, &round).unwrap();
        assert_eq!(
            &serde_json::to_string(&now).unwrap(),
            old,
            "scores of round {r}"
        );
    }
    // The tricky scores changed the numbers of the rounds they fell in; the views must be
    // compared on the data as the API wrote it: put the original scores back first.
    let original: BTreeMap<(String, String), Option<f64>> = expected
        .iter()
        .map(|a| ((a.response_id.clone(), a.question.clone()), a.score))
        .collect();
    common::revert_migration(&mut conn, MIGRATION);
    assert_eq!(
        old_answers(&mut conn)
            .into_iter()
            .map(|a| (
                a.response_id,
                a.question,
                a.value,
                a.score.map(f64::to_bits)
            ))
            .collect::<Vec<_>>()
            .len(),
        rows.len()
    );
    {
        let mut back = old_answers(&mut conn);
        let mut before = rows.clone();
        back.sort_by(|a, b| (&a.response_id, &a.question).cmp(&(&b.response_id, &b.question)));
        before.sort_by(|a, b| (&a.response_id, &a.question).cmp(&(&b.response_id, &b.question)));
        let bits = |v: &[OldAnswer]| -> Vec<(String, String, String, Option<u64>)> {
            v.iter()
                .map(|a| {
                    (
                        a.response_id.clone(),
                        a.question.clone(),
                        a.value.clone(),
                        a.score.map(f64::to_bits),
                    )
                })
                .collect()
        };
        assert_eq!(
            bits(&back),
            bits(&before),
            "reverting again gives the same rows"
        );
    }
    for ((id, q), score) in &original {
        let value = score.map_or("NULL".to_string(), |s| format!("{s:e}"));
        diesel::sql_query(format!(
            "UPDATE answers SET score = {value} WHERE response_id = '{id}' AND question = '{q}'"
        ))
        .execute(&mut *conn)
        .unwrap();
    }
    db::migrate(&db::connect(&app2.config.database_url, 1).unwrap()).unwrap();
    drop(conn);
    let app3 = app2.second_instance().await;
    let after_views = views(&app3, &coord, &rounds, &refs).await;
    assert_eq!(before_views.len(), after_views.len());
    for ((path, before), (_, after)) in before_views.iter().zip(&after_views) {
        assert!(
            before == after,
            "{path} differs after the migration:\n{}\n---\n{}",
            String::from_utf8_lossy(before),
            String::from_utf8_lossy(after)
        );
    }
}
both_backends!(response_rows_in_place, in_place);
