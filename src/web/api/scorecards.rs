//! Scorecards on demand, their charts, and the outbox as admins see it.

use crate::domain::scorecards::{self, SendReport};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which scorecards to send. A global lead may send only their own cluster's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// A cluster code (admins: omit for every cluster).
    #[serde(default)]
    pub cluster: Option<String>,
    /// YYYY-MM (default: this month).
    #[serde(default)]
    pub period: Option<String>,
    /// Send again even if already sent for this period.
    #[serde(default)]
    pub force: bool,
}

#[utoipa::path(post, path = "/api/v1/scorecards/send", tag = "scorecards",
    summary = "Email scorecards to cluster leads now (admins; global leads for their cluster)",
    request_body = SendBody,
    responses((status = 200, description = "what was queued and what was skipped", body = SendReport)))]
pub async fn send(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<SendBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let (app, actor) = (state.app.clone(), user.actor.clone());
    let report = state
        .db(move |conn| scorecards::send_now(conn, &app, &actor, b.cluster, b.period, b.force))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// YYYY-MM (default: this month).
    pub period: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/clusters/{code}/scorecard/charts/{file}", tag = "scorecards",
    summary = "A scorecard chart",
    params(("code" = String, Path, description = "cluster code"),
           ("file" = String, Path, description = "grid, volume or functions-{operation}, with .svg or .png"), PeriodQuery),
    responses((status = 200, description = "the chart", content(("image/svg+xml"), ("image/png")))))]
pub async fn chart(
    state: State,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, file) = path.into_inner();
    let not_found = || {
        AppError::not_found(
            "scorecard charts are grid, volume or functions-{operation}, with .svg or .png",
        )
    };
    let (name, ext) = file
        .rsplit_once('.')
        .filter(|(_, e)| matches!(*e, "svg" | "png"))
        .ok_or_else(not_found)?;
    let (catalog, actor, period) = (
        state.catalog.current(),
        user.actor.clone(),
        query.into_inner().period,
    );
    let sc = state
        .db(move |conn| scorecards::for_cluster(conn, &catalog, &actor, &code, period))
        .await?;
    let chart = scorecards::chart(&state.catalog.current(), &sc, name).ok_or_else(not_found)?;
    crate::web::api::scores::render(&chart, ext)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// queued, sent or failed.
    pub status: Option<String>,
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The outbox: counts by state and the latest messages (no bodies).
#[derive(Serialize, ToSchema)]
pub struct OutboxView {
    pub counts: OutboxCounts,
    pub messages: Vec<OutboxMessage>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxCounts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxMessage {
    pub id: i32,
    /// invitation, reminder, scorecard, …
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub next_attempt_at: String,
}

/// `GET /api/v1/outbox` (admin): the latest messages with their delivery state.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "scorecards",
    summary = "The mail outbox (admins)", params(OutboxQuery),
    responses((status = 200, description = "counts and the latest messages", body = OutboxView)))]
pub async fn outbox(
    state: State,
    user: CurrentUser,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AppError> {
    user.require_admin()?;
    let q = query.into_inner();
    if let Some(s) = &q.status {
        if !["queued", "sent", "failed"].contains(&s.as_str()) {
            return Err(AppError::field("status", "must be queued, sent or failed"));
        }
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::field("limit", "must be between 1 and 1000"));
    }
    let v = state
        .db(move |conn| {
            use crate::db::schema::outbox::dsl as o;
            let mut query = o::outbox.into_boxed();
            if let Some(s) = &q.status {
                query = query.filter(o::status.eq(s.clone()));
            }
            type Row = (
                i32,
                String,
                String,
                String,
                String,
                i32,
                Option<String>,
                chrono::NaiveDateTime,
                Option<chrono::NaiveDateTime>,
                chrono::NaiveDateTime,
            );
            let rows: Vec<Row> = query
                .order(o::id.desc())
                .limit(limit)
                .select((
                    o::id,
                    o::kind,
                    o::recipient,
                    o::subject,
                    o::status,
                    o::attempts,
                    o::last_error,
                    o::created_at,
                    o::sent_at,
                    o::next_attempt_at,
                ))
                .load(conn)?;
            let (mut queued, mut sent, mut failed) = (0i64, 0i64, 0i64);
            for (status, n) in o::outbox
                .group_by(o::status)
                .select((o::status, diesel::dsl::count_star()))
                .load::<(String, i64)>(conn)?
            {
                match status.as_str() {
                    "queued" => queued = n,
                    "sent" => sent = n,
                    _ => failed += n,
                }
            }
            let rfc = crate::kernel::time::rfc3339;
            Ok(OutboxView {
                counts: OutboxCounts {
                    queued,
                    sent,
                    failed,
                },
                messages: rows
                    .into_iter()
                    .map(
                        |(
                            id,
                            kind,
                            recipient,
                            subject,
                            status,
                            attempts,
                            last_error,
                            created,
                            sent_at,
                            next,
                        )| OutboxMessage {
                            id,
                            kind,
                            recipient,
                            subject,
                            status,
                            attempts,
                            last_error,
                            created_at: rfc(created),
                            sent_at: sent_at.map(rfc),
                            next_attempt_at: rfc(next),
                        },
                    )
                    .collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}
