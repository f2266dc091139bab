//! Survey and framework definitions. They are public by design: the same questions are shown
//! to every invitee and on the public feedback form, and carry no data about anyone.
//! Uploading and publishing a survey is for admins.

use crate::domain::survey_uploads::{self, UploadView};
use crate::kernel::error::AppError;
use crate::surveys::model::{Framework, Respondent, Survey, SurveyKind, Text};
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A survey in the listing (the full definition is at /surveys/{id}).
#[derive(Serialize, ToSchema)]
pub struct SurveySummary {
    pub id: String,
    pub version: u32,
    pub kind: SurveyKind,
    pub respondent: Respondent,
    pub framework: Option<String>,
    pub languages: Vec<String>,
    /// By language code.
    pub title: Text,
    /// Number of questions.
    pub questions: usize,
}

#[derive(Serialize, ToSchema)]
pub struct SurveyList {
    pub surveys: Vec<SurveySummary>,
}

/// A framework in the listing.
#[derive(Serialize, ToSchema)]
pub struct FrameworkSummary {
    pub id: String,
    pub title: Text,
    /// Number of functions.
    pub functions: usize,
}

#[derive(Serialize, ToSchema)]
pub struct FrameworkList {
    pub frameworks: Vec<FrameworkSummary>,
}

#[utoipa::path(get, path = "/api/v1/surveys", tag = "definitions", security(()),
    summary = "Survey definitions (public: they carry no data about anyone)",
    responses((status = 200, description = "surveys", body = SurveyList)))]
pub async fn list(state: State) -> HttpResponse {
    let surveys = state
        .catalog
        .current()
        .surveys
        .values()
        .map(|s| SurveySummary {
            id: s.id.clone(),
            version: s.version,
            kind: s.kind,
            respondent: s.respondent,
            framework: s.framework.clone(),
            languages: s.languages.clone(),
            title: s.title.clone(),
            questions: s.questions.len(),
        })
        .collect();
    HttpResponse::Ok().json(SurveyList { surveys })
}

#[utoipa::path(get, path = "/api/v1/surveys/{id}", tag = "definitions", security(()),
    summary = "One survey definition", params(("id" = String, Path, description = "survey id")),
    responses((status = 200, description = "the definition", body = Survey)))]

pub async fn get(state: State, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let catalog = state.catalog.current();
    let s = catalog
        .survey(&id)
        .ok_or_else(|| AppError::not_found(format!("no survey with id {id:?}")))?;
    Ok(HttpResponse::Ok().json(s))
}

#[utoipa::path(get, path = "/api/v1/surveys/{id}/xlsform", tag = "definitions", security(()),
    summary = "The survey as an XLSForm workbook (.xlsx): edit it in Excel or another XLSForm tool and upload it back",
    params(("id" = String, Path, description = "survey id")),
    responses((status = 200, description = "the workbook: survey, choices and settings sheets",
               content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String),
              (status = 404, description = "no such survey", body = crate::web::error::ErrorBody)))]
pub async fn xlsform(state: State, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let catalog = state.catalog.current();
    let s = catalog
        .survey(&id)
        .ok_or_else(|| AppError::not_found(format!("no survey with id {id:?}")))?;
    let bytes = crate::surveys::xlsform::export_xlsx(s)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the XLSForm: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}-v{}.xlsx\"", s.id, s.version),
        ))
        .body(bytes))
}

#[utoipa::path(get, path = "/api/v1/frameworks", tag = "definitions", security(()),
    summary = "Scoring frameworks",
    responses((status = 200, description = "frameworks", body = FrameworkList)))]
pub async fn list_frameworks(state: State) -> HttpResponse {
    let frameworks = state
        .catalog
        .current()
        .frameworks
        .values()
        .map(|f| FrameworkSummary {
            id: f.id.clone(),
            title: f.title.clone(),
            functions: f.functions.len(),
        })
        .collect();
    HttpResponse::Ok().json(FrameworkList { frameworks })
}

#[utoipa::path(get, path = "/api/v1/frameworks/{id}", tag = "definitions", security(()),
    summary = "One framework: functions, indicators, thresholds", params(("id" = String, Path, description = "framework id")),
    responses((status = 200, description = "the framework", body = Framework)))]

pub async fn get_framework(
    state: State,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let f = state
        .catalog
        .files()
        .framework(&id)
        .ok_or_else(|| AppError::not_found(format!("no framework with id {id:?}")))?;
    Ok(HttpResponse::Ok().json(f))
}

/// Where an uploaded file came from, for messages.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file's name as the person chose it (e.g. `wash-partners.xlsx`); it names the
    /// file in error messages.
    #[serde(default)]
    pub file_name: Option<String>,
}

/// A file's bytes as the request body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code)] Vec<u8>);

/// The latest uploads.
#[derive(Serialize, ToSchema)]
pub struct UploadList {
    pub uploads: Vec<UploadView>,
}

#[utoipa::path(post, path = "/api/v1/surveys/uploads", tag = "definitions",
    summary = "Upload an XLSForm (.xlsx, .xls) or a TOML survey as the body; it is checked like `surveys check` and kept as a draft to preview (admins only)",
    params(UploadQuery),
    request_body(content = inline(FileBytes), content_type = "application/octet-stream", description = "the file's bytes"),
    responses((status = 201, description = "a draft, not yet published", body = UploadView),
              (status = 400, description = "the file is not a valid survey: `fields.file` names file, sheet and row or line of every problem", body = crate::web::error::ErrorBody),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 403, description = "not an admin", body = crate::web::error::ErrorBody),
              (status = 409, description = "the id belongs to a survey file, or nothing changed since the published version", body = crate::web::error::ErrorBody),
              (status = 413, description = "over 20 MB", body = crate::web::error::ErrorBody)))]
pub async fn upload(
    state: State,
    user: CurrentUser,
    q: web::Query<UploadQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (actor, svc) = (user.actor.clone(), state.app.clone());
    let name = q.into_inner().file_name.unwrap_or_default();
    let view = state
        .db(move |conn| survey_uploads::upload(conn, &svc.catalog, &actor, &name, &body))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/v1/surveys/uploads", tag = "definitions",
    summary = "The 20 latest uploads, drafts and published (admins only)",
    responses((status = 200, description = "uploads, newest first", body = UploadList),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 403, description = "not an admin", body = crate::web::error::ErrorBody)))]
pub async fn list_uploads(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let uploads = state
        .db(move |conn| survey_uploads::recent(conn, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(UploadList { uploads }))
}

#[utoipa::path(get, path = "/api/v1/surveys/uploads/{id}", tag = "definitions",
    summary = "One upload with its definition, to preview (admins only)",
    params(("id" = i32, Path, description = "upload id")),
    responses((status = 200, description = "the upload", body = UploadView),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 403, description = "not an admin", body = crate::web::error::ErrorBody),
              (status = 404, description = "no such upload", body = crate::web::error::ErrorBody)))]
pub async fn get_upload(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (actor, id) = (user.actor.clone(), path.into_inner());
    let view = state
        .db(move |conn| survey_uploads::get(conn, &actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/surveys/uploads/{id}/publish", tag = "definitions",
    summary = "Publish a draft as the survey's next version: rounds may then name it (admins only)",
    params(("id" = i32, Path, description = "upload id")),
    responses((status = 200, description = "published", body = UploadView),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 403, description = "not an admin", body = crate::web::error::ErrorBody),
              (status = 404, description = "no such upload", body = crate::web::error::ErrorBody),
              (status = 409, description = "already published, or a later version was published meanwhile", body = crate::web::error::ErrorBody)))]
pub async fn publish(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (actor, id, svc) = (user.actor.clone(), path.into_inner(), state.app.clone());
    let view = state
        .db(move |conn| survey_uploads::publish(conn, &svc.catalog, &actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
