//! Editing, archiving and merging the directory over JSON (admins); the rules are in
//! [`crate::domain::directory_edit`].

use crate::domain::directory::{ClusterView, OperationView, OrganizationView};
use crate::domain::directory_edit::{self as edit, ClusterPatch, MergeBody, MergeResult};
use crate::domain::directory_edit::{OperationPatch, OrganizationPatch};
use crate::kernel::error::AppError;
use crate::web::api::JsonObject;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};

#[utoipa::path(patch, path = "/api/v1/clusters/{code}", tag = "directory",
    summary = "Change a cluster's name, language or lead emails (admins)",
    params(("code" = String, Path, description = "cluster code")),
    request_body = ClusterPatch,
    responses((status = 200, description = "the cluster as it is now", body = ClusterView),
              (status = 400, description = "a field is wrong (named in fields)", body = ErrorBody),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not an admin", body = ErrorBody),
              (status = 404, description = "no such cluster", body = ErrorBody)))]
pub async fn update_cluster(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<ClusterPatch>,
) -> Result<HttpResponse, AppError> {
    let (actor, code, p) = (user.actor.clone(), path.into_inner(), body.into_inner());
    let c = state
        .db(move |conn| edit::update_cluster(conn, &actor, &code, p))
        .await?;
    Ok(HttpResponse::Ok().json(ClusterView::of(&c)))
}

#[utoipa::path(patch, path = "/api/v1/operations/{slug}", tag = "directory",
    summary = "Change an operation's name or default language, archive or restore it (admins)",
    params(("slug" = String, Path, description = "operation slug")),
    request_body = OperationPatch,
    responses((status = 200, description = "the operation as it is now", body = OperationView),
              (status = 400, description = "a field is wrong (named in fields)", body = ErrorBody),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not an admin", body = ErrorBody),
              (status = 404, description = "no such operation", body = ErrorBody)))]
pub async fn update_operation(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<OperationPatch>,
) -> Result<HttpResponse, AppError> {
    let (actor, slug, p) = (user.actor.clone(), path.into_inner(), body.into_inner());
    let (op, code) = state
        .db(move |conn| edit::update_operation(conn, &actor, &slug, p))
        .await?;
    Ok(HttpResponse::Ok().json(OperationView::of(&op, &code)))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "directory",
    summary = "Rename an organization, change its type, archive or restore it (admins)",
    params(("id" = i32, Path, description = "organization id")),
    request_body = OrganizationPatch,
    responses((status = 200, description = "the organization as it is now", body = OrganizationView),
              (status = 400, description = "a field is wrong (named in fields)", body = ErrorBody),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not an admin", body = ErrorBody),
              (status = 404, description = "no such organization", body = ErrorBody),
              (status = 409, description = "another organization has that name", body = ErrorBody)))]
pub async fn update_organization(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: JsonObject<OrganizationPatch>,
) -> Result<HttpResponse, AppError> {
    let (actor, id, p) = (user.actor.clone(), path.into_inner(), body.into_inner());
    let org = state
        .db(move |conn| edit::update_organization(conn, &actor, id, p))
        .await?;
    Ok(HttpResponse::Ok().json(org))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/merge", tag = "directory",
    summary = "Merge duplicate organization id into another: its invitations move, responses and scores stay as they are (admins)",
    params(("id" = i32, Path, description = "the duplicate's id")),
    request_body = MergeBody,
    responses((status = 200, description = "merged; the duplicate is gone", body = MergeResult),
              (status = 400, description = "a field is wrong (named in fields)", body = ErrorBody),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not an admin", body = ErrorBody),
              (status = 404, description = "no such organization", body = ErrorBody)))]
pub async fn merge_organization(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: JsonObject<MergeBody>,
) -> Result<HttpResponse, AppError> {
    let (actor, id, b) = (user.actor.clone(), path.into_inner(), body.into_inner());
    let merged = state
        .db(move |conn| edit::merge_organization(conn, &actor, id, b))
        .await?;
    Ok(HttpResponse::Ok().json(merged))
}
