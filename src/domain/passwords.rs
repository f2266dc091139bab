//! Changing one's own password: the current one is checked, the new one must pass the
//! strength rule, and every other session of the account ends (a thief signed in elsewhere
//! is signed out by the change).
//!
//! Argon2 is slow on purpose, so the two hashing steps run between the database steps, not
//! while a connection is held: [`current_hash`], then verify and hash, then [`replace`].

use crate::db::schema::{sessions, users};
use crate::db::{write_tx, DbConnection};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

/// The current password and the new one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    /// At least 10 characters, and not one of the 10,000 most common passwords.
    pub new_password: String,
}

/// Checks what can be checked without the database: the new password's strength, and that
/// it differs from the current one.
pub fn check_new(b: &PasswordBody) -> Result<(), AppError> {
    secrets::check_password_strength(&b.new_password)
        .map_err(|e| AppError::field("new_password", e))?;
    if b.new_password == b.current_password {
        return Err(AppError::field(
            "new_password",
            "is the same as the current password",
        ));
    }
    Ok(())
}

/// The stored hash of a user's password.
pub fn current_hash(conn: &mut DbConnection, user_id: i32) -> Result<String, AppError> {
    Ok(users::table
        .find(user_id)
        .select(users::password_hash)
        .first(conn)?)
}

/// Stores the new hash and ends every session of the user except `keep` (the session token
/// hash of the request, if it came with a cookie); how many sessions ended.
pub fn replace(
    conn: &mut DbConnection,
    user_id: i32,
    new_hash: &str,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    write_tx(conn, |conn| {
        diesel::update(users::table.find(user_id))
            .set((
                users::password_hash.eq(new_hash),
                users::password_set_at.eq(Some(now)),
            ))
            .execute(conn)?;
        let live = sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::token_hash.ne(keep.unwrap_or("")));
        let ended = diesel::update(live)
            .set(sessions::revoked_at.eq(Some(now)))
            .execute(conn)?;
        crate::db::models::audit(
            conn,
            Some(user_id),
            "password.change",
            &format!("user:{user_id}"),
            serde_json::json!({"sessions_ended": ended}),
        )?;
        Ok(ended)
    })
}
