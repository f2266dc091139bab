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

fn breakdown(m: &std::collections::BTreeMap<String, u64>) -> Vec<Value> {
    m.iter()
        .map(|(k, v)| json!({"name": k, "count": v}))
        .collect()
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
                {"title": "Category", "rows": breakdown(&m.by_category)},
                {"title": "Channel", "rows": breakdown(&m.by_channel)},
                {"title": "Sex", "rows": breakdown(&m.by_sex)},
                {"title": "Age group", "rows": breakdown(&m.by_age_group)},
                {"title": "Admin 1", "rows": admin1_rows},
            ],
            "close_months": m.days_to_close_by_month.iter().map(|r| json!({
                "month": r.month, "closed": r.closed, "median": format!("{:.1}", r.median_days)})).collect::<Vec<_>>(),
        }),
    )?;
    Ok(html(body))
}

/// Query strings from the filter form send empty fields for "any".
#[derive(Deserialize, Default)]
pub struct FilterForm {
    operation: Option<String>,
    status: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    overdue: Option<String>,
    offset: Option<i64>,
    /// The reference of a sensitive item the reader just logged and cannot open.
    sealed: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

fn options(values: &[&str], selected: &Option<String>) -> Vec<Value> {
    values
        .iter()
        .map(|v| json!({"value": v, "selected": selected.as_deref() == Some(*v)}))
        .collect()
}

async fn inbox(
    state: State,
    user: PageUser,
    query: web::Query<FilterForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = user.0 else {
        return Ok(to_login());
    };
    let q = query.into_inner();
    let sealed = non_empty(q.sealed).and_then(|r| feedback::normalize_reference(&r));
    let filters = Filters {
        operation: non_empty(q.operation),
        status: non_empty(q.status),
        category: non_empty(q.category),
        channel: non_empty(q.channel),
        overdue: (q.overdue.as_deref() == Some("1")).then_some(true),
        limit: Some(100),
        offset: q.offset.filter(|o| *o > 0),
    };
    let (u, f) = (user.clone(), filters.clone());
    let (items, total, ops) = state
        .db(move |conn| {
            let at = crate::kernel::time::now();
            let (items, total) = feedback::list(conn, &u, &f, at)?;
            let items: Vec<Value> = items
                .iter()
                .map(|(i, o)| feedback::item_json(i, o, at))
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
    let loggable: Vec<&Value> = ops.iter().filter(|o| o["can_log"] == true).collect();
    let shown = items.len() as i64;
    let offset = filters.offset.unwrap_or(0);
    let next = (offset + shown < total).then(|| {
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
        qs.append_pair("offset", &(offset + shown).to_string());
        format!("/feedback?{}", qs.finish())
    });
    let body = state.templates.render(
        "inbox",
        &json!({
            "title": "Feedback inbox",
            "sealed": sealed,
            "user": {"email": user.email, "role": user.role.as_str()},
            "csrf_token": user.csrf,
            "items": items,
            "total": total,
            "from": if total == 0 { 0 } else { offset + 1 },
            "to": offset + shown,
            "next": next,
            "operations": ops,
            "loggable": loggable,
            "statuses": options(&feedback::FeedbackStatus::texts(), &filters.status),
            "categories": options(&feedback::CATEGORIES, &filters.category),
            "channels": options(&feedback::CHANNELS, &filters.channel),
            "log_channels": feedback::CHANNELS.iter().filter(|c| **c != "web").collect::<Vec<_>>(),
            "overdue": filters.overdue == Some(true),
        }),
    )?;
    Ok(html(body))
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
    let reference = path.into_inner();
    let secret = state.config.secret_key.clone();
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
            Ok(v)
        })
        .await?;
    let body = state.templates.render(
        "feedback_item",
        &json!({
            "title": format!("Feedback {}", detail["reference"].as_str().unwrap_or("")),
            "user": {"email": user.email, "role": user.role.as_str()},
            "csrf_token": user.csrf,
            "item": detail,
            "closed": detail["status"] == "closed",
        }),
    )?;
    Ok(html(body))
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
    let (item, op) = state
        .db(move |conn| feedback::record_event(conn, &u, &reference, &body))
        .await?;
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
    let channel = get("channel").unwrap_or_else(|| "web".into());
    let submit = SubmitBody {
        operation: get("operation"),
        channel: Some(channel.clone()),
        language: get("language").or(Some("en".into())),
        answers: Some(answers),
    };
    let (catalog, config) = (state.catalog.current(), state.config.clone());
    let u = user.clone();
    let done = state
        .db(move |conn| feedback::submit(conn, &catalog, &config, Some(&u), &submit))
        .await?;
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
