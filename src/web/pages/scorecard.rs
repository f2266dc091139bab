//! The global cluster view: the scorecard of a cluster on the web (SVG charts), with a
//! button for admins and the cluster's global leads to send it now.

use super::{check_form_csrf, to_login};
use crate::kernel::access::Role;
use crate::kernel::error::AppError;
use crate::web::auth::PageUser;
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

crate::web::routes::route_table! {
    "/clusters/{code}/scorecard" => { GET page },
    "/clusters/{code}/scorecard/send" => { POST send },
}

#[derive(Deserialize)]
pub struct PageQuery {
    period: Option<String>,
    sent: Option<String>,
}

async fn page(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let q = query.into_inner();
    let code = path.into_inner();
    let (catalog, actor, c) = (state.catalog.current(), user.actor.clone(), code.clone());
    let sc = state
        .db(move |conn| {
            crate::domain::scorecards::for_cluster(conn, &catalog, &actor, &c, q.period)
        })
        .await?;
    let period = sc.period.clone();
    let mut ctx = crate::domain::scorecards::context(&state.catalog.current(), &sc, &|name| {
        format!("/api/v1/clusters/{code}/scorecard/charts/{name}.svg?period={period}")
    });
    ctx["web_url"] = json!(crate::domain::scorecards::web_url("", &sc));
    ctx["base_url"] = json!("");
    let own_cluster = user.cluster_id == Some(sc.cluster.id);
    ctx["can_send"] =
        json!(user.role == Role::Admin || (user.role == Role::GlobalLead && own_cluster));
    ctx["csrf_token"] = json!(user.csrf);
    ctx["notice"] = match q.sent.as_deref() {
        Some("queued") => {
            json!("Queued: the scorecard goes to the cluster leads through the outbox.")
        }
        Some("skipped") => json!(
            "Not sent: it was already sent for this period, or the cluster has no lead emails."
        ),
        _ => serde_json::Value::Null,
    };
    let body = state.templates.render("scorecard", &ctx)?;
    // The scorecard is also an email, so its styles are inline: allowed here (no scripts).
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .body(body))
}

#[derive(Deserialize)]
pub struct SendForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    period: Option<String>,
}

async fn send(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    form: web::Form<SendForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let f = form.into_inner();
    check_form_csrf(&user, &f.csrf_token)?;
    let code = path.into_inner();
    let (app, actor) = (state.app.clone(), user.actor.clone());
    let (c, period) = (code.clone(), f.period.clone());
    let report = state
        .db(move |conn| {
            crate::domain::scorecards::send_now(conn, &app, &actor, Some(c), period, false)
        })
        .await?;
    let outcome = if report.queued.is_empty() {
        "skipped"
    } else {
        "queued"
    };
    let period = f.period.unwrap_or_default();
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/clusters/{code}/scorecard?period={period}&sent={outcome}"),
        ))
        .finish())
}
