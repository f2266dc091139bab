//! One-time links that set a password, for the two ways someone gets one: an admin invites
//! them (a new account with no password yet), or they forgot theirs. A link lasts
//! [`LINK_HOURS`], works once, and only its hash is stored; a newer link replaces the older
//! ones of the account. The email goes through the outbox, so nothing waits on SMTP.
//!
//! Argon2 is slow on purpose, so a new password is hashed between [`check`] and [`consume`],
//! not while a connection is held; [`consume`] checks the link again and claims it in one
//! statement, so two uses of one link cannot both succeed.

use crate::db::models::{self, NewUser, User};
use crate::db::schema::{account_links, users};
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::domain::users::{self as accounts, resolve_scope, UserView};
use crate::domain::Services;
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use crate::kernel::time::{now, rfc3339};
use crate::kernel::vocab::LinkPurpose;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// How long a link works.
pub const LINK_HOURS: i64 = 72;
/// At most this many reset links per account per hour (a mailbox is not flooded).
const RESETS_PER_HOUR: i64 = 3;

/// The page a link opens.
pub fn url(public_url: &str, token: &str) -> String {
    format!("{public_url}/password/{token}")
}

/// Someone to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    pub email: String,
    /// admin, global_lead, coordinator or psea_focal_point.
    pub role: String,
    /// The cluster code a global lead leads.
    #[serde(default)]
    pub cluster: Option<String>,
    /// The operation slugs of a coordinator or PSEA focal point.
    #[serde(default)]
    pub operations: Vec<String>,
    /// The countries (ISO codes) of an inter-cluster coordinator.
    #[serde(default)]
    pub countries: Vec<String>,
}

/// An invitation sent: the account, and until when its link works (the link itself is in
/// the email only).
#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    pub user: UserView,
    /// RFC 3339, UTC.
    pub link_expires_at: String,
}

/// Makes a link for `user_id` (ending its older unused ones) and queues its email.
fn issue(
    conn: &mut DbConnection,
    svc: &Services,
    user: &User,
    purpose: LinkPurpose,
    created_by: Option<i32>,
    at: NaiveDateTime,
) -> Result<NaiveDateTime, AppError> {
    // One new link per account at a time: two requests at once must not both survive
    // (SQLite's write transactions already queue).
    if let DbConnection::Postgres(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock(727073, {})",
            user.id
        ))?;
    }
    diesel::update(
        account_links::table
            .filter(account_links::user_id.eq(user.id))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(Some(at)))
    .execute(conn)?;
    let token = secrets::random_token(32);
    let expires = at + Duration::hours(LINK_HOURS);
    let id: i32 = diesel::insert_into(account_links::table)
        .values((
            account_links::user_id.eq(user.id),
            account_links::purpose.eq(purpose.as_str()),
            account_links::token_hash.eq(secrets::hash_token(&token)),
            account_links::created_by.eq(created_by),
            account_links::created_at.eq(at),
            account_links::expires_at.eq(expires),
        ))
        .returning(account_links::id)
        .get_result(conn)?;
    let link = url(&svc.config.public_url, &token);
    let until = expires.format("%Y-%m-%d %H:%M UTC").to_string();
    let (subject, text) = match purpose {
        LinkPurpose::Invite => (
            "You are invited to clusterpulse".to_string(),
            format!(
                "You have been given a clusterpulse account ({role}) for {email}.\n\n\
                 Choose your password here:\n{link}\n\n\
                 The link works once, until {until}. If you were not expecting this, ignore \
                 this email.\n",
                role = user.role,
                email = user.email,
            ),
        ),
        LinkPurpose::Reset => (
            "Reset your clusterpulse password".to_string(),
            format!(
                "Someone asked to reset the password of the clusterpulse account {email}.\n\n\
                 Choose a new password here:\n{link}\n\n\
                 The link works once, until {until}. If you did not ask for it, ignore this \
                 email: your password stays as it is.\n",
                email = user.email,
            ),
        ),
    };
    let email = crate::mail::Email {
        to: user.email.clone(),
        subject,
        text,
        ..Default::default()
    };
    crate::mail::enqueue(
        conn,
        "account_link",
        Some(&format!("account-link:{id}")),
        &svc.config.mail_from,
        &email,
    )
    .map_err(|e| AppError::Internal(anyhow::anyhow!("queueing the link email: {e}")))?;
    Ok(expires)
}

/// Invites someone (admins only): a new account without a password and a link to set one.
/// Inviting again someone who has not set their password yet sends a new link (and takes
/// the role and scope given now); an account in use is a 409.
pub fn invite(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    b: InviteBody,
) -> Result<Invited, AppError> {
    actor.require_admin()?;
    models::check_email(&b.email).map_err(|e| AppError::field("email", e))?;
    let email = models::normalize_email(&b.email);
    let at = now();
    let invited = write_tx(conn, |conn| -> Result<Invited, AppError> {
        let scope = resolve_scope(
            conn,
            &b.role,
            b.cluster.as_deref(),
            &b.operations,
            &b.countries,
        )?;
        let user = match models::user_by_email(conn, &email)? {
            Some(u) if u.password_set_at.is_some() || u.disabled => {
                return Err(AppError::Conflict(format!(
                    "{email} already has an account (status {}); change it on the users page",
                    if u.disabled { "disabled" } else { "active" }
                )))
            }
            Some(u) => u,
            None => {
                let id: i32 = diesel::insert_into(users::table)
                    .values(NewUser {
                        email: &email,
                        // Matches no password: the account is unusable until the link is used.
                        password_hash: "",
                        role: scope.role.as_str(),
                        cluster_id: scope.cluster_id,
                        disabled: false,
                        failed_logins: 0,
                        created_at: at,
                        password_set_at: None,
                    })
                    .returning(users::id)
                    .get_result(conn)
                    .map_err(|e| {
                        if is_unique_violation(&e) {
                            AppError::Conflict(format!("{email} already has an account"))
                        } else {
                            e.into()
                        }
                    })?;
                users::table
                    .find(id)
                    .select(User::as_select())
                    .first(conn)?
            }
        };
        accounts::store_scope(conn, user.id, &scope)?;
        let user = users::table
            .find(user.id)
            .select(User::as_select())
            .first(conn)?;
        let expires = issue(conn, svc, &user, LinkPurpose::Invite, Some(actor.id), at)?;
        models::audit(
            conn,
            Some(actor.id),
            "user.invite",
            &format!("user:{}", user.id),
            json!({"role": scope.role.as_str(), "cluster_id": scope.cluster_id,
                   "operation_ids": scope.operation_ids}),
        )?;
        Ok(Invited {
            user: accounts::get(conn, actor, user.id)?,
            link_expires_at: rfc3339(expires),
        })
    })?;
    svc.nudge_mail();
    Ok(invited)
}

/// "Forgot password": sends a reset link if `email` belongs to an account that is not
/// disabled, and did not get [`RESETS_PER_HOUR`] links in the last hour; otherwise does
/// nothing. The caller answers the same either way (and does not wait for this).
pub fn request_reset(
    conn: &mut DbConnection,
    svc: &Services,
    email: &str,
) -> Result<bool, AppError> {
    let at = now();
    let sent = write_tx(conn, |conn| -> Result<bool, AppError> {
        let Some(user) = models::user_by_email(conn, email)? else {
            return Ok(false);
        };
        if user.disabled {
            return Ok(false);
        }
        let recent: i64 = account_links::table
            .filter(account_links::user_id.eq(user.id))
            .filter(account_links::purpose.eq(LinkPurpose::Reset.as_str()))
            .filter(account_links::created_at.gt(at - Duration::hours(1)))
            .count()
            .get_result(conn)?;
        if recent >= RESETS_PER_HOUR {
            return Ok(false);
        }
        issue(conn, svc, &user, LinkPurpose::Reset, None, at)?;
        models::audit(
            conn,
            None,
            "password.reset_request",
            &format!("user:{}", user.id),
            json!({}),
        )?;
        Ok(true)
    })?;
    if sent {
        svc.nudge_mail();
    }
    Ok(sent)
}

/// A link that may set a password now: whose and why.
#[derive(Debug, Clone)]
pub struct Usable {
    pub link_id: i32,
    pub user_id: i32,
    pub email: String,
    pub purpose: LinkPurpose,
}

fn refusal(purpose: &str, used: bool) -> AppError {
    let again = "ask for a new one with \"Forgot your password?\" on the sign-in page";
    match (purpose, used) {
        ("invite", true) => AppError::Gone(format!(
            "this invitation link has already been used or replaced by a newer one; if you set your password, sign in, otherwise {again}"
        )),
        (_, true) => AppError::Gone(format!(
            "this link has already been used or replaced by a newer one; {again}"
        )),
        (_, false) => AppError::Gone(format!(
            "this link has expired (links work for {LINK_HOURS} hours); {again}"
        )),
    }
}

/// The link of `token`, if it can still set a password: 404 for an unknown token, 410 for
/// a used, replaced or expired one (or a disabled account's).
pub fn check(conn: &mut DbConnection, token: &str) -> Result<Usable, AppError> {
    let at = now();
    let row: Option<(i32, String, NaiveDateTime, Option<NaiveDateTime>, User)> =
        account_links::table
            .inner_join(users::table)
            .filter(account_links::token_hash.eq(secrets::hash_token(token)))
            .select((
                account_links::id,
                account_links::purpose,
                account_links::expires_at,
                account_links::used_at,
                User::as_select(),
            ))
            .first(conn)
            .optional()?;
    let Some((link_id, purpose, expires, used, user)) = row else {
        return Err(AppError::not_found(
            "this link is not known: check that the whole address from the email was opened",
        ));
    };
    if used.is_some() || user.disabled {
        return Err(refusal(&purpose, true));
    }
    if at >= expires {
        return Err(refusal(&purpose, false));
    }
    let purpose =
        LinkPurpose::parse(&purpose).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(Usable {
        link_id,
        user_id: user.id,
        email: user.email,
        purpose,
    })
}

/// Sets the password of the link's account (`new_hash`, already checked and hashed) and
/// uses the link up, in one transaction; every session of the account ends. Fails, with
/// nothing changed, if the link was used, replaced or expired since [`check`].
pub fn consume(conn: &mut DbConnection, token: &str, new_hash: &str) -> Result<Usable, AppError> {
    let at = now();
    write_tx(conn, |conn| {
        let link = check(conn, token)?;
        let claimed = diesel::update(
            account_links::table
                .find(link.link_id)
                .filter(account_links::used_at.is_null()),
        )
        .set(account_links::used_at.eq(Some(at)))
        .execute(conn)?;
        if claimed != 1 {
            return Err(refusal(link.purpose.as_str(), true));
        }
        // Any other link of the account ends with this one.
        diesel::update(
            account_links::table
                .filter(account_links::user_id.eq(link.user_id))
                .filter(account_links::used_at.is_null()),
        )
        .set(account_links::used_at.eq(Some(at)))
        .execute(conn)?;
        diesel::update(users::table.find(link.user_id))
            .set((
                users::password_hash.eq(new_hash),
                users::password_set_at.eq(Some(at)),
            ))
            .execute(conn)?;
        let ended = crate::domain::sessions::end_all(conn, link.user_id, at)?;
        models::audit(
            conn,
            Some(link.user_id),
            match link.purpose {
                LinkPurpose::Invite => "password.set",
                LinkPurpose::Reset => "password.reset",
            },
            &format!("user:{}", link.user_id),
            json!({"sessions_ended": ended}),
        )?;
        Ok(link)
    })
}
