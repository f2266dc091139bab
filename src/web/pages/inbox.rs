//! The staff feedback inbox: `/feedback` (list, filters, log an item from another channel)
//! and `/feedback/{reference}` (history and workflow actions). Same visibility rules as the
//! API: sensitive items exist here only for the PSEA focal points of their operation.

use super::{check_form_csrf, html, to_login};
use crate::db::models;
use crate::domain::feedback::{self, EventBody, Filters, SubmitBody};
use crate::kernel::error::AppError;
use crate::web::auth::{CurrentUser, PageUser};
use crate::web::State;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

crate::web::routes::route_table! {
    "/feedback" => { GET inbox, POST log_item },
    "/feedback/{reference}" => { GET item },
    "/feedback/{reference}/events" => { POST event },
    "/operations/{slug}/feedback" => { GET indicators },
}

fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.0}%")).unwrap_or_else(|| "–".into())
}

/// The period the indicators page covers (`YYYY-MM-DD`, inclusive; either may be empty).
#[derive(Deserialize)]
pub struct PeriodForm {
    from: Option<String>,
    to: Option<String>,
}

/// An operation's AAP indicators with charts, for anyone who reads the operation.
async fn indicators(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    query: web::Query<PeriodForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let q = query.into_inner();
    let (from, to) = crate::kernel::time::parse_day_range(q.from.as_deref(), q.to.as_deref())?;
    let (slug, actor) = (path.into_inner(), user.actor.clone());
    let (op, m) = state
        .db(move |conn| {
            crate::domain::feedback::metrics::for_operation(conn, &actor, &slug, from, to)
        })
        .await?;
    // Regions are counted by P-code; the page names them from the operation's list.
    let op_id = op.id;
    let areas = state
        .db(move |conn| Ok(crate::domain::areas::load(conn, op_id)?))
        .await?;
    let admin1_rows: Vec<Value> = m
        .by_admin1
        .iter()
        .map(|(k, v)| {
            let name = areas
                .admin1(k)
                .map(|a| format!("{} ({k})", a.name))
                .unwrap_or_else(|| k.clone());
            json!({"name": name, "count": v})
        })
        .collect();
    let mut qs = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("from", &q.from), ("to", &q.to)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            qs.append_pair(k, v);
        }
    }
    let period = qs.finish();
    let labels = feedback::Labels::new(&state.catalog.current(), "en");
    let body = state.templates.render(
        "feedback_metrics",
        &json!({
            "title": format!("Feedback indicators · {}", op.name),
            "user": {"email": user.email, "role": user.role.as_str()},
            "csrf_token": user.csrf,
            "operation": {"slug": op.slug, "name": op.name},
            "from": q.from,
            "to": q.to,
            "period": if period.is_empty() { String::new() } else { format!("?{period}") },
            "m": {
                "total": m.total,
                "sensitive": m.sensitive_display,
                "overdue": m.overdue,
                "ack": pct(m.acknowledged_within_sla_pct),
                "closed": pct(m.closed_pct),
                "responded": pct(m.responded_pct),
                "satisfied": pct(m.satisfied_pct),
                "median_days": m.median_days_to_close.map(|d| format!("{d:.1}")).unwrap_or_else(|| "–".into()),
            },
            "breakdowns": [
                {"title": "Category", "rows": labels.rows("category", &m.by_category)},
                {"title": "Channel", "rows": labels.rows("channel", &m.by_channel)},
                {"title": "Sex", "rows": labels.rows("sex", &m.by_sex)},
                {"title": "Age group", "rows": labels.rows("age_group", &m.by_age_group)},
                {"title": "Admin 1", "rows": admin1_rows},
            ],
            "close_months": m.days_to_close_by_month.iter().map(|r| json!({
                "month": chrono::NaiveDate::parse_from_str(&format!("{}-01", r.month), "%Y-%m-%d")
                    .map(|d| crate::render::i18n::month(d, "en")).unwrap_or_else(|_| r.month.clone()),
                "closed": r.closed, "median": format!("{:.1}", r.median_days)})).collect::<Vec<_>>(),
        }),
    )?;
    Ok(html(body))
}

/// Items on one page of the inbox.
pub const PAGE_SIZE: i64 = 25;

/// Query strings from the filter form send empty fields for "any".
#[derive(Deserialize, Default)]
pub struct FilterForm {
    operation: Option<String>,
    status: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    overdue: Option<String>,
    /// 1 for the newest items; read as text so that a bad number gets a clear answer.
    page: Option<String>,
    /// The reference of a sensitive item the reader just logged and cannot open.
    sealed: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

/// The page number asked for: 1 when absent, an error naming `page` when it is not a whole
/// number from 1 (Arabic-Indic and Persian digits read as digits).
fn page_number(raw: Option<&str>) -> Result<i64, AppError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(1);
    };
    crate::kernel::text::ascii_digits(raw)
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| AppError::field("page", "must be a whole number from 1"))
}

/// What was typed into the intake form, with what is wrong with it, to show it again.
#[derive(Default)]
struct Intake {
    values: std::collections::BTreeMap<String, String>,
    message: String,
    fields: Vec<(String, String)>,
}

/// The inbox link for `filters` at `page` (filters kept, empty ones left out).
fn page_link(filters: &Filters, page: i64) -> String {
    let mut qs = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("operation", &filters.operation),
        ("status", &filters.status),
        ("category", &filters.category),
        ("channel", &filters.channel),
    ] {
        if let Some(v) = v {
            qs.append_pair(k, v);
        }
    }
    if filters.overdue == Some(true) {
        qs.append_pair("overdue", "1");
    }
    if page > 1 {
        qs.append_pair("page", &page.to_string());
    }
    let qs = qs.finish();
    if qs.is_empty() {
        "/feedback".into()
    } else {
        format!("/feedback?{qs}")
    }
}

/// The numbered links around `page`: the first, the last and two either side, with gaps.
fn page_links(filters: &Filters, page: i64, pages: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut last_shown = 0;
    for p in 1..=pages {
        if p == 1 || p == pages || (p - page).abs() <= 2 {
            if p > last_shown + 1 {
                out.push(json!({"gap": true}));
            }
            out.push(json!({"page": p, "href": page_link(filters, p), "current": p == page}));
            last_shown = p;
        }
    }
    out
}

async fn inbox(
    state: State,
    user: PageUser,
    query: web::Query<FilterForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    render_inbox(&state, &user, query.into_inner(), None).await
}

/// The inbox page: one page of the items `user` may see (paged in SQL; the count and the
/// page numbers come from the same visible items, so sealed items change neither), the intake
/// form first, then the filters and the list. With `intake`, the form is open with what was
/// typed and its problems.
async fn render_inbox(
    state: &State,
    user: &CurrentUser,
    q: FilterForm,
    intake: Option<(Intake, actix_web::http::StatusCode)>,
) -> Result<HttpResponse, AppError> {
    let sealed = non_empty(q.sealed).and_then(|r| feedback::normalize_reference(&r));
    let page = page_number(q.page.as_deref())?;
    let mut filters = Filters {
        operation: non_empty(q.operation),
        status: non_empty(q.status),
        category: non_empty(q.category),
        channel: non_empty(q.channel),
        overdue: (q.overdue.as_deref() == Some("1")).then_some(true),
        limit: Some(PAGE_SIZE),
        offset: None,
    };
    filters.offset = Some((page - 1).saturating_mul(PAGE_SIZE));
    let labels = feedback::Labels::new(&state.catalog.current(), "en");
    let (u, f, l) = (user.clone(), filters.clone(), labels.clone());
    let (items, total, ops) = state
        .db(move |conn| {
            let at = crate::kernel::time::now();
            let (items, total) = feedback::list(conn, &u, &f, at)?;
            let items: Vec<Value> = items
                .iter()
                .map(|(i, o)| {
                    let mut v = feedback::item_json(i, o, at);
                    v["operation_name"] = json!(o.name);
                    v["category_label"] = json!(l.choice("category", &i.category));
                    v["channel_label"] = json!(l.channel(&i.channel));
                    v
                })
                .collect();
            let ops: Vec<Value> = models::all_operations(conn)?
                .into_iter()
                .filter(|o| u.can_read_operation(o))
                .map(|o| {
                    json!({"slug": o.slug, "name": o.name,
                           "selected": f.operation.as_deref() == Some(o.slug.as_str()),
                           "can_log": u.can_act_on_feedback(&o, false) || u.can_act_on_feedback(&o, true)})
                })
                .collect();
            Ok((items, total, ops))
        })
        .await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let shown = items.len() as i64;
    let offset = filters.offset.unwrap_or(0);
    // A page past the end (an old link, a typed number): the inbox says so and links back.
    let missing_page = page > pages;
    let (intake, status) = match intake {
        Some((i, status)) => (Some(i), status),
        None if missing_page => (None, actix_web::http::StatusCode::NOT_FOUND),
        None => (None, actix_web::http::StatusCode::OK),
    };
    let typed = intake.as_ref().map(|i| &i.values);
    let value = |k: &str| typed.and_then(|v| v.get(k)).map(String::as_str);
    let loggable: Vec<Value> = ops
        .iter()
        .filter(|o| o["can_log"] == true)
        .map(|o| {
            let mut o = o.clone();
            if let Some(v) = value("operation") {
                o["selected"] = json!(o["slug"] == v);
            }
            o
        })
        .collect();
    let log_channels: Vec<&str> = feedback::CHANNELS
        .iter()
        .copied()
        .filter(|c| *c != "web")
        .collect();
    let languages: Vec<Value> = crate::render::i18n::LANGUAGES
        .iter()
        .map(|l| {
            let code = l.as_str();
            json!({"value": code, "label": crate::render::i18n::language_name(code),
                   "selected": value("language") == Some(code)})
        })
        .collect();
    let catalog = state.catalog.current();
    let form = catalog.survey(feedback::FORM_ID);
    let field_name = |name: &str| -> String {
        form.and_then(|s| s.questions.iter().find(|q| q.name == name))
            .and_then(|q| q.label.get("en").cloned())
            .unwrap_or_else(|| name.replace('_', " "))
    };
    let intake_json = intake.as_ref().map(|i| {
        json!({
            "message": i.message,
            "fields": i.fields.iter().map(|(k, p)| json!({"field": k, "name": field_name(k), "problem": p})).collect::<Vec<_>>(),
            "text": value("q_message"),
            "contact": value("q_contact"),
            "admin1": value("q_admin1"),
        })
    });
    let body = state.templates.render(
        "inbox",
        &json!({
            "title": "Feedback inbox",
            "sealed": sealed,
            "user": super::user_json(user),
            "csrf_token": user.csrf,
            "items": items,
            "total": total,
            "from": if shown == 0 { 0 } else { offset + 1 },
            "to": offset + shown,
            "page": page,
            "pages": pages,
            "missing_page": missing_page,
            "last_page": page_link(&filters, pages),
            "newer": (page > 1 && !missing_page).then(|| page_link(&filters, page - 1)),
            "older": (page < pages).then(|| page_link(&filters, page + 1)),
            "page_links": if pages > 1 { page_links(&filters, page.min(pages), pages) } else { vec![] },
            "operations": ops,
            "loggable": loggable,
            "statuses": options(&feedback::FeedbackStatus::texts(), &filters.status),
            "categories": labels.options("category", filters.category.as_deref()),
            "channels": labels.channel_options(feedback::CHANNELS.iter(), filters.channel.as_deref()),
            "log_channels": labels.channel_options(log_channels.iter(), value("channel")),
            "log_categories": labels.options("category", value("q_category")),
            "log_consent": labels.options("consent_to_contact", Some(value("q_consent_to_contact").unwrap_or("no"))),
            "log_sex": labels.options("sex", value("q_sex")),
            "log_age": labels.options("age_group", value("q_age_group")),
            "log_disability": labels.options("disability", value("q_disability")),
            "languages": languages,
            "intake": intake_json,
            "overdue": filters.overdue == Some(true),
        }),
    )?;
    Ok(html_with(status, body))
}

fn options(values: &[&str], selected: &Option<String>) -> Vec<Value> {
    values
        .iter()
        .map(|v| json!({"value": v, "selected": selected.as_deref() == Some(*v)}))
        .collect()
}

/// A page answered with `status` (a form shown again with its problems, a missing page).
fn html_with(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    let mut r = html(body);
    *r.status_mut() = status;
    r
}

fn redirect(to: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

async fn item(
    state: State,
    user: PageUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    render_item(&state, &user, path.into_inner(), None).await
}

/// One item with its history and the next-step form; with `typed`, the form shows again what
/// was entered and why it was not recorded.
async fn render_item(
    state: &State,
    user: &CurrentUser,
    reference: String,
    typed: Option<(Value, actix_web::http::StatusCode)>,
) -> Result<HttpResponse, AppError> {
    let secret = state.config.secret_key.clone();
    let catalog = state.catalog.current();
    let u = user.clone();
    let detail = state
        .db(move |conn| {
            let (item, op, events) = feedback::load_visible(conn, &u, &reference)?;
            let mut v = feedback::detail_json(
                conn,
                &secret,
                &u,
                &item,
                &op,
                &events,
                crate::kernel::time::now(),
            )?;
            v["operation_name"] = json!(op.name);
            let l = feedback::Labels::new(&catalog, "en");
            v["category_label"] = json!(l.choice("category", &item.category));
            v["channel_label"] = json!(l.channel(&item.channel));
            v["language_name"] = json!(crate::render::i18n::language_name(&item.language));
            v["sex_label"] = json!(l.answer("sex", item.sex.as_deref()));
            v["age_group_label"] = json!(l.answer("age_group", item.age_group.as_deref()));
            v["disability_label"] = json!(l.answer("disability", item.disability.as_deref()));
            Ok(v)
        })
        .await?;
    let (typed, status) = match typed {
        Some((t, status)) => (t, status),
        None => (Value::Null, actix_web::http::StatusCode::OK),
    };
    let body = state.templates.render(
        "feedback_item",
        &json!({
            "title": format!("Feedback {}", detail["reference"].as_str().unwrap_or("")),
            "user": super::user_json(user),
            "csrf_token": user.csrf,
            "item": detail,
            "closed": detail["status"] == "closed",
            "typed": typed,
        }),
    )?;
    Ok(html_with(status, body))
}

#[derive(Deserialize)]
pub struct EventForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    referred_to: Option<String>,
    #[serde(default)]
    satisfied: Option<String>,
}

async fn event(
    state: State,
    user: PageUser,
    path: web::Path<String>,
    form: web::Form<EventForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let f = form.into_inner();
    check_form_csrf(&user, &f.csrf_token)?;
    let reference = path.into_inner();
    let satisfied = f.satisfied.clone().unwrap_or_default();
    let body = EventBody {
        action: Some(f.action),
        note: f.note,
        referred_to: f.referred_to,
        satisfied: match f.satisfied.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
    };
    let u: CurrentUser = user.clone();
    let (r, b) = (reference.clone(), body.clone());
    let (item, op) = match state
        .db(move |conn| feedback::record_event(conn, &u, &r, &b))
        .await
    {
        Ok(done) => done,
        // A missing "to whom" or "what was told back": the form again, as it was filled in.
        Err(e @ (AppError::BadRequest { .. } | AppError::Unprocessable { .. })) => {
            use actix_web::ResponseError;
            let typed = json!({
                "action": body.action,
                "note": body.note,
                "referred_to": body.referred_to,
                "satisfied": satisfied,
                "message": e.client_message(),
                "fields": e.fields().iter().map(|(k, p)| json!({"field": k, "problem": p})).collect::<Vec<_>>(),
            });
            return render_item(&state, &user, reference, Some((typed, e.status_code()))).await;
        }
        Err(e) => return Err(e),
    };
    if !user.can_see_feedback(&op, item.sensitive) {
        // Marked sensitive by someone who is not a PSEA focal point: it leaves their inbox.
        return Ok(redirect("/feedback".into()));
    }
    Ok(redirect(format!("/feedback/{}", item.reference)))
}

async fn log_item(
    state: State,
    user: PageUser,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    if body.len() > crate::web::BODY_LIMIT_SUBMISSION {
        return Err(AppError::PayloadTooLarge("the form is too large".into()));
    }
    let mut control = Map::new();
    let mut answers = Map::new();
    for (k, v) in form_urlencoded::parse(&body) {
        let (k, v) = (k.into_owned(), v.into_owned());
        if let Some(name) = k.strip_prefix("q_") {
            if !v.trim().is_empty() {
                answers.insert(name.to_string(), Value::String(v));
            }
        } else {
            control.insert(k, Value::String(v));
        }
    }
    let get = |k: &str| control.get(k).and_then(Value::as_str).map(str::to_string);
    check_form_csrf(&user, &get("csrf_token").unwrap_or_default())?;
    // What was typed, to show it again if something needs correcting.
    let typed: std::collections::BTreeMap<String, String> = form_urlencoded::parse(&body)
        .filter(|(k, _)| k != "csrf_token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let channel = get("channel").unwrap_or_else(|| "web".into());
    let submit = SubmitBody {
        operation: get("operation"),
        channel: Some(channel.clone()),
        language: get("language").or(Some("en".into())),
        answers: Some(answers),
    };
    let done = match feedback::submit_grouped(&state.app, Some(user.actor.clone()), submit).await {
        Ok(done) => done,
        Err(e @ (AppError::BadRequest { .. } | AppError::Unprocessable { .. })) => {
            use actix_web::ResponseError;
            let intake = Intake {
                values: typed,
                message: e.client_message(),
                fields: e
                    .fields()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let status = e.status_code();
            return render_inbox(&state, &user, FilterForm::default(), Some((intake, status)))
                .await;
        }
        Err(e) => return Err(e),
    };
    state.metrics.feedback_submitted(&channel);
    let op_id = done.operation_id;
    let op = state
        .db(move |c| Ok(models::operation_by_id(c, op_id)?))
        .await?;
    if done.sensitive && !user.can_see_feedback(&op, true) {
        // Sealed at once: the person who logged it keeps only its reference.
        return Ok(redirect(format!("/feedback?sealed={}", done.reference)));
    }
    Ok(redirect(format!("/feedback/{}", done.reference)))
}
