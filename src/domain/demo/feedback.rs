//! The demo world's community feedback: a few hundred items in every state.

use crate::db::models;
use crate::db::schema::{feedback, feedback_events};
use crate::db::DbConnection;
use crate::domain::feedback::summaries;
use crate::domain::feedback::*;
use crate::kernel::time::now;
use chrono::Duration;
use diesel::prelude::*;
use serde_json::{json, Map};

const DEMO_MESSAGES: &[(&str, &str, &str)] = &[
    (
        "complaint",
        "en",
        "The distribution list left out several families in block C who arrived last month.",
    ),
    (
        "complaint",
        "ar",
        "لم نحصل على مستلزمات الإيواء رغم تسجيلنا منذ شهرين.",
    ),
    (
        "complaint",
        "fr",
        "Les bâches distribuées sont trop petites pour couvrir nos abris.",
    ),
    (
        "question",
        "en",
        "When will the next cash distribution take place in our area?",
    ),
    (
        "question",
        "fr",
        "Comment inscrire un nouveau-né sur la liste de la famille ?",
    ),
    (
        "question",
        "ar",
        "أين يمكنني الحصول على مياه الشرب بعد إغلاق النقطة القريبة؟",
    ),
    (
        "suggestion",
        "en",
        "Please hold distributions earlier in the morning, before the heat.",
    ),
    (
        "suggestion",
        "es",
        "Sería mejor anunciar las distribuciones por radio y no solo por mensaje.",
    ),
    (
        "appreciation",
        "en",
        "Thank you to the team who repaired the latrines quickly.",
    ),
    (
        "appreciation",
        "ar",
        "شكرًا لفريق التوزيع على المعاملة الطيبة لكبار السن.",
    ),
    (
        "request",
        "en",
        "My elderly mother cannot walk to the distribution point. Can someone bring her kit?",
    ),
    (
        "request",
        "fr",
        "Nous avons besoin de couvertures pour les enfants, les nuits sont froides.",
    ),
    (
        "sensitive",
        "en",
        "A person at the distribution asked for money to put my name on the list.",
    ),
    (
        "sensitive",
        "ar",
        "أحد العاملين طلب مقابلاً للحصول على المساعدة.",
    ),
];

/// (action, note, referred to, satisfied)
type DemoStep = (&'static str, Option<String>, Option<String>, Option<bool>);

/// A few hundred feedback items across the demo operations, in every state (once: skipped
/// when the operation already has feedback). Deterministic.
pub fn seed_demo(conn: &mut DbConnection, config: &crate::config::Config) -> anyhow::Result<usize> {
    let sla = &config.sla;
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let now = now();
    let staff = crate::db::schema::users::table
        .filter(crate::db::schema::users::email.eq("coordinator@demo.example"))
        .select(crate::db::schema::users::id)
        .first::<i32>(conn)
        .optional()?;
    let mut created = 0;
    for op in models::all_operations(conn)? {
        let existing: i64 = feedback::table
            .filter(feedback::operation_id.eq(op.id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            continue;
        }
        // A small made-up list of areas (P-codes from the country code), as an operation
        // would load from its COD table with `clusterpulse operations areas`.
        let mut csv = String::from("admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\n");
        for (i, region) in ["North", "South", "East", "Capital"].iter().enumerate() {
            for d in 1..=2 {
                csv.push_str(&format!(
                    "{c}{r:02},{region},{c}{r:02}{d:02},{region} district {d}\n",
                    c = op.country,
                    r = i + 1
                ));
            }
        }
        let areas = crate::domain::areas::parse_csv(&csv)
            .map_err(|e| anyhow::anyhow!("demo areas: {e}"))?;
        if crate::domain::areas::load(conn, op.id)?.is_empty() {
            crate::domain::areas::replace(conn, op.id, &areas)?;
        }
        let n = if op.slug == "shelter-yemen" { 120 } else { 40 };
        for _ in 0..n {
            let (category, language, message) =
                DEMO_MESSAGES[rng.gen_range(0..DEMO_MESSAGES.len())];
            let age_days = rng.gen_range(0.0..180.0f64);
            let at = now - Duration::minutes((age_days * 1440.0) as i64);
            let channel = ["web", "web", "hotline", "helpdesk", "sms", "box"][rng.gen_range(0..6)];
            let consent = rng.gen_bool(0.4);
            let mut answers = Map::new();
            answers.insert("category".into(), json!(category));
            answers.insert("message".into(), json!(message));
            answers.insert(
                "consent_to_contact".into(),
                json!(if consent { "yes" } else { "no" }),
            );
            answers.insert(
                "sex".into(),
                json!(["female", "male", "prefer_not_to_say"][rng.gen_range(0..3)]),
            );
            answers.insert(
                "age_group".into(),
                json!(["under_18", "18_59", "18_59", "60_plus"][rng.gen_range(0..4)]),
            );
            let district = &areas.admin2[rng.gen_range(0..areas.admin2.len())];
            answers.insert("admin1".into(), json!(district.parent));
            answers.insert("admin2".into(), json!(district.pcode));
            let contact = consent.then(|| format!("+000 555 {:04}", rng.gen_range(0..10_000)));
            let done = store(
                conn,
                config,
                NewItem {
                    op: &op,
                    channel,
                    language,
                    answers,
                    contact,
                    admin1: district.parent.clone(),
                    admin2: Some(district.pcode.clone()),
                    actor: (channel != "web").then_some(staff).flatten(),
                    at,
                },
            )?;
            created += 1;
            // How far the item went: older items further along.
            let stage = if age_days < 3.0 {
                rng.gen_range(0..2)
            } else {
                rng.gen_range(0..5)
            };
            let hours_to_ack =
                rng.gen_range(2..(sla.hours(priority_of(category, false)) as i64 * 2));
            let mut t = at;
            let mut steps: Vec<DemoStep> = Vec::new();
            if stage >= 1 {
                steps.push(("acknowledge", None, None, None));
            }
            if stage >= 2 && rng.gen_bool(0.5) {
                steps.push(("refer", None, Some("Partner field team".into()), None));
            }
            if stage >= 3 {
                steps.push((
                    "respond",
                    Some("Explained the next steps by phone and at the help desk.".into()),
                    None,
                    None,
                ));
            }
            if stage >= 4 {
                steps.push(("close", None, None, Some(rng.gen_bool(0.7))));
            }
            for (i, (action, note, referred_to, satisfied)) in steps.into_iter().enumerate() {
                t += if i == 0 {
                    Duration::hours(hours_to_ack)
                } else {
                    Duration::hours(rng.gen_range(6..120))
                };
                if t > now {
                    break;
                }
                let id: i32 = feedback::table
                    .filter(feedback::reference.eq(&done.reference))
                    .select(feedback::id)
                    .first(conn)?;
                let status = match action {
                    "acknowledge" => "acknowledged",
                    "refer" => "referred",
                    "respond" => "responded",
                    _ => "closed",
                };
                summaries::remove(conn, id)?;
                diesel::update(feedback::table.find(id))
                    .set((feedback::status.eq(status), feedback::updated_at.eq(t)))
                    .execute(conn)?;
                match action {
                    "acknowledge" => diesel::update(feedback::table.find(id))
                        .set(feedback::acknowledged_at.eq(Some(t)))
                        .execute(conn)?,
                    "respond" => diesel::update(feedback::table.find(id))
                        .set(feedback::responded_at.eq(Some(t)))
                        .execute(conn)?,
                    "close" => diesel::update(feedback::table.find(id))
                        .set((
                            feedback::closed_at.eq(Some(t)),
                            feedback::satisfied.eq(satisfied),
                        ))
                        .execute(conn)?,
                    _ => 0,
                };
                summaries::add(conn, id)?;
                diesel::insert_into(feedback_events::table)
                    .values((
                        feedback_events::feedback_id.eq(id),
                        feedback_events::action.eq(action),
                        feedback_events::note.eq(note),
                        feedback_events::referred_to.eq(referred_to),
                        feedback_events::satisfied.eq(satisfied),
                        feedback_events::actor_user_id.eq(staff),
                        feedback_events::created_at.eq(t),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(created)
}
