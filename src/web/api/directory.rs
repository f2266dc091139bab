//! Clusters, operations and organizations: the directory every other record hangs on.

use crate::db::models::{self, Cluster, NewCluster, NewOperation, Operation};
use crate::db::schema::{clusters, operations, organizations};
use crate::db::{is_unique_violation, write_tx};
use crate::kernel::error::{fields_result, AppError, Fields};
use crate::kernel::time::now;
use crate::kernel::vocab::Language;
use crate::web::auth::CurrentUser;
use crate::web::error::ErrorBody;
use crate::web::State;
use actix_web::{web, HttpResponse};
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
    fn of(c: &Cluster) -> ClusterView {
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
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl OperationView {
    fn of(o: &Operation, cluster_code: &str) -> OperationView {
        OperationView {
            id: o.id,
            slug: o.slug.clone(),
            cluster: cluster_code.to_string(),
            country: o.country.clone(),
            name: o.name.clone(),
            created_at: crate::kernel::time::rfc3339(o.created_at),
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
    code: String,
    /// Not blank, at most 200 characters.
    #[schema(example = "Global Shelter Cluster", min_length = 1, max_length = 200)]
    name: String,
    #[serde(default)]
    lead_emails: Vec<String>,
    /// en (default), fr, es or ar.
    #[serde(default)]
    #[schema(value_type = Option<crate::kernel::vocab::Language>)]
    language: Option<String>,
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

fn require_text(fields: &mut Fields, name: &str, value: &str, max: usize) {
    if let Err(e) = crate::kernel::text::check_name(value, max) {
        fields.insert(name.into(), e);
    }
}

#[utoipa::path(post, path = "/api/v1/clusters", tag = "directory",
    summary = "Create a cluster (admins)", request_body = ClusterBody,
    responses((status = 201, description = "created", body = ClusterView),
              (status = 409, description = "the code is taken", body = ErrorBody)))]
pub async fn create_cluster(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<ClusterBody>,
) -> Result<HttpResponse, AppError> {
    user.require_admin()?;
    let b = body.into_inner();
    check_slug("code", &b.code)?;
    let mut fields = Fields::new();
    require_text(&mut fields, "name", &b.name, 200);
    let mut emails = Vec::new();
    for e in &b.lead_emails {
        if models::check_email(e).is_err() {
            fields.insert(
                "lead_emails".into(),
                format!("{e:?} is not a valid email address"),
            );
        } else {
            emails.push(models::normalize_email(e));
        }
    }
    let language = b.language.unwrap_or_else(|| "en".into());
    if Language::parse(&language).is_err() {
        fields.insert(
            "language".into(),
            format!("use one of: {}", Language::texts().join(", ")),
        );
    }
    fields_result(fields)?;
    let actor = user.id;
    let created = state
        .db(move |conn| {
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
                            AppError::Conflict(format!(
                                "a cluster with code {:?} already exists",
                                b.code
                            ))
                        } else {
                            e.into()
                        }
                    })?;
                let c = models::cluster_by_id(conn, c)?;
                models::audit(
                    conn,
                    Some(actor),
                    "cluster.create",
                    &format!("cluster:{}", c.code),
                    json!({}),
                )?;
                Ok(c)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(ClusterView::of(&created)))
}

#[utoipa::path(get, path = "/api/v1/clusters", tag = "directory",
    summary = "Clusters the caller may read",
    responses((status = 200, description = "clusters", body = ClusterList)))]
pub async fn list_clusters(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let items = state
        .db(move |conn| {
            let all = models::all_clusters(conn)?;
            let ops = models::all_operations(conn)?;
            Ok(all
                .iter()
                .filter(|c| user.can_read_cluster(c.id, &ops))
                .map(ClusterView::of)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(ClusterList { clusters: items }))
}

#[utoipa::path(get, path = "/api/v1/clusters/{code}", tag = "directory",
    summary = "One cluster with its operations", params(("code" = String, Path, description = "cluster code")),
    responses((status = 200, description = "the cluster", body = ClusterDetail)))]
pub async fn get_cluster(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let item = state
        .db(move |conn| {
            let c = models::cluster_by_code(conn, &code)?
                .ok_or_else(|| AppError::not_found(format!("no cluster with code {code:?}")))?;
            let ops = models::all_operations(conn)?;
            if !user.can_read_cluster(c.id, &ops) {
                return Err(AppError::forbidden());
            }
            let operations = ops
                .iter()
                .filter(|o| o.cluster_id == c.id && user.can_read_operation(o))
                .map(|o| OperationView::of(o, &c.code))
                .collect();
            Ok(ClusterDetail {
                cluster: ClusterView::of(&c),
                operations,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
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
    slug: String,
    /// The cluster's code.
    cluster: String,
    /// ISO 3166 alpha-2.
    #[schema(example = "YE", pattern = "^[A-Za-z]{2}$")]
    country: String,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

/// Slugs that would collide with fixed routes.
const RESERVED_SLUGS: [&str; 3] = ["status", "new", "api"];

#[utoipa::path(post, path = "/api/v1/operations", tag = "directory",
    summary = "Create an operation (admins)", request_body = OperationBody,
    responses((status = 201, description = "created", body = OperationView),
              (status = 409, description = "the slug is taken", body = ErrorBody)))]
pub async fn create_operation(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<OperationBody>,
) -> Result<HttpResponse, AppError> {
    user.require_admin()?;
    let b = body.into_inner();
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
    fields_result(fields)?;
    let actor = user.id;
    let (op, code) = state
        .db(move |conn| {
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
                    Some(actor),
                    "operation.create",
                    &format!("operation:{}", op.slug),
                    json!({}),
                )?;
                Ok((op, cluster.code))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(OperationView::of(&op, &code)))
}

#[utoipa::path(get, path = "/api/v1/operations", tag = "directory",
    summary = "Operations the caller may read",
    responses((status = 200, description = "operations", body = OperationList)))]
pub async fn list_operations(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let items = state
        .db(move |conn| {
            let rows: Vec<(Operation, String)> = operations::table
                .inner_join(clusters::table)
                .order(operations::slug)
                .select((Operation::as_select(), clusters::code))
                .load(conn)?;
            Ok(rows
                .iter()
                .filter(|(o, _)| user.can_read_operation(o))
                .map(|(o, c)| OperationView::of(o, c))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(OperationList { operations: items }))
}

#[utoipa::path(get, path = "/api/v1/operations/{slug}", tag = "directory",
    summary = "One operation", params(("slug" = String, Path, description = "operation slug")),
    responses((status = 200, description = "the operation", body = OperationView)))]
pub async fn get_operation(
    state: State,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let item = state
        .db(move |conn| {
            let op = models::operation_by_slug(conn, &slug)?
                .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
            if !user.can_read_operation(&op) {
                return Err(AppError::forbidden());
            }
            let code = models::cluster_by_id(conn, op.cluster_id)?.code;
            Ok(OperationView::of(&op, &code))
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

/// A new partner organization (admins and coordinators).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationBody {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(value_type = crate::kernel::vocab::OrgType)]
    org_type: String,
}

/// Admins and coordinators (who invite partners) may add organizations.
#[utoipa::path(post, path = "/api/v1/organizations", tag = "directory",
    summary = "Add a partner organization (admins, coordinators)", request_body = OrganizationBody,
    responses((status = 201, description = "created", body = OrganizationView),
              (status = 409, description = "the name is taken", body = ErrorBody)))]
pub async fn create_organization(
    state: State,
    user: CurrentUser,
    body: crate::web::api::JsonObject<OrganizationBody>,
) -> Result<HttpResponse, AppError> {
    if !matches!(
        user.role,
        crate::kernel::access::Role::Admin | crate::kernel::access::Role::Coordinator
    ) {
        return Err(AppError::Forbidden(
            "only admins and coordinators can add organizations".into(),
        ));
    }
    let b = body.into_inner();
    let mut fields = Fields::new();
    require_text(&mut fields, "name", &b.name, 200);
    if let Err(e) = crate::kernel::vocab::OrgType::parse(&b.org_type) {
        fields.insert("org_type".into(), e);
    }
    fields_result(fields)?;
    let actor = user.id;
    let org = state
        .db(move |conn| {
            write_tx(conn, |conn| {
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
                    Some(actor),
                    "organization.create",
                    &format!("organization:{}", org.id),
                    json!({}),
                )?;
                Ok(org)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(OrganizationView {
        id: org.id,
        name: org.name,
        org_type: org.org_type,
        created_at: Some(crate::kernel::time::rfc3339(org.created_at)),
    }))
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "directory",
    summary = "Partner organizations",
    responses((status = 200, description = "organizations", body = OrganizationList)))]
pub async fn list_organizations(
    state: State,
    _user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let items = state
        .db(|conn| {
            let rows: Vec<(i32, String, String)> = organizations::table
                .order(organizations::name_key)
                .select((
                    organizations::id,
                    organizations::name,
                    organizations::org_type,
                ))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(id, name, org_type)| OrganizationView {
                    id,
                    name,
                    org_type,
                    created_at: None,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(OrganizationList {
        organizations: items,
    }))
}
