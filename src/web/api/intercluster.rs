//! The inter-cluster view of a country, the quarterly action-plan progress report, and the
//! yearly consolidated report over JSON (`domain::intercluster`).

use crate::domain::intercluster::consolidated::{self, ActionPlanReport, ConsolidatedReport};
use crate::domain::intercluster::{self, CountryView};
use crate::kernel::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

#[utoipa::path(get, path = "/api/v1/countries/{country}", tag = "intercluster",
    summary = "Every cluster of a country side by side, and the gaps across them",
    params(("country" = String, Path, description = "ISO 3166-1 alpha-2 code, e.g. YE")),
    responses((status = 200, description = "the country view", body = CountryView)))]
pub async fn country(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (country, catalog, actor) = (
        path.into_inner(),
        state.catalog.current(),
        user.actor.clone(),
    );
    let view = state
        .db(move |conn| intercluster::country_view(conn, &catalog, &actor, &country))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarterQuery {
    /// `YYYY-Qn` (default: this quarter).
    quarter: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/countries/{country}/action-plan", tag = "intercluster",
    summary = "The quarterly action-plan progress report of a country",
    params(("country" = String, Path, description = "ISO 3166-1 alpha-2 code"), QuarterQuery),
    responses((status = 200, description = "the report", body = ActionPlanReport)))]
pub async fn action_plan(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<QuarterQuery>,
) -> Result<HttpResponse, AppError> {
    let (country, actor, quarter) = (
        path.into_inner(),
        user.actor.clone(),
        query.into_inner().quarter,
    );
    let report = state
        .db(move |conn| consolidated::action_plan(conn, &actor, &country, quarter.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsolidatedQuery {
    /// The year (default: this year).
    #[param(minimum = 2000, maximum = 2100)]
    year: Option<i32>,
    /// One global cluster's code (default: across clusters).
    cluster: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/consolidated", tag = "intercluster",
    summary = "The yearly consolidated report, per global cluster or across clusters",
    params(ConsolidatedQuery),
    responses((status = 200, description = "the report", body = ConsolidatedReport)))]
pub async fn consolidated_report(
    state: State,
    user: CurrentUser,
    query: web::Query<ConsolidatedQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let report = state
        .db(move |conn| {
            consolidated::consolidated(conn, &catalog, &actor, q.year, q.cluster.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
