//! Reading the audit log (admins only): newest first, filtered by who acted, what they did
//! and a range of days, a page at a time. Entries are written by `db::models::audit`.

use crate::db::models;
use crate::db::schema::{audit_log, users};
use crate::db::DbConnection;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::time::rfc3339;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

/// Entries per page.
pub const PAGE_SIZE: i64 = 50;

/// What to show. `actor` is an email; `"system"` means acts without a person (the CLI,
/// the scheduler, someone asking for a reset link).
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// 1-based.
    pub page: i64,
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub id: i32,
    /// RFC 3339, UTC.
    pub at: String,
    /// The actor's email; absent for the system.
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    /// JSON text.
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub page: i64,
    pub has_more: bool,
    /// Every action recorded so far, for the filter's choices.
    pub actions: Vec<String>,
}

fn day_start(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).expect("midnight exists")
}

pub fn search(conn: &mut DbConnection, actor: &Actor, f: &Filters) -> Result<Page, AppError> {
    actor.require_admin()?;
    let page = f.page.clamp(1, 1_000_000);
    let mut q = audit_log::table
        .left_join(users::table)
        .select((
            audit_log::id,
            audit_log::created_at,
            users::email.nullable(),
            audit_log::action,
            audit_log::target,
            audit_log::detail,
        ))
        .order(audit_log::id.desc())
        .into_boxed();
    match f.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => {}
        Some("system") => q = q.filter(audit_log::actor_user_id.is_null()),
        Some(email) => {
            let id = models::user_by_email(conn, email)?
                .map(|u| u.id)
                .unwrap_or(-1);
            q = q.filter(audit_log::actor_user_id.eq(id));
        }
    }
    if let Some(a) = f.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::action.eq(a.to_string()));
    }
    if let Some(d) = f.from {
        q = q.filter(audit_log::created_at.ge(day_start(d)));
    }
    if let Some(d) = f.to.and_then(|d| d.succ_opt()) {
        q = q.filter(audit_log::created_at.lt(day_start(d)));
    }
    let rows: Vec<(i32, NaiveDateTime, Option<String>, String, String, String)> = q
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
        .load(conn)?;
    let has_more = rows.len() as i64 > PAGE_SIZE;
    let entries = rows
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|(id, at, actor, action, target, detail)| Entry {
            id,
            at: rfc3339(at),
            actor,
            action,
            target,
            detail,
        })
        .collect();
    let actions: Vec<String> = audit_log::table
        .select(audit_log::action)
        .distinct()
        .order(audit_log::action)
        .load(conn)?;
    Ok(Page {
        entries,
        page,
        has_more,
        actions,
    })
}
