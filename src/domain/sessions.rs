//! Sign-in sessions kept by the server. The cookie carries a random token; the database
//! keeps only its hash, with the CSRF token, the owner, when it was last used and when it
//! expires. A session ends when its owner signs out (here or everywhere), when the account
//! is disabled, after the idle limit without a request, or at the absolute limit.

use crate::config::SessionLimits;
use crate::db::models::User;
use crate::db::schema::{sessions, users};
use crate::db::DbConnection;
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

/// Last-use times are written at most this often per session, so that reading pages does
/// not turn every request into a write.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A new session: the cookie value and its CSRF token.
pub struct Started {
    pub token: String,
    pub csrf: String,
}

/// Starts a session for `user_id` at `now`.
pub fn start(
    conn: &mut DbConnection,
    user_id: i32,
    limits: SessionLimits,
    now: NaiveDateTime,
) -> Result<Started, AppError> {
    let token = secrets::random_token(32);
    let csrf = secrets::random_token(24);
    diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::token_hash.eq(secrets::hash_token(&token)),
            sessions::csrf.eq(&csrf),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(now + Duration::hours(limits.absolute_hours as i64)),
        ))
        .execute(conn)?;
    Ok(Started { token, csrf })
}

/// The owner and CSRF token of a live session, refreshing its last use; `None` when the
/// token is unknown, signed out, idle too long or past its end.
pub fn resume(
    conn: &mut DbConnection,
    token: &str,
    limits: SessionLimits,
    now: NaiveDateTime,
) -> Result<Option<(User, String)>, AppError> {
    let found: Option<(i32, String, NaiveDateTime, NaiveDateTime, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(secrets::hash_token(token)))
        .filter(sessions::revoked_at.is_null())
        .select((
            sessions::id,
            sessions::csrf,
            sessions::last_seen_at,
            sessions::expires_at,
            User::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((id, csrf, last_seen, expires, user)) = found else {
        return Ok(None);
    };
    let idle_end = last_seen + Duration::minutes(limits.idle_minutes as i64);
    if now >= expires || now >= idle_end {
        return Ok(None);
    }
    if now - last_seen >= Duration::seconds(TOUCH_EVERY_SECONDS) {
        diesel::update(sessions::table.find(id))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some((user, csrf)))
}

/// Ends the session of this cookie token (signing out); unknown tokens are ignored.
pub fn end(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(secrets::hash_token(token)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of a user ("sign out everywhere", or the account was disabled); how
/// many were live.
pub fn end_all(
    conn: &mut DbConnection,
    user_id: i32,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now)))
    .execute(conn)?)
}

/// Deletes sessions that ended (signed out or expired) more than a day before `now`. Idle
/// sessions past their limit are refused by [`resume`] and go when they expire.
pub fn purge(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, AppError> {
    let before = now - Duration::days(1);
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .lt(before)
                .or(sessions::revoked_at.lt(before)),
        ),
    )
    .execute(conn)?)
}
