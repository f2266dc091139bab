//! Tables as files people open in a spreadsheet: CSV (UTF-8 with a byte-order mark, so
//! Excel reads accents and Arabic right) written a page of rows at a time, and XLSX
//! (`rust_xlsxwriter` in constant-memory mode: rows go to a temporary file as they come).
//!
//! A table is a list of [`Column`]s and rows of [`Cell`]s. Both writers put the column
//! names in the first row and, when asked, the columns' HXL hashtags in the second
//! (<https://hxlstandard.org>), which is how HDX and the HXL proxy find their way.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Num(f64),
    Date(NaiveDate),
    /// A moment in UTC, written `YYYY-MM-DD HH:MM:SS` (what spreadsheets parse).
    Time(NaiveDateTime),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<&str>) -> Cell {
        s.map_or(Cell::Empty, Cell::text)
    }

    pub fn opt_time(t: Option<NaiveDateTime>) -> Cell {
        t.map_or(Cell::Empty, Cell::Time)
    }

    /// `1` or `0`; empty when unknown.
    pub fn flag(b: Option<bool>) -> Cell {
        b.map_or(Cell::Empty, |b| Cell::Int(i64::from(b)))
    }
}

/// What a column holds, for readers that want types (the OData feed's `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Text,
    Int,
    Num,
    Date,
    Time,
}

/// A column: its name (first header row), its HXL hashtag with attributes (second) and
/// what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub hxl: String,
    pub kind: Kind,
}

impl Column {
    pub fn new(name: impl Into<String>, hxl: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            hxl: hxl.into(),
            kind: Kind::Text,
        }
    }

    pub fn of(mut self, kind: Kind) -> Column {
        self.kind = kind;
        self
    }
}

pub type Row = Vec<Cell>;

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

// ----------------------------------------------------------------------------------------
// CSV

/// The start of a CSV file: the byte-order mark, the header and, with `hxl`, the row of
/// hashtags.
pub fn csv_head(columns: &[Column], hxl: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * columns.len());
    out.extend_from_slice("\u{feff}".as_bytes());
    csv_line(&mut out, columns.iter().map(|c| c.name.as_str()));
    if hxl {
        csv_line(&mut out, columns.iter().map(|c| c.hxl.as_str()));
    }
    out
}

/// Rows appended to `out` as CSV lines (RFC 4180 quoting, `\r\n` line ends).
pub fn csv_rows(out: &mut Vec<u8>, rows: &[Row]) {
    use std::io::Write;
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = match cell {
                Cell::Empty => Ok(()),
                Cell::Text(s) => {
                    csv_field(out, s);
                    Ok(())
                }
                Cell::Int(n) => write!(out, "{n}"),
                Cell::Num(x) => write!(out, "{x}"),
                Cell::Date(d) => write_date(out, *d),
                Cell::Time(t) => write_date(out, t.date()).and_then(|()| {
                    write!(out, " {:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
                }),
            };
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// `YYYY-MM-DD` (written by hand: a `format` string is parsed anew on every call).
fn write_date(out: &mut Vec<u8>, d: NaiveDate) -> std::io::Result<()> {
    use std::io::Write;
    write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn csv_line<'a>(out: &mut Vec<u8>, fields: impl Iterator<Item = &'a str>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_field(out, f);
    }
    out.extend_from_slice(b"\r\n");
}

/// One text field. Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
/// carriage return first) gets a leading `'`, so an answer cannot become a formula in Excel.
fn csv_field(out: &mut Vec<u8>, s: &str) {
    let guard = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if guard || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        if guard {
            out.push(b'\'');
        }
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

// ----------------------------------------------------------------------------------------
// XLSX

/// The most data rows one sheet can hold (Excel's 1,048,576 rows, less two header rows).
pub const XLSX_MAX_ROWS: u64 = 1_048_574;

/// A workbook being written, one sheet after the other.
pub struct Xlsx {
    book: Workbook,
    bold: Format,
}

/// The sheet being written: rows are appended in order.
pub struct Sheet<'a> {
    sheet: &'a mut Worksheet,
    next: u32,
}

fn xlsx_error(e: XlsxError) -> anyhow::Error {
    anyhow::anyhow!("writing the workbook: {e}")
}

impl Default for Xlsx {
    fn default() -> Self {
        Xlsx::new()
    }
}

impl Xlsx {
    pub fn new() -> Xlsx {
        Xlsx {
            book: Workbook::new(),
            bold: Format::new().set_bold(),
        }
    }

    /// Starts a sheet named `name` (at most 31 characters) with its header rows.
    pub fn sheet(
        &mut self,
        name: &str,
        columns: &[Column],
        hxl: bool,
    ) -> anyhow::Result<Sheet<'_>> {
        let sheet = self
            .book
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        sheet.set_name(name).map_err(xlsx_error)?;
        let mut next = 0u32;
        for (c, col) in columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, &col.name, &self.bold)
                .map_err(xlsx_error)?;
        }
        next += 1;
        if hxl {
            for (c, col) in columns.iter().enumerate() {
                sheet
                    .write_string(1, c as u16, &col.hxl)
                    .map_err(xlsx_error)?;
            }
            next += 1;
        }
        sheet.set_freeze_panes(next, 0).map_err(xlsx_error)?;
        Ok(Sheet { sheet, next })
    }

    /// The finished file.
    pub fn finish(mut self) -> anyhow::Result<Vec<u8>> {
        self.book.save_to_buffer().map_err(xlsx_error)
    }
}

impl Sheet<'_> {
    pub fn rows(&mut self, rows: &[Row]) -> anyhow::Result<()> {
        for row in rows {
            if u64::from(self.next) > XLSX_MAX_ROWS + 1 {
                anyhow::bail!("more rows than a spreadsheet holds");
            }
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (self.next, c as u16);
                let done = match cell {
                    Cell::Empty => Ok(&mut *self.sheet),
                    Cell::Text(s) => self.sheet.write_string(r, c, s),
                    Cell::Int(n) => self.sheet.write_number(r, c, *n as f64),
                    Cell::Num(x) => self.sheet.write_number(r, c, *x),
                    Cell::Date(d) => {
                        self.sheet
                            .write_string(r, c, d.format("%Y-%m-%d").to_string())
                    }
                    Cell::Time(t) => {
                        self.sheet
                            .write_string(r, c, t.format(TIME_FORMAT).to_string())
                    }
                };
                done.map_err(xlsx_error)?;
            }
            self.next += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_quotes_and_defuses_formulas() {
        let cols = [Column::new("a", "#meta+a"), Column::new("b,c", "#meta+b")];
        let mut out = csv_head(&cols, true);
        csv_rows(
            &mut out,
            &[
                vec![Cell::text("=SUM(A1)"), Cell::text("say \"hi\"")],
                vec![Cell::Int(3), Cell::Empty],
            ],
        );
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "\u{feff}a,\"b,c\"\r\n#meta+a,#meta+b\r\n\"'=SUM(A1)\",\"say \"\"hi\"\"\"\r\n3,\r\n"
        );
    }

    #[test]
    fn xlsx_is_a_zip_with_the_sheets() {
        let mut x = Xlsx::new();
        {
            let mut s = x.sheet("one", &[Column::new("a", "#meta")], false).unwrap();
            s.rows(&[vec![Cell::Num(1.5)]]).unwrap();
        }
        x.sheet("two", &[Column::new("b", "#meta")], true).unwrap();
        let bytes = x.finish().unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
