//! Reading the workbook: sheets, header rows and cells as text, with their positions.

use super::*;

/// One sheet as text: the header row and the rows below it, with 1-based row numbers.
#[derive(Debug, Clone, Default)]
pub(super) struct Grid {
    /// The sheet's name as written in the workbook.
    pub(super) name: String,
    /// 0-based column of the first cell (for column letters in messages).
    pub(super) first_col: usize,
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<GridRow>,
}

#[derive(Debug, Clone)]
pub(super) struct GridRow {
    pub(super) number: usize,
    pub(super) cells: Vec<String>,
}

impl GridRow {
    pub(super) fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|c| self.cells.get(c))
            .map(|s| s.as_str())
            .unwrap_or("")
    }

    pub(super) fn is_empty(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }
}

pub(super) struct Book {
    pub(super) sheet_names: Vec<String>,
    pub(super) survey: Option<Grid>,
    pub(super) choices: Option<Grid>,
    pub(super) settings: Option<Grid>,
    /// Notes from reading (e.g. two sheets that both look like `survey`).
    pub(super) notes: Vec<String>,
}

pub(super) const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

pub(super) fn read_workbook(file: &str, bytes: &[u8]) -> Result<Book, ImportError> {
    let fail = |message: String| ImportError {
        file: file.to_string(),
        sheet: None,
        row: None,
        message,
    };
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e| fail(format!("not a readable .xlsx workbook: {e}")))?;
        read_sheets(&mut wb).map_err(fail)
    } else if bytes.starts_with(&OLE_MAGIC) {
        let mut wb: Xls<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|e| fail(format!("not a readable .xls workbook: {e}")))?;
        read_sheets(&mut wb).map_err(fail)
    } else {
        let looks_like_text = !bytes.is_empty()
            && std::str::from_utf8(&bytes[..bytes.len().min(4096)])
                .map(|s| !s.contains('\0'))
                .unwrap_or(false);
        let hint = if bytes.is_empty() {
            " (the file is empty)"
        } else if looks_like_text {
            " (it looks like a text file; save the form as .xlsx)"
        } else {
            ""
        };
        Err(fail(format!(
            "not a spreadsheet: an XLSForm must be an Excel workbook (.xlsx or .xls){hint}"
        )))
    }
}

pub(super) fn read_sheets<RS, R>(wb: &mut R) -> Result<Book, String>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: fmt::Display,
{
    let sheet_names = wb.sheet_names();
    let mut book = Book {
        sheet_names: sheet_names.clone(),
        survey: None,
        choices: None,
        settings: None,
        notes: Vec::new(),
    };
    for wanted in ["survey", "choices", "settings"] {
        let matching: Vec<&String> = sheet_names
            .iter()
            .filter(|n| n.trim().eq_ignore_ascii_case(wanted))
            .collect();
        let Some(name) = matching.first() else {
            continue;
        };
        if matching.len() > 1 {
            book.notes.push(format!(
                "the workbook has {} sheets named like '{wanted}'; the first ('{name}') is used",
                matching.len()
            ));
        }
        let range = wb
            .worksheet_range(name)
            .map_err(|e| format!("cannot read sheet '{name}': {e}"))?;
        let grid = grid_of(name, &range);
        match wanted {
            "survey" => book.survey = Some(grid),
            "choices" => book.choices = Some(grid),
            _ => book.settings = Some(grid),
        }
    }
    Ok(book)
}

pub(super) fn grid_of(name: &str, range: &calamine::Range<Data>) -> Grid {
    let mut grid = Grid {
        name: name.to_string(),
        ..Grid::default()
    };
    let Some((row0, col0)) = range.start() else {
        return grid;
    };
    grid.first_col = col0 as usize;
    let mut rows = range.rows().enumerate();
    if let Some((_, header)) = rows.next() {
        grid.header = header.iter().map(cell_text).collect();
    }
    for (i, cells) in rows {
        grid.rows.push(GridRow {
            number: row0 as usize + i + 1,
            cells: cells.iter().map(cell_text).collect(),
        });
    }
    grid
}

pub(super) fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", *f as i64)
        }
        other => other.to_string().trim().to_string(),
    }
}

pub(super) fn column_letter(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
