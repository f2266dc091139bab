//! The scorecard as a page, an email (HTML and text) and a CSV.

use super::*;

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

pub(super) fn arrow(change: Option<f64>) -> &'static str {
    match change {
        Some(c) if c >= 2.5 => "▲",
        Some(c) if c <= -2.5 => "▼",
        Some(_) => "▶",
        None => "",
    }
}

/// The template context; `img(name)` gives each chart's `src` (a `cid:` in email, a URL on
/// the web).
/// A round's link text: its title; a round made without one still needs words.
fn link_text(r: &crate::db::models::Round) -> String {
    if r.title.trim().is_empty() {
        format!("#{}", r.id)
    } else {
        r.title.clone()
    }
}

/// The day a round closed (early closes count from when they closed).
fn closed_day(r: &crate::db::models::Round, lang: &str) -> String {
    i18n::date(
        r.closed_at.unwrap_or(r.closes_at).min(r.closes_at).date(),
        lang,
    )
}

/// Each function's row of a scorecard or report: id, title, score, status, colours, trend.
pub fn function_rows(
    fw: Option<&crate::surveys::model::Framework>,
    scores: &crate::scoring::RoundScores,
    lang: &str,
) -> Vec<Value> {
    scores
        .functions
        .iter()
        .map(|f| {
            let title = fw
                .and_then(|fw| fw.functions.iter().find(|x| x.id == f.id))
                .map(|x| text_in(&x.title, lang))
                .unwrap_or_default();
            let status = f.status.as_str();
            json!({"id": f.id, "title": title, "score": fmt_score(f.score),
                   "status": status, "status_label": i18n::t(lang, &format!("st_{status}")),
                   "colour": f.status.colour(), "ink": ink(status), "arrow": arrow(f.change),
                   "change": f.change.map(|c| format!("{c:+.0}"))})
        })
        .collect()
}

/// The service-charter section of a cluster's scorecard (and its report page): how the
/// country clusters rated the global cluster in its latest closed charter round.
pub fn charter_context(
    catalog: &Catalog,
    r: &crate::domain::charter::scores::CharterResult,
    lang: &str,
) -> Value {
    let o = &r.scores.overall;
    json!({
        "id": r.round.id,
        "title": link_text(&r.round),
        "closed": closed_day(&r.round, lang),
        "overall": fmt_score(o.score),
        "overall_label": i18n::t(lang, &format!("st_{}", o.status.as_str())),
        "overall_colour": o.status.colour(),
        "overall_ink": ink(o.status.as_str()),
        "responses": i18n::fill(
            i18n::t(lang, "sc_charter_responses"),
            &[
                ("n", &r.progress.responded.to_string()),
                ("invited", &r.progress.invited.to_string()),
            ],
        ),
        "functions": function_rows(catalog.framework(&r.round.framework), &r.scores, lang),
    })
}

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
                let functions = function_rows(fw, &r.scores, lang);
                let scores: Vec<String> = functions
                    .iter()
                    .map(|f| {
                        format!(
                            "{} {} {} ({})",
                            f["id"].as_str().unwrap_or(""),
                            f["title"].as_str().unwrap_or(""),
                            f["score"].as_str().unwrap_or(""),
                            f["status_label"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                let alt = i18n::fill(
                    i18n::t(lang, "sc_chart_alt"),
                    &[
                        ("operation", c.operation.name.as_str()),
                        ("scores", &scores.join("; ")),
                    ],
                );
                json!({
                    "id": r.round.id,
                    "title": link_text(&r.round),
                    "closed": closed_day(&r.round, lang),
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
                    "chart_alt": alt,
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
                   "owner": a.owner, "due": a.due.map(|d| i18n::date(d, lang)), "status": a.status,
                   "overdue": a.overdue})
        })
        .collect();
    let grid = grid_table(fw, sc, lang);
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
        "grid_alt": i18n::fill(
            i18n::t(lang, "sc_grid_alt"),
            &[("title", i18n::t(lang, "sc_grid"))],
        ),
        "grid_table": grid,
        "volume": img("volume"),
        "operations": ops,
        "weakest": weakest,
        "actions": actions,
        "charter": sc.charter.as_ref().map(|r| charter_context(catalog, r, lang)),
        "show_charter": sc.show_charter,
    })
}

/// The one-letter mark of a status in `lang` (the first letter of its name: G, S, U, W in
/// English), printed in each cell of the grid so that it does not rely on colour.
fn status_mark(lang: &str, status: &str) -> String {
    let name = i18n::t(lang, &format!("st_{status}"));
    name.chars()
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .collect()
}

/// The operations × functions grid as rows of cells, for the HTML table that stands in for
/// the grid image when images are blocked (and on phones). Every cell has its score, a colour
/// and a letter; a cell without a status says why (too few responses, or no answers).
fn grid_table(fw: Option<&crate::surveys::model::Framework>, sc: &Scorecard, lang: &str) -> Value {
    let Some(fw) = fw else {
        return Value::Null;
    };
    let columns: Vec<Value> = fw
        .functions
        .iter()
        .map(|f| json!({"id": f.id, "title": text_in(&f.title, lang)}))
        .collect();
    let rows: Vec<Value> = sc
        .operations
        .iter()
        .map(|c| {
            let cells: Option<Vec<Value>> = c.result.as_ref().map(|r| {
                fw.functions
                    .iter()
                    .map(|def| {
                        let f = r.scores.functions.iter().find(|f| f.id == def.id);
                        let status = f.map(|f| f.status.as_str()).unwrap_or("insufficient_data");
                        let score = f.and_then(|f| f.score);
                        let n = f.map(|f| f.n).unwrap_or(0);
                        let colour = f
                            .map(|f| f.status.colour())
                            .unwrap_or(crate::scoring::Status::InsufficientData.colour());
                        // What the cell says in words, beside the colour.
                        let (mark, why) = match (score, status) {
                            (None, _) => {
                                ("–".to_string(), i18n::t(lang, "sc_no_score").to_string())
                            }
                            (Some(_), "insufficient_data") => (
                                format!("n={n}"),
                                i18n::t(lang, "st_insufficient_data").to_string(),
                            ),
                            (Some(_), s) => (
                                status_mark(lang, s),
                                i18n::t(lang, &format!("st_{s}")).to_string(),
                            ),
                        };
                        json!({"id": def.id, "score": fmt_score(score), "colour": colour,
                               "ink": ink(status), "mark": mark, "why": why, "status": status})
                    })
                    .collect()
            });
            json!({"operation": c.operation.name, "cells": cells})
        })
        .collect();
    let key: Vec<String> = ["good", "satisfactory", "unsatisfactory", "weak"]
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                status_mark(lang, s),
                i18n::t(lang, &format!("st_{s}"))
            )
        })
        .collect();
    let min = fw.min_respondents.to_string();
    json!({
        "columns": columns,
        "span": columns.len(),
        "rows": rows,
        "key": key.join(" · "),
        "key_few": i18n::fill(i18n::t(lang, "sc_key_few"), &[("min", min.as_str())]),
        "key_none": i18n::t(lang, "sc_key_none"),
    })
}

/// The plain-text alternative.
pub fn text(ctx: &Value, web_url: &str) -> String {
    let t = &ctx["t"];
    // Strings as they are, numbers as digits ("fewer than 3" and 4 alike, never quoted).
    let s = |v: &Value| match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
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
            s(&a["sensitive"]),
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
    if ctx["show_charter"] == true {
        out.push_str(&format!("\n{}:\n", s(&t["sc_charter_heading"])));
    }
    match ctx["charter"].as_object() {
        _ if ctx["show_charter"] != true => {}
        Some(c) => {
            out.push_str(&format!(
                "  {} ({}) · {}: {} ({}) · {}\n",
                s(&c["title"]),
                s(&c["closed"]),
                s(&t["sc_overall"]),
                s(&c["overall"]),
                s(&c["overall_label"]),
                s(&c["responses"])
            ));
            for f in c["functions"].as_array().into_iter().flatten() {
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
        None => out.push_str(&format!("  {}\n", s(&t["sc_charter_none"]))),
    }
    out.push_str(&format!(
        "\n{}: {web_url}\n{}\n",
        s(&t["sc_view"]),
        s(&t["sc_csv"])
    ));
    out
}

/// The levels of a round's scores the email's CSV carries: what the scorecard reports.
/// Question and organisation-type rows stay in each round's full CSV
/// (`/api/v1/rounds/{id}/scores.csv`, linked from the web scorecard), which keeps the
/// attachment about a fifth of the size.
pub const CSV_LEVELS: [&str; 3] = ["overall", "function", "indicator"];

/// The scores of the scorecard as one CSV: the overall, function and indicator rows of each
/// operation's round CSV (same columns, full precision), prefixed.
pub fn csv(sc: &Scorecard) -> String {
    let mut out = format!(
        "cluster,period,operation,round,{}\n",
        crate::scoring::CSV_HEADER
    );
    for c in &sc.operations {
        let Some(r) = &c.result else { continue };
        for line in crate::scoring::to_csv(&r.scores).lines().skip(1) {
            let level = line.split(',').next().unwrap_or_default();
            if !CSV_LEVELS.contains(&level) {
                continue;
            }
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

/// The email's charts in the template context: instead of one chart per operation (kept on
/// the web page the email links to), one chart per function with every operation as a bar
/// (`function_charts`: `src`, `title`, `alt`).
fn email_charts(catalog: &Catalog, sc: &Scorecard, ctx: &mut Value, img: &dyn Fn(&str) -> String) {
    for op in ctx["operations"].as_array_mut().into_iter().flatten() {
        if let Some(round) = op["round"].as_object_mut() {
            round.remove("chart");
        }
    }
    let lang = sc.lang.as_str();
    let charts: Vec<Value> = chart_names(catalog, sc)
        .iter()
        .filter_map(|name| {
            let id = name.strip_prefix("function-")?;
            let title = function_title(catalog, sc, id)?;
            let bars: Vec<String> = sc
                .operations
                .iter()
                .filter_map(|c| {
                    let f = c
                        .result
                        .as_ref()?
                        .scores
                        .functions
                        .iter()
                        .find(|f| f.id == id)?;
                    let status = i18n::t(lang, &format!("st_{}", f.status.as_str()));
                    Some(match f.ci95 {
                        Some([lo, hi]) => format!(
                            "{} {} ({status}, {lo:.0}–{hi:.0})",
                            c.operation.name,
                            fmt_score(f.score)
                        ),
                        None => format!("{} {} ({status})", c.operation.name, fmt_score(f.score)),
                    })
                })
                .collect();
            Some(json!({"src": img(name), "title": title,
                        "alt": format!("{title}: {}", bars.join("; "))}))
        })
        .collect();
    ctx["function_charts"] = json!(charts);
}

/// One email per lead: HTML with the charts inline as PNG (`cid:`), the text part, the CSV.
pub fn emails(
    catalog: &Catalog,
    templates: &crate::render::templates::Templates,
    public_url: &str,
    sc: &Scorecard,
) -> Result<Vec<Email>, AppError> {
    let cid = |name: &str| format!("{name}@clusterpulse");
    let mut ctx = context(catalog, sc, &|name| format!("cid:{}", cid(name)));
    email_charts(catalog, sc, &mut ctx, &|name| format!("cid:{}", cid(name)));
    let mut ctx_html = ctx.clone();
    ctx_html["web_url"] = json!(web_url(public_url, sc));
    ctx_html["base_url"] = json!(public_url);
    // The email leaves out what the web page it links to has: each operation's function
    // table (the status grid carries the same scores and statuses).
    ctx_html["email"] = json!(true);
    let html = templates.render("scorecard", &ctx_html)?;
    let text = text(&ctx, &web_url(public_url, sc));
    // Charts are CPU-only work: drawn on every core.
    let names = chart_names(catalog, sc);
    let render = |name: &String| -> Result<Option<Inline>, AppError> {
        let Some(ch) = chart(catalog, sc, name) else {
            return Ok(None);
        };
        let png = charts::render_png_compact(&ch)
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
