//! Community feedback and complaints (accountability to affected people): intake from the
//! public form and from staff, reference codes, the append-only workflow, who may see what,
//! encrypted contact details and their purge.
//!
//! Visibility rule (DESIGN.md): a sensitive item's content, contact details and history are
//! visible only to the PSEA focal points of its operation. For everyone else it is left out
//! of listings and lookups entirely and counts only in the metrics.

pub use crate::config::Sla;
use crate::db::models::{self, Operation};
use crate::db::schema::{feedback, feedback_events, operations};
use crate::db::{write_tx, DbConnection};
use crate::kernel::access::Actor;
use crate::kernel::access::Role;
use crate::kernel::error::AppError;
use crate::kernel::time::now;
use crate::surveys::answers::{self as validation, Mode};
use crate::surveys::model::{Catalog, Survey};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The survey definition of the public form; its question names are fixed.
pub const FORM_ID: &str = "aap-feedback";
pub const CATEGORIES: [&str; 6] = [
    "question",
    "suggestion",
    "complaint",
    "appreciation",
    "request",
    "sensitive",
];
pub const CHANNELS: [&str; 6] = ["web", "hotline", "helpdesk", "sms", "box", "email"];
pub const STATUSES: [&str; 5] = [
    "received",
    "acknowledged",
    "referred",
    "responded",
    "closed",
];
pub const ACTIONS: [&str; 6] = [
    "acknowledge",
    "refer",
    "respond",
    "close",
    "reopen",
    "mark_sensitive",
];
/// A feedback message is at most this many characters (DESIGN.md).
pub const MAX_MESSAGE_CHARS: usize = 5000;
/// Notes, referral targets and contact details.
pub const MAX_NOTE_CHARS: usize = 2000;

pub mod metrics;

/// `sensitive` → high, `complaint` → medium, anything else → low.
pub fn priority_of(category: &str, sensitive: bool) -> &'static str {
    if sensitive || category == "sensitive" {
        "high"
    } else if category == "complaint" {
        "medium"
    } else {
        "low"
    }
}

// ----------------------------------------------------------------------------------------
// Reference codes

/// Crockford's base-32 alphabet: no I, L, O or U, so codes read out over a phone line or
/// copied by hand are not misread.
const REF_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new reference like `FB-7KQ2-9XW3` (40 random bits).
pub fn new_reference() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut s = String::from("FB-");
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        s.push(REF_ALPHABET[rng.gen_range(0..REF_ALPHABET.len())] as char);
    }
    s
}

/// Normalises what a person typed (case, spaces, look-alike letters) into a reference, or
/// `None` when it cannot be one.
pub fn normalize_reference(input: &str) -> Option<String> {
    let mut chars: Vec<char> = input
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if chars.len() == 10 && chars[0] == 'F' && chars[1] == 'B' {
        chars.drain(0..2);
    }
    if chars.len() != 8 {
        return None;
    }
    let mut out = String::from("FB-");
    for (i, c) in chars.into_iter().enumerate() {
        let c = match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !REF_ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        if i == 4 {
            out.push('-');
        }
        out.push(c);
    }
    Some(out)
}

// ----------------------------------------------------------------------------------------
// Contact details at rest

mod crypto {
    use aes_gcm::aead::{Aead, KeyInit};
    use aes_gcm::{Aes256Gcm, Nonce};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use rand::RngCore;

    const PREFIX: &str = "v1:";

    fn cipher(secret: &str) -> Aes256Gcm {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"clusterpulse"), secret.as_bytes());
        let mut key = [0u8; 32];
        hk.expand(b"feedback contact details v1", &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Aes256Gcm::new(&key.into())
    }

    /// AES-256-GCM with a random 96-bit nonce; the item's reference is bound as associated
    /// data, so a ciphertext copied onto another item does not decrypt.
    pub fn seal(secret: &str, reference: &str, plain: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = cipher(secret)
            .encrypt(
                Nonce::from_slice(&nonce),
                aes_gcm::aead::Payload {
                    msg: plain.as_bytes(),
                    aad: reference.as_bytes(),
                },
            )
            .expect("AES-GCM encryption does not fail for small inputs");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("{PREFIX}{}", STANDARD.encode(blob))
    }

    pub fn open(secret: &str, reference: &str, sealed: &str) -> Option<String> {
        let blob = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if blob.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = blob.split_at(12);
        let plain = cipher(secret)
            .decrypt(
                Nonce::from_slice(nonce),
                aes_gcm::aead::Payload {
                    msg: ct,
                    aad: reference.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

pub use crypto::{open as open_contact, seal as seal_contact};

// ----------------------------------------------------------------------------------------
// Rows

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feedback)]
pub struct Item {
    pub id: i32,
    pub reference: String,
    pub operation_id: i32,
    pub channel: String,
    pub language: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub sensitive: bool,
    pub message: String,
    pub answers: String,
    pub consent_to_contact: bool,
    pub contact_encrypted: Option<String>,
    pub sex: Option<String>,
    pub age_group: Option<String>,
    pub disability: Option<String>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub ack_due_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub responded_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub satisfied: Option<bool>,
    pub contact_purged_at: Option<NaiveDateTime>,
}

impl Item {
    pub fn is_open(&self) -> bool {
        self.status != "closed"
    }

    /// Not acknowledged and past the acknowledgement deadline.
    pub fn is_overdue(&self, at: NaiveDateTime) -> bool {
        self.is_open() && self.acknowledged_at.is_none() && self.ack_due_at < at
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feedback_events)]
pub struct Event {
    pub id: i32,
    pub feedback_id: i32,
    pub action: String,
    pub note: Option<String>,
    pub referred_to: Option<String>,
    pub satisfied: Option<bool>,
    pub actor_user_id: Option<i32>,
    pub created_at: NaiveDateTime,
}

// ----------------------------------------------------------------------------------------
// Who may do what

// ----------------------------------------------------------------------------------------
// Intake

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
    pub status: String,
    /// Stored sealed (only the operation's PSEA focal points see it).
    pub sensitive: bool,
    pub operation_id: i32,
}

/// Checks and stores one item. `staff` is the signed-in person logging it (any channel) or
/// `None` for the public (channel `web` only).
pub fn submit(
    conn: &mut DbConnection,
    catalog: &Catalog,
    config: &crate::config::Config,
    staff: Option<&Actor>,
    body: &SubmitBody,
) -> Result<Submitted, AppError> {
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
    let (answers, contact, _sensitive) = check_answers(survey, language, raw)?;
    // Areas are P-codes from the operation's list (or `other`): only those reach the
    // aggregate columns.
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
    store(
        conn,
        config,
        NewItem {
            op: &op,
            channel,
            language,
            answers,
            contact,
            admin1,
            admin2,
            actor: staff.map(|u| u.id),
            at: now(),
        },
    )
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
    let contact = item.contact.filter(|_| consent);
    let message = get("message").unwrap_or_default();
    let answers_json = Value::Object(item.answers.clone()).to_string();
    let due = item.at + Duration::hours(sla.hours(priority) as i64);
    // A reference collision (40 random bits) is retried with a new code.
    for _ in 0..5 {
        let reference = new_reference();
        let sealed = contact
            .as_deref()
            .map(|c| crypto::seal(secret, &reference, c.trim()));
        // Messages are built before the transaction: one that cannot be built is left out
        // (and logged) rather than failing the item.
        let notices = if sensitive {
            psea_notices(conn, config, item.op, &reference, Notice::New)?
        } else {
            Vec::new()
        };
        let result = write_tx(conn, |conn| -> QueryResult<()> {
            let id: i32 = diesel::insert_into(feedback::table)
                .values((
                    feedback::reference.eq(&reference),
                    feedback::operation_id.eq(item.op.id),
                    feedback::channel.eq(item.channel),
                    feedback::language.eq(item.language),
                    feedback::category.eq(&category),
                    feedback::priority.eq(priority),
                    feedback::status.eq("received"),
                    feedback::sensitive.eq(sensitive),
                    feedback::message.eq(&message),
                    feedback::answers.eq(&answers_json),
                    feedback::consent_to_contact.eq(consent),
                    feedback::contact_encrypted.eq(&sealed),
                    feedback::sex.eq(get("sex")),
                    feedback::age_group.eq(get("age_group")),
                    feedback::disability.eq(get("disability")),
                    feedback::admin1.eq(&item.admin1),
                    feedback::admin2.eq(&item.admin2),
                    feedback::created_by.eq(item.actor),
                    feedback::created_at.eq(item.at),
                    feedback::updated_at.eq(item.at),
                    feedback::ack_due_at.eq(due),
                ))
                .returning(feedback::id)
                .get_result(conn)?;
            diesel::insert_into(feedback_events::table)
                .values((
                    feedback_events::feedback_id.eq(id),
                    feedback_events::action.eq("receive"),
                    feedback_events::note.eq(Some(format!("channel: {}", item.channel))),
                    feedback_events::actor_user_id.eq(item.actor),
                    feedback_events::created_at.eq(item.at),
                ))
                .execute(conn)?;
            for (key, message) in &notices {
                crate::mail::enqueue_message(conn, "psea_notice", Some(key), message)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                return Ok(Submitted {
                    reference,
                    status: "received".into(),
                    sensitive,
                    operation_id: item.op.id,
                })
            }
            Err(e) if crate::db::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "could not allocate a unique feedback reference"
    )))
}

// ----------------------------------------------------------------------------------------
// Notices to the PSEA focal points

/// Why the PSEA focal points are told about a sensitive item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A new sensitive item was received.
    New,
    /// Its acknowledgement is overdue.
    Overdue,
}

impl Notice {
    fn key(self) -> &'static str {
        match self {
            Notice::New => "psea-new",
            Notice::Overdue => "psea-overdue",
        }
    }
}

/// The PSEA focal points (enabled accounts) of an operation: (user id, email).
pub fn psea_focal_points(
    conn: &mut DbConnection,
    operation_id: i32,
) -> QueryResult<Vec<(i32, String)>> {
    use crate::db::schema::{user_operations, users};
    users::table
        .inner_join(user_operations::table)
        .filter(user_operations::operation_id.eq(operation_id))
        .filter(users::role.eq(Role::PseaFocalPoint.as_str()))
        .filter(users::disabled.eq(false))
        .order(users::id)
        .select((users::id, users::email))
        .load(conn)
}

/// One message per PSEA focal point of `op` about the sensitive item `reference`, with its
/// outbox key (once per item, notice and person). The message says only that a sensitive
/// item awaits, with a link to it; never its content.
pub fn psea_notices(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    op: &Operation,
    reference: &str,
    notice: Notice,
) -> Result<Vec<(String, lettre::Message)>, AppError> {
    let link = format!("{}/feedback/{reference}", config.public_url);
    let (subject, lead) = match notice {
        Notice::New => (
            format!("A sensitive feedback item awaits you · {}", op.name),
            format!("A sensitive feedback item was received for {}.", op.name),
        ),
        Notice::Overdue => (
            format!(
                "Overdue: a sensitive feedback item is not acknowledged · {}",
                op.name
            ),
            format!(
                "A sensitive feedback item for {} has passed its acknowledgement deadline.",
                op.name
            ),
        ),
    };
    let text = format!(
        "{lead}\n\nOnly the PSEA focal points of the operation can open it. Sign in to \
         clusterpulse to read and acknowledge it:\n{link}\n\nThis message carries no content \
         of the item on purpose.\n"
    );
    let mut out = Vec::new();
    for (user_id, email) in psea_focal_points(conn, op.id)? {
        let mail = crate::mail::Email {
            to: email,
            subject: subject.clone(),
            text: text.clone(),
            html: None,
            inline: Vec::new(),
            attachments: Vec::new(),
        };
        match crate::mail::build_message(&config.mail_from, &mail) {
            Ok(m) => out.push((format!("{}:{reference}:{user_id}", notice.key()), m)),
            Err(e) => tracing::warn!(user_id, error = %e, "PSEA notice not built"),
        }
    }
    Ok(out)
}

/// Tells the PSEA focal points about every sensitive item whose acknowledgement is overdue
/// as of `now` (once per item and person). Returns how many messages were queued.
pub fn notify_overdue_sensitive(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    use crate::db::schema::outbox;
    let due: Vec<(String, i32)> = feedback::table
        .filter(feedback::sensitive.eq(true))
        .filter(feedback::acknowledged_at.is_null())
        .filter(feedback::closed_at.is_null())
        .filter(feedback::ack_due_at.lt(now))
        .select((feedback::reference, feedback::operation_id))
        .load(conn)?;
    let mut queued = 0;
    for (reference, operation_id) in due {
        let prefix = format!("{}:{reference}:", Notice::Overdue.key());
        let already: i64 = outbox::table
            .filter(outbox::dedupe_key.like(format!("{prefix}%")))
            .count()
            .get_result(conn)?;
        if already > 0 {
            continue;
        }
        let op = models::operation_by_id(conn, operation_id)?;
        let notices = psea_notices(conn, config, &op, &reference, Notice::Overdue)?;
        queued += write_tx(conn, |conn| -> QueryResult<usize> {
            let mut n = 0;
            for (key, message) in &notices {
                if let crate::mail::EnqueueOutcome::Queued(_) =
                    crate::mail::enqueue_message(conn, "psea_notice", Some(key), message)?
                {
                    n += 1;
                }
            }
            Ok(n)
        })?;
    }
    Ok(queued)
}

/// Operations that have no enabled PSEA focal point (nobody would see their sensitive
/// items): (slug, name), for the admins' dashboard.
pub fn operations_without_psea(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    use crate::db::schema::{operations, user_operations, users};
    let covered: Vec<i32> = user_operations::table
        .inner_join(users::table)
        .filter(users::role.eq(Role::PseaFocalPoint.as_str()))
        .filter(users::disabled.eq(false))
        .select(user_operations::operation_id)
        .load(conn)?;
    Ok(operations::table
        .order(operations::slug)
        .select((operations::id, operations::slug, operations::name))
        .load::<(i32, String, String)>(conn)?
        .into_iter()
        .filter(|(id, _, _)| !covered.contains(id))
        .map(|(_, slug, name)| (slug, name))
        .collect())
}

// ----------------------------------------------------------------------------------------
// Reading

/// What anyone holding a reference may learn: its status, nothing else.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicStatus {
    pub reference: String,
    /// received, acknowledged, referred, responded or closed.
    pub status: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
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
    let row: Option<(String, String, NaiveDateTime)> = feedback::table
        .filter(feedback::reference.eq(&r))
        .select((feedback::reference, feedback::status, feedback::updated_at))
        .first(conn)
        .optional()?;
    let (reference, status, updated) =
        row.ok_or_else(|| AppError::not_found(format!("feedback reference {r}")))?;
    Ok(PublicStatus {
        reference,
        status,
        updated_at: crate::kernel::time::rfc3339(updated),
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
    check_choice("status", &f.status, &STATUSES)?;
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
                    .filter(feedback::status.ne("closed"))
                    .filter(feedback::acknowledged_at.is_null())
                    .filter(feedback::ack_due_at.lt(at))
            }
            Some(false) => {
                q = q.filter(
                    feedback::status
                        .eq("closed")
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
    pub status: String,
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
        status: item.status.clone(),
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

// ----------------------------------------------------------------------------------------
// Workflow

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
    let action = body
        .action
        .as_deref()
        .ok_or_else(|| AppError::field("action", format!("is required: {}", ACTIONS.join(", "))))?;
    if !ACTIONS.contains(&action) {
        return Err(AppError::field(
            "action",
            format!("must be one of {}", ACTIONS.join(", ")),
        ));
    }
    let note = clean(&body.note, "note")?;
    let referred_to = clean(&body.referred_to, "referred_to")?;
    if action == "refer" && referred_to.is_none() {
        return Err(AppError::field(
            "referred_to",
            "is required for refer: say to whom",
        ));
    }
    if action == "respond" && note.is_none() {
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
        let closed = item.status == "closed";
        let conflict = |m: &str| Err(AppError::Conflict(m.to_string()));
        match action {
            "reopen" if !closed => return conflict("only a closed item can be reopened"),
            "acknowledge" if item.acknowledged_at.is_some() => {
                return conflict("this item was already acknowledged")
            }
            "mark_sensitive" if item.sensitive => {
                return conflict("this item is already marked sensitive")
            }
            "reopen" | "mark_sensitive" => {}
            _ if closed => return conflict("this item is closed; reopen it first"),
            _ => {}
        }
        let ack = item.acknowledged_at.or(Some(at));
        let upd = diesel::update(feedback::table.find(item.id));
        match action {
            "acknowledge" | "refer" => {
                let status = if action == "refer" {
                    "referred"
                } else {
                    "acknowledged"
                };
                upd.set((
                    feedback::status.eq(status),
                    feedback::acknowledged_at.eq(ack),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            "respond" => {
                upd.set((
                    feedback::status.eq("responded"),
                    feedback::acknowledged_at.eq(ack),
                    feedback::responded_at.eq(Some(at)),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            "close" => {
                upd.set((
                    feedback::status.eq("closed"),
                    feedback::acknowledged_at.eq(ack),
                    feedback::closed_at.eq(Some(at)),
                    feedback::satisfied.eq(body.satisfied),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            "reopen" => {
                upd.set((
                    feedback::status.eq("acknowledged"),
                    feedback::closed_at.eq(None::<NaiveDateTime>),
                    feedback::satisfied.eq(None::<bool>),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            _ => {
                // mark_sensitive: from now on only the PSEA focal points see it.
                upd.set((
                    feedback::sensitive.eq(true),
                    feedback::priority.eq("high"),
                    feedback::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
        }
        diesel::insert_into(feedback_events::table)
            .values((
                feedback_events::feedback_id.eq(item.id),
                feedback_events::action.eq(action),
                feedback_events::note.eq(&note),
                feedback_events::referred_to.eq(&referred_to),
                feedback_events::satisfied.eq(if action == "close" {
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

// ----------------------------------------------------------------------------------------
// Retention

/// Parses `365d`, `52w`, `12h` or a bare number of days.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, "d"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not an age like 365d, 52w or 12h"))?;
    match unit {
        "d" => Ok(Duration::days(n)),
        "w" => Ok(Duration::weeks(n)),
        "h" => Ok(Duration::hours(n)),
        _ => Err(format!(
            "{s:?}: unknown unit {unit:?} (use d for days, w for weeks, h for hours)"
        )),
    }
}

/// Erases the contact details of items closed before `now - older_than`; each erasure is
/// recorded in the item's history and the audit trail. Returns how many were purged.
pub fn purge_contacts(
    conn: &mut DbConnection,
    older_than: Duration,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let cutoff = at - older_than;
    write_tx(conn, |conn| {
        let ids: Vec<i32> = feedback::table
            .filter(feedback::status.eq("closed"))
            .filter(feedback::closed_at.lt(cutoff))
            .filter(feedback::contact_encrypted.is_not_null())
            .select(feedback::id)
            .load(conn)?;
        for chunk in ids.chunks(500) {
            diesel::update(feedback::table.filter(feedback::id.eq_any(chunk)))
                .set((
                    feedback::contact_encrypted.eq(None::<String>),
                    feedback::contact_purged_at.eq(Some(at)),
                ))
                .execute(conn)?;
            // One row at a time: batch inserts are not available over both backends.
            for id in chunk {
                diesel::insert_into(feedback_events::table)
                    .values((
                        feedback_events::feedback_id.eq(*id),
                        feedback_events::action.eq("purge_contact"),
                        feedback_events::note
                            .eq(Some("contact details erased after the retention period")),
                        feedback_events::created_at.eq(at),
                    ))
                    .execute(conn)?;
            }
        }
        models::audit(
            conn,
            None,
            "feedback.purge_contacts",
            "feedback",
            json!({"purged": ids.len(), "older_than_hours": older_than.num_hours()}),
        )?;
        Ok(ids.len())
    })
}

// ----------------------------------------------------------------------------------------
// Demo world

const DEMO_MESSAGES: &[(&str, &str, &str)] = &[
    (
        "complaint",
        "en",
        "The distribution list left out several families in block C who arrived last month.",
    ),
    (
        "complaint",
        "ar",
        "لم نحصل على مستلزمات الإيواء رغم تسجيلنا منذ شهرين.",
    ),
    (
        "complaint",
        "fr",
        "Les bâches distribuées sont trop petites pour couvrir nos abris.",
    ),
    (
        "question",
        "en",
        "When will the next cash distribution take place in our area?",
    ),
    (
        "question",
        "fr",
        "Comment inscrire un nouveau-né sur la liste de la famille ?",
    ),
    (
        "question",
        "ar",
        "أين يمكنني الحصول على مياه الشرب بعد إغلاق النقطة القريبة؟",
    ),
    (
        "suggestion",
        "en",
        "Please hold distributions earlier in the morning, before the heat.",
    ),
    (
        "suggestion",
        "es",
        "Sería mejor anunciar las distribuciones por radio y no solo por mensaje.",
    ),
    (
        "appreciation",
        "en",
        "Thank you to the team who repaired the latrines quickly.",
    ),
    (
        "appreciation",
        "ar",
        "شكرًا لفريق التوزيع على المعاملة الطيبة لكبار السن.",
    ),
    (
        "request",
        "en",
        "My elderly mother cannot walk to the distribution point. Can someone bring her kit?",
    ),
    (
        "request",
        "fr",
        "Nous avons besoin de couvertures pour les enfants, les nuits sont froides.",
    ),
    (
        "sensitive",
        "en",
        "A person at the distribution asked for money to put my name on the list.",
    ),
    (
        "sensitive",
        "ar",
        "أحد العاملين طلب مقابلاً للحصول على المساعدة.",
    ),
];

/// (action, note, referred to, satisfied)
type DemoStep = (&'static str, Option<String>, Option<String>, Option<bool>);

/// A few hundred feedback items across the demo operations, in every state (once: skipped
/// when the operation already has feedback). Deterministic.
pub fn seed_demo(conn: &mut DbConnection, config: &crate::config::Config) -> anyhow::Result<usize> {
    let sla = &config.sla;
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let now = now();
    let staff = crate::db::schema::users::table
        .filter(crate::db::schema::users::email.eq("coordinator@demo.example"))
        .select(crate::db::schema::users::id)
        .first::<i32>(conn)
        .optional()?;
    let mut created = 0;
    for op in models::all_operations(conn)? {
        let existing: i64 = feedback::table
            .filter(feedback::operation_id.eq(op.id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            continue;
        }
        // A small made-up list of areas (P-codes from the country code), as an operation
        // would load from its COD table with `clusterpulse operations areas`.
        let mut csv = String::from("admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en\n");
        for (i, region) in ["North", "South", "East", "Capital"].iter().enumerate() {
            for d in 1..=2 {
                csv.push_str(&format!(
                    "{c}{r:02},{region},{c}{r:02}{d:02},{region} district {d}\n",
                    c = op.country,
                    r = i + 1
                ));
            }
        }
        let areas = crate::domain::areas::parse_csv(&csv)
            .map_err(|e| anyhow::anyhow!("demo areas: {e}"))?;
        if crate::domain::areas::load(conn, op.id)?.is_empty() {
            crate::domain::areas::replace(conn, op.id, &areas)?;
        }
        let n = if op.slug == "shelter-yemen" { 120 } else { 40 };
        for _ in 0..n {
            let (category, language, message) =
                DEMO_MESSAGES[rng.gen_range(0..DEMO_MESSAGES.len())];
            let age_days = rng.gen_range(0.0..180.0f64);
            let at = now - Duration::minutes((age_days * 1440.0) as i64);
            let channel = ["web", "web", "hotline", "helpdesk", "sms", "box"][rng.gen_range(0..6)];
            let consent = rng.gen_bool(0.4);
            let mut answers = Map::new();
            answers.insert("category".into(), json!(category));
            answers.insert("message".into(), json!(message));
            answers.insert(
                "consent_to_contact".into(),
                json!(if consent { "yes" } else { "no" }),
            );
            answers.insert(
                "sex".into(),
                json!(["female", "male", "prefer_not_to_say"][rng.gen_range(0..3)]),
            );
            answers.insert(
                "age_group".into(),
                json!(["under_18", "18_59", "18_59", "60_plus"][rng.gen_range(0..4)]),
            );
            let district = &areas.admin2[rng.gen_range(0..areas.admin2.len())];
            answers.insert("admin1".into(), json!(district.parent));
            answers.insert("admin2".into(), json!(district.pcode));
            let contact = consent.then(|| format!("+000 555 {:04}", rng.gen_range(0..10_000)));
            let done = store(
                conn,
                config,
                NewItem {
                    op: &op,
                    channel,
                    language,
                    answers,
                    contact,
                    admin1: district.parent.clone(),
                    admin2: Some(district.pcode.clone()),
                    actor: (channel != "web").then_some(staff).flatten(),
                    at,
                },
            )?;
            created += 1;
            // How far the item went: older items further along.
            let stage = if age_days < 3.0 {
                rng.gen_range(0..2)
            } else {
                rng.gen_range(0..5)
            };
            let hours_to_ack =
                rng.gen_range(2..(sla.hours(priority_of(category, false)) as i64 * 2));
            let mut t = at;
            let mut steps: Vec<DemoStep> = Vec::new();
            if stage >= 1 {
                steps.push(("acknowledge", None, None, None));
            }
            if stage >= 2 && rng.gen_bool(0.5) {
                steps.push(("refer", None, Some("Partner field team".into()), None));
            }
            if stage >= 3 {
                steps.push((
                    "respond",
                    Some("Explained the next steps by phone and at the help desk.".into()),
                    None,
                    None,
                ));
            }
            if stage >= 4 {
                steps.push(("close", None, None, Some(rng.gen_bool(0.7))));
            }
            for (i, (action, note, referred_to, satisfied)) in steps.into_iter().enumerate() {
                t += if i == 0 {
                    Duration::hours(hours_to_ack)
                } else {
                    Duration::hours(rng.gen_range(6..120))
                };
                if t > now {
                    break;
                }
                let id: i32 = feedback::table
                    .filter(feedback::reference.eq(&done.reference))
                    .select(feedback::id)
                    .first(conn)?;
                let status = match action {
                    "acknowledge" => "acknowledged",
                    "refer" => "referred",
                    "respond" => "responded",
                    _ => "closed",
                };
                diesel::update(feedback::table.find(id))
                    .set((feedback::status.eq(status), feedback::updated_at.eq(t)))
                    .execute(conn)?;
                match action {
                    "acknowledge" => diesel::update(feedback::table.find(id))
                        .set(feedback::acknowledged_at.eq(Some(t)))
                        .execute(conn)?,
                    "respond" => diesel::update(feedback::table.find(id))
                        .set(feedback::responded_at.eq(Some(t)))
                        .execute(conn)?,
                    "close" => diesel::update(feedback::table.find(id))
                        .set((
                            feedback::closed_at.eq(Some(t)),
                            feedback::satisfied.eq(satisfied),
                        ))
                        .execute(conn)?,
                    _ => 0,
                };
                diesel::insert_into(feedback_events::table)
                    .values((
                        feedback_events::feedback_id.eq(id),
                        feedback_events::action.eq(action),
                        feedback_events::note.eq(note),
                        feedback_events::referred_to.eq(referred_to),
                        feedback_events::satisfied.eq(satisfied),
                        feedback_events::actor_user_id.eq(staff),
                        feedback_events::created_at.eq(t),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_well_formed_and_normalise() {
        for _ in 0..100 {
            let r = new_reference();
            assert_eq!(r.len(), 12);
            assert_eq!(normalize_reference(&r).as_deref(), Some(r.as_str()));
            assert_eq!(
                normalize_reference(&r.to_lowercase().replace('-', " ")).as_deref(),
                Some(r.as_str())
            );
        }
        assert_eq!(
            normalize_reference(" fb-7kq2-9xw3 ").as_deref(),
            Some("FB-7KQ2-9XW3")
        );
        assert_eq!(
            normalize_reference("7KQ29XW3").as_deref(),
            Some("FB-7KQ2-9XW3")
        );
        // O and I/L typed by mistake read as 0 and 1.
        assert_eq!(
            normalize_reference("FB-O1L2-IXW3").as_deref(),
            Some("FB-0112-1XW3")
        );
        assert_eq!(normalize_reference("FB-7KQ2-9XW"), None);
        assert_eq!(normalize_reference("FB-7KQ2-9XWU"), None);
        assert_eq!(normalize_reference("' OR 1=1 --"), None);
        assert_eq!(normalize_reference("FB-7KQ2-9XWé"), None);
    }

    #[test]
    fn contact_sealing_round_trips_and_binds_the_reference() {
        let key = "a-secret-key-that-is-long-enough-0123456789";
        let sealed = seal_contact(key, "FB-AAAA-BBBB", "+967 777 123 456");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("777"));
        assert_eq!(
            open_contact(key, "FB-AAAA-BBBB", &sealed).as_deref(),
            Some("+967 777 123 456")
        );
        assert_eq!(open_contact(key, "FB-AAAA-CCCC", &sealed), None);
        assert_eq!(
            open_contact(
                "another-key-that-is-long-enough-0123456789",
                "FB-AAAA-BBBB",
                &sealed
            ),
            None
        );
        // Two seals of the same text differ (random nonce).
        assert_ne!(
            sealed,
            seal_contact(key, "FB-AAAA-BBBB", "+967 777 123 456")
        );
        assert_eq!(open_contact(key, "FB-AAAA-BBBB", "v1:!!"), None);
    }

    #[test]
    fn priorities_and_sla() {
        assert_eq!(priority_of("sensitive", false), "high");
        assert_eq!(priority_of("question", true), "high");
        assert_eq!(priority_of("complaint", false), "medium");
        assert_eq!(priority_of("suggestion", false), "low");
        let sla = Sla::default();
        assert_eq!(sla.hours("high"), 24);
        assert_eq!(sla.hours("medium"), 72);
        assert_eq!(sla.hours("low"), 168);
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("365d").unwrap(), Duration::days(365));
        assert_eq!(parse_age("2w").unwrap(), Duration::weeks(2));
        assert_eq!(parse_age("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_age("30").unwrap(), Duration::days(30));
        assert!(parse_age("1y").unwrap_err().contains("unknown unit"));
        assert!(parse_age("d").is_err());
    }
}
