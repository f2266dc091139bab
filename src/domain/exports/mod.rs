//! Data out: the tables an information manager downloads (a round's responses, an
//! operation's feedback log, the action plans and scores of a round, an operation or a
//! cluster), as CSV or XLSX, with an optional row of HXL hashtags, or as Parquet. README,
//! "Exports and feeds", is the column reference.
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
pub mod history;
pub mod hxl;
pub mod odata;
pub mod responses;
pub mod scores;

use crate::db::DbConnection;
use crate::kernel::error::AppError;
use crate::render::parquet;
use crate::render::tables::{self, Column, Row, XLSX_MAX_ROWS};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows read per page.
pub const PAGE_ROWS: i64 = 2_000;

/// A file format of the exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Parquet,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Parquet => "parquet",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Parquet => "application/vnd.apache.parquet",
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
        "sensitive" | "satisfied" | "overdue" | "round" | "n" | "provisional" => Kind::Int,
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

/// Where a streamed export (CSV, Parquet) goes: `ready` once with the checked export's
/// file name (or the refusal), then `chunk` for each piece; `chunk` returns false when the
/// reader has gone.
pub trait StreamSink: Send {
    fn ready(&mut self, outcome: Result<String, AppError>);
    fn chunk(&mut self, bytes: Vec<u8>) -> bool;
}

/// Builds the export with `build` and writes its first table as CSV to `sink`, page by
/// page ([`write_stream`] in CSV).
pub fn write_csv(
    conn: &mut DbConnection,
    build: impl FnOnce(&mut DbConnection) -> Result<Export, AppError>,
    sink: &mut impl StreamSink,
) -> Result<(), AppError> {
    write_stream(conn, Format::Csv, build, sink)
}

/// Builds the export with `build` and writes its first table as CSV or Parquet to `sink`,
/// page by page. An error before the first byte goes to `sink.ready`; one after it ends
/// the file early (the reader sees a cut download) and is returned.
pub fn write_stream(
    conn: &mut DbConnection,
    format: Format,
    build: impl FnOnce(&mut DbConnection) -> Result<Export, AppError>,
    sink: &mut impl StreamSink,
) -> Result<(), AppError> {
    let mut pending = None;
    let result = read_tx(conn, |conn| {
        let checked = build(conn).and_then(|e| match format {
            Format::Parquet if e.hxl => Err(AppError::field(
                "hxl",
                "a Parquet file has no header rows: its hashtags are in the file's \
                 key-value metadata (hxl)",
            )),
            Format::Xlsx => Err(AppError::Internal(anyhow::anyhow!(
                "a workbook is not streamed"
            ))),
            _ => Ok(e),
        });
        let mut export = match checked {
            Ok(e) => e,
            Err(e) => {
                pending = Some(e);
                return Ok(());
            }
        };
        sink.ready(Ok(export.file_name(format)));
        let table = &mut export.tables[0];
        if format == Format::Parquet {
            return stream_parquet(conn, table, sink);
        }
        if !sink.chunk(tables::csv_head(&table.columns, export.hxl)) {
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

/// Bytes handed to the sink at a time by [`SinkWriter`].
const CHUNK_BYTES: usize = 256 * 1024;

/// A [`StreamSink`] as `io::Write`, in chunks of [`CHUNK_BYTES`]; notes when the reader
/// has gone.
struct SinkWriter<'a, S: StreamSink> {
    sink: &'a mut S,
    buf: Vec<u8>,
    gone: &'a AtomicBool,
}

impl<S: StreamSink> SinkWriter<'_, S> {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        if self.sink.chunk(bytes) {
            Ok(())
        } else {
            self.gone.store(true, Ordering::Relaxed);
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }
}

impl<S: StreamSink> std::io::Write for SinkWriter<'_, S> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// `table` as a Parquet file into `sink`: row groups go out as they are done.
fn stream_parquet(
    conn: &mut DbConnection,
    table: &mut Table,
    sink: &mut impl StreamSink,
) -> Result<(), AppError> {
    let gone_flag = AtomicBool::new(false);
    let out = SinkWriter {
        sink,
        buf: Vec::with_capacity(CHUNK_BYTES),
        gone: &gone_flag,
    };
    let result = (|| {
        let mut file = parquet::Parquet::new(out, &table.columns, parquet::Limits::default())
            .map_err(AppError::Internal)?;
        drain(conn, table, |rows| {
            file.rows(rows).map_err(AppError::Internal)
        })?;
        let mut out = file.finish().map_err(AppError::Internal)?;
        std::io::Write::flush(&mut out).map_err(|e| AppError::Internal(e.into()))
    })();
    if gone_flag.load(Ordering::Relaxed) {
        return Err(gone());
    }
    result
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
