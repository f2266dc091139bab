//! The public feedback pages: the form of an operation at `/f/{operation}` and the status
//! lookup at `/f/status`. No account and no cookie; tiny pages that work without
//! JavaScript; rate-limited per client address.

use super::survey::{message_page, parse_form, pick_lang, render_form, FormTarget, LangQuery};
use crate::domain::feedback::{self, Desk, SubmitBody};
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
    state
        .catalog
        .files()
        .survey(feedback::FORM_ID)
        .ok_or_else(|| {
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

/// The operation at `slug`, or `None` when there is none.
async fn desk(state: &State, slug: &str) -> Result<Option<Desk>, AppError> {
    let s = slug.to_string();
    state.db(move |conn| Ok(feedback::desk(conn, &s)?)).await
}

/// The form's language: `?lang=` (or the language button pressed), the operation's
/// default, the browser's `Accept-Language`, then the form's own default.
fn language(survey: &Survey, asked: Option<&str>, desk: &Desk, req: &HttpRequest) -> String {
    let browser = browser_language(req);
    pick_lang(
        survey,
        &[asked, desk.default_language.as_deref(), browser.as_deref()],
    )
}

/// The first of the browser's `Accept-Language` choices that clusterpulse speaks.
fn browser_language(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::web::error_pages::from_accept_language)
}

fn target(state: &State, desk: &Desk, lang: &str) -> FormTarget {
    let sla = &state.config.sla;
    let (high, medium, low) = (
        sla.high_hours.to_string(),
        sla.medium_hours.to_string(),
        sla.low_hours.div_ceil(24).to_string(),
    );
    FormTarget {
        action: format!("/f/{}", desk.slug),
        logic_src: format!("/f/{}/logic.js", desk.slug),
        csrf_token: form_token(state, &desk.slug, 0),
        can_save: false,
        note: i18n::t(lang, "fb_note"),
        submit_label: i18n::t(lang, "fb_send"),
        areas: Some(desk.areas.clone()),
        about: vec![
            i18n::fill(
                i18n::t(lang, "fb_about"),
                &[("operation", &desk.operation), ("cluster", &desk.cluster)],
            ),
            i18n::fill(
                i18n::t(lang, "fb_next_steps"),
                &[("high", &high), ("medium", &medium), ("low", &low)],
            ),
        ],
        offline_url: None,
    }
}

fn page_with_status(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn unknown_operation() -> AppError {
    AppError::not_found("There is no feedback form at this address. Check the link or QR code.")
}

fn too_many(state: &State, lang: &str) -> Result<HttpResponse, AppError> {
    Ok(page_with_status(
        StatusCode::TOO_MANY_REQUESTS,
        message_page(state, lang, "429", i18n::t(lang, "fb_too_many"))?,
    ))
}

async fn form(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let survey = survey(&state)?;
    let desk = desk(&state, &path.into_inner())
        .await?
        .ok_or_else(unknown_operation)?;
    let lang = language(survey, query.lang.as_deref(), &desk, &req);
    let page = render_form(
        &state,
        &target(&state, &desk, &lang),
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
    let switch = control.get("switch_lang").and_then(Value::as_str);
    let lang = pick_lang(
        &survey,
        &[switch, control.get("lang").and_then(Value::as_str)],
    );
    if !state
        .public_limiter
        .check(crate::web::ratelimit::client_ip(&req))
    {
        return too_many(&state, &lang);
    }
    let desk = desk(&state, &slug).await?.ok_or_else(unknown_operation)?;
    // Without JavaScript every question shows: what did not apply is dropped.
    let answers = crate::domain::rounds::prune_irrelevant(&survey, &raw);
    // The form again, with what was typed: after a language button, a stale token or a
    // refused answer.
    let again = |status: StatusCode,
                 errors: &crate::kernel::error::Fields,
                 notice: Option<&str>|
     -> Result<HttpResponse, AppError> {
        let page = render_form(
            &state,
            &target(&state, &desk, &lang),
            &survey,
            &lang,
            &answers,
            errors,
            notice,
        )?;
        Ok(page_with_status(status, page))
    };
    // A language button shows the same form, with what was typed, in that language.
    if switch.is_some() {
        return again(StatusCode::OK, &Default::default(), None);
    }
    let csrf = control
        .get("csrf_token")
        .and_then(Value::as_str)
        .unwrap_or("");
    let fresh = (0..2).any(|d| secrets::ct_eq(csrf, &form_token(&state, &slug, d)));
    if !fresh {
        // A page left open for days (or not sent from this site): nothing is stored, and
        // the message comes back, with a fresh token, to be sent again.
        return again(
            StatusCode::FORBIDDEN,
            &Default::default(),
            Some(i18n::t(&lang, "fb_stale")),
        );
    }
    let submit = SubmitBody {
        operation: Some(slug.clone()),
        channel: Some("web".into()),
        language: Some(lang.clone()),
        answers: Some(answers.clone()),
    };
    let result = feedback::submit_grouped(&state.app, None, submit).await;
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
            again(StatusCode::UNPROCESSABLE_ENTITY, &fields, None)
        }
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
    // `?lang=`, else the browser's language (a status link has no operation to take a
    // default from).
    let browser = browser_language(&req);
    let lang = pick_lang(survey, &[q.lang.as_deref(), browser.as_deref()]);
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
                            "reply": v["reply"],
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
