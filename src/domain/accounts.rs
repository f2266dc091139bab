//! Administrative actions shared by the CLI and tests: accounts, tokens, the demo world.

use crate::db::models::{self, NewUser};
use crate::db::schema::{user_operations, users};
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::kernel::access::Role;
use crate::kernel::secrets;
use crate::kernel::time::now;
use anyhow::{anyhow, bail};
use diesel::prelude::*;

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub cluster: Option<&'a str>,
    pub operations: &'a [String],
    pub password: &'a str,
}

/// Creates a user, checking that the role's scope is given: a global lead needs `--cluster`,
/// coordinators and PSEA focal points need at least one `--operation`.
pub fn add_user(conn: &mut DbConnection, a: &NewAccount) -> anyhow::Result<i32> {
    let role = Role::parse(a.role).map_err(|e| anyhow!("--role: {e}"))?;
    models::check_email(a.email).map_err(|e| anyhow!("--email: {e}"))?;
    secrets::check_password_strength(a.password).map_err(|e| anyhow!("password: {e}"))?;
    match role {
        Role::GlobalLead if a.cluster.is_none() => {
            bail!("--cluster: a global_lead needs the cluster they lead (e.g. --cluster shelter)")
        }
        Role::Coordinator | Role::PseaFocalPoint if a.operations.is_empty() => bail!(
            "--operation: a {} needs at least one operation (e.g. --operation shelter-yemen)",
            role.as_str()
        ),
        _ => {}
    }
    let hash = secrets::hash_password(a.password)?;
    write_tx(conn, |conn| -> anyhow::Result<i32> {
        let cluster_id = match a.cluster {
            Some(code) => Some(
                models::cluster_by_code(conn, code)?
                    .ok_or_else(|| anyhow!("--cluster: no cluster with code {code:?}"))?
                    .id,
            ),
            None => None,
        };
        let mut op_ids = Vec::new();
        for slug in a.operations {
            let op = models::operation_by_slug(conn, slug)?
                .ok_or_else(|| anyhow!("--operation: no operation with slug {slug:?}"))?;
            op_ids.push(op.id);
        }
        let email = models::normalize_email(a.email);
        let id: i32 = diesel::insert_into(users::table)
            .values(NewUser {
                email: &email,
                password_hash: &hash,
                role: role.as_str(),
                cluster_id,
                disabled: false,
                failed_logins: 0,
                created_at: now(),
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
        for op in op_ids {
            diesel::insert_into(user_operations::table)
                .values((
                    user_operations::user_id.eq(id),
                    user_operations::operation_id.eq(op),
                ))
                .execute(conn)?;
        }
        models::audit(
            conn,
            None,
            "user.create",
            &format!("user:{id}"),
            serde_json::json!({"role": role.as_str(), "via": "cli"}),
        )?;
        Ok(id)
    })
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
