//! Rounds, invitations, progress and responses over JSON.

use crate::domain::invitations::InvitationLink;
use crate::domain::rounds::manage::{self, Access, RoundFields, RoundRequest};
use crate::domain::rounds::{self, InvitationInput, Submitted};
use crate::domain::rounds::{Progress, RoundView, StoredResponse};
use crate::kernel::error::AppError;
use crate::kernel::vocab::RoundState;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

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
    let req = RoundRequest {
        operation: b.operation,
        framework: Some(b.framework),
        surveys: Some(b.surveys),
        title: b.title,
        opens_at: rounds::parse_time("opens_at", &b.opens_at)?,
        closes_at: rounds::parse_time("closes_at", &b.closes_at)?,
        remind_days_before: b.remind_days_before,
    };
    let names = RoundFields {
        opens_at: "opens_at",
        closes_at: "closes_at",
    };
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let (round, op) = state
        .db(move |conn| {
            let round = manage::create(conn, &catalog, &actor, req, names)?;
            let op = crate::db::models::operation_by_id(conn, round.operation()?)?;
            Ok((round, op))
        })
        .await?;
    Ok(HttpResponse::Created().json(RoundView::of(&round, &op.slug)))
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
    let actor = user.actor.clone();
    let items = state
        .db(move |conn| {
            Ok(manage::readable(conn, &actor, filter.as_deref())?
                .iter()
                .map(|(r, o)| RoundView::of(r, &o.slug))
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
    let (id, actor) = (path.into_inner(), user.actor.clone());
    let (round, op) = state
        .db(move |conn| manage::round_for(conn, &actor, id, Access::Read))
        .await?;
    Ok(HttpResponse::Ok().json(RoundView::of(&round, &op.slug)))
}

async fn transition(
    state: State,
    user: CurrentUser,
    id: i32,
    to: RoundState,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let (updated, op) = state
        .db(move |conn| manage::transition(conn, &actor, id, to))
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
    transition(state, user, path.into_inner(), RoundState::Closed).await
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
    transition(state, user, path.into_inner(), RoundState::Open).await
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/progress", tag = "rounds",
    summary = "Response rate overall and by org type (counts only)", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "progress", body = Progress)))]
pub async fn progress(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (path.into_inner(), user.actor.clone());
    let p = state
        .db(move |conn| {
            let (round, _) = manage::round_for(conn, &actor, id, Access::Read)?;
            rounds::progress(conn, &round)
        })
        .await?;
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
    #[serde(default)]
    invitations: Vec<InvitationItem>,
    /// Also invite every active member of the operation's membership register that has a
    /// focal point email (observers only with `observers: true`), skipping those already
    /// invited to the survey.
    #[serde(default)]
    members: Option<crate::domain::membership::register::RegisterDraw>,
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
    let id = path.into_inner();
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
    let (app, actor, send, draw) = (state.app.clone(), user.actor.clone(), b.send, b.members);
    let created = state
        .db(move |conn| manage::invite_with_register(conn, &app, &actor, id, items, draw, send))
        .await?;
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
    let (id, app, actor) = (path.into_inner(), state.app.clone(), user.actor.clone());
    let n = state
        .db(move |conn| manage::remind(conn, &app, &actor, id))
        .await?;
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
    let result = rounds::submit_grouped(&state.app, b.token, b.id, b.language, b.answers).await?;
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
