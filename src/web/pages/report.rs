//! The round report page (coordinators and the cluster's global leads): scores, charts,
//! trend, lowest questions and the action plan. Printable.

use crate::domain::actions::{self, ActionBody};
use crate::kernel::error::AppError;
use crate::kernel::vocab::{ActionStatus, RoundState};
use crate::web::auth::PageUser;
use crate::web::pages::{check_form_csrf, html, to_login};
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

crate::web::routes::route_table! {
    "/rounds/{id}/report" => { GET show },
    "/rounds/{id}/actions" => { POST add_action },
    "/rounds/{id}/actions/{action}" => { POST set_status },
}

async fn show(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let id = path.into_inner();
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let (r, items, open) = state
        .db(move |conn| {
            let r = crate::domain::scores::result_for(conn, &catalog, &actor, id)?;
            let items = actions::list_for_round(conn, r.round.id)?;
            let open = crate::domain::round_report::open_answers(conn, &catalog, &r.round)?;
            Ok((r, items, open))
        })
        .await?;
    let manage = user.can_manage_operation(&r.operation);
    let fw = state.catalog.files().framework(&r.round.framework);
    let indicators: Vec<String> = fw
        .map(|f| f.indicator_ids().map(str::to_string).collect())
        .unwrap_or_default();
    let weak: Vec<String> = r
        .scores
        .functions
        .iter()
        .flat_map(|f| f.indicators.iter())
        .filter(|i| {
            matches!(
                i.status,
                crate::scoring::Status::Unsatisfactory | crate::scoring::Status::Weak
            )
        })
        .map(|i| i.id.clone())
        .collect();
    let state_str = r.round.effective_state(crate::kernel::time::now());
    let body = state.templates.render(
        "report",
        &json!({
            "title": format!("Report · round {}", r.round.id),
            "user": {"email": user.email, "role": user.role.as_str()},
            "csrf_token": user.csrf,
            "round": crate::domain::rounds::round_json(&r.round, &r.operation.slug),
            "operation": {"slug": r.operation.slug, "name": r.operation.name},
            "provisional": state_str != RoundState::Closed,
            "progress": r.progress,
            "rate_pct": format!("{:.0}", r.progress.rate * 100.0),
            "thresholds": fw.map(|f| json!(f.thresholds)),
            "report": crate::domain::round_report::page_data(&state.catalog.current(), &r),
            "actions": items.iter().map(|i| i.to_json()).collect::<Vec<_>>(),
            "statuses": ActionStatus::texts(),
            "indicators": indicators,
            "weak": weak,
            "manage": manage,
            "open": open,
        }),
    )?;
    Ok(html(body))
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    indicator: String,
    action: String,
    owner: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    support_needed: String,
}

async fn add_action(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let f = form.into_inner();
    check_form_csrf(&user, &f.csrf_token)?;
    let id = path.into_inner();
    let body = ActionBody {
        indicator: Some(f.indicator),
        action: Some(f.action),
        owner: Some(f.owner),
        due_date: Some(f.due_date),
        support_needed: Some(f.support_needed),
        status: None,
    };
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    state
        .db(move |conn| actions::create(conn, &catalog, &actor, id, body))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/rounds/{id}/report")))
        .finish())
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf_token: String,
    status: String,
}

async fn set_status(
    state: State,
    user: PageUser,
    path: web::Path<(i32, i32)>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let f = form.into_inner();
    check_form_csrf(&user, &f.csrf_token)?;
    let (id, action) = path.into_inner();
    let body = ActionBody {
        status: Some(f.status),
        ..ActionBody::default()
    };
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    state
        .db(move |conn| actions::update(conn, &catalog, &actor, id, action, body))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/rounds/{id}/report")))
        .finish())
}
