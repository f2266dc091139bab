//! Action plans: follow-up actions agreed for indicators rated unsatisfactory or weak.

use crate::db::schema::action_items as ai;
use crate::db::{write_tx, DbConnection};
use crate::domain::rounds::manage::{round_for, Access};
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, Fields};
use crate::kernel::time::now;
use crate::kernel::vocab::ActionStatus;
use crate::surveys::model::Catalog;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

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
    #[diesel(deserialize_as = String)]
    pub status: ActionStatus,
    pub created_by: Option<i32>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl ActionItem {
    /// Not done and past its due date.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status != ActionStatus::Done && self.due_date.is_some_and(|d| d < today)
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
            status: self.status,
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
    pub status: ActionStatus,
    /// Not done and past its due date.
    pub overdue: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ActionList {
    pub actions: Vec<ActionView>,
}

pub fn list_for_round(conn: &mut DbConnection, round_id: i32) -> QueryResult<Vec<ActionItem>> {
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
    pub indicator: Option<String>,
    pub action: Option<String>,
    pub owner: Option<String>,
    /// YYYY-MM-DD; empty to clear.
    pub due_date: Option<String>,
    pub support_needed: Option<String>,
    /// open, in_progress or done.
    pub status: Option<String>,
}

struct Checked {
    indicator: Option<String>,
    action: Option<String>,
    owner: Option<String>,
    due_date: Option<Option<NaiveDate>>,
    support_needed: Option<String>,
    status: Option<ActionStatus>,
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
    let status = match b.status.as_deref().map(ActionStatus::parse) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            fields.insert(
                "status".into(),
                format!("use {}", ActionStatus::texts().join(", ")),
            );
            None
        }
    };
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
        status,
    })
}

fn indicators_of(catalog: &Catalog, framework: &str) -> Vec<String> {
    catalog
        .framework(framework)
        .map(|f| f.indicator_ids().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The action plan of a round the actor may read.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    round_id: i32,
) -> Result<Vec<ActionItem>, AppError> {
    let (round, _) = round_for(conn, actor, round_id, Access::Read)?;
    Ok(list_for_round(conn, round.id)?)
}

/// Creates an action in a round the actor manages.
pub fn create(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    round_id: i32,
    body: ActionBody,
) -> Result<ActionItem, AppError> {
    let (round, _) = round_for(conn, actor, round_id, Access::Manage)?;
    let c = check(body, &indicators_of(catalog, &round.framework), true)?;
    let actor = actor.id;
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
                ai::status.eq(c.status.unwrap_or(ActionStatus::Open).as_str()),
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
}

/// Changes the given fields of an action in a round the actor manages.
pub fn update(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    round_id: i32,
    action_id: i32,
    body: ActionBody,
) -> Result<ActionItem, AppError> {
    let (round, _) = round_for(conn, actor, round_id, Access::Manage)?;
    let c = check(body, &indicators_of(catalog, &round.framework), false)?;
    let actor = actor.id;
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
                ai::status.eq(item.status.as_str()),
                ai::updated_at.eq(now()),
            ))
            .execute(conn)?;
        crate::db::models::audit(
            conn,
            Some(actor),
            "action.update",
            &format!("action:{action_id}"),
            json!({"status": item.status.as_str()}),
        )?;
        Ok(ai::table
            .find(action_id)
            .select(ActionItem::as_select())
            .first(conn)?)
    })
}
