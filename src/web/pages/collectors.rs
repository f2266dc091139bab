//! An operation's collector accounts for ODK Collect (coordinators and admins): make one
//! (its settings QR code and address are shown once, on the page that made it), list and
//! revoke them. The rules are in [`crate::domain::collectors`].

use super::{as_page, check_form_csrf, html, redirect, to_login, user_json};
use crate::domain::collectors::{self, CollectorBody, DEFAULT_CHANNEL};
use crate::domain::feedback::CHANNELS;
use crate::kernel::error::AppError;
use crate::web::auth::{CurrentUser, PageUser};
use crate::web::State;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

crate::web::routes::route_table! {
    "/operations/{slug}/collectors" => { GET page, POST create },
    "/operations/{slug}/collectors/{id}/revoke" => { POST revoke },
}

async fn render(
    state: &State,
    user: &CurrentUser,
    slug: String,
    flash: Value,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let list = state
        .db(move |conn| collectors::list(conn, &actor, &slug).map(|l| (slug, l)))
        .await?;
    let channels: Vec<Value> = CHANNELS
        .iter()
        .map(|c| json!({"value": c, "selected": *c == DEFAULT_CHANNEL}))
        .collect();
    let body = state.templates.render(
        "collectors",
        &json!({
            "title": "Collecting offline",
            "user": user_json(user),
            "csrf_token": user.csrf,
            "slug": list.0,
            "collectors": list.1,
            "channels": channels,
            "flash": flash,
        }),
    )?;
    let mut r = html(body);
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn page(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        let flash = match q.done.as_deref() {
            Some("revoked") => {
                json!({"done": "Collector revoked: its app can no longer fetch the form or send."})
            }
            _ => json!({}),
        };
        render(&state, &user, path.into_inner(), flash, StatusCode::OK).await
    })
    .await
}

#[derive(Deserialize)]
pub struct CollectorForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    channel: String,
}

async fn create(
    state: State,
    req: HttpRequest,
    user: PageUser,
    path: web::Path<String>,
    form: web::Form<CollectorForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, f) = (path.into_inner(), form.into_inner());
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        check_form_csrf(&user, &f.csrf_token)?;
        let base = crate::web::public_base(&state, &req);
        let (actor, s) = (user.actor.clone(), slug.clone());
        let b = CollectorBody {
            name: f.name,
            channel: Some(f.channel),
        };
        let made = state
            .db(move |conn| collectors::create(conn, &actor, &s, b, &base))
            .await;
        match made {
            Ok(c) => {
                let qr = base64::engine::general_purpose::STANDARD.encode(c.qr_svg.as_bytes());
                let flash = json!({"made": {
                    "name": c.collector.name,
                    "server_url": c.server_url,
                    "qr": format!("data:image/svg+xml;base64,{qr}"),
                }});
                render(&state, &user, slug, flash, StatusCode::OK).await
            }
            Err(e @ AppError::BadRequest { .. }) => {
                let sentence = match e.fields().iter().next() {
                    Some((field, problem)) => format!("{field}: {problem}"),
                    None => e.client_message(),
                };
                let flash = json!({"error": sentence});
                render(&state, &user, slug, flash, StatusCode::BAD_REQUEST).await
            }
            Err(e) => Err(e),
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

async fn revoke(
    state: State,
    user: PageUser,
    path: web::Path<(String, i32)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let ((slug, id), f) = (path.into_inner(), form.into_inner());
    as_page(&state, async {
        let Some(user) = user.0 else {
            return Ok(to_login());
        };
        check_form_csrf(&user, &f.csrf_token)?;
        let (actor, s) = (user.actor.clone(), slug.clone());
        state
            .db(move |conn| collectors::revoke(conn, &actor, &s, id))
            .await?;
        Ok(redirect(&format!(
            "/operations/{}/collectors?done=revoked",
            percent_encoding::utf8_percent_encode(&slug, percent_encoding::NON_ALPHANUMERIC)
        )))
    })
    .await
}
