//! Feedback over JSON: public intake and status lookup (rate-limited per client address),
//! the staff inbox, item history and workflow events.

use crate::error::AppError;
use crate::feedback::{self, EventBody, Filters, SubmitBody};
use crate::web::auth::{CurrentUser, MaybeUser};
use crate::web::ratelimit::client_ip;
use crate::web::State;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// Counts a public request against the per-address limit.
pub fn check_public_limit(state: &State, req: &HttpRequest) -> Result<(), AppError> {
    if state.public_limiter.check(client_ip(req)) {
        Ok(())
    } else {
        Err(AppError::TooManyRequests(
            "too many requests from this address; wait a minute and try again".into(),
        ))
    }
}

pub async fn submit(
    state: State,
    req: HttpRequest,
    user: MaybeUser,
    body: web::Json<SubmitBody>,
) -> Result<HttpResponse, AppError> {
    if user.0.is_none() {
        check_public_limit(&state, &req)?;
    }
    let body = body.into_inner();
    let (catalog, secret, sla) = (
        state.catalog.clone(),
        state.config.secret_key.clone(),
        state.config.sla,
    );
    let staff = user.0;
    let done = state
        .db(move |conn| feedback::submit(conn, &catalog, &secret, &sla, staff.as_ref(), &body))
        .await?;
    Ok(HttpResponse::Created().json(json!({"reference": done.reference, "status": done.status})))
}

pub async fn status(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    check_public_limit(&state, &req)?;
    let reference = path.into_inner();
    let v = state
        .db(move |conn| feedback::public_status(conn, &reference))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(v))
}

pub async fn list(
    state: State,
    user: CurrentUser,
    query: web::Query<Filters>,
) -> Result<HttpResponse, AppError> {
    let f = query.into_inner();
    let v = state
        .db(move |conn| {
            let at = crate::db::now();
            let (items, total) = feedback::list(conn, &user, &f, at)?;
            let items: Vec<_> = items
                .iter()
                .map(|(i, o)| feedback::item_json(i, o, at))
                .collect();
            Ok(json!({
                "items": items,
                "total": total,
                "limit": f.limit.unwrap_or(feedback::DEFAULT_PAGE),
                "offset": f.offset.unwrap_or(0),
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

pub async fn get(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let reference = path.into_inner();
    let secret = state.config.secret_key.clone();
    let v = state
        .db(move |conn| {
            let (item, op, events) = feedback::load_visible(conn, &user, &reference)?;
            feedback::detail_json(conn, &secret, &user, &item, &op, &events, crate::db::now())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(v))
}

pub async fn event(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<EventBody>,
) -> Result<HttpResponse, AppError> {
    let reference = path.into_inner();
    let body = body.into_inner();
    let secret = state.config.secret_key.clone();
    let v = state
        .db(move |conn| {
            let (item, _) = feedback::record_event(conn, &user, &reference, &body)?;
            match feedback::load_visible(conn, &user, &reference) {
                Ok((item, op, events)) => feedback::detail_json(
                    conn,
                    &secret,
                    &user,
                    &item,
                    &op,
                    &events,
                    crate::db::now(),
                ),
                // Marked sensitive: from now on only the PSEA focal points see it.
                Err(AppError::NotFound(_)) => Ok(json!({
                    "reference": item.reference,
                    "status": item.status,
                    "sensitive": item.sensitive,
                })),
                Err(e) => Err(e),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}
