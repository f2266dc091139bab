//! Rounds, invitations and responses: the rules, independent of HTTP.
//!
//! Anonymity: a response row carries the org type, survey, version, language and time, and
//! nothing that names an organization or invitation. The invitation keeps a marker
//! (`submission_key`): an HMAC of the response id keyed with the invitation token, which the
//! server stores only hashed, so replays by the token holder are recognised and a second
//! response refused, while the database alone (a file, a dump, a backup) cannot tell which
//! invitation gave which response. The invitation keeps the day it was answered, not the
//! moment (`responded_at` at midnight UTC). No API or page joins the two. Open rounds are
//! read through published snapshots (`crate::domain::snapshots`).

pub mod collect;
pub mod manage;

use crate::db::models::{self, Invitation, Round};
use crate::db::schema::{invitations, response_drafts, responses, rounds};
use crate::db::{write_tx, DbConnection};
use crate::domain::response_store;
use crate::domain::Services;
use crate::kernel::error::{AppError, Fields};
use crate::kernel::secrets;
use crate::kernel::time::now;
use crate::kernel::vocab::RoundState;
use crate::surveys::answers::{self as validation, Mode};
use crate::surveys::model::{Catalog, Survey};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Parses an RFC 3339 time (or a bare `YYYY-MM-DD`, meaning midnight UTC) into naive UTC.
pub fn parse_time(field: &str, s: &str) -> Result<NaiveDateTime, AppError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&chrono::Utc).naive_utc());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    }
    Err(AppError::field(
        field,
        "use an RFC 3339 time such as 2026-12-01T00:00:00Z (or a date YYYY-MM-DD)",
    ))
}

/// A round as the API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RoundView {
    pub id: i32,
    /// The operation's slug.
    pub operation: String,
    pub framework: String,
    /// Survey ids asked in this round.
    pub surveys: Vec<String>,
    pub title: String,
    /// RFC 3339, UTC.
    pub opens_at: String,
    /// RFC 3339, UTC.
    pub closes_at: String,
    /// As of now.
    pub state: RoundState,
    pub remind_days_before: Option<i32>,
    pub created_at: String,
    pub closed_at: Option<String>,
}

impl RoundView {
    pub fn of(r: &Round, operation_slug: &str) -> RoundView {
        let rfc = crate::kernel::time::rfc3339;
        RoundView {
            id: r.id,
            operation: operation_slug.to_string(),
            framework: r.framework.clone(),
            surveys: r.survey_ids(),
            title: r.title.clone(),
            opens_at: rfc(r.opens_at),
            closes_at: rfc(r.closes_at),
            state: r.effective_state(now()),
            remind_days_before: r.remind_days_before,
            created_at: rfc(r.created_at),
            closed_at: r.closed_at.map(rfc),
        }
    }
}

/// [`RoundView`] as a JSON value (for page contexts that add fields).
pub fn round_json(r: &Round, operation_slug: &str) -> Value {
    serde_json::to_value(RoundView::of(r, operation_slug)).unwrap_or(Value::Null)
}

/// Invited, responded and the response rate (0–1) of a round or of one org type.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub invited: i64,
    pub responded: i64,
    pub rate: f64,
    /// Per org type; absent in the per-type rows themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub by_org_type: Option<Vec<OrgTypeProgress>>,
    /// Members, observers and those outside the operation's register (counts of
    /// invitations; `responded` and `rate` only once the round is closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub by_membership: Option<Vec<crate::domain::membership::rates::MembershipProgress>>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrgTypeProgress {
    pub org_type: String,
    pub invited: i64,
    pub responded: i64,
    pub rate: f64,
}

pub struct NewRoundInput {
    /// The owner: an operation, or (a service-charter round) a global cluster.
    pub operation_id: Option<i32>,
    pub cluster_id: Option<i32>,
    pub framework: String,
    pub surveys: Vec<String>,
    pub title: String,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub remind_days_before: Option<i32>,
    pub created_by: i32,
}

/// The catalog's framework ids, for error messages.
fn known_frameworks(catalog: &Catalog) -> String {
    let ids: Vec<&str> = catalog.frameworks.keys().map(String::as_str).collect();
    ids.join(", ")
}

/// Checks a round's framework and surveys against the definitions.
pub fn check_round_definitions(
    catalog: &Catalog,
    framework: &str,
    surveys: &[String],
) -> Result<(), AppError> {
    let mut fields = Fields::new();
    if catalog.framework(framework).is_none() {
        fields.insert(
            "framework".into(),
            format!(
                "unknown framework {framework:?} (known: {})",
                known_frameworks(catalog)
            ),
        );
    }
    if surveys.is_empty() {
        fields.insert("surveys".into(), "name at least one survey".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in surveys {
        match catalog.survey(s) {
            None => {
                fields.insert("surveys".into(), format!("unknown survey {s:?}"));
            }
            Some(def) if def.framework.as_deref() != Some(framework) => {
                fields.insert(
                    "surveys".into(),
                    format!("survey {s:?} is not a performance survey of framework {framework:?}"),
                );
            }
            Some(_) => {}
        }
        if !seen.insert(s) {
            fields.insert("surveys".into(), format!("survey {s:?} is listed twice"));
        }
    }
    crate::kernel::error::fields_result(fields)
}

pub fn create_round(conn: &mut DbConnection, input: NewRoundInput) -> Result<Round, AppError> {
    let now = now();
    let state = if input.opens_at > now {
        RoundState::Scheduled
    } else {
        RoundState::Open
    };
    write_tx(conn, |conn| {
        let id: i32 = diesel::insert_into(rounds::table)
            .values((
                rounds::operation_id.eq(input.operation_id),
                rounds::cluster_id.eq(input.cluster_id),
                rounds::framework.eq(&input.framework),
                rounds::surveys.eq(serde_json::to_string(&input.surveys).unwrap_or_default()),
                rounds::title.eq(&input.title),
                rounds::opens_at.eq(input.opens_at),
                rounds::closes_at.eq(input.closes_at),
                rounds::state.eq(state.as_str()),
                rounds::remind_days_before.eq(input.remind_days_before),
                rounds::created_by.eq(Some(input.created_by)),
                rounds::created_at.eq(now),
            ))
            .returning(rounds::id)
            .get_result(conn)?;
        models::audit(
            conn,
            Some(input.created_by),
            "round.create",
            &format!("round:{id}"),
            json!({}),
        )?;
        models::round_by_id(conn, id)?.ok_or_else(|| AppError::not_found("round"))
    })
}

/// Moves a round to open or closed (recorded in the audit trail).
pub fn set_state(
    conn: &mut DbConnection,
    round: &Round,
    to: RoundState,
    actor: i32,
) -> Result<Round, AppError> {
    let now = now();
    let current = round.effective_state(now);
    match (current, to) {
        (RoundState::Closed, _) => {
            return Err(AppError::Conflict("this round is already closed".into()));
        }
        (RoundState::Open, RoundState::Open) => return Ok(round.clone()),
        (_, RoundState::Scheduled) => {
            return Err(AppError::Conflict(
                "a round can be opened or closed, not scheduled again".into(),
            ));
        }
        _ => {}
    }
    write_tx(conn, |conn| {
        diesel::update(rounds::table.find(round.id))
            .set((
                rounds::state.eq(to.as_str()),
                rounds::closed_at.eq(if to == RoundState::Closed {
                    Some(now)
                } else {
                    None
                }),
                rounds::opens_at.eq(if to == RoundState::Open && round.opens_at > now {
                    now
                } else {
                    round.opens_at
                }),
            ))
            .execute(conn)?;
        models::audit(
            conn,
            Some(actor),
            &format!("round.{to}"),
            &format!("round:{}", round.id),
            json!({}),
        )?;
        models::round_by_id(conn, round.id)?.ok_or_else(|| AppError::not_found("round"))
    })
}

pub struct InvitationInput {
    pub email: String,
    pub organization: String,
    pub org_type: String,
    pub survey: String,
    pub language: Option<String>,
}

pub struct CreatedInvitation {
    pub id: i32,
    pub email: String,
    pub survey: String,
    pub token: String,
    pub language: Option<String>,
}

/// Validates every invitation first (errors keyed `invitations[i].field`), then creates all
/// of them, and any unknown organizations, in one transaction.
pub fn add_invitations(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round: &Round,
    items: Vec<InvitationInput>,
    actor: i32,
) -> Result<Vec<CreatedInvitation>, AppError> {
    if round.effective_state(now()) == RoundState::Closed {
        return Err(AppError::Gone(
            "this round is closed; it accepts no new invitations".into(),
        ));
    }
    if items.is_empty() {
        return Err(AppError::field("invitations", "the list is empty"));
    }
    if items.len() > 5000 {
        return Err(AppError::field(
            "invitations",
            "at most 5,000 invitations per request",
        ));
    }
    let round_surveys = round.survey_ids();
    let mut fields = Fields::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, it) in items.iter().enumerate() {
        let at = |f: &str| format!("invitations[{i}].{f}");
        if let Err(e) = models::check_email(&it.email) {
            fields.insert(at("email"), e);
        }
        if let Err(e) = crate::kernel::text::check_name(&it.organization, 200) {
            fields.insert(at("organization"), format!("the organization's name {e}"));
        }
        if let Err(e) = crate::kernel::vocab::OrgType::parse(&it.org_type) {
            fields.insert(at("org_type"), e);
        }
        if !round_surveys.contains(&it.survey) {
            fields.insert(
                at("survey"),
                format!("this round uses {}", round_surveys.join(", ")),
            );
        }
        if let (Some(lang), Some(s)) = (&it.language, catalog.survey(&it.survey)) {
            if !s.languages.contains(lang) {
                fields.insert(
                    at("language"),
                    format!("use one of {}", s.languages.join(", ")),
                );
            }
        }
        if !seen.insert((models::normalize_email(&it.email), it.survey.clone())) {
            fields.insert(at("email"), "listed twice for the same survey".into());
        }
    }
    crate::kernel::error::fields_result(fields)?;
    write_tx(conn, |conn| {
        // A set: a round of thousands of partners, invited in batches, is checked in one pass.
        let existing: std::collections::HashSet<(String, String)> = invitations::table
            .filter(invitations::round_id.eq(round.id))
            .select((invitations::email, invitations::survey_id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let mut conflicts = Fields::new();
        for (i, it) in items.iter().enumerate() {
            let key = (models::normalize_email(&it.email), it.survey.clone());
            if existing.contains(&key) {
                conflicts.insert(
                    format!("invitations[{i}].email"),
                    "already invited to this survey in this round".into(),
                );
            }
        }
        if !conflicts.is_empty() {
            let shown: Vec<String> = conflicts.keys().take(10).cloned().collect();
            let more = conflicts.len().saturating_sub(shown.len());
            return Err(AppError::Conflict(format!(
                "{} of these people are already invited to this survey in this round: {}{}",
                conflicts.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )));
        }
        let mut created = Vec::with_capacity(items.len());
        // Each organization's standing in the operation's membership register, looked up once.
        let mut standings: std::collections::HashMap<i32, Option<&str>> =
            std::collections::HashMap::new();
        for (i, it) in items.iter().enumerate() {
            let org = match models::organization_by_name(conn, &it.organization)? {
                Some(o) if o.archived_at.is_some() => {
                    return Err(AppError::field(
                        &format!("invitations[{i}].organization"),
                        format!("{:?} is archived; it takes no new invitations", o.name),
                    ))
                }
                Some(o) => o,
                None => models::insert_organization(conn, &it.organization, &it.org_type)?,
            };
            let token = secrets::random_token(24);
            let email = models::normalize_email(&it.email);
            let standing = match standings.get(&org.id) {
                Some(s) => *s,
                None => {
                    // A global cluster's charter round has no register to stand in.
                    let s = match round.operation_id {
                        Some(op) => {
                            crate::domain::membership::register::standing(conn, op, org.id)?
                                .map(|s| s.as_str())
                        }
                        None => None,
                    };
                    standings.insert(org.id, s);
                    s
                }
            };
            let id: i32 = diesel::insert_into(invitations::table)
                .values((
                    invitations::round_id.eq(round.id),
                    invitations::survey_id.eq(&it.survey),
                    invitations::email.eq(&email),
                    invitations::organization_id.eq(org.id),
                    invitations::org_type.eq(&it.org_type),
                    invitations::token_hash.eq(secrets::hash_token(&token)),
                    invitations::language.eq(&it.language),
                    invitations::created_at.eq(now()),
                    invitations::membership.eq(standing),
                ))
                .returning(invitations::id)
                .get_result(conn)?;
            created.push(CreatedInvitation {
                id,
                email,
                survey: it.survey.clone(),
                token,
                language: it.language.clone(),
            });
        }
        models::audit(
            conn,
            Some(actor),
            "invitations.create",
            &format!("round:{}", round.id),
            json!({"count": created.len()}),
        )?;
        Ok(created)
    })
}

/// Invited and responded, overall and by org type. While the round is open, "responded"
/// counts the published responses only (`crate::domain::snapshots`), like the scores.
pub fn progress(conn: &mut DbConnection, round: &Round) -> Result<Progress, AppError> {
    let invited: Vec<(String, i64)> = invitations::table
        .filter(invitations::round_id.eq(round.id))
        .group_by(invitations::org_type)
        .select((invitations::org_type, diesel::dsl::count_star()))
        .load(conn)?;
    let closed = round.effective_state(now()) == RoundState::Closed;
    let responded: Vec<(String, i64)> = responses::table
        .filter(responses::round_id.eq(round.id))
        .group_by((responses::org_type, responses::snapshot))
        .select((
            responses::org_type,
            responses::snapshot,
            diesel::dsl::count_star(),
        ))
        .load::<(String, Option<i32>, i64)>(conn)?
        .into_iter()
        .filter(|(_, snapshot, _)| closed || snapshot.is_some())
        .map(|(t, _, n)| (t, n))
        .collect();
    let mut types: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for (t, n) in invited {
        types.entry(t).or_default().0 = n;
    }
    for (t, n) in responded {
        types.entry(t).or_default().1 += n;
    }
    let rate = |inv: i64, resp: i64| {
        if inv > 0 {
            resp as f64 / inv as f64
        } else {
            0.0
        }
    };
    let (ti, tr) = types.values().fold((0, 0), |(a, b), (i, r)| (a + i, b + r));
    let by = types
        .iter()
        .map(|(t, (i, r))| OrgTypeProgress {
            org_type: t.clone(),
            invited: *i,
            responded: *r,
            rate: rate(*i, *r),
        })
        .collect();
    Ok(Progress {
        invited: ti,
        responded: tr,
        rate: rate(ti, tr),
        by_org_type: Some(by),
        by_membership: Some(crate::domain::membership::rates::by_membership(
            conn, round,
        )?),
    })
}

/// Canonical digest of normalised answers (for replay detection).
pub fn answers_digest(survey_id: &str, answers: &Map<String, Value>) -> String {
    let canonical: std::collections::BTreeMap<&String, &Value> = answers.iter().collect();
    let mut h = Sha256::new();
    h.update(survey_id.as_bytes());
    h.update(b"\0");
    h.update(serde_json::to_vec(&canonical).unwrap_or_default());
    hex::encode(h.finalize())
}

/// The invitation's submission marker: HMAC-SHA256 of the response id keyed with the
/// invitation token. Without the token (stored only as a hash) nobody can compute it, so it
/// does not link the invitation to its response.
pub fn submission_key(token: &str, response_id: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(b"submission:");
    mac.update(response_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Midnight UTC of `t`'s day: how precisely an invitation says when it was answered.
pub fn day_of(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_time(chrono::NaiveTime::MIN)
}

pub enum Submitted {
    Created(StoredResponse),
    Replayed(StoredResponse),
}

/// A stored response: what it answered and when, never who.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoredResponse {
    /// The UUID the client chose.
    pub id: String,
    pub round: i32,
    pub survey: String,
    pub survey_version: i32,
    pub language: String,
    /// RFC 3339, UTC.
    pub submitted_at: String,
}

fn response_json(r: &models::Response) -> StoredResponse {
    StoredResponse {
        id: r.uuid.clone(),
        round: r.round_id,
        survey: r.survey_id.clone(),
        survey_version: r.survey_version,
        language: r.language.clone(),
        submitted_at: crate::kernel::time::rfc3339(r.submitted_at),
    }
}

/// An invitation with its round, if the token is valid.
pub fn invitation_for_token(
    conn: &mut DbConnection,
    token: &str,
) -> Result<(Invitation, Round), AppError> {
    models::invitation_by_token(conn, token)?.ok_or_else(|| {
        AppError::not_found("this survey link is not valid; check that it was copied completely")
    })
}

/// The rounds with the same owner as `round`: its operation, or for a global cluster's
/// service-charter round, that cluster.
pub fn same_owner(
    round: &Round,
) -> rounds::BoxedQuery<'static, <DbConnection as diesel::Connection>::Backend> {
    let q = rounds::table.into_boxed();
    match round.operation_id {
        Some(op) => q.filter(rounds::operation_id.eq(op)),
        None => q.filter(rounds::cluster_id.eq(round.cluster_id.unwrap_or(-1))),
    }
}

/// What a respondent is told a survey is about: the operation and its cluster; for a
/// global cluster's service-charter round, the global cluster (and `charter` is set).
pub struct RoundPlace {
    pub operation: String,
    pub cluster: String,
    pub charter: bool,
}

pub fn place_of(conn: &mut DbConnection, round: &Round) -> Result<RoundPlace, AppError> {
    use crate::db::schema::{clusters, operations};
    if let (None, Some(cluster_id)) = (round.operation_id, round.cluster_id) {
        let cluster: String = clusters::table
            .find(cluster_id)
            .select(clusters::name)
            .first(conn)?;
        return Ok(RoundPlace {
            operation: cluster.clone(),
            cluster,
            charter: true,
        });
    }
    let (operation, cluster) = operations::table
        .inner_join(clusters::table)
        .filter(operations::id.eq(round.operation()?))
        .select((operations::name, clusters::name))
        .first::<(String, String)>(conn)?;
    Ok(RoundPlace {
        operation,
        cluster,
        charter: false,
    })
}

/// A submission checked and ready to be written ([`prepare_submission`]); [`Self::store`]
/// is the write, run inside a transaction.
pub struct PendingResponse {
    id: String,
    key: String,
    digest: String,
    inv: Invitation,
    round_id: i32,
    survey_id: String,
    survey_version: i32,
    language: String,
    validated: validation::Validated,
    min_respondents: u32,
    /// The survey version's layout as read earlier, if the caller has it
    /// ([`response_store::LayoutCache`]); [`Self::store`] reads it otherwise.
    pub layout: Option<std::sync::Arc<response_store::Layout>>,
    /// The row's answers text and packed scores, made by [`Self::pack_ahead`] before the
    /// write transaction; [`Self::store`] makes them otherwise.
    ready: Option<(String, String)>,
}

/// What the checks of a submission found: a replay to answer with the stored response, or
/// a response to store.
pub enum Prepared {
    Replayed(StoredResponse),
    Pending(Box<PendingResponse>),
}

/// Checks a submission (token, replay, round state, language, answers) without writing.
pub fn prepare_submission(
    conn: &mut DbConnection,
    catalog: &Catalog,
    token: &str,
    response_id: &str,
    language: &str,
    raw: &Map<String, Value>,
) -> Result<Prepared, AppError> {
    let id = uuid::Uuid::parse_str(response_id)
        .map_err(|_| AppError::field("id", "must be a UUID chosen by the client"))?
        .hyphenated()
        .to_string();
    let (inv, round) = invitation_for_token(conn, token)?;
    let survey = catalog.survey(&inv.survey_id).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("survey of an invitation is not loaded"))
    })?;
    // A replay is recognised before anything else, even after the round closed. Only an
    // invitation already used can have one: for a fresh invitation the lookup is skipped
    // (an id some other response already has is refused by its unique index on insert).
    let existing = match inv.submission_key {
        Some(_) => load_response(conn, &id)?,
        None => None,
    };
    if let Some(existing) = existing {
        let same_invitation = inv.submission_key.as_deref() == Some(&submission_key(token, &id));
        let validated = validation::validate(survey, raw, language, Mode::Submit).ok();
        let same_answers = validated
            .map(|v| answers_digest(&survey.id, &v.answers) == existing.answers_digest)
            .unwrap_or(false);
        if same_invitation && same_answers {
            return Ok(Prepared::Replayed(response_json(&existing)));
        }
        return Err(AppError::Conflict(
            "a response with this id was already stored with other content".into(),
        ));
    }
    if inv.submission_key.is_some() {
        return Err(AppError::Conflict(
            "a response has already been submitted with this invitation".into(),
        ));
    }
    match round.effective_state(now()) {
        RoundState::Closed => {
            return Err(AppError::Gone(
                "this round is closed and accepts no more responses".into(),
            ))
        }
        RoundState::Scheduled => {
            return Err(AppError::Conflict("this round has not opened yet".into()))
        }
        _ => {}
    }
    if !survey.languages.iter().any(|l| l == language) {
        return Err(AppError::unprocessable(
            format!("language: use one of {}", survey.languages.join(", ")),
            [(
                "language".to_string(),
                format!("use one of {}", survey.languages.join(", ")),
            )]
            .into_iter()
            .collect(),
        ));
    }
    let validated =
        validation::validate(survey, raw, language, Mode::Submit).map_err(|errors| {
            let message = format!(
                "{} answer(s) need attention: {}",
                errors.len(),
                errors.keys().cloned().collect::<Vec<_>>().join(", ")
            );
            AppError::unprocessable(message, errors)
        })?;
    let min_respondents = catalog
        .framework(&round.framework)
        .map_or(3, |f| f.min_respondents);
    Ok(Prepared::Pending(Box::new(PendingResponse {
        digest: answers_digest(&survey.id, &validated.answers),
        key: submission_key(token, &id),
        id,
        inv,
        round_id: round.id,
        survey_id: survey.id.clone(),
        survey_version: survey.version as i32,
        language: language.to_string(),
        validated,
        min_respondents,
        layout: None,
        ready: None,
    })))
}

impl PendingResponse {
    /// Makes the row's answers text and packed scores now, when the layout in hand covers
    /// the items, and frees the validated answers: the group-commit writer is one thread
    /// that every submission waits on, so what can be done before it is done here (the
    /// JSON text, the packing and freeing the maps were a fifth of its time; BENCHMARKS.md).
    pub fn pack_ahead(&mut self) -> Result<(), AppError> {
        let Some(layout) = self.layout.as_deref() else {
            return Ok(());
        };
        let items = &self.validated.items;
        if !layout.covers(items) {
            // New scored questions: their columns are added inside the transaction.
            return Ok(());
        }
        let scores = layout.pack(&self.survey_id, self.survey_version, items)?;
        self.ready = Some((response_store::answers_text(items), scores));
        self.validated = validation::Validated::default();
        Ok(())
    }

    /// Stores the response: one row with the answers and packed item scores
    /// (`crate::domain::response_store`), the invitation marked responded. Call inside
    /// a write transaction; nothing is acknowledged before it commits.
    pub fn store(&self, conn: &mut DbConnection) -> Result<Submitted, AppError> {
        let (id, inv, survey_id, language) = (&self.id, &self.inv, &self.survey_id, &self.language);
        // Claim the invitation first: a concurrent second submission loses here.
        let claim = crate::db::fixed::ClaimInvitation {
            invitation: inv.id,
            key: &self.key,
            responded: day_of(now()),
        };
        let submitted_at = now();
        let made;
        let (answers, scores) = match &self.ready {
            Some((answers, scores)) => (answers, scores),
            None => {
                let items = &self.validated.items;
                let scores = response_store::pack_scores(
                    conn,
                    survey_id,
                    self.survey_version,
                    items,
                    self.layout.as_deref(),
                )?;
                made = (response_store::answers_text(items), scores);
                (&made.0, &made.1)
            }
        };
        let duplicate_id = |e: diesel::result::Error| {
            if crate::db::is_unique_violation(&e) {
                // Another invitation's response has this id (a fresh invitation skipped
                // the replay lookup): as that lookup would have said.
                AppError::Conflict(
                    "a response with this id was already stored with other content".into(),
                )
            } else {
                e.into()
            }
        };
        if let DbConnection::Postgres(c) = conn {
            // One statement (one round trip) for the claim, the row and the draft.
            let stored: i64 = crate::db::fixed::ClaimAndStore {
                claim,
                uuid: id,
                round: self.round_id,
                survey: survey_id,
                survey_version: self.survey_version,
                org_type: &inv.org_type,
                language,
                digest: &self.digest,
                at: submitted_at,
                answers,
                scores,
            }
            .get_result(c)
            .map_err(duplicate_id)?;
            if stored != 1 {
                return self.stored_meanwhile(conn);
            }
        } else {
            let claimed = crate::db::on_backend!(conn, |c| claim.execute(c))?;
            if claimed != 1 {
                return self.stored_meanwhile(conn);
            }
            crate::db::on_backend!(conn, |c| diesel::insert_into(responses::table)
                .values((
                    responses::uuid.eq(id),
                    responses::round_id.eq(self.round_id),
                    responses::survey_id.eq(survey_id),
                    responses::survey_version.eq(self.survey_version),
                    responses::org_type.eq(&inv.org_type),
                    responses::language.eq(language),
                    responses::answers_digest.eq(&self.digest),
                    responses::submitted_at.eq(submitted_at),
                    responses::answers.eq(&answers),
                    responses::scores.eq(&scores),
                ))
                .execute(c))
            .map_err(duplicate_id)?;
            crate::db::on_backend!(conn, |c| diesel::delete(
                response_drafts::table.filter(response_drafts::invitation_id.eq(inv.id))
            )
            .execute(c))?;
        }
        // The round's snapshot check, once per group-committed batch (per response in a
        // transaction of its own).
        let (round, m) = (self.round_id, self.min_respondents);
        crate::db::writer::once_per_batch(conn, ("snapshot", i64::from(round)), move |c| {
            crate::domain::snapshots::publish_due(c, round, m).map(|_| ())
        })?;
        // What was just written, from the values in hand (not read back).
        Ok(Submitted::Created(StoredResponse {
            id: id.clone(),
            round: self.round_id,
            survey: survey_id.clone(),
            survey_version: self.survey_version,
            language: language.clone(),
            submitted_at: crate::kernel::time::rfc3339(submitted_at),
        }))
    }

    /// The invitation was claimed since the checks: by this very submission (the same id
    /// and answers sent twice at once), which is a replay, or by another one (409).
    fn stored_meanwhile(&self, conn: &mut DbConnection) -> Result<Submitted, AppError> {
        let marker: Option<String> = invitations::table
            .find(self.inv.id)
            .select(invitations::submission_key)
            .first(conn)?;
        if marker.as_deref() == Some(&self.key) {
            if let Some(existing) = load_response(conn, &self.id)? {
                if existing.answers_digest == self.digest {
                    return Ok(Submitted::Replayed(response_json(&existing)));
                }
                return Err(AppError::Conflict(
                    "a response with this id was already stored with other content".into(),
                ));
            }
        }
        Err(AppError::Conflict(
            "a response has already been submitted with this invitation".into(),
        ))
    }
}

/// Checks and stores a response in a transaction of its own, committed before the caller
/// answers 2xx (the CLI and tools; the server goes through [`submit_grouped`]).
pub fn submit(
    conn: &mut DbConnection,
    catalog: &Catalog,
    token: &str,
    response_id: &str,
    language: &str,
    raw: &Map<String, Value>,
) -> Result<Submitted, AppError> {
    match prepare_submission(conn, catalog, token, response_id, language, raw)? {
        Prepared::Replayed(r) => Ok(Submitted::Replayed(r)),
        Prepared::Pending(p) => write_tx(conn, |conn| p.store(conn)),
    }
}

/// A submission as the server takes it: checked on a pooled connection, then written by the
/// database's writer together with the others waiting (group commit), answered once that
/// transaction is durable. `language` defaults to the survey's first.
pub async fn submit_grouped(
    svc: &Services,
    token: String,
    response_id: String,
    language: Option<String>,
    raw: Map<String, Value>,
) -> Result<Submitted, AppError> {
    let catalog = svc.catalog.current();
    let layouts = svc.layouts.clone();
    let prepared = svc
        .blocking(move |conn| {
            let language = match language {
                Some(l) => l,
                None => {
                    let (inv, _) = invitation_for_token(conn, &token)?;
                    catalog
                        .survey(&inv.survey_id)
                        .map(|s| s.default_language().to_string())
                        .unwrap_or_else(|| "en".into())
                }
            };
            let mut prepared =
                prepare_submission(conn, &catalog, &token, &response_id, &language, &raw)?;
            if let Prepared::Pending(p) = &mut prepared {
                let items = &p.validated.items;
                p.layout = Some(layouts.covering(conn, &p.survey_id, p.survey_version, items)?);
                p.pack_ahead()?;
            }
            Ok(prepared)
        })
        .await?;
    match prepared {
        Prepared::Replayed(r) => Ok(Submitted::Replayed(r)),
        // Spread over the lanes by invitation (two sends of one invitation share a lane);
        // the responses of a round need not share one, as its snapshot is taken at the end
        // of a batch, its row lock the last taken before COMMIT (`crate::domain::snapshots`).
        Prepared::Pending(p) => {
            svc.write_repeatable(p.inv.id as u64, move |conn| p.store(conn))
                .await
        }
    }
}

fn load_response(conn: &mut DbConnection, id: &str) -> QueryResult<Option<models::Response>> {
    responses::table
        .filter(responses::uuid.eq(id))
        .select(models::Response::as_select())
        .first(conn)
        .optional()
}

/// Saves a draft (type-checked, not required-checked) for the invitation.
pub fn save_draft(
    conn: &mut DbConnection,
    survey: &Survey,
    inv: &Invitation,
    language: &str,
    raw: &Map<String, Value>,
) -> Result<(), crate::surveys::answers::FieldErrors> {
    let v = validation::validate(survey, raw, language, Mode::Draft)?;
    let text = Value::Object(v.answers).to_string();
    let r = write_tx(conn, |conn| -> QueryResult<()> {
        let updated = diesel::update(response_drafts::table.find(inv.id))
            .set((
                response_drafts::answers.eq(&text),
                response_drafts::language.eq(language),
                response_drafts::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(response_drafts::table)
                .values((
                    response_drafts::invitation_id.eq(inv.id),
                    response_drafts::answers.eq(&text),
                    response_drafts::language.eq(language),
                    response_drafts::updated_at.eq(now()),
                ))
                .execute(conn)?;
        }
        Ok(())
    });
    r.map_err(|e| {
        tracing::error!(error = %e, "saving draft");
        [(
            "_".to_string(),
            "the draft could not be saved; try again".to_string(),
        )]
        .into_iter()
        .collect()
    })
}

pub fn load_draft(
    conn: &mut DbConnection,
    invitation_id: i32,
) -> QueryResult<Option<(String, Map<String, Value>)>> {
    let row: Option<(String, String)> = response_drafts::table
        .find(invitation_id)
        .select((response_drafts::language, response_drafts::answers))
        .first(conn)
        .optional()?;
    Ok(row.map(|(lang, text)| {
        let map = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        (lang, map)
    }))
}

/// Drops answers to questions that are not relevant given the others (in order, as the
/// form's skip logic does). The HTML form uses this, since a person without JavaScript sees
/// every question; the JSON API stays strict.
pub fn prune_irrelevant(survey: &Survey, raw: &Map<String, Value>) -> Map<String, Value> {
    crate::surveys::answers::prune_irrelevant(survey, raw)
}

/// Opens due scheduled rounds and closes rounds past their closing time. Returns
/// (opened, closed).
pub fn tick(conn: &mut DbConnection) -> QueryResult<(usize, usize)> {
    let now = now();
    let opened = diesel::update(
        rounds::table
            .filter(rounds::state.eq(RoundState::Scheduled.as_str()))
            .filter(rounds::opens_at.le(now))
            .filter(rounds::closes_at.gt(now)),
    )
    .set(rounds::state.eq(RoundState::Open.as_str()))
    .execute(conn)?;
    let closed = diesel::update(
        rounds::table
            .filter(rounds::state.ne(RoundState::Closed.as_str()))
            .filter(rounds::closes_at.le(now)),
    )
    .set((
        rounds::state.eq(RoundState::Closed.as_str()),
        rounds::closed_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok((opened, closed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_utc() {
        let t = parse_time("opens_at", "2026-12-01T03:00:00+03:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-01 00:00:00");
        assert_eq!(
            parse_time("x", "2026-12-01").unwrap().to_string(),
            "2026-12-01 00:00:00"
        );
        assert!(parse_time("closes_at", "tomorrow").is_err());
    }

    #[test]
    fn digest_ignores_key_order() {
        let a: Map<String, Value> = serde_json::from_str(r#"{"a":1,"b":"x"}"#).unwrap();
        let b: Map<String, Value> = serde_json::from_str(r#"{"b":"x","a":1}"#).unwrap();
        assert_eq!(answers_digest("s", &a), answers_digest("s", &b));
        assert_ne!(answers_digest("s", &a), answers_digest("t", &a));
    }
}
