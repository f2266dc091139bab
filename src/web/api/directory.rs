//! Clusters, operations and organizations over JSON; the rules are in
//! [`crate::domain::directory`].

use crate::domain::directory::{self as dir, ClusterBody, OperationBody, OrganizationBody};
use crate::domain::directory::{ClusterDetail, ClusterList, ClusterView};
use crate::domain::directory::{OperationList, OperationView, OrganizationList, OrganizationView};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};

#[utoipa::path(post, path = "/api/v1/clusters", tag = "directory",
    summary = "Create a cluster (admins)", request_body = ClusterBody,
    responses((status = 201, description = "created", body = ClusterView),
              (status = 409, description = "the code is taken", body = ErrorBody)))]
pub async fn create_cluster(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<ClusterBody>,
) -> Result<HttpResponse, AppError> {
    let (actor, b) = (user.actor.clone(), body.into_inner());
    let created = state
        .db(move |conn| dir::create_cluster(conn, &actor, b))
        .await?;
    Ok(HttpResponse::Created().json(ClusterView::of(&created)))
}

#[utoipa::path(get, path = "/api/v1/clusters", tag = "directory",
    summary = "Clusters the caller may read",
    responses((status = 200, description = "clusters", body = ClusterList)))]
pub async fn list_clusters(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let clusters = state.db(move |conn| dir::clusters(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(ClusterList { clusters }))
}

#[utoipa::path(get, path = "/api/v1/clusters/{code}", tag = "directory",
    summary = "One cluster with its operations", params(("code" = String, Path, description = "cluster code")),
    responses((status = 200, description = "the cluster", body = ClusterDetail)))]
pub async fn get_cluster(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (actor, code) = (user.actor.clone(), path.into_inner());
    let item = state
        .db(move |conn| dir::cluster(conn, &actor, &code))
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

#[utoipa::path(post, path = "/api/v1/operations", tag = "directory",
    summary = "Create an operation (admins)", request_body = OperationBody,
    responses((status = 201, description = "created", body = OperationView),
              (status = 409, description = "the slug is taken", body = ErrorBody)))]
pub async fn create_operation(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<OperationBody>,
) -> Result<HttpResponse, AppError> {
    let (actor, b) = (user.actor.clone(), body.into_inner());
    let (op, code) = state
        .db(move |conn| dir::create_operation(conn, &actor, b))
        .await?;
    Ok(HttpResponse::Created().json(OperationView::of(&op, &code)))
}

#[utoipa::path(get, path = "/api/v1/operations", tag = "directory",
    summary = "Operations the caller may read",
    responses((status = 200, description = "operations", body = OperationList)))]
pub async fn list_operations(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let operations = state.db(move |conn| dir::operations(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(OperationList { operations }))
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}", tag = "directory",
    summary = "One operation", params(("slug" = String, Path, description = "operation slug")),
    responses((status = 200, description = "the operation", body = OperationView)))]
pub async fn get_operation(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (actor, slug) = (user.actor.clone(), path.into_inner());
    let item = state
        .db(move |conn| dir::operation(conn, &actor, &slug))
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

#[utoipa::path(post, path = "/api/v1/organizations", tag = "directory",
    summary = "Add a partner organization (admins, coordinators)", request_body = OrganizationBody,
    responses((status = 201, description = "created", body = OrganizationView),
              (status = 409, description = "the name is taken", body = ErrorBody)))]
pub async fn create_organization(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<OrganizationBody>,
) -> Result<HttpResponse, AppError> {
    let (actor, b) = (user.actor.clone(), body.into_inner());
    let org = state
        .db(move |conn| dir::create_organization(conn, &actor, b))
        .await?;
    Ok(HttpResponse::Created().json(org))
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "directory",
    summary = "Partner organizations",
    responses((status = 200, description = "organizations", body = OrganizationList)))]
pub async fn list_organizations(
    state: State,
    _user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let organizations = state.db(dir::organizations).await?;
    Ok(HttpResponse::Ok().json(OrganizationList { organizations }))
}
