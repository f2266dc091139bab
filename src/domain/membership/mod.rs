//! Cluster membership: each operation's register of member and observer organizations
//! ([`register`], with its history and CSV import), the yearly self-assessment of the
//! minimum commitments ([`assessments`]: the organization's own statement, named, not
//! anonymous), the onboarding checklist of new members ([`onboarding`]), and the counts
//! that split a round's response rate by membership ([`rates`]).
//!
//! Who: the operation's coordinators and admins manage all of it; the global leads of its
//! cluster read it. A focal point reaches only their own organization's form, through a
//! one-time link whose token is stored hashed.

pub mod assessments;
pub mod commitments;
pub mod onboarding;
pub mod rates;
pub mod register;

use crate::db::models::{self, Membership, Operation, Organization};
use crate::db::schema::{memberships, organizations};
use crate::db::DbConnection;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use chrono::NaiveDate;
use diesel::prelude::*;

/// Read the register, or change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Manage,
}

/// The operation `slug` if the actor may read (or manage) its register: 404 when there is
/// no such operation, 403 without access.
pub fn operation_for(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    access: Access,
) -> Result<Operation, AppError> {
    let op = models::operation_by_slug(conn, slug)?
        .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
    let allowed = match access {
        Access::Read => actor.can_read_membership(&op),
        Access::Manage => actor.can_manage_operation(&op),
    };
    if !allowed {
        return Err(AppError::Forbidden(match access {
            Access::Read => "only the operation's coordinators and its cluster's global leads (or an admin) can see its membership register".into(),
            Access::Manage => "only the operation's coordinators (or an admin) can change its membership register".into(),
        }));
    }
    Ok(op)
}

/// A register entry of `op` with its organization: 404 when `id` is not one of `op`'s.
pub fn entry_of(
    conn: &mut DbConnection,
    op: &Operation,
    id: i32,
) -> Result<(Membership, Organization), AppError> {
    memberships::table
        .inner_join(organizations::table)
        .filter(memberships::id.eq(id))
        .filter(memberships::operation_id.eq(op.id))
        .select((Membership::as_select(), Organization::as_select()))
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            AppError::not_found(format!("no member {id} in the register of {}", op.slug))
        })
}

/// A day `YYYY-MM-DD` named by `field`.
pub fn parse_day(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field(field, "use a date YYYY-MM-DD"))
}

/// Today, UTC.
pub fn today() -> NaiveDate {
    crate::kernel::time::now().date()
}

/// Serialises writes to one register entry's dependants (PostgreSQL: a transaction-scoped
/// advisory lock; SQLite's write transactions already queue).
pub fn lock_entry(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    if let DbConnection::Postgres(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&format!("SELECT pg_advisory_xact_lock(727075, {id})"))?;
    }
    Ok(())
}

/// A unique violation (two people writing the same thing at once) as a 409.
pub fn conflict_on_race(e: diesel::result::Error) -> AppError {
    if crate::db::is_unique_violation(&e) {
        AppError::Conflict("someone else changed this at the same moment; try again".into())
    } else {
        e.into()
    }
}
