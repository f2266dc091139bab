//! Time-driven work, run by every instance (each step is idempotent and safe to race):
//! open scheduled rounds, close expired ones, send automatic reminders, tell the PSEA focal
//! points about sensitive feedback whose acknowledgement is overdue, queue the monthly
//! scorecards, forget sessions that ended a day ago, and pick up surveys another instance
//! published.

use crate::db::models::Round;
use crate::db::schema::rounds;
use crate::domain::Services;
use diesel::prelude::*;
use std::sync::Arc;
use std::time::Duration;

pub const INTERVAL: Duration = Duration::from_secs(30);

/// One pass; returns (opened, closed, reminded).
pub fn tick(svc: &Services) -> anyhow::Result<(usize, usize, usize)> {
    let mut conn = svc.pool.get()?;
    if let Err(e) = svc.catalog.refresh(&mut conn) {
        tracing::warn!(error = %format!("{e:#}"), "reading published surveys failed");
    }
    let (opened, closed) = crate::domain::rounds::tick(&mut conn)?;
    let now = crate::kernel::time::now();
    let due: Vec<Round> = rounds::table
        .filter(rounds::state.eq(crate::kernel::vocab::RoundState::Open.as_str()))
        .filter(rounds::remind_days_before.is_not_null())
        .select(Round::as_select())
        .load(&mut conn)?;
    let mut reminded = 0;
    for round in due {
        let days = round.remind_days_before.unwrap_or(0) as i64;
        if now >= round.closes_at - chrono::Duration::days(days) && now < round.closes_at {
            reminded += crate::domain::invitations::remind_now(&mut conn, svc, &round, None, true)
                .map_err(|e| anyhow::anyhow!("automatic reminders: {e}"))?;
        }
    }
    let overdue =
        match crate::domain::feedback::notify_overdue_sensitive(&mut conn, &svc.config, now) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "overdue sensitive feedback notices failed");
                0
            }
        };
    reminded += overdue;
    let scorecards = match crate::domain::scorecards::scheduled(
        &mut conn,
        &svc.catalog.current(),
        &svc.templates,
        &svc.config,
        now,
    ) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "scheduled scorecards failed");
            0
        }
    };
    if reminded + scorecards > 0 {
        svc.nudge_mail();
    }
    if let Err(e) = crate::domain::sessions::purge(&mut conn, now) {
        tracing::warn!(error = %e, "purging ended sessions failed");
    }
    Ok((opened, closed, reminded + scorecards))
}

pub async fn run(svc: Arc<Services>) {
    let mut interval = tokio::time::interval(INTERVAL);
    loop {
        interval.tick().await;
        let st = svc.clone();
        match tokio::task::spawn_blocking(move || tick(&st)).await {
            Ok(Ok((o, c, r))) if o + c + r > 0 => {
                tracing::info!(opened = o, closed = c, reminded = r, "scheduler");
            }
            Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "scheduler pass failed"),
            _ => {}
        }
    }
}
