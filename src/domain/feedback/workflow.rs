//! Workflow: the append-only events that move an item along.

use super::*;

/// A workflow step on an item: acknowledge, refer (with referred_to), respond (with note),
/// close (with satisfied), reopen or mark_sensitive.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct EventBody {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub referred_to: Option<String>,
    #[serde(default)]
    pub satisfied: Option<bool>,
}

fn clean(s: &Option<String>, field: &str) -> Result<Option<String>, AppError> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) if v.chars().count() > MAX_NOTE_CHARS => Err(AppError::field(
            field,
            format!("is too long (at most {MAX_NOTE_CHARS} characters)"),
        )),
        other => Ok(other.map(str::to_string)),
    }
}

/// Appends one workflow event and moves the item's status; nothing is edited in place
/// except the item's current state, and the history only grows.
pub fn record_event(
    conn: &mut DbConnection,
    user: &Actor,
    reference: &str,
    body: &EventBody,
) -> Result<(Item, Operation), AppError> {
    let actions = FeedbackAction::texts().join(", ");
    let action = body
        .action
        .as_deref()
        .ok_or_else(|| AppError::field("action", format!("is required: {actions}")))?;
    let action = FeedbackAction::parse(action)
        .map_err(|_| AppError::field("action", format!("must be one of {actions}")))?;
    let note = clean(&body.note, "note")?;
    let referred_to = clean(&body.referred_to, "referred_to")?;
    if action == FeedbackAction::Refer && referred_to.is_none() {
        return Err(AppError::field(
            "referred_to",
            "is required for refer: say to whom",
        ));
    }
    if action == FeedbackAction::Respond && note.is_none() {
        return Err(AppError::field(
            "note",
            "is required for respond: record what was told back to the person",
        ));
    }
    write_tx(conn, |conn| -> Result<(Item, Operation), AppError> {
        let (item, op, _) = load_visible(conn, user, reference)?;
        if !user.can_act_on_feedback(&op, item.sensitive) {
            return Err(AppError::Forbidden(
                "you can read this item but not act on it".into(),
            ));
        }
        let at = now();
        let closed = item.status == FeedbackStatus::Closed;
        let conflict = |m: &str| Err(AppError::Conflict(m.to_string()));
        use FeedbackAction as A;
        match action {
            A::Reopen if !closed => return conflict("only a closed item can be reopened"),
            A::Acknowledge if item.acknowledged_at.is_some() => {
                return conflict("this item was already acknowledged")
            }
            A::MarkSensitive if item.sensitive => {
                return conflict("this item is already marked sensitive")
            }
            A::Reopen | A::MarkSensitive => {}
            _ if closed => return conflict("this item is closed; reopen it first"),
            _ => {}
        }
        let ack = item.acknowledged_at.or(Some(at));
        // The summaries lose the item as it was and gain it as it is after the change.
        super::summaries::remove(conn, item.id)?;
        let upd = diesel::update(feedback::table.find(item.id));
        match action {
            A::Acknowledge | A::Refer => {
                let status = if action == A::Refer {
                    FeedbackStatus::Referred
                } else {
                    FeedbackStatus::Acknowledged
                };
                upd.set((
                    feedback::status.eq(status.as_str()),
                    feedback::acknowledged_at.eq(ack),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            A::Respond => {
                upd.set((
                    feedback::status.eq(FeedbackStatus::Responded.as_str()),
                    feedback::acknowledged_at.eq(ack),
                    feedback::responded_at.eq(Some(at)),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            A::Close => {
                upd.set((
                    feedback::status.eq(FeedbackStatus::Closed.as_str()),
                    feedback::acknowledged_at.eq(ack),
                    feedback::closed_at.eq(Some(at)),
                    feedback::satisfied.eq(body.satisfied),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            A::Reopen => {
                upd.set((
                    feedback::status.eq(FeedbackStatus::Acknowledged.as_str()),
                    feedback::closed_at.eq(None::<NaiveDateTime>),
                    feedback::satisfied.eq(None::<bool>),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            A::MarkSensitive => {
                // From now on only the PSEA focal points see it.
                upd.set((
                    feedback::sensitive.eq(true),
                    feedback::priority.eq("high"),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
        }
        super::summaries::add(conn, item.id)?;
        diesel::insert_into(feedback_events::table)
            .values((
                feedback_events::feedback_id.eq(item.id),
                feedback_events::action.eq(action.as_str()),
                feedback_events::note.eq(&note),
                feedback_events::referred_to.eq(&referred_to),
                feedback_events::satisfied.eq(if action == A::Close {
                    body.satisfied
                } else {
                    None
                }),
                feedback_events::actor_user_id.eq(Some(user.id)),
                feedback_events::created_at.eq(at),
            ))
            .execute(conn)?;
        models::audit(
            conn,
            Some(user.id),
            &format!("feedback.{action}"),
            &format!("feedback:{}", item.id),
            json!({}),
        )?;
        let updated = feedback::table
            .find(item.id)
            .select(Item::as_select())
            .first(conn)?;
        Ok((updated, op))
    })
}
