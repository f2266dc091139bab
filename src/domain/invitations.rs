//! Invitation and reminder emails, queued in the durable outbox.

use crate::db::models::{Invitation, Round};
use crate::db::schema::invitations;
use crate::db::{write_tx, DbConnection};
use crate::domain::rounds::{self, CreatedInvitation, InvitationInput};
use crate::domain::Services;
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::render::i18n::{fill, t};
use diesel::prelude::*;
use serde_json::json;

pub fn link(public_url: &str, token: &str) -> String {
    format!("{public_url}/s/{token}")
}

struct MailContext {
    operation: String,
    /// A global cluster's service-charter round: the mails say so.
    charter: bool,
    cluster: String,
    closes_at: chrono::NaiveDateTime,
    from: String,
    public_url: String,
}

fn context(
    conn: &mut DbConnection,
    svc: &Services,
    round: &Round,
) -> Result<MailContext, AppError> {
    let place = rounds::place_of(conn, round)?;
    Ok(MailContext {
        operation: place.operation,
        cluster: place.cluster,
        charter: place.charter,
        closes_at: round.closes_at,
        from: svc.config.mail_from.clone(),
        public_url: svc.config.public_url.clone(),
    })
}

/// The closing day in the words of the mail's language, with the time when it is not
/// midnight.
fn closes_on(ctx: &MailContext, lang: &str) -> String {
    use chrono::Timelike;
    if ctx.closes_at.hour() == 0 && ctx.closes_at.minute() == 0 {
        crate::render::i18n::date(ctx.closes_at.date(), lang)
    } else {
        crate::render::i18n::date_time(ctx.closes_at, lang)
    }
}

fn survey_title(svc: &Services, survey: &str, lang: &str) -> String {
    svc.catalog
        .current()
        .survey(survey)
        .and_then(|s| {
            s.title
                .get(lang)
                .or_else(|| s.title.get(s.default_language()))
                .cloned()
        })
        .unwrap_or_else(|| survey.to_string())
}

fn language_for(svc: &Services, survey: &str, lang: Option<&str>) -> String {
    lang.map(str::to_string).unwrap_or_else(|| {
        svc.catalog
            .current()
            .survey(survey)
            .map(|s| s.default_language().to_string())
            .unwrap_or_else(|| "en".into())
    })
}

fn queue(
    conn: &mut DbConnection,
    ctx: &MailContext,
    kind: &str,
    dedupe: String,
    to: &str,
    subject: String,
    body: String,
) -> Result<(), AppError> {
    let email = crate::mail::Email {
        to: to.to_string(),
        subject,
        text: body,
        html: None,
        inline: Vec::new(),
        attachments: Vec::new(),
    };
    crate::mail::enqueue(conn, kind, Some(&dedupe), &ctx.from, &email)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("queueing mail: {e}")))?;
    Ok(())
}

/// Creates invitations and, with `send`, queues one email per invitation, all in one
/// transaction: an invitation is never recorded as sent without its email queued, and an
/// email that cannot be built leaves no invitation behind (a retry is not refused as a
/// duplicate).
pub fn create_and_send(
    conn: &mut DbConnection,
    svc: &Services,
    round: Round,
    items: Vec<InvitationInput>,
    send: bool,
    actor: i32,
) -> Result<Vec<InvitationLink>, AppError> {
    let ctx = if send {
        Some(context(conn, svc, &round)?)
    } else {
        None
    };
    let created = write_tx(conn, |conn| -> Result<Vec<CreatedInvitation>, AppError> {
        let created: Vec<CreatedInvitation> =
            rounds::add_invitations(conn, &svc.catalog.current(), &round, items, actor)?;
        if let Some(ctx) = &ctx {
            for inv in &created {
                let lang = language_for(svc, &inv.survey, inv.language.as_deref());
                let title = survey_title(svc, &inv.survey, &lang);
                let url = link(&ctx.public_url, &inv.token);
                let (subject_key, body_key) = if ctx.charter {
                    ("charter_invite_subject", "charter_invite_body")
                } else {
                    ("invite_subject", "invite_body")
                };
                let subject = fill(
                    t(&lang, subject_key),
                    &[("operation", &ctx.operation), ("survey", &title)],
                );
                let body = fill(
                    t(&lang, body_key),
                    &[
                        ("operation", &ctx.operation),
                        ("cluster", &ctx.cluster),
                        ("link", &url),
                        ("closes", &closes_on(ctx, &lang)),
                    ],
                );
                queue(
                    conn,
                    ctx,
                    "invitation",
                    format!("invitation:{}", inv.id),
                    &inv.email,
                    subject,
                    body,
                )?;
                diesel::update(invitations::table.find(inv.id))
                    .set(invitations::sent_at.eq(Some(now())))
                    .execute(conn)?;
            }
        }
        Ok(created)
    })?;
    if send {
        svc.nudge_mail();
    }
    let public_url = &svc.config.public_url;
    Ok(created
        .into_iter()
        .map(|c| InvitationLink {
            id: c.id,
            email: c.email,
            survey: c.survey,
            link: link(public_url, &c.token),
            token: c.token,
        })
        .collect())
}

/// A new invitation with its personal link. The token is shown this once: only its digest
/// is stored.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InvitationLink {
    pub id: i32,
    pub email: String,
    pub survey: String,
    /// The respondent's personal survey address.
    pub link: String,
    pub token: String,
}

/// Queues a reminder to every invitee of the round who has not responded and was not
/// reminded in the last 20 hours. Tokens are stored only as digests, so the original link
/// cannot be re-sent: the reminder carries a second link, and both stay valid (the draft
/// belongs to the invitation, not the link).
pub fn send_reminders(
    conn: &mut DbConnection,
    svc: &Services,
    round: &Round,
    actor: Option<i32>,
) -> Result<usize, AppError> {
    let n = remind_now(conn, svc, round, actor, false)?;
    if n > 0 {
        svc.nudge_mail();
    }
    Ok(n)
}

pub fn remind_now(
    conn: &mut DbConnection,
    svc: &Services,
    round: &Round,
    actor: Option<i32>,
    only_never_reminded: bool,
) -> Result<usize, AppError> {
    let ctx = context(conn, svc, round)?;
    // Automatic reminders go once; manual ones at most every 20 hours per person.
    let cutoff = if only_never_reminded {
        chrono::NaiveDateTime::MIN
    } else {
        now() - chrono::Duration::hours(20)
    };
    write_tx(conn, |conn| -> Result<usize, AppError> {
        let due: Vec<Invitation> = invitations::table
            .filter(invitations::round_id.eq(round.id))
            .filter(invitations::submission_key.is_null())
            .filter(
                invitations::reminded_at
                    .is_null()
                    .or(invitations::reminded_at.lt(cutoff)),
            )
            .select(Invitation::as_select())
            .load(conn)?;
        for inv in &due {
            let token = crate::kernel::secrets::random_token(24);
            let lang = language_for(svc, &inv.survey_id, inv.language.as_deref());
            let title = survey_title(svc, &inv.survey_id, &lang);
            let url = link(&ctx.public_url, &token);
            let stamp = now();
            let subject = fill(t(&lang, "remind_subject"), &[("survey", &title)]);
            let body = fill(
                t(&lang, "remind_body"),
                &[
                    ("operation", &ctx.operation),
                    ("link", &url),
                    ("closes", &closes_on(&ctx, &lang)),
                ],
            );
            queue(
                conn,
                &ctx,
                "reminder",
                format!("reminder:{}:{}", inv.id, stamp.and_utc().timestamp()),
                &inv.email,
                subject,
                body,
            )?;
            diesel::update(invitations::table.find(inv.id))
                .set((
                    invitations::reminder_token_hash
                        .eq(Some(crate::kernel::secrets::hash_token(&token))),
                    invitations::reminded_at.eq(Some(stamp)),
                ))
                .execute(conn)?;
        }
        if !due.is_empty() {
            crate::db::models::audit(
                conn,
                actor,
                "invitations.remind",
                &format!("round:{}", round.id),
                json!({"count": due.len()}),
            )?;
        }
        Ok(due.len())
    })
}
