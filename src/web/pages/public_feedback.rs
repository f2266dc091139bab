//! The public feedback pages: the form of an operation at `/f/{operation}` and the status
//! lookup at `/f/status`. No account and no cookie; tiny pages that work without
//! JavaScript; rate-limited per client address.

use super::survey::{message_page, parse_form, pick_lang, render_form, FormTarget, LangQuery};
use crate::domain::feedback::{self, SubmitBody};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use crate::render::i18n;
use crate::surveys::model::Survey;
use crate::web::pages::html;
use crate::web::State;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

// `status` is a reserved operation slug, so it is matched first.
crate::web::routes::route_table! {
    "/f/status" => { GET status_page },
    "/f/{operation}" => { GET form, POST post },
    "/f/{operation}/logic.js" => { GET logic_js },
}

fn survey(state: &State) -> Result<&Survey, AppError> {
    state.catalog.survey(feedback::FORM_ID).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "the {} form is not loaded",
            feedback::FORM_ID
        ))
    })
}

/// A CSRF token for the anonymous form: a keyed digest of the operation and the day, so a
/// page stays valid overnight and a token cannot be reused for long.
fn form_token(state: &State, slug: &str, days_ago: i64) -> String {
    let day = (chrono::Utc::now() - chrono::Duration::days(days_ago))
        .format("%Y-%m-%d")
        .to_string();
    secrets::keyed_digest(
        &state.config.secret_key,
        "feedback-form",
        &format!("{slug}|{day}"),
    )
}

fn target(state: &State, slug: &str, lang: &str) -> FormTarget {
    FormTarget {
        action: format!("/f/{slug}"),
        logic_src: format!("/f/{slug}/logic.js"),
        csrf_token: form_token(state, slug, 0),
        can_save: false,
        note: i18n::t(lang, "fb_note"),
        submit_label: i18n::t(lang, "fb_send"),
        areas: None,
    }
}

/// [`target`] with the operation's administrative areas, for the form's area selects.
async fn target_with_areas(state: &State, slug: &str, lang: &str) -> Result<FormTarget, AppError> {
    let s = slug.to_string();
    let areas = state
        .db(move |conn| {
            Ok(match crate::db::models::operation_by_slug(conn, &s)? {
                Some(op) => Some(crate::domain::areas::load(conn, op.id)?),
                None => None,
            })
        })
        .await?;
    Ok(FormTarget {
        areas,
        ..target(state, slug, lang)
    })
}

fn page_with_status(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

async fn operation_exists(state: &State, slug: String) -> Result<bool, AppError> {
    state
        .db(move |conn| Ok(crate::db::models::operation_by_slug(conn, &slug)?.is_some()))
        .await
}

fn unknown_operation(state: &State, lang: &str) -> Result<HttpResponse, AppError> {
    Ok(page_with_status(
        StatusCode::NOT_FOUND,
        message_page(
            state,
            lang,
            "404",
            "There is no feedback form at this address. Check the link or QR code.",
        )?,
    ))
}

fn too_many(state: &State, lang: &str) -> Result<HttpResponse, AppError> {
    Ok(page_with_status(
        StatusCode::TOO_MANY_REQUESTS,
        message_page(state, lang, "429", i18n::t(lang, "fb_too_many"))?,
    ))
}

async fn form(
    state: State,
    path: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let survey = survey(&state)?;
    let lang = pick_lang(survey, &[query.lang.as_deref()]);
    if !operation_exists(&state, slug.clone()).await? {
        return unknown_operation(&state, &lang);
    }
    let target = target_with_areas(&state, &slug, &lang).await?;
    let page = render_form(
        &state,
        &target,
        survey,
        &lang,
        &Default::default(),
        &Default::default(),
        None,
    )?;
    Ok(html(page))
}

async fn post(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let survey = survey(&state)?.clone();
    if body.len() > crate::web::BODY_LIMIT_SUBMISSION {
        return Err(AppError::PayloadTooLarge("the form is too large".into()));
    }
    let (raw, control) = parse_form(&survey, &body);
    let lang = pick_lang(&survey, &[control.get("lang").and_then(Value::as_str)]);
    if !state
        .public_limiter
        .check(crate::web::ratelimit::client_ip(&req))
    {
        return too_many(&state, &lang);
    }
    let csrf = control
        .get("csrf_token")
        .and_then(Value::as_str)
        .unwrap_or("");
    let fresh = (0..2).any(|d| secrets::ct_eq(csrf, &form_token(&state, &slug, d)));
    if !fresh {
        return Err(AppError::Forbidden(
            "the form has expired or was not sent from this site; reload the page and try again"
                .into(),
        ));
    }
    // Without JavaScript every question shows: what did not apply is dropped.
    let answers = crate::domain::rounds::prune_irrelevant(&survey, &raw);
    let submit = SubmitBody {
        operation: Some(slug.clone()),
        channel: Some("web".into()),
        language: Some(lang.clone()),
        answers: Some(answers.clone()),
    };
    let (catalog, config) = (state.catalog.clone(), state.config.clone());
    let result = state
        .db(move |conn| feedback::submit(conn, &catalog, &config, None, &submit))
        .await;
    if result.is_ok() {
        state.metrics.feedback_submitted("web");
    }
    match result {
        Ok(done) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/f/status?ref={}&new=1&lang={lang}", done.reference),
            ))
            .finish()),
        Err(AppError::Unprocessable { fields, .. }) => {
            let target = target_with_areas(&state, &slug, &lang).await?;
            let page = render_form(&state, &target, &survey, &lang, &answers, &fields, None)?;
            Ok(page_with_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(AppError::NotFound(_)) => unknown_operation(&state, &lang),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct StatusQuery {
    #[serde(rename = "ref")]
    reference: Option<String>,
    lang: Option<String>,
    new: Option<String>,
}

async fn status_page(
    state: State,
    req: HttpRequest,
    query: web::Query<StatusQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let survey = survey(&state)?;
    let lang = pick_lang(survey, &[q.lang.as_deref()]);
    let languages: Vec<Value> = survey
        .languages
        .iter()
        .map(|l| {
            let mut href = format!("?lang={l}");
            if let Some(r) = q
                .reference
                .as_deref()
                .and_then(feedback::normalize_reference)
            {
                href.push_str(&format!("&ref={r}"));
            }
            json!({"code": l, "name": i18n::language_name(l), "current": *l == lang, "href": href})
        })
        .collect();
    let mut ctx = json!({
        "title": i18n::t(&lang, "fb_status_title"),
        "lang": lang,
        "rtl": i18n::is_rtl(&lang),
        "t": i18n::all(&lang),
        "languages": languages,
        "reference_input": q.reference.clone().unwrap_or_default(),
    });
    let mut status = StatusCode::OK;
    if let Some(input) = q.reference.as_deref().filter(|s| !s.trim().is_empty()) {
        if !state
            .public_limiter
            .check(crate::web::ratelimit::client_ip(&req))
        {
            return too_many(&state, &lang);
        }
        match feedback::normalize_reference(input) {
            None => {
                ctx["error"] = json!(i18n::t(&lang, "fb_bad_reference"));
                status = StatusCode::BAD_REQUEST;
            }
            Some(r) => {
                let found = state
                    .db(move |conn| match feedback::public_status(conn, &r) {
                        Ok(v) => Ok(Some(v)),
                        Err(AppError::NotFound(_)) => Ok(None),
                        Err(e) => Err(e),
                    })
                    .await?;
                match found {
                    Some(v) => {
                        let st = v["status"].as_str().unwrap_or("received").to_string();
                        ctx["found"] = json!({
                            "reference": v["reference"],
                            "status": i18n::t(&lang, &format!("status_{st}")),
                            "status_code": st,
                            "updated": v["updated_at"].as_str().unwrap_or("").get(..10),
                        });
                        ctx["is_new"] = json!(q.new.is_some());
                    }
                    None => {
                        ctx["error"] = json!(i18n::t(&lang, "fb_not_found"));
                        status = StatusCode::NOT_FOUND;
                    }
                }
            }
        }
    }
    let body = state.templates.render("feedback_status", &ctx)?;
    Ok(page_with_status(status, body))
}

/// The form's skip logic (contact details only with consent) as a script.
async fn logic_js(state: State) -> Result<HttpResponse, AppError> {
    let survey = survey(&state)?;
    Ok(HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(super::survey::compile_rules(survey)))
}
