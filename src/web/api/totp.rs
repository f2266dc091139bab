//! Setting up and turning off an authenticator app for one's own account; the rules are in
//! [`crate::domain::totp`]. The second sign-in step is in `web::auth`.

use crate::domain::totp::{self, Enrolment};
use crate::kernel::error::AppError;
use crate::web::auth::{CodeBody, CurrentUser};
use crate::web::State;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// The app is on; these recovery codes are shown this once.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each works once instead of a code from the app; keep them somewhere safe.
    pub recovery_codes: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/account/totp", tag = "session",
    summary = "Start setting up an authenticator app: a new secret, shown once",
    responses((status = 201, description = "the secret and its otpauth:// URI; confirm with a code", body = Enrolment),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 409, description = "an authenticator app is already on", body = crate::web::error::ErrorBody)))]
pub async fn enrol(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let (key, uid, email) = (state.config.secret_key.clone(), user.id, user.email.clone());
    let e = state
        .db(move |conn| totp::begin(conn, &key, uid, &email, crate::kernel::time::now()))
        .await?;
    Ok(HttpResponse::Created().json(e))
}

#[utoipa::path(post, path = "/api/v1/account/totp/confirm", tag = "session",
    summary = "Turn the authenticator app on with its first code; returns 10 recovery codes",
    request_body = CodeBody,
    responses((status = 200, description = "on", body = RecoveryCodes),
              (status = 400, description = "the code is not the app's current code", body = crate::web::error::ErrorBody),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 409, description = "no set-up is waiting to be confirmed", body = crate::web::error::ErrorBody)))]
pub async fn confirm(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<CodeBody>,
) -> Result<HttpResponse, AppError> {
    let (key, uid, code) = (
        state.config.secret_key.clone(),
        user.id,
        body.into_inner().code,
    );
    let recovery_codes = state
        .db(move |conn| totp::confirm(conn, &key, uid, &code, crate::kernel::time::now()))
        .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes { recovery_codes }))
}

#[utoipa::path(delete, path = "/api/v1/account/totp", tag = "session",
    summary = "Turn the authenticator app off, with a current code or a recovery code",
    request_body = CodeBody,
    responses((status = 204, description = "off"),
              (status = 400, description = "the code is wrong", body = crate::web::error::ErrorBody),
              (status = 403, description = "your role requires an authenticator app", body = crate::web::error::ErrorBody),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 409, description = "no authenticator app is on", body = crate::web::error::ErrorBody)))]
pub async fn disable(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<CodeBody>,
) -> Result<HttpResponse, AppError> {
    let required = state.config.totp_required_roles.contains(&user.role);
    let (key, uid, code) = (
        state.config.secret_key.clone(),
        user.id,
        body.into_inner().code,
    );
    state
        .db(move |conn| totp::disable(conn, &key, uid, &code, required, crate::kernel::time::now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
