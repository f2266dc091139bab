//! Scorecards: one email per global cluster and period to the cluster's leads, covering
//! every operation of the cluster (latest closed round, trend, response rate, AAP
//! indicators, weakest indicators, open action-plan items), with inline PNG charts, a
//! plain-text part and a CSV of all scores. The same scorecard is a web page with SVG charts.
//!
//! Sending goes through the durable outbox; `scorecard_sends` (unique per cluster and
//! period) makes a period go out once, also with several instances racing.

use crate::charts::{self, Chart, Series};
pub use crate::config::Schedule;
use crate::db::models::{self, Cluster, Operation, Round};
use crate::db::schema::{action_items, rounds, scorecard_sends};
use crate::db::{write_tx, DbConnection};
use crate::domain::scores::RoundResult;
use crate::domain::services::Services;
use crate::kernel::access::{Actor, Role};
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::mail::{Attachment, Email, Inline};
use crate::render::i18n;
use crate::scoring::aap::AapMetrics;
use crate::surveys::model::Catalog;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::kernel::time::period_end;
pub use crate::kernel::time::{parse_period, period_of, previous_period};

pub struct OperationCard {
    pub operation: Operation,
    pub result: Option<RoundResult>,
    pub aap: AapMetrics,
}

pub struct ActionRow {
    pub operation: String,
    pub indicator: String,
    pub action: String,
    pub owner: String,
    pub due: Option<NaiveDate>,
    pub status: String,
    pub overdue: bool,
}

pub struct Scorecard {
    pub cluster: Cluster,
    pub period: String,
    pub lang: String,
    pub operations: Vec<OperationCard>,
    pub actions: Vec<ActionRow>,
}

/// Everything a scorecard shows, as of the end of `period` or `at`, whichever comes first
/// (rounds closed by then; the period's last second included).
pub fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    cluster: Cluster,
    period: &str,
    at: NaiveDateTime,
) -> Result<Scorecard, AppError> {
    let first = parse_period(period)?;
    let end = period_end(first);
    // The first moment after the period; a round closed then belongs to the next one.
    let next_period = (end + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let cutoff = next_period.min(at);
    let ops: Vec<Operation> = models::all_operations(conn)?
        .into_iter()
        .filter(|o| o.cluster_id == cluster.id)
        .collect();
    let mut cards = Vec::new();
    let mut round_ids = Vec::new();
    for op in ops {
        // Closed by the end of the period (early closes count from when they closed).
        let latest: Option<Round> = rounds::table
            .filter(rounds::operation_id.eq(op.id))
            .order(rounds::closes_at.desc())
            .select(Round::as_select())
            .load(conn)?
            .into_iter()
            .find(|r| {
                let closed = r.closed_at.unwrap_or(r.closes_at).min(r.closes_at);
                r.effective_state(at) == crate::kernel::vocab::RoundState::Closed
                    && closed < next_period
                    && closed <= at
                    && catalog.framework(&r.framework).is_some()
            });
        let result = match latest {
            Some(r) => {
                round_ids.push((r.id, op.name.clone()));
                Some(crate::domain::scores::compute(conn, catalog, r)?)
            }
            None => None,
        };
        let aap = crate::domain::feedback::metrics::feedback_metrics(
            conn,
            op.id,
            Some(end - chrono::Duration::days(364)),
            Some(end),
            cutoff,
            // Scorecards go to global leads: sealed items as monthly counts only.
            crate::domain::feedback::metrics::Visibility::Sealed,
        )?;
        cards.push(OperationCard {
            operation: op,
            result,
            aap,
        });
    }
    let ids: Vec<i32> = round_ids.iter().map(|(id, _)| *id).collect();
    let today = at.date();
    let items: Vec<(i32, String, String, String, Option<NaiveDate>, String)> = action_items::table
        .filter(action_items::round_id.eq_any(&ids))
        .filter(action_items::status.ne("done"))
        .order((action_items::due_date.asc(), action_items::id.asc()))
        .select((
            action_items::round_id,
            action_items::indicator,
            action_items::action,
            action_items::owner,
            action_items::due_date,
            action_items::status,
        ))
        .load(conn)?;
    let actions = items
        .into_iter()
        .map(|(rid, indicator, action, owner, due, status)| ActionRow {
            operation: round_ids
                .iter()
                .find(|(id, _)| *id == rid)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            indicator,
            action,
            owner,
            overdue: due.is_some_and(|d| d < today),
            due,
            status,
        })
        .collect();
    let lang = if crate::kernel::vocab::Language::parse(&cluster.language).is_ok() {
        cluster.language.clone()
    } else {
        "en".into()
    };
    Ok(Scorecard {
        cluster,
        period: period.to_string(),
        lang,
        operations: cards,
        actions,
    })
}

fn framework_of<'a>(
    catalog: &'a Catalog,
    sc: &Scorecard,
) -> Option<&'a crate::surveys::model::Framework> {
    sc.operations
        .iter()
        .find_map(|c| c.result.as_ref())
        .and_then(|r| catalog.framework(&r.round.framework))
        .or_else(|| catalog.frameworks.values().next())
}

fn text_in(t: &crate::surveys::model::Text, lang: &str) -> String {
    t.get(lang)
        .or_else(|| t.get("en"))
        .or_else(|| t.values().next())
        .cloned()
        .unwrap_or_default()
}

// ----------------------------------------------------------------------------------------
// Charts

/// Chart names: `grid`, `volume`, and `functions-{operation slug}` per operation with a round.
pub fn chart(catalog: &Catalog, sc: &Scorecard, name: &str) -> Option<Chart> {
    match name {
        "grid" => Some(grid_chart(catalog, sc)),
        "volume" => Some(volume_chart(sc)),
        _ => {
            let slug = name.strip_prefix("functions-")?;
            let r = sc
                .operations
                .iter()
                .find(|c| c.operation.slug == slug)?
                .result
                .as_ref()?;
            Some(crate::domain::report::functions_chart(catalog, r))
        }
    }
}

pub fn chart_names(sc: &Scorecard) -> Vec<String> {
    let mut names = vec!["grid".to_string(), "volume".to_string()];
    for c in &sc.operations {
        if c.result.is_some() {
            names.push(format!("functions-{}", c.operation.slug));
        }
    }
    names
}

fn grid_chart(catalog: &Catalog, sc: &Scorecard) -> Chart {
    let columns: Vec<String> = framework_of(catalog, sc)
        .map(|fw| fw.functions.iter().map(|f| f.id.clone()).collect())
        .unwrap_or_default();
    let rows = sc
        .operations
        .iter()
        .map(|c| c.operation.name.clone())
        .collect();
    let cells = sc
        .operations
        .iter()
        .map(|c| {
            columns
                .iter()
                .map(|id| {
                    c.result.as_ref().and_then(|r| {
                        r.scores
                            .functions
                            .iter()
                            .find(|f| &f.id == id)
                            .map(|f| f.status.as_str().to_string())
                    })
                })
                .collect()
        })
        .collect();
    Chart::StatusGrid {
        title: format!("{} · {}", sc.cluster.name, i18n::t(&sc.lang, "sc_grid")),
        rows,
        columns: columns.iter().map(|c| format!("F{c}")).collect(),
        cells,
    }
}

fn volume_chart(sc: &Scorecard) -> Chart {
    let mut merged = AapMetrics::default();
    for c in &sc.operations {
        for m in &c.aap.by_month {
            match merged
                .by_month
                .iter_mut()
                .find(|x| x.month == m.month && x.category == m.category)
            {
                Some(x) => x.count += m.count,
                None => merged.by_month.push(m.clone()),
            }
        }
    }
    let mut chart = crate::domain::report::feedback_volume_chart(&merged);
    if let Chart::Volume { title, .. } = &mut chart {
        *title = i18n::t(&sc.lang, "sc_volume").to_string();
    }
    if let Chart::Volume {
        periods, series, ..
    } = &mut chart
    {
        if periods.is_empty() {
            periods.push(sc.period.clone());
            series.push(Series {
                label: "–".into(),
                points: vec![Some(0.0)],
            });
        }
    }
    chart
}

// ----------------------------------------------------------------------------------------
// Rendering

fn fmt_score(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.0}")).unwrap_or_else(|| "–".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.0}%")).unwrap_or_else(|| "–".into())
}

/// Dark text on the light status colours, white on the dark ones.
fn ink(status: &str) -> &'static str {
    if matches!(status, "satisfactory" | "insufficient_data") {
        "#1b1f23"
    } else {
        "#ffffff"
    }
}

fn arrow(change: Option<f64>) -> &'static str {
    match change {
        Some(c) if c >= 2.5 => "▲",
        Some(c) if c <= -2.5 => "▼",
        Some(_) => "▶",
        None => "",
    }
}

/// The template context; `img(name)` gives each chart's `src` (a `cid:` in email, a URL on
/// the web).
pub fn context(catalog: &Catalog, sc: &Scorecard, img: &dyn Fn(&str) -> String) -> Value {
    let lang = sc.lang.as_str();
    let fw = framework_of(catalog, sc);
    let status_label = |s: &str| i18n::t(lang, &format!("st_{s}")).to_string();
    let ops: Vec<Value> = sc
        .operations
        .iter()
        .map(|c| {
            let round = c.result.as_ref().map(|r| {
                let o = &r.scores.overall;
                let prev_overall = r.previous.as_ref().and_then(|(_, p)| p.overall.score);
                let change = match (o.score, prev_overall) {
                    (Some(a), Some(b)) => Some(a - b),
                    _ => None,
                };
                let functions: Vec<Value> = r
                    .scores
                    .functions
                    .iter()
                    .map(|f| {
                        let title = fw
                            .and_then(|fw| fw.functions.iter().find(|x| x.id == f.id))
                            .map(|x| text_in(&x.title, lang))
                            .unwrap_or_default();
                        json!({"id": f.id, "title": title, "score": fmt_score(f.score),
                               "status": f.status.as_str(), "status_label": status_label(f.status.as_str()),
                               "colour": f.status.colour(), "ink": ink(f.status.as_str()), "arrow": arrow(f.change),
                               "change": f.change.map(|c| format!("{c:+.0}"))})
                    })
                    .collect();
                json!({
                    "id": r.round.id,
                    "title": r.round.title,
                    "closed": r.round.closes_at.format("%Y-%m-%d").to_string(),
                    "overall": fmt_score(o.score),
                    "overall_status": o.status.as_str(),
                    "overall_label": status_label(o.status.as_str()),
                    "overall_colour": o.status.colour(),
                    "overall_ink": ink(o.status.as_str()),
                    "ci": o.ci95.map(|c| format!("{:.0}–{:.0}", c[0], c[1])),
                    "arrow": arrow(change),
                    "change": change.map(|c| format!("{c:+.0}")),
                    "rate": pct(Some(r.progress.rate * 100.0)),
                    "responded": r.progress.responded,
                    "invited": r.progress.invited,
                    "functions": functions,
                    "chart": img(&format!("functions-{}", c.operation.slug)),
                })
            });
            let a = &c.aap;
            json!({
                "slug": c.operation.slug,
                "name": c.operation.name,
                "round": round,
                "aap": {
                    "total": a.total,
                    "ack": pct(a.acknowledged_within_sla_pct),
                    "closed": pct(a.closed_pct),
                    "satisfied": pct(a.satisfied_pct),
                    "sensitive": a.sensitive_display,
                    "overdue": a.overdue,
                }
            })
        })
        .collect();
    // The weakest indicators across the cluster (scored ones, lowest first).
    let mut weak: Vec<(f64, Value)> = Vec::new();
    for c in &sc.operations {
        let Some(r) = &c.result else { continue };
        for f in &r.scores.functions {
            for i in &f.indicators {
                if let Some(s) = i.score {
                    let title = fw
                        .and_then(|fw| {
                            fw.functions
                                .iter()
                                .flat_map(|f| &f.indicators)
                                .find(|x| x.id == i.id)
                        })
                        .map(|x| text_in(&x.title, lang))
                        .unwrap_or_default();
                    weak.push((
                        s,
                        json!({"operation": c.operation.name, "id": i.id, "title": title,
                               "score": fmt_score(Some(s)), "status_label": status_label(i.status.as_str()),
                               "colour": i.status.colour(), "ink": ink(i.status.as_str())}),
                    ));
                }
            }
        }
    }
    weak.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    let weakest: Vec<Value> = weak.into_iter().take(5).map(|(_, v)| v).collect();
    let actions: Vec<Value> = sc
        .actions
        .iter()
        .map(|a| {
            json!({"operation": a.operation, "indicator": a.indicator, "action": a.action,
                   "owner": a.owner, "due": a.due.map(|d| d.to_string()), "status": a.status,
                   "overdue": a.overdue})
        })
        .collect();
    let subject = i18n::fill(
        i18n::t(lang, "sc_subject"),
        &[("cluster", &sc.cluster.name), ("period", &sc.period)],
    );
    json!({
        "title": subject,
        "lang": lang,
        "rtl": i18n::is_rtl(lang),
        "t": i18n::all(lang),
        "cluster": {"code": sc.cluster.code, "name": sc.cluster.name},
        "period": sc.period,
        "grid": img("grid"),
        "volume": img("volume"),
        "operations": ops,
        "weakest": weakest,
        "actions": actions,
    })
}

/// The plain-text alternative.
pub fn text(ctx: &Value, web_url: &str) -> String {
    let t = &ctx["t"];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut out = format!("{}\n\n{}\n\n", s(&ctx["title"]), s(&t["sc_intro"]));
    for op in ctx["operations"].as_array().into_iter().flatten() {
        out.push_str(&format!("== {} ==\n", s(&op["name"])));
        match op["round"].as_object() {
            Some(r) => {
                out.push_str(&format!(
                    "{}: {} ({}) {} {}  [{}: {}]\n{}: {} ({}/{})\n",
                    s(&t["sc_overall"]),
                    s(&r["overall"]),
                    s(&r["overall_label"]),
                    s(&r["arrow"]),
                    s(&r["change"]),
                    s(&t["sc_interval"]),
                    s(&r["ci"]),
                    s(&t["sc_response_rate"]),
                    s(&r["rate"]),
                    r["responded"],
                    r["invited"],
                ));
                for f in r["functions"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "  {} {}: {} ({}) {}\n",
                        s(&f["id"]),
                        s(&f["title"]),
                        s(&f["score"]),
                        s(&f["status_label"]),
                        s(&f["arrow"])
                    ));
                }
            }
            None => out.push_str(&format!("{}\n", s(&t["sc_no_round"]))),
        }
        let a = &op["aap"];
        out.push_str(&format!(
            "{}: {} {}, {} {}, {} {}, {} {}, {} {}, {} {}\n\n",
            s(&t["sc_aap"]),
            a["total"],
            s(&t["sc_items"]),
            s(&a["ack"]),
            s(&t["sc_ack_sla"]),
            s(&a["closed"]),
            s(&t["sc_closed"]),
            s(&a["satisfied"]),
            s(&t["sc_satisfied"]),
            a["sensitive"],
            s(&t["sc_sensitive"]),
            a["overdue"],
            s(&t["sc_overdue_fb"]),
        ));
    }
    out.push_str(&format!("{}:\n", s(&t["sc_weakest"])));
    for w in ctx["weakest"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {} · {} {}: {}\n",
            s(&w["operation"]),
            s(&w["id"]),
            s(&w["title"]),
            s(&w["score"])
        ));
    }
    out.push_str(&format!("\n{}:\n", s(&t["sc_actions"])));
    for a in ctx["actions"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {} · {} · {} ({}, {} {}){}\n",
            s(&a["operation"]),
            s(&a["indicator"]),
            s(&a["action"]),
            s(&a["owner"]),
            s(&t["sc_due"]),
            s(&a["due"]),
            if a["overdue"] == true {
                format!(" [{}]", s(&t["sc_overdue"]))
            } else {
                String::new()
            }
        ));
    }
    out.push_str(&format!(
        "\n{}: {web_url}\n{}\n",
        s(&t["sc_view"]),
        s(&t["sc_csv"])
    ));
    out
}

/// All scores of the scorecard as one CSV: the round CSV of each operation, prefixed.
pub fn csv(sc: &Scorecard) -> String {
    let mut out = format!(
        "cluster,period,operation,round,{}\n",
        crate::scoring::CSV_HEADER
    );
    for c in &sc.operations {
        let Some(r) = &c.result else { continue };
        for line in crate::scoring::to_csv(&r.scores).lines().skip(1) {
            out.push_str(&format!(
                "{},{},{},{},{line}\n",
                sc.cluster.code, sc.period, c.operation.slug, r.round.id
            ));
        }
    }
    out
}

pub fn web_url(public_url: &str, sc: &Scorecard) -> String {
    format!(
        "{public_url}/clusters/{}/scorecard?period={}",
        sc.cluster.code, sc.period
    )
}

/// One email per lead: HTML with the charts inline as PNG (`cid:`), the text part, the CSV.
pub fn emails(
    catalog: &Catalog,
    templates: &crate::render::templates::Templates,
    public_url: &str,
    sc: &Scorecard,
) -> Result<Vec<Email>, AppError> {
    let cid = |name: &str| format!("{name}@clusterpulse");
    let ctx = context(catalog, sc, &|name| format!("cid:{}", cid(name)));
    let mut ctx_html = ctx.clone();
    ctx_html["web_url"] = json!(web_url(public_url, sc));
    let html = templates.render("scorecard", &ctx_html)?;
    let text = text(&ctx, &web_url(public_url, sc));
    // Charts are CPU-only work: drawn on every core.
    let names = chart_names(sc);
    let render = |name: &String| -> Result<Option<Inline>, AppError> {
        let Some(ch) = chart(catalog, sc, name) else {
            return Ok(None);
        };
        let png = charts::render_png(&ch)
            .map_err(|e| AppError::Internal(e.context("rendering a scorecard chart")))?;
        Ok(Some(Inline {
            cid: cid(name),
            content_type: "image/png".into(),
            filename: format!("{name}.png"),
            bytes: png,
        }))
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = names.len().div_ceil(threads).max(1);
    let rendered: Vec<Result<Option<Inline>, AppError>> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(render).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(AppError::Internal(anyhow::anyhow!(
                        "a chart-drawing thread panicked"
                    )))]
                })
            })
            .collect()
    });
    let mut inline = Vec::new();
    for r in rendered {
        if let Some(i) = r? {
            inline.push(i);
        }
    }
    let csv = csv(sc);
    let subject = ctx["title"].as_str().unwrap_or_default().to_string();
    Ok(sc
        .cluster
        .lead_emails()
        .into_iter()
        .map(|to| Email {
            to,
            subject: subject.clone(),
            text: text.clone(),
            html: Some(html.clone()),
            inline: inline.clone(),
            attachments: vec![Attachment {
                filename: format!("scores-{}-{}.csv", sc.cluster.code, sc.period),
                content_type: "text/csv; charset=utf-8".into(),
                bytes: csv.clone().into_bytes(),
            }],
        })
        .collect())
}

// ----------------------------------------------------------------------------------------
// Sending

pub struct SendOptions {
    pub cluster: Option<String>,
    /// `YYYY-MM`; none means the month of `at`.
    pub period: Option<String>,
    pub force: bool,
    /// The moment the scorecards are built at (the clock's now, injected for tests).
    pub at: NaiveDateTime,
}

/// The outcome of `POST /api/v1/scorecards/send`.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct SendReport {
    pub queued: Vec<Queued>,
    pub skipped: Vec<Skipped>,
}

/// A cluster whose scorecard was queued for its leads.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub cluster: String,
    /// YYYY-MM.
    pub period: String,
    pub recipients: Vec<String>,
}

/// A cluster left out, and why.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub cluster: String,
    pub period: String,
    pub reason: String,
}

fn skipped(cluster: &str, period: &str, reason: &str) -> Skipped {
    Skipped {
        cluster: cluster.to_string(),
        period: period.to_string(),
        reason: reason.to_string(),
    }
}

/// The clusters a send covers (one by code, or all).
pub fn target_clusters(
    conn: &mut DbConnection,
    code: Option<&str>,
) -> Result<Vec<Cluster>, AppError> {
    match code {
        Some(c) => Ok(vec![models::cluster_by_code(conn, c)?.ok_or_else(
            || AppError::not_found(format!("no cluster with code {c:?}")),
        )?]),
        None => Ok(crate::db::schema::clusters::table
            .order(crate::db::schema::clusters::code)
            .select(Cluster::as_select())
            .load(conn)?),
    }
}

fn already_sent(conn: &mut DbConnection, cluster_id: i32, period: &str) -> QueryResult<bool> {
    let n: i64 = scorecard_sends::table
        .filter(scorecard_sends::cluster_id.eq(cluster_id))
        .filter(scorecard_sends::period.eq(period))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Queues the scorecards of `opts` in the outbox (once per cluster and period unless
/// forced). Returns what was queued and what was skipped, and why.
pub fn send(
    conn: &mut DbConnection,
    catalog: &Catalog,
    templates: &crate::render::templates::Templates,
    config: &crate::config::Config,
    opts: &SendOptions,
) -> Result<SendReport, AppError> {
    let period = match &opts.period {
        Some(p) => {
            parse_period(p)?;
            p.trim().to_string()
        }
        None => period_of(opts.at.date()),
    };
    let mut report = SendReport::default();
    for cluster in target_clusters(conn, opts.cluster.as_deref())? {
        let code = cluster.code.clone();
        if !opts.force && already_sent(conn, cluster.id, &period)? {
            report
                .skipped
                .push(skipped(&code, &period, "already sent for this period"));
            continue;
        }
        let leads = cluster.lead_emails();
        if leads.is_empty() {
            report
                .skipped
                .push(skipped(&code, &period, "the cluster has no lead emails"));
            continue;
        }
        let cluster_id = cluster.id;
        let sc = build(conn, catalog, cluster, &period, opts.at)?;
        let emails = emails(catalog, templates, &config.public_url, &sc)?;
        let stamp = now().and_utc().timestamp_micros();
        let queued = write_tx(conn, |conn| -> Result<bool, AppError> {
            if already_sent(conn, cluster_id, &period)? {
                if !opts.force {
                    return Ok(false);
                }
            } else {
                let inserted = conn.transaction(|c| {
                    diesel::insert_into(scorecard_sends::table)
                        .values((
                            scorecard_sends::cluster_id.eq(cluster_id),
                            scorecard_sends::period.eq(&period),
                            scorecard_sends::created_at.eq(now()),
                        ))
                        .execute(c)
                });
                match inserted {
                    Ok(_) => {}
                    // Another instance won the race for this cluster and period.
                    Err(e) if crate::db::is_unique_violation(&e) && !opts.force => {
                        return Ok(false)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            for (i, email) in emails.iter().enumerate() {
                let key = if opts.force {
                    format!("scorecard:{code}:{period}:{i}:forced:{stamp}")
                } else {
                    format!("scorecard:{code}:{period}:{i}")
                };
                crate::mail::enqueue(conn, "scorecard", Some(&key), &config.mail_from, email)?;
            }
            Ok(true)
        })?;
        if queued {
            report.queued.push(Queued {
                cluster: code,
                period: period.clone(),
                recipients: leads,
            });
        } else {
            report
                .skipped
                .push(skipped(&code, &period, "already sent for this period"));
        }
    }
    Ok(report)
}

/// Admins send for any cluster (or all); a global lead for their own cluster only.
pub fn send_options(
    user: &Actor,
    cluster_code: Option<String>,
    conn: &mut DbConnection,
    period: Option<String>,
    force: bool,
) -> Result<SendOptions, AppError> {
    let cluster = match user.role {
        Role::Admin => cluster_code,
        Role::GlobalLead => {
            let own = user
                .cluster_id
                .map(|id| models::cluster_by_id(conn, id))
                .transpose()?
                .map(|c| c.code)
                .ok_or_else(AppError::forbidden)?;
            match cluster_code {
                Some(c) if c != own => {
                    return Err(AppError::Forbidden(
                        "a global lead sends the scorecard of their own cluster only".into(),
                    ))
                }
                _ => Some(own),
            }
        }
        _ => {
            return Err(AppError::Forbidden(
                "only admins and global leads send scorecards".into(),
            ))
        }
    };
    Ok(SendOptions {
        cluster,
        period,
        force,
        at: crate::kernel::time::now(),
    })
}

/// Sends scorecards now on an actor's request (admins; global leads for their own cluster),
/// audited, and wakes the mail worker when something was queued.
pub fn send_now(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    cluster: Option<String>,
    period: Option<String>,
    force: bool,
) -> Result<SendReport, AppError> {
    let opts = send_options(actor, cluster, conn, period, force)?;
    let report = send(conn, &svc.catalog, &svc.templates, &svc.config, &opts)?;
    if !report.queued.is_empty() {
        models::audit(
            conn,
            Some(actor.id),
            "scorecards.send",
            "scorecards",
            json!({"queued": report.queued.len(), "force": force}),
        )?;
        svc.nudge_mail();
    }
    Ok(report)
}

/// The scorecard of a cluster (by code, readable by `actor`) for a month (`YYYY-MM`,
/// default: this month).
pub fn for_cluster(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    code: &str,
    period: Option<String>,
) -> Result<Scorecard, AppError> {
    let cluster = models::cluster_by_code(conn, code)?
        .ok_or_else(|| AppError::not_found(format!("no cluster with code {code:?}")))?;
    let ops = models::all_operations(conn)?;
    if !actor.can_read_cluster(cluster.id, &ops) {
        return Err(AppError::forbidden());
    }
    let now = crate::kernel::time::now();
    let period = match period.filter(|p| !p.trim().is_empty()) {
        Some(p) => {
            parse_period(&p)?;
            p
        }
        None => period_of(now.date()),
    };
    build(conn, catalog, cluster, &period, now)
}

/// Writes the scorecards of `opts` to `dir` without queueing anything: one `.eml` per
/// recipient, and an `.html` per cluster with its charts as PNG files beside it.
pub fn dry_run(
    conn: &mut DbConnection,
    catalog: &Catalog,
    templates: &crate::render::templates::Templates,
    config: &crate::config::Config,
    opts: &SendOptions,
    dir: &std::path::Path,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let period = match &opts.period {
        Some(p) => {
            parse_period(p).map_err(|e| anyhow::anyhow!("--period: {e}"))?;
            p.trim().to_string()
        }
        None => period_of(opts.at.date()),
    };
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let clusters = target_clusters(conn, opts.cluster.as_deref())
        .map_err(|e| anyhow::anyhow!("--cluster: {e}"))?;
    for cluster in clusters {
        let code = cluster.code.clone();
        let sc =
            build(conn, catalog, cluster, &period, opts.at).map_err(|e| anyhow::anyhow!("{e}"))?;
        let emails = emails(catalog, templates, &config.public_url, &sc)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let base = format!("{code}-{period}");
        let mut ctx = context(catalog, &sc, &|name| format!("{base}-{name}.png"));
        ctx["web_url"] = json!(web_url(&config.public_url, &sc));
        let html = templates.render("scorecard", &ctx)?;
        let path = dir.join(format!("{base}.html"));
        std::fs::write(&path, html)?;
        written.push(path);
        if let Some(first) = emails.first() {
            for img in &first.inline {
                let name = img.cid.trim_end_matches("@clusterpulse");
                std::fs::write(dir.join(format!("{base}-{name}.png")), &img.bytes)?;
            }
        }
        for (i, email) in emails.iter().enumerate() {
            let msg = crate::mail::build_message(&config.mail_from, email)?;
            let path = dir.join(format!("{base}-{i}.eml"));
            std::fs::write(&path, msg.formatted())?;
            written.push(path);
        }
    }
    Ok(written)
}

/// The monthly schedule: queues last month's scorecards of every cluster not yet sent, as of
/// `at` (so the first pass of a new month, from 00:00 UTC on the first, sends the month
/// that just ended).
pub fn scheduled(
    conn: &mut DbConnection,
    catalog: &Catalog,
    templates: &crate::render::templates::Templates,
    config: &crate::config::Config,
    at: NaiveDateTime,
) -> anyhow::Result<usize> {
    if config.scorecards == Schedule::Off {
        return Ok(0);
    }
    let period = previous_period(at);
    let pending: Vec<Cluster> = target_clusters(conn, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .filter(|c| !c.lead_emails().is_empty())
        .filter(|c| !already_sent(conn, c.id, &period).unwrap_or(true))
        .collect();
    let mut queued = 0;
    for c in pending {
        let report = send(
            conn,
            catalog,
            templates,
            config,
            &SendOptions {
                cluster: Some(c.code.clone()),
                period: Some(period.clone()),
                force: false,
                at,
            },
        )
        .map_err(|e| anyhow::anyhow!("scorecard for {}: {e}", c.code))?;
        queued += report.queued.len();
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert!(parse_period("2026-11").is_ok());
        assert!(parse_period("2026-13").is_err());
        assert!(parse_period("2026-1").is_err());
        assert!(parse_period("november").is_err());
        let d = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        assert_eq!(previous_period(d.and_hms_opt(3, 0, 0).unwrap()), "2025-12");
        assert_eq!(
            period_end(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            period_end(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        // The first second of a year sends December of the year before.
        let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            previous_period(new_year.and_hms_opt(0, 0, 0).unwrap()),
            "2026-12"
        );
        assert_eq!(
            previous_period(new_year.and_hms_opt(0, 10, 0).unwrap()),
            "2026-12"
        );
        // February of a leap year.
        assert_eq!(
            period_end(NaiveDate::from_ymd_opt(2028, 2, 1).unwrap()),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
        let march = NaiveDate::from_ymd_opt(2028, 3, 1).unwrap();
        assert_eq!(
            previous_period(march.and_hms_opt(0, 0, 0).unwrap()),
            "2028-02"
        );
        assert_eq!(Schedule::parse("monthly").unwrap(), Schedule::Monthly);
        assert!(Schedule::parse("weekly").is_err());
    }

    #[test]
    fn arrows() {
        assert_eq!(arrow(Some(5.0)), "▲");
        assert_eq!(arrow(Some(-3.0)), "▼");
        assert_eq!(arrow(Some(1.0)), "▶");
        assert_eq!(arrow(None), "");
    }
}
