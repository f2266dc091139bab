//! The inter-cluster pages: a country's clusters side by side (`/countries/{country}`), the
//! quarterly action-plan progress report to the country team and the yearly consolidated
//! report, both printable (`templates/static/app.css`, print rules).

use crate::domain::intercluster::{self, consolidated};
use crate::kernel::error::AppError;
use crate::web::auth::PageUser;
use crate::web::pages::{html, to_login, user_json};
use crate::web::State;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

crate::web::routes::route_table! {
    "/countries/{country}" => { GET country },
    "/countries/{country}/action-plan" => { GET action_plan },
    "/reports/consolidated" => { GET consolidated_page },
}

fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.0}%")).unwrap_or_else(|| "–".into())
}

async fn country(
    state: State,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let (catalog, actor, c) = (
        state.catalog.current(),
        user.actor.clone(),
        path.into_inner(),
    );
    let view = state
        .db(move |conn| intercluster::country_view(conn, &catalog, &actor, &c))
        .await?;
    let mut v = serde_json::to_value(&view).unwrap_or_default();
    // The function columns: the first framework's functions in the view.
    let columns: Vec<_> = view
        .operations
        .iter()
        .find_map(|o| o.round.as_ref())
        .map(|r| {
            r.functions
                .iter()
                .map(|f| json!({"id": f.id, "title": f.title}))
                .collect()
        })
        .unwrap_or_default();
    if let Some(ops) = v["operations"].as_array_mut() {
        for (o, src) in ops.iter_mut().zip(&view.operations) {
            o["aap"]["ack"] = json!(pct(src.aap.acknowledged_within_sla_pct));
            o["aap"]["closed"] = json!(pct(src.aap.closed_pct));
            o["aap"]["satisfied"] = json!(pct(src.aap.satisfied_pct));
            if let Some(r) = &src.round {
                o["round"]["overall"] = json!(r.overall_score.map(|s| format!("{s:.0}")));
                o["round"]["cells"] = json!(r
                    .functions
                    .iter()
                    .map(|f| json!({"status": f.status, "score": f.score.map(|s| format!("{s:.0}")).unwrap_or_else(|| "–".into())}))
                    .collect::<Vec<_>>());
            }
        }
    }
    let ctx = json!({
        "title": format!("Clusters in {}", view.country),
        "user": user_json(&user),
        "csrf_token": user.csrf,
        "view": v,
        "columns": columns,
        "span": columns.len() + 1,
        "quarter": consolidated::quarter_of(crate::kernel::time::now().date()),
    });
    Ok(html(state.templates.render("country", &ctx)?))
}

#[derive(Deserialize)]
pub struct QuarterQuery {
    quarter: Option<String>,
}

async fn action_plan(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    query: web::Query<QuarterQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let (actor, c, q) = (
        user.actor.clone(),
        path.into_inner(),
        query.into_inner().quarter,
    );
    let report = state
        .db(move |conn| consolidated::action_plan(conn, &actor, &c, q.as_deref()))
        .await?;
    let ctx = json!({
        "title": format!("Action-plan progress · {} · {}", report.country, report.quarter),
        "user": user_json(&user),
        "csrf_token": user.csrf,
        "report": report,
    });
    Ok(html(state.templates.render("action_plan", &ctx)?))
}

#[derive(Deserialize)]
pub struct ConsolidatedQuery {
    year: Option<String>,
    cluster: Option<String>,
}

async fn consolidated_page(
    state: State,
    user: PageUser,
    query: web::Query<ConsolidatedQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let q = query.into_inner();
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => Some(
            y.parse::<i32>()
                .map_err(|_| AppError::field("year", "use a year such as 2026"))?,
        ),
    };
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let cluster = q.cluster.clone();
    let report = state
        .db(move |conn| {
            consolidated::consolidated(conn, &catalog, &actor, year, cluster.as_deref())
        })
        .await?;
    let mut r = serde_json::to_value(&report).unwrap_or_default();
    r["share"] = json!(pct(Some(report.ccpm_share * 100.0)));
    r["done"] = json!(pct(report.actions.done_pct));
    if let Some(cs) = r["by_cluster"].as_array_mut() {
        for (c, src) in cs.iter_mut().zip(&report.by_cluster) {
            c["share"] = json!(pct(Some(src.ccpm_share * 100.0)));
        }
    }
    if let Some(fs) = r["functions"].as_array_mut() {
        for (f, src) in fs.iter_mut().zip(&report.functions) {
            f["average"] = json!(src
                .average_score
                .map(|s| format!("{s:.0}"))
                .unwrap_or_else(|| "–".into()));
        }
    }
    if let Some(os) = r["operations"].as_array_mut() {
        for (o, src) in os.iter_mut().zip(&report.operations) {
            o["overall"] = json!(src
                .overall_score
                .map(|s| format!("{s:.0}"))
                .unwrap_or_else(|| "–".into()));
        }
    }
    let ctx = json!({
        "title": format!("Consolidated report {}", report.year),
        "user": user_json(&user),
        "csrf_token": user.csrf,
        "report": r,
    });
    Ok(html(state.templates.render("consolidated", &ctx)?))
}
