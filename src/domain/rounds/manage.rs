//! What coordinators do to a round, for the API and the pages alike: find it with the
//! right access, create it, open and close it, invite and remind.

use super::{InvitationInput, NewRoundInput};
use crate::db::models::{self, Operation, Round};
use crate::db::schema::{operations, rounds as rounds_t};
use crate::db::DbConnection;
use crate::domain::invitations::{self, InvitationLink};
use crate::domain::services::Services;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, Fields};
use crate::kernel::time::now;
use crate::kernel::vocab::RoundState;
use crate::surveys::model::Catalog;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The longest round title, in characters.
pub const TITLE_MAX: usize = 200;

/// Read a round, or act on it as its manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Manage,
}

/// Loads a round and its operation: 404 when there is no such round, 403 without access.
pub fn round_for(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    access: Access,
) -> Result<(Round, Operation), AppError> {
    let round = models::round_by_id(conn, id)?
        .ok_or_else(|| AppError::not_found(format!("no round with id {id}")))?;
    // A global cluster's (service-charter) round is read through `domain::charter`.
    let op = models::operation_by_id(conn, round.operation()?)?;
    let allowed = match access {
        Access::Read => actor.can_read_operation(&op),
        Access::Manage => actor.can_manage_operation(&op),
    };
    if !allowed {
        return Err(AppError::forbidden());
    }
    Ok((round, op))
}

/// The rounds `actor` may read with their operations, newest first, optionally of one
/// operation (slug).
pub fn readable(
    conn: &mut DbConnection,
    actor: &Actor,
    operation: Option<&str>,
) -> Result<Vec<(Round, Operation)>, AppError> {
    let mut q = rounds_t::table
        .inner_join(operations::table)
        .select((Round::as_select(), Operation::as_select()))
        .order(rounds_t::id.desc())
        .into_boxed();
    if let Some(slug) = operation {
        q = q.filter(operations::slug.eq(slug));
    }
    let rows: Vec<(Round, Operation)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, o)| actor.can_read_operation(o))
        .collect())
}

/// The field names a caller uses, so errors name what the person filled in.
pub struct RoundFields {
    pub opens_at: &'static str,
    pub closes_at: &'static str,
}

/// A round someone asks for; `framework` and `surveys` default to the catalog's one
/// performance framework and all its surveys read from files (an uploaded survey is used
/// when named).
pub struct RoundRequest {
    pub operation: String,
    pub framework: Option<String>,
    pub surveys: Option<Vec<String>>,
    pub title: Option<String>,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub remind_days_before: Option<i32>,
}

/// The framework a round uses when none is named: the only one the catalog has besides
/// the service charter (whose rounds belong to global clusters, `domain::charter`).
pub fn default_framework(catalog: &Catalog) -> Result<String, AppError> {
    let mut ids = catalog
        .frameworks
        .keys()
        .filter(|id| *id != crate::domain::charter::FRAMEWORK);
    match (ids.next(), ids.next()) {
        (Some(only), None) => Ok(only.clone()),
        _ => Err(AppError::field(
            "framework",
            format!(
                "name a framework (known: {})",
                super::known_frameworks(catalog)
            ),
        )),
    }
}

/// Checks a request's dates, reminder and title; returns the trimmed title.
pub fn check_schedule(req: &RoundRequest, names: &RoundFields) -> Result<String, AppError> {
    let mut fields = Fields::new();
    if req.closes_at <= req.opens_at {
        fields.insert(
            names.closes_at.into(),
            format!("must be after {}", names.opens_at),
        );
    } else if req.closes_at <= now() {
        fields.insert(names.closes_at.into(), "must be in the future".into());
    }
    if let Some(d) = req.remind_days_before {
        if !(1..=60).contains(&d) {
            fields.insert(
                "remind_days_before".into(),
                "use a number of days from 1 to 60".into(),
            );
        }
    }
    let title = req.title.as_deref().unwrap_or("").trim().to_string();
    if title.chars().count() > TITLE_MAX {
        fields.insert("title".into(), format!("at most {TITLE_MAX} characters"));
    } else if !title.is_empty() {
        if let Err(e) = crate::kernel::text::check_name(&title, TITLE_MAX) {
            fields.insert("title".into(), e);
        }
    }
    crate::kernel::error::fields_result(fields)?;
    Ok(title)
}

/// Checks a request and creates the round (the operation's coordinators and admins).
pub fn create(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    req: RoundRequest,
    names: RoundFields,
) -> Result<Round, AppError> {
    let title = check_schedule(&req, &names)?;
    // Without a framework, the named surveys' framework, else the catalog's only one.
    let named = req.surveys.iter().flatten();
    let framework = match req.framework {
        Some(f) => f,
        None => match named
            .filter_map(|s| catalog.survey(s))
            .find_map(|d| d.framework.clone())
        {
            Some(f) => f,
            None => default_framework(catalog)?,
        },
    };
    let surveys = req.surveys.unwrap_or_else(|| {
        catalog
            .surveys
            .values()
            .filter(|s| s.framework.as_deref() == Some(framework.as_str()))
            .filter(|s| !catalog.uploaded.contains(&s.id))
            .map(|s| s.id.clone())
            .collect()
    });
    if framework == crate::domain::charter::FRAMEWORK {
        return Err(AppError::field(
            "framework",
            "the service charter is rated in a round of the global cluster \
             (POST /api/v1/clusters/{code}/charter-rounds), not of an operation",
        ));
    }
    super::check_round_definitions(catalog, &framework, &surveys)?;
    let slug = req.operation;
    let op = models::operation_by_slug(conn, &slug)?
        .ok_or_else(|| AppError::field("operation", format!("no operation with slug {slug:?}")))?;
    if !actor.can_manage_operation(&op) {
        return Err(AppError::Forbidden(
            "only the operation's coordinators (or an admin) can create rounds".into(),
        ));
    }
    if op.archived_at.is_some() {
        return Err(AppError::field(
            "operation",
            format!("operation {slug:?} is archived; it takes no new rounds"),
        ));
    }
    super::create_round(
        conn,
        NewRoundInput {
            operation_id: Some(op.id),
            cluster_id: None,
            framework,
            surveys,
            title,
            opens_at: req.opens_at,
            closes_at: req.closes_at,
            remind_days_before: req.remind_days_before,
            created_by: actor.id,
        },
    )
}

/// Opens or closes a round the actor manages.
pub fn transition(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    to: RoundState,
) -> Result<(Round, Operation), AppError> {
    let (round, op) = round_for(conn, actor, id, Access::Manage)?;
    let updated = super::set_state(conn, &round, to, actor.id)?;
    Ok((updated, op))
}

/// Adds invitations to a round the actor manages; with `send`, emails each link.
pub fn invite(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    id: i32,
    items: Vec<InvitationInput>,
    send: bool,
) -> Result<Vec<InvitationLink>, AppError> {
    let (round, _) = round_for(conn, actor, id, Access::Manage)?;
    invitations::create_and_send(conn, svc, round, items, send, actor.id)
}

/// Adds invitations to a round the actor manages, with those `draw` takes from the
/// operation's membership register; with `send`, emails each link.
pub fn invite_with_register(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    id: i32,
    mut items: Vec<InvitationInput>,
    draw: Option<crate::domain::membership::register::RegisterDraw>,
    send: bool,
) -> Result<Vec<InvitationLink>, AppError> {
    let (round, op) = round_for(conn, actor, id, Access::Manage)?;
    if let Some(draw) = draw {
        let listed: Vec<(String, String)> = items
            .iter()
            .map(|i| (i.email.clone(), i.survey.clone()))
            .collect();
        let drawn = crate::domain::membership::register::draw_invitations(
            conn, &round, &op, &draw, &listed,
        )?;
        if drawn.is_empty() && items.is_empty() {
            return Err(AppError::field(
                "members",
                "no one left to invite: every active member with a focal point email is already invited to this survey (or the register has none)",
            ));
        }
        items.extend(drawn);
    }
    invitations::create_and_send(conn, svc, round, items, send, actor.id)
}

/// Reminds those who have not answered an open round; how many reminders were queued.
pub fn remind(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    id: i32,
) -> Result<usize, AppError> {
    let (round, _) = round_for(conn, actor, id, Access::Manage)?;
    if round.effective_state(now()) != RoundState::Open {
        return Err(AppError::Conflict(
            "reminders go out only while the round is open".into(),
        ));
    }
    invitations::send_reminders(conn, svc, &round, Some(actor.id))
}
