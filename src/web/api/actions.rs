//! Action plans over JSON; the rules are in [`crate::domain::actions`].

use crate::domain::actions::{self, ActionBody, ActionItem, ActionList, ActionView};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};

#[utoipa::path(post, path = "/api/v1/rounds/{id}/actions", tag = "scores",
    summary = "Agree an action (the operation's coordinators)", params(("id" = i32, Path, description = "round id")),
    request_body = ActionBody,
    responses((status = 201, description = "created", body = ActionView)))]
pub async fn create(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: crate::web::api::JsonObject<ActionBody>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (path.into_inner(), body.into_inner());
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let item = state
        .db(move |conn| actions::create(conn, &catalog, &actor, id, body))
        .await?;
    Ok(HttpResponse::Created().json(item.view()))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/actions", tag = "scores",
    summary = "The round's action plan", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "actions", body = ActionList)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (path.into_inner(), user.actor.clone());
    let items = state
        .db(move |conn| actions::list(conn, &actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(ActionList {
        actions: items.iter().map(ActionItem::view).collect(),
    }))
}

#[utoipa::path(patch, path = "/api/v1/rounds/{id}/actions/{action}", tag = "scores",
    summary = "Change an action (fields given only)",
    params(("id" = i32, Path, description = "round id"), ("action" = i32, Path, description = "action id")),
    request_body = ActionBody,
    responses((status = 200, description = "the action", body = ActionView)))]
pub async fn update(
    state: State,
    user: CurrentUser,
    path: web::Path<(i32, i32)>,
    body: crate::web::api::JsonObject<ActionBody>,
) -> Result<HttpResponse, AppError> {
    let ((round_id, action_id), body) = (path.into_inner(), body.into_inner());
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let item = state
        .db(move |conn| actions::update(conn, &catalog, &actor, round_id, action_id, body))
        .await?;
    Ok(HttpResponse::Ok().json(item.view()))
}
