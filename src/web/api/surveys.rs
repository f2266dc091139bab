//! Survey and framework definitions. They are public by design: the same questions are shown
//! to every invitee and on the public feedback form, and carry no data about anyone.

use crate::error::AppError;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub async fn list(state: State) -> HttpResponse {
    let items: Vec<_> = state
        .catalog
        .surveys
        .values()
        .map(|s| {
            json!({
                "id": s.id,
                "version": s.version,
                "kind": s.kind,
                "respondent": s.respondent,
                "framework": s.framework,
                "languages": s.languages,
                "title": s.title,
                "questions": s.questions.len(),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "surveys": items }))
}

pub async fn get(state: State, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let s = state
        .catalog
        .survey(&id)
        .ok_or_else(|| AppError::not_found(format!("no survey with id {id:?}")))?;
    Ok(HttpResponse::Ok().json(s))
}

pub async fn list_frameworks(state: State) -> HttpResponse {
    let items: Vec<_> = state
        .catalog
        .frameworks
        .values()
        .map(|f| json!({"id": f.id, "title": f.title, "functions": f.functions.len()}))
        .collect();
    HttpResponse::Ok().json(json!({ "frameworks": items }))
}

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
