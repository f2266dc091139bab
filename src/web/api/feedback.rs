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
    let channel = body.channel.clone().unwrap_or_else(|| "web".into());
    let (catalog, secret, sla) = (
        state.catalog.clone(),
        state.config.secret_key.clone(),
        state.config.sla,
    );
    let staff = user.0;
    let done = state
        .db(move |conn| feedback::submit(conn, &catalog, &secret, &sla, staff.as_ref(), &body))
        .await?;
    state.metrics.feedback_submitted(&channel);
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

#[derive(serde::Deserialize)]
pub struct PeriodQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `from` / `to` as dates (`YYYY-MM-DD`, inclusive); 400 naming the field otherwise.
pub fn parse_period(
    q: &PeriodQuery,
) -> Result<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>), AppError> {
    let parse = |field: &str, v: &Option<String>| -> Result<Option<chrono::NaiveDate>, AppError> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| AppError::field(field, "must be a date like 2026-01-31")),
        }
    };
    let (from, to) = (parse("from", &q.from)?, parse("to", &q.to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::field("from", "must not be after to"));
        }
    }
    Ok((from, to))
}

/// The operation (readable by `user`) and its AAP indicators over the period.
pub async fn metrics_for(
    state: &State,
    user: CurrentUser,
    slug: String,
    q: &PeriodQuery,
) -> Result<
    (
        crate::db::models::Operation,
        crate::scoring::aap::AapMetrics,
    ),
    AppError,
> {
    let (from, to) = parse_period(q)?;
    state
        .db(move |conn| {
            let op = crate::db::models::operation_by_slug(conn, &slug)?
                .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
            if !user.can_read_operation(&op) {
                return Err(AppError::forbidden());
            }
            let m = crate::aap::feedback_metrics(conn, op.id, from, to, crate::db::now())?;
            Ok((op, m))
        })
        .await
}

pub async fn metrics(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, m) = metrics_for(&state, user, path.into_inner(), &query).await?;
    Ok(HttpResponse::Ok().json(m))
}

pub const CHART_NAMES: &str = "feedback charts are volume or close-time, with .svg or .png";

pub async fn metrics_chart(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (slug, file) = path.into_inner();
    let (name, ext) = file
        .rsplit_once('.')
        .filter(|(n, e)| matches!(*e, "svg" | "png") && matches!(*n, "volume" | "close-time"))
        .ok_or_else(|| AppError::not_found(CHART_NAMES))?;
    let (_, m) = metrics_for(&state, user, slug, &query).await?;
    let chart = if name == "volume" {
        crate::report::feedback_volume_chart(&m)
    } else {
        crate::report::feedback_close_time_chart(&m)
    };
    crate::web::api::scores::render(&chart, ext)
}
