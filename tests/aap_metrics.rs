//! AAP indicators through `clusterpulse::domain::feedback::metrics::feedback_metrics` on both backends, over items
//! inserted directly, against numbers worked out by hand.

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
