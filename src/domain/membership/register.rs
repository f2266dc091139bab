//! The membership register of an operation: list, add, change and end entries, each change
//! appended to the entry's history (`membership_events`, never rewritten) and to the audit
//! trail; the whole register imported from a CSV file, all rows or none.

use super::{entry_of, operation_for, parse_day, today, Access};
use crate::db::models::{self, Membership, MembershipEvent, Operation, Organization};
use crate::db::schema::{membership_events, memberships, onboarding_ticks, organizations, users};
use crate::db::{write_tx, DbConnection};
use crate::kernel::access::Actor;
use crate::kernel::error::{AppError, Fields};
use crate::kernel::time::{now, rfc3339};
use crate::kernel::vocab::{MembershipLevel, MembershipStatus, OrgType};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The columns of an import file, in the order of the sample header.
pub const CSV_COLUMNS: [&str; 6] = [
    "organization",
    "org_type",
    "status",
    "level",
    "since",
    "focal_point_email",
];

/// An organization as the register names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: i32,
    pub name: String,
    pub org_type: String,
}

/// A register entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub id: i32,
    /// The operation's slug.
    pub operation: String,
    pub organization: OrgRef,
    pub status: MembershipStatus,
    pub level: MembershipLevel,
    /// YYYY-MM-DD: since when the organization has this status.
    pub since: String,
    pub focal_point_email: Option<String>,
    /// Onboarding items ticked, of [`super::commitments::ONBOARDING`].
    pub onboarding_done: i64,
    pub onboarding_total: i64,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// The register of an operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Register {
    pub operation: String,
    pub members: Vec<MemberView>,
}

/// One change, as the entry stood after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipChange {
    /// added, updated, ended or imported.
    pub action: String,
    pub status: MembershipStatus,
    pub level: MembershipLevel,
    pub since: String,
    pub focal_point_email: Option<String>,
    /// The staff member's email; absent for the system.
    pub by: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A register entry with its history and onboarding checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDetail {
    #[serde(flatten)]
    pub member: MemberView,
    /// Oldest first.
    pub history: Vec<MembershipChange>,
    pub onboarding: Vec<super::onboarding::ChecklistItem>,
}

/// An organization to add to the register (named as in the directory; a new name creates
/// the organization, which then needs `org_type`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    #[schema(min_length = 1, max_length = 200)]
    pub organization: String,
    /// Needed when the organization is new: un, ingo, nngo, government, rcrc, donor,
    /// academic, other.
    #[serde(default)]
    pub org_type: Option<String>,
    /// member or observer.
    pub status: String,
    /// national (default) or subnational.
    #[serde(default)]
    pub level: Option<String>,
    /// YYYY-MM-DD, not after today (default: today).
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub focal_point_email: Option<String>,
}

/// Fields of a register entry to change (those given only; an empty focal point email
/// clears it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    /// member or observer (end a membership with `…/end`).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub focal_point_email: Option<String>,
}

/// When a membership ends.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndBody {
    /// YYYY-MM-DD, not after today (default: today).
    #[serde(default)]
    pub on: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    pub operation: String,
    /// Rows that added an organization to the register.
    pub added: usize,
    /// Rows that changed an entry.
    pub updated: usize,
    /// Rows equal to the entry already there.
    pub unchanged: usize,
}

/// Checked values of an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    pub status: MembershipStatus,
    pub level: MembershipLevel,
    pub since: NaiveDate,
    pub focal_point_email: Option<String>,
}

/// Adds an entry with `values` (the demo world; no checks, recorded as `added` by the
/// system).
pub fn insert_values(
    conn: &mut DbConnection,
    op: &Operation,
    org: &Organization,
    values: &Values,
    actor: Option<i32>,
) -> Result<Membership, AppError> {
    insert(conn, op, org, values, "added", actor)
}

impl Values {
    fn of(m: &Membership) -> Values {
        Values {
            status: m.status,
            level: m.level,
            since: m.since,
            focal_point_email: m.focal_point_email.clone(),
        }
    }
}

fn check_since(fields: &mut Fields, name: &str, s: Option<&str>) -> Option<NaiveDate> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(today()),
        Some(s) => match parse_day(name, s) {
            Ok(d) if d > today() => {
                fields.insert(name.into(), "must not be after today".into());
                None
            }
            Ok(d) if d < NaiveDate::from_ymd_opt(1945, 1, 1).expect("a real day") => {
                fields.insert(name.into(), "must be 1945 or later".into());
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                fields.insert(name.into(), "use a date YYYY-MM-DD".into());
                None
            }
        },
    }
}

fn check_email(fields: &mut Fields, name: &str, s: Option<&str>) -> Option<String> {
    let s = s.map(str::trim).filter(|s| !s.is_empty())?;
    match models::check_email(s) {
        Ok(()) => Some(models::normalize_email(s)),
        Err(e) => {
            fields.insert(name.into(), e);
            None
        }
    }
}

/// member or observer: `former` comes only from ending a membership.
fn check_status(fields: &mut Fields, name: &str, s: &str) -> Option<MembershipStatus> {
    match MembershipStatus::parse(s.trim()) {
        Ok(MembershipStatus::Former) => {
            fields.insert(
                name.into(),
                "use member or observer (end a membership to make it former)".into(),
            );
            None
        }
        Ok(v) => Some(v),
        Err(_) => {
            fields.insert(name.into(), "use member or observer".into());
            None
        }
    }
}

fn check_level(fields: &mut Fields, name: &str, s: Option<&str>) -> Option<MembershipLevel> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(MembershipLevel::National),
        Some(s) => match MembershipLevel::parse(s) {
            Ok(v) => Some(v),
            Err(e) => {
                fields.insert(name.into(), e);
                None
            }
        },
    }
}

/// A checked new entry: the organization's name and type (when given) and its values.
struct NewEntry {
    organization: String,
    org_type: Option<OrgType>,
    values: Values,
}

/// Checks a new entry; field names are `prefix` + the JSON field names.
fn check_new(b: &MemberBody, prefix: &str, fields: &mut Fields) -> Option<NewEntry> {
    let at = |f: &str| format!("{prefix}{f}");
    let before = fields.len();
    let organization = b.organization.trim().to_string();
    if let Err(e) = crate::kernel::text::check_name(&organization, 200) {
        fields.insert(at("organization"), format!("the organization's name {e}"));
    }
    let org_type = match b
        .org_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(t) => match OrgType::parse(t) {
            Ok(t) => Some(t),
            Err(e) => {
                fields.insert(at("org_type"), e);
                None
            }
        },
    };
    let status = check_status(fields, &at("status"), &b.status);
    let level = check_level(fields, &at("level"), b.level.as_deref());
    let since = check_since(fields, &at("since"), b.since.as_deref());
    let email = check_email(
        fields,
        &at("focal_point_email"),
        b.focal_point_email.as_deref(),
    );
    if fields.len() > before {
        return None;
    }
    Some(NewEntry {
        organization,
        org_type,
        values: Values {
            status: status?,
            level: level?,
            since: since?,
            focal_point_email: email,
        },
    })
}

/// The organization an entry names: the directory's (not archived), or a new one of
/// `org_type`. Problems are keyed `prefix` + field.
fn organization(
    conn: &mut DbConnection,
    e: &NewEntry,
    prefix: &str,
) -> Result<Organization, AppError> {
    match models::organization_by_name(conn, &e.organization)? {
        Some(o) if o.archived_at.is_some() => Err(AppError::field(
            &format!("{prefix}organization"),
            format!("{:?} is archived in the directory", o.name),
        )),
        Some(o) => Ok(o),
        None => match e.org_type {
            Some(t) => models::insert_organization(conn, &e.organization, t.as_str())
                .map_err(super::conflict_on_race),
            None => Err(AppError::field(
                &format!("{prefix}org_type"),
                format!(
                    "{:?} is not in the directory yet: give its type ({})",
                    e.organization,
                    OrgType::texts().join(", ")
                ),
            )),
        },
    }
}

fn record(
    conn: &mut DbConnection,
    m: &Membership,
    action: &str,
    actor: Option<i32>,
) -> QueryResult<()> {
    diesel::insert_into(membership_events::table)
        .values((
            membership_events::membership_id.eq(m.id),
            membership_events::action.eq(action),
            membership_events::status.eq(m.status.as_str()),
            membership_events::level.eq(m.level.as_str()),
            membership_events::since.eq(m.since),
            membership_events::focal_point_email.eq(&m.focal_point_email),
            membership_events::actor_user_id.eq(actor),
            membership_events::created_at.eq(now()),
        ))
        .execute(conn)?;
    // The audit trail names the entry and what changed, never the focal point's address.
    models::audit(
        conn,
        actor,
        &format!("membership.{action}"),
        &format!("membership:{}", m.id),
        json!({"operation_id": m.operation_id, "organization_id": m.organization_id,
               "status": m.status, "level": m.level, "since": m.since.to_string()}),
    )
}

fn load(conn: &mut DbConnection, id: i32) -> QueryResult<Membership> {
    memberships::table
        .find(id)
        .select(Membership::as_select())
        .first(conn)
}

fn insert(
    conn: &mut DbConnection,
    op: &Operation,
    org: &Organization,
    v: &Values,
    action: &str,
    actor: Option<i32>,
) -> Result<Membership, AppError> {
    let at = now();
    let id: i32 = diesel::insert_into(memberships::table)
        .values((
            memberships::operation_id.eq(op.id),
            memberships::organization_id.eq(org.id),
            memberships::status.eq(v.status.as_str()),
            memberships::level.eq(v.level.as_str()),
            memberships::since.eq(v.since),
            memberships::focal_point_email.eq(&v.focal_point_email),
            memberships::created_at.eq(at),
            memberships::updated_at.eq(at),
        ))
        .returning(memberships::id)
        .get_result(conn)
        .map_err(super::conflict_on_race)?;
    let m = load(conn, id)?;
    record(conn, &m, action, actor)?;
    Ok(m)
}

fn set(
    conn: &mut DbConnection,
    id: i32,
    v: &Values,
    action: &str,
    actor: Option<i32>,
) -> Result<Membership, AppError> {
    diesel::update(memberships::table.find(id))
        .set((
            memberships::status.eq(v.status.as_str()),
            memberships::level.eq(v.level.as_str()),
            memberships::since.eq(v.since),
            memberships::focal_point_email.eq(&v.focal_point_email),
            memberships::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let m = load(conn, id)?;
    record(conn, &m, action, actor)?;
    Ok(m)
}

fn existing(
    conn: &mut DbConnection,
    op: &Operation,
    org: &Organization,
) -> QueryResult<Option<Membership>> {
    memberships::table
        .filter(memberships::operation_id.eq(op.id))
        .filter(memberships::organization_id.eq(org.id))
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

fn ticks_of(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<(i32, i64)>> {
    onboarding_ticks::table
        .filter(onboarding_ticks::membership_id.eq_any(ids))
        .group_by(onboarding_ticks::membership_id)
        .select((onboarding_ticks::membership_id, diesel::dsl::count_star()))
        .load(conn)
}

fn views(
    conn: &mut DbConnection,
    op: &Operation,
    rows: Vec<(Membership, Organization)>,
) -> QueryResult<Vec<MemberView>> {
    let ids: Vec<i32> = rows.iter().map(|(m, _)| m.id).collect();
    let ticks: std::collections::HashMap<i32, i64> = ticks_of(conn, &ids)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|(m, o)| MemberView {
            id: m.id,
            operation: op.slug.clone(),
            organization: OrgRef {
                id: o.id,
                name: o.name,
                org_type: o.org_type,
            },
            status: m.status,
            level: m.level,
            since: m.since.to_string(),
            focal_point_email: m.focal_point_email,
            onboarding_done: ticks.get(&m.id).copied().unwrap_or(0),
            onboarding_total: super::commitments::ONBOARDING.len() as i64,
            updated_at: rfc3339(m.updated_at),
        })
        .collect())
}

fn view_one(
    conn: &mut DbConnection,
    op: &Operation,
    m: Membership,
    o: Organization,
) -> QueryResult<MemberView> {
    Ok(views(conn, op, vec![(m, o)])?.remove(0))
}

/// Every entry of `op`'s register (members, observers, then former), by organization name.
pub fn entries(
    conn: &mut DbConnection,
    op: &Operation,
) -> QueryResult<Vec<(Membership, Organization)>> {
    let mut rows: Vec<(Membership, Organization)> = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::operation_id.eq(op.id))
        .select((Membership::as_select(), Organization::as_select()))
        .load(conn)?;
    rows.sort_by(|(a, oa), (b, ob)| {
        (a.status, oa.name_key.as_str()).cmp(&(b.status, ob.name_key.as_str()))
    });
    Ok(rows)
}

/// The register of `slug`, for those who may read it.
pub fn list(conn: &mut DbConnection, actor: &Actor, slug: &str) -> Result<Register, AppError> {
    let op = operation_for(conn, actor, slug, Access::Read)?;
    let rows = entries(conn, &op)?;
    Ok(Register {
        operation: op.slug.clone(),
        members: views(conn, &op, rows)?,
    })
}

/// One entry with its history and checklist.
pub fn get(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
) -> Result<MemberDetail, AppError> {
    let op = operation_for(conn, actor, slug, Access::Read)?;
    let (m, o) = entry_of(conn, &op, id)?;
    let events: Vec<(MembershipEvent, Option<String>)> = membership_events::table
        .left_join(users::table)
        .filter(membership_events::membership_id.eq(m.id))
        .order(membership_events::id)
        .select((MembershipEvent::as_select(), users::email.nullable()))
        .load(conn)?;
    let history = events
        .into_iter()
        .map(|(e, by)| MembershipChange {
            action: e.action,
            status: e.status,
            level: e.level,
            since: e.since.to_string(),
            focal_point_email: e.focal_point_email,
            by,
            at: rfc3339(e.created_at),
        })
        .collect();
    let onboarding = super::onboarding::items(conn, m.id, "en")?;
    Ok(MemberDetail {
        member: view_one(conn, &op, m, o)?,
        history,
        onboarding,
    })
}

/// Adds an organization to the register (409 when it is there already: change that entry).
pub fn add(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    b: MemberBody,
) -> Result<MemberView, AppError> {
    let mut fields = Fields::new();
    let entry = check_new(&b, "", &mut fields);
    crate::kernel::error::fields_result(fields)?;
    let entry = entry.ok_or_else(|| AppError::bad_request("the entry is not valid"))?;
    write_tx(conn, |conn| {
        let op = operation_for(conn, actor, slug, Access::Manage)?;
        let org = organization(conn, &entry, "")?;
        if let Some(m) = existing(conn, &op, &org)? {
            return Err(AppError::Conflict(format!(
                "{} is already in the register (entry {}, {}): change that entry instead",
                org.name, m.id, m.status
            )));
        }
        let m = insert(conn, &op, &org, &entry.values, "added", Some(actor.id))?;
        Ok(view_one(conn, &op, m, org)?)
    })
}

/// Changes the fields given of an entry.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
    p: MemberPatch,
) -> Result<MemberView, AppError> {
    let mut fields = Fields::new();
    let status = p
        .status
        .as_deref()
        .map(|s| check_status(&mut fields, "status", s));
    let level = p
        .level
        .as_deref()
        .map(|s| check_level(&mut fields, "level", Some(s)));
    let since = p
        .since
        .as_deref()
        .map(|s| check_since(&mut fields, "since", Some(s)));
    let email = p
        .focal_point_email
        .as_deref()
        .map(|s| check_email(&mut fields, "focal_point_email", Some(s)));
    crate::kernel::error::fields_result(fields)?;
    write_tx(conn, |conn| {
        let op = operation_for(conn, actor, slug, Access::Manage)?;
        let (m, o) = entry_of(conn, &op, id)?;
        let mut v = Values::of(&m);
        if let Some(Some(s)) = status {
            v.status = s;
        }
        if let Some(Some(l)) = level {
            v.level = l;
        }
        if let Some(Some(d)) = since {
            v.since = d;
        }
        if let Some(e) = email {
            v.focal_point_email = e;
        }
        if v == Values::of(&m) {
            return Ok(view_one(conn, &op, m, o)?);
        }
        let m = set(conn, m.id, &v, "updated", Some(actor.id))?;
        Ok(view_one(conn, &op, m, o)?)
    })
}

/// Ends a membership: the entry becomes `former` from `on` (its history stays).
pub fn end(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    id: i32,
    b: EndBody,
) -> Result<MemberView, AppError> {
    let mut fields = Fields::new();
    let on = check_since(&mut fields, "on", b.on.as_deref());
    crate::kernel::error::fields_result(fields)?;
    let on = on.unwrap_or_else(today);
    write_tx(conn, |conn| {
        let op = operation_for(conn, actor, slug, Access::Manage)?;
        let (m, o) = entry_of(conn, &op, id)?;
        if m.status == MembershipStatus::Former {
            return Err(AppError::Conflict(format!(
                "{}'s membership ended already (since {})",
                o.name, m.since
            )));
        }
        if on < m.since {
            return Err(AppError::field(
                "on",
                format!("must not be before the entry's date ({})", m.since),
            ));
        }
        let mut v = Values::of(&m);
        v.status = MembershipStatus::Former;
        v.since = on;
        let m = set(conn, m.id, &v, "ended", Some(actor.id))?;
        Ok(view_one(conn, &op, m, o)?)
    })
}

/// Parses an import file into entries; every problem names its line (1 = the header).
fn parse_csv(text: &str) -> Result<Vec<(usize, MemberBody)>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let Some((_, header)) = lines.next() else {
        return Err(vec!["line 1: the file is empty".into()]);
    };
    let header = crate::domain::areas::fields(header).map_err(|p| vec![format!("line 1: {p}")])?;
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let mut index = [None; 6];
    for (k, name) in CSV_COLUMNS.iter().enumerate() {
        index[k] = col(name);
    }
    if index[0].is_none() || index[2].is_none() {
        return Err(vec![format!(
            "line 1: the header needs organization and status columns ({})",
            CSV_COLUMNS.join(",")
        )]);
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let row = match crate::domain::areas::fields(line) {
            Ok(r) => r,
            Err(p) => {
                problems.push(format!("line {n}: {p}"));
                continue;
            }
        };
        let get = |k: usize| {
            index[k]
                .and_then(|i| row.get(i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        out.push((
            n,
            MemberBody {
                organization: get(0).unwrap_or_default(),
                org_type: get(1),
                status: get(2).unwrap_or_default(),
                level: get(3),
                since: get(4),
                focal_point_email: get(5),
            },
        ));
    }
    if out.is_empty() && problems.is_empty() {
        problems.push("the file lists no organizations (only a header)".into());
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The most problems an import refusal lists.
const MAX_PROBLEMS: usize = 20;

fn refuse(file_name: &str, problems: Vec<String>) -> AppError {
    let more = problems.len().saturating_sub(MAX_PROBLEMS);
    let mut text: Vec<String> = problems.into_iter().take(MAX_PROBLEMS).collect();
    if more > 0 {
        text.push(format!("and {more} more"));
    }
    AppError::field("file", format!("{file_name}: {}", text.join("; ")))
}

/// Imports a register CSV (columns [`CSV_COLUMNS`]; `organization` and `status` needed):
/// each row adds its organization or changes its entry. Every row is checked first and
/// the file is refused as a whole, naming each bad line; nothing is written unless every
/// row is right.
pub fn import(
    conn: &mut DbConnection,
    actor: &Actor,
    slug: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportSummary, AppError> {
    let file_name = &crate::kernel::text::file_base_name(file_name, "members.csv");
    operation_for(conn, actor, slug, Access::Manage)?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| AppError::field("file", format!("{file_name}: not a UTF-8 CSV file")))?;
    let rows = parse_csv(text).map_err(|p| refuse(file_name, p))?;
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for (n, body) in &rows {
        let mut fields = Fields::new();
        let entry = check_new(body, "", &mut fields);
        for (f, p) in &fields {
            problems.push(format!("line {n}: {f}: {p}"));
        }
        if let Some(first) = seen.insert(models::org_name_key(&body.organization), *n) {
            if fields.is_empty() {
                problems.push(format!(
                    "line {n}: organization: listed twice (first on line {first})"
                ));
            }
        }
        if let Some(e) = entry {
            checked.push((*n, e));
        }
    }
    if !problems.is_empty() {
        return Err(refuse(file_name, problems));
    }
    write_tx(conn, |conn| {
        let op = operation_for(conn, actor, slug, Access::Manage)?;
        let mut done = ImportSummary {
            operation: op.slug.clone(),
            added: 0,
            updated: 0,
            unchanged: 0,
        };
        let mut problems = Vec::new();
        for (n, e) in &checked {
            let org = match organization(conn, e, "") {
                Ok(o) => o,
                Err(err) => {
                    for (f, p) in err.fields() {
                        problems.push(format!("line {n}: {f}: {p}"));
                    }
                    continue;
                }
            };
            match existing(conn, &op, &org)? {
                None => {
                    insert(conn, &op, &org, &e.values, "imported", Some(actor.id))?;
                    done.added += 1;
                }
                Some(m) if Values::of(&m) == e.values => done.unchanged += 1,
                Some(m) => {
                    set(conn, m.id, &e.values, "imported", Some(actor.id))?;
                    done.updated += 1;
                }
            }
        }
        if !problems.is_empty() {
            // The transaction is rolled back: organizations created for earlier rows too.
            return Err(refuse(file_name, problems));
        }
        models::audit(
            conn,
            Some(actor.id),
            "membership.import",
            &format!("operation:{}", op.slug),
            json!({"file": file_name, "added": done.added, "updated": done.updated,
                   "unchanged": done.unchanged}),
        )?;
        Ok(done)
    })
}

/// The standing an invitation of `organization_id` in `operation_id` takes: member or
/// observer while the register says so, else none.
pub fn standing(
    conn: &mut DbConnection,
    operation_id: i32,
    organization_id: i32,
) -> QueryResult<Option<MembershipStatus>> {
    let status: Option<String> = memberships::table
        .filter(memberships::operation_id.eq(operation_id))
        .filter(memberships::organization_id.eq(organization_id))
        .select(memberships::status)
        .first(conn)
        .optional()?;
    Ok(status
        .and_then(|s| MembershipStatus::parse(&s).ok())
        .filter(|s| *s != MembershipStatus::Former))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_file_names_each_bad_line() {
        let ok = parse_csv(
            "\u{feff}organization,org_type,status,level,since,focal_point_email\n\
             Relief Org,ingo,member,national,2025-01-10,fp@relief.example.org\n\n\
             \"Aid, Inc\",,observer,,,\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].0, 4);
        assert_eq!(ok[1].1.organization, "Aid, Inc");
        assert_eq!(ok[1].1.org_type, None);
        let e = parse_csv("name,kind\nA,b\n").unwrap_err();
        assert!(e[0].starts_with("line 1:"), "{e:?}");
        let e = parse_csv("organization,status\n\"open,member\n").unwrap_err();
        assert!(e[0].starts_with("line 2:"), "{e:?}");
    }
}

/// Invitations drawn from the register: every active member (and, when chosen, every
/// observer) with a focal point email, for one survey of the round.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDraw {
    /// The survey each of them is invited to (one of the round's).
    pub survey: String,
    /// Invite observers too (default: members only).
    #[serde(default)]
    pub observers: bool,
    /// The language of their emails and form (default: the survey's first).
    #[serde(default)]
    pub language: Option<String>,
}

/// The invitations `draw` adds to `round` of `op`: one per active entry with a focal point
/// email, leaving out those already invited to the survey in the round and those in
/// `listed` (email, survey). Errors name `members.*`.
pub fn draw_invitations(
    conn: &mut DbConnection,
    round: &crate::db::models::Round,
    op: &Operation,
    draw: &RegisterDraw,
    listed: &[(String, String)],
) -> Result<Vec<crate::domain::rounds::InvitationInput>, AppError> {
    use crate::db::schema::invitations;
    if !round.survey_ids().contains(&draw.survey) {
        return Err(AppError::field(
            "members.survey",
            format!("this round uses {}", round.survey_ids().join(", ")),
        ));
    }
    let invited: Vec<String> = invitations::table
        .filter(invitations::round_id.eq(round.id))
        .filter(invitations::survey_id.eq(&draw.survey))
        .select(invitations::email)
        .load(conn)?;
    let wanted = |s: MembershipStatus| {
        s == MembershipStatus::Member || (draw.observers && s == MembershipStatus::Observer)
    };
    let out: Vec<_> = entries(conn, op)?
        .into_iter()
        .filter(|(m, o)| wanted(m.status) && o.archived_at.is_none())
        .filter_map(|(m, o)| Some((m.focal_point_email?, o)))
        .filter(|(email, _)| {
            !invited.contains(email)
                && !listed
                    .iter()
                    .any(|(e, s)| models::normalize_email(e) == *email && *s == draw.survey)
        })
        .map(|(email, o)| crate::domain::rounds::InvitationInput {
            email,
            organization: o.name,
            org_type: o.org_type,
            survey: draw.survey.clone(),
            language: draw.language.clone(),
        })
        .collect();
    Ok(out)
}

/// Current members and observers of each of `operation_ids` (former members not counted),
/// for overviews across operations such as the inter-cluster country view.
pub fn counts_by_operation(
    conn: &mut DbConnection,
    operation_ids: &[i32],
) -> QueryResult<std::collections::HashMap<i32, (u64, u64)>> {
    let rows: Vec<(i32, String)> = memberships::table
        .filter(memberships::operation_id.eq_any(operation_ids))
        .select((memberships::operation_id, memberships::status))
        .load(conn)?;
    let mut out: std::collections::HashMap<i32, (u64, u64)> =
        operation_ids.iter().map(|id| (*id, (0, 0))).collect();
    for (op, status) in rows {
        let c = out.entry(op).or_default();
        match MembershipStatus::parse(&status) {
            Ok(MembershipStatus::Member) => c.0 += 1,
            Ok(MembershipStatus::Observer) => c.1 += 1,
            _ => {}
        }
    }
    Ok(out)
}
