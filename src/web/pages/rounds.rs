//! Coordinator pages for rounds: create a round, paste invitations, follow progress,
//! remind and close.

use crate::domain::membership::register::RegisterDraw;
use crate::domain::rounds::manage::{self, Access, RoundFields, RoundRequest};
use crate::domain::rounds::{self, InvitationInput};
use crate::kernel::error::AppError;
use crate::kernel::vocab::RoundState;
use crate::web::auth::{CurrentUser, PageUser};
use crate::web::pages::{check_form_csrf, html, to_login};
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

crate::web::routes::route_table! {
    "/rounds" => { POST create },
    "/rounds/{id}" => { GET show },
    "/rounds/{id}/invitations" => { POST invite },
    "/rounds/{id}/remind" => { POST remind },
    "/rounds/{id}/close" => { POST close },
}

/// Rounds of the operations a user can read, newest first, for the dashboard.
pub fn rounds_for(
    conn: &mut crate::db::DbConnection,
    user: &CurrentUser,
) -> Result<Vec<Value>, AppError> {
    let mut out = Vec::new();
    for (r, o) in manage::readable(conn, user, None)? {
        let p = rounds::progress(conn, &r)?;
        let mut j = rounds::round_json(&r, &o.slug);
        j["operation_name"] = Value::from(o.name.clone());
        j["progress"] = serde_json::to_value(p).unwrap_or(Value::Null);
        out.push(j);
    }
    Ok(out)
}

async fn page(
    state: &State,
    user: &CurrentUser,
    id: i32,
    flash: Option<Value>,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let (round, op, progress) = state
        .db(move |conn| {
            let (round, op) = manage::round_for(conn, &actor, id, Access::Read)?;
            let progress = rounds::progress(conn, &round)?;
            Ok((round, op, progress))
        })
        .await?;
    let manage = user.can_manage_operation(&op);
    let rate_pct = format!("{:.0}", progress.rate * 100.0);
    let progress = serde_json::to_value(progress).unwrap_or(Value::Null);
    let mut by = progress["by_org_type"].clone();
    let mut by_membership = progress["by_membership"].clone();
    for list in [&mut by, &mut by_membership] {
        if let Value::Array(items) = list {
            for i in items.iter_mut() {
                if let Some(rate) = i["rate"].as_f64() {
                    i["pct"] = Value::from(format!("{:.0}", rate * 100.0));
                }
            }
        }
    }
    let body = state.templates.render(
        "round",
        &json!({
            "title": format!("Round {} · {}", round.id, op.name),
            "user": {"email": user.email, "role": user.role.as_str()},
            "csrf_token": user.csrf,
            "round": rounds::round_json(&round, &op.slug),
            "operation": {"slug": op.slug, "name": op.name},
            "progress": progress,
            "rate_pct": rate_pct,
            "by_org_type": by,
            "by_membership": by_membership,
            "manage": manage && round.effective_state(crate::kernel::time::now()) != RoundState::Closed,
            "open": round.effective_state(crate::kernel::time::now()) != RoundState::Closed,
            "org_types": crate::kernel::vocab::OrgType::texts(),
            "flash": flash,
        }),
    )?;
    Ok(html(body))
}

async fn show(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    page(&state, &user, path.into_inner(), None).await
}

/// The round form: `surveys` is a set of checkboxes (sent once per ticked survey); none
/// ticked means the framework's surveys read from files.
#[derive(Default)]
pub struct RoundForm {
    csrf_token: String,
    operation: String,
    title: String,
    opens_on: String,
    closes_on: String,
    remind_days_before: String,
    surveys: Vec<String>,
}

impl RoundForm {
    fn parse(body: &[u8]) -> RoundForm {
        let mut f = RoundForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "csrf_token" => f.csrf_token = v,
                "operation" => f.operation = v,
                "title" => f.title = v,
                "opens_on" => f.opens_on = v,
                "closes_on" => f.closes_on = v,
                "remind_days_before" => f.remind_days_before = v,
                "surveys" if !v.trim().is_empty() => f.surveys.push(v.trim().to_string()),
                _ => {}
            }
        }
        f
    }
}

async fn create(state: State, user: PageUser, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let f = RoundForm::parse(&body);
    check_form_csrf(&user, &f.csrf_token)?;
    let remind = match f.remind_days_before.trim() {
        "" => None,
        s => Some(s.parse::<i32>().map_err(|_| {
            AppError::field("remind_days_before", "use a number of days from 1 to 60")
        })?),
    };
    let req = RoundRequest {
        operation: f.operation,
        framework: None,
        surveys: Some(f.surveys).filter(|s| !s.is_empty()),
        title: Some(f.title),
        opens_at: rounds::parse_time("opens_on", &f.opens_on)?,
        closes_at: rounds::parse_time("closes_on", &f.closes_on)?,
        remind_days_before: remind,
    };
    let names = RoundFields {
        opens_at: "opens_on",
        closes_at: "closes_on",
    };
    let (catalog, actor) = (state.catalog.current(), user.actor.clone());
    let round = state
        .db(move |conn| manage::create(conn, &catalog, &actor, req, names))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/rounds/{}", round.id)))
        .finish())
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    lines: String,
    #[serde(default)]
    send: Option<String>,
    /// "Invite every active member of the register" (the survey named by `members_survey`).
    #[serde(default)]
    members: Option<String>,
    /// …and the observers too.
    #[serde(default)]
    observers: Option<String>,
    #[serde(default)]
    members_survey: Option<String>,
}

/// One invitation per line: `email, organization, org_type, survey[, language]`
/// (commas, semicolons or tabs, so a spreadsheet paste works).
pub fn parse_lines(text: &str) -> Result<Vec<InvitationInput>, AppError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split([',', ';', '\t']).map(str::trim).collect();
        if parts.len() < 4 || parts.len() > 5 {
            return Err(AppError::field(
                "lines",
                format!(
                    "line {}: expected email, organization, org type, survey[, language]",
                    i + 1
                ),
            ));
        }
        out.push(InvitationInput {
            email: parts[0].to_string(),
            organization: parts[1].to_string(),
            org_type: parts[2].to_lowercase(),
            survey: parts[3].to_string(),
            language: parts
                .get(4)
                .filter(|s| !s.is_empty())
                .map(|s| s.to_string()),
        });
    }
    Ok(out)
}

async fn invite(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let f = form.into_inner();
    check_form_csrf(&user, &f.csrf_token)?;
    let id = path.into_inner();
    let draw = f.members.is_some().then(|| RegisterDraw {
        survey: f.members_survey.clone().unwrap_or_default(),
        observers: f.observers.is_some(),
        language: None,
    });
    let outcome = match parse_lines(&f.lines) {
        Ok(items) => {
            let (app, actor, send) = (state.app.clone(), user.actor.clone(), f.send.is_some());
            state
                .db(move |conn| {
                    manage::invite_with_register(conn, &app, &actor, id, items, draw, send)
                })
                .await
        }
        Err(e) => Err(e),
    };
    let flash = match outcome {
        Ok(created) => json!({"ok": true, "created_count": created.len(), "created": created}),
        Err(AppError::BadRequest { message, .. })
        | Err(AppError::Unprocessable { message, .. }) => json!({"error": message}),
        Err(AppError::Conflict(m)) | Err(AppError::Gone(m)) => json!({"error": m}),
        Err(e) => return Err(e),
    };
    page(&state, &user, id, Some(flash)).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

async fn remind(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    check_form_csrf(&user, &form.csrf_token)?;
    let id = path.into_inner();
    let (app, actor) = (state.app.clone(), user.actor.clone());
    let n = state
        .db(move |conn| manage::remind(conn, &app, &actor, id))
        .await?;
    page(
        &state,
        &user,
        id,
        Some(json!({"ok": true, "message": format!("{n} reminder(s) queued")})),
    )
    .await
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf_token: String,
    /// The "I understand" box of the close form.
    #[serde(default)]
    confirm: String,
}

async fn close(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    check_form_csrf(&user, &form.csrf_token)?;
    let id = path.into_inner();
    let actor = user.actor.clone();
    let confirmed = form.confirm == "yes";
    state
        .db(move |conn| {
            manage::round_for(conn, &actor, id, Access::Manage)?;
            if !confirmed {
                return Err(AppError::field(
                    "confirm",
                    "closing cannot be undone: tick the box that says you understand, then close",
                ));
            }
            manage::transition(conn, &actor, id, RoundState::Closed)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/rounds/{id}")))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_lines_accept_commas_tabs_and_semicolons() {
        let items = parse_lines("# header\na@x.org, NGO A, INGO, ccpm-partner\n\nb@y.org\tNGO B\tnngo\tccpm-partner\tar\nc@z.org;UN;un;ccpm-partner").unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].org_type, "ingo");
        assert_eq!(items[1].language.as_deref(), Some("ar"));
        let e = parse_lines("a@x.org, only two").err().unwrap();
        assert!(e.to_string().contains("line 1"));
    }
}
