//! The round report page (coordinators and the cluster's global leads): scores, charts,
//! trend, lowest questions and the action plan. Printable.

use crate::kernel::error::AppError;
use crate::web::api::actions::{self, ActionBody};
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
    let r = crate::web::api::scores::result_for(&state, &user, id).await?;
    let manage = user.can_manage_operation(&r.operation);
    let rid = r.round.id;
    let items = state
        .db(move |conn| Ok(actions::list_for_round(conn, rid)?))
        .await?;
    let fw = state.catalog.framework(&r.round.framework);
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
            "provisional": state_str != "closed",
            "progress": r.progress,
            "rate_pct": format!("{:.0}", r.progress.rate * 100.0),
            "thresholds": fw.map(|f| json!(f.thresholds)),
            "report": crate::domain::report::page_data(&state.catalog, &r),
            "actions": items.iter().map(|i| i.to_json()).collect::<Vec<_>>(),
            "statuses": actions::STATUSES,
            "indicators": indicators,
            "weak": weak,
            "manage": manage,
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
    let body: ActionBody = serde_json::from_value(json!({
        "indicator": f.indicator, "action": f.action, "owner": f.owner,
        "due_date": f.due_date, "support_needed": f.support_needed,
    }))
    .map_err(|e| AppError::bad_request(e.to_string()))?;
    actions::create_action(&state, &user, id, body).await?;
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
    let body: ActionBody = serde_json::from_value(json!({"status": f.status}))
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    actions::update_action(&state, &user, id, action, body).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/rounds/{id}/report")))
        .finish())
}
