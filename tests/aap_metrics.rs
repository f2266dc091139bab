//! AAP indicators through `clusterpulse::domain::feedback::metrics::feedback_metrics` on both
//! backends: over items inserted directly, against numbers worked out by hand; and from the
//! summary rows against the same indicators computed from every item, over a varied history.

mod common;
use chrono::{NaiveDate, NaiveDateTime};
use clusterpulse::db::schema::{feedback, operations};
use clusterpulse::domain::feedback::metrics::{feedback_metrics, Visibility};
use common::TestApp;
use diesel::prelude::*;
use serde_json::{json, Value};

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn day(s: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

/// One item as stored: (created, category, channel, sex, age group, admin1, sensitive,
/// SLA hours, acknowledged, responded, closed, satisfied).
type Item<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    bool,
    i64,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<bool>,
);

fn insert(conn: &mut clusterpulse::db::DbConnection, operation_id: i32, n: usize, item: Item) {
    let (created, category, channel, sex, age, admin1, sensitive, sla, ack, resp, closed, sat) =
        item;
    let created = at(created);
    let status = match (ack, resp, closed) {
        (_, _, Some(_)) => "closed",
        (_, Some(_), _) => "responded",
        (Some(_), _, _) => "acknowledged",
        _ => "received",
    };
    diesel::insert_into(feedback::table)
        .values((
            feedback::reference.eq(format!("FB-TEST-{operation_id}-{n:04}")),
            feedback::operation_id.eq(operation_id),
            feedback::channel.eq(channel),
            feedback::language.eq("en"),
            feedback::category.eq(category),
            feedback::priority.eq("low"),
            feedback::status.eq(status),
            feedback::sensitive.eq(sensitive),
            feedback::message.eq("text that metrics never show"),
            feedback::answers.eq("{}"),
            feedback::consent_to_contact.eq(false),
            feedback::sex.eq(sex),
            feedback::age_group.eq(age),
            feedback::admin1.eq(admin1),
            feedback::created_at.eq(created),
            feedback::updated_at.eq(created),
            feedback::ack_due_at.eq(created + chrono::Duration::hours(sla)),
            feedback::acknowledged_at.eq(ack.map(at)),
            feedback::responded_at.eq(resp.map(at)),
            feedback::closed_at.eq(closed.map(at)),
            feedback::satisfied.eq(sat),
        ))
        .execute(conn)
        .unwrap();
}

fn close_to(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-9)
}

async fn indicators_match_hand_computed_values(app: TestApp) {
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let mut conn = app.pool.get().unwrap();
    let id = |conn: &mut clusterpulse::db::DbConnection, slug: &str| -> i32 {
        operations::table
            .filter(operations::slug.eq(slug))
            .select(operations::id)
            .first(conn)
            .unwrap()
    };
    let op = id(&mut conn, "shelter-yemen");
    let other = id(&mut conn, "health-yemen");
    let empty = id(&mut conn, "shelter-sudan");
    let items: [Item; 7] = [
        // 1: acknowledged in time, responded, closed after 6 days, satisfied.
        (
            "2026-01-05 10:00:00",
            "complaint",
            "web",
            Some("female"),
            Some("18_59"),
            Some("Aden"),
            false,
            72,
            Some("2026-01-06 10:00:00"),
            Some("2026-01-10 10:00:00"),
            Some("2026-01-11 10:00:00"),
            Some(true),
        ),
        // 2: acknowledged a day late, closed without a response after 13.5 days, satisfaction
        // not recorded.
        (
            "2026-01-20 00:00:00",
            "question",
            "hotline",
            Some("male"),
            None,
            None,
            false,
            168,
            Some("2026-01-28 00:00:00"),
            None,
            Some("2026-02-02 12:00:00"),
            None,
        ),
        // 3: sensitive, in time, responded, closed after 4 days, not satisfied.
        (
            "2026-02-01 08:00:00",
            "sensitive",
            "helpdesk",
            Some("female"),
            Some("under_18"),
            Some("Aden"),
            true,
            24,
            Some("2026-02-01 20:00:00"),
            Some("2026-02-03 08:00:00"),
            Some("2026-02-05 08:00:00"),
            Some(false),
        ),
        // 4: never acknowledged, deadline passed: overdue, and a miss for the SLA.
        (
            "2026-02-10 00:00:00",
            "complaint",
            "sms",
            None,
            None,
            Some("Taiz"),
            false,
            72,
            None,
            None,
            None,
            None,
        ),
        // 5: not acknowledged yet, deadline still ahead: in neither.
        (
            "2026-03-09 12:00:00",
            "request",
            "web",
            Some("male"),
            Some("60_plus"),
            Some("Taiz"),
            false,
            168,
            None,
            None,
            None,
            None,
        ),
        // 6: acknowledged in time and responded, still open.
        (
            "2026-03-01 00:00:00",
            "suggestion",
            "box",
            Some("female"),
            Some("18_59"),
            Some("Aden"),
            false,
            168,
            Some("2026-03-02 00:00:00"),
            Some("2026-03-03 00:00:00"),
            None,
            None,
        ),
        // 7: closed after 1.25 days without a response, satisfied.
        (
            "2026-02-15 00:00:00",
            "appreciation",
            "email",
            Some("female"),
            Some("18_59"),
            None,
            false,
            168,
            Some("2026-02-16 00:00:00"),
            None,
            Some("2026-02-16 06:00:00"),
            Some(true),
        ),
    ];
    for (n, item) in items.into_iter().enumerate() {
        insert(&mut conn, op, n, item);
    }
    // Another operation's item never counts.
    insert(
        &mut conn,
        other,
        0,
        (
            "2026-02-01 00:00:00",
            "complaint",
            "web",
            None,
            None,
            None,
            true,
            72,
            None,
            None,
            None,
            None,
        ),
    );
    // Inserted directly: the summaries are rebuilt from the items.
    clusterpulse::domain::feedback::summaries::rebuild(&mut conn).unwrap();
    let now = at("2026-03-10 12:00:00");

    let m = feedback_metrics(&mut conn, op, None, None, now, Visibility::All).unwrap();
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(j["total"], 7);
    assert_eq!(
        j["by_category"],
        json!({"complaint": 2, "question": 1, "sensitive": 1, "request": 1, "suggestion": 1,
               "appreciation": 1})
    );
    assert_eq!(
        j["by_channel"],
        json!({"web": 2, "hotline": 1, "helpdesk": 1, "sms": 1, "box": 1, "email": 1})
    );
    assert_eq!(j["by_sex"], json!({"female": 4, "male": 2, "unknown": 1}));
    assert_eq!(
        j["by_age_group"],
        json!({"18_59": 3, "under_18": 1, "60_plus": 1, "unknown": 2})
    );
    assert_eq!(j["by_admin1"], json!({"Aden": 3, "Taiz": 2, "unknown": 2}));
    // Acknowledged 1, 2, 3, 6, 7 plus 4 (deadline passed) = 6; in time: 1, 3, 6, 7.
    assert!(
        close_to(&j["acknowledged_within_sla_pct"], 400.0 / 6.0),
        "{j}"
    );
    // Closed: 1, 2, 3, 7.
    assert!(close_to(&j["closed_pct"], 400.0 / 7.0), "{j}");
    // Responded among closed: 1, 3.
    assert!(close_to(&j["responded_pct"], 50.0), "{j}");
    // 1.25, 4, 6, 13.5 → (4 + 6) / 2.
    assert!(close_to(&j["median_days_to_close"], 5.0), "{j}");
    // Recorded among closed: 1 yes, 3 no, 7 yes.
    assert!(close_to(&j["satisfied_pct"], 200.0 / 3.0), "{j}");
    assert_eq!(j["sensitive"], 1);
    assert_eq!(j["overdue"], 1);
    assert_eq!(
        j["by_month"],
        json!([
            {"month": "2026-01", "category": "complaint", "count": 1},
            {"month": "2026-01", "category": "question", "count": 1},
            {"month": "2026-02", "category": "appreciation", "count": 1},
            {"month": "2026-02", "category": "complaint", "count": 1},
            {"month": "2026-02", "category": "sensitive", "count": 1},
            {"month": "2026-03", "category": "request", "count": 1},
            {"month": "2026-03", "category": "suggestion", "count": 1},
        ])
    );
    // By closing month: January 6; February 13.5, 4, 1.25 → 4.
    assert_eq!(
        j["days_to_close_by_month"],
        json!([
            {"month": "2026-01", "median_days": 6.0, "closed": 1},
            {"month": "2026-02", "median_days": 4.0, "closed": 3},
        ])
    );

    // Both ends inclusive: 3 (1 February, 08:00), 4, and 7 (15 February, 00:00).
    let m = feedback_metrics(
        &mut conn,
        op,
        day("2026-02-01"),
        day("2026-02-15"),
        now,
        Visibility::All,
    )
    .unwrap();
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(j["total"], 3, "{j}");
    assert!(
        close_to(&j["acknowledged_within_sla_pct"], 200.0 / 3.0),
        "{j}"
    );
    assert!(close_to(&j["closed_pct"], 200.0 / 3.0), "{j}");
    assert!(close_to(&j["responded_pct"], 50.0), "{j}");
    assert!(close_to(&j["median_days_to_close"], 2.625), "{j}");
    assert!(close_to(&j["satisfied_pct"], 50.0), "{j}");
    assert_eq!(
        (j["sensitive"].clone(), j["overdue"].clone()),
        (json!(1), json!(1))
    );
    let m = feedback_metrics(
        &mut conn,
        op,
        day("2026-02-01"),
        day("2026-02-14"),
        now,
        Visibility::All,
    )
    .unwrap();
    assert_eq!(m.total, 2);
    let m = feedback_metrics(&mut conn, op, None, day("2026-01-19"), now, Visibility::All).unwrap();
    assert_eq!(m.total, 1);
    assert_eq!(m.median_days_to_close, Some(6.0));

    // `now` moves the SLA denominator and the overdue count: at creation time of item 4
    // nothing is overdue and only acknowledged items count.
    let m = feedback_metrics(
        &mut conn,
        op,
        None,
        None,
        at("2026-01-01 00:00:00"),
        Visibility::All,
    )
    .unwrap();
    assert_eq!(m.overdue, 0);
    assert!((m.acknowledged_within_sla_pct.unwrap() - 80.0).abs() < 1e-9);

    // The sealed view (everyone but the PSEA focal points): the sensitive item 3 is in no
    // breakdown, rate or median; it shows only as February's sealed count, "fewer than 3".
    let m = feedback_metrics(&mut conn, op, None, None, now, Visibility::Sealed).unwrap();
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(j["total"], 6, "{j}");
    assert!(j["by_category"].get("sensitive").is_none());
    for key in [
        "by_category",
        "by_channel",
        "by_sex",
        "by_age_group",
        "by_admin1",
    ] {
        let sum: u64 = j[key]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(sum, 6, "{key} counts visible items only: {j}");
    }
    assert!(j["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["category"] != "sensitive"));
    assert_eq!(j["sensitive"], Value::Null);
    assert_eq!(j["sensitive_display"], "fewer than 3");
    assert_eq!(
        j["sealed_by_month"],
        json!([{"month": "2026-02", "count": null, "display": "fewer than 3"}])
    );
    // A one-day window cannot date it: the day it came in and a day without it in the same
    // month read the same.
    let on_the_day = feedback_metrics(
        &mut conn,
        op,
        day("2026-02-01"),
        day("2026-02-01"),
        now,
        Visibility::Sealed,
    )
    .unwrap();
    let another_day = feedback_metrics(
        &mut conn,
        op,
        day("2026-02-20"),
        day("2026-02-20"),
        now,
        Visibility::Sealed,
    )
    .unwrap();
    assert_eq!(on_the_day, another_day);
    assert_eq!(on_the_day.total, 0);
    // The PSEA view of the same day counts it exactly.
    let psea = feedback_metrics(
        &mut conn,
        op,
        day("2026-02-01"),
        day("2026-02-01"),
        now,
        Visibility::All,
    )
    .unwrap();
    assert_eq!((psea.total, psea.sensitive), (1, Some(1)));

    // No items: zero counts, null rates.
    let m = feedback_metrics(&mut conn, empty, None, None, now, Visibility::All).unwrap();
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(j["total"], 0);
    for key in [
        "acknowledged_within_sla_pct",
        "closed_pct",
        "responded_pct",
        "median_days_to_close",
        "satisfied_pct",
    ] {
        assert!(j[key].is_null(), "{key}: {j}");
    }
    assert_eq!(j["by_category"], json!({}));
    assert_eq!(j["days_to_close_by_month"], json!([]));
}

both_backends!(hand_computed, indicators_match_hand_computed_values);

/// One workflow step done the way `record_event` does it, at a chosen time: the summaries
/// lose the item, the row changes, the summaries gain it back, in one transaction.
fn step(
    conn: &mut clusterpulse::db::DbConnection,
    id: i32,
    action: &str,
    t: NaiveDateTime,
    sat: Option<bool>,
) {
    use clusterpulse::domain::feedback::summaries;
    clusterpulse::db::write_tx(conn, |conn| -> QueryResult<()> {
        summaries::remove(conn, id)?;
        let row = feedback::table.find(id);
        let ack: Option<NaiveDateTime> = row.select(feedback::acknowledged_at).first(conn)?;
        let ack = ack.or(Some(t));
        match action {
            "acknowledge" | "refer" => diesel::update(row)
                .set(feedback::acknowledged_at.eq(ack))
                .execute(conn)?,
            "respond" => diesel::update(row)
                .set((
                    feedback::acknowledged_at.eq(ack),
                    feedback::responded_at.eq(Some(t)),
                ))
                .execute(conn)?,
            "close" => diesel::update(row)
                .set((
                    feedback::status.eq("closed"),
                    feedback::acknowledged_at.eq(ack),
                    feedback::closed_at.eq(Some(t)),
                    feedback::satisfied.eq(sat),
                ))
                .execute(conn)?,
            "reopen" => diesel::update(row)
                .set((
                    feedback::status.eq("acknowledged"),
                    feedback::closed_at.eq(None::<NaiveDateTime>),
                    feedback::satisfied.eq(None::<bool>),
                ))
                .execute(conn)?,
            _ => diesel::update(row)
                .set(feedback::sensitive.eq(true))
                .execute(conn)?,
        };
        summaries::add(conn, id)
    })
    .unwrap();
}

/// A varied history (two operations; items over 14 months through the intake; workflow
/// steps at random times, reopenings and late sealing included; deadlines falling today, on
/// both sides of `now`; events through the API as well), then the indicators from the
/// summaries against the ones computed from every item, exactly, for many periods and both
/// views; and `rebuild` gives back the same summary rows.
async fn summaries_agree_with_the_items(app: TestApp) {
    use clusterpulse::domain::feedback::metrics::feedback_metrics_from_items;
    use clusterpulse::domain::feedback::{store, summaries, NewItem};
    use rand::{Rng, SeedableRng};
    let admin = app.admin_token();
    app.seed_directory(&admin).await;
    let mut conn = app.pool.get().unwrap();
    let ops: Vec<clusterpulse::db::models::Operation> = ["shelter-yemen", "health-yemen"]
        .iter()
        .map(|s| {
            clusterpulse::db::models::operation_by_slug(&mut conn, s)
                .unwrap()
                .unwrap()
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let now = clusterpulse::kernel::time::now();
    let pick = |rng: &mut rand::rngs::StdRng, xs: &[&'static str]| xs[rng.gen_range(0..xs.len())];
    let mut ids = Vec::new();
    for n in 0..300 {
        let op = &ops[usize::from(n % 5 == 0)];
        // Mostly over 14 months; some a few days old so that deadlines fall today.
        let at = if n % 7 == 0 {
            now - chrono::Duration::minutes(rng.gen_range(0..(8 * 24 * 60)))
        } else {
            now - chrono::Duration::milliseconds(rng.gen_range(0..(425 * 86_400_000)))
        };
        let mut answers = serde_json::Map::new();
        let category = pick(&mut rng, &clusterpulse::domain::feedback::CATEGORIES);
        answers.insert("category".into(), json!(category));
        answers.insert("message".into(), json!("something happened"));
        for (key, values) in [
            ("sex", &["female", "male", "prefer_not_to_say", ""][..]),
            ("age_group", &["under_18", "18_59", "60_plus", ""][..]),
        ] {
            let v = pick(&mut rng, values);
            if !v.is_empty() {
                answers.insert(key.into(), json!(v));
            }
        }
        let admin1 = ["YE15", "YE24", "unknown", ""][rng.gen_range(0..4)];
        let done = store(
            &mut conn,
            &app.config,
            NewItem {
                op,
                channel: pick(&mut rng, &clusterpulse::domain::feedback::CHANNELS),
                language: "en",
                answers,
                contact: None,
                admin1: (!admin1.is_empty()).then(|| admin1.to_string()),
                admin2: None,
                actor: None,
                at,
            },
        )
        .unwrap();
        let id: i32 = feedback::table
            .filter(feedback::reference.eq(&done.reference))
            .select(feedback::id)
            .first(&mut conn)
            .unwrap();
        ids.push(id);
        // A history: each step some hours to weeks after the last, never after now.
        let mut t = at;
        let steps: &[&str] = match rng.gen_range(0..8) {
            0 => &[],
            1 => &["acknowledge"],
            2 => &["refer", "respond"],
            3 => &["acknowledge", "close"],
            4 => &["acknowledge", "respond", "close"],
            5 => &["respond", "close", "reopen"],
            6 => &["acknowledge", "close", "reopen", "respond", "close"],
            _ => &["mark_sensitive", "acknowledge", "respond", "close"],
        };
        for action in steps {
            t += chrono::Duration::milliseconds(rng.gen_range(0..(20 * 86_400_000)));
            if t > now {
                break;
            }
            let sat = [Some(true), Some(false), None][rng.gen_range(0..3)];
            step(&mut conn, id, action, t, sat);
        }
    }
    // Steps through the API (record_event), on items of the last days.
    let coord = app.user_token("coord@example.org", "coordinator", None, &["shelter-yemen"]);
    let psea = app.user_token(
        "psea@example.org",
        "psea_focal_point",
        None,
        &["shelter-yemen"],
    );
    let recent: Vec<(String, bool, String)> = feedback::table
        .filter(feedback::operation_id.eq(ops[0].id))
        .filter(feedback::created_at.gt(now - chrono::Duration::days(8)))
        .select((feedback::reference, feedback::sensitive, feedback::status))
        .load(&mut conn)
        .unwrap();
    assert!(recent.len() > 10, "{}", recent.len());
    for (i, (reference, sensitive, status)) in recent.iter().enumerate() {
        let token = if *sensitive { &psea } else { &coord };
        let actions: &[serde_json::Value] = if status == "closed" {
            &[
                json!({"action": "reopen"}),
                json!({"action": "close", "satisfied": true}),
            ]
        } else if i % 3 == 0 {
            &[json!({"action": "acknowledge"})]
        } else if i % 3 == 1 {
            &[
                json!({"action": "refer", "referred_to": "partner"}),
                json!({"action": "respond", "note": "called back"}),
                json!({"action": "close", "satisfied": false}),
            ]
        } else {
            &[json!({"action": "close"}), json!({"action": "reopen"})]
        };
        for body in actions {
            let r = app
                .post_json(
                    token,
                    &format!("/api/v1/feedback/{reference}/events"),
                    body.clone(),
                )
                .await;
            assert!(
                r.status().is_success() || r.status() == 409,
                "{body}: {}",
                r.status()
            );
        }
    }
    // Deadlines on today's date on both sides of `now`, not yet acknowledged.
    let today = now.date().and_time(chrono::NaiveTime::MIN);
    for (n, due) in [
        today,
        now - chrono::Duration::seconds(1),
        now + chrono::Duration::seconds(1),
    ]
    .into_iter()
    .chain([today + chrono::Duration::milliseconds(86_399_999)])
    .enumerate()
    {
        let id = ids[n];
        clusterpulse::db::write_tx(&mut conn, |conn| -> QueryResult<()> {
            summaries::remove(conn, id)?;
            diesel::update(feedback::table.find(id))
                .set((
                    feedback::ack_due_at.eq(due),
                    feedback::acknowledged_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            summaries::add(conn, id)
        })
        .unwrap();
    }

    // Many periods: open ends, month edges, single days, short and long windows, empty.
    let day0 = (now - chrono::Duration::days(430)).date();
    let mut periods: Vec<(Option<NaiveDate>, Option<NaiveDate>)> = vec![
        (None, None),
        (None, Some(now.date())),
        (Some(now.date()), None),
        (Some(now.date()), Some(now.date())),
        (Some(now.date()), Some(day0)),
    ];
    for _ in 0..40 {
        let a = day0 + chrono::Duration::days(rng.gen_range(0..440));
        let b = a + chrono::Duration::days(rng.gen_range(0..200));
        let snap = |d: NaiveDate, rng: &mut rand::rngs::StdRng| match rng.gen_range(0..4) {
            0 => chrono::Datelike::with_day(&d, 1).unwrap(),
            _ => d,
        };
        let (a, b) = (snap(a, &mut rng), snap(b, &mut rng));
        periods.push(match rng.gen_range(0..4) {
            0 => (None, Some(b)),
            1 => (Some(a), None),
            _ => (Some(a), Some(b)),
        });
    }
    let mut compared = 0;
    for op in &ops {
        for &(from, to) in &periods {
            for visibility in [Visibility::All, Visibility::Sealed] {
                let fast = feedback_metrics(&mut conn, op.id, from, to, now, visibility).unwrap();
                let slow = feedback_metrics_from_items(&mut conn, op.id, from, to, now, visibility)
                    .unwrap();
                assert_eq!(fast, slow, "{} {from:?}..{to:?} {visibility:?}", op.slug);
                compared += usize::from(fast.median_days_to_close.is_some());
            }
        }
    }
    assert!(compared > 100, "medians compared: {compared}");

    // The summaries kept on write are the rebuilt ones, row for row.
    let kept = clusterpulse::db::models::feedback_summaries(&mut conn).unwrap();
    assert!(
        kept.closures.len() > 100 && kept.unacked.len() > 10,
        "{kept:?}"
    );
    summaries::rebuild(&mut conn).unwrap();
    let rebuilt = clusterpulse::db::models::feedback_summaries(&mut conn).unwrap();
    assert_eq!(kept, rebuilt);
}

both_backends!(summaries_match_items, summaries_agree_with_the_items);
