//! The yearly self-assessment of the minimum commitments. Not anonymous: each statement is
//! an organization's own, stored with its register entry, and shown by name to those who
//! may read the register ("who meets which commitment"). The organization's focal point
//! answers through a link emailed to them (a random 192-bit token, stored only as its
//! SHA-256 hash, working for [`LINK_DAYS`] and only for that organization and year), or a
//! coordinator enters the statement. A later statement for the same year supersedes the
//! earlier one; both are kept.

use super::commitments::{self, COMMITMENTS};
use super::{entry_of, operation_for, today, Access};
use crate::db::models::SelfAssessmentLink;
use crate::db::models::{self, Membership, Operation, Organization, SelfAssessment};
use crate::db::schema::{
    clusters, memberships, organizations, self_assessment_links, self_assessments,
};
use crate::db::{write_tx, DbConnection};
use crate::domain::Services;
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, Fields};
use crate::kernel::secrets;
use crate::kernel::time::{now, rfc3339};
use crate::kernel::vocab::{CommitmentRating, MembershipStatus};
use crate::render::i18n::fill;
use chrono::{Datelike, Duration};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How long a focal point's link works.
pub const LINK_DAYS: i64 = 30;
/// The longest comment, in characters.
pub const COMMENT_MAX: usize = 1000;

/// The page a link opens.
pub fn url(public_url: &str, token: &str) -> String {
    format!("{public_url}/m/{token}")
}

/// One commitment's answer as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// meets, partly or not_yet.
    pub rating: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// An organization's statement, entered by a coordinator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentBody {
    /// The year assessed, 2000 to this year (default: this year).
    #[serde(default)]
    #[schema(minimum = 2000, maximum = 9999)]
    pub year: Option<i32>,
    /// Every commitment id (`GET …/self-assessments` lists them) → its answer.
    pub answers: BTreeMap<String, AnswerBody>,
}

/// One commitment's answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AnswerView {
    pub rating: CommitmentRating,
    pub comment: String,
}

/// A stored statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementView {
    pub id: i32,
    pub member: i32,
    pub organization: String,
    pub year: i32,
    /// link (the focal point) or coordinator.
    pub via: String,
    /// RFC 3339, UTC.
    pub submitted_at: String,
    pub answers: BTreeMap<String, AnswerView>,
}

/// Checked answers: every commitment, each with its rating and comment.
pub type Answers = BTreeMap<String, AnswerView>;

/// Checks answers: every commitment rated, no unknown one, comments within bounds. Field
/// names are `answers.ID.rating` / `answers.ID.comment`.
pub fn check_answers(given: &BTreeMap<String, AnswerBody>) -> Result<Answers, AppError> {
    let mut fields = Fields::new();
    let mut out = Answers::new();
    for id in given.keys() {
        if commitments::commitment(id).is_none() {
            fields.insert(
                format!("answers.{id}"),
                format!("not a commitment; use {}", commitments::ids().join(", ")),
            );
        }
    }
    for c in &COMMITMENTS {
        let name = |f: &str| format!("answers.{}.{f}", c.id);
        let Some(a) = given.get(c.id) else {
            fields.insert(name("rating"), "rate every commitment".into());
            continue;
        };
        let rating = match CommitmentRating::parse(a.rating.trim()) {
            Ok(r) => Some(r),
            Err(e) => {
                fields.insert(name("rating"), e);
                None
            }
        };
        let comment = a.comment.as_deref().unwrap_or("").trim().to_string();
        if comment.chars().count() > COMMENT_MAX {
            fields.insert(name("comment"), format!("at most {COMMENT_MAX} characters"));
        } else if comment
            .chars()
            .any(|ch| ch.is_control() && ch != '\n' && ch != '\r' && ch != '\t')
        {
            fields.insert(name("comment"), "contains control characters".into());
        }
        if let Some(rating) = rating {
            out.insert(c.id.to_string(), AnswerView { rating, comment });
        }
    }
    if fields.is_empty() {
        Ok(out)
    } else {
        Err(AppError::unprocessable(
            "the self-assessment is not complete or not valid; `fields` names each problem",
            fields,
        ))
    }
}

fn check_year(year: Option<i32>) -> Result<i32, AppError> {
    let this = today().year();
    match year {
        None => Ok(this),
        Some(y) if (2000..=this).contains(&y) => Ok(y),
        Some(_) => Err(AppError::field(
            "year",
            format!("use a year from 2000 to {this}"),
        )),
    }
}

pub(crate) fn store(
    conn: &mut DbConnection,
    m: &Membership,
    year: i32,
    answers: &Answers,
    via: &str,
    actor: Option<i32>,
) -> Result<SelfAssessment, AppError> {
    let id: i32 = diesel::insert_into(self_assessments::table)
        .values((
            self_assessments::membership_id.eq(m.id),
            self_assessments::year.eq(year),
            self_assessments::answers.eq(serde_json::to_string(answers).unwrap_or_default()),
            self_assessments::via.eq(via),
            self_assessments::entered_by.eq(actor),
            self_assessments::submitted_at.eq(now()),
        ))
        .returning(self_assessments::id)
        .get_result(conn)?;
    let met = answers
        .values()
        .filter(|a| a.rating == CommitmentRating::Meets)
        .count();
    models::audit(
        conn,
        actor,
        "membership.self_assessment",
        &format!("membership:{}", m.id),
        json!({"year": year, "via": via, "meets": met, "of": answers.len()}),
    )?;
    Ok(self_assessments::table
        .find(id)
        .select(SelfAssessment::as_select())
        .first(conn)?)
}

fn parse_answers(s: &SelfAssessment) -> Answers {
    serde_json::from_str(&s.answers).unwrap_or_default()
}

fn statement_view(s: &SelfAssessment, organization: &str) -> StatementView {
    StatementView {
        id: s.id,
        member: s.membership_id,
        organization: organization.to_string(),
        year: s.year,
        via: s.via.clone(),
        submitted_at: rfc3339(s.submitted_at),
        answers: parse_answers(s),
    }
}

/// A coordinator records an organization's statement (what its focal point told them).
pub fn enter(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
    b: AssessmentBody,
) -> Result<StatementView, AppError> {
    let year = check_year(b.year)?;
    let answers = check_answers(&b.answers)?;
    write_tx(conn, |conn| {
        let op = operation_for(conn, actor, slug, Access::Manage)?;
        let (m, o) = entry_of(conn, &op, id)?;
        let s = store(conn, &m, year, &answers, "coordinator", Some(actor.id))?;
        Ok(statement_view(&s, &o.name))
    })
}

/// Links to ask for.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinksBody {
    /// The year to assess, 2000 to this year (default: this year).
    #[serde(default)]
    #[schema(minimum = 2000, maximum = 9999)]
    pub year: Option<i32>,
    /// Register entry ids (default: every member with a focal point email; observers only
    /// when named here).
    #[serde(default)]
    pub members: Option<Vec<i32>>,
    /// Email each focal point their link (default true).
    #[serde(default)]
    pub send: Option<bool>,
}

/// A focal point's link; the token is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    pub member: i32,
    pub organization: String,
    pub email: String,
    pub year: i32,
    pub link: String,
    pub token: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkList {
    pub links: Vec<LinkView>,
}

/// The language an operation's mail and forms use: its default, else its cluster's.
fn language_of(conn: &mut DbConnection, op: &Operation) -> QueryResult<String> {
    if let Some(l) = &op.default_language {
        return Ok(l.clone());
    }
    clusters::table
        .find(op.cluster_id)
        .select(clusters::language)
        .first(conn)
}

/// Makes a link for each chosen entry (replacing the entry's older links for that year)
/// and, with `send`, queues its email, all in one transaction.
pub fn create_links(
    conn: &mut DbConnection,
    svc: &Services,
    actor: &Actor,
    slug: &str,
    b: LinksBody,
) -> Result<LinkList, AppError> {
    let year = check_year(b.year)?;
    let send = b.send.unwrap_or(true);
    let out = write_tx(conn, |conn| -> Result<Vec<LinkView>, AppError> {
        let op = operation_for(conn, actor, slug, Access::Manage)?;
        let rows = super::register::entries(conn, &op)?;
        let chosen: Vec<(Membership, Organization)> = match &b.members {
            None => rows
                .into_iter()
                .filter(|(m, _)| {
                    m.status == MembershipStatus::Member && m.focal_point_email.is_some()
                })
                .collect(),
            Some(ids) => {
                if ids.is_empty() {
                    return Err(AppError::field("members", "the list is empty"));
                }
                let mut out = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    let field = format!("members[{i}]");
                    let Some(row) = rows.iter().find(|(m, _)| m.id == *id) else {
                        return Err(AppError::field(
                            &field,
                            format!("no member {id} in this register"),
                        ));
                    };
                    if row.0.status == MembershipStatus::Former {
                        return Err(AppError::field(&field, "this membership has ended"));
                    }
                    if row.0.focal_point_email.is_none() {
                        return Err(AppError::field(
                            &field,
                            "the entry has no focal point email: add one first",
                        ));
                    }
                    if !out
                        .iter()
                        .any(|(m, _): &(Membership, Organization)| m.id == *id)
                    {
                        out.push(row.clone());
                    }
                }
                out
            }
        };
        if chosen.is_empty() {
            return Err(AppError::field(
                "members",
                "no member of the register has a focal point email",
            ));
        }
        let lang = language_of(conn, &op)?;
        let expires = now() + Duration::days(LINK_DAYS);
        let mut links = Vec::new();
        for (m, o) in chosen {
            let email = m.focal_point_email.clone().unwrap_or_default();
            diesel::delete(
                self_assessment_links::table
                    .filter(self_assessment_links::membership_id.eq(m.id))
                    .filter(self_assessment_links::year.eq(year)),
            )
            .execute(conn)?;
            let token = secrets::random_token(24);
            diesel::insert_into(self_assessment_links::table)
                .values((
                    self_assessment_links::membership_id.eq(m.id),
                    self_assessment_links::year.eq(year),
                    self_assessment_links::email.eq(&email),
                    self_assessment_links::token_hash.eq(secrets::hash_token(&token)),
                    self_assessment_links::created_by.eq(Some(actor.id)),
                    self_assessment_links::created_at.eq(now()),
                    self_assessment_links::expires_at.eq(expires),
                ))
                .execute(conn)?;
            let link = url(&svc.config.public_url, &token);
            if send {
                let vars = [
                    ("organization", o.name.as_str()),
                    ("operation", op.name.as_str()),
                    ("year", &year.to_string()),
                    ("link", link.as_str()),
                    ("date", &crate::render::i18n::date(expires.date(), &lang)),
                ];
                let mail = crate::mail::Email {
                    to: email.clone(),
                    subject: fill(commitments::form_text(&lang, "mail_subject"), &vars),
                    text: fill(commitments::form_text(&lang, "mail_body"), &vars),
                    html: None,
                    inline: Vec::new(),
                    attachments: Vec::new(),
                };
                crate::mail::enqueue(conn, "self_assessment", None, &svc.config.mail_from, &mail)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("queueing mail: {e}")))?;
            }
            models::audit(
                conn,
                Some(actor.id),
                "membership.self_assessment_link",
                &format!("membership:{}", m.id),
                json!({"year": year, "sent": send}),
            )?;
            links.push(LinkView {
                member: m.id,
                organization: o.name.clone(),
                email,
                year,
                link,
                token,
                expires_at: rfc3339(expires),
            });
        }
        Ok(links)
    })?;
    if send {
        svc.nudge_mail();
    }
    Ok(LinkList { links: out })
}

/// What a focal point's link opens: their organization's entry and nothing else.
pub struct LinkContext {
    pub link: SelfAssessmentLink,
    pub operation: Operation,
    pub organization: Organization,
    pub membership: Membership,
    /// The operation's language.
    pub language: String,
    /// The organization's latest statement for the link's year, if any.
    pub current: Option<Answers>,
}

/// The link with this token: 404 when unknown, 410 when expired or the membership ended.
pub fn open_link(conn: &mut DbConnection, token: &str) -> Result<LinkContext, AppError> {
    let link: SelfAssessmentLink = self_assessment_links::table
        .filter(self_assessment_links::token_hash.eq(secrets::hash_token(token.trim())))
        .select(SelfAssessmentLink::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("this self-assessment link is not known"))?;
    if link.expires_at <= now() {
        return Err(AppError::Gone(
            "this self-assessment link has expired; ask the cluster coordinator for a new one"
                .into(),
        ));
    }
    let (membership, organization): (Membership, Organization) = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::id.eq(link.membership_id))
        .select((Membership::as_select(), Organization::as_select()))
        .first(conn)?;
    if membership.status == MembershipStatus::Former {
        return Err(AppError::Gone(
            "this organization's membership has ended; the link no longer works".into(),
        ));
    }
    let operation = models::operation_by_id(conn, membership.operation_id)?;
    let language = language_of(conn, &operation)?;
    let current = latest(conn, &[membership.id], link.year)?
        .remove(&membership.id)
        .map(|s| parse_answers(&s));
    Ok(LinkContext {
        link,
        operation,
        organization,
        membership,
        language,
        current,
    })
}

/// The focal point's statement through their link.
pub fn submit_by_link(
    conn: &mut DbConnection,
    token: &str,
    given: &BTreeMap<String, AnswerBody>,
) -> Result<StatementView, AppError> {
    let answers = check_answers(given)?;
    write_tx(conn, |conn| {
        let ctx = open_link(conn, token)?;
        let s = store(conn, &ctx.membership, ctx.link.year, &answers, "link", None)?;
        Ok(statement_view(&s, &ctx.organization.name))
    })
}

/// The latest statement of each of `ids` for `year`.
fn latest(
    conn: &mut DbConnection,
    ids: &[i32],
    year: i32,
) -> QueryResult<BTreeMap<i32, SelfAssessment>> {
    let rows: Vec<SelfAssessment> = self_assessments::table
        .filter(self_assessments::membership_id.eq_any(ids))
        .filter(self_assessments::year.eq(year))
        .order(self_assessments::id)
        .select(SelfAssessment::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|s| (s.membership_id, s)).collect())
}

/// A commitment as the grid lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentView {
    pub id: String,
    pub title: String,
    pub statement: String,
}

/// One organization's row of the grid.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridRow {
    pub member: i32,
    pub organization: String,
    pub org_type: String,
    pub status: MembershipStatus,
    /// When its statement for the year was made; absent without one.
    pub submitted_at: Option<String>,
    /// link or coordinator; absent without a statement.
    pub via: Option<String>,
    /// Commitment id → answer; empty without a statement.
    pub answers: BTreeMap<String, AnswerView>,
}

/// How many organizations gave each answer to one commitment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentTotal {
    pub commitment: String,
    pub meets: i64,
    pub partly: i64,
    pub not_yet: i64,
    /// Organizations of the grid without a statement.
    pub no_statement: i64,
}

/// Who meets which commitment in one year.
#[derive(Debug, Serialize, ToSchema)]
pub struct Grid {
    pub operation: String,
    pub year: i32,
    /// Years with at least one statement, newest first.
    pub years: Vec<i32>,
    pub commitments: Vec<CommitmentView>,
    /// Every current member and observer, and former ones with a statement that year.
    pub organizations: Vec<GridRow>,
    pub totals: Vec<CommitmentTotal>,
}

/// The grid of `slug` for `year` (default: this year), for those who may read the
/// register.
pub fn grid(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    year: Option<i32>,
    lang: &str,
) -> Result<Grid, AppError> {
    // Any year may be looked at (a later one is simply empty); statements only up to now.
    let year = match year {
        None => today().year(),
        Some(y) if (2000..=9999).contains(&y) => y,
        Some(_) => return Err(AppError::field("year", "use a year from 2000 to 9999")),
    };
    let op = operation_for(conn, actor, slug, Access::Read)?;
    let rows = super::register::entries(conn, &op)?;
    let ids: Vec<i32> = rows.iter().map(|(m, _)| m.id).collect();
    let statements = latest(conn, &ids, year)?;
    let mut years: Vec<i32> = self_assessments::table
        .filter(self_assessments::membership_id.eq_any(&ids))
        .select(self_assessments::year)
        .distinct()
        .load(conn)?;
    years.sort_unstable_by(|a, b| b.cmp(a));
    let organizations: Vec<GridRow> = rows
        .into_iter()
        .filter(|(m, _)| m.status != MembershipStatus::Former || statements.contains_key(&m.id))
        .map(|(m, o)| {
            let s = statements.get(&m.id);
            GridRow {
                member: m.id,
                organization: o.name,
                org_type: o.org_type,
                status: m.status,
                submitted_at: s.map(|s| rfc3339(s.submitted_at)),
                via: s.map(|s| s.via.clone()),
                answers: s.map(parse_answers).unwrap_or_default(),
            }
        })
        .collect();
    let totals = COMMITMENTS
        .iter()
        .map(|c| {
            let count = |r: CommitmentRating| {
                organizations
                    .iter()
                    .filter(|o| o.answers.get(c.id).is_some_and(|a| a.rating == r))
                    .count() as i64
            };
            CommitmentTotal {
                commitment: c.id.to_string(),
                meets: count(CommitmentRating::Meets),
                partly: count(CommitmentRating::Partly),
                not_yet: count(CommitmentRating::NotYet),
                no_statement: organizations
                    .iter()
                    .filter(|o| o.answers.is_empty())
                    .count() as i64,
            }
        })
        .collect();
    Ok(Grid {
        operation: op.slug.clone(),
        year,
        years,
        commitments: COMMITMENTS
            .iter()
            .map(|c| CommitmentView {
                id: c.id.to_string(),
                title: c.title(lang).to_string(),
                statement: c.statement(lang).to_string(),
            })
            .collect(),
        organizations,
        totals,
    })
}
