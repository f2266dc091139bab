//! The admin page of the directory: edit clusters (name, language, lead emails), operations
//! (name, default language, archived) and organizations (name, type, archived, merge into
//! another). The rules are in [`crate::domain::directory_edit`]; a refused change answers a
//! page naming the field.

use super::admin::admin;
use super::{as_page, check_form_csrf, html, user_json};
use crate::db::models;
use crate::db::DbConnection;
use crate::domain::directory::{self, OrganizationView};
use crate::domain::directory_edit::{self as edit, ClusterPatch, MergeBody};
use crate::domain::directory_edit::{OperationPatch, OrganizationPatch};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::kernel::vocab::{Language, OrgType};
use crate::web::auth::PageUser;
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

crate::web::routes::route_table! {
    "/admin/directory" => { GET directory_page },
    "/admin/directory/clusters/{code}" => { POST cluster },
    "/admin/directory/operations/{slug}" => { POST operation },
    "/admin/directory/operations/{slug}/areas" [web::PayloadConfig::new(crate::web::BODY_LIMIT_AREAS)] => { POST areas },
    "/admin/directory/organizations/{id}" => { POST organization },
    "/admin/directory/organizations/{id}/merge" => { POST merge },
}

fn back(done: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin/directory?done={done}")))
        .finish()
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn choices(all: &[&'static str], current: Option<&str>) -> Vec<serde_json::Value> {
    all.iter()
        .map(|v| json!({"value": v, "selected": Some(*v) == current}))
        .collect()
}

async fn directory_page(
    state: State,
    user: PageUser,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        let (clusters, ops, orgs, area_counts) = state
            .db(|conn| {
                Ok((
                    models::all_clusters(conn)?,
                    models::all_operations(conn)?,
                    directory::organizations(conn)?,
                    crate::domain::areas::counts(conn)?,
                ))
            })
            .await?;
        let langs = Language::texts();
        let types = OrgType::texts();
        let clusters: Vec<_> = clusters
            .iter()
            .map(|c| {
                json!({"code": c.code, "name": c.name, "lead_emails": c.lead_emails().join(", "),
                       "languages": choices(&langs, Some(&c.language))})
            })
            .collect();
        let ops: Vec<_> = ops
            .iter()
            .map(|o| {
                let (admin1, admin2) = area_counts.get(&o.id).copied().unwrap_or_default();
                json!({"slug": o.slug, "name": o.name, "archived": o.archived_at.is_some(),
                       "languages": choices(&langs, o.default_language.as_deref()),
                       "areas": {"admin1": admin1, "admin2": admin2}})
            })
            .collect();
        let orgs: Vec<_> = orgs
            .iter()
            .map(|o: &OrganizationView| {
                json!({"id": o.id, "name": o.name, "archived": o.archived_at.is_some(),
                       "types": choices(&types, Some(&o.org_type))})
            })
            .collect();
        let done = match q.done.as_deref() {
            Some("saved") => Some("Saved."),
            Some("areas") => Some("Areas list replaced: the feedback form offers it from now on."),
            Some("merged") => {
                Some("Merged: the duplicate's invitations now belong to the other organization.")
            }
            _ => None,
        };
        let body = state.templates.render(
            "directory",
            &json!({"title": "Directory", "user": user_json(&user), "csrf_token": user.csrf,
                    "clusters": clusters, "operations": ops, "organizations": orgs,
                    "all_organizations": orgs, "done": done}),
        )?;
        Ok(html(body))
    })
    .await
}

/// An admin's posted change: checks the session and the form's CSRF token, runs `act` and
/// sends them back to the directory page with notice `done`; a refusal is a page.
async fn save<T: Send + 'static>(
    state: State,
    user: PageUser,
    csrf: String,
    done: &'static str,
    act: impl FnOnce(&mut DbConnection, &Actor) -> Result<T, AppError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        check_form_csrf(&user, &csrf)?;
        let actor = user.actor.clone();
        state.db(move |conn| act(conn, &actor)).await?;
        Ok(back(done))
    })
    .await
}

#[derive(Deserialize)]
pub struct ClusterForm {
    csrf_token: String,
    name: String,
    language: String,
    #[serde(default)]
    lead_emails: String,
}

/// A list typed in one box: separated by commas, semicolons or line breaks.
fn split_list(s: &str) -> Vec<String> {
    s.split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(String::from)
        .collect()
}

async fn cluster(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    form: web::Form<ClusterForm>,
) -> Result<HttpResponse, AppError> {
    let (f, code) = (form.into_inner(), path.into_inner());
    let p = ClusterPatch {
        name: Some(f.name),
        language: Some(f.language),
        lead_emails: Some(split_list(&f.lead_emails)),
    };
    save(state, user, f.csrf_token, "saved", move |conn, actor| {
        edit::update_cluster(conn, actor, &code, p)
    })
    .await
}

/// `archived` is a checkbox: present (any value) means archived.
#[derive(Deserialize)]
pub struct OperationForm {
    csrf_token: String,
    name: String,
    #[serde(default)]
    default_language: String,
    archived: Option<String>,
}

async fn operation(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    form: web::Form<OperationForm>,
) -> Result<HttpResponse, AppError> {
    let (f, slug) = (form.into_inner(), path.into_inner());
    let lang = Some(f.default_language.trim().to_string()).filter(|l| !l.is_empty());
    let p = OperationPatch {
        name: Some(f.name),
        default_language: Some(lang),
        archived: Some(f.archived.is_some()),
    };
    save(state, user, f.csrf_token, "saved", move |conn, actor| {
        edit::update_operation(conn, actor, &slug, p)
    })
    .await
}

#[derive(Deserialize)]
pub struct OrganizationForm {
    csrf_token: String,
    name: String,
    org_type: String,
    archived: Option<String>,
}

async fn organization(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<OrganizationForm>,
) -> Result<HttpResponse, AppError> {
    let (f, id) = (form.into_inner(), path.into_inner());
    let p = OrganizationPatch {
        name: Some(f.name),
        org_type: Some(f.org_type),
        archived: Some(f.archived.is_some()),
    };
    save(state, user, f.csrf_token, "saved", move |conn, actor| {
        edit::update_organization(conn, actor, id, p)
    })
    .await
}

#[derive(Deserialize)]
pub struct MergeForm {
    csrf_token: String,
    #[serde(default)]
    into: String,
}

async fn merge(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<MergeForm>,
) -> Result<HttpResponse, AppError> {
    let (f, id) = (form.into_inner(), path.into_inner());
    let into = f.into.trim().parse::<i32>().ok();
    save(state, user, f.csrf_token, "merged", move |conn, actor| {
        let into =
            into.ok_or_else(|| AppError::field("into", "choose the organization to keep"))?;
        edit::merge_organization(conn, actor, id, MergeBody { into })
    })
    .await
}

/// A COD CSV posted from an operation's card (multipart): it replaces the operation's
/// areas list, or the page names the file and line of the problem.
async fn areas(
    state: State,
    user: PageUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        let (name, bytes) = super::posted_file(&user, &req, &body)?;
        let actor = user.actor.clone();
        state
            .db(move |conn| crate::domain::areas::upload(conn, &actor, &slug, &name, &bytes))
            .await?;
        Ok(back("areas"))
    })
    .await
}
