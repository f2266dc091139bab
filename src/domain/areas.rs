//! An operation's administrative areas: names and P-codes, loaded from a CSV laid out as a
//! common operational dataset (COD-AB) table, one row per admin2 area:
//! `admin1Pcode,admin1Name_en,admin2Pcode,admin2Name_en` (other columns are ignored, the
//! columns may come in any order, a UTF-8 BOM is allowed).
//!
//! Feedback answers `admin1` and `admin2` are chosen from this list by P-code or exact name
//! (the form shows it as selects, admin2 grouped by admin1); an area that is not listed is
//! answered `other`.
//! The feedback row stores the P-code, and aggregates are keyed by P-code only, so no free
//! text ever reaches a breakdown. Without a list, areas typed in are kept in the item's
//! answers (for the people who may read the item) but not in the aggregate columns.

use crate::db::schema::admin_areas;
use crate::db::{write_tx, DbConnection};
use diesel::prelude::*;
use std::collections::BTreeMap;

/// The answer for an area that is not in the list.
pub const OTHER: &str = "other";

/// One area of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub pcode: String,
    pub name: String,
    /// The admin1 P-code of an admin2 area.
    pub parent: Option<String>,
}

/// An operation's areas, by level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Areas {
    pub admin1: Vec<Area>,
    pub admin2: Vec<Area>,
}

impl Areas {
    pub fn is_empty(&self) -> bool {
        self.admin1.is_empty()
    }

    pub fn admin1(&self, pcode: &str) -> Option<&Area> {
        self.admin1.iter().find(|a| a.pcode == pcode)
    }

    /// An admin1 area by P-code or, failing that, by its exact name (any case).
    fn find_admin1(&self, v: &str) -> Option<&Area> {
        self.admin1(v).or_else(|| {
            self.admin1
                .iter()
                .find(|a| a.name.to_lowercase() == v.to_lowercase())
        })
    }

    /// An admin2 area by P-code or, failing that, by its name within `parent` (names repeat
    /// across regions; without a region a name must be unique).
    fn find_admin2(&self, v: &str, parent: Option<&str>) -> Option<&Area> {
        if let Some(a) = self.admin2(v) {
            return Some(a);
        }
        let mut named = self.admin2.iter().filter(|a| {
            a.name.to_lowercase() == v.to_lowercase()
                && parent.is_none_or(|p| a.parent.as_deref() == Some(p))
        });
        match (named.next(), named.next()) {
            (Some(a), None) => Some(a),
            _ => None,
        }
    }

    pub fn admin2(&self, pcode: &str) -> Option<&Area> {
        self.admin2.iter().find(|a| a.pcode == pcode)
    }
}

/// A problem in an areas CSV, with its line (1 = the header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct CsvError {
    pub line: usize,
    pub problem: String,
}

/// Splits one CSV line (RFC 4180 quoting; no line breaks inside fields).
pub fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                was_quoted = false;
            }
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    out.push(cur.trim().to_string());
    Ok(out)
}

const COLUMNS: [&str; 4] = [
    "admin1Pcode",
    "admin1Name_en",
    "admin2Pcode",
    "admin2Name_en",
];

/// Parses an areas CSV. Every problem names its line; nothing is returned unless the whole
/// file is right.
pub fn parse_csv(text: &str) -> Result<Areas, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let err = |line: usize, problem: String| CsvError { line, problem };
    let (_, header) = lines
        .next()
        .ok_or_else(|| err(1, "the file is empty".into()))?;
    let header = fields(header).map_err(|p| err(1, p))?;
    let mut index = [0usize; 4];
    for (k, name) in COLUMNS.iter().enumerate() {
        index[k] = header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                err(
                    1,
                    format!("no {name} column (the header needs {})", COLUMNS.join(",")),
                )
            })?;
    }
    let mut admin1: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut admin2: BTreeMap<String, (Area, usize)> = BTreeMap::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let row = fields(line).map_err(|p| err(n, p))?;
        let get = |k: usize| row.get(index[k]).map(String::as_str).unwrap_or("");
        let (p1, n1, p2, n2) = (get(0), get(1), get(2), get(3));
        for (column, value, max) in [
            (COLUMNS[0], p1, 40),
            (COLUMNS[1], n1, 200),
            (COLUMNS[2], p2, 40),
            (COLUMNS[3], n2, 200),
        ] {
            crate::kernel::text::check_name(value, max)
                .map_err(|e| err(n, format!("{column} {e}")))?;
        }
        for (column, code) in [(COLUMNS[0], p1), (COLUMNS[2], p2)] {
            if code.eq_ignore_ascii_case(OTHER) {
                return Err(err(n, format!("{column} {OTHER:?} is reserved")));
            }
        }
        match admin1.get(p1) {
            Some((name, first)) if name != n1 => {
                return Err(err(
                    n,
                    format!("{p1} is named {n1:?} here but {name:?} on line {first}"),
                ))
            }
            Some(_) => {}
            None => {
                admin1.insert(p1.to_string(), (n1.to_string(), n));
            }
        }
        if let Some((_, first)) = admin2.get(p2) {
            return Err(err(
                n,
                format!("{p2} is listed twice (first on line {first})"),
            ));
        }
        if admin1.contains_key(p2) {
            return Err(err(
                n,
                format!("{p2} is both an admin1 and an admin2 P-code"),
            ));
        }
        admin2.insert(
            p2.to_string(),
            (
                Area {
                    pcode: p2.to_string(),
                    name: n2.to_string(),
                    parent: Some(p1.to_string()),
                },
                n,
            ),
        );
    }
    if admin1.is_empty() {
        return Err(err(1, "the file lists no areas".into()));
    }
    Ok(Areas {
        admin1: admin1
            .into_iter()
            .map(|(pcode, (name, _))| Area {
                pcode,
                name,
                parent: None,
            })
            .collect(),
        admin2: admin2.into_values().map(|(a, _)| a).collect(),
    })
}

/// Replaces the operation's areas with `areas`, in one transaction.
pub fn replace(conn: &mut DbConnection, operation_id: i32, areas: &Areas) -> QueryResult<usize> {
    write_tx(conn, |conn| {
        diesel::delete(admin_areas::table.filter(admin_areas::operation_id.eq(operation_id)))
            .execute(conn)?;
        let mut n = 0;
        for (level, list) in [(1, &areas.admin1), (2, &areas.admin2)] {
            for a in list.iter() {
                n += diesel::insert_into(admin_areas::table)
                    .values((
                        admin_areas::operation_id.eq(operation_id),
                        admin_areas::level.eq(level),
                        admin_areas::pcode.eq(&a.pcode),
                        admin_areas::name.eq(&a.name),
                        admin_areas::parent_pcode.eq(&a.parent),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(n)
    })
}

/// The operation's areas (empty when none were loaded).
pub fn load(conn: &mut DbConnection, operation_id: i32) -> QueryResult<Areas> {
    let rows: Vec<(i32, String, String, Option<String>)> = admin_areas::table
        .filter(admin_areas::operation_id.eq(operation_id))
        .order((admin_areas::level, admin_areas::name, admin_areas::pcode))
        .select((
            admin_areas::level,
            admin_areas::pcode,
            admin_areas::name,
            admin_areas::parent_pcode,
        ))
        .load(conn)?;
    let mut areas = Areas::default();
    for (level, pcode, name, parent) in rows {
        let a = Area {
            pcode,
            name,
            parent,
        };
        if level == 1 {
            areas.admin1.push(a);
        } else {
            areas.admin2.push(a);
        }
    }
    Ok(areas)
}

/// Checks the `admin1` / `admin2` answers against `areas` and returns the P-codes to store
/// in the aggregate columns (`None` for `other`, or when the operation has no list).
/// Problems are keyed by the bare question name.
pub fn resolve(
    areas: &Areas,
    admin1: Option<&str>,
    admin2: Option<&str>,
) -> Result<(Option<String>, Option<String>), crate::kernel::error::Fields> {
    let mut fields = crate::kernel::error::Fields::new();
    if areas.is_empty() {
        return Ok((None, None));
    }
    let a1 = match admin1 {
        None => None,
        Some(v) if v == OTHER => None,
        Some(v) => match areas.find_admin1(v) {
            Some(a) => Some(a.pcode.clone()),
            None => {
                fields.insert(
                    "admin1".into(),
                    format!(
                        "choose a region from the list (a P-code such as {}) or {OTHER}",
                        areas.admin1[0].pcode
                    ),
                );
                None
            }
        },
    };
    let a2 = match admin2 {
        None => None,
        Some(v) if v == OTHER => None,
        Some(v) => match areas.find_admin2(v, a1.as_deref()) {
            Some(a) if a1.is_some() && a.parent != a1 => {
                fields.insert(
                    "admin2".into(),
                    "this district is not in the region chosen".into(),
                );
                None
            }
            Some(a) => Some(a.pcode.clone()),
            None => {
                fields.insert(
                    "admin2".into(),
                    format!("choose a district from the list or {OTHER}"),
                );
                None
            }
        },
    };
    // A district implies its region.
    let a1 = a1.or_else(|| {
        a2.as_deref()
            .and_then(|p| areas.admin2(p))
            .and_then(|a| a.parent.clone())
    });
    if fields.is_empty() {
        Ok((a1, a2))
    } else {
        Err(fields)
    }
}

/// How many areas an operation lists, by level.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AreasSummary {
    pub operation: String,
    pub admin1: usize,
    pub admin2: usize,
}

/// The counts of a list.
pub fn summary(slug: &str, areas: &Areas) -> AreasSummary {
    AreasSummary {
        operation: slug.to_string(),
        admin1: areas.admin1.len(),
        admin2: areas.admin2.len(),
    }
}

/// Replaces an operation's list with an uploaded CSV (admins), as the CLI does: nothing is
/// stored unless the whole file is right, and a refusal is a 400 on `file` naming the file
/// and line. Feedback already received keeps the P-codes it was stored with.
pub fn upload(
    conn: &mut DbConnection,
    actor: &crate::kernel::access::Actor,
    slug: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<AreasSummary, crate::kernel::error::AppError> {
    use crate::kernel::error::AppError;
    actor.require_admin()?;
    let file_name = &crate::kernel::text::file_base_name(file_name, "areas.csv");
    let text = std::str::from_utf8(bytes)
        .map_err(|_| AppError::field("file", format!("{file_name}: not a UTF-8 CSV file")))?;
    let areas = parse_csv(text).map_err(|e| AppError::field("file", format!("{file_name}:{e}")))?;
    if areas.is_empty() {
        return Err(AppError::field(
            "file",
            format!("{file_name}: the file lists no areas (only a header)"),
        ));
    }
    write_tx(conn, |conn| {
        let op = crate::db::models::operation_by_slug(conn, slug)?
            .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
        replace(conn, op.id, &areas)?;
        let done = summary(slug, &areas);
        crate::db::models::audit(
            conn,
            Some(actor.id),
            "operation.areas",
            &format!("operation:{slug}"),
            serde_json::json!({"admin1": done.admin1, "admin2": done.admin2, "file": file_name}),
        )?;
        Ok(done)
    })
}

/// How many areas each operation lists: operation id → (admin1, admin2).
pub fn counts(conn: &mut DbConnection) -> QueryResult<BTreeMap<i32, (i64, i64)>> {
    let rows: Vec<(i32, i32, i64)> = admin_areas::table
        .group_by((admin_areas::operation_id, admin_areas::level))
        .select((
            admin_areas::operation_id,
            admin_areas::level,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut out: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    for (op, level, n) in rows {
        let e = out.entry(op).or_default();
        if level == 1 {
            e.0 = n;
        } else {
            e.1 = n;
        }
    }
    Ok(out)
}

/// The operation's list, for anyone who may read the operation.
pub fn of_operation(
    conn: &mut DbConnection,
    actor: &crate::kernel::access::Actor,
    slug: &str,
) -> Result<Areas, crate::kernel::error::AppError> {
    use crate::kernel::error::AppError;
    let op = crate::db::models::operation_by_slug(conn, slug)?
        .ok_or_else(|| AppError::not_found(format!("no operation with slug {slug:?}")))?;
    if !actor.can_read_operation(&op) {
        return Err(AppError::forbidden());
    }
    Ok(load(conn, op.id)?)
}

/// Reads and loads an areas CSV file for an operation (the CLI): problems name the file and
/// line.
pub fn import_file(
    conn: &mut DbConnection,
    slug: &str,
    path: &std::path::Path,
) -> anyhow::Result<Areas> {
    let op = crate::db::models::operation_by_slug(conn, slug)?
        .ok_or_else(|| anyhow::anyhow!("no operation with slug {slug:?}"))?;
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let areas = parse_csv(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
    replace(conn, op.id, &areas)?;
    Ok(areas)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "\u{feff}admin0Pcode,admin1Name_en,admin1Pcode,admin2Name_en,admin2Pcode\n\
        YE,Aden,YE24,Al Buraiqeh,YE2401\n\
        YE,Aden,YE24,\"Dar Sad, North\",YE2402\n\
        YE,Taiz,YE15,Al Mudhaffar,YE1501\n";

    #[test]
    fn parses_a_cod_table_in_any_column_order() {
        let a = parse_csv(CSV).unwrap();
        assert_eq!(
            a.admin1
                .iter()
                .map(|a| a.pcode.as_str())
                .collect::<Vec<_>>(),
            ["YE15", "YE24"]
        );
        assert_eq!(a.admin2("YE2402").unwrap().name, "Dar Sad, North");
        assert_eq!(a.admin2("YE2402").unwrap().parent.as_deref(), Some("YE24"));
    }

    #[test]
    fn problems_name_the_line() {
        let e = parse_csv("admin1Pcode,admin1Name_en,admin2Pcode\nYE24,Aden,YE2401\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.problem.contains("admin2Name_en"), "{e}");
        let bad = format!("{CSV}YE,Aden2,YE24,X,YE2409\n");
        let e = parse_csv(&bad).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.problem.contains("line 2"), "{e}");
        let e = parse_csv(&format!("{CSV}YE,Taiz,YE15,Dup,YE1501\n")).unwrap_err();
        assert_eq!((e.line, e.problem.contains("twice")), (5, true));
        let e = parse_csv(&format!("{CSV}YE,Taiz,YE15,,YE1502\n")).unwrap_err();
        assert!(e.problem.contains("admin2Name_en must not be empty"), "{e}");
        let e = parse_csv(&format!("{CSV}YE,Taiz,YE15,\"open\n")).unwrap_err();
        assert!(e.problem.contains("quoted"), "{e}");
    }

    #[test]
    fn answers_resolve_to_listed_pcodes_only() {
        let a = parse_csv(CSV).unwrap();
        assert_eq!(
            resolve(&a, Some("YE24"), Some("YE2401")).unwrap(),
            (Some("YE24".into()), Some("YE2401".into()))
        );
        assert_eq!(
            resolve(&a, None, Some("YE1501")).unwrap(),
            (Some("YE15".into()), Some("YE1501".into()))
        );
        assert_eq!(resolve(&a, Some(OTHER), Some(OTHER)).unwrap(), (None, None));
        // Staff may type the names.
        assert_eq!(
            resolve(&a, Some("aden"), Some("Al Buraiqeh")).unwrap(),
            (Some("YE24".into()), Some("YE2401".into()))
        );
        let e = resolve(&a, Some("Kassala - Amina B., tent 14"), None).unwrap_err();
        assert!(e.contains_key("admin1"));
        let e = resolve(&a, Some("YE24"), Some("YE1501")).unwrap_err();
        assert!(e["admin2"].contains("not in the region"));
        // Without a list nothing reaches the aggregate columns.
        assert_eq!(
            resolve(&Areas::default(), Some("free text"), Some("more")).unwrap(),
            (None, None)
        );
    }
}
