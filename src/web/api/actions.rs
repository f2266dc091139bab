//! Action plans: follow-up actions agreed for indicators rated unsatisfactory or weak.

use crate::db::schema::action_items as ai;
use crate::db::write_tx;
use crate::kernel::error::{AppError, Fields};
use crate::kernel::time::now;
use crate::web::api::rounds::round_for;
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

pub const STATUSES: [&str; 3] = ["open", "in_progress", "done"];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ai)]
pub struct ActionItem {
    pub id: i32,
    pub round_id: i32,
    pub indicator: String,
    pub action: String,
    pub owner: String,
    pub due_date: Option<NaiveDate>,
    pub support_needed: String,
    pub status: String,
    pub created_by: Option<i32>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl ActionItem {
    /// Not done and past its due date.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status != "done" && self.due_date.is_some_and(|d| d < today)
    }

    pub fn view(&self) -> ActionView {
        let today = chrono::Utc::now().date_naive();
        ActionView {
            id: self.id,
            round: self.round_id,
            indicator: self.indicator.clone(),
            action: self.action.clone(),
            owner: self.owner.clone(),
            due_date: self.due_date.map(|d| d.to_string()),
            support_needed: self.support_needed.clone(),
            status: self.status.clone(),
            overdue: self.overdue(today),
            created_at: crate::kernel::time::rfc3339(self.created_at),
            updated_at: crate::kernel::time::rfc3339(self.updated_at),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }
}

/// A follow-up action agreed for an indicator.
#[derive(Serialize, ToSchema)]
pub struct ActionView {
    pub id: i32,
    pub round: i32,
    /// An indicator id of the round's framework.
    pub indicator: String,
    pub action: String,
    pub owner: String,
    /// YYYY-MM-DD.
    pub due_date: Option<String>,
    pub support_needed: String,
    /// open, in_progress or done.
    pub status: String,
    /// Not done and past its due date.
    pub overdue: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ActionList {
    pub actions: Vec<ActionView>,
}

pub fn list_for_round(
    conn: &mut crate::db::DbConnection,
    round_id: i32,
) -> QueryResult<Vec<ActionItem>> {
    ai::table
        .filter(ai::round_id.eq(round_id))
        .order((ai::indicator, ai::id))
        .select(ActionItem::as_select())
        .load(conn)
}

/// An action to create (indicator, action and owner required) or the fields to change.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    indicator: Option<String>,
    action: Option<String>,
    owner: Option<String>,
    due_date: Option<String>,
    support_needed: Option<String>,
    status: Option<String>,
}

struct Checked {
    indicator: Option<String>,
    action: Option<String>,
    owner: Option<String>,
    due_date: Option<Option<NaiveDate>>,
    support_needed: Option<String>,
    status: Option<String>,
}

fn check(b: ActionBody, indicators: &[String], creating: bool) -> Result<Checked, AppError> {
    let mut fields = Fields::new();
    let text =
        |fields: &mut Fields, name: &str, v: &Option<String>, required: bool, max: usize| match v {
            None if required => {
                fields.insert(name.into(), "is required".into());
            }
            Some(s) if required && s.trim().is_empty() => {
                fields.insert(name.into(), "must not be empty".into());
            }
            Some(s) if s.chars().count() > max => {
                fields.insert(name.into(), format!("at most {max} characters"));
            }
            _ => {}
        };
    text(&mut fields, "indicator", &b.indicator, creating, 20);
    text(&mut fields, "action", &b.action, creating, 2000);
    text(&mut fields, "owner", &b.owner, creating, 200);
    text(
        &mut fields,
        "support_needed",
        &b.support_needed,
        false,
        2000,
    );
    if let Some(i) = &b.indicator {
        if !indicators.contains(i) {
            fields.insert(
                "indicator".into(),
                format!(
                    "not an indicator of this round's framework ({})",
                    indicators.join(", ")
                ),
            );
        }
    }
    if let Some(s) = &b.status {
        if !STATUSES.contains(&s.as_str()) {
            fields.insert("status".into(), "use open, in_progress or done".into());
        }
    }
    let due_date = match &b.due_date {
        None => None,
        Some(s) if s.trim().is_empty() => Some(None),
        Some(s) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => Some(Some(d)),
            Err(_) => {
                fields.insert("due_date".into(), "use a date YYYY-MM-DD".into());
                None
            }
        },
    };
    crate::kernel::error::fields_result(fields)?;
    Ok(Checked {
        indicator: b.indicator,
        action: b.action.map(|s| s.trim().to_string()),
        owner: b.owner.map(|s| s.trim().to_string()),
        due_date,
        support_needed: b.support_needed.map(|s| s.trim().to_string()),
        status: b.status,
    })
}

fn indicators_of(state: &State, framework: &str) -> Vec<String> {
    state
        .catalog
        .framework(framework)
        .map(|f| f.indicator_ids().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Creates an action (shared by the API and the report page's form).
pub async fn create_action(
    state: &State,
    user: &CurrentUser,
    round_id: i32,
    body: ActionBody,
) -> Result<ActionItem, AppError> {
    let (round, _) = round_for(state, user, round_id, true).await?;
    let c = check(body, &indicators_of(state, &round.framework), true)?;
    let actor = user.id;
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let t = now();
                let id: i32 = diesel::insert_into(ai::table)
                    .values((
                        ai::round_id.eq(round.id),
                        ai::indicator.eq(c.indicator.unwrap_or_default()),
                        ai::action.eq(c.action.unwrap_or_default()),
                        ai::owner.eq(c.owner.unwrap_or_default()),
                        ai::due_date.eq(c.due_date.flatten()),
                        ai::support_needed.eq(c.support_needed.unwrap_or_default()),
                        ai::status.eq(c.status.unwrap_or_else(|| "open".into())),
                        ai::created_by.eq(Some(actor)),
                        ai::created_at.eq(t),
                        ai::updated_at.eq(t),
                    ))
                    .returning(ai::id)
                    .get_result(conn)?;
                crate::db::models::audit(
                    conn,
                    Some(actor),
                    "action.create",
                    &format!("action:{id}"),
                    json!({"round": round.id}),
                )?;
                Ok(ai::table
                    .find(id)
                    .select(ActionItem::as_select())
                    .first(conn)?)
            })
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/rounds/{id}/actions", tag = "scores",
    summary = "Agree an action (the operation's coordinators)", params(("id" = i32, Path, description = "round id")),
    request_body = ActionBody,
    responses((status = 201, description = "created", body = ActionView)))]
pub async fn create(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
    body: crate::web::api::JsonObject<ActionBody>,
) -> Result<HttpResponse, AppError> {
    let item = create_action(&state, &user, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(item.view()))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/actions", tag = "scores",
    summary = "The round's action plan", params(("id" = i32, Path, description = "round id")),
    responses((status = 200, description = "actions", body = ActionList)))]
pub async fn list(
    state: State,
    user: CurrentUser,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (round, _) = round_for(&state, &user, path.into_inner(), false).await?;
    let items = state
        .db(move |conn| Ok(list_for_round(conn, round.id)?))
        .await?;
    Ok(HttpResponse::Ok().json(ActionList {
        actions: items.iter().map(ActionItem::view).collect(),
    }))
}

#[utoipa::path(patch, path = "/api/v1/rounds/{id}/actions/{action}", tag = "scores",
    summary = "Change an action (fields given only)",
    params(("id" = i32, Path, description = "round id"), ("action" = i32, Path, description = "action id")),
    request_body = ActionBody,
    responses((status = 200, description = "the action", body = ActionView)))]
pub async fn update(
    state: State,
    user: CurrentUser,
    path: web::Path<(i32, i32)>,
    body: crate::web::api::JsonObject<ActionBody>,
) -> Result<HttpResponse, AppError> {
    let (round_id, action_id) = path.into_inner();
    let item = update_action(&state, &user, round_id, action_id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(item.view()))
}

pub async fn update_action(
    state: &State,
    user: &CurrentUser,
    round_id: i32,
    action_id: i32,
    body: ActionBody,
) -> Result<ActionItem, AppError> {
    let (round, _) = round_for(state, user, round_id, true).await?;
    let c = check(body, &indicators_of(state, &round.framework), false)?;
    let actor = user.id;
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let mut item: ActionItem = ai::table
                    .find(action_id)
                    .filter(ai::round_id.eq(round.id))
                    .select(ActionItem::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| {
                        AppError::not_found(format!("no action {action_id} in round {}", round.id))
                    })?;
                if let Some(v) = c.indicator {
                    item.indicator = v;
                }
                if let Some(v) = c.action {
                    item.action = v;
                }
                if let Some(v) = c.owner {
                    item.owner = v;
                }
                if let Some(v) = c.due_date {
                    item.due_date = v;
                }
                if let Some(v) = c.support_needed {
                    item.support_needed = v;
                }
                if let Some(v) = c.status {
                    item.status = v;
                }
                if item.action.is_empty() || item.owner.is_empty() {
                    return Err(AppError::field(
                        "action",
                        "action and owner must not be empty",
                    ));
                }
                diesel::update(ai::table.find(action_id))
                    .set((
                        ai::indicator.eq(&item.indicator),
                        ai::action.eq(&item.action),
                        ai::owner.eq(&item.owner),
                        ai::due_date.eq(item.due_date),
                        ai::support_needed.eq(&item.support_needed),
                        ai::status.eq(&item.status),
                        ai::updated_at.eq(now()),
                    ))
                    .execute(conn)?;
                crate::db::models::audit(
                    conn,
                    Some(actor),
                    "action.update",
                    &format!("action:{action_id}"),
                    json!({"status": item.status}),
                )?;
                Ok(ai::table
                    .find(action_id)
                    .select(ActionItem::as_select())
                    .first(conn)?)
            })
        })
        .await
}
