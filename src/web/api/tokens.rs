//! API tokens over JSON; the rules are in [`crate::domain::tokens`].

use crate::domain::tokens::{self, CreatedToken, TokenBody, TokenView};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "session",
    summary = "Your API tokens (never their secrets)",
    responses((status = 200, description = "tokens", body = TokenList)))]
pub async fn list(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let items = state.db(move |conn| tokens::list_own(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(TokenList { tokens: items }))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "session",
    summary = "Make an API token (its secret is shown once)", request_body = TokenBody,
    responses((status = 201, description = "created, with the secret", body = CreatedToken)))]
pub async fn create(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<TokenBody>,
) -> Result<HttpResponse, AppError> {
    let (actor, b) = (user.actor.clone(), body.into_inner());
    let created = state
        .db(move |conn| tokens::create(conn, &actor, b))
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "session",
    summary = "Revoke an API token (your own; admins: anyone's)",
    params(("id" = i32, Path, description = "token id")),
    responses((status = 200, description = "the revoked token", body = TokenView)))]
pub async fn revoke(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (actor, id) = (user.actor.clone(), path.into_inner());
    let t = state
        .db(move |conn| tokens::revoke(conn, &actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(t))
}
