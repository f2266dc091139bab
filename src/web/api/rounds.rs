//! Rounds, invitations, progress and responses over JSON.

use crate::db::models::{self, Operation, Round};
use crate::db::schema::{operations, rounds as rounds_t};
use crate::error::{AppError, Fields};
use crate::rounds::{self, InvitationInput, NewRoundInput, Submitted};
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Loads a round and its operation, checking read (or manage) access.
pub async fn round_for(
    state: &State,
    user: &CurrentUser,
    id: i32,
    manage: bool,
) -> Result<(Round, Operation), AppError> {
    let user = user.clone();
    state
        .db(move |conn| {
            let round = models::round_by_id(conn, id)?
                .ok_or_else(|| AppError::not_found(format!("no round with id {id}")))?;
            let op = models::operation_by_id(conn, round.operation_id)?;
            let allowed = if manage {
                user.can_manage_operation(&op)
            } else {
                user.can_read_operation(&op)
            };
            if !allowed {
                return Err(AppError::forbidden());
            }
            Ok((round, op))
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundBody {
    operation: String,
    framework: String,
    surveys: Vec<String>,
    opens_at: String,
    closes_at: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    remind_days_before: Option<i32>,
}

pub async fn create(
    state: State,
    user: CurrentUser,
    body: web::Json<RoundBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let opens_at = rounds::parse_time("opens_at", &b.opens_at)?;
    let closes_at = rounds::parse_time("closes_at", &b.closes_at)?;
    let mut fields = Fields::new();
    if closes_at <= opens_at {
        fields.insert("closes_at".into(), "must be after opens_at".into());
    }
    if closes_at <= crate::db::now() {
        fields.insert("closes_at".into(), "must be in the future".into());
    }
    if let Some(d) = b.remind_days_before {
        if !(1..=60).contains(&d) {
            fields.insert(
                "remind_days_before".into(),
                "use a number of days from 1 to 60".into(),
            );
        }
    }
    if b.title.as_deref().is_some_and(|t| t.chars().count() > 200) {
        fields.insert("title".into(), "at most 200 characters".into());
    }
    crate::error::fields_result(fields)?;
    rounds::check_round_definitions(&state.catalog, &b.framework, &b.surveys)?;
    let actor = user.clone();
    let slug = b.operation.clone();
    let round = state
        .db(move |conn| {
            let op = models::operation_by_slug(conn, &slug)?.ok_or_else(|| {
                AppError::field("operation", format!("no operation with slug {slug:?}"))
            })?;
            if !actor.can_manage_operation(&op) {
                return Err(AppError::Forbidden(
                    "only the operation's coordinators (or an admin) can create rounds".into(),
                ));
            }
            rounds::create_round(
                conn,
                NewRoundInput {
                    operation_id: op.id,
                    framework: b.framework,
                    surveys: b.surveys,
                    title: b.title.unwrap_or_default().trim().to_string(),
                    opens_at,
                    closes_at,
                    remind_days_before: b.remind_days_before,
                    created_by: actor.id,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(rounds::round_json(&round, &b.operation)))
}

#[derive(Deserialize)]
pub struct RoundsQuery {
    operation: Option<String>,
}

pub async fn list(
    state: State,
    user: CurrentUser,
    query: web::Query<RoundsQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner().operation;
    let items = state
        .db(move |conn| {
            let mut q = rounds_t::table
                .inner_join(operations::table)
                .select((Round::as_select(), Operation::as_select()))
                .order(rounds_t::id.desc())
                .into_boxed();
            if let Some(slug) = &filter {
                q = q.filter(operations::slug.eq(slug));
            }
            let rows: Vec<(Round, Operation)> = q.load(conn)?;
            Ok(rows
                .into_iter()
                .filter(|(_, o)| user.can_read_operation(o))
                .map(|(r, o)| rounds::round_json(&r, &o.slug))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "rounds": items })))
}

pub async fn get(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, path.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(rounds::round_json(&round, &op.slug)))
}

async fn transition(
    state: State,
    user: CurrentUser,
    id: i32,
    to: &'static str,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, id, true).await?;
    let actor = user.id;
    let updated = state
        .db(move |conn| rounds::set_state(conn, &round, to, actor))
        .await?;
    Ok(HttpResponse::Ok().json(rounds::round_json(&updated, &op.slug)))
}

pub async fn close(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    transition(state, user, path.into_inner(), "closed").await
}

pub async fn open(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    transition(state, user, path.into_inner(), "open").await
}

pub async fn progress(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (round, _) = round_for(&state, &user, path.into_inner(), false).await?;
    let p = state
        .db(move |conn| rounds::progress(conn, round.id))
        .await?;
    Ok(HttpResponse::Ok().json(p))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationItem {
    email: String,
    organization: String,
    org_type: String,
    survey: String,
    #[serde(default)]
    language: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationsBody {
    invitations: Vec<InvitationItem>,
    #[serde(default)]
    send: bool,
}

pub async fn invite(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: web::Json<InvitationsBody>,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, path.into_inner(), true).await?;
    let b = body.into_inner();
    let items: Vec<InvitationInput> = b
        .invitations
        .into_iter()
        .map(|i| InvitationInput {
            email: i.email,
            organization: i.organization,
            org_type: i.org_type,
            survey: i.survey,
            language: i.language,
        })
        .collect();
    let created =
        crate::invitations::create_and_send(&state, round, op, items, b.send, user.id).await?;
    Ok(HttpResponse::Created().json(json!({ "invitations": created })))
}

pub async fn remind(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (round, op) = round_for(&state, &user, path.into_inner(), true).await?;
    if round.effective_state(crate::db::now()) != "open" {
        return Err(AppError::Conflict(
            "reminders go out only while the round is open".into(),
        ));
    }
    let n = crate::invitations::send_reminders(&state, round, op, Some(user.id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "reminded": n })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    token: String,
    id: String,
    #[serde(default)]
    language: Option<String>,
    answers: Map<String, Value>,
}

/// `POST /api/v1/responses`: authenticated by the invitation token alone.
pub async fn submit(state: State, body: web::Json<ResponseBody>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let catalog = state.catalog.clone();
    let result = state
        .db(move |conn| {
            let language = match b.language {
                Some(l) => l,
                None => {
                    let (inv, _) = rounds::invitation_for_token(conn, &b.token)?;
                    catalog
                        .survey(&inv.survey_id)
                        .map(|s| s.default_language().to_string())
                        .unwrap_or_else(|| "en".into())
                }
            };
            rounds::submit(conn, &catalog, &b.token, &b.id, &language, &b.answers)
        })
        .await?;
    Ok(match result {
        Submitted::Created(v) => {
            state
                .metrics
                .response_submitted(crate::web::metrics::Via::Api);
            HttpResponse::Created().json(v)
        }
        Submitted::Replayed(v) => HttpResponse::Ok().json(v),
    })
}
