//! Correcting the directory (admins only): clusters, operations and organizations are edited
//! field by field with the same checks as when they were created; operations and
//! organizations are archived rather than deleted (their rounds and invitations stay
//! readable, nothing new is started on them); a duplicate organization is merged into another.
//!
//! A merge moves the duplicate's invitations to the survivor and removes the duplicate. It
//! never touches responses: each response carries the organization type it was submitted
//! with, so no score changes.

use crate::db::models::{self, Cluster, Operation, Organization};
use crate::db::schema::{clusters, invitations, operations, organizations};
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::domain::directory::{
    check_cluster_language, check_default_language, check_lead_emails, require_text,
    OrganizationView,
};
use crate::kernel::access::Actor;
use crate::kernel::error::{fields_result, AppError, Fields};
use crate::kernel::time::now;
use crate::kernel::vocab::OrgType;
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// A present JSON `null` as `Some(None)`, so a patch can clear a field.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to a cluster; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClusterPatch {
    /// Not blank, at most 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// en, fr, es or ar: the language of the scorecard emails.
    #[schema(value_type = Option<crate::kernel::vocab::Language>)]
    pub language: Option<String>,
    /// The scorecard recipients (replaces the list).
    pub lead_emails: Option<Vec<String>>,
}

/// Changes to an operation; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OperationPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// en, fr, es or ar; `null`: follow the visitor's browser.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<crate::kernel::vocab::Language>, nullable)]
    pub default_language: Option<Option<String>>,
    /// true archives (no new rounds), false brings it back.
    pub archived: Option<bool>,
}

/// Changes to a partner organization; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// The type used for invitations from now on; past responses keep theirs.
    #[schema(value_type = Option<crate::kernel::vocab::OrgType>)]
    pub org_type: Option<String>,
    /// true archives (no new invitations), false brings it back.
    pub archived: Option<bool>,
}

/// Which organization survives a merge.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The id of the organization that keeps the duplicate's invitations.
    pub into: i32,
}

#[derive(Serialize, ToSchema)]
pub struct MergeResult {
    /// The survivor.
    pub organization: OrganizationView,
    /// How many invitations moved from the duplicate.
    pub invitations_moved: i64,
}

/// Archive time for a patch's `archived`: `None` leaves it, `Some(x)` sets it to `x`.
fn archive_change(
    archived: Option<bool>,
    current: Option<chrono::NaiveDateTime>,
) -> Option<Option<chrono::NaiveDateTime>> {
    match archived {
        Some(true) if current.is_none() => Some(Some(now())),
        Some(false) if current.is_some() => Some(None),
        _ => None,
    }
}

pub fn update_cluster(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &str,
    p: ClusterPatch,
) -> Result<Cluster, AppError> {
    actor.require_admin()?;
    let mut fields = Fields::new();
    if let Some(n) = &p.name {
        require_text(&mut fields, "name", n, 200);
    }
    if let Some(l) = &p.language {
        check_cluster_language(&mut fields, l);
    }
    let emails = p
        .lead_emails
        .as_deref()
        .map(|e| check_lead_emails(&mut fields, e));
    fields_result(fields)?;
    write_tx(conn, |conn| {
        let c = models::cluster_by_code(conn, code)?
            .ok_or_else(|| AppError::not_found(format!("no cluster with code {code:?}")))?;
        let mut changed = Map::new();
        if let Some(n) = &p.name {
            diesel::update(clusters::table.find(c.id))
                .set(clusters::name.eq(n.trim()))
                .execute(conn)?;
            changed.insert("name".into(), json!({"from": c.name, "to": n.trim()}));
        }
        if let Some(l) = &p.language {
            diesel::update(clusters::table.find(c.id))
                .set(clusters::language.eq(l))
                .execute(conn)?;
            changed.insert("language".into(), json!({"from": c.language, "to": l}));
        }
        if let Some(e) = &emails {
            let text = serde_json::to_string(e).unwrap_or_else(|_| "[]".into());
            diesel::update(clusters::table.find(c.id))
                .set(clusters::lead_emails.eq(text))
                .execute(conn)?;
            changed.insert(
                "lead_emails".into(),
                json!({"from": c.lead_emails(), "to": e}),
            );
        }
        models::audit(
            conn,
            Some(actor.id),
            "cluster.update",
            &format!("cluster:{code}"),
            Value::Object(changed),
        )?;
        Ok(models::cluster_by_id(conn, c.id)?)
    })
}

/// Edits an operation; the operation and its cluster's code.
pub fn update_operation(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    p: OperationPatch,
) -> Result<(Operation, String), AppError> {
    actor.require_admin()?;
    let mut fields = Fields::new();
    if let Some(n) = &p.name {
        require_text(&mut fields, "name", n, 200);
    }
    let language = p
        .default_language
        .as_ref()
        .map(|l| check_default_language(&mut fields, l.as_deref()).map(|l| l.as_str()));
    fields_result(fields)?;
    write_tx(conn, |conn| {
        let op = models::operation_by_slug(conn, slug)?
            .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
        let mut changed = Map::new();
        if let Some(n) = &p.name {
            diesel::update(operations::table.find(op.id))
                .set(operations::name.eq(n.trim()))
                .execute(conn)?;
            changed.insert("name".into(), json!({"from": op.name, "to": n.trim()}));
        }
        if let Some(l) = language {
            diesel::update(operations::table.find(op.id))
                .set(operations::default_language.eq(l))
                .execute(conn)?;
            changed.insert(
                "default_language".into(),
                json!({"from": op.default_language, "to": l}),
            );
        }
        if let Some(at) = archive_change(p.archived, op.archived_at) {
            diesel::update(operations::table.find(op.id))
                .set(operations::archived_at.eq(at))
                .execute(conn)?;
            changed.insert("archived".into(), json!(at.is_some()));
        }
        models::audit(
            conn,
            Some(actor.id),
            "operation.update",
            &format!("operation:{slug}"),
            Value::Object(changed),
        )?;
        let op = models::operation_by_slug(conn, slug)?
            .ok_or_else(|| AppError::not_found("operation"))?;
        let code = models::cluster_by_id(conn, op.cluster_id)?.code;
        Ok((op, code))
    })
}

fn organization(conn: &mut DbConnection, id: i32) -> Result<Organization, AppError> {
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no organization with id {id}")))
}

pub fn update_organization(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    p: OrganizationPatch,
) -> Result<OrganizationView, AppError> {
    actor.require_admin()?;
    let mut fields = Fields::new();
    if let Some(n) = &p.name {
        require_text(&mut fields, "name", n, 200);
    }
    if let Some(t) = &p.org_type {
        if let Err(e) = OrgType::parse(t) {
            fields.insert("org_type".into(), e);
        }
    }
    fields_result(fields)?;
    write_tx(conn, |conn| {
        let org = organization(conn, id)?;
        let mut changed = Map::new();
        if let Some(n) = &p.name {
            diesel::update(organizations::table.find(id))
                .set((
                    organizations::name.eq(n.trim()),
                    organizations::name_key.eq(models::org_name_key(n)),
                ))
                .execute(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        AppError::Conflict(format!(
                            "an organization named {:?} already exists; merge them instead",
                            n.trim()
                        ))
                    } else {
                        e.into()
                    }
                })?;
            changed.insert("name".into(), json!({"from": org.name, "to": n.trim()}));
        }
        if let Some(t) = &p.org_type {
            diesel::update(organizations::table.find(id))
                .set(organizations::org_type.eq(t))
                .execute(conn)?;
            changed.insert("org_type".into(), json!({"from": org.org_type, "to": t}));
        }
        if let Some(at) = archive_change(p.archived, org.archived_at) {
            diesel::update(organizations::table.find(id))
                .set(organizations::archived_at.eq(at))
                .execute(conn)?;
            changed.insert("archived".into(), json!(at.is_some()));
        }
        models::audit(
            conn,
            Some(actor.id),
            "organization.update",
            &format!("organization:{id}"),
            Value::Object(changed),
        )?;
        Ok(OrganizationView::of(&organization(conn, id)?))
    })
}

/// Merges duplicate organization `id` into `b.into`: its invitations move to the survivor
/// (each keeps the organization type it was sent with) and the duplicate is removed.
pub fn merge_organization(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    b: MergeBody,
) -> Result<MergeResult, AppError> {
    actor.require_admin()?;
    if b.into == id {
        return Err(AppError::field(
            "into",
            "choose another organization than the duplicate itself",
        ));
    }
    write_tx(conn, |conn| {
        let dup = organization(conn, id)?;
        let survivor = organization(conn, b.into)
            .map_err(|_| AppError::field("into", format!("no organization with id {}", b.into)))?;
        if survivor.archived_at.is_some() {
            return Err(AppError::field(
                "into",
                format!("{:?} is archived; merge into one in use", survivor.name),
            ));
        }
        let moved = diesel::update(invitations::table.filter(invitations::organization_id.eq(id)))
            .set(invitations::organization_id.eq(survivor.id))
            .execute(conn)? as i64;
        diesel::delete(organizations::table.find(id)).execute(conn)?;
        models::audit(
            conn,
            Some(actor.id),
            "organization.merge",
            &format!("organization:{}", survivor.id),
            json!({"merged": {"id": dup.id, "name": dup.name, "org_type": dup.org_type},
                   "invitations_moved": moved}),
        )?;
        Ok(MergeResult {
            organization: OrganizationView::of(&survivor),
            invitations_moved: moved,
        })
    })
}
