//! Round scores as JSON and CSV, and the round's charts as SVG or PNG.

use crate::charts::{self, Chart};
use crate::domain::scores::{self, RoundResult};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// Loads and scores a round the user may read.
async fn result_for(state: &State, user: &CurrentUser, id: i32) -> Result<RoundResult, AppError> {
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    state
        .db(move |conn| scores::result_for(conn, &catalog, &actor, id))
        .await
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/scores", tag = "scores",
    summary = "Round scores (provisional while the round is open)", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "scores", body = crate::domain::scores::ScoresView)))]
pub async fn json(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let r = result_for(&state, &user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(r.view()))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/scores.csv", tag = "scores",
    summary = "Round scores as CSV (one row per function and indicator)", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "CSV", content_type = "text/csv", body = String)))]
pub async fn csv(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let r = result_for(&state, &user, id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"round-{id}-scores.csv\""),
        ))
        .body(crate::scoring::to_csv(&r.scores)))
}

/// `functions`, `response-rate` or `trend`, as `.svg` or `.png`.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/charts/{file}", tag = "scores",
    summary = "A round chart", params(("id" = i32, Path, description = "round id"),
        ("file" = String, Path, description = "functions, response-rate or trend, with .svg or .png")),
    responses((status = 200, description = "the chart", content(("image/svg+xml"), ("image/png")))))]
pub async fn chart(
    state: State,
    user: CurrentUser,
    path: web::Path<(i32, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, file) = path.into_inner();
    let (name, ext) = file.rsplit_once('.').ok_or_else(|| {
        AppError::not_found("charts are named functions, response-rate or trend, with .svg or .png")
    })?;
    if !matches!(ext, "svg" | "png") || !matches!(name, "functions" | "response-rate" | "trend") {
        return Err(AppError::not_found(
            "charts are named functions, response-rate or trend, with .svg or .png",
        ));
    }
    let r = result_for(&state, &user, id).await?;
    let chart = match name {
        "functions" => crate::domain::round_report::functions_chart(&state.catalog.current(), &r),
        "response-rate" => crate::domain::round_report::response_rate_chart(&r),
        _ => {
            let catalog = state.catalog.current();
            let round = r.round.clone();
            state
                .db(move |conn| crate::domain::round_report::trend_chart(conn, &catalog, &round))
                .await?
        }
    };
    render(&chart, ext)
}

pub fn render(chart: &Chart, ext: &str) -> Result<HttpResponse, AppError> {
    let resp = if ext == "svg" {
        let svg = charts::render_svg(chart)
            .map_err(|e| AppError::Internal(e.context("rendering a chart")))?;
        HttpResponse::Ok().content_type("image/svg+xml").body(svg)
    } else {
        let png = charts::render_png(chart)
            .map_err(|e| AppError::Internal(e.context("rendering a chart")))?;
        HttpResponse::Ok().content_type("image/png").body(png)
    };
    Ok(resp)
}
