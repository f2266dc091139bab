//! Admin pages: the staff accounts (invite, change role and scope, disable and enable) and
//! the audit log with filters. The rules are in [`crate::domain::users`],
//! [`crate::domain::account_links`] and [`crate::domain::audit`].

use super::{as_page, check_form_csrf, html, to_login, user_json};
use crate::db::models;
use crate::domain::account_links::{self, InviteBody};
use crate::domain::audit;
use crate::domain::users::{self, UserUpdate};
use crate::kernel::access::Role;
use crate::kernel::error::AppError;
use crate::web::auth::{CurrentUser, PageUser};
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

crate::web::routes::route_table! {
    "/admin/users" => { GET users_page },
    "/admin/users/invitations" => { POST invite },
    "/admin/users/{id}" => { POST update },
    "/admin/users/{id}/status" => { POST set_status },
    "/admin/audit" => { GET audit_page },
}

/// The signed-in admin, or the answer to give instead: to sign in, or 403.
pub(super) fn admin(user: PageUser) -> Result<Result<CurrentUser, HttpResponse>, AppError> {
    match user.0 {
        None => Ok(Err(to_login())),
        Some(u) => {
            u.require_admin()?;
            Ok(Ok(u))
        }
    }
}

fn back_to_users(notice: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin/users?done={notice}")))
        .finish()
}

#[derive(Deserialize)]
pub struct UsersQuery {
    done: Option<String>,
}

async fn users_page(
    state: State,
    user: PageUser,
    q: web::Query<UsersQuery>,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        let actor = user.actor.clone();
        let (list, clusters, ops) = state
            .db(move |conn| {
                let list = users::list(conn, &actor)?;
                let clusters = models::all_clusters(conn)?;
                let ops = models::all_operations(conn)?;
                Ok((list, clusters, ops))
            })
            .await?;
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        let rows: Vec<Value> = list
            .iter()
            .map(|u| {
                let mut v = serde_json::to_value(u).unwrap_or(Value::Null);
                v["roles"] = json!(roles
                    .iter()
                    .map(|r| json!({"value": r, "selected": *r == u.role}))
                    .collect::<Vec<_>>());
                v["clusters"] = json!(clusters
                    .iter()
                    .map(|c| json!({"code": c.code, "selected": u.cluster.as_deref() == Some(c.code.as_str())}))
                    .collect::<Vec<_>>());
                v["ops"] = json!(ops
                    .iter()
                    .map(|o| json!({"slug": o.slug, "selected": u.operations.contains(&o.slug)}))
                    .collect::<Vec<_>>());
                v["countries"] = json!(u.countries.join(" "));
                v["disabled"] = json!(u.status == crate::kernel::vocab::UserStatus::Disabled);
                v["is_self"] = json!(u.id == user.id);
                v
            })
            .collect();
        let done = match q.done.as_deref() {
            Some("invited") => Some("Invitation sent: the link is on its way by email."),
            Some("updated") => Some("Role and scope saved."),
            Some("disabled") => Some("Account disabled: its sessions and API tokens have ended."),
            Some("enabled") => Some("Account enabled."),
            _ => None,
        };
        let body = state.templates.render(
            "users",
            &json!({
                "title": "Users",
                "user": user_json(&user),
                "csrf_token": user.csrf,
                "users": rows,
                "roles": roles,
                "clusters": clusters.iter().map(|c| json!({"code": c.code, "name": c.name})).collect::<Vec<_>>(),
                "operations": ops.iter().map(|o| json!({"slug": o.slug, "name": o.name})).collect::<Vec<_>>(),
                "done": done,
            }),
        )?;
        Ok(html(body))
    })
    .await
}

/// A posted account form: `csrf_token`, `email`, `role`, `cluster` and any number of
/// `operations` (a multiple select).
struct AccountForm {
    csrf_token: String,
    email: String,
    role: String,
    cluster: Option<String>,
    operations: Vec<String>,
    countries: Vec<String>,
    disabled: Option<String>,
}

fn account_form(pairs: Vec<(String, String)>) -> AccountForm {
    let mut f = AccountForm {
        csrf_token: String::new(),
        email: String::new(),
        role: String::new(),
        cluster: None,
        operations: Vec::new(),
        countries: Vec::new(),
        disabled: None,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "csrf_token" => f.csrf_token = v,
            "email" => f.email = v,
            "role" => f.role = v,
            "cluster" if !v.trim().is_empty() => f.cluster = Some(v),
            "operations" => f.operations.push(v),
            "countries" => f.countries.push(v),
            "disabled" => f.disabled = Some(v),
            _ => {}
        }
    }
    f
}

async fn invite(
    state: State,
    user: PageUser,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let f = account_form(form.into_inner());
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        check_form_csrf(&user, &f.csrf_token)?;
        let (actor, svc) = (user.actor.clone(), state.app.clone());
        let b = InviteBody {
            email: f.email,
            role: f.role,
            cluster: f.cluster,
            operations: f.operations,
            countries: f.countries,
        };
        state
            .db(move |conn| account_links::invite(conn, &svc, &actor, b))
            .await?;
        Ok(back_to_users("invited"))
    })
    .await
}

async fn update(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    change(state, user, path.into_inner(), form.into_inner(), |f| {
        let b = UserUpdate {
            role: Some(f.role),
            cluster: f.cluster,
            operations: Some(f.operations),
            countries: Some(f.countries),
            disabled: None,
        };
        Ok((b, "updated"))
    })
    .await
}

async fn set_status(
    state: State,
    user: PageUser,
    path: web::Path<i32>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    change(state, user, path.into_inner(), form.into_inner(), |f| {
        let disable = match f.disabled.as_deref() {
            Some("1") => true,
            Some("0") => false,
            _ => {
                return Err(AppError::field(
                    "disabled",
                    "use 1 to disable or 0 to enable",
                ))
            }
        };
        let b = UserUpdate {
            disabled: Some(disable),
            ..Default::default()
        };
        Ok((b, if disable { "disabled" } else { "enabled" }))
    })
    .await
}

/// An admin's posted change to account `id`: `build` turns the form into the update and the
/// notice the users page shows afterwards.
async fn change(
    state: State,
    user: PageUser,
    id: i32,
    pairs: Vec<(String, String)>,
    build: impl FnOnce(AccountForm) -> Result<(UserUpdate, &'static str), AppError>,
) -> Result<HttpResponse, AppError> {
    let f = account_form(pairs);
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        check_form_csrf(&user, &f.csrf_token)?;
        let (b, done) = build(f)?;
        let actor = user.actor.clone();
        state
            .db(move |conn| users::update(conn, &actor, id, b))
            .await?;
        Ok(back_to_users(done))
    })
    .await
}

#[derive(Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

async fn audit_page(
    state: State,
    user: PageUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    as_page(&state, async {
        let user = match admin(user)? {
            Ok(u) => u,
            Err(r) => return Ok(r),
        };
        let (from, to) =
            crate::kernel::time::parse_day_range(q.from.as_deref(), q.to.as_deref())?;
        let page = match q.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| AppError::field("page", "use a page number from 1"))?,
        };
        let filters = audit::Filters {
            actor: q.actor.clone(),
            action: q.action.clone(),
            from,
            to,
            page,
        };
        let actor = user.actor.clone();
        let f = filters.clone();
        let result = state
            .db(move |conn| audit::search(conn, &actor, &f))
            .await?;
        let link = |page: i64| {
            let mut qs = form_urlencoded::Serializer::new(String::new());
            for (k, v) in [("actor", &q.actor), ("action", &q.action), ("from", &q.from), ("to", &q.to)] {
                if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
                    qs.append_pair(k, v);
                }
            }
            qs.append_pair("page", &page.to_string());
            format!("/admin/audit?{}", qs.finish())
        };
        let selected = q.action.clone().unwrap_or_default();
        let body = state.templates.render(
            "audit",
            &json!({
                "title": "Audit log",
                "user": user_json(&user),
                "csrf_token": user.csrf,
                "entries": result.entries,
                "actions": result.actions.iter().map(|a| json!({"value": a, "selected": *a == selected})).collect::<Vec<_>>(),
                "filters": {"actor": q.actor, "from": q.from, "to": q.to},
                "page": result.page,
                "prev": (result.page > 1).then(|| link(result.page - 1)),
                "next": result.has_more.then(|| link(result.page + 1)),
            }),
        )?;
        Ok(html(body))
    })
    .await
}
