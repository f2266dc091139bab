//! Sending scorecards to the cluster leads: on request, on schedule, or as a dry run; once
//! per cluster and month unless forced.

use super::*;

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
    let report = send(
        conn,
        &svc.catalog.current(),
        &svc.templates,
        &svc.config,
        &opts,
    )?;
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
        ctx["base_url"] = json!(config.public_url);
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
