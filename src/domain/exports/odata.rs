//! The OData v4 feed of a round (JSON), for Power BI's and Excel's "OData feed" connectors:
//! one service per round with three entity sets, each the table of an export, so the same
//! rules hold (the caller must read the round; published responses only while it is open;
//! small groups generalised; feedback without contact details, sealed items only for the
//! operation's PSEA focal points).
//!
//! | entity set | rows |
//! |---|---|
//! | `Responses` | the responses export (codes) |
//! | `Scores` | overall, function and indicator scores |
//! | `Feedback` | the feedback log of the round's operation |
//!
//! Every entity has the key `row`: its position in the unfiltered set (1-based). The query
//! options supported are a documented subset; anything else is a 400 naming the option:
//! `$top` (at most [`MAX_TOP`]), `$skip`, `$count=true|false`, `$select=a,b`, `$format=json`,
//! and `$filter` on date and time properties only: `prop op literal` joined by `and`, with
//! `op` one of `eq ne gt ge lt le` and the literal a date (`2026-01-31`) or a moment
//! (`2026-01-31T12:00:00Z`). Pages hold at most [`PAGE_SIZE`] entities (fewer with
//! `Prefer: odata.maxpagesize=N`); the next one is at `@odata.nextLink`.

use super::{read_tx, Export, Options};
use crate::db::DbConnection;
use crate::domain::rounds::manage::{round_for, Access};
use crate::kernel::access::Actor;
use crate::kernel::error::AppError;
use crate::render::tables::{Cell, Column, Kind, Row};
use crate::surveys::model::Catalog;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};

/// Entities per page of a response.
pub const PAGE_SIZE: usize = 1000;
/// The largest `$top`.
pub const MAX_TOP: usize = 1_000_000;

/// An entity set of the round's service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    Responses,
    Scores,
    Feedback,
}

impl Set {
    pub const ALL: [Set; 3] = [Set::Responses, Set::Scores, Set::Feedback];

    pub fn name(self) -> &'static str {
        match self {
            Set::Responses => "Responses",
            Set::Scores => "Scores",
            Set::Feedback => "Feedback",
        }
    }

    fn entity_type(self) -> &'static str {
        match self {
            Set::Responses => "Response",
            Set::Scores => "Score",
            Set::Feedback => "FeedbackItem",
        }
    }

    /// 404 for anything else, listing the sets.
    pub fn parse(name: &str) -> Result<Set, AppError> {
        Set::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "no entity set {name:?}; this service has Responses, Scores and Feedback"
                ))
            })
    }

    /// The export behind the set, for a round the actor may read.
    pub fn build(
        self,
        conn: &mut DbConnection,
        catalog: &Catalog,
        actor: &Actor,
        round_id: i32,
        at: NaiveDateTime,
    ) -> Result<Export, AppError> {
        match self {
            Set::Responses => super::responses::build(
                conn,
                catalog,
                actor,
                round_id,
                Options::default(),
                at,
                false,
            ),
            Set::Scores => super::scores::export(conn, catalog, actor, round_id),
            Set::Feedback => {
                let (_, op) = round_for(conn, actor, round_id, Access::Read)?;
                super::feedback::export(conn, actor, &op.slug, Options::default(), at)
            }
        }
    }
}

/// A column name as an OData identifier (`support_types/training` → `support_types_training`).
pub fn property(name: &str) -> String {
    let mut p: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        p.insert(0, '_');
    }
    p
}

fn edm(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "Edm.String",
        Kind::Int => "Edm.Int64",
        Kind::Num => "Edm.Double",
        Kind::Date => "Edm.Date",
        Kind::Time => "Edm.DateTimeOffset",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    property: String,
    op: Op,
    /// The literal as a moment (a bare date: its midnight).
    at: NaiveDateTime,
    date_only: bool,
}

/// The query options of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub top: Option<usize>,
    pub skip: usize,
    pub count: bool,
    pub select: Option<Vec<String>>,
    filter: Vec<Condition>,
    /// The client's `Prefer: odata.maxpagesize=N` (at most [`PAGE_SIZE`] is served).
    pub max_page: Option<usize>,
}

fn bad(option: &str, problem: impl Into<String>) -> AppError {
    AppError::field(option, problem)
}

fn number(option: &str, v: &str, max: usize) -> Result<usize, AppError> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| bad(option, format!("must be a whole number from 0 to {max}")))
}

fn literal(s: &str) -> Option<(NaiveDateTime, bool)> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some((d.and_time(chrono::NaiveTime::MIN), true));
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| (t.naive_utc(), false))
}

fn parse_filter(text: &str) -> Result<Vec<Condition>, AppError> {
    let syntax = || {
        bad(
            "$filter",
            "supported: <date property> eq|ne|gt|ge|lt|le <YYYY-MM-DD or RFC 3339 moment>, \
             joined by and",
        )
    };
    // Parentheses only group here (every clause is joined by `and`): they can go.
    let text = text.replace(['(', ')'], " ");
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    for clause in words.split(|w| *w == "and") {
        let [property, op, value] = clause else {
            return Err(syntax());
        };
        let op = match *op {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return Err(syntax()),
        };
        let (at, date_only) = literal(value).ok_or_else(syntax)?;
        out.push(Condition {
            property: property.to_string(),
            op,
            at,
            date_only,
        });
    }
    if out.is_empty() {
        return Err(syntax());
    }
    Ok(out)
}

impl Query {
    /// Takes `odata.maxpagesize` from a `Prefer` header; returns the size applied.
    pub fn prefer(&mut self, header: &str) -> Option<usize> {
        let n = header
            .split(',')
            .filter_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
            .find_map(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)?
            .min(PAGE_SIZE);
        self.max_page = Some(n);
        Some(n)
    }

    /// The `$` options of a raw query string; other parameters are left alone.
    pub fn parse(raw: &str) -> Result<Query, AppError> {
        let mut q = Query::default();
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            match key.as_ref() {
                "$top" => q.top = Some(number("$top", &value, MAX_TOP)?),
                "$skip" => q.skip = number("$skip", &value, usize::MAX)?,
                "$count" => {
                    q.count = match value.as_ref() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad("$count", "must be true or false")),
                    }
                }
                "$select" => {
                    q.select = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "$filter" => q.filter = parse_filter(&value)?,
                "$format" if value == "json" || value.starts_with("application/json") => {}
                "$format" => return Err(bad("$format", "only json is served")),
                k if k.starts_with('$') => return Err(bad(
                    k,
                    "not supported; use $top, $skip, $count, $select, $filter (dates) or $format",
                )),
                _ => {}
            }
        }
        Ok(q)
    }
}

fn compare(cell: &Cell, c: &Condition) -> bool {
    let value = match cell {
        Cell::Date(d) => d.and_time(chrono::NaiveTime::MIN),
        Cell::Time(t) if c.date_only => t.date().and_time(chrono::NaiveTime::MIN),
        Cell::Time(t) => *t,
        _ => return false,
    };
    match c.op {
        Op::Eq => value == c.at,
        Op::Ne => value != c.at,
        Op::Gt => value > c.at,
        Op::Ge => value >= c.at,
        Op::Lt => value < c.at,
        Op::Le => value <= c.at,
    }
}

/// One page of an entity set.
pub struct Page {
    /// Property names, `row` first.
    pub properties: Vec<String>,
    /// Each entity: its row number and its selected cells.
    pub rows: Vec<(u64, Row)>,
    /// Matching entities over all pages, when `$count=true`.
    pub count: Option<u64>,
    /// `$skip` of the next page, if there is one.
    pub next_skip: Option<usize>,
}

fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Empty => Value::Null,
        Cell::Text(s) => json!(s),
        Cell::Int(n) => json!(n),
        Cell::Num(x) => json!(x),
        Cell::Date(d) => json!(d.format("%Y-%m-%d").to_string()),
        Cell::Time(t) => json!(crate::kernel::time::rfc3339(*t)),
    }
}

impl Page {
    /// The entities as the `value` array of the response.
    pub fn value(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|(n, cells)| {
                    let mut m = Map::new();
                    m.insert("row".into(), json!(n));
                    for (p, c) in self.properties[1..].iter().zip(cells) {
                        m.insert(p.clone(), cell_json(c));
                    }
                    Value::Object(m)
                })
                .collect(),
        )
    }
}

/// Which columns `$select` keeps (all when absent); 400 naming `$select` or `$filter` for
/// properties the set does not have or that are not dates.
fn resolve(columns: &[Column], q: &Query) -> Result<(Vec<usize>, Vec<usize>), AppError> {
    let names: Vec<String> = columns.iter().map(|c| property(&c.name)).collect();
    let find = |p: &str| names.iter().position(|n| n == p);
    let selected = match &q.select {
        None => (0..columns.len()).collect(),
        Some(list) => {
            let mut out = Vec::new();
            for p in list {
                if p == "row" || p == "*" {
                    continue;
                }
                out.push(find(p).ok_or_else(|| {
                    bad("$select", format!("no property {p:?} in this entity set"))
                })?);
            }
            out
        }
    };
    let mut filtered = Vec::new();
    for c in &q.filter {
        let i = find(&c.property)
            .filter(|&i| matches!(columns[i].kind, Kind::Date | Kind::Time))
            .ok_or_else(|| {
                let dates: Vec<&str> = columns
                    .iter()
                    .zip(&names)
                    .filter(|(c, _)| matches!(c.kind, Kind::Date | Kind::Time))
                    .map(|(_, n)| n.as_str())
                    .collect();
                bad(
                    "$filter",
                    format!(
                        "filters apply to date properties only: {}",
                        dates.join(", ")
                    ),
                )
            })?;
        filtered.push(i);
    }
    Ok((selected, filtered))
}

/// One page of the set that `build` makes, for the options `q`, in one read transaction.
pub fn page(
    conn: &mut DbConnection,
    build: impl FnOnce(&mut DbConnection) -> Result<Export, AppError>,
    q: &Query,
) -> Result<Page, AppError> {
    read_tx(conn, |conn| {
        let mut export = build(conn)?;
        let table = &mut export.tables[0];
        let (selected, filtered) = resolve(&table.columns, q)?;
        let limit = q
            .top
            .unwrap_or(usize::MAX)
            .min(q.max_page.unwrap_or(PAGE_SIZE));
        let mut out = Page {
            properties: std::iter::once("row".to_string())
                .chain(selected.iter().map(|&i| property(&table.columns[i].name)))
                .collect(),
            rows: Vec::new(),
            count: None,
            next_skip: None,
        };
        let (mut position, mut matched, mut more) = (0u64, 0usize, false);
        'pages: while let Some(rows) = table.pager.next_page(conn)? {
            for row in rows {
                position += 1;
                let keep = q
                    .filter
                    .iter()
                    .zip(&filtered)
                    .all(|(c, &i)| compare(&row[i], c));
                if !keep {
                    continue;
                }
                matched += 1;
                if matched <= q.skip {
                    continue;
                }
                if out.rows.len() < limit {
                    out.rows
                        .push((position, selected.iter().map(|&i| row[i].clone()).collect()));
                } else {
                    more = true;
                    if !q.count {
                        break 'pages;
                    }
                }
            }
        }
        let served = q.skip + out.rows.len();
        let wanted = q.top.map_or(usize::MAX, |t| q.skip.saturating_add(t));
        if more && served < wanted {
            out.next_skip = Some(served);
        }
        if q.count {
            out.count = Some(matched as u64);
        }
        Ok(out)
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The CSDL document (`$metadata`) of a round's service.
pub fn metadata(
    conn: &mut DbConnection,
    catalog: &Catalog,
    actor: &Actor,
    round_id: i32,
    at: NaiveDateTime,
) -> Result<String, AppError> {
    let mut types = String::new();
    let mut sets = String::new();
    read_tx(conn, |conn| {
        for set in Set::ALL {
            let export = set.build(conn, catalog, actor, round_id, at)?;
            let ty = set.entity_type();
            types.push_str(&format!(
                "<EntityType Name=\"{ty}\"><Key><PropertyRef Name=\"row\"/></Key>\
                 <Property Name=\"row\" Type=\"Edm.Int64\" Nullable=\"false\"/>"
            ));
            for c in &export.tables[0].columns {
                types.push_str(&format!(
                    "<Property Name=\"{}\" Type=\"{}\"/>",
                    xml_escape(&property(&c.name)),
                    edm(c.kind)
                ));
            }
            types.push_str("</EntityType>");
            sets.push_str(&format!(
                "<EntitySet Name=\"{}\" EntityType=\"clusterpulse.{ty}\"/>",
                set.name()
            ));
        }
        Ok(())
    })?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\
         <edmx:DataServices><Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" \
         Namespace=\"clusterpulse\">{types}<EntityContainer Name=\"Round\">{sets}\
         </EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    ))
}

/// The service document: the entity sets, relative to the service root.
pub fn service_document(metadata_url: &str) -> Value {
    json!({
        "@odata.context": metadata_url,
        "value": Set::ALL.iter().map(|s| json!({
            "name": s.name(), "kind": "EntitySet", "url": s.name()
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_outside_the_subset_name_themselves() {
        let q = Query::parse("$top=5&$skip=10&$count=true&$select=a,b&x=1").unwrap();
        assert_eq!((q.top, q.skip, q.count), (Some(5), 10, true), "{q:?}");
        let q =
            Query::parse("$filter=created_at ge 2026-01-01 and created_at lt 2026-02-01T00:00:00Z")
                .unwrap();
        assert_eq!(q.filter.len(), 2);
        for (raw, option) in [
            ("$orderby=x", "$orderby"),
            ("$expand=x", "$expand"),
            ("$top=-1", "$top"),
            ("$top=99999999999", "$top"),
            ("$count=yes", "$count"),
            ("$filter=status eq 'open'", "$filter"),
            ("$filter=created_at ge 2026-01-01 or x eq 1", "$filter"),
            ("$format=xml", "$format"),
        ] {
            let e = Query::parse(raw).unwrap_err();
            assert!(e.fields().contains_key(option), "{raw}: {:?}", e.fields());
        }
    }

    #[test]
    fn dates_compare_by_day_or_moment() {
        let q = Query::parse("$filter=d ge 2026-01-02").unwrap();
        let c = &q.filter[0];
        let t = NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert!(compare(&Cell::Time(t), c));
        assert!(compare(&Cell::Date(t.date()), c));
        assert!(!compare(&Cell::Date(t.date().pred_opt().unwrap()), c));
        assert!(!compare(&Cell::Empty, c));
        assert_eq!(property("support_types/training"), "support_types_training");
    }
}
