//! Administrative actions shared by the CLI and tests: accounts, tokens, the demo world.

use crate::auth::{self, Role};
use crate::db::models::{self, NewUser};
use crate::db::schema::{clusters, operations, user_operations, users};
use crate::db::{is_unique_violation, now, write_tx, DbConnection};
use anyhow::{anyhow, bail, Context};
use diesel::prelude::*;

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub cluster: Option<&'a str>,
    pub operations: &'a [String],
    pub password: &'a str,
}

/// Creates a user, checking that the role's scope is given: a global lead needs `--cluster`,
/// coordinators and PSEA focal points need at least one `--operation`.
pub fn add_user(conn: &mut DbConnection, a: &NewAccount) -> anyhow::Result<i32> {
    let role = Role::parse(a.role).map_err(|e| anyhow!("--role: {e}"))?;
    models::check_email(a.email).map_err(|e| anyhow!("--email: {e}"))?;
    auth::check_password_strength(a.password).map_err(|e| anyhow!("password: {e}"))?;
    match role {
        Role::GlobalLead if a.cluster.is_none() => {
            bail!("--cluster: a global_lead needs the cluster they lead (e.g. --cluster shelter)")
        }
        Role::Coordinator | Role::PseaFocalPoint if a.operations.is_empty() => bail!(
            "--operation: a {} needs at least one operation (e.g. --operation shelter-yemen)",
            role.as_str()
        ),
        _ => {}
    }
    let hash = auth::hash_password(a.password)?;
    write_tx(conn, |conn| -> anyhow::Result<i32> {
        let cluster_id = match a.cluster {
            Some(code) => Some(
                models::cluster_by_code(conn, code)?
                    .ok_or_else(|| anyhow!("--cluster: no cluster with code {code:?}"))?
                    .id,
            ),
            None => None,
        };
        let mut op_ids = Vec::new();
        for slug in a.operations {
            let op = models::operation_by_slug(conn, slug)?
                .ok_or_else(|| anyhow!("--operation: no operation with slug {slug:?}"))?;
            op_ids.push(op.id);
        }
        let email = models::normalize_email(a.email);
        let id: i32 = diesel::insert_into(users::table)
            .values(NewUser {
                email: &email,
                password_hash: &hash,
                role: role.as_str(),
                cluster_id,
                disabled: false,
                failed_logins: 0,
                created_at: now(),
            })
            .returning(users::id)
            .get_result(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    anyhow!("--email: a user with this email already exists")
                } else {
                    anyhow::Error::new(e)
                }
            })?;
        for op in op_ids {
            diesel::insert_into(user_operations::table)
                .values((
                    user_operations::user_id.eq(id),
                    user_operations::operation_id.eq(op),
                ))
                .execute(conn)?;
        }
        models::audit(
            conn,
            None,
            "user.create",
            &format!("user:{id}"),
            serde_json::json!({"role": role.as_str(), "via": "cli"}),
        )?;
        Ok(id)
    })
}

pub fn create_token_for(
    conn: &mut DbConnection,
    email: &str,
    label: &str,
) -> anyhow::Result<String> {
    let user = models::user_by_email(conn, email)?.ok_or_else(|| {
        anyhow!("--email: no user with this email (create one with `clusterpulse users add`)")
    })?;
    if user.disabled {
        bail!("--email: this account is disabled");
    }
    let token = models::create_token(conn, user.id, label)?;
    models::audit(
        conn,
        None,
        "token.create",
        &format!("user:{}", user.id),
        serde_json::json!({"via": "cli"}),
    )?;
    Ok(token)
}

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
    let admin_password = auth::random_token(12);
    upsert_demo_user(
        conn,
        "coordinator@demo.example",
        "coordinator",
        None,
        &["shelter-yemen".to_string(), "shelter-sudan".to_string()],
        &auth::random_token(12),
    )?;
    seed_demo_rounds(conn, catalog)?;
    let coordinator_password = auth::random_token(12);
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
                    users::password_hash.eq(auth::hash_password(password)?),
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
                    password,
                },
            )?;
        }
    }
    Ok(())
}

/// Demo rounds on shelter-yemen (once): a closed round a year ago and an open round with
/// invitations and some responses, answered with plausible, varied (seeded) choices.
fn seed_demo_rounds(
    conn: &mut DbConnection,
    catalog: &crate::surveys::model::Catalog,
) -> anyhow::Result<()> {
    use crate::db::schema::rounds;
    use crate::rounds::{self as r, InvitationInput, NewRoundInput};
    use rand::{Rng, SeedableRng};
    let op = models::operation_by_slug(conn, "shelter-yemen")?.context("demo operation")?;
    let existing: i64 = rounds::table
        .filter(rounds::operation_id.eq(op.id))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Ok(());
    }
    let coord =
        models::user_by_email(conn, "coordinator@demo.example")?.context("demo coordinator")?;
    let surveys = vec!["ccpm-partner".to_string(), "ccpm-coordinator".to_string()];
    let orgs: Vec<(&str, &str)> = DEMO_ORGANIZATIONS.to_vec();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let now = now();
    // (title, invitations, responses, bias toward agreement, close afterwards)
    for (title, invited, answered, bias, close) in [
        ("CCPM 2025", 24usize, 17usize, 0.45f64, true),
        ("CCPM 2026", 24, 11, 0.6, false),
    ] {
        let round = r::create_round(
            conn,
            NewRoundInput {
                operation_id: op.id,
                framework: "ccpm".into(),
                surveys: surveys.clone(),
                title: title.into(),
                opens_at: now - chrono::Duration::days(10),
                closes_at: now + chrono::Duration::days(20),
                remind_days_before: Some(3),
                created_by: coord.id,
            },
        )
        .map_err(|e| anyhow!("demo round: {e}"))?;
        let items: Vec<InvitationInput> = (0..invited)
            .map(|i| {
                let (org, t) = orgs[i % orgs.len()];
                InvitationInput {
                    email: format!("partner{}@{}.demo.example", i + 1, t),
                    organization: org.to_string(),
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
        for inv in created.iter().take(answered) {
            let survey = catalog.survey(&inv.survey).context("demo survey")?;
            let mut answers = serde_json::Map::new();
            for q in &survey.questions {
                if q.indicator.is_none() {
                    continue;
                }
                let Some(options) = survey.choice_list(q) else {
                    continue;
                };
                let scored: Vec<_> = options.iter().filter(|o| o.score.is_some()).collect();
                let pick = if rng.gen_bool(0.07) {
                    options
                        .iter()
                        .find(|o| o.score.is_none())
                        .unwrap_or(&options[0])
                        .value
                        .clone()
                } else {
                    // Skewed toward the top of the scale by `bias`.
                    let x: f64 = rng.gen::<f64>().powf(bias * 2.0);
                    let idx = ((1.0 - x) * scored.len() as f64) as usize;
                    scored[idx.min(scored.len() - 1)].value.clone()
                };
                answers.insert(q.name.clone(), serde_json::Value::String(pick));
            }
            let lang = inv.language.clone().unwrap_or_else(|| "en".into());
            r::submit(
                conn,
                catalog,
                &inv.token,
                &uuid::Uuid::new_v4().to_string(),
                &lang,
                &answers,
            )
            .map_err(|e| anyhow!("demo response: {e}"))?;
        }
        if close {
            let year_ago = chrono::Duration::days(365);
            diesel::update(rounds::table.find(round.id))
                .set((
                    rounds::state.eq("closed"),
                    rounds::opens_at.eq(round.opens_at - year_ago),
                    rounds::closes_at.eq(round.closes_at - year_ago),
                    rounds::closed_at.eq(Some(round.closes_at - year_ago)),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
