//! The admin page of surveys: the published questionnaires, an upload form for an XLSForm
//! or TOML file, the preview of an upload in every language and its publish button. The
//! rules are in [`crate::domain::survey_uploads`]; a refused file shows the page again
//! with every problem (file, sheet and row, or line).

use super::admin::admin;
use super::{as_page, check_form_csrf, html, user_json, CsrfForm};
use crate::domain::survey_uploads::{self, UploadView};
use crate::kernel::error::AppError;
use crate::surveys::model::{Survey, Text};
use crate::web::auth::{CurrentUser, PageUser};
use crate::web::State;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

crate::web::routes::route_table! {
    "/admin/surveys" => { GET surveys_page },
    "/admin/surveys/uploads" [web::PayloadConfig::new(crate::surveys::xlsform::MAX_FILE_BYTES as usize)] => { POST upload },
    "/admin/surveys/uploads/{id}" => { GET preview },
    "/admin/surveys/uploads/{id}/publish" => { POST publish },
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn upload_row(u: &UploadView) -> Value {
    json!({"id": u.id, "survey_id": u.survey_id, "version": u.version, "file_name": u.file_name,
           "created_at": u.created_at, "published_at": u.published_at,
           "usable_in_rounds": u.usable_in_rounds})
}

/// The list page, with `problems` from a refused upload (status 400) or a notice.
async fn render_list(
    state: &State,
    user: &CurrentUser,
    problems: Option<(String, Vec<String>)>,
    done: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let uploads = state
        .db(move |conn| survey_uploads::recent(conn, &actor))
        .await?;
    let catalog = state.catalog.current();
    let surveys: Vec<Value> = catalog
        .surveys
        .values()
        .map(|s| {
            json!({"id": s.id, "version": s.version, "kind": format!("{:?}", s.kind).to_lowercase(),
                   "title": text(&s.title, s.languages.first().map(String::as_str).unwrap_or("en")), "framework": s.framework,
                   "uploaded": catalog.uploaded.contains(&s.id)})
        })
        .collect();
    let status = if problems.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (file_name, problems) = problems.unzip();
    let body = state.templates.render(
        "surveys_admin",
        &json!({"title": "Surveys", "user": user_json(user), "csrf_token": user.csrf,
                "surveys": surveys, "uploads": uploads.iter().map(upload_row).collect::<Vec<_>>(),
                "refused_file": file_name, "problems": problems, "done": done}),
    )?;
    let mut reply = html(body);
    *reply.status_mut() = status;
    Ok(reply)
}

async fn surveys_page(
    state: State,
    user: PageUser,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        let done = match q.done.as_deref() {
            Some("published") => {
                Some("Published: rounds can use it now (new rounds name it under Surveys).")
            }
            _ => None,
        };
        render_list(&state, &user, None, done).await
    })
    .await
}

async fn upload(
    state: State,
    user: PageUser,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        let (file_name, bytes) = super::posted_file(&user, &req, &body)?;
        let (actor, svc, name) = (user.actor.clone(), state.app.clone(), file_name.clone());
        let result = state
            .db(move |conn| survey_uploads::upload(conn, &svc.catalog, &actor, &name, &bytes))
            .await;
        match result {
            Ok(view) => Ok(HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("/admin/surveys/uploads/{}", view.id),
                ))
                .finish()),
            Err(e @ AppError::BadRequest { .. }) => {
                let problems: Vec<String> = e
                    .fields()
                    .values()
                    .flat_map(|p| p.lines().map(str::to_string).collect::<Vec<_>>())
                    .collect();
                let problems = if problems.is_empty() {
                    vec![e.client_message()]
                } else {
                    problems
                };
                let shown = crate::kernel::text::file_base_name(&file_name, "upload");
                render_list(&state, &user, Some((shown, problems)), None).await
            }
            Err(e) => Err(e),
        }
    })
    .await
}

fn text(t: &Text, lang: &str) -> String {
    t.get(lang)
        .or_else(|| t.values().next())
        .cloned()
        .unwrap_or_default()
}

/// The definition laid out for reading: per section, each question with its label, hint
/// and choices in every language of the survey, side by side.
fn preview_of(s: &Survey) -> Value {
    let langs = &s.languages;
    let cell = |t: &Text, lang: &str| t.get(lang).cloned().unwrap_or_default();
    let mut groups: Vec<(Option<&str>, Value)> = s
        .sections
        .iter()
        .map(|sec| {
            (
                Some(sec.id.as_str()),
                json!({"id": sec.id, "titles": langs.iter().map(|l| json!({"lang": l, "text": cell(&sec.title, l)})).collect::<Vec<_>>()}),
            )
        })
        .collect();
    if s.questions.iter().any(|q| q.section.is_none()) || groups.is_empty() {
        groups.insert(0, (None, json!({"id": "", "titles": []})));
    }
    for (key, group) in groups.iter_mut() {
        let questions: Vec<Value> = s
            .questions
            .iter()
            .filter(|q| q.section.as_deref() == *key)
            .map(|q| {
                let choices = q.list.as_ref().and_then(|l| s.choices.get(l));
                json!({
                    "name": q.name,
                    "type": q.qtype.as_str(),
                    "required": q.required,
                    "relevant": q.relevant,
                    "constraint": q.constraint,
                    "indicator": q.indicator,
                    "cells": langs.iter().map(|l| json!({
                        "lang": l,
                        "rtl": l == "ar",
                        "label": cell(&q.label, l),
                        "hint": cell(&q.hint, l),
                        "choices": choices.map(|cs| cs.iter().map(|c| {
                            let label = cell(&c.label, l);
                            json!({"value": c.value, "label": label, "missing": label.is_empty()})
                        }).collect::<Vec<_>>()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        group["questions"] = json!(questions);
    }
    json!({
        "languages": langs,
        "titles": langs.iter().map(|l| json!({"lang": l, "text": cell(&s.title, l)})).collect::<Vec<_>>(),
        "sections": groups.into_iter().map(|(_, g)| g).filter(|g| g["questions"].as_array().is_some_and(|q| !q.is_empty())).collect::<Vec<_>>(),
    })
}

async fn preview(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        let (actor, id) = (user.actor.clone(), path.into_inner());
        let view = state
            .db(move |conn| survey_uploads::get(conn, &actor, id))
            .await?;
        let body = state.templates.render(
            "survey_preview",
            &json!({"title": format!("Preview of {}", view.file_name), "user": user_json(&user),
                    "csrf_token": user.csrf, "upload": upload_row(&view), "notes": view.notes,
                    "kind": format!("{:?}", view.survey.kind).to_lowercase(),
                    "preview": preview_of(&view.survey)}),
        )?;
        Ok(html(body))
    })
    .await
}

async fn publish(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        check_form_csrf(&user, &form.csrf_token)?;
        let (actor, svc, id) = (user.actor.clone(), state.app.clone(), path.into_inner());
        state
            .db(move |conn| survey_uploads::publish(conn, &svc.catalog, &actor, id))
            .await?;
        Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/admin/surveys?done=published"))
            .finish())
    })
    .await
}
