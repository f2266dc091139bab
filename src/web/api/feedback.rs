//! Feedback over JSON: public intake and status lookup (rate-limited per client address),
//! the staff inbox, item history and workflow events.

use crate::domain::feedback::{self, EventBody, Filters, SubmitBody};
use crate::domain::feedback::{ItemDetail, ItemView, PublicStatus};
use crate::kernel::error::AppError;
use crate::web::auth::{CurrentUser, MaybeUser};
use crate::web::error::ErrorBody;
use crate::web::ratelimit::client_ip;
use crate::web::State;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// The reply to an intake: the reference to keep, and the status.
#[derive(Serialize, ToSchema)]
pub struct Received {
    /// FB-XXXX-XXXX: lets the person follow the status at /f/status.
    pub reference: String,
    pub status: feedback::FeedbackStatus,
}

/// One page of the inbox.
#[derive(Serialize, ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemView>,
    /// Items matching the filters, over all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// After an event on an item that the caller can no longer see (marked sensitive): only
/// its state.
#[derive(Serialize, ToSchema)]
pub struct HiddenNow {
    pub reference: String,
    pub status: feedback::FeedbackStatus,
    pub sensitive: bool,
}

/// The item after an event: in full, or only its state when the caller can no longer see it.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum AfterEvent {
    Visible(Box<ItemDetail>),
    Hidden(HiddenNow),
}

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

#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback",
    summary = "Give feedback (public, rate-limited) or log it for someone (staff)",
    request_body = feedback::SubmitBody, security((), ("bearer" = []), ("cookie" = [])),
    responses((status = 201, description = "received", body = Received),
              (status = 413, description = "body over 256 KiB", body = ErrorBody),
              (status = 429, description = "too many requests from this address", body = ErrorBody)))]
pub async fn submit(
    state: State,
    req: HttpRequest,
    user: MaybeUser,
    body: crate::web::api::JsonObject<SubmitBody>,
) -> Result<HttpResponse, AppError> {
    if user.0.is_none() {
        check_public_limit(&state, &req)?;
    }
    let body = body.into_inner();
    let channel = body.channel.clone().unwrap_or_else(|| "web".into());
    let staff = user.0.map(|u| u.actor);
    let done = feedback::submit_grouped(&state.app, staff, body).await?;
    state.metrics.feedback_submitted(&channel);
    Ok(HttpResponse::Created().json(Received {
        reference: done.reference,
        status: done.status,
    }))
}

#[utoipa::path(get, path = "/api/v1/feedback/status/{reference}", tag = "feedback",
    summary = "The status of a reference (public, rate-limited)", security(()),
    params(("reference" = String, Path, description = "FB-XXXX-XXXX (case and separators are forgiven)")),
    responses((status = 200, description = "status only", body = PublicStatus),
              (status = 429, description = "too many requests from this address", body = ErrorBody)))]
pub async fn status(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    check_public_limit(&state, &req)?;
    let reference = path.into_inner();
    let v = state
        .db(move |conn| feedback::status_view(conn, &reference))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(v))
}

#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback",
    summary = "The inbox: items the caller may see, newest first", params(feedback::Filters),
    responses((status = 200, description = "one page", body = ItemPage)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    query: web::Query<Filters>,
) -> Result<HttpResponse, AppError> {
    let f = query.into_inner();
    let v = state
        .db(move |conn| {
            let at = crate::kernel::time::now();
            let (items, total) = feedback::list(conn, &user, &f, at)?;
            let items: Vec<_> = items
                .iter()
                .map(|(i, o)| feedback::item_view(i, o, at))
                .collect();
            Ok(ItemPage {
                items,
                total,
                limit: f.limit.unwrap_or(feedback::DEFAULT_PAGE),
                offset: f.offset.unwrap_or(0),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[utoipa::path(get, path = "/api/v1/feedback/{reference}", tag = "feedback",
    summary = "One item with its history (sensitive items: PSEA focal points only)",
    params(("reference" = String, Path, description = "FB-XXXX-XXXX")),
    responses((status = 200, description = "the item", body = ItemDetail)))]
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
            feedback::detail_view(
                conn,
                &secret,
                &user,
                &item,
                &op,
                &events,
                crate::kernel::time::now(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(v))
}

#[utoipa::path(post, path = "/api/v1/feedback/{reference}/events", tag = "feedback",
    summary = "Record a workflow step", params(("reference" = String, Path, description = "FB-XXXX-XXXX")),
    request_body = feedback::EventBody,
    responses((status = 200, description = "the item after the step", body = AfterEvent),
              (status = 409, description = "the step does not apply in the item's state", body = ErrorBody)))]
pub async fn event(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    body: crate::web::api::JsonObject<EventBody>,
) -> Result<HttpResponse, AppError> {
    let reference = path.into_inner();
    let body = body.into_inner();
    let secret = state.config.secret_key.clone();
    let v = state
        .db(move |conn| {
            let (item, _) = feedback::record_event(conn, &user, &reference, &body)?;
            match feedback::load_visible(conn, &user, &reference) {
                Ok((item, op, events)) => Ok(AfterEvent::Visible(Box::new(feedback::detail_view(
                    conn,
                    &secret,
                    &user,
                    &item,
                    &op,
                    &events,
                    crate::kernel::time::now(),
                )?))),
                // Marked sensitive: from now on only the PSEA focal points see it.
                Err(AppError::NotFound(_)) => Ok(AfterEvent::Hidden(HiddenNow {
                    reference: item.reference,
                    status: item.status,
                    sensitive: item.sensitive,
                })),
                Err(e) => Err(e),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day, YYYY-MM-DD (inclusive).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (inclusive).
    pub to: Option<String>,
}

impl PeriodQuery {
    /// The inclusive day range; 400 naming `from` or `to`.
    pub fn range(
        &self,
    ) -> Result<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>), AppError> {
        crate::kernel::time::parse_day_range(self.from.as_deref(), self.to.as_deref())
    }
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}/feedback/metrics", tag = "feedback",
    summary = "AAP indicators of an operation's feedback over a period",
    params(("slug" = String, Path, description = "operation slug"), PeriodQuery),
    responses((status = 200, description = "the indicators", body = crate::scoring::aap::AapMetrics)))]
pub async fn metrics(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (from, to) = query.range()?;
    let (slug, actor) = (path.into_inner(), user.actor.clone());
    let (_, m) = state
        .db(move |conn| feedback::metrics::for_operation(conn, &actor, &slug, from, to))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

pub const CHART_NAMES: &str = "feedback charts are volume or close-time, with .svg or .png";

#[utoipa::path(get, path = "/api/v1/operations/{slug}/feedback/charts/{file}", tag = "feedback",
    summary = "A feedback chart: volume or close-time, as .svg or .png",
    params(("slug" = String, Path, description = "operation slug"),
           ("file" = String, Path, description = "volume.svg, volume.png, close-time.svg or close-time.png"), PeriodQuery),
    responses((status = 200, description = "the chart", content(("image/svg+xml"), ("image/png")))))]
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
    let (from, to) = query.range()?;
    let actor = user.actor.clone();
    let (_, m) = state
        .db(move |conn| feedback::metrics::for_operation(conn, &actor, &slug, from, to))
        .await?;
    let chart = if name == "volume" {
        let labels = feedback::Labels::new(&state.catalog.current(), "en");
        crate::domain::feedback::charts::feedback_volume_chart(&m, &labels)
    } else {
        crate::domain::feedback::charts::feedback_close_time_chart(&m)
    };
    crate::web::api::scores::render(&chart, ext)
}
