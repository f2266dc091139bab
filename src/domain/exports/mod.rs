//! Data out: the tables an information manager downloads (a round's responses, an
//! operation's feedback log, a round's action plan), as CSV or XLSX, with an optional row
//! of HXL hashtags. README, "Exports and feeds", is the column reference.
//!
//! Each export is built in two steps, both inside one read transaction (one consistent
//! snapshot of the database): [`Export`] is checked and described first (access, the
//! options, the columns), so that every refusal is an ordinary error before a byte is
//! sent; then its rows are read page by page ([`Pager`]) and written out as they come, so
//! memory stays flat however many rows there are.
//!
//! The same rules as every other view: the round or operation must be readable by the
//! caller; an open round shows only its published responses (`crate::domain::snapshots`);
//! sealed feedback only for the operation's PSEA focal points; no column names or links
//! to an invitation, an email or an organization.

pub mod actions;
pub mod columns;
pub mod feedback;
pub mod hxl;
pub mod odata;
pub mod responses;
pub mod scores;

use crate::db::DbConnection;
use crate::kernel::error::AppError;
use crate::render::tables::{self, Column, Row, XLSX_MAX_ROWS};
use diesel::connection::SimpleConnection;
use diesel::Connection;

/// Rows read per page.
pub const PAGE_ROWS: i64 = 2_000;

/// A file format of the exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// What an export is asked for, as given in the query string (checked by [`Options::parse`]).
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub labels: Option<String>,
    pub lang: Option<String>,
    pub hxl: Option<String>,
}

/// Checked options.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Choice labels instead of codes.
    pub labels: bool,
    /// The language of labels; `None`: each survey's default.
    pub lang: Option<String>,
    /// A second header row of HXL hashtags.
    pub hxl: bool,
}

fn parse_bool(field: &str, v: &Option<String>) -> Result<bool, AppError> {
    match v.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(AppError::field(field, "must be true or false")),
    }
}

impl Options {
    pub fn parse(q: &Query) -> Result<Options, AppError> {
        let lang = q
            .lang
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string);
        Ok(Options {
            labels: parse_bool("labels", &q.labels)?,
            lang,
            hxl: parse_bool("hxl", &q.hxl)?,
        })
    }
}

impl Options {
    /// Refuses `labels` and `lang` for a table written in codes only.
    pub fn codes_only(&self, what: &str) -> Result<(), AppError> {
        if self.lang.is_some() || self.labels {
            let field = if self.labels { "labels" } else { "lang" };
            return Err(AppError::field(
                field,
                format!("{what} is written in codes; labels and lang apply to responses"),
            ));
        }
        Ok(())
    }
}

/// The kind of a fixed column, by the naming rule of the exports: `*_at` moments, `*_date`
/// days, flags and counts whole numbers.
pub fn kind_of(name: &str) -> tables::Kind {
    use tables::Kind;
    match name {
        n if n.ends_with("_at") => Kind::Time,
        n if n.ends_with("_date") => Kind::Date,
        "sensitive" | "satisfied" | "overdue" | "round" | "n" => Kind::Int,
        "score" | "ci_low" | "ci_high" => Kind::Num,
        _ => Kind::Text,
    }
}

/// The rows of a table, read a page at a time.
pub trait Pager: Send {
    /// The next page, `None` after the last.
    fn next_page(&mut self, conn: &mut DbConnection) -> Result<Option<Vec<Row>>, AppError>;
}

/// Rows already in memory (a few: question labels, choices).
pub struct Fixed(Option<Vec<Row>>);

impl Pager for Fixed {
    fn next_page(&mut self, _: &mut DbConnection) -> Result<Option<Vec<Row>>, AppError> {
        Ok(self.0.take())
    }
}

/// One table: a sheet of the workbook; the first table of an export is its CSV.
pub struct Table {
    /// The sheet's name (at most 31 characters).
    pub name: &'static str,
    pub columns: Vec<Column>,
    /// How many rows it will have.
    pub rows: u64,
    pub pager: Box<dyn Pager>,
}

impl Table {
    pub fn fixed(name: &'static str, columns: Vec<Column>, rows: Vec<Row>) -> Table {
        Table {
            name,
            columns,
            rows: rows.len() as u64,
            pager: Box::new(Fixed(Some(rows))),
        }
    }
}

/// A checked export, ready to be written.
pub struct Export {
    /// The file name without extension, e.g. `round-12-responses`.
    pub stem: String,
    pub hxl: bool,
    pub tables: Vec<Table>,
}

impl Export {
    pub fn file_name(&self, format: Format) -> String {
        format!("{}.{}", self.stem, format.extension())
    }
}

/// Runs `f` in one read-only transaction: on PostgreSQL at REPEATABLE READ, so every page
/// sees the same snapshot; on SQLite a deferred transaction reads one snapshot too.
fn read_tx<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    conn.transaction(|conn| {
        if matches!(conn, DbConnection::Postgres(_)) {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Every page of `table`, handed to `f`.
fn drain(
    conn: &mut DbConnection,
    table: &mut Table,
    mut f: impl FnMut(&[Row]) -> Result<(), AppError>,
) -> Result<(), AppError> {
    while let Some(rows) = table.pager.next_page(conn)? {
        f(&rows)?;
    }
    Ok(())
}

/// Where a CSV export goes: `ready` once with the checked export's file name (or the
/// refusal), then `chunk` for each piece; `chunk` returns false when the reader has gone.
pub trait CsvSink {
    fn ready(&mut self, outcome: Result<String, AppError>);
    fn chunk(&mut self, bytes: Vec<u8>) -> bool;
}

/// Builds the export with `build` and writes its first table as CSV to `sink`, page by
/// page. An error before the first byte goes to `sink.ready`; one after it ends the file
/// early (the reader sees a cut download) and is returned.
pub fn write_csv(
    conn: &mut DbConnection,
    build: impl FnOnce(&mut DbConnection) -> Result<Export, AppError>,
    sink: &mut impl CsvSink,
) -> Result<(), AppError> {
    let mut pending = None;
    let result = read_tx(conn, |conn| {
        let mut export = match build(conn) {
            Ok(e) => e,
            Err(e) => {
                pending = Some(e);
                return Ok(());
            }
        };
        sink.ready(Ok(export.file_name(Format::Csv)));
        let hxl = export.hxl;
        let table = &mut export.tables[0];
        if !sink.chunk(tables::csv_head(&table.columns, hxl)) {
            return Err(gone());
        }
        drain(conn, table, |rows| {
            let mut out = Vec::with_capacity(rows.len() * 256);
            tables::csv_rows(&mut out, rows);
            if sink.chunk(out) {
                Ok(())
            } else {
                Err(gone())
            }
        })
    });
    match (pending, result) {
        (Some(e), _) => {
            sink.ready(Err(e));
            Ok(())
        }
        (None, Err(e)) if !matches!(e, AppError::Gone(_)) => Err(e),
        _ => Ok(()),
    }
}

fn gone() -> AppError {
    AppError::Gone("the client stopped reading the export".into())
}

/// Builds the export with `build` and writes every table as a sheet of one workbook.
/// Returns the file name and the file.
pub fn write_xlsx(
    conn: &mut DbConnection,
    build: impl FnOnce(&mut DbConnection) -> Result<Export, AppError>,
) -> Result<(String, Vec<u8>), AppError> {
    read_tx(conn, |conn| {
        let mut export = build(conn)?;
        if let Some(t) = export.tables.iter().find(|t| t.rows > XLSX_MAX_ROWS) {
            return Err(AppError::field(
                "format",
                format!(
                    "{} rows do not fit in one spreadsheet sheet ({XLSX_MAX_ROWS} at most): use csv",
                    t.rows
                ),
            ));
        }
        let mut book = tables::Xlsx::new();
        for table in export.tables.iter_mut() {
            let mut sheet = book
                .sheet(table.name, &table.columns, export.hxl)
                .map_err(AppError::Internal)?;
            drain(conn, table, |rows| {
                sheet.rows(rows).map_err(AppError::Internal)
            })?;
        }
        let bytes = book.finish().map_err(AppError::Internal)?;
        Ok((export.file_name(Format::Xlsx), bytes))
    })
}
