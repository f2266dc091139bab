//! Partners' anonymity, attacked: differencing an open round's numbers between two reads,
//! and joining invitations to responses from the database alone (a file, a dump, a backup).

mod common;
use common::TestApp;
use serde_json::{json, Value};

struct Round {
    id: i64,
    coord: String,
    tokens: Vec<String>,
}

/// An open CCPM round on shelter-yemen with `n` partner invitations (sent by email): one
/// lone `un` organization, the others `ingo` and `nngo`.
async fn open_round(app: &TestApp, n: usize) -> Round {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let r = app
        .post_json(
            &coord,
            "/api/v1/rounds",
            json!({"operation": "shelter-yemen", "framework": "ccpm",
            "surveys": ["ccpm-partner"], "opens_at": chrono::Utc::now().to_rfc3339(),
            "closes_at": (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let invitations: Vec<Value> = (0..n)
        .map(|i| {
            let (org, t) = match i {
                0 => ("Lone UN Agency".to_string(), "un"),
                _ => (format!("Partner {i}"), ["ingo", "nngo"][i % 2]),
            };
            json!({"email": format!("p{i}@partner.example"), "organization": org,
                   "org_type": t, "survey": "ccpm-partner"})
        })
        .collect();
    let inv: Value = app
        .post_json(
            &coord,
            &format!("/api/v1/rounds/{id}/invitations"),
            json!({"invitations": invitations, "send": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let tokens = (0..n)
        .map(|i| inv["invitations"][i]["token"].as_str().unwrap().to_string())
        .collect();
    Round { id, coord, tokens }
}

const LEVELS: [&str; 5] = [
    "strongly_agree",
    "agree",
    "neutral",
    "disagree",
    "strongly_disagree",
];

/// Submits invitation `i`'s response; returns its id.
async fn answer(app: &TestApp, round: &Round, i: usize) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let answers = json!({"meeting_attendance": "always", "meetings_useful": LEVELS[i % 5],
        "meetings_focus": LEVELS[(i * 3 + 1) % 5], "who_what_where": LEVELS[(i * 7 + 2) % 5],
        "overall_rating": 7});
    let r = app
        .client
        .post(app.url("/api/v1/responses"))
        .json(&json!({"token": round.tokens[i], "id": id, "answers": answers}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    id
}

async fn read(app: &TestApp, round: &Round) -> (Value, Value) {
    let get = |path: String| async move {
        let r = app.get_json(&round.coord, &path).await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    };
    (
        get(format!("/api/v1/rounds/{}/scores", round.id)).await,
        get(format!("/api/v1/rounds/{}/progress", round.id)).await,
    )
}

/// The attack: read an open round's scores and progress, let one response arrive, read
/// again, and difference `score · n`. Every pair of reads must be equal or apart by at
/// least `min_respondents` (3) responses, the final scores too; org-type breakdowns wait
/// for the close.
async fn differencing_reveals_nothing(app: TestApp) {
    let round = open_round(&app, 14).await;
    let mut reads: Vec<(Value, Value)> = vec![read(&app, &round).await];
    for i in 0..13 {
        answer(&app, &round, i).await;
        let (scores, progress) = read(&app, &round).await;
        let (prev_scores, prev_progress) = reads.last().unwrap();
        let n = scores["overall"]["n"].as_i64().unwrap();
        let prev_n = prev_scores["overall"]["n"].as_i64().unwrap();
        let responded = progress["responded"].as_i64().unwrap();
        let prev_responded = prev_progress["responded"].as_i64().unwrap();
        if n == prev_n {
            // Nothing moved: the two reads are the same, to the last digit.
            assert_eq!(scores, *prev_scores, "after response {i}");
            assert_eq!(progress, *prev_progress, "after response {i}");
        } else {
            assert!(
                n - prev_n >= 3,
                "moved by {} after response {i}",
                n - prev_n
            );
            assert!(responded - prev_responded >= 3);
        }
        // Never more published than stored minus a whole group.
        assert!(responded <= (i as i64 + 1) - 3 || responded == 0);
        assert_eq!(scores["provisional"], true);
        assert_eq!(scores["by_org_type"], json!([]), "no breakdown while open");
        reads.push((scores, progress));
    }
    let last_open_n = reads.last().unwrap().0["overall"]["n"].as_i64().unwrap();
    assert!(last_open_n >= 6, "snapshots were published: {last_open_n}");
    // The lone UN organization answered first: its progress row shows it only together with
    // at least two other responses.
    let r = app
        .post_json(
            &round.coord,
            &format!("/api/v1/rounds/{}/close", round.id),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (closed, progress) = read(&app, &round).await;
    assert_eq!(closed["provisional"], false);
    assert_eq!(progress["responded"], 13);
    let final_n = closed["overall"]["n"].as_i64().unwrap();
    assert!(
        final_n - last_open_n >= 3,
        "final {final_n} vs last snapshot {last_open_n}"
    );
    // After the close the breakdown appears, without the lone UN response.
    let types: Vec<&str> = closed["by_org_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["org_type"].as_str().unwrap())
        .collect();
    assert!(!types.contains(&"un"), "{types:?}");
    assert!(types.contains(&"ingo"));
}
both_backends!(differencing, differencing_reveals_nothing);

/// The attack on the data: with the database alone, join invitations (email, organization)
/// to responses. Fails if any column of an invitation equals a response's id, a digest of
/// it, or its submission time, or if a delivered message still carries an invitation link.
async fn the_database_links_no_invitation_to_its_response(app: TestApp) {
    use clusterpulse::db::schema::{invitations, outbox, responses};
    use diesel::prelude::*;
    use sha2::{Digest, Sha256};
    let round = open_round(&app, 4).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(answer(&app, &round, i).await);
    }
    // Let the mail worker deliver the invitations.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let pending: i64 = outbox::table
            .filter(outbox::status.ne("sent"))
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "invitations not sent");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let mut conn = app.pool.get().unwrap();
    type Inv = (
        String,
        Option<String>,
        Option<chrono::NaiveDateTime>,
        String,
    );
    let invs: Vec<Inv> = invitations::table
        .filter(invitations::round_id.eq(round.id as i32))
        .select((
            invitations::email,
            invitations::submission_key,
            invitations::responded_at,
            invitations::token_hash,
        ))
        .load(&mut conn)
        .unwrap();
    let resps: Vec<(String, chrono::NaiveDateTime)> = responses::table
        .filter(responses::round_id.eq(round.id as i32))
        .select((responses::uuid, responses::submitted_at))
        .load(&mut conn)
        .unwrap();
    assert_eq!((invs.len(), resps.len()), (4, 4));
    let digests = |id: &str| -> Vec<String> {
        [
            id.to_string(),
            format!("response:{id}"),
            format!("submission:{id}"),
            id.replace('-', ""),
        ]
        .iter()
        .flat_map(|s| {
            [
                hex::encode(Sha256::digest(s.as_bytes())),
                hex::encode(sha2::Sha512::digest(s.as_bytes())),
                s.clone(),
            ]
        })
        .collect()
    };
    for (email, key, responded_at, _) in &invs {
        let key = key.as_deref().expect("every invitation responded");
        for (id, submitted_at) in &resps {
            assert!(
                !digests(id).iter().any(|d| d == key),
                "{email}'s submission marker is a digest of response {id}"
            );
            assert_ne!(responded_at.as_ref(), Some(submitted_at));
        }
        let t = responded_at.expect("responded_at");
        assert_eq!(
            t.time(),
            chrono::NaiveTime::MIN,
            "responded_at at day resolution"
        );
    }
    // The token holder (and only they) can compute the marker: replays still work.
    for (i, token) in round.tokens.iter().enumerate() {
        let key = clusterpulse::domain::rounds::submission_key(token, &ids[i]);
        assert!(invs
            .iter()
            .any(|inv| inv.1.as_deref() == Some(key.as_str())));
    }
    // Delivered messages keep their metadata, not the links.
    let sent: Vec<(String, String, String)> = outbox::table
        .filter(outbox::kind.eq("invitation"))
        .select((outbox::recipient, outbox::subject, outbox::message))
        .load(&mut conn)
        .unwrap();
    assert_eq!(sent.len(), 4);
    for (recipient, subject, message) in &sent {
        assert!(!recipient.is_empty() && !subject.is_empty());
        for token in &round.tokens {
            assert!(
                !message.contains(token.as_str()),
                "a link is kept in the outbox"
            );
        }
        assert!(message.is_empty(), "body purged once delivered");
    }
}
both_backends!(database, the_database_links_no_invitation_to_its_response);
