//! The demo world's directory, people, rounds and responses.

use crate::db::models;
use crate::db::schema::{clusters, operations, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::accounts::*;
use crate::kernel::secrets;
use crate::kernel::time::now;
use anyhow::{anyhow, Context};
use diesel::prelude::*;

/// What `demo` prints.
pub struct DemoCredentials {
    pub admin_email: String,
    pub admin_password: String,
    pub coordinator_email: String,
    pub coordinator_password: String,
}

const DEMO_CLUSTERS: &[(&str, &str, &[&str], &str)] = &[
    (
        "shelter",
        "Global Shelter Cluster",
        &["lead@shelter.demo.example"],
        "en",
    ),
    (
        "health",
        "Global Health Cluster",
        &["lead@health.demo.example"],
        "en",
    ),
    (
        "wash",
        "Global WASH Cluster",
        &["lead@wash.demo.example"],
        "fr",
    ),
];

const DEMO_OPERATIONS: &[(&str, &str, &str, &str)] = &[
    ("shelter-yemen", "shelter", "YE", "Shelter Cluster Yemen"),
    ("shelter-sudan", "shelter", "SD", "Shelter Sector Sudan"),
    ("shelter-haiti", "shelter", "HT", "Shelter Cluster Haiti"),
    ("health-yemen", "health", "YE", "Health Cluster Yemen"),
    ("health-drc", "health", "CD", "Health Cluster DRC"),
    ("wash-haiti", "wash", "HT", "WASH Cluster Haiti"),
    ("wash-sahel", "wash", "BF", "WASH Cluster Burkina Faso"),
];

const DEMO_ORGANIZATIONS: &[(&str, &str)] = &[
    ("UNHCR", "un"),
    ("IOM", "un"),
    ("Norwegian Refugee Council", "ingo"),
    ("CARE International", "ingo"),
    ("Yemen Family Care Association", "nngo"),
    ("Sudanese Relief Network", "nngo"),
    ("Ministry of Public Works", "government"),
    ("Red Crescent Society", "rcrc"),
    ("ECHO", "donor"),
    ("Humanitarian Research Institute", "academic"),
];

/// Seeds the demo world (idempotent: existing records are kept) and resets the two demo
/// accounts to fresh random passwords, which it returns.
pub fn seed_demo(
    conn: &mut DbConnection,
    catalog: &crate::surveys::model::Catalog,
) -> anyhow::Result<DemoCredentials> {
    write_tx(conn, |conn| -> anyhow::Result<()> {
        for (code, name, leads, lang) in DEMO_CLUSTERS {
            if models::cluster_by_code(conn, code)?.is_none() {
                diesel::insert_into(clusters::table)
                    .values(models::NewCluster {
                        code,
                        name,
                        lead_emails: serde_json::to_string(leads)?,
                        language: lang,
                        created_at: now(),
                    })
                    .execute(conn)?;
            }
        }
        for (slug, cluster, country, name) in DEMO_OPERATIONS {
            if models::operation_by_slug(conn, slug)?.is_none() {
                let c = models::cluster_by_code(conn, cluster)?.context("demo cluster")?;
                diesel::insert_into(operations::table)
                    .values(models::NewOperation {
                        slug,
                        cluster_id: c.id,
                        country,
                        name,
                        created_at: now(),
                        // Public pages open in the language most people there read.
                        default_language: match *country {
                            "YE" | "SD" => Some("ar"),
                            "HT" | "CD" | "BF" => Some("fr"),
                            _ => None,
                        },
                    })
                    .execute(conn)?;
            }
        }
        for (name, t) in DEMO_ORGANIZATIONS {
            if models::organization_by_name(conn, name)?.is_none() {
                models::insert_organization(conn, name, t)?;
            }
        }
        Ok(())
    })?;
    let admin_password = secrets::random_token(12);
    upsert_demo_user(
        conn,
        "coordinator@demo.example",
        "coordinator",
        None,
        &["shelter-yemen".to_string(), "shelter-sudan".to_string()],
        &secrets::random_token(12),
    )?;
    write_tx(conn, super::membership::seed)?;
    seed_demo_rounds(conn, catalog)?;
    let coordinator_password = secrets::random_token(12);
    let admin_email = "admin@demo.example".to_string();
    let coordinator_email = "coordinator@demo.example".to_string();
    upsert_demo_user(conn, &admin_email, "admin", None, &[], &admin_password)?;
    upsert_demo_user(
        conn,
        &coordinator_email,
        "coordinator",
        None,
        &["shelter-yemen".to_string(), "shelter-sudan".to_string()],
        &coordinator_password,
    )?;
    super::charter::seed_demo_charter(conn, catalog)?;
    // OCHA's inter-cluster coordinator for Yemen (shelter and health) and Haiti (shelter
    // and WASH): the country views have two clusters each to compare.
    if models::user_by_email(conn, "intercluster@demo.example")?.is_none() {
        add_user(
            conn,
            &NewAccount {
                email: "intercluster@demo.example",
                role: "inter_cluster_coordinator",
                cluster: None,
                operations: &[],
                countries: &["YE".to_string(), "HT".to_string()],
                password: &secrets::random_token(12),
            },
        )?;
    }
    Ok(DemoCredentials {
        admin_email,
        admin_password,
        coordinator_email,
        coordinator_password,
    })
}

pub fn upsert_demo_user(
    conn: &mut DbConnection,
    email: &str,
    role: &str,
    cluster: Option<&str>,
    ops: &[String],
    password: &str,
) -> anyhow::Result<()> {
    match models::user_by_email(conn, email)? {
        Some(u) => {
            diesel::update(users::table.find(u.id))
                .set((
                    users::password_hash.eq(secrets::hash_password(password)?),
                    users::failed_logins.eq(0),
                    users::locked_until.eq(None::<chrono::NaiveDateTime>),
                ))
                .execute(conn)?;
        }
        None => {
            add_user(
                conn,
                &NewAccount {
                    email,
                    role,
                    cluster,
                    operations: ops,
                    countries: &[],
                    password,
                },
            )?;
        }
    }
    Ok(())
}

/// (title, to which the year the round closes in is added; mean score the answers aim at;
/// invitations answered; stays open)
type DemoRound = (&'static str, f64, usize, bool);

/// Demo rounds of each operation: (title, mean score the answers aim at, how many of the
/// invitations are answered, stays open). Two closed rounds per operation a year apart, so
/// trends show; shelter-yemen also has this year's round open, with some responses in.
const DEMO_ROUNDS: &[(&str, &[DemoRound])] = &[
    (
        "shelter-yemen",
        &[
            ("CCPM", 51.0, 26, false),
            ("CCPM", 62.0, 28, false),
            ("CCPM", 66.0, 11, true),
        ],
    ),
    (
        "shelter-sudan",
        &[("CCPM", 67.0, 27, false), ("CCPM", 55.0, 25, false)],
    ),
    (
        "shelter-haiti",
        &[("CCPM", 43.0, 24, false), ("CCPM", 47.0, 26, false)],
    ),
    (
        "health-yemen",
        &[("CCPM", 72.0, 28, false), ("CCPM", 79.0, 27, false)],
    ),
    (
        "health-drc",
        &[("CCPM", 59.0, 25, false), ("CCPM", 50.0, 26, false)],
    ),
    (
        "wash-haiti",
        &[("CCPM", 36.0, 24, false), ("CCPM", 48.0, 27, false)],
    ),
    (
        "wash-sahel",
        &[("CCPM", 63.0, 26, false), ("CCPM", 64.0, 28, false)],
    ),
];

/// Invitations per demo round.
const DEMO_INVITATIONS: usize = 32;

/// The organization type of the demo invitation `i`: mostly NGOs, as in real clusters, and
/// at least three of every type among the first 30 so that the breakdown by type shows.
const DEMO_ORG_CYCLE: [&str; 10] = [
    "ingo",
    "nngo",
    "un",
    "nngo",
    "government",
    "ingo",
    "rcrc",
    "nngo",
    "donor",
    "academic",
];

/// The organization named in demo invitation `i` of an operation in `country` (ISO code).
fn demo_organization(i: usize, country: &str) -> (String, &'static str) {
    let t = DEMO_ORG_CYCLE[i % DEMO_ORG_CYCLE.len()];
    // The how-manieth organization of this type (0-based) in the round.
    let k = (0..i)
        .filter(|j| DEMO_ORG_CYCLE[j % DEMO_ORG_CYCLE.len()] == t)
        .count();
    let place = match country {
        "YE" => "Yemen",
        "SD" => "Sudan",
        "HT" => "Haiti",
        "CD" => "Congo",
        "BF" => "Burkina",
        other => other,
    };
    let pick = |names: &[&str]| names[k % names.len()].to_string();
    let name = match t {
        "un" => pick(&["UNHCR", "IOM", "UN-Habitat", "WFP"]),
        "ingo" => format!("International Relief Alliance {}", k + 1),
        "nngo" => format!("{place} Community Development Association {}", k + 1),
        "government" => format!(
            "{place} {}",
            pick(&[
                "Ministry of Public Works",
                "Ministry of Planning",
                "Disaster Management Authority"
            ])
        ),
        "rcrc" => format!("{place} Red Cross / Red Crescent Society"),
        "donor" => pick(&["ECHO", "USAID BHA", "FCDO", "SIDA"]),
        _ => pick(&[
            "Humanitarian Research Institute",
            "Institute of Development Studies",
        ]),
    };
    (name, t)
}

/// Demo rounds (once per operation: an operation that already has rounds is left alone),
/// answered with plausible, varied choices from a seeded generator: each round aims at a
/// mean score, shifted per function and indicator so that functions differ and their trend
/// arrows point both ways.
fn seed_demo_rounds(
    conn: &mut DbConnection,
    catalog: &crate::surveys::model::Catalog,
) -> anyhow::Result<()> {
    use crate::db::schema::rounds;
    use crate::domain::rounds::{self as r, InvitationInput, NewRoundInput};
    use rand::{Rng, SeedableRng};
    let coord =
        models::user_by_email(conn, "coordinator@demo.example")?.context("demo coordinator")?;
    let surveys = vec!["ccpm-partner".to_string(), "ccpm-coordinator".to_string()];
    let now = now();
    for (op_index, (slug, plan)) in DEMO_ROUNDS.iter().enumerate() {
        let op = models::operation_by_slug(conn, slug)?.context("demo operation")?;
        let existing: i64 = rounds::table
            .filter(rounds::operation_id.eq(op.id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            continue;
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(2026 + op_index as u64);
        for (round_index, &(title, level, answered, open)) in plan.iter().enumerate() {
            use chrono::Datelike;
            // Closed rounds are moved back: the last closed one a year ago, the one before
            // two years ago.
            let years_back = plan[round_index..].iter().filter(|p| !p.3).count() as i64;
            // Titled by the year the round closes in, so the demo reads right in any year.
            let closes_at = now + chrono::Duration::days(20);
            let closes_year = if open {
                closes_at
            } else {
                closes_at - chrono::Duration::days(365 * years_back)
            }
            .year();
            let round = r::create_round(
                conn,
                NewRoundInput {
                    operation_id: Some(op.id),
                    cluster_id: None,
                    framework: "ccpm".into(),
                    surveys: surveys.clone(),
                    title: format!("{title} {closes_year}"),
                    opens_at: now - chrono::Duration::days(10),
                    closes_at,
                    remind_days_before: Some(3),
                    created_by: coord.id,
                },
            )
            .map_err(|e| anyhow!("demo round: {e}"))?;
            let items: Vec<InvitationInput> = (0..DEMO_INVITATIONS)
                .map(|i| {
                    let (organization, t) = demo_organization(i, &op.country);
                    InvitationInput {
                        email: format!("partner{}@{}.{}.demo.example", i + 1, t, op.slug),
                        organization,
                        org_type: t.to_string(),
                        survey: if i % 8 == 7 {
                            surveys[1].clone()
                        } else {
                            surveys[0].clone()
                        },
                        language: Some(["en", "fr", "ar", "es"][i % 4].to_string()),
                    }
                })
                .collect();
            let created = r::add_invitations(conn, catalog, &round, items, coord.id)
                .map_err(|e| anyhow!("demo invitations: {e}"))?;
            // Per-function and per-indicator shifts of the round's level.
            let mut shift: std::collections::HashMap<String, f64> = Default::default();
            let mut target = |indicator: &str, rng: &mut rand::rngs::StdRng| -> f64 {
                let function = indicator.split('.').next().unwrap_or(indicator).to_string();
                let f = *shift
                    .entry(function)
                    .or_insert_with(|| rng.gen_range(-15.0..15.0));
                let i = *shift
                    .entry(indicator.to_string())
                    .or_insert_with(|| rng.gen_range(-6.0..6.0));
                level + f + i
            };
            // Who answers in a closed round: the small org-type groups (three invitations
            // each) in full, except one academic in every other operation (so that the
            // suppression of small groups shows too); the rest from a seeded shuffle of the
            // NGOs.
            let types: Vec<&str> = (0..created.len())
                .map(|i| DEMO_ORG_CYCLE[i % DEMO_ORG_CYCLE.len()])
                .collect();
            // An open round is still filling up: anyone may have answered so far.
            let in_full = |i: usize| !open && !matches!(types[i], "ingo" | "nngo");
            let mut order: Vec<usize> = (0..created.len()).filter(|&i| in_full(i)).collect();
            if op_index % 2 == 1 {
                if let Some(k) = order.iter().position(|&i| types[i] == "academic") {
                    order.remove(k);
                }
            }
            let mut ngos: Vec<usize> = (0..created.len()).filter(|&i| !in_full(i)).collect();
            for k in (1..ngos.len()).rev() {
                ngos.swap(k, rng.gen_range(0..=k));
            }
            order.extend(ngos);
            let mut answering: Vec<usize> = order.into_iter().take(answered).collect();
            answering.sort_unstable();
            for inv in answering.iter().map(|&k| &created[k]) {
                answer_demo(conn, catalog, inv, &mut rng, &mut target)?;
            }
            if !open {
                close_back_in_time(conn, &round, years_back)?;
            }
        }
    }
    Ok(())
}

/// Answers a demo invitation with plausible choices: each scored question near the
/// `target` of its indicator, shifted by the respondent's mood, with noise and some
/// "don't know".
pub(super) fn answer_demo(
    conn: &mut DbConnection,
    catalog: &crate::surveys::model::Catalog,
    inv: &crate::domain::rounds::CreatedInvitation,
    rng: &mut rand::rngs::StdRng,
    target: &mut dyn FnMut(&str, &mut rand::rngs::StdRng) -> f64,
) -> anyhow::Result<()> {
    use rand::Rng;
    let survey = catalog.survey(&inv.survey).context("demo survey")?;
    // Some respondents are more positive than others.
    let mood: f64 = rng.gen_range(-12.0..12.0);
    let mut answers = serde_json::Map::new();
    for q in &survey.questions {
        let Some(indicator) = &q.indicator else {
            continue;
        };
        let Some(options) = survey.choice_list(q) else {
            continue;
        };
        let goal = target(indicator, rng) + mood;
        let pick = if rng.gen_bool(0.06) {
            // "Don't know" / "not applicable": no score.
            options.iter().find(|o| o.score.is_none())
        } else {
            // The goal plus noise, to the nearest scored option.
            let noise: f64 = (0..3).map(|_| rng.gen_range(-22.0..22.0)).sum();
            let x = goal + noise;
            options.iter().filter(|o| o.score.is_some()).min_by(|a, b| {
                let da = (a.score.unwrap_or(0.0) - x).abs();
                let db = (b.score.unwrap_or(0.0) - x).abs();
                da.total_cmp(&db)
            })
        };
        let pick = pick.unwrap_or(&options[0]).value.clone();
        answers.insert(q.name.clone(), serde_json::Value::String(pick));
    }
    let lang = inv.language.clone().unwrap_or_else(|| "en".into());
    let mut id = [0u8; 16];
    rng.fill(&mut id);
    let id = uuid::Builder::from_random_bytes(id).into_uuid();
    crate::domain::rounds::submit(conn, catalog, &inv.token, &id.to_string(), &lang, &answers)
        .map_err(|e| anyhow!("demo response: {e}"))?;
    Ok(())
}

/// Closes a demo round `years_back` years ago: its dates, responses and invitations move
/// back together.
pub(super) fn close_back_in_time(
    conn: &mut DbConnection,
    round: &models::Round,
    years_back: i64,
) -> anyhow::Result<()> {
    use crate::db::schema::{invitations, responses, rounds};
    let back = chrono::Duration::days(365 * years_back);
    let closes_at = round.closes_at - back;
    let opens_at = round.opens_at - back;
    write_tx(conn, |conn| -> anyhow::Result<()> {
        diesel::update(rounds::table.find(round.id))
            .set((
                rounds::state.eq(crate::kernel::vocab::RoundState::Closed.as_str()),
                rounds::opens_at.eq(opens_at),
                rounds::closes_at.eq(closes_at),
                rounds::closed_at.eq(Some(closes_at)),
                rounds::created_at.eq(opens_at - chrono::Duration::days(2)),
            ))
            .execute(conn)?;
        diesel::update(responses::table.filter(responses::round_id.eq(round.id)))
            .set(responses::submitted_at.eq(closes_at - chrono::Duration::days(12)))
            .execute(conn)?;
        diesel::update(invitations::table.filter(invitations::round_id.eq(round.id)))
            .set(invitations::created_at.eq(opens_at))
            .execute(conn)?;
        diesel::update(
            invitations::table
                .filter(invitations::round_id.eq(round.id))
                .filter(invitations::responded_at.is_not_null()),
        )
        .set(invitations::responded_at.eq(closes_at - chrono::Duration::days(12)))
        .execute(conn)?;
        Ok(())
    })?;
    Ok(())
}
