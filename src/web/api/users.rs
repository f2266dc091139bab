//! Staff accounts over JSON: admins list, invite and change accounts; anyone may ask for a
//! password reset link. The rules are in [`crate::domain::users`] and
//! [`crate::domain::account_links`].

use crate::domain::account_links::{self, InviteBody, Invited};
use crate::domain::users::{self, UserUpdate, UserView};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    summary = "Every staff account (admins only)",
    responses((status = 200, description = "accounts", body = UserList),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 403, description = "not an admin", body = crate::web::error::ErrorBody)))]
pub async fn list(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let items = state.db(move |conn| users::list(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(UserList { users: items }))
}

#[utoipa::path(post, path = "/api/v1/users/invitations", tag = "users",
    summary = "Invite someone: an account without a password and an email with a one-time link (72 h) to set one",
    request_body = InviteBody,
    responses((status = 201, description = "invited; the link is in the email only", body = Invited),
              (status = 400, description = "a field is wrong (named in fields)", body = crate::web::error::ErrorBody),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 403, description = "not an admin", body = crate::web::error::ErrorBody),
              (status = 409, description = "the email already has an account in use", body = crate::web::error::ErrorBody)))]
pub async fn invite(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<InviteBody>,
) -> Result<HttpResponse, AppError> {
    let (actor, b, svc) = (user.actor.clone(), body.into_inner(), state.app.clone());
    let invited = state
        .db(move |conn| account_links::invite(conn, &svc, &actor, b))
        .await?;
    Ok(HttpResponse::Created().json(invited))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users",
    summary = "Change an account's role and scope, or disable (ending its sessions and tokens) or enable it (admins only)",
    params(("id" = i32, Path, description = "user id")),
    request_body = UserUpdate,
    responses((status = 200, description = "the account as it is now", body = UserView),
              (status = 400, description = "a field is wrong (named in fields)", body = crate::web::error::ErrorBody),
              (status = 401, description = "not signed in", body = crate::web::error::ErrorBody),
              (status = 403, description = "not an admin", body = crate::web::error::ErrorBody),
              (status = 404, description = "no such user", body = crate::web::error::ErrorBody),
              (status = 409, description = "it would leave no active admin", body = crate::web::error::ErrorBody)))]
pub async fn update(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: crate::web::api::JsonObject<UserUpdate>,
) -> Result<HttpResponse, AppError> {
    let (actor, id, b) = (user.actor.clone(), path.into_inner(), body.into_inner());
    let view = state
        .db(move |conn| users::update(conn, &actor, id, b))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The address of the account whose password was forgotten.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    pub email: String,
}

/// The same answer whatever the address.
#[derive(Serialize, ToSchema)]
pub struct ResetAnswer {
    pub message: String,
}

#[utoipa::path(post, path = "/api/v1/password-resets", tag = "session", security(()),
    summary = "Forgot password: emails a one-time link (72 h) if the address has an account; the answer is the same either way",
    request_body = ResetBody,
    responses((status = 202, description = "accepted (whether or not the address has an account)", body = ResetAnswer),
              (status = 400, description = "not an email address", body = crate::web::error::ErrorBody),
              (status = 429, description = "too many requests from this address", body = crate::web::error::ErrorBody)))]
pub async fn request_reset(
    state: State,
    req: HttpRequest,
    body: crate::web::api::JsonObject<ResetBody>,
) -> Result<HttpResponse, AppError> {
    let message = crate::web::auth::request_password_reset(&state, &req, &body.into_inner().email)?;
    Ok(HttpResponse::Accepted().json(ResetAnswer { message }))
}
