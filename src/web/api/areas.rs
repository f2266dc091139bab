//! An operation's administrative areas over the API: read the list, replace it with a COD
//! CSV (admins); the rules are in [`crate::domain::areas`].

use crate::domain::areas::{self, AreasSummary};
use crate::kernel::error::AppError;
use crate::web::api::surveys::{FileBytes, UploadQuery};
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

/// One listed area.
#[derive(Serialize, ToSchema)]
pub struct AreaView {
    pub pcode: String,
    pub name: String,
    /// The admin1 P-code of an admin2 area.
    pub parent: Option<String>,
}

/// An operation's list.
#[derive(Serialize, ToSchema)]
pub struct AreasView {
    pub operation: String,
    pub admin1: Vec<AreaView>,
    pub admin2: Vec<AreaView>,
}

fn views(list: Vec<areas::Area>) -> Vec<AreaView> {
    list.into_iter()
        .map(|a| AreaView {
            pcode: a.pcode,
            name: a.name,
            parent: a.parent,
        })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}/areas", tag = "directory",
    summary = "The operation's administrative areas (what the feedback form offers)",
    params(("slug" = String, Path, description = "operation slug")),
    responses((status = 200, description = "the list; empty when none was loaded", body = AreasView),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not allowed to read this operation", body = ErrorBody),
              (status = 404, description = "no such operation", body = ErrorBody)))]
pub async fn get(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (actor, slug) = (user.actor.clone(), path.into_inner());
    let view_slug = slug.clone();
    let list = state
        .db(move |conn| areas::of_operation(conn, &actor, &slug))
        .await?;
    Ok(HttpResponse::Ok().json(AreasView {
        operation: view_slug,
        admin1: views(list.admin1),
        admin2: views(list.admin2),
    }))
}

#[utoipa::path(put, path = "/api/v1/operations/{slug}/areas", tag = "directory",
    summary = "Replace the operation's administrative areas with a COD CSV (admin1Pcode, admin1Name_en, admin2Pcode, admin2Name_en; admins)",
    params(("slug" = String, Path, description = "operation slug"), UploadQuery),
    request_body(content = inline(FileBytes), content_type = "application/octet-stream", description = "the CSV file's bytes (UTF-8, a BOM is allowed)"),
    responses((status = 200, description = "the list was replaced", body = AreasSummary),
              (status = 400, description = "the file is not a valid areas list: `fields.file` names the file and line", body = ErrorBody),
              (status = 401, description = "not signed in", body = ErrorBody),
              (status = 403, description = "not an admin", body = ErrorBody),
              (status = 404, description = "no such operation", body = ErrorBody),
              (status = 413, description = "over 5 MB", body = ErrorBody)))]
pub async fn replace(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    q: web::Query<UploadQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (actor, slug) = (user.actor.clone(), path.into_inner());
    let name = q.into_inner().file_name.unwrap_or_default();
    let done = state
        .db(move |conn| areas::upload(conn, &actor, &slug, &name, &body))
        .await?;
    Ok(HttpResponse::Ok().json(done))
}
