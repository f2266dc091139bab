//! Administrative actions shared by the CLI and tests: accounts, tokens, the demo world.

use crate::db::models::{self, NewUser};
use crate::db::schema::users;
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::domain::users::{resolve_scope, store_scope};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use crate::kernel::time::now;
use anyhow::{anyhow, bail};
use diesel::prelude::*;

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub cluster: Option<&'a str>,
    pub operations: &'a [String],
    /// The countries (ISO codes) of an inter-cluster coordinator.
    pub countries: &'a [String],
    pub password: &'a str,
}

/// Creates a user, checking that the role's scope is given: a global lead needs `--cluster`,
/// coordinators and PSEA focal points need at least one `--operation`.
pub fn add_user(conn: &mut DbConnection, a: &NewAccount) -> anyhow::Result<i32> {
    models::check_email(a.email).map_err(|e| anyhow!("--email: {e}"))?;
    secrets::check_password_strength(a.password).map_err(|e| anyhow!("password: {e}"))?;
    let hash = secrets::hash_password(a.password)?;
    write_tx(conn, |conn| -> anyhow::Result<i32> {
        let scope =
            resolve_scope(conn, a.role, a.cluster, a.operations, a.countries).map_err(as_option)?;
        let email = models::normalize_email(a.email);
        let at = now();
        let id: i32 = diesel::insert_into(users::table)
            .values(NewUser {
                email: &email,
                password_hash: &hash,
                role: scope.role.as_str(),
                cluster_id: scope.cluster_id,
                disabled: false,
                failed_logins: 0,
                created_at: at,
                password_set_at: Some(at),
            })
            .returning(users::id)
            .get_result(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    anyhow!("--email: a user with this email already exists")
                } else {
                    anyhow::Error::new(e)
                }
            })?;
        store_scope(conn, id, &scope)?;
        models::audit(
            conn,
            None,
            "user.create",
            &format!("user:{id}"),
            serde_json::json!({"role": scope.role.as_str(), "via": "cli"}),
        )?;
        Ok(id)
    })
}

/// A field error of the domain as the CLI says it: `--option: problem`.
fn as_option(e: AppError) -> anyhow::Error {
    match e.fields().iter().next() {
        Some((field, problem)) => {
            let option = if field == "operations" {
                "operation"
            } else {
                field
            };
            anyhow!("--{option}: {problem}")
        }
        None => anyhow!("{e}"),
    }
}

pub fn create_token_for(
    conn: &mut DbConnection,
    email: &str,
    label: &str,
) -> anyhow::Result<String> {
    let user = models::user_by_email(conn, email)?.ok_or_else(|| {
        anyhow!("--email: no user with this email (create one with `clusterpulse users add`)")
    })?;
    if user.disabled {
        bail!("--email: this account is disabled");
    }
    let token = models::create_token(conn, user.id, label)?;
    models::audit(
        conn,
        None,
        "token.create",
        &format!("user:{}", user.id),
        serde_json::json!({"via": "cli"}),
    )?;
    Ok(token)
}
