//! Staff accounts as admins manage them: list, change role and scope, disable and enable.
//! Disabling ends the account's sessions, API tokens and unused links at once; the last
//! active admin cannot be disabled or demoted. Every change is in the audit log.

use crate::db::models::{self, User};
use crate::db::schema::{
    account_links, api_tokens, operations, user_countries, user_operations, users,
};
use crate::db::{write_tx, DbConnection};
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::AppError;
use crate::kernel::time::{now, rfc3339};
use crate::kernel::vocab::UserStatus;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A role with the scope it needs: the cluster of a global lead, the operations of a
/// coordinator or PSEA focal point, nothing for an admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub role: Role,
    pub cluster_id: Option<i32>,
    pub operation_ids: Vec<i32>,
    /// The countries (ISO codes) of an inter-cluster coordinator.
    pub countries: Vec<String>,
}

/// Checks a role and its scope, looking the cluster code and operation slugs up. Errors
/// name the field (`role`, `cluster`, `operations`). A scope the role does not use is
/// dropped (an admin's cluster, a global lead's operations).
pub fn resolve_scope(
    conn: &mut DbConnection,
    role: &str,
    cluster: Option<&str>,
    operations: &[String],
    countries: &[String],
) -> Result<Scope, AppError> {
    let role = Role::parse(role.trim()).map_err(|e| AppError::field("role", e))?;
    let cluster = cluster.map(str::trim).filter(|c| !c.is_empty());
    let mut scope = Scope {
        role,
        cluster_id: None,
        operation_ids: Vec::new(),
        countries: Vec::new(),
    };
    match role {
        Role::Admin => {}
        Role::InterClusterCoordinator => {
            for c in countries
                .iter()
                .flat_map(|c| c.split([',', ' ']))
                .filter(|c| !c.trim().is_empty())
            {
                let code = crate::domain::intercluster::parse_country("countries", c)?;
                if !scope.countries.contains(&code) {
                    scope.countries.push(code);
                }
            }
            if scope.countries.is_empty() {
                return Err(AppError::field(
                    "countries",
                    "an inter_cluster_coordinator needs at least one country (ISO code, e.g. YE)",
                ));
            }
        }
        Role::GlobalLead => {
            let code = cluster.ok_or_else(|| {
                AppError::field(
                    "cluster",
                    "a global_lead needs the cluster they lead (e.g. shelter)",
                )
            })?;
            let c = models::cluster_by_code(conn, code)?.ok_or_else(|| {
                AppError::field("cluster", format!("no cluster with code {code:?}"))
            })?;
            scope.cluster_id = Some(c.id);
        }
        Role::Coordinator | Role::PseaFocalPoint => {
            let slugs: Vec<&str> = operations
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            if slugs.is_empty() {
                return Err(AppError::field(
                    "operations",
                    format!(
                        "a {} needs at least one operation (e.g. shelter-yemen)",
                        role.as_str()
                    ),
                ));
            }
            for slug in slugs {
                let op = models::operation_by_slug(conn, slug)?.ok_or_else(|| {
                    AppError::field("operations", format!("no operation with slug {slug:?}"))
                })?;
                if !scope.operation_ids.contains(&op.id) {
                    scope.operation_ids.push(op.id);
                }
            }
        }
    }
    Ok(scope)
}

/// Stores a user's role and scope (replacing the operations).
pub fn store_scope(conn: &mut DbConnection, user_id: i32, s: &Scope) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::role.eq(s.role.as_str()),
            users::cluster_id.eq(s.cluster_id),
        ))
        .execute(conn)?;
    diesel::delete(user_operations::table.filter(user_operations::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::delete(user_countries::table.filter(user_countries::user_id.eq(user_id)))
        .execute(conn)?;
    for c in &s.countries {
        diesel::insert_into(user_countries::table)
            .values((
                user_countries::user_id.eq(user_id),
                user_countries::country.eq(c),
            ))
            .execute(conn)?;
    }
    for op in &s.operation_ids {
        diesel::insert_into(user_operations::table)
            .values((
                user_operations::user_id.eq(user_id),
                user_operations::operation_id.eq(op),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// An account as admins see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: i32,
    pub email: String,
    /// admin, global_lead, coordinator or psea_focal_point.
    pub role: String,
    /// The cluster code of a global lead.
    pub cluster: Option<String>,
    /// The operation slugs of a coordinator or PSEA focal point.
    pub operations: Vec<String>,
    /// The countries (ISO codes) of an inter-cluster coordinator.
    pub countries: Vec<String>,
    pub status: UserStatus,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; absent until the person sets a password.
    pub password_set_at: Option<String>,
}

fn status_of(u: &User) -> UserStatus {
    if u.disabled {
        UserStatus::Disabled
    } else if u.password_set_at.is_none() {
        UserStatus::Invited
    } else {
        UserStatus::Active
    }
}

fn view_of(conn: &mut DbConnection, u: &User) -> QueryResult<UserView> {
    let cluster = match u.cluster_id {
        Some(id) => Some(models::cluster_by_id(conn, id)?.code),
        None => None,
    };
    let operations: Vec<String> = user_operations::table
        .inner_join(operations::table)
        .filter(user_operations::user_id.eq(u.id))
        .order(operations::slug)
        .select(operations::slug)
        .load(conn)?;
    Ok(UserView {
        id: u.id,
        email: u.email.clone(),
        role: u.role.clone(),
        cluster,
        operations,
        countries: models::user_countries(conn, u.id)?,
        status: status_of(u),
        created_at: rfc3339(u.created_at),
        password_set_at: u.password_set_at.map(rfc3339),
    })
}

fn user_by_id(conn: &mut DbConnection, id: i32) -> Result<User, AppError> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no user {id}")))
}

/// One account (admins only).
pub fn get(conn: &mut DbConnection, actor: &Actor, id: i32) -> Result<UserView, AppError> {
    actor.require_admin()?;
    let u = user_by_id(conn, id)?;
    Ok(view_of(conn, &u)?)
}

/// Every account, by email (admins only).
pub fn list(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<UserView>, AppError> {
    actor.require_admin()?;
    let rows: Vec<User> = users::table
        .order(users::email)
        .select(User::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for u in &rows {
        out.push(view_of(conn, u)?);
    }
    Ok(out)
}

/// What to change about an account; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// admin, global_lead, coordinator or psea_focal_point.
    #[serde(default)]
    pub role: Option<String>,
    /// The cluster code a global lead leads.
    #[serde(default)]
    pub cluster: Option<String>,
    /// The operation slugs of a coordinator or PSEA focal point (replaces the list).
    #[serde(default)]
    pub operations: Option<Vec<String>>,
    /// The countries (ISO codes) of an inter-cluster coordinator (replaces the list).
    #[serde(default)]
    pub countries: Option<Vec<String>>,
    /// `true` disables the account (ending its sessions and API tokens); `false` enables it.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Whether another active admin than `except` exists.
fn other_active_admin(conn: &mut DbConnection, except: i32) -> QueryResult<bool> {
    let n: i64 = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .filter(users::id.ne(except))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Serialises changes that could remove an admin, so two admins demoting each other at
/// once cannot both pass the last-admin check (SQLite's write transactions already queue).
fn lock_admin_changes(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgres(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("SELECT pg_advisory_xact_lock(727072)")?;
    }
    Ok(())
}

/// Ends every way the account had in: sessions, API tokens, unused links. How many
/// sessions and tokens ended.
fn cut_off(
    conn: &mut DbConnection,
    user_id: i32,
    at: NaiveDateTime,
) -> Result<(usize, usize), AppError> {
    let sessions = crate::domain::sessions::end_all(conn, user_id, at)?;
    let tokens = diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(at)))
    .execute(conn)?;
    diesel::update(
        account_links::table
            .filter(account_links::user_id.eq(user_id))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(Some(at)))
    .execute(conn)?;
    Ok((sessions, tokens))
}

/// Changes an account's role, scope or whether it is disabled (admins only). 409 when the
/// change would leave no active admin.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    b: UserUpdate,
) -> Result<UserView, AppError> {
    actor.require_admin()?;
    let at = now();
    write_tx(conn, |conn| {
        lock_admin_changes(conn)?;
        let u = user_by_id(conn, id)?;
        let scope_given = b.role.is_some()
            || b.cluster.is_some()
            || b.operations.is_some()
            || b.countries.is_some();
        let new_scope = if scope_given {
            let current_cluster = match u.cluster_id {
                Some(c) => Some(models::cluster_by_id(conn, c)?.code),
                None => None,
            };
            let current = view_of(conn, &u)?;
            let role = b.role.clone().unwrap_or_else(|| u.role.clone());
            let cluster = b.cluster.clone().or(current_cluster);
            let ops = b.operations.clone().unwrap_or(current.operations);
            let countries = b.countries.clone().unwrap_or(current.countries);
            Some(resolve_scope(
                conn,
                &role,
                cluster.as_deref(),
                &ops,
                &countries,
            )?)
        } else {
            None
        };
        let disable = b.disabled.unwrap_or(u.disabled);
        let was_active_admin = u.role == Role::Admin.as_str() && !u.disabled;
        let stays_active_admin = !disable
            && new_scope
                .as_ref()
                .map_or(u.role == Role::Admin.as_str(), |s| s.role == Role::Admin);
        if was_active_admin && !stays_active_admin && !other_active_admin(conn, u.id)? {
            let what = if disable {
                "disabled"
            } else {
                "given another role"
            };
            return Err(AppError::Conflict(format!(
                "{} is the last active admin and cannot be {what}: make another account admin first",
                u.email
            )));
        }
        if let Some(s) = &new_scope {
            store_scope(conn, u.id, s)?;
            models::audit(
                conn,
                Some(actor.id),
                "user.update",
                &format!("user:{}", u.id),
                json!({"role": s.role.as_str(), "was": u.role, "cluster_id": s.cluster_id,
                       "operation_ids": s.operation_ids}),
            )?;
        }
        if disable != u.disabled {
            diesel::update(users::table.find(u.id))
                .set(users::disabled.eq(disable))
                .execute(conn)?;
            if disable {
                let (sessions, tokens) = cut_off(conn, u.id, at)?;
                models::audit(
                    conn,
                    Some(actor.id),
                    "user.disable",
                    &format!("user:{}", u.id),
                    json!({"sessions_ended": sessions, "tokens_revoked": tokens}),
                )?;
            } else {
                models::audit(
                    conn,
                    Some(actor.id),
                    "user.enable",
                    &format!("user:{}", u.id),
                    json!({}),
                )?;
            }
        }
        let u = user_by_id(conn, id)?;
        Ok(view_of(conn, &u)?)
    })
}
