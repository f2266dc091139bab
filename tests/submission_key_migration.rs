//! The migration that takes the UNIQUE index off `invitations.submission_key`
//! (`2026-12-08-000001`, issue 17) keeps every invitation as it was, on both backends.
//!
//! A round is made through the API, some of its invitations answered, one given a draft,
//! and on SQLite the newest invitation deleted (so the id counter is past the largest id
//! left). The migration is reverted, which puts the index back, and the server's own
//! migration step applies it again, as an upgrade does. Then: every invitation row is
//! identical, the marker has no index left, the draft still refers to its invitation, ids
//! go on from the old counter, and the rules the marker serves still hold: a replay is
//! answered with the stored response, a second response for the invitation is refused, and
//! an unanswered invitation can still respond.

mod common;

use clusterpulse::db::{self, DbConnection};
use common::TestApp;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
use serde_json::{json, Value};

const MIGRATION: &str = "2026-12-08-000001";

#[derive(QueryableByName, Debug, Clone, PartialEq)]
struct InvitationRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Integer)]
    round_id: i32,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    org_type: String,
    #[diesel(sql_type = Text)]
    token_hash: String,
    #[diesel(sql_type = Nullable<Text>)]
    submission_key: Option<String>,
    #[diesel(sql_type = Timestamp)]
    created_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    responded_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    membership: Option<String>,
}

fn invitations(conn: &mut DbConnection) -> Vec<InvitationRow> {
    diesel::sql_query(
        "SELECT id, round_id, email, org_type, token_hash, submission_key, created_at, \
         responded_at, membership FROM invitations ORDER BY id",
    )
    .load(conn)
    .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many unique indexes cover `invitations.submission_key`.
fn unique_marker_indexes(conn: &mut DbConnection) -> i64 {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT COUNT(*) AS n FROM pragma_index_list('invitations') l \
             JOIN pragma_index_info(l.name) i WHERE l.\"unique\" = 1 \
             AND i.name = 'submission_key'"
        }
        DbConnection::Postgres(_) => {
            "SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = 'invitations' \
             AND indexdef LIKE '%UNIQUE%' AND indexdef LIKE '%(submission_key)%'"
        }
    };
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

fn answers(i: usize) -> Value {
    let levels = ["strongly_agree", "agree", "disagree", "agree"];
    json!({"meeting_attendance": "always", "meetings_useful": levels[i % 4],
           "who_what_where": levels[(i + 1) % 4], "overall_rating": (i % 11) as i64})
}

async fn invite(app: &TestApp, coord: &str, round: i64, from: usize, n: usize) -> Vec<String> {
    let invitations: Vec<Value> = (from..from + n)
        .map(|i| {
            let org_type = ["ingo", "nngo", "un"][i % 3];
            json!({"email": format!("p{i}@partner.example"), "organization": format!("Partner {i}"),
                   "org_type": org_type, "survey": "ccpm-partner"})
        })
        .collect();
    let r = app
        .post_json(
            coord,
            &format!("/api/v1/rounds/{round}/invitations"),
            json!({"invitations": invitations}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["token"].as_str().unwrap().to_string())
        .collect()
}

async fn the_marker_loses_its_index_and_nothing_else(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token(
        "coord@shelter.example.org",
        "coordinator",
        None,
        &["shelter-yemen"],
    );
    let now = chrono::Utc::now();
    let r = app
        .post_json(
            &coord,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm", "surveys": ["ccpm-partner"],
                   "opens_at": now.to_rfc3339(),
                   "closes_at": (now + chrono::Duration::days(10)).to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let round = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let tokens = invite(&app, &coord, round, 0, 6).await;
    let mut sent = Vec::new();
    for (i, token) in tokens.iter().take(4).enumerate() {
        let id = uuid::Uuid::new_v4().to_string();
        let (status, body) = common::post_response(&app, token, &id, &answers(i)).await;
        assert_eq!(status, 201, "{body}");
        sent.push((token.clone(), id, answers(i), body));
    }

    let pool = db::connect(&app.config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let sqlite = matches!(&*conn, DbConnection::Sqlite(_));
    let before = invitations(&mut conn);
    assert_eq!(before.len(), 6);
    assert_eq!(
        before.iter().filter(|i| i.submission_key.is_some()).count(),
        4
    );
    // A draft for an unanswered invitation: `response_drafts` refers to `invitations`.
    let drafted = before[4].id;
    diesel::sql_query(
        "INSERT INTO response_drafts (invitation_id, answers, language, updated_at) \
         VALUES ($1, '{}', 'en', CURRENT_TIMESTAMP)",
    )
    .bind::<Integer, _>(drafted)
    .execute(&mut *conn)
    .unwrap();
    // SQLite: the newest invitation is deleted, so the id counter is past the largest id.
    let deleted = before[5].id;
    if sqlite {
        diesel::sql_query("DELETE FROM invitations WHERE id = $1")
            .bind::<Integer, _>(deleted)
            .execute(&mut *conn)
            .unwrap();
    }
    let before = invitations(&mut conn);
    assert_eq!(unique_marker_indexes(&mut conn), 0, "migrated by the app");

    // Back to the index, then forward again the way an upgrade does.
    common::revert_migration(&mut conn, MIGRATION);
    assert_eq!(unique_marker_indexes(&mut conn), 1, "the index is back");
    assert_eq!(invitations(&mut conn), before, "reverting keeps every row");
    drop(conn);
    assert_eq!(db::migrate(&pool).unwrap(), 1);
    let mut conn = pool.get().unwrap();
    assert_eq!(unique_marker_indexes(&mut conn), 0);
    assert_eq!(invitations(&mut conn), before, "migrating keeps every row");
    if sqlite {
        let broken: Vec<Count> = diesel::sql_query(
            "SELECT COUNT(*) AS n FROM pragma_foreign_key_check('response_drafts')",
        )
        .load(&mut *conn)
        .unwrap();
        assert_eq!(broken[0].n, 0, "drafts still refer to their invitations");
    }
    let drafts: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM response_drafts d JOIN invitations i \
         ON i.id = d.invitation_id",
    )
    .get_result(&mut *conn)
    .unwrap();
    assert_eq!(drafts.n, 1);
    drop(conn);

    // Ids go on from the old counter: the deleted id is not given again.
    invite(&app, &coord, round, 6, 1).await;
    let mut conn = pool.get().unwrap();
    let newest = invitations(&mut conn).last().unwrap().id;
    assert!(newest > deleted, "new id {newest}, deleted {deleted}");
    drop(conn);

    // The marker still does its work: a replay gets the stored response, a second response
    // for an answered invitation is refused, an unanswered one can respond.
    let (token, id, answers_sent, body) = &sent[0];
    let (status, replayed) = common::post_response(&app, token, id, answers_sent).await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(&replayed, body);
    let (status, refused) =
        common::post_response(&app, token, &uuid::Uuid::new_v4().to_string(), &answers(9)).await;
    assert_eq!(status, 409, "{refused}");
    let (status, body) = common::post_response(
        &app,
        &tokens[4],
        &uuid::Uuid::new_v4().to_string(),
        &answers(4),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

both_backends!(
    the_marker_loses_its_index_and_nothing_else,
    the_marker_loses_its_index_and_nothing_else
);
