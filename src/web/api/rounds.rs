//! Rounds, invitations, progress and responses over JSON.

use crate::db::models::{self, Operation, Round};
use crate::db::schema::{operations, rounds as rounds_t};
use crate::domain::invitations::InvitationLink;
use crate::domain::rounds::{self, InvitationInput, NewRoundInput, Submitted};
use crate::domain::rounds::{Progress, RoundView, StoredResponse};
use crate::kernel::error::{AppError, Fields};
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// Loads a round and its operation, checking read (or manage) access.
pub async fn round_for(
    state: &State,
    user: &CurrentUser,
    id: i32,
    manage: bool,
) -> Result<(Round, Operation), AppError> {
    let user = user.clone();
    state
        .db(move |conn| {
            let round = models::round_by_id(conn, id)?
                .ok_or_else(|| AppError::not_found(format!("no round with id {id}")))?;
            let op = models::operation_by_id(conn, round.operation_id)?;
            let allowed = if manage {
                user.can_manage_operation(&op)
            } else {
                user.can_read_operation(&op)
            };
            if !allowed {
                return Err(AppError::forbidden());
            }
            Ok((round, op))
        })
        .await
}

/// A new round of a performance survey (the operation's coordinators, admins).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundBody {
    /// The operation's slug.
    operation: String,
    /// Framework id, e.g. `ccpm`.
    framework: String,
    /// Survey ids of that framework.
    surveys: Vec<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    opens_at: String,
    /// RFC 3339, after opens_at and in the future.
    #[schema(format = DateTime)]
    closes_at: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    remind_days_before: Option<i32>,
}

#[utoipa::path(post, path = "/api/v1/rounds", tag = "rounds",
    summary = "Create a round", request_body = RoundBody,
    responses((status = 201, description = "created", body = RoundView)))]
pub async fn create(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<RoundBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let opens_at = rounds::parse_time("opens_at", &b.opens_at)?;
    let closes_at = rounds::parse_time("closes_at", &b.closes_at)?;
    let mut fields = Fields::new();
    if closes_at <= opens_at {
        fields.insert("closes_at".into(), "must be after opens_at".into());
    }
    if closes_at <= crate::kernel::time::now() {
        fields.insert("closes_at".into(), "must be in the future".into());
    }
    if let Some(d) = b.remind_days_before {
        if !(1..=60).contains(&d) {
            fields.insert(
                "remind_days_before".into(),
                "use a number of days from 1 to 60".into(),
            );
        }
    }
    if b.title.as_deref().is_some_and(|t| t.chars().count() > 200) {
        fields.insert("title".into(), "at most 200 characters".into());
    } else if let Some(Err(e)) = b
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| crate::kernel::text::check_name(t, 200))
    {
        fields.insert("title".into(), e);
    }
    crate::kernel::error::fields_result(fields)?;
    rounds::check_round_definitions(&state.catalog, &b.framework, &b.surveys)?;
    let actor = user.clone();
    let slug = b.operation.clone();
    let round = state
        .db(move |conn| {
            let op = models::operation_by_slug(conn, &slug)?.ok_or_else(|| {
                AppError::field("operation", format!("no operation with slug {slug:?}"))
            })?;
            if !actor.can_manage_operation(&op) {
                return Err(AppError::Forbidden(
                    "only the operation's coordinators (or an admin) can create rounds".into(),
                ));
            }
            rounds::create_round(
                conn,
                NewRoundInput {
                    operation_id: op.id,
                    framework: b.framework,
                    surveys: b.surveys,
                    title: b.title.unwrap_or_default().trim().to_string(),
                    opens_at,
                    closes_at,
                    remind_days_before: b.remind_days_before,
                    created_by: actor.id,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(RoundView::of(&round, &b.operation)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundsQuery {
    /// Only the rounds of this operation (slug).
    operation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RoundList {
    pub rounds: Vec<RoundView>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    pub invitations: Vec<InvitationLink>,
}

#[derive(Serialize, ToSchema)]
pub struct Reminded {
    /// Reminders queued.
    pub reminded: usize,
}

#[utoipa::path(get, path = "/api/v1/rounds", tag = "rounds",
    summary = "Rounds the caller may read, newest first", params(RoundsQuery),
    responses((status = 200, description = "rounds", body = RoundList)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    query: web::Query<RoundsQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner().operation;
    let items = state
        .db(move |conn| {
            let mut q = rounds_t::table
                .inner_join(operations::table)
                .select((Round::as_select(), Operation::as_select()))
                .order(rounds_t::id.desc())
                .into_boxed();
            if let Some(slug) = &filter {
                q = q.filter(operations::slug.eq(slug));
            }
            let rows: Vec<(Round, Operation)> = q.load(conn)?;
            Ok(rows
                .into_iter()
                .filter(|(_, o)| user.can_read_operation(o))
                .map(|(r, o)| RoundView::of(&r, &o.slug))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(RoundList { rounds: items }))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}", tag = "rounds",
    summary = "One round", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "the round", body = RoundView)))]
pub async fn get(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, path.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(RoundView::of(&round, &op.slug)))
}

async fn transition(
    state: State,
    user: CurrentUser,
    id: i32,
    to: &'static str,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, id, true).await?;
    let actor = user.id;
    let updated = state
        .db(move |conn| rounds::set_state(conn, &round, to, actor))
        .await?;
    Ok(HttpResponse::Ok().json(RoundView::of(&updated, &op.slug)))
}

#[utoipa::path(post, path = "/api/v1/rounds/{id}/close", tag = "rounds",
    summary = "Close a round now (it accepts nothing afterwards)", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "the closed round", body = RoundView),
              (status = 409, description = "not in a state that can be closed", body = ErrorBody)))]
pub async fn close(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    transition(state, user, path.into_inner(), "closed").await
}

#[utoipa::path(post, path = "/api/v1/rounds/{id}/open", tag = "rounds",
    summary = "Open a draft round", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "the opened round", body = RoundView),
              (status = 409, description = "not in a state that can be opened", body = ErrorBody)))]
pub async fn open(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    transition(state, user, path.into_inner(), "open").await
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/progress", tag = "rounds",
    summary = "Response rate overall and by org type (counts only)", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "progress", body = Progress)))]
pub async fn progress(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (round, _) = round_for(&state, &user, path.into_inner(), false).await?;
    let p = state.db(move |conn| rounds::progress(conn, &round)).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// One respondent to invite.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationItem {
    email: String,
    organization: String,
    org_type: String,
    survey: String,
    #[serde(default)]
    language: Option<String>,
}

/// Invitations to add to a round; with `send`, each respondent is emailed their link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationsBody {
    invitations: Vec<InvitationItem>,
    #[serde(default)]
    send: bool,
}

#[utoipa::path(post, path = "/api/v1/rounds/{id}/invitations", tag = "rounds",
    summary = "Add invitations (and email the links)", params(("id" = i32, Path, description = "round id")),
    request_body = InvitationsBody,
    responses((status = 201, description = "created, with each personal link", body = InvitationList),
              (status = 409, description = "already invited", body = ErrorBody),
              (status = 410, description = "the round is closed", body = ErrorBody)))]
pub async fn invite(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: crate::web::api::JsonObject<InvitationsBody>,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, path.into_inner(), true).await?;
    let b = body.into_inner();
    let items: Vec<InvitationInput> = b
        .invitations
        .into_iter()
        .map(|i| InvitationInput {
            email: i.email,
            organization: i.organization,
            org_type: i.org_type,
            survey: i.survey,
            language: i.language,
        })
        .collect();
    let created = {
        let app = state.app.clone();
        let (send, actor) = (b.send, user.id);
        state
            .db(move |conn| {
                crate::domain::invitations::create_and_send(
                    conn, &app, round, op, items, send, actor,
                )
            })
            .await?
    };
    Ok(HttpResponse::Created().json(InvitationList {
        invitations: created,
    }))
}

#[utoipa::path(post, path = "/api/v1/rounds/{id}/remind", tag = "rounds",
    summary = "Remind those who have not answered", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "reminders queued", body = Reminded),
              (status = 409, description = "the round is not open", body = ErrorBody)))]
pub async fn remind(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, path.into_inner(), true).await?;
    if round.effective_state(crate::kernel::time::now()) != "open" {
        return Err(AppError::Conflict(
            "reminders go out only while the round is open".into(),
        ));
    }
    let n = {
        let app = state.app.clone();
        let actor = Some(user.id);
        state
            .db(move |conn| {
                crate::domain::invitations::send_reminders(conn, &app, &round, &op, actor)
            })
            .await?
    };
    Ok(HttpResponse::Ok().json(Reminded { reminded: n }))
}

/// A partner's answers, authenticated by the invitation token alone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    /// The invitation token from the survey link.
    token: String,
    /// A UUID chosen by the client; replaying the same id and answers is safe.
    id: String,
    /// en, fr, es or ar (default: the survey's first language).
    #[serde(default)]
    language: Option<String>,
    /// Question name → answer (string, number, boolean or list of choice names).
    #[schema(value_type = Object)]
    answers: Map<String, Value>,
}

/// `POST /api/v1/responses`: authenticated by the invitation token alone.
#[utoipa::path(post, path = "/api/v1/responses", tag = "rounds",
    summary = "Submit a response (invitation token; no account)", request_body = ResponseBody,
    security(()),
    responses((status = 201, description = "stored", body = StoredResponse),
              (status = 200, description = "the same id and answers again: the stored response", body = StoredResponse),
              (status = 409, description = "the id or the invitation already has other answers", body = ErrorBody),
              (status = 410, description = "the round is closed", body = ErrorBody),
              (status = 413, description = "body over 256 KiB", body = ErrorBody)))]
pub async fn submit(
    state: State,
    body: crate::web::api::JsonObject<ResponseBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let catalog = state.catalog.clone();
    let result = state
        .db(move |conn| {
            let language = match b.language {
                Some(l) => l,
                None => {
                    let (inv, _) = rounds::invitation_for_token(conn, &b.token)?;
                    catalog
                        .survey(&inv.survey_id)
                        .map(|s| s.default_language().to_string())
                        .unwrap_or_else(|| "en".into())
                }
            };
            rounds::submit(conn, &catalog, &b.token, &b.id, &language, &b.answers)
        })
        .await?;
    Ok(match result {
        Submitted::Created(v) => {
            state
                .metrics
                .response_submitted(crate::web::metrics::Via::Api);
            HttpResponse::Created().json(v)
        }
        Submitted::Replayed(v) => HttpResponse::Ok().json(v),
    })
}
