//! The directory every other record hangs on: clusters, operations and partner
//! organizations, with who may read and create them.

use crate::db::models::{self, Cluster, NewCluster, NewOperation, Operation};
use crate::db::schema::{clusters, operations, organizations};
use crate::db::{is_unique_violation, write_tx, DbConnection};
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::{fields_result, AppError, Fields};
use crate::kernel::time::now;
use crate::kernel::vocab::{Language, OrgType};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A cluster as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct ClusterView {
    pub id: i32,
    /// Short lowercase code, e.g. `shelter`.
    pub code: String,
    pub name: String,
    /// Where the cluster's scorecards are emailed.
    pub lead_emails: Vec<String>,
    /// Language of the scorecard emails: en, fr, es or ar.
    pub language: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl ClusterView {
    pub fn of(c: &Cluster) -> ClusterView {
        ClusterView {
            id: c.id,
            code: c.code.clone(),
            name: c.name.clone(),
            lead_emails: c.lead_emails(),
            language: c.language.clone(),
            created_at: crate::kernel::time::rfc3339(c.created_at),
        }
    }
}

/// A cluster with the operations the caller may read.
#[derive(Serialize, ToSchema)]
pub struct ClusterDetail {
    #[serde(flatten)]
    pub cluster: ClusterView,
    pub operations: Vec<OperationView>,
}

#[derive(Serialize, ToSchema)]
pub struct ClusterList {
    pub clusters: Vec<ClusterView>,
}

/// An operation (a cluster in one country or crisis) as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct OperationView {
    pub id: i32,
    pub slug: String,
    /// The cluster's code.
    pub cluster: String,
    /// ISO 3166 alpha-2.
    pub country: String,
    pub name: String,
    /// The language its public pages open in (absent: the visitor's browser, then English).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::kernel::vocab::Language>)]
    pub default_language: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC: archived (no new rounds), its history still readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub archived_at: Option<String>,
}

impl OperationView {
    pub fn of(o: &Operation, cluster_code: &str) -> OperationView {
        OperationView {
            id: o.id,
            slug: o.slug.clone(),
            cluster: cluster_code.to_string(),
            country: o.country.clone(),
            name: o.name.clone(),
            default_language: o.default_language.clone(),
            created_at: crate::kernel::time::rfc3339(o.created_at),
            archived_at: o.archived_at.map(crate::kernel::time::rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OperationList {
    pub operations: Vec<OperationView>,
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: i32,
    pub name: String,
    pub org_type: String,
    /// RFC 3339, UTC (in the reply to a create).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub created_at: Option<String>,
    /// RFC 3339, UTC: archived (no new invitations), its history still readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub archived_at: Option<String>,
}

impl OrganizationView {
    pub fn of(o: &models::Organization) -> OrganizationView {
        OrganizationView {
            id: o.id,
            name: o.name.clone(),
            org_type: o.org_type.clone(),
            created_at: Some(crate::kernel::time::rfc3339(o.created_at)),
            archived_at: o.archived_at.map(crate::kernel::time::rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationList {
    pub organizations: Vec<OrganizationView>,
}

/// A new cluster (admins only).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterBody {
    /// 2–64 lowercase letters, digits and hyphens.
    #[schema(example = "shelter", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub code: String,
    /// Not blank, at most 200 characters.
    #[schema(example = "Global Shelter Cluster", min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub lead_emails: Vec<String>,
    /// en (default), fr, es or ar.
    #[serde(default)]
    #[schema(value_type = Option<crate::kernel::vocab::Language>)]
    pub language: Option<String>,
}

/// Lowercase slug: letters, digits and hyphens, 2–64 characters, no leading/trailing hyphen.
pub fn check_slug(field: &str, s: &str) -> Result<(), AppError> {
    let ok = (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(AppError::field(
            field,
            "use 2–64 lowercase letters, digits and hyphens (e.g. shelter-yemen)",
        ))
    }
}

pub(crate) fn require_text(fields: &mut Fields, name: &str, value: &str, max: usize) {
    if let Err(e) = crate::kernel::text::check_name(value, max) {
        fields.insert(name.into(), e);
    }
}

/// Checks a cluster's lead emails (the scorecard recipients); the normalized list.
pub(crate) fn check_lead_emails(fields: &mut Fields, given: &[String]) -> Vec<String> {
    let mut emails = Vec::new();
    for e in given {
        if models::check_email(e).is_err() {
            fields.insert(
                "lead_emails".into(),
                format!("{e:?} is not a valid email address"),
            );
        } else {
            emails.push(models::normalize_email(e));
        }
    }
    emails
}

pub(crate) fn check_cluster_language(fields: &mut Fields, language: &str) {
    if Language::parse(language).is_err() {
        fields.insert(
            "language".into(),
            format!("use one of: {}", Language::texts().join(", ")),
        );
    }
}

/// Checks an operation's default language, if given.
pub(crate) fn check_default_language(fields: &mut Fields, given: Option<&str>) -> Option<Language> {
    match given.map(Language::parse) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            fields.insert("default_language".into(), e);
            None
        }
    }
}

/// Creates a cluster (admins only).
pub fn create_cluster(
    conn: &mut DbConnection,
    actor: &Actor,
    b: ClusterBody,
) -> Result<Cluster, AppError> {
    actor.require_admin()?;
    check_slug("code", &b.code)?;
    let mut fields = Fields::new();
    require_text(&mut fields, "name", &b.name, 200);
    let emails = check_lead_emails(&mut fields, &b.lead_emails);
    let language = b.language.clone().unwrap_or_else(|| "en".into());
    check_cluster_language(&mut fields, &language);
    fields_result(fields)?;
    write_tx(conn, |conn| {
        let c = diesel::insert_into(clusters::table)
            .values(NewCluster {
                code: &b.code,
                name: b.name.trim(),
                lead_emails: serde_json::to_string(&emails).unwrap_or_else(|_| "[]".into()),
                language: &language,
                created_at: now(),
            })
            .returning(clusters::id)
            .get_result::<i32>(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    AppError::Conflict(format!("a cluster with code {:?} already exists", b.code))
                } else {
                    e.into()
                }
            })?;
        let c = models::cluster_by_id(conn, c)?;
        models::audit(
            conn,
            Some(actor.id),
            "cluster.create",
            &format!("cluster:{}", c.code),
            json!({}),
        )?;
        Ok(c)
    })
}

/// The clusters `actor` may read.
pub fn clusters(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<ClusterView>, AppError> {
    let all = models::all_clusters(conn)?;
    let ops = models::all_operations(conn)?;
    Ok(all
        .iter()
        .filter(|c| actor.can_read_cluster(c.id, &ops))
        .map(ClusterView::of)
        .collect())
}

/// One cluster (by code) with the operations `actor` may read.
pub fn cluster(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &str,
) -> Result<ClusterDetail, AppError> {
    let c = models::cluster_by_code(conn, code)?
        .ok_or_else(|| AppError::not_found(format!("no cluster with code {code:?}")))?;
    let ops = models::all_operations(conn)?;
    if !actor.can_read_cluster(c.id, &ops) {
        return Err(AppError::forbidden());
    }
    let operations = ops
        .iter()
        .filter(|o| o.cluster_id == c.id && actor.can_read_operation(o))
        .map(|o| OperationView::of(o, &c.code))
        .collect();
    Ok(ClusterDetail {
        cluster: ClusterView::of(&c),
        operations,
    })
}

/// A new operation (admins only).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationBody {
    /// 2–64 lowercase letters, digits and hyphens; not status, new or api.
    #[schema(
        example = "shelter-yemen",
        pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$"
    )]
    pub slug: String,
    /// The cluster's code.
    pub cluster: String,
    /// ISO 3166 alpha-2.
    #[schema(example = "YE", pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The language its public feedback pages open in: en, fr, es or ar. Without it they
    /// follow the visitor's browser, then English.
    #[serde(default)]
    #[schema(value_type = Option<crate::kernel::vocab::Language>)]
    pub default_language: Option<String>,
}

/// Slugs that would collide with fixed routes.
const RESERVED_SLUGS: [&str; 3] = ["status", "new", "api"];

/// Creates an operation (admins only); the operation and its cluster's code.
pub fn create_operation(
    conn: &mut DbConnection,
    actor: &Actor,
    b: OperationBody,
) -> Result<(Operation, String), AppError> {
    actor.require_admin()?;
    check_slug("slug", &b.slug)?;
    if RESERVED_SLUGS.contains(&b.slug.as_str()) {
        return Err(AppError::field(
            "slug",
            format!("{:?} is reserved; choose another slug", b.slug),
        ));
    }
    let mut fields = Fields::new();
    require_text(&mut fields, "name", &b.name, 200);
    let country = b.country.trim().to_uppercase();
    if !(country.len() == 2 && country.bytes().all(|c| c.is_ascii_uppercase())) {
        fields.insert(
            "country".into(),
            "use the two-letter ISO 3166 code (e.g. YE)".into(),
        );
    }
    let language = check_default_language(&mut fields, b.default_language.as_deref());
    fields_result(fields)?;
    write_tx(conn, |conn| {
        let cluster = models::cluster_by_code(conn, &b.cluster)?.ok_or_else(|| {
            AppError::field("cluster", format!("no cluster with code {:?}", b.cluster))
        })?;
        let op = diesel::insert_into(operations::table)
            .values(NewOperation {
                slug: &b.slug,
                cluster_id: cluster.id,
                country: &country,
                name: b.name.trim(),
                created_at: now(),
                default_language: language.map(|l| l.as_str()),
            })
            .returning(operations::id)
            .get_result::<i32>(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    AppError::Conflict(format!(
                        "an operation with slug {:?} already exists",
                        b.slug
                    ))
                } else {
                    e.into()
                }
            })?;
        let op: Operation = operations::table
            .find(op)
            .select(Operation::as_select())
            .first(conn)?;
        models::audit(
            conn,
            Some(actor.id),
            "operation.create",
            &format!("operation:{}", op.slug),
            json!({}),
        )?;
        Ok((op, cluster.code))
    })
}

/// The operations `actor` may read, by slug.
pub fn operations(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<OperationView>, AppError> {
    let rows: Vec<(Operation, String)> = operations::table
        .inner_join(clusters::table)
        .order(operations::slug)
        .select((Operation::as_select(), clusters::code))
        .load(conn)?;
    Ok(rows
        .iter()
        .filter(|(o, _)| actor.can_read_operation(o))
        .map(|(o, c)| OperationView::of(o, c))
        .collect())
}

/// One operation (by slug) that `actor` may read.
pub fn operation(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
) -> Result<OperationView, AppError> {
    let op = models::operation_by_slug(conn, slug)?
        .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
    if !actor.can_read_operation(&op) {
        return Err(AppError::forbidden());
    }
    let code = models::cluster_by_id(conn, op.cluster_id)?.code;
    Ok(OperationView::of(&op, &code))
}

/// A new partner organization (admins and coordinators).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationBody {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(value_type = crate::kernel::vocab::OrgType)]
    pub org_type: String,
}

/// Adds a partner organization: admins and coordinators (who invite partners).
pub fn create_organization(
    conn: &mut DbConnection,
    actor: &Actor,
    b: OrganizationBody,
) -> Result<OrganizationView, AppError> {
    if !matches!(actor.role, Role::Admin | Role::Coordinator) {
        return Err(AppError::Forbidden(
            "only admins and coordinators can add organizations".into(),
        ));
    }
    let mut fields = Fields::new();
    require_text(&mut fields, "name", &b.name, 200);
    if let Err(e) = OrgType::parse(&b.org_type) {
        fields.insert("org_type".into(), e);
    }
    fields_result(fields)?;
    let org = write_tx(conn, |conn| -> Result<_, AppError> {
        let org = models::insert_organization(conn, &b.name, &b.org_type).map_err(|e| {
            if is_unique_violation(&e) {
                AppError::Conflict(format!(
                    "an organization named {:?} already exists",
                    b.name.trim()
                ))
            } else {
                e.into()
            }
        })?;
        models::audit(
            conn,
            Some(actor.id),
            "organization.create",
            &format!("organization:{}", org.id),
            json!({}),
        )?;
        Ok(org)
    })?;
    Ok(OrganizationView::of(&org))
}

/// Every partner organization, by name.
pub fn organizations(conn: &mut DbConnection) -> Result<Vec<OrganizationView>, AppError> {
    let rows: Vec<models::Organization> = organizations::table
        .order(organizations::name_key)
        .select(models::Organization::as_select())
        .load(conn)?;
    Ok(rows
        .iter()
        .map(|o| OrganizationView {
            created_at: None,
            ..OrganizationView::of(o)
        })
        .collect())
}
