//! Pages of someone not signed in who needs a password: "forgot password" under `/login`,
//! and the page a one-time link opens (`/password/{token}`, from an invitation or a reset).
//! The rules are in [`crate::domain::account_links`].

use super::{as_page, check_anonymous_csrf, notice, render_anonymous_form};
use crate::domain::account_links::{self, Usable};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use crate::kernel::vocab::LinkPurpose;
use crate::web::auth::{hash_new_password, request_password_reset};
use crate::web::State;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

crate::web::routes::route_table! {
    "/login/forgot" => { GET forgot_page, POST forgot_submit },
    "/password/{token}" => { GET link_page, POST link_submit },
}

fn forgot_form(
    state: &State,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    render_anonymous_form(
        state,
        "forgot",
        json!({"title": "Forgot your password?", "email": email, "error": error}),
        status,
    )
}

async fn forgot_page(state: State) -> Result<HttpResponse, AppError> {
    forgot_form(&state, "", None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
}

async fn forgot_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    as_page(&state, async {
        check_anonymous_csrf(&req, &f.csrf_token)?;
        match request_password_reset(&state, &req, &f.email) {
            Ok(answer) => notice(
                &state,
                StatusCode::OK,
                "Check your email",
                &answer,
                Some(("/login", "Back to sign in")),
            ),
            Err(e @ AppError::BadRequest { .. }) => {
                let problem = e.fields().values().next().cloned().unwrap_or_default();
                forgot_form(
                    &state,
                    &f.email,
                    Some(&format!("Email: {problem}")),
                    StatusCode::BAD_REQUEST,
                )
            }
            Err(e) => Err(e),
        }
    })
    .await
}

fn link_csrf(state: &State, token: &str) -> String {
    secrets::keyed_digest(&state.config.secret_key, "password-link", token)
}

fn link_form(
    state: &State,
    token: &str,
    link: &Usable,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let heading = match link.purpose {
        LinkPurpose::Invite => "Welcome: choose your password",
        LinkPurpose::Reset => "Choose a new password",
    };
    let body = state.templates.render(
        "set_password",
        &json!({"title": heading, "heading": heading, "email": link.email, "token": token,
                "csrf_token": link_csrf(state, token), "error": error,
                "min_length": secrets::MIN_PASSWORD_LEN}),
    )?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body))
}

async fn link_page(state: State, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    as_page(&state, async {
        let t = token.clone();
        let link = state.db(move |conn| account_links::check(conn, &t)).await?;
        link_form(&state, &token, &link, None, StatusCode::OK)
    })
    .await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn link_submit(
    state: State,
    path: web::Path<String>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let (token, f) = (path.into_inner(), form.into_inner());
    as_page(&state, async {
        if !secrets::ct_eq(&f.csrf_token, &link_csrf(&state, &token)) {
            return Err(AppError::Forbidden(
                "the form was not sent from this site; open the link from the email again".into(),
            ));
        }
        let t = token.clone();
        let link = state.db(move |conn| account_links::check(conn, &t)).await?;
        let problem = secrets::check_password_strength(&f.password)
            .err()
            .or_else(|| {
                (f.password != f.confirm).then(|| "the two passwords are not the same".to_string())
            });
        if let Some(problem) = problem {
            return link_form(
                &state,
                &token,
                &link,
                Some(&problem),
                StatusCode::BAD_REQUEST,
            );
        }
        let hash = hash_new_password(f.password).await?;
        let t = token.clone();
        let link = state
            .db(move |conn| account_links::consume(conn, &t, &hash))
            .await?;
        notice(
            &state,
            StatusCode::OK,
            "Your password is set",
            &format!("You can now sign in as {}.", link.email),
            Some(("/login", "Sign in")),
        )
    })
    .await
}
