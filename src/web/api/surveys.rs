//! Survey and framework definitions. They are public by design: the same questions are shown
//! to every invitee and on the public feedback form, and carry no data about anyone.

use crate::kernel::error::AppError;
use crate::surveys::model::{Framework, Respondent, Survey, SurveyKind, Text};
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::Serialize;
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
    let s = state
        .catalog
        .survey(&id)
        .ok_or_else(|| AppError::not_found(format!("no survey with id {id:?}")))?;
    Ok(HttpResponse::Ok().json(s))
}

#[utoipa::path(get, path = "/api/v1/frameworks", tag = "definitions", security(()),
    summary = "Scoring frameworks",
    responses((status = 200, description = "frameworks", body = FrameworkList)))]
pub async fn list_frameworks(state: State) -> HttpResponse {
    let frameworks = state
        .catalog
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
        .framework(&id)
        .ok_or_else(|| AppError::not_found(format!("no framework with id {id:?}")))?;
    Ok(HttpResponse::Ok().json(f))
}
