//! Membership pages: an operation's register (add, import, send self-assessment links),
//! one entry (change, end, onboarding checklist, a statement entered by the coordinator),
//! the "who meets which commitment" grid, and the focal point's own form at `/m/{token}`
//! in the operation's language (or the one chosen). The rules are in
//! [`crate::domain::membership`].

use super::{as_page, check_form_csrf, html, posted_file, to_login, user_json};
use crate::domain::membership::assessments::{self, AnswerBody, LinksBody};
use crate::domain::membership::commitments::{self, COMMITMENTS};
use crate::domain::membership::register::{self, EndBody, MemberBody, MemberPatch};
use crate::domain::membership::{self as membership, onboarding};
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use crate::kernel::vocab::{CommitmentRating, MembershipLevel, OrgType};
use crate::render::i18n;
use crate::web::auth::{CurrentUser, PageUser};
use crate::web::State;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

crate::web::routes::route_table! {
    "/operations/{slug}/members" => { GET register_page, POST add },
    "/operations/{slug}/members/import" => { POST import },
    "/operations/{slug}/members/{id}" => { GET member_page, POST change },
    "/operations/{slug}/members/{id}/onboarding" => { POST checklist },
    "/operations/{slug}/members/{id}/self-assessment" => { POST enter },
    "/operations/{slug}/self-assessments/links" => { POST links },
    "/operations/{slug}/commitments" => { GET grid_page },
    "/m/{token}" => { GET form, POST submit },
}

/// A posted form's fields, in order (a name may repeat: checkboxes).
struct Posted(Vec<(String, String)>);

impl Posted {
    fn parse(body: &[u8]) -> Posted {
        Posted(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }
    fn opt(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    /// `rating.ID` and `comment.ID` fields as self-assessment answers.
    fn answers(&self) -> BTreeMap<String, AnswerBody> {
        COMMITMENTS
            .iter()
            .filter_map(|c| {
                let rating = self.opt(&format!("rating.{}", c.id))?;
                Some((
                    c.id.to_string(),
                    AnswerBody {
                        rating,
                        comment: self.opt(&format!("comment.{}", c.id)),
                    },
                ))
            })
            .collect()
    }
}

fn see_other(to: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

fn choices(all: &[&'static str], current: &str) -> Vec<Value> {
    all.iter()
        .map(|v| json!({"value": v, "selected": *v == current}))
        .collect()
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn render_register(
    state: &State,
    user: &CurrentUser,
    slug: String,
    flash: Value,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor.clone();
    let (op, reg) = state
        .db(move |conn| {
            let op = membership::operation_for(conn, &actor, &slug, membership::Access::Read)?;
            let reg = register::list(conn, &actor, &slug)?;
            Ok((op, reg))
        })
        .await?;
    let manage = user.can_manage_operation(&op);
    let body = state.templates.render(
        "members",
        &json!({
            "title": format!("Members · {}", op.name),
            "user": user_json(user), "csrf_token": user.csrf,
            "operation": {"slug": op.slug, "name": op.name},
            "members": reg.members, "manage": manage, "flash": flash,
            "org_types": OrgType::texts(), "levels": MembershipLevel::texts(),
            "csv_header": register::CSV_COLUMNS.join(","),
            "today": membership::today().to_string(),
            "year": chrono::Datelike::year(&membership::today()),
        }),
    )?;
    Ok(html(body))
}

async fn register_page(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let flash = match q.done.as_deref() {
        Some("added") => json!({"message": "Added to the register."}),
        Some("imported") => json!({"message": "The file was imported."}),
        _ => Value::Null,
    };
    as_page(
        &state,
        render_register(&state, &user, path.into_inner(), flash),
    )
    .await
}

async fn add(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    as_page(&state, async {
        let f = Posted::parse(&body);
        check_form_csrf(&user, &f.text("csrf_token"))?;
        let b = MemberBody {
            organization: f.text("organization"),
            org_type: f.opt("org_type"),
            status: f.text("status"),
            level: f.opt("level"),
            since: f.opt("since"),
            focal_point_email: f.opt("focal_point_email"),
        };
        let (slug, actor) = (path.into_inner(), user.actor.clone());
        let to = format!("/operations/{slug}/members?done=added");
        state
            .db(move |conn| register::add(conn, &actor, &slug, b))
            .await?;
        Ok(see_other(to))
    })
    .await
}

async fn import(
    state: State,
    user: PageUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    as_page(&state, async {
        let (name, data) = posted_file(&user, &req, &body)?;
        let (slug, actor) = (path.into_inner(), user.actor.clone());
        let to = format!("/operations/{slug}/members?done=imported");
        state
            .db(move |conn| register::import(conn, &actor, &slug, &name, &data))
            .await?;
        Ok(see_other(to))
    })
    .await
}

async fn links(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let slug = path.into_inner();
    as_page(&state, async {
        let f = Posted::parse(&body);
        check_form_csrf(&user, &f.text("csrf_token"))?;
        let year = match f.opt("year") {
            None => None,
            Some(y) => Some(
                y.parse::<i32>()
                    .map_err(|_| AppError::field("year", "use a year such as 2026"))?,
            ),
        };
        let b = LinksBody {
            year,
            members: None,
            send: Some(f.get("send").is_some()),
        };
        let (app, actor, s) = (state.app.clone(), user.actor.clone(), slug.clone());
        let made = state
            .db(move |conn| assessments::create_links(conn, &app, &actor, &s, b))
            .await?;
        let flash = json!({"message": format!("{} link(s) made.", made.links.len()),
                           "links": made.links});
        render_register(&state, &user, slug.clone(), flash).await
    })
    .await
}

async fn member_page(
    state: State,
    user: PageUser,
    path: web::Path<(String, i32)>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    as_page(&state, async {
        let ((slug, id), actor) = (path.into_inner(), user.actor.clone());
        let (op, d) = state
            .db(move |conn| {
                let op =
                    membership::operation_for(conn, &actor, &slug, membership::Access::Read)?;
                Ok((op, register::get(conn, &actor, &slug, id)?))
            })
            .await?;
        let manage = user.can_manage_operation(&op);
        let status = d.member.status.as_str();
        let commitments: Vec<Value> = COMMITMENTS
            .iter()
            .map(|c| {
                let ratings: Vec<Value> = CommitmentRating::ALL
                    .iter()
                    .map(|r| json!({"value": r.as_str(), "label": commitments::form_text("en", r.as_str())}))
                    .collect();
                json!({"id": c.id, "title": c.title("en"), "statement": c.statement("en"), "ratings": ratings})
            })
            .collect();
        let done = match q.done.as_deref() {
            Some("saved") => Some("Saved."),
            Some("ended") => Some("The membership is ended; its history stays below."),
            Some("onboarding") => Some("Checklist saved."),
            Some("statement") => Some("Statement recorded."),
            _ => None,
        };
        let body = state.templates.render(
            "member",
            &json!({
                "title": format!("{} · {}", d.member.organization.name, op.name),
                "user": user_json(&user), "csrf_token": user.csrf,
                "operation": {"slug": op.slug, "name": op.name},
                "member": d.member, "history": d.history, "onboarding": d.onboarding,
                "manage": manage, "active": status != "former", "done": done,
                "statuses": choices(&["member", "observer"], status),
                "levels": choices(&MembershipLevel::texts(), d.member.level.as_str()),
                "commitments": commitments,
                "year": chrono::Datelike::year(&membership::today()),
                "today": membership::today().to_string(),
            }),
        )?;
        Ok(html(body))
    })
    .await
}

async fn change(
    state: State,
    user: PageUser,
    path: web::Path<(String, i32)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    as_page(&state, async {
        let f = Posted::parse(&body);
        check_form_csrf(&user, &f.text("csrf_token"))?;
        let ((slug, id), actor) = (path.into_inner(), user.actor.clone());
        let ending = f.get("action") == Some("end");
        let back = format!(
            "/operations/{slug}/members/{id}?done={}",
            if ending { "ended" } else { "saved" }
        );
        if ending {
            let b = EndBody { on: f.opt("on") };
            state
                .db(move |conn| register::end(conn, &actor, &slug, id, b))
                .await?;
        } else {
            let p = MemberPatch {
                status: f.opt("status"),
                level: f.opt("level"),
                since: f.opt("since"),
                focal_point_email: Some(f.text("focal_point_email")),
            };
            state
                .db(move |conn| register::update(conn, &actor, &slug, id, p))
                .await?;
        }
        Ok(see_other(back))
    })
    .await
}

async fn checklist(
    state: State,
    user: PageUser,
    path: web::Path<(String, i32)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    as_page(&state, async {
        let f = Posted::parse(&body);
        check_form_csrf(&user, &f.text("csrf_token"))?;
        let ((slug, id), actor) = (path.into_inner(), user.actor.clone());
        let back = format!("/operations/{slug}/members/{id}?done=onboarding");
        let items = f.all("items");
        state
            .db(move |conn| onboarding::set_all(conn, &actor, &slug, id, &items))
            .await?;
        Ok(see_other(back))
    })
    .await
}

async fn enter(
    state: State,
    user: PageUser,
    path: web::Path<(String, i32)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    as_page(&state, async {
        let f = Posted::parse(&body);
        check_form_csrf(&user, &f.text("csrf_token"))?;
        let year = match f.opt("year") {
            None => None,
            Some(y) => Some(
                y.parse::<i32>()
                    .map_err(|_| AppError::field("year", "use a year such as 2026"))?,
            ),
        };
        let b = assessments::AssessmentBody {
            year,
            answers: f.answers(),
        };
        let ((slug, id), actor) = (path.into_inner(), user.actor.clone());
        let back = format!("/operations/{slug}/members/{id}?done=statement");
        state
            .db(move |conn| assessments::enter(conn, &actor, &slug, id, b))
            .await?;
        Ok(see_other(back))
    })
    .await
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

/// A rating as a grid cell: its class and a short mark.
fn cell(r: CommitmentRating) -> (&'static str, &'static str) {
    match r {
        CommitmentRating::Meets => ("status-good", "✓"),
        CommitmentRating::Partly => ("status-satisfactory", "½"),
        CommitmentRating::NotYet => ("status-weak", "✗"),
    }
}

async fn grid_page(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    as_page(&state, async {
        let year = match q.year.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(y) => Some(
                y.parse::<i32>()
                    .map_err(|_| AppError::field("year", "use a year such as 2026"))?,
            ),
        };
        let (slug, actor) = (path.into_inner(), user.actor.clone());
        let (op, g) = state
            .db(move |conn| {
                let op = membership::operation_for(conn, &actor, &slug, membership::Access::Read)?;
                Ok((op, assessments::grid(conn, &actor, &slug, year, "en")?))
            })
            .await?;
        let rows: Vec<Value> = g
            .organizations
            .iter()
            .map(|o| {
                let cells: Vec<Value> = g
                    .commitments
                    .iter()
                    .map(|c| match o.answers.get(&c.id) {
                        Some(a) => {
                            let (class, mark) = cell(a.rating);
                            json!({"class": class, "mark": mark, "rating": a.rating,
                                   "comment": a.comment, "title": c.title})
                        }
                        None => json!({"class": "", "mark": "–", "rating": "no statement"}),
                    })
                    .collect();
                json!({"member": o.member, "organization": o.organization, "status": o.status,
                       "submitted_at": o.submitted_at, "via": o.via, "cells": cells})
            })
            .collect();
        let mut years = g.years.clone();
        if !years.contains(&g.year) {
            years.push(g.year);
            years.sort_unstable_by(|a, b| b.cmp(a));
        }
        let years: Vec<Value> = years
            .iter()
            .map(|y| json!({"year": y, "selected": *y == g.year}))
            .collect();
        let body = state.templates.render(
            "commitments",
            &json!({
                "title": format!("Minimum commitments {} · {}", g.year, op.name),
                "user": user_json(&user), "csrf_token": user.csrf,
                "operation": {"slug": op.slug, "name": op.name},
                "year": g.year, "years": years, "commitments": g.commitments,
                "rows": rows, "totals": g.totals,
            }),
        )?;
        Ok(html(body))
    })
    .await
}

// ---- the focal point's form

fn form_csrf(state: &State, token: &str) -> String {
    secrets::keyed_digest(&state.config.secret_key, "self-assessment-form", token)
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn known_lang(l: &str) -> bool {
    i18n::LANGUAGES.iter().any(|k| k.as_str() == l)
}

/// `?lang=` (or the form's), else the browser's, else the operation's.
fn pick_lang(asked: Option<&str>, req: &HttpRequest, operation: &str) -> String {
    let browser = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::web::error_pages::from_accept_language);
    asked
        .filter(|l| known_lang(l))
        .map(str::to_string)
        .or(browser)
        .unwrap_or_else(|| operation.to_string())
}

/// How the form is answered: its status and a line of thanks or of trouble.
struct Outcome {
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

const PLAIN: Outcome = Outcome {
    status: StatusCode::OK,
    notice: None,
    error: None,
};

fn render_form(
    state: &State,
    token: &str,
    ctx: &assessments::LinkContext,
    lang: &str,
    answers: &assessments::Answers,
    outcome: Outcome,
) -> Result<HttpResponse, AppError> {
    let Outcome {
        status,
        notice,
        error,
    } = outcome;
    let year = ctx.link.year.to_string();
    let vars = [
        ("year", year.as_str()),
        ("organization", ctx.organization.name.as_str()),
        ("operation", ctx.operation.name.as_str()),
    ];
    let items: Vec<Value> = COMMITMENTS
        .iter()
        .map(|c| {
            let current = answers.get(c.id);
            let ratings: Vec<Value> = CommitmentRating::ALL
                .iter()
                .map(|r| {
                    json!({"value": r.as_str(), "label": commitments::form_text(lang, r.as_str()),
                           "checked": current.is_some_and(|a| a.rating == *r)})
                })
                .collect();
            json!({"id": c.id, "title": c.title(lang), "statement": c.statement(lang),
                   "ratings": ratings, "comment": current.map(|a| a.comment.clone())})
        })
        .collect();
    let languages: Vec<Value> = i18n::LANGUAGES
        .iter()
        .map(|l| {
            json!({"code": l.as_str(), "name": i18n::language_name(l.as_str()),
                   "current": l.as_str() == lang})
        })
        .collect();
    let body = state.templates.render(
        "self_assessment",
        &json!({
            "title": fill(commitments::form_text(lang, "heading"), &vars),
            "lang": lang, "rtl": i18n::is_rtl(lang),
            "heading": fill(commitments::form_text(lang, "heading"), &vars),
            "intro": fill(commitments::form_text(lang, "intro"), &vars),
            "expires": fill(commitments::form_text(lang, "expires"),
                            &[("date", &i18n::date(ctx.link.expires_at.date(), lang))]),
            "comment_label": commitments::form_text(lang, "comment"),
            "submit": commitments::form_text(lang, "submit"),
            "items": items, "languages": languages,
            "action": format!("/m/{token}"), "csrf_token": form_csrf(state, token),
            "notice": notice, "error": error,
        }),
    )?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(body))
}

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    i18n::fill(template, vars)
}

async fn form(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let t = token.clone();
    let ctx = state
        .db(move |conn| assessments::open_link(conn, &t))
        .await?;
    let lang = pick_lang(q.lang.as_deref(), &req, &ctx.language);
    let answers = ctx.current.clone().unwrap_or_default();
    render_form(&state, &token, &ctx, &lang, &answers, PLAIN)
}

async fn submit(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let f = Posted::parse(&body);
    let t = token.clone();
    let ctx = state
        .db(move |conn| assessments::open_link(conn, &t))
        .await?;
    if !secrets::ct_eq(&form_csrf(&state, &token), &f.text("csrf_token")) {
        return Err(AppError::Forbidden(
            "the form has expired or was not sent from this site; reload the page and try again"
                .into(),
        ));
    }
    let lang = pick_lang(f.get("lang"), &req, &ctx.language);
    let given = f.answers();
    let t = token.clone();
    let g = given.clone();
    match state
        .db(move |conn| assessments::submit_by_link(conn, &t, &g))
        .await
    {
        Ok(s) => render_form(
            &state,
            &token,
            &ctx,
            &lang,
            &s.answers,
            Outcome {
                notice: Some(commitments::form_text(&lang, "thanks")),
                ..PLAIN
            },
        ),
        Err(AppError::Unprocessable { .. }) => {
            // What was chosen stays chosen; the page says what is missing.
            let kept: assessments::Answers = given
                .iter()
                .filter_map(|(k, a)| {
                    Some((
                        k.clone(),
                        assessments::AnswerView {
                            rating: CommitmentRating::parse(&a.rating).ok()?,
                            comment: a.comment.clone().unwrap_or_default(),
                        },
                    ))
                })
                .collect();
            render_form(
                &state,
                &token,
                &ctx,
                &lang,
                &kept,
                Outcome {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    notice: None,
                    error: Some(commitments::form_text(&lang, "missing")),
                },
            )
        }
        Err(e) => Err(e),
    }
}
