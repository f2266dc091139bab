//! The demo's service-charter rounds: the Global Shelter Cluster rated by the coordinators
//! and co-coordinators of its three country clusters, a year ago and two years ago (so the
//! trend shows), with enough answers to score.

use super::world::{answer_demo, close_back_in_time};
use crate::db::models;
use crate::db::schema::rounds;
use crate::db::DbConnection;
use crate::domain::charter::FRAMEWORK;
use crate::domain::rounds::{self as r, InvitationInput, NewRoundInput};
use crate::kernel::time::now;
use anyhow::{anyhow, Context};
use diesel::prelude::*;

/// (years back, mean score the answers aim at, invitations answered)
const DEMO_CHARTER_ROUNDS: [(i64, f64, usize); 2] = [(2, 54.0, 5), (1, 63.0, 6)];

/// The country clusters whose coordinators rate the Global Shelter Cluster.
const SHELTER_OPERATIONS: [&str; 3] = ["shelter-yemen", "shelter-sudan", "shelter-haiti"];

/// Seeds the Global Shelter Cluster's charter rounds once (a cluster that has charter rounds
/// is left alone).
pub fn seed_demo_charter(
    conn: &mut DbConnection,
    catalog: &crate::surveys::model::Catalog,
) -> anyhow::Result<()> {
    use chrono::Datelike;
    use rand::{Rng, SeedableRng};
    if catalog.framework(FRAMEWORK).is_none() {
        return Ok(());
    }
    let cluster = models::cluster_by_code(conn, "shelter")?.context("demo cluster")?;
    let existing: i64 = rounds::table
        .filter(rounds::cluster_id.eq(cluster.id))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Ok(());
    }
    let admin = models::user_by_email(conn, "admin@demo.example")?.context("demo admin")?;
    let surveys: Vec<String> = catalog
        .surveys
        .values()
        .filter(|s| s.framework.as_deref() == Some(FRAMEWORK))
        .map(|s| s.id.clone())
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7007);
    for (years_back, level, answered) in DEMO_CHARTER_ROUNDS {
        let closes_at = now() + chrono::Duration::days(20);
        let year = (closes_at - chrono::Duration::days(365 * years_back)).year();
        let round = r::create_round(
            conn,
            NewRoundInput {
                operation_id: None,
                cluster_id: Some(cluster.id),
                framework: FRAMEWORK.into(),
                surveys: surveys.clone(),
                title: format!("Service charter review {year}"),
                opens_at: now() - chrono::Duration::days(10),
                closes_at,
                remind_days_before: None,
                created_by: admin.id,
            },
        )
        .map_err(|e| anyhow!("demo charter round: {e}"))?;
        let items: Vec<InvitationInput> = SHELTER_OPERATIONS
            .iter()
            .flat_map(|slug| {
                ["coordinator", "co-coordinator"].map(|who| InvitationInput {
                    email: format!("{who}@{slug}.demo.example"),
                    organization: cluster.name.clone(),
                    org_type: "other".into(),
                    survey: surveys[0].clone(),
                    language: Some(if slug.ends_with("haiti") { "fr" } else { "en" }.into()),
                })
            })
            .collect();
        let created = r::add_invitations(conn, catalog, &round, items, admin.id)
            .map_err(|e| anyhow!("demo charter invitations: {e}"))?;
        let mut shift: std::collections::HashMap<String, f64> = Default::default();
        let mut target = |indicator: &str, rng: &mut rand::rngs::StdRng| -> f64 {
            let function = indicator.split('.').next().unwrap_or(indicator).to_string();
            let f = *shift
                .entry(function)
                .or_insert_with(|| rng.gen_range(-18.0..18.0));
            level + f
        };
        for inv in created.iter().take(answered) {
            answer_demo(conn, catalog, inv, &mut rng, &mut target)?;
        }
        close_back_in_time(conn, &round, years_back)?;
    }
    Ok(())
}
