//! Clusters, operations and organizations: the directory every other record hangs on.

use crate::db::models::{self, Cluster, NewCluster, NewOperation, Operation};
use crate::db::schema::{clusters, operations, organizations};
use crate::db::{is_unique_violation, now, write_tx};
use crate::error::{fields_result, AppError, Fields};
use crate::web::auth::CurrentUser;
use crate::web::State;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

fn cluster_json(c: &Cluster) -> Value {
    json!({
        "id": c.id,
        "code": c.code,
        "name": c.name,
        "lead_emails": c.lead_emails(),
        "language": c.language,
        "created_at": crate::web::api::rfc3339(c.created_at),
    })
}

fn operation_json(o: &Operation, cluster_code: &str) -> Value {
    json!({
        "id": o.id,
        "slug": o.slug,
        "cluster": cluster_code,
        "country": o.country,
        "name": o.name,
        "created_at": crate::web::api::rfc3339(o.created_at),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterBody {
    code: String,
    name: String,
    #[serde(default)]
    lead_emails: Vec<String>,
    #[serde(default)]
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
    let v = value.trim();
    if v.is_empty() {
        fields.insert(name.into(), "must not be empty".into());
    } else if v.chars().count() > max {
        fields.insert(name.into(), format!("must be at most {max} characters"));
    }
}

pub const LANGUAGES: [&str; 4] = ["en", "fr", "es", "ar"];

pub async fn create_cluster(
    state: State,
    user: CurrentUser,
    body: web::Json<ClusterBody>,
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
    if !LANGUAGES.contains(&language.as_str()) {
        fields.insert("language".into(), "use one of: en, fr, es, ar".into());
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
    Ok(HttpResponse::Created().json(cluster_json(&created)))
}

pub async fn list_clusters(state: State, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let items = state
        .db(move |conn| {
            let all = models::all_clusters(conn)?;
            let ops = models::all_operations(conn)?;
            Ok(all
                .iter()
                .filter(|c| user.can_read_cluster(c.id, &ops))
                .map(cluster_json)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "clusters": items })))
}

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
            let mut j = cluster_json(&c);
            let slugs: Vec<Value> = ops
                .iter()
                .filter(|o| o.cluster_id == c.id && user.can_read_operation(o))
                .map(|o| operation_json(o, &c.code))
                .collect();
            j["operations"] = Value::Array(slugs);
            Ok(j)
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationBody {
    slug: String,
    cluster: String,
    country: String,
    name: String,
}

/// Slugs that would collide with fixed routes.
const RESERVED_SLUGS: [&str; 3] = ["status", "new", "api"];

pub async fn create_operation(
    state: State,
    user: CurrentUser,
    body: web::Json<OperationBody>,
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
    Ok(HttpResponse::Created().json(operation_json(&op, &code)))
}

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
                .map(|(o, c)| operation_json(o, c))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "operations": items })))
}

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
            Ok(operation_json(&op, &code))
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationBody {
    name: String,
    org_type: String,
}

/// Admins and coordinators (who invite partners) may add organizations.
pub async fn create_organization(
    state: State,
    user: CurrentUser,
    body: web::Json<OrganizationBody>,
) -> Result<HttpResponse, AppError> {
    if !matches!(
        user.role,
        crate::auth::Role::Admin | crate::auth::Role::Coordinator
    ) {
        return Err(AppError::Forbidden(
            "only admins and coordinators can add organizations".into(),
        ));
    }
    let b = body.into_inner();
    let mut fields = Fields::new();
    require_text(&mut fields, "name", &b.name, 200);
    if let Err(e) = models::check_org_type(&b.org_type) {
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
    Ok(HttpResponse::Created().json(json!({
        "id": org.id, "name": org.name, "org_type": org.org_type,
        "created_at": crate::web::api::rfc3339(org.created_at),
    })))
}

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
                .map(|(id, name, t)| json!({"id": id, "name": name, "org_type": t}))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "organizations": items })))
}
