//! Collector accounts of an operation over JSON (offline collection with ODK Collect and
//! the like); the rules are in [`crate::domain::collectors`].

use crate::domain::collectors::{self, CollectorBody, CollectorView, CreatedCollector};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CollectorList {
    pub collectors: Vec<CollectorView>,
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}/collectors", tag = "feedback",
    summary = "The operation's collector accounts for ODK Collect (never their tokens; coordinators and admins)",
    params(("slug" = String, Path, description = "operation slug")),
    responses((status = 200, description = "newest first", body = CollectorList),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not a coordinator of this operation", body = ErrorBody),
              (status = 404, description = "no such operation", body = ErrorBody)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (actor, slug) = (user.actor.clone(), path.into_inner());
    let items = state
        .db(move |conn| collectors::list(conn, &actor, &slug))
        .await?;
    Ok(HttpResponse::Ok().json(CollectorList { collectors: items }))
}

#[utoipa::path(post, path = "/api/v1/operations/{slug}/collectors", tag = "feedback",
    summary = "Make a collector account: its server address and settings QR code for ODK Collect, shown once",
    params(("slug" = String, Path, description = "operation slug")),
    request_body = CollectorBody,
    responses((status = 201, description = "created, with the address and QR code", body = CreatedCollector),
              (status = 400, description = "a field is wrong: `fields` names it", body = ErrorBody),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not a coordinator of this operation", body = ErrorBody),
              (status = 404, description = "no such operation", body = ErrorBody)))]
pub async fn create(
    state: State,
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<String>,
    body: crate::web::api::JsonObject<CollectorBody>,
) -> Result<HttpResponse, AppError> {
    let (actor, slug, b) = (user.actor.clone(), path.into_inner(), body.into_inner());
    let base = crate::web::public_base(&state, &req);
    let created = state
        .db(move |conn| collectors::create(conn, &actor, &slug, b, &base))
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(delete, path = "/api/v1/operations/{slug}/collectors/{id}", tag = "feedback",
    summary = "Revoke a collector account (its app can no longer fetch forms or send)",
    params(("slug" = String, Path, description = "operation slug"),
           ("id" = i32, Path, description = "collector id")),
    responses((status = 200, description = "the revoked account", body = CollectorView),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not a coordinator of this operation", body = ErrorBody),
              (status = 404, description = "no such operation or collector", body = ErrorBody)))]
pub async fn revoke(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    let (actor, (slug, id)) = (user.actor.clone(), path.into_inner());
    let c = state
        .db(move |conn| collectors::revoke(conn, &actor, &slug, id))
        .await?;
    Ok(HttpResponse::Ok().json(c))
}
