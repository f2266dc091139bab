//! A global cluster's service charter, rated by its country clusters.
//!
//! A charter round belongs to a global cluster (`rounds.cluster_id`, no operation). Its
//! invitations go to the coordinators of the cluster's operations (users with the
//! coordinator role scoped to them) and to any extra addresses the cluster's leads name.
//! It is scored with the same maths, snapshots and anonymity as a CCPM round
//! ([`scores`]); only admins and the cluster's global leads read or manage it.

pub mod scores;

use crate::db::models::{self, Cluster, Round};
use crate::db::schema::{invitations, operations, rounds, user_operations, users};
use crate::db::DbConnection;
use crate::domain::invitations::InvitationLink;
use crate::domain::rounds::manage::{check_schedule, RoundFields, RoundRequest};
use crate::domain::rounds::{self as round_rules, InvitationInput, NewRoundInput};
use crate::domain::services::Services;
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::{AppError, Fields};
use crate::kernel::time::rfc3339;
use crate::kernel::vocab::RoundState;
use crate::surveys::model::Catalog;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The framework of service-charter rounds (`surveys/frameworks/service-charter.toml`).
pub const FRAMEWORK: &str = "service-charter";

/// A charter round as the API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CharterRoundView {
    pub id: i32,
    /// The global cluster's code.
    pub cluster: String,
    pub framework: String,
    pub surveys: Vec<String>,
    pub title: String,
    /// RFC 3339, UTC.
    pub opens_at: String,
    /// RFC 3339, UTC.
    pub closes_at: String,
    /// As of now.
    pub state: RoundState,
    pub created_at: String,
    pub closed_at: Option<String>,
}

impl CharterRoundView {
    pub fn of(r: &Round, cluster: &Cluster) -> CharterRoundView {
        CharterRoundView {
            id: r.id,
            cluster: cluster.code.clone(),
            framework: r.framework.clone(),
            surveys: r.survey_ids(),
            title: r.title.clone(),
            opens_at: rfc3339(r.opens_at),
            closes_at: rfc3339(r.closes_at),
            state: r.effective_state(crate::kernel::time::now()),
            created_at: rfc3339(r.created_at),
            closed_at: r.closed_at.map(rfc3339),
        }
    }
}

/// A charter round someone asks for.
pub struct CharterRequest {
    pub title: Option<String>,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    /// Default: every survey of the charter framework read from files.
    pub surveys: Option<Vec<String>>,
    pub remind_days_before: Option<i32>,
}

/// The cluster by code, if `actor` may read (or, with `manage`, manage) its charter:
/// 404 for an unknown code, 403 without access.
pub fn cluster_for(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &str,
    manage: bool,
) -> Result<Cluster, AppError> {
    let cluster = models::cluster_by_code(conn, code)?
        .ok_or_else(|| AppError::not_found(format!("no cluster with code {code:?}")))?;
    let allowed = if manage {
        actor.can_manage_charter(cluster.id)
    } else {
        actor.can_read_charter(cluster.id)
    };
    if !allowed {
        return Err(AppError::Forbidden(
            "only the cluster's global leads (or an admin) can see its service charter".into(),
        ));
    }
    Ok(cluster)
}

/// A charter round and its cluster: 404 when there is no such charter round (an
/// operation's round is not one), 403 without access.
pub fn round_for(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    manage: bool,
) -> Result<(Round, Cluster), AppError> {
    let round = models::round_by_id(conn, id)?
        .filter(|r| r.operation_id.is_none())
        .ok_or_else(|| AppError::not_found(format!("no service-charter round with id {id}")))?;
    let cluster_id = round.cluster_id.unwrap_or(-1);
    let allowed = if manage {
        actor.can_manage_charter(cluster_id)
    } else {
        actor.can_read_charter(cluster_id)
    };
    if !allowed {
        return Err(AppError::forbidden());
    }
    let cluster = crate::db::schema::clusters::table
        .find(cluster_id)
        .select(Cluster::as_select())
        .first(conn)?;
    Ok((round, cluster))
}

/// Creates a charter round of the cluster `code` (its global leads, admins).
pub fn create(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    code: &str,
    req: CharterRequest,
) -> Result<(Round, Cluster), AppError> {
    let cluster = cluster_for(conn, actor, code, true)?;
    let title = check_schedule(
        &RoundRequest {
            operation: String::new(),
            framework: None,
            surveys: None,
            title: req.title,
            opens_at: req.opens_at,
            closes_at: req.closes_at,
            remind_days_before: req.remind_days_before,
        },
        &RoundFields {
            opens_at: "opens_at",
            closes_at: "closes_at",
        },
    )?;
    if catalog.framework(FRAMEWORK).is_none() {
        return Err(AppError::Conflict(format!(
            "the framework {FRAMEWORK:?} is not loaded; add surveys/frameworks/{FRAMEWORK}.toml"
        )));
    }
    let surveys = req.surveys.unwrap_or_else(|| {
        catalog
            .surveys
            .values()
            .filter(|s| s.framework.as_deref() == Some(FRAMEWORK))
            .filter(|s| !catalog.uploaded.contains(&s.id))
            .map(|s| s.id.clone())
            .collect()
    });
    round_rules::check_round_definitions(catalog, FRAMEWORK, &surveys)?;
    let round = round_rules::create_round(
        conn,
        NewRoundInput {
            operation_id: None,
            cluster_id: Some(cluster.id),
            framework: FRAMEWORK.to_string(),
            surveys,
            title,
            opens_at: req.opens_at,
            closes_at: req.closes_at,
            remind_days_before: req.remind_days_before,
            created_by: actor.id,
        },
    )?;
    Ok((round, cluster))
}

/// The cluster's charter rounds, newest first.
pub fn rounds_of(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &str,
) -> Result<(Cluster, Vec<Round>), AppError> {
    let cluster = cluster_for(conn, actor, code, false)?;
    let list = rounds::table
        .filter(rounds::cluster_id.eq(cluster.id))
        .order(rounds::id.desc())
        .select(Round::as_select())
        .load(conn)?;
    Ok((cluster, list))
}

/// The addresses of the coordinators of the cluster's operations in use: users with the
/// coordinator role, enabled, scoped to one of them.
pub fn coordinator_emails(conn: &mut DbConnection, cluster_id: i32) -> QueryResult<Vec<String>> {
    let mut emails: Vec<String> = user_operations::table
        .inner_join(users::table)
        .inner_join(operations::table)
        .filter(operations::cluster_id.eq(cluster_id))
        .filter(operations::archived_at.is_null())
        .filter(users::role.eq(Role::Coordinator.as_str()))
        .filter(users::disabled.eq(false))
        .select(users::email)
        .load(conn)?;
    emails.sort();
    emails.dedup();
    Ok(emails)
}

/// Who a charter invitation request names.
pub struct CharterInvite {
    /// Invite the coordinators of the cluster's operations.
    pub coordinators: bool,
    /// Further addresses (co-coordinators without an account, for example).
    pub emails: Vec<String>,
    pub send: bool,
}

/// The invitations created, and how many named people already had one.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CharterInvited {
    pub invitations: Vec<InvitationLink>,
    pub already_invited: usize,
}

/// Invites the country coordinators (and extra addresses) to a charter round the actor
/// manages; people already invited are skipped, so the call can be repeated when new
/// coordinators join. Every invitation carries the global cluster's name as its
/// organization and the org type `other`: a charter response says nothing of the country
/// cluster it came from.
pub fn invite(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    id: i32,
    req: CharterInvite,
) -> Result<CharterInvited, AppError> {
    let (round, cluster) = round_for(conn, actor, id, true)?;
    let mut fields = Fields::new();
    for (i, e) in req.emails.iter().enumerate() {
        if let Err(problem) = models::check_email(e) {
            fields.insert(format!("emails[{i}]"), problem);
        }
    }
    if req.emails.len() > 5000 {
        fields.insert(
            "emails".into(),
            "at most 5,000 addresses per request".into(),
        );
    }
    crate::kernel::error::fields_result(fields)?;
    let mut wanted: Vec<String> = if req.coordinators {
        coordinator_emails(conn, cluster.id)?
    } else {
        Vec::new()
    };
    wanted.extend(req.emails.iter().map(|e| models::normalize_email(e)));
    wanted.sort();
    wanted.dedup();
    let survey = round
        .survey_ids()
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("charter round without survey")))?;
    let existing: Vec<String> = invitations::table
        .filter(invitations::round_id.eq(round.id))
        .filter(invitations::survey_id.eq(&survey))
        .select(invitations::email)
        .load(conn)?;
    let before = wanted.len();
    wanted.retain(|e| !existing.contains(e));
    let already_invited = before - wanted.len();
    if round.effective_state(crate::kernel::time::now()) == RoundState::Closed {
        return Err(AppError::Gone(
            "this round is closed; it accepts no new invitations".into(),
        ));
    }
    if wanted.is_empty() {
        return Ok(CharterInvited {
            invitations: Vec::new(),
            already_invited,
        });
    }
    ensure_organization(conn, &cluster.name)?;
    let items = wanted
        .into_iter()
        .map(|email| InvitationInput {
            email,
            organization: cluster.name.clone(),
            org_type: "other".into(),
            survey: survey.clone(),
            language: None,
        })
        .collect();
    let invitations =
        crate::domain::invitations::create_and_send(conn, svc, round, items, req.send, actor.id)?;
    Ok(CharterInvited {
        invitations,
        already_invited,
    })
}

/// The organization every charter invitation names (the global cluster), created once: two
/// first invitations at the same moment must not both try to create it inside their
/// transactions (the loser's unique violation is harmless here, outside them).
fn ensure_organization(conn: &mut DbConnection, name: &str) -> Result<(), AppError> {
    if models::organization_by_name(conn, name)?.is_some() {
        return Ok(());
    }
    match models::insert_organization(conn, name, "other") {
        Ok(_) => Ok(()),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Closes a charter round the actor manages.
pub fn close(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
) -> Result<(Round, Cluster), AppError> {
    close_of(conn, actor, "", id)
}

/// [`close`], with the cluster code the page names (empty: any); a round of another
/// cluster is not found.
pub fn close_of(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &str,
    id: i32,
) -> Result<(Round, Cluster), AppError> {
    let (round, cluster) = round_for(conn, actor, id, true)?;
    if !code.is_empty() && cluster.code != code {
        return Err(AppError::not_found(format!(
            "no service-charter round {id} of cluster {code:?}"
        )));
    }
    let closed = round_rules::set_state(conn, &round, RoundState::Closed, actor.id)?;
    Ok((closed, cluster))
}

/// Creates a charter round and invites the coordinators of the cluster's operations (the
/// page's one step).
pub fn launch(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    code: &str,
    req: CharterRequest,
    send: bool,
) -> Result<(Round, CharterInvited), AppError> {
    let (round, _) = create(conn, &svc.catalog.current(), actor, code, req)?;
    let invited = invite(
        conn,
        svc,
        actor,
        round.id,
        CharterInvite {
            coordinators: true,
            emails: Vec::new(),
            send,
        },
    )?;
    Ok((round, invited))
}
