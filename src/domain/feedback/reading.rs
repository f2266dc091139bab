//! Reading: the public status by reference, the inbox listing and one item, each as the
//! visibility rule allows.

use super::*;

/// What anyone holding a reference may learn: its status, nothing else.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicStatus {
    pub reference: String,
    pub status: FeedbackStatus,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// The reply sent to the person, once there is one, when they agreed at submission to
    /// have it shown here (`show_reply`; default no). Never for sensitive items.
    pub reply: Option<String>,
}

/// [`status_view`] as a JSON value (for page contexts).
pub fn public_status(conn: &mut DbConnection, reference: &str) -> Result<Value, AppError> {
    Ok(serde_json::to_value(status_view(conn, reference)?).unwrap_or(Value::Null))
}

/// Status only, for anyone holding the reference.
pub fn status_view(conn: &mut DbConnection, reference: &str) -> Result<PublicStatus, AppError> {
    let r = normalize_reference(reference).ok_or_else(|| {
        AppError::field(
            "reference",
            "is not a feedback reference (it looks like FB-7KQ2-9XW3)",
        )
    })?;
    type Row = (i32, String, String, NaiveDateTime, bool, String);
    let row: Option<Row> = feedback::table
        .filter(feedback::reference.eq(&r))
        .select((
            feedback::id,
            feedback::reference,
            feedback::status,
            feedback::updated_at,
            feedback::sensitive,
            feedback::answers,
        ))
        .first(conn)
        .optional()?;
    let (id, reference, status, updated, sensitive, answers) =
        row.ok_or_else(|| AppError::not_found(format!("feedback reference {r}")))?;
    let agreed = serde_json::from_str::<Value>(&answers)
        .ok()
        .is_some_and(|a| a["show_reply"] == "yes");
    let reply = if agreed && !sensitive {
        crate::db::schema::feedback_events::table
            .filter(crate::db::schema::feedback_events::feedback_id.eq(id))
            .filter(crate::db::schema::feedback_events::action.eq(FeedbackAction::Respond.as_str()))
            .order(crate::db::schema::feedback_events::id.desc())
            .select(crate::db::schema::feedback_events::note)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten()
    } else {
        None
    };
    Ok(PublicStatus {
        reference,
        status: FeedbackStatus::parse(&status)
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?,
        updated_at: crate::kernel::time::rfc3339(updated),
        reply,
    })
}

/// Inbox filters and paging.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filters {
    pub operation: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub overdue: Option<bool>,
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

pub const DEFAULT_PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 1000;

fn check_choice(field: &str, value: &Option<String>, allowed: &[&str]) -> Result<(), AppError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(AppError::field(
            field,
            format!("must be one of {}", allowed.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// The items `user` may see, newest first, with the total matching (for paging).
pub fn list(
    conn: &mut DbConnection,
    user: &Actor,
    f: &Filters,
    at: NaiveDateTime,
) -> Result<(Vec<(Item, Operation)>, i64), AppError> {
    check_choice("status", &f.status, &FeedbackStatus::texts())?;
    check_choice("category", &f.category, &CATEGORIES)?;
    check_choice("channel", &f.channel, &CHANNELS)?;
    let limit = f.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let offset = f.offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::field("offset", "must be 0 or more"));
    }
    let all_ops = models::all_operations(conn)?;
    let ops: Vec<&Operation> = match &f.operation {
        Some(slug) => {
            let op = all_ops
                .iter()
                .find(|o| &o.slug == slug)
                .ok_or_else(|| AppError::not_found(format!("operation {slug:?}")))?;
            if !user.can_read_operation(op) {
                return Err(AppError::Forbidden(
                    "you have no access to this operation's feedback".into(),
                ));
            }
            vec![op]
        }
        None => all_ops
            .iter()
            .filter(|o| user.can_read_operation(o))
            .collect(),
    };
    // Operations where the caller also sees sensitive items (PSEA focal points).
    let psea_ops: Vec<i32> = ops
        .iter()
        .filter(|o| user.can_see_feedback(o, true))
        .map(|o| o.id)
        .collect();
    let op_ids: Vec<i32> = ops.iter().map(|o| o.id).collect();
    let build = || {
        let mut q = feedback::table
            .filter(feedback::operation_id.eq_any(op_ids.clone()))
            .filter(
                feedback::sensitive
                    .eq(false)
                    .or(feedback::operation_id.eq_any(psea_ops.clone())),
            )
            .into_boxed();
        if let Some(s) = &f.status {
            q = q.filter(feedback::status.eq(s.clone()));
        }
        if let Some(c) = &f.category {
            q = q.filter(feedback::category.eq(c.clone()));
        }
        if let Some(c) = &f.channel {
            q = q.filter(feedback::channel.eq(c.clone()));
        }
        match f.overdue {
            Some(true) => {
                q = q
                    .filter(feedback::status.ne(FeedbackStatus::Closed.as_str()))
                    .filter(feedback::acknowledged_at.is_null())
                    .filter(feedback::ack_due_at.lt(at))
            }
            Some(false) => {
                q = q.filter(
                    feedback::status
                        .eq(FeedbackStatus::Closed.as_str())
                        .or(feedback::acknowledged_at.is_not_null())
                        .or(feedback::ack_due_at.ge(at)),
                )
            }
            None => {}
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let items: Vec<Item> = build()
        .order((feedback::created_at.desc(), feedback::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(Item::as_select())
        .load(conn)?;
    let out = items
        .into_iter()
        .filter_map(|i| {
            let op = all_ops.iter().find(|o| o.id == i.operation_id)?.clone();
            Some((i, op))
        })
        .collect();
    Ok((out, total))
}

/// One item for someone allowed to see it; a sensitive item is "not found" for everyone
/// else (its existence is not confirmed).
pub fn load_visible(
    conn: &mut DbConnection,
    user: &Actor,
    reference: &str,
) -> Result<(Item, Operation, Vec<Event>), AppError> {
    let r = normalize_reference(reference)
        .ok_or_else(|| AppError::bad_request("malformed feedback reference"))?;
    let found: Option<(Item, Operation)> = feedback::table
        .inner_join(operations::table)
        .filter(feedback::reference.eq(&r))
        .select((Item::as_select(), Operation::as_select()))
        .first(conn)
        .optional()?;
    let (item, op) = found
        .filter(|(i, o)| user.can_see_feedback(o, i.sensitive))
        .ok_or_else(|| AppError::not_found(format!("feedback {r}")))?;
    let events = feedback_events::table
        .filter(feedback_events::feedback_id.eq(item.id))
        .order(feedback_events::id)
        .select(Event::as_select())
        .load(conn)?;
    Ok((item, op, events))
}

/// A feedback item in listings: no contact details, no history.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// FB-XXXX-XXXX.
    pub reference: String,
    /// The operation's slug.
    pub operation: String,
    pub channel: String,
    pub language: String,
    pub category: String,
    pub status: FeedbackStatus,
    /// high, medium or low.
    pub priority: String,
    pub sensitive: bool,
    pub message: String,
    /// The answers to the feedback form, by question name.
    #[schema(value_type = Object)]
    pub answers: Value,
    pub consent_to_contact: bool,
    /// Whether contact details are stored (they are shown only in the item itself).
    pub has_contact: bool,
    pub sex: Option<String>,
    pub age_group: Option<String>,
    pub disability: Option<String>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    /// RFC 3339, UTC (as are all times here).
    pub created_at: String,
    pub updated_at: String,
    /// When acknowledgement is due under the SLA for its priority.
    pub ack_due_at: String,
    pub acknowledged_at: Option<String>,
    pub responded_at: Option<String>,
    pub closed_at: Option<String>,
    pub satisfied: Option<bool>,
    /// Not acknowledged and past ack_due_at.
    pub overdue: bool,
    pub contact_purged_at: Option<String>,
}

/// One entry of an item's append-only history.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub action: String,
    pub note: Option<String>,
    pub referred_to: Option<String>,
    pub satisfied: Option<bool>,
    /// The staff member's email (null for the public or a removed account).
    pub by: Option<String>,
    pub at: String,
}

/// An item with its history, for someone who may see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub item: ItemView,
    pub history: Vec<HistoryEntry>,
    /// Whether the caller may record events on it.
    pub can_act: bool,
    /// Decrypted contact details: present only for those who handle the item (null when
    /// none were given or they were purged).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, value_type = Option<String>)]
    pub contact: Option<Option<String>>,
}

pub fn item_view(item: &Item, op: &Operation, at: NaiveDateTime) -> ItemView {
    use crate::kernel::time::rfc3339;
    ItemView {
        reference: item.reference.clone(),
        operation: op.slug.clone(),
        channel: item.channel.clone(),
        language: item.language.clone(),
        category: item.category.clone(),
        status: item.status,
        priority: item.priority.clone(),
        sensitive: item.sensitive,
        message: item.message.clone(),
        answers: serde_json::from_str(&item.answers).unwrap_or_else(|_| json!({})),
        consent_to_contact: item.consent_to_contact,
        has_contact: item.contact_encrypted.is_some(),
        sex: item.sex.clone(),
        age_group: item.age_group.clone(),
        disability: item.disability.clone(),
        admin1: item.admin1.clone(),
        admin2: item.admin2.clone(),
        created_at: rfc3339(item.created_at),
        updated_at: rfc3339(item.updated_at),
        ack_due_at: rfc3339(item.ack_due_at),
        acknowledged_at: item.acknowledged_at.map(rfc3339),
        responded_at: item.responded_at.map(rfc3339),
        closed_at: item.closed_at.map(rfc3339),
        satisfied: item.satisfied,
        overdue: item.is_overdue(at),
        contact_purged_at: item.contact_purged_at.map(rfc3339),
    }
}

/// [`item_view`] as a JSON value (for page contexts).
pub fn item_json(item: &Item, op: &Operation, at: NaiveDateTime) -> Value {
    serde_json::to_value(item_view(item, op, at)).unwrap_or(Value::Null)
}

/// The full item for someone who may see it: history, and the contact details for those who
/// handle it.
pub fn detail_view(
    conn: &mut DbConnection,
    secret: &str,
    user: &Actor,
    item: &Item,
    op: &Operation,
    events: &[Event],
    at: NaiveDateTime,
) -> Result<ItemDetail, AppError> {
    let actors: Vec<i32> = events.iter().filter_map(|e| e.actor_user_id).collect();
    let emails: Vec<(i32, String)> = crate::db::schema::users::table
        .filter(crate::db::schema::users::id.eq_any(actors))
        .select((
            crate::db::schema::users::id,
            crate::db::schema::users::email,
        ))
        .load(conn)?;
    let history = events
        .iter()
        .map(|e| HistoryEntry {
            action: e.action.clone(),
            note: e.note.clone(),
            referred_to: e.referred_to.clone(),
            satisfied: e.satisfied,
            by: e.actor_user_id.and_then(|id| {
                emails
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map(|(_, m)| m.clone())
            }),
            at: crate::kernel::time::rfc3339(e.created_at),
        })
        .collect();
    let can_act = user.can_act_on_feedback(op, item.sensitive);
    let contact = can_act.then(|| match &item.contact_encrypted {
        Some(sealed) => {
            let opened = crypto::open(secret, &item.reference, sealed);
            if opened.is_none() {
                tracing::warn!(
                    item = item.id,
                    "contact details of a feedback item could not be decrypted (was the secret key changed?)"
                );
            }
            opened
        }
        None => None,
    });
    Ok(ItemDetail {
        item: item_view(item, op, at),
        history,
        can_act,
        contact,
    })
}

/// [`detail_view`] as a JSON value (for page contexts that add fields).
pub fn detail_json(
    conn: &mut DbConnection,
    secret: &str,
    user: &Actor,
    item: &Item,
    op: &Operation,
    events: &[Event],
    at: NaiveDateTime,
) -> Result<Value, AppError> {
    let d = detail_view(conn, secret, user, item, op, events, at)?;
    Ok(serde_json::to_value(d).unwrap_or(Value::Null))
}
