//! A global cluster's service-charter rounds over JSON (`domain::charter`): create, invite
//! the country coordinators, close, scores. Coordinators answer through
//! `POST /api/v1/responses` with their invitation token, like any respondent.

use crate::domain::charter::scores::{result_for, CharterScoresView};
use crate::domain::charter::CharterRoundView;
use crate::domain::charter::{self, CharterInvite, CharterInvited, CharterRequest};
use crate::domain::rounds::parse_time;
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new service-charter round of a global cluster.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CharterRoundBody {
    /// RFC 3339.
    #[schema(format = DateTime)]
    opens_at: String,
    /// RFC 3339, after opens_at and in the future.
    #[schema(format = DateTime)]
    closes_at: String,
    #[serde(default)]
    title: Option<String>,
    /// Survey ids of the `service-charter` framework (default: all shipped ones).
    #[serde(default)]
    surveys: Option<Vec<String>>,
    #[serde(default)]
    remind_days_before: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct CharterRoundList {
    pub rounds: Vec<CharterRoundView>,
}

#[utoipa::path(post, path = "/api/v1/clusters/{code}/charter-rounds", tag = "charter",
    summary = "Create a service-charter round of a global cluster (its leads, admins)",
    params(("code" = String, Path, description = "cluster code")),
    request_body = CharterRoundBody,
    responses((status = 201, description = "created", body = CharterRoundView)))]
pub async fn create(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: crate::web::api::JsonObject<CharterRoundBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let req = CharterRequest {
        title: b.title,
        opens_at: parse_time("opens_at", &b.opens_at)?,
        closes_at: parse_time("closes_at", &b.closes_at)?,
        surveys: b.surveys,
        remind_days_before: b.remind_days_before,
    };
    let (code, catalog, actor) = (
        path.into_inner(),
        state.catalog.current(),
        user.actor.clone(),
    );
    let (round, cluster) = state
        .db(move |conn| charter::create(conn, &catalog, &actor, &code, req))
        .await?;
    Ok(HttpResponse::Created().json(CharterRoundView::of(&round, &cluster)))
}

#[utoipa::path(get, path = "/api/v1/clusters/{code}/charter-rounds", tag = "charter",
    summary = "The cluster's service-charter rounds, newest first",
    params(("code" = String, Path, description = "cluster code")),
    responses((status = 200, description = "rounds", body = CharterRoundList)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (code, actor) = (path.into_inner(), user.actor.clone());
    let (cluster, rounds) = state
        .db(move |conn| charter::rounds_of(conn, &actor, &code))
        .await?;
    Ok(HttpResponse::Ok().json(CharterRoundList {
        rounds: rounds
            .iter()
            .map(|r| CharterRoundView::of(r, &cluster))
            .collect(),
    }))
}

/// Who to invite to a charter round.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CharterInviteBody {
    /// Invite the coordinators of the cluster's operations (default true).
    #[serde(default = "yes")]
    coordinators: bool,
    /// Further addresses, e.g. co-coordinators without an account.
    #[serde(default)]
    emails: Vec<String>,
    /// Email each person their link.
    #[serde(default)]
    send: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(post, path = "/api/v1/charter-rounds/{id}/invitations", tag = "charter",
    summary = "Invite the country cluster coordinators (people already invited are skipped)",
    params(("id" = i32, Path, description = "charter round id")),
    request_body = CharterInviteBody,
    responses((status = 201, description = "created, with each personal link", body = CharterInvited),
              (status = 410, description = "the round is closed", body = ErrorBody)))]
pub async fn invite(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: crate::web::api::JsonObject<CharterInviteBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let req = CharterInvite {
        coordinators: b.coordinators,
        emails: b.emails,
        send: b.send,
    };
    let (id, app, actor) = (path.into_inner(), state.app.clone(), user.actor.clone());
    let invited = state
        .db(move |conn| charter::invite(conn, &app, &actor, id, req))
        .await?;
    Ok(HttpResponse::Created().json(invited))
}

#[utoipa::path(post, path = "/api/v1/charter-rounds/{id}/close", tag = "charter",
    summary = "Close a charter round now",
    params(("id" = i32, Path, description = "charter round id")),
    responses((status = 200, description = "the closed round", body = CharterRoundView),
              (status = 409, description = "already closed", body = ErrorBody)))]
pub async fn close(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (path.into_inner(), user.actor.clone());
    let (round, cluster) = state
        .db(move |conn| charter::close(conn, &actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(CharterRoundView::of(&round, &cluster)))
}

#[utoipa::path(get, path = "/api/v1/charter-rounds/{id}/scores", tag = "charter",
    summary = "How the country clusters rate the global cluster (pooled, no breakdown)",
    params(("id" = i32, Path, description = "charter round id")),
    responses((status = 200, description = "scores", body = CharterScoresView)))]
pub async fn scores(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (id, catalog, actor) = (
        path.into_inner(),
        state.catalog.current(),
        user.actor.clone(),
    );
    let result = state
        .db(move |conn| result_for(conn, &catalog, &actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(result.view()))
}
