//! Intake: feedback from the public form and from staff, checked and stored.

use super::*;
use crate::domain::Services;

/// One piece of feedback: the answers to the operation's feedback form.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SubmitBody {
    /// The operation's slug.
    #[serde(default)]
    pub operation: Option<String>,
    /// web (the public); staff logging it may also use hotline, helpdesk, sms, box or email.
    #[serde(default)]
    pub channel: Option<String>,
    /// en, fr, es or ar.
    #[serde(default)]
    pub language: Option<String>,
    /// Question name → answer, as in the operation's `aap-feedback` survey.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Map<String, Value>>,
}

pub struct Submitted {
    pub reference: String,
    pub status: FeedbackStatus,
    /// Stored sealed (only the operation's PSEA focal points see it).
    pub sensitive: bool,
    pub operation_id: i32,
}

/// A submission that passed the checks of [`check_submission`], ready to be stored.
pub struct CheckedSubmission {
    op: Operation,
    channel: String,
    language: String,
    item: CheckedItem,
    actor: Option<i32>,
}

impl CheckedSubmission {
    fn item(&self, at: NaiveDateTime) -> NewItem<'_> {
        NewItem {
            op: &self.op,
            channel: &self.channel,
            language: &self.language,
            answers: self.item.answers.clone(),
            contact: self.item.contact.clone(),
            admin1: self.item.admin1.clone(),
            admin2: self.item.admin2.clone(),
            actor: self.actor,
            at,
        }
    }
}

/// Checks one submission without writing. `staff` is the signed-in person logging it (any
/// channel) or `None` for the public (channel `web` only).
pub fn check_submission(
    conn: &mut DbConnection,
    catalog: &Catalog,
    staff: Option<&Actor>,
    body: &SubmitBody,
) -> Result<CheckedSubmission, AppError> {
    let survey = catalog
        .survey(FORM_ID)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the {FORM_ID} form is not loaded")))?;
    let slug = body
        .operation
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::field("operation", "is required (an operation slug)"))?;
    let op = models::operation_by_slug(conn, slug)?
        .ok_or_else(|| AppError::not_found(format!("operation {slug:?}")))?;
    let channel = body.channel.as_deref().unwrap_or("web");
    if !CHANNELS.contains(&channel) {
        return Err(AppError::field(
            "channel",
            format!("must be one of {}", CHANNELS.join(", ")),
        ));
    }
    if staff.is_none() && channel != "web" {
        return Err(AppError::Unauthorized(
            "only signed-in staff can log feedback from other channels".into(),
        ));
    }
    let language = validation::language(survey, body.language.as_deref().unwrap_or("en"));
    let empty = Map::new();
    let raw = body.answers.as_ref().unwrap_or(&empty);
    let item = check_item(conn, survey, &op, language, raw)?;
    // Staff who may log feedback for the operation may log a sensitive item too (a
    // complaint arrives wherever it arrives): it is sealed at once, and the person who logged
    // it gets its reference and never sees it again unless they are a PSEA focal point.
    if let Some(user) = staff {
        if !user.can_act_on_feedback(&op, false) {
            return Err(AppError::Forbidden(
                "you can log feedback only for the operations you manage".into(),
            ));
        }
    }
    Ok(CheckedSubmission {
        channel: channel.to_string(),
        language: language.to_string(),
        op,
        item,
        actor: staff.map(|u| u.id),
    })
}

/// Checks and stores one item in a transaction of its own (see [`check_submission`]; the
/// server goes through [`submit_grouped`]).
pub fn submit(
    conn: &mut DbConnection,
    catalog: &Catalog,
    config: &crate::config::Config,
    staff: Option<&Actor>,
    body: &SubmitBody,
) -> Result<Submitted, AppError> {
    let checked = check_submission(conn, catalog, staff, body)?;
    store(conn, config, checked.item(now()))
}

/// Why a grouped write of an item did not store it.
enum Unstored {
    /// The reference was taken meanwhile: draw another.
    Collision,
    Failed(AppError),
}

impl From<diesel::result::Error> for Unstored {
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_unique_violation(&e) {
            Unstored::Collision
        } else {
            Unstored::Failed(e.into())
        }
    }
}

/// An item as the server takes it: checked and prepared on a pooled connection, then
/// written by the database's writer together with the others waiting (group commit),
/// answered once that transaction is durable.
pub async fn submit_grouped(
    svc: &Services,
    staff: Option<Actor>,
    body: SubmitBody,
) -> Result<Submitted, AppError> {
    let (catalog, config) = (svc.catalog.current(), svc.config.clone());
    let at = now();
    // Checked and prepared in one trip to the blocking threads; a retry (the reference was
    // taken meanwhile) prepares again with a new one.
    let (checked, first) = svc
        .blocking(move |conn| {
            let checked = check_submission(conn, &catalog, staff.as_ref(), &body)?;
            let pending = prepare(conn, &config, checked.item(at), None)?;
            Ok((std::sync::Arc::new(checked), pending))
        })
        .await?;
    let mut first = Some(first);
    for _ in 0..5 {
        let pending = match first.take() {
            Some(p) => p,
            None => {
                let (c, config) = (checked.clone(), svc.config.clone());
                svc.blocking(move |conn| prepare(conn, &config, c.item(at), None))
                    .await?
            }
        };
        // One lane per operation: its items update the same daily summary rows.
        let lane = checked.op.id as u64;
        match svc
            .write_repeatable(lane, move |conn| {
                pending
                    .insert(conn)
                    .map(|()| pending.submitted())
                    .map_err(Unstored::from)
            })
            .await
        {
            Ok(submitted) => return Ok(submitted),
            Err(Unstored::Collision) => continue,
            Err(Unstored::Failed(e)) => return Err(e),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "could not allocate a unique feedback reference"
    )))
}

/// Answers that passed every check of an item, ready for [`NewItem`].
pub(super) struct CheckedItem {
    pub answers: Map<String, Value>,
    pub contact: Option<String>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
}

/// The checks every item passes, whatever brought it: the form's rules, the lengths, and
/// the areas (P-codes from the operation's list, or `other`: only those reach the
/// aggregate columns).
pub(super) fn check_item(
    conn: &mut DbConnection,
    survey: &Survey,
    op: &Operation,
    language: &str,
    raw: &Map<String, Value>,
) -> Result<CheckedItem, AppError> {
    let (answers, contact, _sensitive) = check_answers(survey, language, raw)?;
    let areas = crate::domain::areas::load(conn, op.id)?;
    let text = |k: &str| answers.get(k).and_then(Value::as_str).map(str::trim);
    let (admin1, admin2) = crate::domain::areas::resolve(&areas, text("admin1"), text("admin2"))
        .map_err(|fields| {
            AppError::unprocessable(
                format!(
                    "{} answer(s) need attention: {}",
                    fields.len(),
                    fields.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                fields,
            )
        })?;
    Ok(CheckedItem {
        answers,
        contact,
        admin1,
        admin2,
    })
}

/// Validated answers (without the contact details), the contact details, and whether the
/// item is sensitive.
type Checked = (Map<String, Value>, Option<String>, bool);

fn check_answers(
    survey: &Survey,
    language: &str,
    raw: &Map<String, Value>,
) -> Result<Checked, AppError> {
    let errors = match validation::validate(survey, raw, language, Mode::Submit) {
        Ok(v) => {
            let mut answers = v.answers;
            let mut fields = crate::kernel::error::Fields::new();
            let message_len = answers
                .get("message")
                .and_then(Value::as_str)
                .map(|m| m.chars().count())
                .unwrap_or(0);
            if message_len > MAX_MESSAGE_CHARS {
                fields.insert(
                    "message".into(),
                    format!("is {message_len} characters long; the limit is {MAX_MESSAGE_CHARS}"),
                );
            }
            for name in ["contact", "admin1", "admin2"] {
                let len = answers
                    .get(name)
                    .and_then(Value::as_str)
                    .map(|m| m.chars().count())
                    .unwrap_or(0);
                if len > MAX_NOTE_CHARS {
                    fields.insert(
                        name.into(),
                        format!("is too long ({len} characters; the limit is {MAX_NOTE_CHARS})"),
                    );
                }
            }
            if fields.is_empty() {
                let contact = answers
                    .remove("contact")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .filter(|s| !s.trim().is_empty());
                let sensitive =
                    answers.get("category").and_then(Value::as_str) == Some("sensitive");
                return Ok((answers, contact, sensitive));
            }
            fields
        }
        Err(errors) => errors,
    };
    let message = format!(
        "{} answer(s) need attention: {}",
        errors.len(),
        errors.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    Err(AppError::unprocessable(message, errors))
}

#[derive(Clone)]
pub struct NewItem<'a> {
    pub op: &'a Operation,
    pub channel: &'a str,
    pub language: &'a str,
    pub answers: Map<String, Value>,
    pub contact: Option<String>,
    /// P-codes from the operation's list ([`crate::domain::areas::resolve`]); the answers keep
    /// what was given.
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    pub actor: Option<i32>,
    pub at: NaiveDateTime,
}

/// Stores a checked item with its first event, committed before returning. A sensitive item
/// notifies the operation's PSEA focal points in the same transaction (see
/// [`psea_notices`]).
pub fn store(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    item: NewItem<'_>,
) -> Result<Submitted, AppError> {
    store_with(conn, config, item, None)
}

/// Where a collected item came from: kept with it in the same transaction, so an instance
/// is stored once (a second insert of the same instance fails as a unique violation).
pub(super) struct Provenance<'a> {
    pub collector_id: i32,
    pub instance_id: &'a str,
    pub digest: &'a str,
    /// Said in the item's first event (e.g. the collector's name).
    pub via: &'a str,
}

/// [`store`], recording where a collected item came from.
pub(super) fn store_with(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    item: NewItem<'_>,
    provenance: Option<&Provenance<'_>>,
) -> Result<Submitted, AppError> {
    // A reference collision (40 random bits) is retried with a new code.
    for _ in 0..5 {
        let pending = prepare(conn, config, item.clone(), provenance)?;
        match write_tx(conn, |conn| pending.insert(conn)) {
            Ok(()) => return Ok(pending.submitted()),
            // The same instance stored meanwhile by a concurrent request: no new reference
            // helps; the caller finds the stored one.
            Err(e) if crate::db::is_unique_violation(&e) && provenance.is_some() => {
                return Err(AppError::Conflict(
                    "this instance was stored meanwhile".into(),
                ))
            }
            Err(e) if crate::db::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "could not allocate a unique feedback reference"
    )))
}

/// An item with its reference drawn, its contact sealed and its notices built: the rows to
/// insert ([`PendingItem::insert`]).
pub struct PendingItem {
    reference: String,
    operation_id: i32,
    channel: String,
    language: String,
    category: String,
    priority: &'static str,
    sensitive: bool,
    message: String,
    answers_json: String,
    consent: bool,
    sealed: Option<String>,
    sex: Option<String>,
    age_group: Option<String>,
    disability: Option<String>,
    admin1: Option<String>,
    admin2: Option<String>,
    actor: Option<i32>,
    at: NaiveDateTime,
    due: NaiveDateTime,
    notices: Vec<(String, lettre::Message)>,
    collected: Option<Origin>,
}

/// [`Provenance`], owned.
struct Origin {
    collector_id: i32,
    instance_id: String,
    digest: String,
    via: String,
}

/// Draws a reference and prepares the rows of `item` (reads only).
pub(super) fn prepare(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    item: NewItem<'_>,
    provenance: Option<&Provenance<'_>>,
) -> Result<PendingItem, AppError> {
    let (secret, sla) = (config.secret_key.as_str(), &config.sla);
    let get = |k: &str| {
        item.answers
            .get(k)
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let category = get("category").unwrap_or_else(|| "question".into());
    let sensitive = category == "sensitive";
    let priority = priority_of(&category, sensitive);
    let consent = get("consent_to_contact").as_deref() == Some("yes");
    let contact = item.contact.as_ref().filter(|_| consent);
    let reference = new_reference();
    let sealed = contact.map(|c| crypto::seal(secret, &reference, c.trim()));
    // Messages are built before the transaction: one that cannot be built is left out
    // (and logged) rather than failing the item.
    let notices = if sensitive {
        psea_notices(conn, config, item.op, &reference, Notice::New)?
    } else {
        Vec::new()
    };
    Ok(PendingItem {
        operation_id: item.op.id,
        channel: item.channel.to_string(),
        language: item.language.to_string(),
        priority,
        sensitive,
        message: get("message").unwrap_or_default(),
        answers_json: Value::Object(item.answers.clone()).to_string(),
        consent,
        sealed,
        sex: get("sex"),
        age_group: get("age_group"),
        disability: get("disability"),
        admin1: item.admin1,
        admin2: item.admin2,
        actor: item.actor,
        at: item.at,
        due: item.at + Duration::hours(sla.hours(priority) as i64),
        category,
        reference,
        notices,
        collected: provenance.map(|p| Origin {
            collector_id: p.collector_id,
            instance_id: p.instance_id.to_string(),
            digest: p.digest.to_string(),
            via: p.via.to_string(),
        }),
    })
}

impl PendingItem {
    /// Inserts the item, its first event and its notices. Call inside a write transaction.
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        // On the backend's own connection (`on_backend!`): the statement is found in the
        // cache by its type instead of its SQL being written out again for every item
        // (about a tenth of the writer's time an item; BENCHMARKS.md).
        let id: i32 = crate::db::on_backend!(conn, |c| diesel::insert_into(feedback::table)
            .values((
                feedback::reference.eq(&self.reference),
                feedback::operation_id.eq(self.operation_id),
                feedback::channel.eq(&self.channel),
                feedback::language.eq(&self.language),
                feedback::category.eq(&self.category),
                feedback::priority.eq(self.priority),
                feedback::status.eq(FeedbackStatus::Received.as_str()),
                feedback::sensitive.eq(self.sensitive),
                feedback::message.eq(&self.message),
                feedback::answers.eq(&self.answers_json),
                feedback::consent_to_contact.eq(self.consent),
                feedback::contact_encrypted.eq(&self.sealed),
                feedback::sex.eq(&self.sex),
                feedback::age_group.eq(&self.age_group),
                feedback::disability.eq(&self.disability),
                feedback::admin1.eq(&self.admin1),
                feedback::admin2.eq(&self.admin2),
                feedback::created_by.eq(self.actor),
                feedback::created_at.eq(self.at),
                feedback::updated_at.eq(self.at),
                feedback::ack_due_at.eq(self.due),
            ))
            .returning(feedback::id)
            .get_result(c))?;
        super::summaries::add_new(conn, id)?;
        let note = match &self.collected {
            Some(c) => format!("channel: {} (collected offline by {})", self.channel, c.via),
            None => format!("channel: {}", self.channel),
        };
        crate::db::on_backend!(conn, |c| diesel::insert_into(feedback_events::table)
            .values((
                feedback_events::feedback_id.eq(id),
                feedback_events::action.eq("receive"),
                feedback_events::note.eq(Some(&note)),
                feedback_events::actor_user_id.eq(self.actor),
                feedback_events::created_at.eq(self.at),
            ))
            .execute(c))?;
        if let Some(c) = &self.collected {
            diesel::insert_into(collector_submissions::table)
                .values((
                    collector_submissions::operation_id.eq(self.operation_id),
                    collector_submissions::instance_id.eq(&c.instance_id),
                    collector_submissions::collector_id.eq(c.collector_id),
                    collector_submissions::feedback_id.eq(id),
                    collector_submissions::digest.eq(&c.digest),
                    collector_submissions::created_at.eq(self.at),
                ))
                .execute(conn)?;
        }
        for (key, message) in &self.notices {
            crate::mail::enqueue_message(conn, "psea_notice", Some(key), message)?;
        }
        Ok(())
    }

    fn submitted(&self) -> Submitted {
        Submitted {
            reference: self.reference.clone(),
            status: FeedbackStatus::Received,
            sensitive: self.sensitive,
            operation_id: self.operation_id,
        }
    }
}
