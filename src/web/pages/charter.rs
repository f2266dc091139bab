//! The service-charter report of a global cluster: how its country clusters rate its
//! support (latest closed charter round, or the one asked for), its charter rounds, and
//! for its leads a form to start a round (inviting every country coordinator) or close one.

use crate::domain::charter::{self, CharterRequest};
use crate::kernel::error::AppError;
use crate::kernel::vocab::RoundState;
use crate::web::auth::PageUser;
use crate::web::pages::{check_form_csrf, html, to_login, user_json};
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

crate::web::routes::route_table! {
    "/clusters/{code}/charter" => { GET page, POST launch },
    "/clusters/{code}/charter/{id}/close" => { POST close },
}

#[derive(Deserialize)]
pub struct PageQuery {
    round: Option<String>,
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
    let round = match query.into_inner().round.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<i32>()
                .map_err(|_| AppError::field("round", "use a round number"))?,
        ),
    };
    let (catalog, actor, code) = (
        state.catalog.current(),
        user.actor.clone(),
        path.into_inner(),
    );
    let report = state
        .db(move |conn| charter::scores::report(conn, &catalog, &actor, &code, round))
        .await?;
    let catalog = state.catalog.current();
    let lang = report.cluster.language.clone();
    let now = crate::kernel::time::now();
    let rounds: Vec<_> = report
        .rounds
        .iter()
        .map(|r| {
            let state = r.effective_state(now);
            json!({"id": r.id, "title": if r.title.is_empty() { format!("#{}", r.id) } else { r.title.clone() },
                   "state": state, "open": state != RoundState::Closed,
                   "closes": crate::render::i18n::date(r.closes_at.date(), &lang)})
        })
        .collect();
    let result = report.result.as_ref().map(|r| {
        let mut c = crate::domain::scorecards::charter_context(&catalog, r, &lang);
        c["provisional"] = json!(r.round.effective_state(now) != RoundState::Closed);
        c["min_respondents"] = json!(r.min_respondents);
        c
    });
    let ctx = json!({
        "title": format!("Service charter · {}", report.cluster.name),
        "user": user_json(&user),
        "csrf_token": user.csrf,
        "cluster": {"code": report.cluster.code, "name": report.cluster.name},
        "result": result,
        "rounds": rounds,
        "can_manage": user.can_manage_charter(report.cluster.id),
    });
    Ok(html(state.templates.render("charter", &ctx)?))
}

#[derive(Deserialize)]
pub struct LaunchForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    closes_on: String,
    #[serde(default)]
    send: Option<String>,
}

async fn launch(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    form: web::Form<LaunchForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let f = form.into_inner();
    check_form_csrf(&user, &f.csrf_token)?;
    let req = CharterRequest {
        title: Some(f.title),
        opens_at: crate::domain::rounds::parse_time("opens_on", &f.opens_on)?,
        closes_at: crate::domain::rounds::parse_time("closes_on", &f.closes_on)?,
        surveys: None,
        remind_days_before: None,
    };
    let code = path.into_inner();
    let (app, actor, c, send) = (
        state.app.clone(),
        user.actor.clone(),
        code.clone(),
        f.send.is_some(),
    );
    let (round, _) = state
        .db(move |conn| charter::launch(conn, &app, &actor, &c, req, send))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/clusters/{code}/charter?round={}", round.id),
        ))
        .finish())
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf_token: String,
}

async fn close(
    state: State,
    user: PageUser,
    path: web::Path<(String, i32)>,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    check_form_csrf(&user, &form.csrf_token)?;
    let (code, id) = path.into_inner();
    let (actor, c) = (user.actor.clone(), code.clone());
    state
        .db(move |conn| charter::close_of(conn, &actor, &c, id))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/clusters/{code}/charter?round={id}"),
        ))
        .finish())
}
