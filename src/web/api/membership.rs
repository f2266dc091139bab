//! The membership register, the self-assessment of the minimum commitments and the
//! onboarding checklist over JSON; the rules are in [`crate::domain::membership`].

use crate::domain::membership::assessments::{
    self, AssessmentBody, Grid, LinkList, LinksBody, StatementView,
};
use crate::domain::membership::onboarding::{self, Checklist, TickBody};
use crate::domain::membership::register::{
    self, EndBody, ImportSummary, MemberBody, MemberDetail, MemberPatch, MemberView, Register,
};
use crate::kernel::error::AppError;
use crate::web::api::surveys::{FileBytes, UploadQuery};
use crate::web::api::JsonObject;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

#[utoipa::path(get, path = "/api/v1/operations/{slug}/members", tag = "membership",
    summary = "The operation's membership register (its coordinators and its cluster's global leads)",
    params(("slug" = String, Path, description = "operation slug")),
    responses((status = 200, description = "members, observers and former members", body = Register)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (slug, actor) = (path.into_inner(), user.actor.clone());
    let r = state
        .db(move |conn| register::list(conn, &actor, &slug))
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

#[utoipa::path(post, path = "/api/v1/operations/{slug}/members", tag = "membership",
    summary = "Add an organization to the register (a new name creates the organization)",
    params(("slug" = String, Path, description = "operation slug")),
    request_body = MemberBody,
    responses((status = 201, description = "the new entry", body = MemberView),
              (status = 409, description = "the organization is in the register already", body = ErrorBody)))]
pub async fn add(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<MemberBody>,
) -> Result<HttpResponse, AppError> {
    let (slug, actor, b) = (path.into_inner(), user.actor.clone(), body.into_inner());
    let m = state
        .db(move |conn| register::add(conn, &actor, &slug, b))
        .await?;
    Ok(HttpResponse::Created().json(m))
}

#[utoipa::path(post, path = "/api/v1/operations/{slug}/members/import", tag = "membership",
    summary = "Import register entries from a CSV (organization, org_type, status, level, since, focal_point_email): every row or none",
    params(("slug" = String, Path, description = "operation slug"), UploadQuery),
    request_body(content = inline(FileBytes), content_type = "application/octet-stream", description = "the CSV file's bytes (UTF-8, a BOM is allowed)"),
    responses((status = 200, description = "what the import did", body = ImportSummary),
              (status = 400, description = "the file is refused: `fields.file` names each bad line", body = ErrorBody),
              (status = 413, description = "over 1 MiB", body = ErrorBody)))]
pub async fn import(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<UploadQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (slug, actor) = (path.into_inner(), user.actor.clone());
    let name = q.into_inner().file_name.unwrap_or_default();
    let done = state
        .db(move |conn| register::import(conn, &actor, &slug, &name, &body))
        .await?;
    Ok(HttpResponse::Ok().json(done))
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}/members/{id}", tag = "membership",
    summary = "One register entry with its history and onboarding checklist",
    params(("slug" = String, Path, description = "operation slug"), ("id" = i32, Path, description = "register entry id")),
    responses((status = 200, description = "the entry", body = MemberDetail)))]
pub async fn get(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    let ((slug, id), actor) = (path.into_inner(), user.actor.clone());
    let d = state
        .db(move |conn| register::get(conn, &actor, &slug, id))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

#[utoipa::path(patch, path = "/api/v1/operations/{slug}/members/{id}", tag = "membership",
    summary = "Change a register entry (the fields given; the history keeps every version)",
    params(("slug" = String, Path, description = "operation slug"), ("id" = i32, Path, description = "register entry id")),
    request_body = MemberPatch,
    responses((status = 200, description = "the entry", body = MemberView)))]
pub async fn update(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
    body: JsonObject<MemberPatch>,
) -> Result<HttpResponse, AppError> {
    let ((slug, id), actor, b) = (path.into_inner(), user.actor.clone(), body.into_inner());
    let m = state
        .db(move |conn| register::update(conn, &actor, &slug, id, b))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

#[utoipa::path(post, path = "/api/v1/operations/{slug}/members/{id}/end", tag = "membership",
    summary = "End a membership (the entry becomes former; its history stays)",
    params(("slug" = String, Path, description = "operation slug"), ("id" = i32, Path, description = "register entry id")),
    request_body = EndBody,
    responses((status = 200, description = "the entry", body = MemberView),
              (status = 409, description = "the membership ended already", body = ErrorBody)))]
pub async fn end(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
    body: JsonObject<EndBody>,
) -> Result<HttpResponse, AppError> {
    let ((slug, id), actor, b) = (path.into_inner(), user.actor.clone(), body.into_inner());
    let m = state
        .db(move |conn| register::end(conn, &actor, &slug, id, b))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}/members/{id}/onboarding", tag = "membership",
    summary = "A new member's onboarding checklist",
    params(("slug" = String, Path, description = "operation slug"), ("id" = i32, Path, description = "register entry id")),
    responses((status = 200, description = "the checklist", body = Checklist)))]
pub async fn checklist(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    let ((slug, id), actor) = (path.into_inner(), user.actor.clone());
    let c = state
        .db(move |conn| onboarding::checklist(conn, &actor, &slug, id))
        .await?;
    Ok(HttpResponse::Ok().json(c))
}

#[utoipa::path(post, path = "/api/v1/operations/{slug}/members/{id}/onboarding", tag = "membership",
    summary = "Tick or untick an onboarding item (who and when are kept)",
    params(("slug" = String, Path, description = "operation slug"), ("id" = i32, Path, description = "register entry id")),
    request_body = TickBody,
    responses((status = 200, description = "the checklist", body = Checklist)))]
pub async fn tick(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
    body: JsonObject<TickBody>,
) -> Result<HttpResponse, AppError> {
    let ((slug, id), actor, b) = (path.into_inner(), user.actor.clone(), body.into_inner());
    let c = state
        .db(move |conn| onboarding::tick(conn, &actor, &slug, id, b))
        .await?;
    Ok(HttpResponse::Ok().json(c))
}

#[utoipa::path(post, path = "/api/v1/operations/{slug}/members/{id}/self-assessments", tag = "membership",
    summary = "Record an organization's self-assessment of the minimum commitments (entered by a coordinator)",
    params(("slug" = String, Path, description = "operation slug"), ("id" = i32, Path, description = "register entry id")),
    request_body = AssessmentBody,
    responses((status = 201, description = "the statement", body = StatementView)))]
pub async fn enter(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, i32)>,
    body: JsonObject<AssessmentBody>,
) -> Result<HttpResponse, AppError> {
    let ((slug, id), actor, b) = (path.into_inner(), user.actor.clone(), body.into_inner());
    let s = state
        .db(move |conn| assessments::enter(conn, &actor, &slug, id, b))
        .await?;
    Ok(HttpResponse::Created().json(s))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (default: this year).
    #[param(minimum = 2000, maximum = 9999)]
    pub year: Option<i32>,
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}/self-assessments", tag = "membership",
    summary = "Who meets which commitment: every organization's statement for a year, by name",
    params(("slug" = String, Path, description = "operation slug"), YearQuery),
    responses((status = 200, description = "the grid", body = Grid)))]
pub async fn grid(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let (slug, actor, year) = (path.into_inner(), user.actor.clone(), q.into_inner().year);
    let g = state
        .db(move |conn| assessments::grid(conn, &actor, &slug, year, "en"))
        .await?;
    Ok(HttpResponse::Ok().json(g))
}

#[utoipa::path(post, path = "/api/v1/operations/{slug}/self-assessments/links", tag = "membership",
    summary = "Make (and email) each focal point a link to their organization's self-assessment",
    params(("slug" = String, Path, description = "operation slug")),
    request_body = LinksBody,
    responses((status = 201, description = "the links, each shown this once", body = LinkList)))]
pub async fn links(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<LinksBody>,
) -> Result<HttpResponse, AppError> {
    let (slug, actor, b) = (path.into_inner(), user.actor.clone(), body.into_inner());
    let app = state.app.clone();
    let l = state
        .db(move |conn| assessments::create_links(conn, &app, &actor, &slug, b))
        .await?;
    Ok(HttpResponse::Created().json(l))
}
