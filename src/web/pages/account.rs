//! The signed-in person's own account: change the password, and make, list and revoke API
//! tokens (a new token's secret is shown once, on the page that made it). The rules are in
//! [`crate::domain::passwords`] and [`crate::domain::tokens`].

use super::{as_page, check_form_csrf, html, to_login, user_json};
use crate::domain::passwords::PasswordBody;
use crate::domain::tokens::{self, TokenBody};
use crate::kernel::error::AppError;
use crate::web::auth::{change_own_password, CurrentUser, PageUser};
use crate::web::State;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

crate::web::routes::route_table! {
    "/account" => { GET account_page },
    "/account/password" => { POST password },
    "/account/tokens" => { POST create_token },
    "/account/tokens/{id}/revoke" => { POST revoke_token },
    "/account/totp" => { POST totp_start },
    "/account/totp/confirm" => { POST totp_confirm },
    "/account/totp/disable" => { POST totp_disable },
}

/// What the page says above its forms.
#[derive(Default)]
struct Flash {
    done: Option<String>,
    password_error: Option<String>,
    token_error: Option<String>,
    /// A token just made: its label and secret, shown this once.
    secret: Option<Value>,
    totp_error: Option<String>,
    /// A set-up just started: its secret and URI, until confirmed.
    totp_setup: Option<crate::domain::totp::Enrolment>,
    /// Recovery codes just made, shown this once.
    recovery_codes: Option<Vec<String>>,
}

async fn render(
    state: &State,
    user: &CurrentUser,
    flash: Flash,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let uid = user.id;
    let (list, totp_on) = state
        .db(move |conn| {
            Ok((
                tokens::list_own(conn, &actor)?,
                crate::domain::totp::is_enabled(conn, uid)?,
            ))
        })
        .await?;
    let body = state.templates.render(
        "account",
        &json!({
            "title": "Your account",
            "user": user_json(user),
            "csrf_token": user.csrf,
            "tokens": list,
            "max_days": tokens::MAX_DAYS,
            "min_length": crate::kernel::secrets::MIN_PASSWORD_LEN,
            "done": flash.done,
            "password_error": flash.password_error,
            "token_error": flash.token_error,
            "secret": flash.secret,
            "totp_on": totp_on,
            "totp_required": state.config.totp_required_roles.contains(&user.role),
            "totp_error": flash.totp_error,
            "totp_setup": flash.totp_setup,
            "recovery_codes": flash.recovery_codes,
        }),
    )?;
    let mut r = html(body);
    *r.status_mut() = status;
    Ok(r)
}

/// A field error as one sentence for the page.
fn sentence(e: &AppError) -> String {
    match e.fields().iter().next() {
        Some((field, problem)) => format!("{}: {problem}", field.replace('_', " ")),
        None => e.client_message(),
    }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn account_page(
    state: State,
    user: PageUser,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        let done = match q.done.as_deref() {
            Some("revoked") => Some("Token revoked: it no longer works.".to_string()),
            _ => None,
        };
        render(
            &state,
            &user,
            Flash {
                done,
                ..Default::default()
            },
            StatusCode::OK,
        )
        .await
    })
    .await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

async fn password(
    state: State,
    req: HttpRequest,
    user: PageUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        check_form_csrf(&user, &f.csrf_token)?;
        let result = if f.new_password != f.confirm {
            Err(AppError::field(
                "new_password",
                "the two new passwords are not the same",
            ))
        } else {
            let b = PasswordBody {
                current_password: f.current_password,
                new_password: f.new_password,
            };
            change_own_password(&state, &req, &user, b).await
        };
        match result {
            Ok(()) => {
                let done = "Password changed; your other sessions have ended.".to_string();
                render(
                    &state,
                    &user,
                    Flash {
                        done: Some(done),
                        ..Default::default()
                    },
                    StatusCode::OK,
                )
                .await
            }
            Err(e @ AppError::BadRequest { .. }) => {
                let flash = Flash {
                    password_error: Some(sentence(&e)),
                    ..Default::default()
                };
                render(&state, &user, flash, StatusCode::BAD_REQUEST).await
            }
            Err(e) => Err(e),
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    expires_in_days: String,
}

async fn create_token(
    state: State,
    user: PageUser,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        check_form_csrf(&user, &f.csrf_token)?;
        let days = match f.expires_in_days.trim() {
            "" => Ok(None),
            d => d.parse::<i64>().map(Some).map_err(|_| {
                AppError::field(
                    "expires_in_days",
                    format!("use a number of days from 1 to {}", tokens::MAX_DAYS),
                )
            }),
        };
        let actor = user.actor.clone();
        let made = match days {
            Ok(expires_in_days) => {
                let b = TokenBody {
                    label: f.label,
                    expires_in_days,
                };
                state.db(move |conn| tokens::create(conn, &actor, b)).await
            }
            Err(e) => Err(e),
        };
        match made {
            Ok(t) => {
                let flash = Flash {
                    secret: Some(json!({"label": t.token.label, "secret": t.secret})),
                    ..Default::default()
                };
                render(&state, &user, flash, StatusCode::OK).await
            }
            Err(e @ AppError::BadRequest { .. }) => {
                let flash = Flash {
                    token_error: Some(sentence(&e)),
                    ..Default::default()
                };
                render(&state, &user, flash, StatusCode::BAD_REQUEST).await
            }
            Err(e) => Err(e),
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

async fn revoke_token(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let (id, f) = (path.into_inner(), form.into_inner());
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        check_form_csrf(&user, &f.csrf_token)?;
        let actor = user.actor.clone();
        state
            .db(move |conn| tokens::revoke(conn, &actor, id))
            .await?;
        Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/account?done=revoked"))
            .finish())
    })
    .await
}

#[derive(Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

/// The three authenticator forms: start a set-up, confirm it with a code, turn it off.
#[derive(Clone, Copy)]
enum TotpAct {
    Start,
    Confirm,
    Disable,
}

async fn totp_form(
    state: State,
    user: PageUser,
    form: TotpForm,
    act: TotpAct,
) -> Result<HttpResponse, AppError> {
    use crate::domain::totp;
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        check_form_csrf(&user, &form.csrf_token)?;
        let (key, uid, email) = (state.config.secret_key.clone(), user.id, user.email.clone());
        let required = state.config.totp_required_roles.contains(&user.role);
        let code = form.code;
        let now = crate::kernel::time::now();
        let result = state
            .db(move |conn| {
                let mut flash = Flash::default();
                match act {
                    TotpAct::Start => {
                        flash.totp_setup = Some(totp::begin(conn, &key, uid, &email, now)?)
                    }
                    TotpAct::Confirm => {
                        flash.recovery_codes = Some(totp::confirm(conn, &key, uid, &code, now)?);
                        flash.done =
                            Some("Authenticator app on: sign-in now asks for a code.".into());
                    }
                    TotpAct::Disable => {
                        totp::disable(conn, &key, uid, &code, required, now)?;
                        flash.done = Some("Authenticator app off.".into());
                    }
                }
                Ok(flash)
            })
            .await;
        match result {
            Ok(flash) => render(&state, &user, flash, StatusCode::OK).await,
            Err(
                e @ (AppError::BadRequest { .. } | AppError::Conflict(_) | AppError::Forbidden(_)),
            ) => {
                use actix_web::ResponseError;
                let flash = Flash {
                    totp_error: Some(sentence(&e)),
                    ..Default::default()
                };
                render(&state, &user, flash, e.status_code()).await
            }
            Err(e) => Err(e),
        }
    })
    .await
}

async fn totp_start(
    state: State,
    user: PageUser,
    form: web::Form<TotpForm>,
) -> Result<HttpResponse, AppError> {
    totp_form(state, user, form.into_inner(), TotpAct::Start).await
}

async fn totp_confirm(
    state: State,
    user: PageUser,
    form: web::Form<TotpForm>,
) -> Result<HttpResponse, AppError> {
    totp_form(state, user, form.into_inner(), TotpAct::Confirm).await
}

async fn totp_disable(
    state: State,
    user: PageUser,
    form: web::Form<TotpForm>,
) -> Result<HttpResponse, AppError> {
    totp_form(state, user, form.into_inner(), TotpAct::Disable).await
}
