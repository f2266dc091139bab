//! Server-rendered HTML pages (handlebars). Forms carry CSRF tokens.

pub mod account;
pub mod admin;
pub mod api_docs;
pub mod charter;
pub mod collectors;
pub mod directory;
pub mod inbox;
pub mod intercluster;
pub mod membership;
pub mod password_links;
pub mod public_feedback;
pub mod report;
pub mod rounds;
pub mod scorecard;
pub mod survey;
pub mod surveys_admin;

use crate::db::models;
use crate::db::schema::{clusters, operations};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use crate::render::templates::static_file;
use crate::web::auth::{
    check_credentials, clear_cookie, device_cookie, end_session, session_cookie, PageUser, SignIn,
    SignedIn,
};
use crate::web::State;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

const LOGIN_CSRF_COOKIE: &str = "cp_login_csrf";

crate::web::routes::route_table! {
    "/" => { GET dashboard },
    "/login" => { GET login_page, POST login_submit },
    "/login/code" => { POST login_code_submit },
    "/logout" => { POST logout },
    "/static/{file}" => { GET static_asset },
    ; mount {
        "" => api_docs,
        "" => survey,
        "" => rounds,
        "" => report,
        "" => public_feedback,
        "" => inbox,
        "" => scorecard,
        "" => charter,
        "" => intercluster,
        "" => password_links,
        "" => account,
        "" => admin,
        "" => directory,
        "" => surveys_admin,
        "" => membership,
        "" => collectors,
    }
}

pub fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// The signed-in person as the page header shows them.
pub fn user_json(user: &crate::web::auth::CurrentUser) -> serde_json::Value {
    json!({"email": user.email, "role": user.role.as_str(), "is_admin": user.is_admin()})
}

/// Where a page sends someone who is not signed in.
pub fn to_login() -> HttpResponse {
    redirect("/login")
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

async fn static_asset(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let (data, mime) = static_file(&name).ok_or_else(|| AppError::not_found("no such file"))?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(data.into_owned()))
}

/// Renders a form page of someone not signed in (`/login` and what is under it): a fresh
/// CSRF token in the form and in a cookie for `/login`.
pub fn render_anonymous_form(
    state: &State,
    template: &str,
    mut data: serde_json::Value,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    let token = secrets::random_token(24);
    data["csrf_token"] = json!(token);
    let body = state.templates.render(template, &data)?;
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, token)
        .path("/login")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Strict)
        .finish();
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .body(body))
}

/// Checks the CSRF field of a form rendered by [`render_anonymous_form`].
pub fn check_anonymous_csrf(req: &HttpRequest, token: &str) -> Result<(), AppError> {
    let expected = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if expected.is_empty() || !secrets::ct_eq(&expected, token) {
        return Err(AppError::Forbidden(
            "the form has expired or was not sent from this site; reload the page and try again"
                .into(),
        ));
    }
    Ok(())
}

fn render_login(
    state: &State,
    error: Option<&str>,
    email: &str,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    render_anonymous_form(
        state,
        "login",
        json!({"title": "Sign in", "error": error, "email": email}),
        status,
    )
}

/// A page with a heading and a sentence (and an optional link), answered with `status`.
pub fn notice(
    state: &State,
    status: actix_web::http::StatusCode,
    heading: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Result<HttpResponse, AppError> {
    let body = state.templates.render(
        "notice",
        &json!({"title": heading, "heading": heading, "message": message,
                "error": !status.is_success(),
                "link": link.map(|(href, text)| json!({"href": href, "text": text}))}),
    )?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// The error of a page as a page: its status, a heading, the sentence and any field
/// problems (never JSON).
pub fn error_page(state: &State, e: &AppError) -> Result<HttpResponse, AppError> {
    use actix_web::ResponseError;
    if matches!(e, AppError::Forbidden(m) if m == crate::web::auth::TOTP_REQUIRED) {
        return Ok(redirect("/account#totp"));
    }
    let status = e.status_code();
    let heading = match status.as_u16() {
        400 | 422 => "Please check what was entered",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Not possible",
        410 => "This link no longer works",
        429 => "Too many requests",
        _ => "Something went wrong",
    };
    if let AppError::Internal(cause) = e {
        tracing::error!(error = %format!("{cause:#}"), "internal error");
    }
    let mut message = e.client_message();
    for (field, problem) in e.fields() {
        message.push_str(&format!(" ({field}: {problem})"));
    }
    let link = if status.as_u16() == 410 {
        ("/login/forgot", "Ask for a new link")
    } else {
        ("/", "Back to the dashboard")
    };
    notice(state, status, heading, &message, Some(link))
}

/// Runs a page handler's body, answering its error as a page ([`error_page`]).
pub async fn as_page(
    state: &State,
    body: impl std::future::Future<Output = Result<HttpResponse, AppError>>,
) -> Result<HttpResponse, AppError> {
    match body.await {
        Ok(r) => Ok(r),
        Err(e) => error_page(state, &e),
    }
}

async fn login_page(state: State, user: PageUser) -> Result<HttpResponse, AppError> {
    if user.0.is_some() {
        return Ok(redirect("/"));
    }
    render_login(&state, None, "", actix_web::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    check_anonymous_csrf(&req, &form.csrf_token)?;
    match check_credentials(&state, &req, form.email.clone(), form.password).await {
        Ok(SignIn::Done(SignedIn { user, token })) => Ok(signed_in_redirect(&state, &user, &token)),
        Ok(SignIn::CodeNeeded(pending)) => {
            let mut r = render_code_step(&state, None, actix_web::http::StatusCode::OK)?;
            r.add_cookie(&pending)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("cookie: {e}")))?;
            Ok(r)
        }
        Err(AppError::Unauthorized(msg)) => render_login(
            &state,
            Some(&msg),
            &form.email,
            actix_web::http::StatusCode::UNAUTHORIZED,
        ),
        Err(AppError::TooManyRequests(msg)) => render_login(
            &state,
            Some(&msg),
            &form.email,
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => Err(e),
    }
}

fn signed_in_redirect(
    state: &State,
    user: &crate::web::auth::CurrentUser,
    token: &str,
) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .cookie(session_cookie(state, token))
        .cookie(device_cookie(state, &user.email))
        .cookie(crate::web::auth::clear_pending_cookie(state))
        .finish()
}

fn render_code_step(
    state: &State,
    error: Option<&str>,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    render_anonymous_form(
        state,
        "login",
        json!({"title": "Sign in", "error": error, "code_step": true}),
        status,
    )
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

/// The login page's second step: a code from the authenticator app or a recovery code.
async fn login_code_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    check_anonymous_csrf(&req, &form.csrf_token)?;
    match crate::web::auth::complete_with_code(&state, &req, form.code).await {
        Ok(SignedIn { user, token }) => Ok(signed_in_redirect(&state, &user, &token)),
        Err(AppError::Unauthorized(msg)) => render_login(
            &state,
            Some(&msg),
            "",
            actix_web::http::StatusCode::UNAUTHORIZED,
        ),
        Err(e @ (AppError::TooManyRequests(_) | AppError::BadRequest { .. })) => {
            use actix_web::ResponseError;
            let msg = match e.fields().values().next() {
                Some(problem) => format!("The code {problem}."),
                None => e.client_message(),
            };
            render_code_step(&state, Some(&msg), e.status_code())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// The file part of a posted `multipart/form-data` page form (a survey upload, an areas
/// list), with the CSRF token checked first.
pub(crate) fn posted_file(
    user: &crate::web::auth::CurrentUser,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(String, Vec<u8>), AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = crate::web::multipart::parse(content_type, body)?;
    check_form_csrf(user, form.text("csrf_token"))?;
    let part = form
        .part("file")
        .filter(|p| !p.data.is_empty() || p.file_name.as_deref().is_some_and(|f| !f.is_empty()))
        .ok_or_else(|| AppError::field("file", "choose a file to upload"))?;
    Ok((
        part.file_name.clone().unwrap_or_default(),
        part.data.clone(),
    ))
}

/// Checks the CSRF field of a form posted by a signed-in person.
pub fn check_form_csrf(user: &crate::web::auth::CurrentUser, token: &str) -> Result<(), AppError> {
    match &user.csrf {
        Some(expected) if secrets::ct_eq(expected, token) => Ok(()),
        _ => Err(AppError::Forbidden(
            "the form has expired or was not sent from this site; reload the page and try again"
                .into(),
        )),
    }
}

async fn logout(
    state: State,
    req: HttpRequest,
    user: PageUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(u) = &user.0 {
        check_form_csrf(u, &form.csrf_token)?;
        end_session(&state, &req).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(clear_cookie(&state))
        .finish())
}

async fn dashboard(state: State, user: PageUser) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(redirect("/login"));
    };
    let u = user.clone();
    let ops = state
        .db(move |conn| {
            let rows: Vec<(models::Operation, String)> = operations::table
                .inner_join(clusters::table)
                .order(operations::slug)
                .select((models::Operation::as_select(), clusters::code))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .filter(|(o, _)| u.can_read_operation(o))
                .map(|(o, c)| {
                    json!({"slug": o.slug, "name": o.name, "country": o.country, "cluster": c,
                           "default_language": o.default_language,
                           "manage": u.can_manage_operation(&o),
                           "membership": u.can_read_membership(&o)})
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let u = user.clone();
    let rounds = state.db(move |conn| rounds::rounds_for(conn, &u)).await?;
    // Admins are told which operations have nobody to see their sensitive feedback.
    let without_psea: Vec<serde_json::Value> = if user.role == crate::kernel::access::Role::Admin {
        state
            .db(|conn| Ok(crate::domain::feedback::operations_without_psea(conn)?))
            .await?
            .into_iter()
            .map(|(slug, name)| json!({"slug": slug, "name": name}))
            .collect()
    } else {
        Vec::new()
    };
    let manageable: Vec<&serde_json::Value> = ops.iter().filter(|o| o["manage"] == true).collect();
    let surveys: Vec<_> = state
        .catalog
        .current()
        .surveys
        .values()
        .map(|s| {
            json!({"id": s.id, "version": s.version, "kind": s.kind,
                   "title": s.title.get("en").or_else(|| s.title.values().next())})
        })
        .collect();
    let catalog = state.catalog.current();
    let round_surveys: Vec<_> = catalog
        .surveys
        .values()
        .filter(|s| s.framework.is_some())
        .map(|s| {
            json!({"id": s.id, "version": s.version, "framework": s.framework,
                   "title": s.title.get("en").or_else(|| s.title.values().next()),
                   "uploaded": catalog.uploaded.contains(&s.id),
                   "checked": !catalog.uploaded.contains(&s.id)})
        })
        .collect();
    let body = state.templates.render(
        "dashboard",
        &json!({
            "title": "Dashboard",
            "user": user_json(&user),
            "csrf_token": user.csrf,
            "operations": ops,
            "manageable": manageable,
            "rounds": rounds,
            "without_psea": without_psea,
            "today": chrono::Utc::now().format("%Y-%m-%d").to_string(),
            "surveys": surveys,
            "round_surveys": round_surveys,
        }),
    )?;
    Ok(html(body))
}
