//! Rows and the queries on them. Every function takes a `&mut DbConnection` and is called
//! from inside `web::block` (or the CLI), never on an async worker thread.

use super::schema::*;
use super::DbConnection;
use crate::kernel::time::now;
use crate::kernel::vocab::RoundState;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = clusters)]
pub struct Cluster {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub lead_emails: String,
    pub language: String,
    pub created_at: NaiveDateTime,
}

impl Cluster {
    pub fn lead_emails(&self) -> Vec<String> {
        serde_json::from_str(&self.lead_emails).unwrap_or_default()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = clusters)]
pub struct NewCluster<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub lead_emails: String,
    pub language: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = operations)]
pub struct Operation {
    pub id: i32,
    pub slug: String,
    pub cluster_id: i32,
    pub country: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    /// The language its public pages open in (a [`crate::kernel::vocab::Language`] text).
    pub default_language: Option<String>,
    /// When it was archived (no new rounds); None while in use.
    pub archived_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = operations)]
pub struct NewOperation<'a> {
    pub slug: &'a str,
    pub cluster_id: i32,
    pub country: &'a str,
    pub name: &'a str,
    pub created_at: NaiveDateTime,
    pub default_language: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: i32,
    pub name: String,
    pub name_key: String,
    pub org_type: String,
    pub created_at: NaiveDateTime,
    /// When it was archived (no new invitations); None while in use.
    pub archived_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub name_key: String,
    pub org_type: &'a str,
    pub created_at: NaiveDateTime,
}

/// Organization names are unique regardless of case and spacing.
pub fn org_name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub cluster_id: Option<i32>,
    pub disabled: bool,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// `None` for someone invited who has not set a password yet.
    pub password_set_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub cluster_id: Option<i32>,
    pub disabled: bool,
    pub failed_logins: i32,
    pub created_at: NaiveDateTime,
    pub password_set_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i32,
    pub user_id: i32,
    pub token_hash: String,
    pub label: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn cluster_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Cluster>> {
    clusters::table
        .filter(clusters::code.eq(code))
        .select(Cluster::as_select())
        .first(conn)
        .optional()
}

pub fn cluster_by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Cluster> {
    clusters::table
        .find(id)
        .select(Cluster::as_select())
        .first(conn)
}

pub fn all_clusters(conn: &mut DbConnection) -> QueryResult<Vec<Cluster>> {
    clusters::table
        .order(clusters::code)
        .select(Cluster::as_select())
        .load(conn)
}

pub fn operation_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<Operation>> {
    operations::table
        .filter(operations::slug.eq(slug))
        .select(Operation::as_select())
        .first(conn)
        .optional()
}

pub fn all_operations(conn: &mut DbConnection) -> QueryResult<Vec<Operation>> {
    operations::table
        .order(operations::slug)
        .select(Operation::as_select())
        .load(conn)
}

pub fn organization_by_name(
    conn: &mut DbConnection,
    name: &str,
) -> QueryResult<Option<Organization>> {
    organizations::table
        .filter(organizations::name_key.eq(org_name_key(name)))
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

pub fn insert_organization(
    conn: &mut DbConnection,
    name: &str,
    org_type: &str,
) -> QueryResult<Organization> {
    let id = diesel::insert_into(organizations::table)
        .values(NewOrganization {
            name: name.trim(),
            name_key: org_name_key(name),
            org_type,
            created_at: now(),
        })
        .returning(organizations::id)
        .get_result::<i32>(conn)?;
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
}

/// The countries (ISO codes) of an inter-cluster coordinator, sorted.
pub fn user_countries(conn: &mut DbConnection, user_id: i32) -> QueryResult<Vec<String>> {
    user_countries::table
        .filter(user_countries::user_id.eq(user_id))
        .order(user_countries::country)
        .select(user_countries::country)
        .load(conn)
}

pub fn user_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(normalize_email(email)))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn user_operation_ids(conn: &mut DbConnection, user_id: i32) -> QueryResult<Vec<i32>> {
    user_operations::table
        .filter(user_operations::user_id.eq(user_id))
        .select(user_operations::operation_id)
        .load(conn)
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A deliberately simple check: one `@`, something on both sides, a dot in the domain,
/// no spaces. Delivery is the real test.
pub fn check_email(email: &str) -> Result<(), String> {
    let e = email.trim();
    let ok = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !d.contains('@')
        })
        // The parser that sends the mail must accept it too (e.g. it refuses `a<b>@x.org`).
        && e.parse::<lettre::Address>().is_ok();
    if ok {
        Ok(())
    } else {
        Err("not a valid email address".into())
    }
}

/// Appends to the audit trail of staff actions. `detail` must not carry personal data.
pub fn audit(
    conn: &mut DbConnection,
    actor: Option<i32>,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_user_id.eq(actor),
            audit_log::action.eq(action),
            audit_log::target.eq(target),
            audit_log::detail.eq(detail.to_string()),
            audit_log::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Creates a bearer token for a user; returns the plain token (shown once).
pub fn create_token(conn: &mut DbConnection, user_id: i32, label: &str) -> QueryResult<String> {
    let token = format!("cpt_{}", crate::kernel::secrets::random_token(32));
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::token_hash.eq(crate::kernel::secrets::hash_token(&token)),
            api_tokens::label.eq(label),
            api_tokens::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_loosely_but_sanely() {
        assert!(check_email("a@b.org").is_ok());
        assert!(check_email(" lead@shelter.example.org ").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.org",
            "a b@c.org",
            "a@@b.org",
            "a@.org",
            "a@b.org.",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn org_names_compare_without_case_or_spacing() {
        assert_eq!(org_name_key("  Relief   Org "), org_name_key("relief org"));
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = rounds)]
pub struct Round {
    pub id: i32,
    /// The operation of a CCPM round; `None` for a global cluster's service-charter round.
    pub operation_id: Option<i32>,
    pub framework: String,
    pub surveys: String,
    pub title: String,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    #[diesel(deserialize_as = String)]
    pub state: RoundState,
    pub remind_days_before: Option<i32>,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    /// The global cluster of a service-charter round (exactly one of the two owners is set).
    pub cluster_id: Option<i32>,
}

impl Round {
    /// The operation of an operation's round; a global cluster's round is no round of any
    /// operation, so operation paths answer 404 for it.
    pub fn operation(&self) -> Result<i32, crate::kernel::error::AppError> {
        self.operation_id.ok_or_else(|| {
            crate::kernel::error::AppError::not_found(format!("no round with id {}", self.id))
        })
    }

    pub fn survey_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.surveys).unwrap_or_default()
    }

    /// The state as of `now`: a scheduled round whose opening time has come is open, and an
    /// open round past its closing time is closed (the scheduler persists both).
    pub fn effective_state(&self, now: NaiveDateTime) -> RoundState {
        match self.state {
            RoundState::Closed => RoundState::Closed,
            _ if now >= self.closes_at => RoundState::Closed,
            RoundState::Scheduled if now < self.opens_at => RoundState::Scheduled,
            _ => RoundState::Open,
        }
    }
}

pub fn round_by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Round>> {
    crate::db::on_backend!(conn, |c| rounds::table
        .find(id)
        .select(Round::as_select())
        .first(c)
        .optional())
}

pub fn operation_by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Operation> {
    operations::table
        .find(id)
        .select(Operation::as_select())
        .first(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: i32,
    pub round_id: i32,
    pub survey_id: String,
    pub email: String,
    pub organization_id: i32,
    pub org_type: String,
    pub token_hash: String,
    pub reminder_token_hash: Option<String>,
    pub language: Option<String>,
    pub submission_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub reminded_at: Option<NaiveDateTime>,
    pub responded_at: Option<NaiveDateTime>,
}

/// The invitation a token (or its reminder token) belongs to, with its round: the
/// invitation and its round in one statement, so one read transaction (on SQLite a reading
/// connection drops its page cache whenever another connection wrote since its last read;
/// two reads paid that twice) and one round trip on PostgreSQL. The token of the invitation
/// is looked up first and the reminder's only when that finds nothing: one index search
/// for most tokens, where `token_hash = ? OR reminder_token_hash = ?` searched both indexes
/// every time (BENCHMARKS.md).
pub fn invitation_by_token(
    conn: &mut DbConnection,
    token: &str,
) -> QueryResult<Option<(Invitation, Round)>> {
    let hash = crate::kernel::secrets::hash_token(token);
    let sent = crate::db::on_backend!(conn, |c| invitations::table
        .inner_join(rounds::table)
        .filter(invitations::token_hash.eq(&hash))
        .select((Invitation::as_select(), Round::as_select()))
        .first(c)
        .optional())?;
    if sent.is_some() {
        return Ok(sent);
    }
    crate::db::on_backend!(conn, |c| invitations::table
        .inner_join(rounds::table)
        .filter(invitations::reminder_token_hash.eq(&hash))
        .select((Invitation::as_select(), Round::as_select()))
        .first(c)
        .optional())
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = responses)]
pub struct Response {
    /// The key inside the database.
    pub id: i32,
    /// The UUID the client chose (unique).
    pub uuid: String,
    pub round_id: i32,
    pub survey_id: String,
    pub survey_version: i32,
    pub org_type: String,
    pub language: String,
    pub answers_digest: String,
    pub submitted_at: NaiveDateTime,
    /// The open-round snapshot that published it (`crate::domain::snapshots`); `None` until then.
    pub snapshot: Option<i32>,
}

impl crate::kernel::access::Place for Operation {
    fn operation_id(&self) -> i32 {
        self.id
    }
    fn cluster_id(&self) -> i32 {
        self.cluster_id
    }
}

/// A row of `feedback_sum_items` (see `domain::feedback::summaries`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Queryable, Selectable)]
#[diesel(table_name = feedback_sum_items)]
pub struct FeedbackSumItems {
    pub operation_id: i32,
    pub grain: i32,
    pub period: chrono::NaiveDate,
    pub sensitive: bool,
    pub category: String,
    pub items: i64,
    pub acknowledged: i64,
    pub ack_in_sla: i64,
    pub closed: i64,
    pub closed_responded: i64,
    pub closed_rated: i64,
    pub closed_satisfied: i64,
}

/// A row of `feedback_sum_profile`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Queryable, Selectable)]
#[diesel(table_name = feedback_sum_profile)]
pub struct FeedbackSumProfile {
    pub operation_id: i32,
    pub grain: i32,
    pub period: chrono::NaiveDate,
    pub sensitive: bool,
    pub dimension: String,
    pub value: String,
    pub items: i64,
}

/// A row of `feedback_sum_unacked`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Queryable, Selectable)]
#[diesel(table_name = feedback_sum_unacked)]
pub struct FeedbackSumUnacked {
    pub operation_id: i32,
    pub grain: i32,
    pub period: chrono::NaiveDate,
    pub sensitive: bool,
    pub due_day: chrono::NaiveDate,
    pub items: i64,
    pub open_items: i64,
}

/// A row of `feedback_sum_closures`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Queryable, Selectable)]
#[diesel(table_name = feedback_sum_closures)]
pub struct FeedbackSumClosures {
    pub operation_id: i32,
    pub grain: i32,
    pub period: chrono::NaiveDate,
    pub sensitive: bool,
    pub closed_month: chrono::NaiveDate,
    pub bucket: i32,
    pub items: i64,
}

/// Every summary row, sorted: what `rebuild-summaries` must reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackSummaries {
    pub items: Vec<FeedbackSumItems>,
    pub profile: Vec<FeedbackSumProfile>,
    pub unacked: Vec<FeedbackSumUnacked>,
    pub closures: Vec<FeedbackSumClosures>,
}

/// Loads every summary row, sorted.
pub fn feedback_summaries(conn: &mut DbConnection) -> QueryResult<FeedbackSummaries> {
    let mut s = FeedbackSummaries {
        items: feedback_sum_items::table
            .select(FeedbackSumItems::as_select())
            .load(conn)?,
        profile: feedback_sum_profile::table
            .select(FeedbackSumProfile::as_select())
            .load(conn)?,
        unacked: feedback_sum_unacked::table
            .select(FeedbackSumUnacked::as_select())
            .load(conn)?,
        closures: feedback_sum_closures::table
            .select(FeedbackSumClosures::as_select())
            .load(conn)?,
    };
    s.items.sort();
    s.profile.sort();
    s.unacked.sort();
    s.closures.sort();
    Ok(s)
}

/// An organization's entry in an operation's membership register (its current values;
/// every change is also kept in `membership_events`).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: i32,
    pub operation_id: i32,
    pub organization_id: i32,
    #[diesel(deserialize_as = String)]
    pub status: crate::kernel::vocab::MembershipStatus,
    #[diesel(deserialize_as = String)]
    pub level: crate::kernel::vocab::MembershipLevel,
    pub since: chrono::NaiveDate,
    pub focal_point_email: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One change to a register entry, as the entry stood after it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = membership_events)]
pub struct MembershipEvent {
    pub id: i32,
    pub membership_id: i32,
    pub action: String,
    #[diesel(deserialize_as = String)]
    pub status: crate::kernel::vocab::MembershipStatus,
    #[diesel(deserialize_as = String)]
    pub level: crate::kernel::vocab::MembershipLevel,
    pub since: chrono::NaiveDate,
    pub focal_point_email: Option<String>,
    pub actor_user_id: Option<i32>,
    pub created_at: NaiveDateTime,
}

/// An organization's statement on the minimum commitments for one year.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = self_assessments)]
pub struct SelfAssessment {
    pub id: i32,
    pub membership_id: i32,
    pub year: i32,
    /// JSON: `{commitment: {"rating", "comment"}}`.
    pub answers: String,
    /// `link` (the focal point) or `coordinator`.
    pub via: String,
    pub entered_by: Option<i32>,
    pub submitted_at: NaiveDateTime,
}

/// A focal point's link to answer the self-assessment (only its hash is stored).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = self_assessment_links)]
pub struct SelfAssessmentLink {
    pub id: i32,
    pub membership_id: i32,
    pub year: i32,
    pub email: String,
    pub token_hash: String,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A collector account of an operation (offline collection with ODK Collect and the like).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = collectors)]
pub struct Collector {
    pub id: i32,
    pub operation_id: i32,
    pub name: String,
    pub channel: String,
    pub token_hash: String,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// One instance a collector submitted, by its `meta/instanceID`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = collector_submissions)]
pub struct CollectorSubmission {
    pub id: i32,
    pub operation_id: i32,
    pub instance_id: String,
    pub collector_id: i32,
    pub feedback_id: i32,
    pub digest: String,
    pub created_at: NaiveDateTime,
}
