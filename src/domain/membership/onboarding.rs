//! The onboarding checklist of a new member: the fixed items of
//! [`super::commitments::ONBOARDING`], each ticked (who, when) or not, per register entry.

use super::commitments::{onboarding_item, ONBOARDING};
use super::{entry_of, operation_for, Access};
use crate::db::models;
use crate::db::schema::{onboarding_ticks, users};
use crate::db::{write_tx, DbConnection};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::time::{now, rfc3339};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// One item of the checklist.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChecklistItem {
    /// cluster_approach, meetings, governance, tools or focal_point.
    pub item: String,
    pub label: String,
    pub done: bool,
    /// Who ticked it (email).
    pub by: Option<String>,
    /// RFC 3339, UTC.
    pub at: Option<String>,
}

/// A register entry's checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checklist {
    pub member: i32,
    pub items: Vec<ChecklistItem>,
}

/// Tick (or untick) one item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TickBody {
    /// cluster_approach, meetings, governance, tools or focal_point.
    pub item: String,
    pub done: bool,
}

/// The checklist of register entry `membership_id`, labels in `lang`.
pub fn items(
    conn: &mut DbConnection,
    membership_id: i32,
    lang: &str,
) -> QueryResult<Vec<ChecklistItem>> {
    let ticks: Vec<(String, Option<String>, NaiveDateTime)> = onboarding_ticks::table
        .left_join(users::table)
        .filter(onboarding_ticks::membership_id.eq(membership_id))
        .select((
            onboarding_ticks::item,
            users::email.nullable(),
            onboarding_ticks::ticked_at,
        ))
        .load(conn)?;
    Ok(ONBOARDING
        .iter()
        .map(|i| {
            let tick = ticks.iter().find(|(item, _, _)| item == i.id);
            ChecklistItem {
                item: i.id.to_string(),
                label: i.label(lang).to_string(),
                done: tick.is_some(),
                by: tick.and_then(|(_, by, _)| by.clone()),
                at: tick.map(|(_, _, at)| rfc3339(*at)),
            }
        })
        .collect())
}

/// The checklist of an entry, for those who may read the register.
pub fn checklist(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
) -> Result<Checklist, AppError> {
    let op = operation_for(conn, actor, slug, Access::Read)?;
    let (m, _) = entry_of(conn, &op, id)?;
    Ok(Checklist {
        member: m.id,
        items: items(conn, m.id, "en")?,
    })
}

/// Ticks or unticks one item (the operation's coordinators); unchanged when it already
/// was so.
pub fn tick(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
    b: TickBody,
) -> Result<Checklist, AppError> {
    let item = onboarding_item(b.item.trim()).ok_or_else(|| {
        AppError::field(
            "item",
            format!(
                "use one of: {}",
                ONBOARDING
                    .iter()
                    .map(|i| i.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    write_tx(conn, |conn| {
        let op = operation_for(conn, actor, slug, Access::Manage)?;
        let (m, _) = entry_of(conn, &op, id)?;
        super::lock_entry(conn, m.id)?;
        let ticked: bool = diesel::select(diesel::dsl::exists(
            onboarding_ticks::table
                .filter(onboarding_ticks::membership_id.eq(m.id))
                .filter(onboarding_ticks::item.eq(item.id)),
        ))
        .get_result(conn)?;
        if ticked != b.done {
            if b.done {
                diesel::insert_into(onboarding_ticks::table)
                    .values((
                        onboarding_ticks::membership_id.eq(m.id),
                        onboarding_ticks::item.eq(item.id),
                        onboarding_ticks::ticked_by.eq(Some(actor.id)),
                        onboarding_ticks::ticked_at.eq(now()),
                    ))
                    .execute(conn)?;
            } else {
                diesel::delete(
                    onboarding_ticks::table
                        .filter(onboarding_ticks::membership_id.eq(m.id))
                        .filter(onboarding_ticks::item.eq(item.id)),
                )
                .execute(conn)?;
            }
            models::audit(
                conn,
                Some(actor.id),
                if b.done {
                    "membership.onboarding.tick"
                } else {
                    "membership.onboarding.untick"
                },
                &format!("membership:{}", m.id),
                json!({"item": item.id}),
            )?;
        }
        Ok(Checklist {
            member: m.id,
            items: items(conn, m.id, "en")?,
        })
    })
}

/// Sets the whole checklist of an entry from a form: the items in `done` ticked, the
/// others not (only the changes are recorded).
pub fn set_all(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
    done: &[String],
) -> Result<Checklist, AppError> {
    if let Some(bad) = done.iter().find(|d| onboarding_item(d).is_none()) {
        return Err(AppError::field("items", format!("unknown item {bad:?}")));
    }
    write_tx(conn, |conn| {
        let mut out = None;
        for i in &ONBOARDING {
            let b = TickBody {
                item: i.id.to_string(),
                done: done.iter().any(|d| d == i.id),
            };
            out = Some(tick(conn, actor, slug, id, b)?);
        }
        out.ok_or_else(|| AppError::not_found("no checklist"))
    })
}
