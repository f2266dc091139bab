//! API tokens for scripts: made with a label and an optional expiry, listed without their
//! secret (which is shown once, at creation, and stored only hashed), and revoked. People
//! manage their own tokens; admins may also list and revoke anyone's.

use crate::db::models::{self, ApiToken};
use crate::db::schema::api_tokens;
use crate::db::{write_tx, DbConnection};
use crate::kernel::access::Actor;
use crate::kernel::error::{fields_result, AppError, Fields};
use crate::kernel::time::{now, rfc3339};
use chrono::Duration;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The longest a token may be made to last.
pub const MAX_DAYS: i64 = 730;

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// What the token is for, e.g. `power-bi refresh`.
    #[schema(min_length = 1, max_length = 100)]
    pub label: String,
    /// Days until it stops working, 1–730 (default: never).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 730)]
    pub expires_in_days: Option<i64>,
}

/// A token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i32,
    pub label: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; absent if never used.
    pub last_used_at: Option<String>,
    /// RFC 3339, UTC; absent if it never expires.
    pub expires_at: Option<String>,
    /// RFC 3339, UTC; absent unless revoked.
    pub revoked_at: Option<String>,
    /// Usable now: not revoked and not expired.
    pub active: bool,
}

/// A new token, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenView,
    /// Send as `Authorization: Bearer <token>`. It cannot be shown again.
    pub secret: String,
}

impl TokenView {
    pub fn of(t: &ApiToken, at: chrono::NaiveDateTime) -> TokenView {
        TokenView {
            id: t.id,
            label: t.label.clone(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            expires_at: t.expires_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
            active: t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > at),
        }
    }
}

/// Makes a token for the actor.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    b: TokenBody,
) -> Result<CreatedToken, AppError> {
    let mut fields = Fields::new();
    let label = b.label.trim().to_string();
    if label.is_empty() {
        fields.insert("label".into(), "say what the token is for".into());
    } else if let Err(e) = crate::kernel::text::check_name(&label, 100) {
        fields.insert("label".into(), e);
    }
    if let Some(d) = b.expires_in_days {
        if !(1..=MAX_DAYS).contains(&d) {
            fields.insert(
                "expires_in_days".into(),
                format!("use a number of days from 1 to {MAX_DAYS}"),
            );
        }
    }
    fields_result(fields)?;
    let at = now();
    write_tx(conn, |conn| {
        let secret = models::create_token(conn, actor.id, &label)?;
        let id: i32 = api_tokens::table
            .filter(api_tokens::token_hash.eq(crate::kernel::secrets::hash_token(&secret)))
            .select(api_tokens::id)
            .first(conn)?;
        if let Some(d) = b.expires_in_days {
            diesel::update(api_tokens::table.find(id))
                .set(api_tokens::expires_at.eq(Some(at + Duration::days(d))))
                .execute(conn)?;
        }
        models::audit(
            conn,
            Some(actor.id),
            "token.create",
            &format!("token:{id}"),
            json!({"expires_in_days": b.expires_in_days}),
        )?;
        let t: ApiToken = api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(conn)?;
        Ok(CreatedToken {
            token: TokenView::of(&t, at),
            secret,
        })
    })
}

/// The actor's own tokens, newest first.
pub fn list_own(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<TokenView>, AppError> {
    let at = now();
    let rows: Vec<ApiToken> = api_tokens::table
        .filter(api_tokens::user_id.eq(actor.id))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)?;
    Ok(rows.iter().map(|t| TokenView::of(t, at)).collect())
}

/// Revokes a token: one's own, or anyone's for an admin. 404 for a token the actor may not
/// touch, so ids of other people's tokens are not confirmed.
pub fn revoke(conn: &mut DbConnection, actor: &Actor, id: i32) -> Result<TokenView, AppError> {
    let at = now();
    write_tx(conn, |conn| {
        let t: Option<ApiToken> = api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(conn)
            .optional()?;
        let t = t
            .filter(|t| t.user_id == actor.id || actor.is_admin())
            .ok_or_else(|| AppError::not_found(format!("no token {id} of yours")))?;
        if t.revoked_at.is_none() {
            diesel::update(api_tokens::table.find(id))
                .set(api_tokens::revoked_at.eq(Some(at)))
                .execute(conn)?;
            models::audit(
                conn,
                Some(actor.id),
                "token.revoke",
                &format!("token:{id}"),
                json!({"owner": t.user_id}),
            )?;
        }
        let t: ApiToken = api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(conn)?;
        Ok(TokenView::of(&t, at))
    })
}
