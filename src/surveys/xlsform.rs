//! Importing an XLSForm workbook (`.xlsx` or `.xls`) as a clusterpulse survey.
//!
//! `clusterpulse surveys import FORM.xlsx` calls [`import_path`], writes the survey with
//! `write::survey_to_toml` and prints what could not be carried over. The import never
//! drops anything silently: every row of the `survey` sheet becomes a question, a section,
//! or a [`Skipped`] entry naming its row and the reason; every decision taken on the
//! user's behalf (language codes, filled-in translations, renamed ids…) is a note.
//!
//! # What is read
//!
//! - Sheets `survey` (required), `choices` (required when a select question is imported)
//!   and `settings` (optional). Sheet and column names are matched case-insensitively,
//!   trimmed, with spaces and underscores alike (`list name` = `list_name`); the old
//!   pyxform spellings `bind:relevant`, `bind:constraint`, `jr:constraintMsg`,
//!   `label:English` are understood too. Other columns (`appearance`, `calculation`,
//!   media, …) are not carried over, and a note names those that hold anything.
//! - A column that appears twice (the same field in the same language): the first one is
//!   used and a note names the ignored one. Refusing would block a form that pyxform itself
//!   accepts, and the note makes the choice visible.
//! - Localised columns: `label::English (en)` (code in parentheses wins), `label::fr`,
//!   `label::Français`, `label::English` (common language names in English and in the
//!   language itself map to their codes). A header with neither a code nor a known name
//!   gets a code derived from its letters (or one of the local-use codes `qaa`…), with a
//!   note. Plain `label` / `hint` columns are in the default language: `default_language`
//!   from the settings, else `en`.
//! - Types: `text`, `integer`, `decimal`, `date`, `note`, `select_one L`,
//!   `select_multiple L` (also the old `select one from L`, `select all that apply from L`);
//!   `or_other` / `or specify other` is dropped with a note; `phone number` (old pyxform)
//!   becomes `text`. `begin group` / `end group` become sections (nested groups are
//!   flattened, each question going to its innermost group's section; a group's `relevant`
//!   is and-ed into the `relevant` of every question inside it). Repeats (`begin repeat`,
//!   the old `begin loop`) are skipped with every row inside them. Every other type
//!   (calculate, geopoint, media, metadata such as `start` or `deviceid`, …) is skipped,
//!   naming the type.
//! - `relevant` and `constraint` are checked with [`expr::parse`]: an expression that does
//!   not parse (unsupported functions such as `today()` or `regex()` included), that refers
//!   to a question that was not imported, comes later, or is the question itself, is
//!   dropped from the question (which is kept) and listed in `skipped` with the reason. A
//!   `required` that is an expression is dropped the same way.
//! - Settings: `form_id` (or the old `id_string`) becomes the id after reducing it to
//!   `[a-z0-9-]+` (else the file name); `version` is kept when it is an integer from 1 to
//!   `u32::MAX`, else 1 with a note; `form_title` (localised or not) becomes the title;
//!   `default_language` orders the languages.
//! - The result is a `feedback` survey for the `public`, without framework: an XLSForm
//!   has no notion of those. A note says to set `kind`, `respondent`, `framework`,
//!   `indicator` and choice scores in the TOML when the survey is a performance survey.
//! - Languages: every language with at least one text in the imported survey; the default
//!   first. A text missing in a language is copied from the default language and the notes
//!   name every such question and language, so the result passes the loader's rule that
//!   every text exists in every language.
//!
//! # What is refused ([`ImportError`])
//!
//! Files over 20 MB (checked before parsing), anything that is not an `.xlsx` / `.xls`
//! workbook, a workbook without a `survey` sheet, a `survey` sheet without a `type` or
//! `name` column, an invalid or duplicate question name, a select naming an unknown list,
//! an invalid or duplicate choice value, a block closed by the wrong `end` row, and a form
//! in which no question could be imported. As a last gate the imported survey is written as
//! TOML and loaded back with [`load::parse_survey`]; should the loader refuse it, the
//! loader's problems are returned as the error, so the import never hands over a survey
//! the server would not start with.

use super::expr;
use super::load;
use super::model::{Choice, Question, QuestionType, Respondent, Section, Survey, SurveyKind, Text};
use super::write;
use calamine::{Data, Reader, Xls, Xlsx};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::Cursor;
use std::path::Path;

/// Larger files are refused before they are parsed.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// A row (or a part of a row) that could not be carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub sheet: String,
    /// 1-based spreadsheet row.
    pub row: usize,
    /// What was skipped and why, e.g.
    /// `repeat group 'household' (begin_repeat): repeats are not supported`.
    pub what: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sheet {}, row {}: {}", self.sheet, self.row, self.what)
    }
}

/// The result of an import: the survey, what was left out, and the decisions taken.
#[derive(Debug, Clone)]
pub struct Imported {
    pub survey: Survey,
    pub skipped: Vec<Skipped>,
    /// E.g. which column became which language, which texts were copied from the
    /// default language, which columns were not carried over.
    pub notes: Vec<String>,
}

/// Why a workbook could not be imported at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    pub sheet: Option<String>,
    pub row: Option<usize>,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet {sheet}")?;
        }
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ImportError {}

/// Import the workbook at `path`.
pub fn import_path(path: &Path) -> Result<Imported, ImportError> {
    let file = path.display().to_string();
    let fail = |message: String| ImportError {
        file: file.clone(),
        sheet: None,
        row: None,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(fail("not a file".to_string()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(too_large(meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    import_bytes(&file, &bytes)
}

/// Import a workbook from its bytes; `file_name` names it in messages and is the fallback
/// for the survey id. The format (`.xlsx` or `.xls`) is detected from the content.
pub fn import_bytes(file_name: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let fail = |message: String| ImportError {
        file: file_name.to_string(),
        sheet: None,
        row: None,
        message,
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(too_large(bytes.len() as u64)));
    }
    // Neither the spreadsheet reader nor this module should panic, but a malformed file
    // must never take the caller down: a panic becomes an error.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let book = read_workbook(file_name, bytes)?;
        Importer::new(file_name, book).run()
    }));
    match outcome {
        Ok(result) => result,
        Err(_) => Err(fail(
            "the workbook could not be read (the spreadsheet reader failed on its content); \
             open it in a spreadsheet program and save it again as .xlsx"
                .to_string(),
        )),
    }
}

fn too_large(len: u64) -> String {
    format!(
        "the file is {:.1} MB; XLSForm files over {} MB are refused",
        len as f64 / (1024.0 * 1024.0),
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

// ---------------------------------------------------------------------------------------
// Reading the workbook

/// One sheet as text: the header row and the rows below it, with 1-based row numbers.
#[derive(Debug, Clone, Default)]
struct Grid {
    /// The sheet's name as written in the workbook.
    name: String,
    /// 0-based column of the first cell (for column letters in messages).
    first_col: usize,
    header: Vec<String>,
    rows: Vec<GridRow>,
}

#[derive(Debug, Clone)]
struct GridRow {
    number: usize,
    cells: Vec<String>,
}

impl GridRow {
    fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|c| self.cells.get(c))
            .map(|s| s.as_str())
            .unwrap_or("")
    }

    fn is_empty(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }
}

struct Book {
    sheet_names: Vec<String>,
    survey: Option<Grid>,
    choices: Option<Grid>,
    settings: Option<Grid>,
    /// Notes from reading (e.g. two sheets that both look like `survey`).
    notes: Vec<String>,
}

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn read_workbook(file: &str, bytes: &[u8]) -> Result<Book, ImportError> {
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

fn read_sheets<RS, R>(wb: &mut R) -> Result<Book, String>
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

fn grid_of(name: &str, range: &calamine::Range<Data>) -> Grid {
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

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", *f as i64)
        }
        other => other.to_string().trim().to_string(),
    }
}

fn column_letter(mut col: usize) -> String {
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

// ---------------------------------------------------------------------------------------
// Columns and languages

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Type,
    Name,
    Label,
    Hint,
    Required,
    Relevant,
    Constraint,
    ConstraintMessage,
    ListName,
    Value,
    FormTitle,
    FormId,
    IdString,
    Version,
    DefaultLanguage,
}

impl Field {
    fn localised(self) -> bool {
        matches!(
            self,
            Field::Label | Field::Hint | Field::ConstraintMessage | Field::FormTitle
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SheetKind {
    Survey,
    Choices,
    Settings,
}

/// A header split into its field name and language part, lower-cased.
fn split_header(header: &str) -> (String, Option<String>) {
    let lower = header.trim().to_lowercase();
    let mut s = lower.as_str();
    for prefix in ["bind::", "bind:", "body::", "body:"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    for prefix in ["jr::", "jr:"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    let (base, lang) = if let Some(i) = s.find("::") {
        (&s[..i], Some(&s[i + 2..]))
    } else if let Some(i) = s.find(':') {
        (&s[..i], Some(&s[i + 1..]))
    } else {
        (s, None)
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join("_");
    let lang = lang
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string);
    (base, lang)
}

fn field_of(kind: SheetKind, base: &str) -> Option<Field> {
    let f = match (kind, base) {
        (SheetKind::Survey, "type") => Field::Type,
        (SheetKind::Survey | SheetKind::Choices, "name") => Field::Name,
        (SheetKind::Survey | SheetKind::Choices, "label") => Field::Label,
        (SheetKind::Survey, "hint") => Field::Hint,
        (SheetKind::Survey, "required") => Field::Required,
        (SheetKind::Survey, "relevant") => Field::Relevant,
        (SheetKind::Survey, "constraint") => Field::Constraint,
        (SheetKind::Survey, "constraint_message" | "constraintmsg" | "constraint_msg") => {
            Field::ConstraintMessage
        }
        (SheetKind::Choices, "list_name" | "listname") => Field::ListName,
        (SheetKind::Choices, "value") => Field::Value,
        (SheetKind::Settings, "form_title" | "title") => Field::FormTitle,
        (SheetKind::Settings, "form_id") => Field::FormId,
        (SheetKind::Settings, "id_string") => Field::IdString,
        (SheetKind::Settings, "version") => Field::Version,
        (SheetKind::Settings, "default_language") => Field::DefaultLanguage,
        _ => return None,
    };
    Some(f)
}

/// Common language names (in English, French and the language itself) and their codes.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("english", "en"),
    ("anglais", "en"),
    ("inglés", "en"),
    ("ingles", "en"),
    ("french", "fr"),
    ("français", "fr"),
    ("francais", "fr"),
    ("francés", "fr"),
    ("frances", "fr"),
    ("spanish", "es"),
    ("español", "es"),
    ("espanol", "es"),
    ("espagnol", "es"),
    ("castellano", "es"),
    ("arabic", "ar"),
    ("arabe", "ar"),
    ("العربية", "ar"),
    ("عربي", "ar"),
    ("portuguese", "pt"),
    ("português", "pt"),
    ("portugues", "pt"),
    ("portugais", "pt"),
    ("swahili", "sw"),
    ("kiswahili", "sw"),
    ("chinese", "zh"),
    ("中文", "zh"),
    ("mandarin", "zh"),
    ("russian", "ru"),
    ("русский", "ru"),
    ("ukrainian", "uk"),
    ("українська", "uk"),
    ("hindi", "hi"),
    ("bengali", "bn"),
    ("bangla", "bn"),
    ("urdu", "ur"),
    ("persian", "fa"),
    ("farsi", "fa"),
    ("dari", "prs"),
    ("pashto", "ps"),
    ("pashtu", "ps"),
    ("somali", "so"),
    ("amharic", "am"),
    ("tigrinya", "ti"),
    ("oromo", "om"),
    ("afaan oromoo", "om"),
    ("hausa", "ha"),
    ("yoruba", "yo"),
    ("igbo", "ig"),
    ("kanuri", "kr"),
    ("fulfulde", "ff"),
    ("fula", "ff"),
    ("wolof", "wo"),
    ("bambara", "bm"),
    ("lingala", "ln"),
    ("kinyarwanda", "rw"),
    ("kirundi", "rn"),
    ("luganda", "lg"),
    ("sango", "sg"),
    ("malagasy", "mg"),
    ("shona", "sn"),
    ("chichewa", "ny"),
    ("nyanja", "ny"),
    ("zulu", "zu"),
    ("xhosa", "xh"),
    ("afrikaans", "af"),
    ("dinka", "din"),
    ("nuer", "nus"),
    ("turkish", "tr"),
    ("türkçe", "tr"),
    ("kurdish", "ku"),
    ("kurmanji", "kmr"),
    ("sorani", "ckb"),
    ("hebrew", "he"),
    ("armenian", "hy"),
    ("georgian", "ka"),
    ("azerbaijani", "az"),
    ("uzbek", "uz"),
    ("tajik", "tg"),
    ("kyrgyz", "ky"),
    ("kazakh", "kk"),
    ("mongolian", "mn"),
    ("nepali", "ne"),
    ("tamil", "ta"),
    ("sinhala", "si"),
    ("burmese", "my"),
    ("myanmar", "my"),
    ("rohingya", "rhg"),
    ("thai", "th"),
    ("khmer", "km"),
    ("lao", "lo"),
    ("vietnamese", "vi"),
    ("indonesian", "id"),
    ("bahasa indonesia", "id"),
    ("malay", "ms"),
    ("tagalog", "tl"),
    ("filipino", "fil"),
    ("tetum", "tet"),
    ("japanese", "ja"),
    ("korean", "ko"),
    ("german", "de"),
    ("deutsch", "de"),
    ("italian", "it"),
    ("italiano", "it"),
    ("dutch", "nl"),
    ("polish", "pl"),
    ("romanian", "ro"),
    ("greek", "el"),
    ("serbian", "sr"),
    ("croatian", "hr"),
    ("bosnian", "bs"),
    ("albanian", "sq"),
    ("haitian creole", "ht"),
    ("kreyòl", "ht"),
    ("creole", "ht"),
    ("quechua", "qu"),
    ("guarani", "gn"),
    ("aymara", "ay"),
];

fn is_code(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic())
}

/// A language header (`English (en)`, `fr`, `Français`, `pt-BR`) read as a code, when it
/// names one plainly; `None` when a code has to be derived.
fn known_code(spec: &str) -> Option<String> {
    let spec = spec.trim().to_lowercase();
    if let (Some(open), true) = (spec.rfind('('), spec.ends_with(')')) {
        let inner = spec[open + 1..spec.len() - 1].trim();
        let primary = inner.split(['-', '_']).next().unwrap_or("");
        if is_code(primary) {
            return Some(primary.to_string());
        }
        if let Some(code) = known_code(&spec[..open]) {
            return Some(code);
        }
        return None;
    }
    if let Some((_, code)) = LANGUAGE_NAMES.iter().find(|(name, _)| *name == spec) {
        return Some(code.to_string());
    }
    if is_code(&spec) {
        return Some(spec);
    }
    let primary = spec.split(['-', '_']).next().unwrap_or("");
    if primary.len() < spec.len() && is_code(primary) {
        return Some(primary.to_string());
    }
    None
}

/// Maps every language header found in the workbook to a code. Codes are derived for
/// unknown names only after all plain codes are known, so a derived code never takes the
/// code of a language that is really there.
struct Languages {
    codes: HashMap<String, String>,
    derived: BTreeMap<String, String>,
}

impl Languages {
    fn new<'a>(specs: impl IntoIterator<Item = &'a str>) -> Languages {
        let specs: Vec<String> = specs
            .into_iter()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        let mut codes = HashMap::new();
        let mut used = BTreeSet::new();
        for spec in &specs {
            if let Some(code) = known_code(spec) {
                used.insert(code.clone());
                codes.insert(spec.clone(), code);
            }
        }
        let mut derived = BTreeMap::new();
        for spec in &specs {
            if codes.contains_key(spec) {
                continue;
            }
            let letters: Vec<char> = spec
                .chars()
                .filter(|c| c.is_ascii_alphabetic())
                .map(|c| c.to_ascii_lowercase())
                .collect();
            let mut candidates = Vec::new();
            if letters.len() >= 2 {
                candidates.push(letters.iter().take(3).collect::<String>());
                candidates.push(letters.iter().take(2).collect::<String>());
                for &c in letters.iter().skip(1) {
                    candidates.push(format!("{}{}", letters[0], c));
                }
            }
            // ISO 639 reserves qaa–qtz for local use.
            for second in 'a'..='t' {
                for third in 'a'..='z' {
                    candidates.push(format!("q{second}{third}"));
                }
            }
            let code = candidates
                .into_iter()
                .find(|c| !used.contains(c))
                .unwrap_or_else(|| "qaa".to_string());
            used.insert(code.clone());
            codes.insert(spec.clone(), code.clone());
            derived.insert(spec.clone(), code);
        }
        Languages { codes, derived }
    }

    fn code(&self, spec: &str) -> Option<&str> {
        self.codes
            .get(&spec.trim().to_lowercase())
            .map(|s| s.as_str())
    }
}

/// Where each field of a sheet is.
#[derive(Debug, Default)]
struct Columns {
    single: HashMap<Field, usize>,
    /// Localised fields: (language code, column), in column order.
    texts: HashMap<Field, Vec<(String, usize)>>,
    /// Columns that are not carried over.
    other: Vec<usize>,
    /// (language code, header as written) for every localised column used.
    language_columns: Vec<(String, String)>,
}

impl Columns {
    fn col(&self, f: Field) -> Option<usize> {
        self.single.get(&f).copied()
    }

    fn text(&self, f: Field, row: &GridRow) -> Text {
        let mut t = Text::new();
        for (lang, col) in self.texts.get(&f).map(|v| v.as_slice()).unwrap_or(&[]) {
            let v = row.get(Some(*col));
            if !v.is_empty() {
                t.insert(lang.clone(), v.to_string());
            }
        }
        t
    }

    fn has(&self, f: Field) -> bool {
        self.single.contains_key(&f) || self.texts.contains_key(&f)
    }
}

fn columns_of(
    grid: &Grid,
    kind: SheetKind,
    langs: &Languages,
    default_lang: &str,
    notes: &mut Vec<String>,
) -> Columns {
    let mut cols = Columns::default();
    let mut seen: HashMap<(Field, String), usize> = HashMap::new();
    for (i, header) in grid.header.iter().enumerate() {
        if header.is_empty() {
            continue;
        }
        let (base, lang) = split_header(header);
        let Some(field) = field_of(kind, &base).filter(|f| f.localised() || lang.is_none()) else {
            cols.other.push(i);
            continue;
        };
        let code = match &lang {
            Some(spec) if field.localised() => langs.code(spec).unwrap_or(default_lang),
            _ => default_lang,
        }
        .to_string();
        let key = (
            field,
            if field.localised() {
                code.clone()
            } else {
                String::new()
            },
        );
        if let Some(first) = seen.get(&key) {
            notes.push(format!(
                "sheet '{}': column {} ('{}') repeats column {} ('{}'); the first one is used \
                 and column {} is ignored",
                grid.name,
                column_letter(grid.first_col + i),
                header,
                column_letter(grid.first_col + first),
                grid.header[*first],
                column_letter(grid.first_col + i),
            ));
            continue;
        }
        seen.insert(key, i);
        if field.localised() {
            cols.texts.entry(field).or_default().push((code.clone(), i));
            cols.language_columns.push((code, header.clone()));
        } else {
            cols.single.insert(field, i);
        }
    }
    cols
}

/// Notes naming the columns of a sheet that hold something but are not carried over.
fn note_other_columns(grid: &Grid, cols: &Columns, what: &str, notes: &mut Vec<String>) {
    let mut used = Vec::new();
    for &i in &cols.other {
        let n = grid
            .rows
            .iter()
            .filter(|r| !r.get(Some(i)).is_empty())
            .count();
        if n > 0 {
            used.push(format!(
                "'{}' ({n} row{})",
                grid.header[i],
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    if !used.is_empty() {
        notes.push(format!(
            "sheet '{}': {what} not carried over: {}",
            grid.name,
            used.join(", ")
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Types

#[derive(Debug, Clone, PartialEq)]
enum RowKind {
    Question {
        qtype: QuestionType,
        list: Option<String>,
        /// A note about what was dropped from the type (`or_other`, …).
        dropped: Option<String>,
    },
    BeginGroup,
    EndGroup,
    BeginRepeat,
    EndRepeat,
    Unsupported(String),
}

fn row_kind(type_text: &str) -> RowKind {
    let words: Vec<&str> = type_text.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let joined = lower.join(" ");
    let simple = |qtype| RowKind::Question {
        qtype,
        list: None,
        dropped: None,
    };
    match joined.as_str() {
        "text" | "string" => return simple(QuestionType::Text),
        "integer" | "int" => return simple(QuestionType::Integer),
        "decimal" => return simple(QuestionType::Decimal),
        "date" => return simple(QuestionType::Date),
        "note" => return simple(QuestionType::Note),
        "phone number" => {
            return RowKind::Question {
                qtype: QuestionType::Text,
                list: None,
                dropped: Some(
                    "the old pyxform type 'phone number' is imported as text; its digits-only \
                     constraint is not carried over"
                        .to_string(),
                ),
            }
        }
        "begin group" | "begin_group" | "begin lgroup" => return RowKind::BeginGroup,
        "end group" | "end_group" | "end lgroup" => return RowKind::EndGroup,
        "begin repeat" | "begin_repeat" => return RowKind::BeginRepeat,
        "end repeat" | "end_repeat" | "end loop" | "end_loop" => return RowKind::EndRepeat,
        _ => {}
    }
    if lower.first().map(String::as_str) == Some("begin")
        && lower.get(1).map(String::as_str) == Some("loop")
        || lower.first().map(String::as_str) == Some("begin_loop")
    {
        return RowKind::BeginRepeat;
    }
    // Selects: `select_one L`, `select one L`, `select one from L`, `select_multiple L`,
    // `select all that apply from L`, each optionally followed by `or_other` /
    // `or specify other`.
    let (qtype, rest) = match lower.as_slice() {
        [a, ..] if a == "select_one" || a == "select1" => (QuestionType::SelectOne, 1),
        [a, ..] if a == "select_multiple" => (QuestionType::SelectMultiple, 1),
        [a, b, ..] if a == "select" && b == "one" => (QuestionType::SelectOne, 2),
        [a, b, ..] if a == "select" && b == "multiple" => (QuestionType::SelectMultiple, 2),
        [a, b, c, d, ..] if a == "select" && b == "all" && c == "that" && d == "apply" => {
            (QuestionType::SelectMultiple, 4)
        }
        _ => return unsupported(&joined, type_text),
    };
    let mut rest = rest;
    if lower.get(rest).map(String::as_str) == Some("from") {
        rest += 1;
    }
    let tail: Vec<&str> = lower[rest..].iter().map(String::as_str).collect();
    let (list_words, other) = match tail.as_slice() {
        [l @ .., "or_other"] => (l.len(), true),
        [l @ .., "or", "specify", "other"] => (l.len(), true),
        [l @ .., "or_specify_other"] => (l.len(), true),
        l => (l.len(), false),
    };
    if list_words != 1 {
        return RowKind::Unsupported(format!(
            "the type '{type_text}' does not name exactly one choice list"
        ));
    }
    RowKind::Question {
        qtype,
        list: Some(words[rest].to_string()),
        dropped: other.then(|| {
            "'or other' is not supported: the extra 'other' option and its text box are not \
             carried over (add an 'other' choice and a text question if needed)"
                .to_string()
        }),
    }
}

fn unsupported(lower: &str, type_text: &str) -> RowKind {
    let first = lower.split_whitespace().next().unwrap_or("");
    let reason = match first {
        "calculate" | "calculation" => "calculations are not supported".to_string(),
        "geopoint" | "geotrace" | "geoshape" | "osm" => {
            "location questions are not supported".to_string()
        }
        "image" | "photo" | "audio" | "video" | "file" | "background-audio" => {
            "media and file uploads are not supported".to_string()
        }
        "time" | "datetime" => "time answers are not supported (only 'date' is)".to_string(),
        "start" | "end" | "today" | "deviceid" | "username" | "phonenumber" | "simserial"
        | "subscriberid" | "email" | "audit" | "start-geopoint" | "imei" | "uri:email"
        | "uri:username" | "uri:phonenumber" | "uri:deviceid" | "uri:subscriberid"
        | "uri:simserial" => {
            "metadata fields are not supported (clusterpulse records each response's time and \
             language itself)"
                .to_string()
        }
        "select_one_external" | "select_one_from_file" | "select_multiple_from_file" => {
            "choices from an external file are not supported".to_string()
        }
        "include" => "'include' (an old pyxform feature) is not supported".to_string(),
        "" => "the row has no type".to_string(),
        _ => format!("the type '{type_text}' is not supported"),
    };
    RowKind::Unsupported(reason)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_choice_value(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `form_id` reduced to `[a-z0-9-]+`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A section id from a group name: lower case letters, digits and `_`.
fn section_slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

fn truthy(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "" | "no" | "n" | "false" | "false()" | "0" => Some(false),
        "yes" | "y" | "true" | "true()" | "1" => Some(true),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// The import

/// An open `begin group` / `begin repeat`.
#[derive(Debug)]
enum Block {
    Group {
        name: String,
        row: usize,
        type_text: String,
        title: Text,
        relevant: Option<String>,
        section: Option<String>,
        /// Inside a repeat: skipped with it.
        skipped: bool,
    },
    Repeat {
        name: String,
        row: usize,
    },
}

struct Importer {
    file: String,
    book: Book,
    skipped: Vec<Skipped>,
    notes: Vec<String>,
    questions: Vec<Question>,
    /// Imported question name → row.
    imported: HashMap<String, usize>,
    /// Names of rows that were skipped → row.
    skipped_names: HashMap<String, usize>,
    /// Every name in the survey sheet → first row.
    all_names: HashMap<String, usize>,
    sections: Vec<Section>,
    stack: Vec<Block>,
    /// (question name, row, list) of imported selects.
    selects: Vec<(String, usize, String)>,
    /// Rows whose texts contain `${…}` (shown as typed).
    placeholders: Vec<String>,
}

impl Importer {
    fn new(file: &str, book: Book) -> Importer {
        Importer {
            file: file.to_string(),
            book,
            skipped: Vec::new(),
            notes: Vec::new(),
            questions: Vec::new(),
            imported: HashMap::new(),
            skipped_names: HashMap::new(),
            all_names: HashMap::new(),
            sections: Vec::new(),
            stack: Vec::new(),
            selects: Vec::new(),
            placeholders: Vec::new(),
        }
    }

    fn error(&self, sheet: Option<&str>, row: Option<usize>, message: String) -> ImportError {
        ImportError {
            file: self.file.clone(),
            sheet: sheet.map(str::to_string),
            row,
            message,
        }
    }

    fn skip(&mut self, sheet: &str, row: usize, what: String) {
        self.skipped.push(Skipped {
            sheet: sheet.to_string(),
            row,
            what,
        });
    }

    fn run(mut self) -> Result<Imported, ImportError> {
        let Some(survey_grid) = self.book.survey.take() else {
            let names = if self.book.sheet_names.is_empty() {
                "none".to_string()
            } else {
                self.book
                    .sheet_names
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(self.error(
                None,
                None,
                format!("the workbook has no 'survey' sheet (sheets found: {names})"),
            ));
        };
        let choices_grid = self.book.choices.take();
        let settings_grid = self.book.settings.take();
        self.notes.append(&mut self.book.notes);

        // Languages: every language header of the three sheets, and default_language.
        let settings_row = settings_grid.as_ref().and_then(|g| g.rows.first().cloned());
        let default_language_spec = settings_grid.as_ref().and_then(|g| {
            let col = g.header.iter().position(|h| {
                field_of(SheetKind::Settings, &split_header(h).0) == Some(Field::DefaultLanguage)
            })?;
            let v = settings_row.as_ref()?.get(Some(col)).to_string();
            (!v.is_empty()).then_some(v)
        });
        let mut specs: Vec<String> = Vec::new();
        for (grid, kind) in [
            (Some(&survey_grid), SheetKind::Survey),
            (choices_grid.as_ref(), SheetKind::Choices),
            (settings_grid.as_ref(), SheetKind::Settings),
        ] {
            for header in grid.map(|g| g.header.as_slice()).unwrap_or(&[]) {
                let (base, lang) = split_header(header);
                if field_of(kind, &base).is_some_and(Field::localised) {
                    specs.extend(lang);
                }
            }
        }
        specs.extend(default_language_spec.clone());
        let langs = Languages::new(specs.iter().map(String::as_str));
        let default_lang = default_language_spec
            .as_deref()
            .and_then(|s| langs.code(s))
            .unwrap_or("en")
            .to_string();

        let mut notes = Vec::new();
        let survey_cols = columns_of(
            &survey_grid,
            SheetKind::Survey,
            &langs,
            &default_lang,
            &mut notes,
        );
        let choices_cols = choices_grid
            .as_ref()
            .map(|g| columns_of(g, SheetKind::Choices, &langs, &default_lang, &mut notes));
        let settings_cols = settings_grid
            .as_ref()
            .map(|g| columns_of(g, SheetKind::Settings, &langs, &default_lang, &mut notes));
        self.notes.append(&mut notes);

        if survey_grid.header.iter().all(|h| h.is_empty()) {
            return Err(self.error(
                Some(&survey_grid.name),
                None,
                format!("the '{}' sheet is empty", survey_grid.name),
            ));
        }
        for (field, column) in [(Field::Type, "type"), (Field::Name, "name")] {
            if !survey_cols.has(field) {
                return Err(self.error(
                    Some(&survey_grid.name),
                    None,
                    format!(
                        "the '{}' sheet has no '{column}' column (its columns: {})",
                        survey_grid.name,
                        survey_grid
                            .header
                            .iter()
                            .filter(|h| !h.is_empty())
                            .map(|h| format!("'{h}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        note_other_columns(&survey_grid, &survey_cols, "columns", &mut self.notes);

        self.survey_rows(&survey_grid, &survey_cols)?;

        if self.questions.is_empty() {
            let mut reasons: Vec<String> = self
                .skipped
                .iter()
                .take(5)
                .map(|s| format!("row {}: {}", s.row, s.what))
                .collect();
            if self.skipped.len() > 5 {
                reasons.push(format!("and {} more", self.skipped.len() - 5));
            }
            let detail = if reasons.is_empty() {
                "the sheet has no questions".to_string()
            } else {
                reasons.join("; ")
            };
            return Err(self.error(
                Some(&survey_grid.name),
                None,
                format!("no question could be imported: {detail}"),
            ));
        }

        let choices = self.choices(choices_grid.as_ref(), choices_cols.as_ref())?;

        let (id, version, title) =
            self.settings(settings_grid.as_ref(), settings_cols.as_ref(), settings_row);

        let mut survey = Survey {
            id,
            version,
            kind: SurveyKind::Feedback,
            respondent: Respondent::Public,
            framework: None,
            languages: Vec::new(),
            title,
            description: Text::new(),
            sections: std::mem::take(&mut self.sections),
            choices,
            questions: std::mem::take(&mut self.questions),
        };

        let mut language_columns: Vec<(String, String, String)> = Vec::new();
        for (grid, cols) in [
            (Some(&survey_grid), Some(&survey_cols)),
            (choices_grid.as_ref(), choices_cols.as_ref()),
            (settings_grid.as_ref(), settings_cols.as_ref()),
        ] {
            if let (Some(g), Some(c)) = (grid, cols) {
                for (code, header) in &c.language_columns {
                    language_columns.push((code.clone(), header.clone(), g.name.clone()));
                }
            }
        }
        self.languages(&mut survey, &default_lang, &language_columns, &langs);

        if !self.placeholders.is_empty() {
            self.notes.push(format!(
                "texts with ${{…}} references are kept as typed (clusterpulse does not \
                 substitute answers into texts): {}",
                self.placeholders.join(", ")
            ));
        }
        self.notes.push(
            "the survey is imported as kind = \"feedback\", respondent = \"public\", without \
             framework (an XLSForm does not say); edit the TOML to set kind, respondent, \
             framework, question indicators and choice scores if it is a performance survey"
                .to_string(),
        );
        self.notes.push(format!(
            "save the result as surveys/{}.toml (the file name must equal the id)",
            survey.id
        ));

        self.check_with_loader(&survey)?;

        Ok(Imported {
            survey,
            skipped: self.skipped,
            notes: self.notes,
        })
    }

    /// The last gate: the survey must load as the server would load it.
    fn check_with_loader(&self, survey: &Survey) -> Result<(), ImportError> {
        let source = load::Source {
            path: format!("surveys/{}.toml", survey.id),
            text: write::survey_to_toml(survey),
        };
        match load::parse_survey(&source) {
            Ok(_) => Ok(()),
            Err(problems) => {
                let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                Err(self.error(
                    None,
                    None,
                    format!(
                        "the converted survey does not pass validation (a bug in the \
                         importer; please report it with the form): {}",
                        list.join("; ")
                    ),
                ))
            }
        }
    }

    // --- the survey sheet ---------------------------------------------------------------

    fn survey_rows(&mut self, grid: &Grid, cols: &Columns) -> Result<(), ImportError> {
        let sheet = grid.name.clone();
        for row in &grid.rows {
            let name = row.get(cols.col(Field::Name));
            if !name.is_empty() {
                self.all_names.entry(name.to_string()).or_insert(row.number);
            }
        }
        for row in &grid.rows {
            if row.is_empty() {
                continue;
            }
            self.survey_row(&sheet, row, cols)?;
        }
        // Blocks never closed.
        while let Some(block) = self.stack.pop() {
            let (what, name, row) = match &block {
                Block::Group { name, row, .. } => ("group", name.clone(), *row),
                Block::Repeat { name, row } => ("repeat", name.clone(), *row),
            };
            self.notes.push(format!(
                "sheet '{sheet}': {what} '{name}' (row {row}) is never closed; it is taken to \
                 run to the end of the sheet"
            ));
            self.close_group(&sheet, block);
        }
        Ok(())
    }

    fn in_repeat(&self) -> Option<String> {
        self.stack.iter().rev().find_map(|b| match b {
            Block::Repeat { name, .. } => Some(name.clone()),
            _ => None,
        })
    }

    fn survey_row(
        &mut self,
        sheet: &str,
        row: &GridRow,
        cols: &Columns,
    ) -> Result<(), ImportError> {
        let type_text = row.get(cols.col(Field::Type)).to_string();
        let name = row.get(cols.col(Field::Name)).to_string();
        let shown_name = if name.is_empty() {
            "(no name)".to_string()
        } else {
            name.clone()
        };
        let kind = row_kind(&type_text);
        let repeat = self.in_repeat();

        if type_text.is_empty() {
            let what = if name.is_empty() {
                "row without a type or a name: not a question".to_string()
            } else {
                format!("row '{name}' has no type: not imported")
            };
            self.skip(sheet, row.number, what);
            return Ok(());
        }

        match kind {
            RowKind::EndGroup | RowKind::EndRepeat => {
                let want_group = kind == RowKind::EndGroup;
                match self.stack.last() {
                    Some(Block::Group { .. }) if want_group => {}
                    Some(Block::Repeat { .. }) if !want_group => {}
                    Some(Block::Group { name, row: r, .. }) => {
                        return Err(self.error(
                            Some(sheet),
                            Some(row.number),
                            format!(
                                "'{type_text}' closes group '{name}' (row {r}), which needs \
                                 'end group'"
                            ),
                        ))
                    }
                    Some(Block::Repeat { name, row: r }) => {
                        return Err(self.error(
                            Some(sheet),
                            Some(row.number),
                            format!(
                                "'{type_text}' closes repeat '{name}' (row {r}), which needs \
                                 'end repeat'"
                            ),
                        ))
                    }
                    None => {
                        return Err(self.error(
                            Some(sheet),
                            Some(row.number),
                            format!("'{type_text}' without a matching begin row"),
                        ))
                    }
                }
                if let Some(block) = self.stack.pop() {
                    self.close_group(sheet, block);
                }
                Ok(())
            }
            RowKind::BeginRepeat => {
                let what = match &repeat {
                    Some(outer) => format!(
                        "repeat group '{shown_name}' ({type_text}) inside repeat group \
                         '{outer}': repeats are not supported"
                    ),
                    None => format!(
                        "repeat group '{shown_name}' ({type_text}): repeats are not supported"
                    ),
                };
                self.skip(sheet, row.number, what);
                self.remember_skipped(&name, row.number);
                self.stack.push(Block::Repeat {
                    name: shown_name,
                    row: row.number,
                });
                Ok(())
            }
            RowKind::BeginGroup => {
                if let Some(outer) = &repeat {
                    self.skip(
                        sheet,
                        row.number,
                        format!(
                            "group '{shown_name}' ({type_text}) inside repeat group '{outer}': \
                             repeats are not supported"
                        ),
                    );
                    self.stack.push(Block::Group {
                        name: shown_name,
                        row: row.number,
                        type_text,
                        title: Text::new(),
                        relevant: None,
                        section: None,
                        skipped: true,
                    });
                    return Ok(());
                }
                if let Some(Block::Group { name: outer, .. }) = self.stack.last() {
                    self.notes.push(format!(
                        "sheet '{sheet}', row {}: group '{shown_name}' is nested in group \
                         '{outer}'; groups are flattened, so its questions form their own \
                         section",
                        row.number
                    ));
                }
                let relevant = self.expression(
                    sheet,
                    row,
                    cols.col(Field::Relevant),
                    "relevant",
                    &format!("group '{shown_name}'"),
                    &name,
                    false,
                );
                if relevant.is_some() {
                    self.notes.push(format!(
                        "sheet '{sheet}', row {}: the relevant of group '{shown_name}' is added \
                         to the relevant of every question inside it",
                        row.number
                    ));
                }
                let name = if name.is_empty() {
                    format!("group_{}", row.number)
                } else {
                    name
                };
                self.stack.push(Block::Group {
                    name,
                    row: row.number,
                    type_text,
                    title: cols.text(Field::Label, row),
                    relevant,
                    section: None,
                    skipped: false,
                });
                Ok(())
            }
            RowKind::Unsupported(reason) => {
                let what = match &repeat {
                    Some(outer) => format!(
                        "question '{shown_name}' ({type_text}) inside repeat group '{outer}': \
                         repeats are not supported (and {reason})"
                    ),
                    None => format!("question '{shown_name}' ({type_text}): {reason}"),
                };
                self.skip(sheet, row.number, what);
                self.remember_skipped(&name, row.number);
                Ok(())
            }
            RowKind::Question {
                qtype,
                list,
                dropped,
            } => {
                if let Some(outer) = &repeat {
                    self.skip(
                        sheet,
                        row.number,
                        format!(
                            "question '{shown_name}' ({type_text}) inside repeat group \
                             '{outer}': repeats are not supported"
                        ),
                    );
                    self.remember_skipped(&name, row.number);
                    return Ok(());
                }
                self.question(sheet, row, cols, &type_text, name, qtype, list, dropped)
            }
        }
    }

    fn remember_skipped(&mut self, name: &str, row: usize) {
        if !name.is_empty() {
            self.skipped_names.entry(name.to_string()).or_insert(row);
        }
    }

    fn close_group(&mut self, sheet: &str, block: Block) {
        if let Block::Group {
            name,
            row,
            type_text,
            section: None,
            skipped: false,
            ..
        } = block
        {
            self.skip(
                sheet,
                row,
                format!(
                    "group '{name}' ({type_text}): no question was imported directly inside it, \
                     so it is not a section (nested groups become sections of their own)"
                ),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn question(
        &mut self,
        sheet: &str,
        row: &GridRow,
        cols: &Columns,
        type_text: &str,
        name: String,
        qtype: QuestionType,
        list: Option<String>,
        dropped: Option<String>,
    ) -> Result<(), ImportError> {
        if name.is_empty() {
            return Err(self.error(
                Some(sheet),
                Some(row.number),
                format!("the question of type '{type_text}' has no name"),
            ));
        }
        if !valid_name(&name) {
            return Err(self.error(
                Some(sheet),
                Some(row.number),
                format!(
                    "the question name '{name}' is not valid: a name starts with a letter or \
                     '_' and has only letters, digits and '_'"
                ),
            ));
        }
        if let Some(first) = self.imported.get(&name) {
            return Err(self.error(
                Some(sheet),
                Some(row.number),
                format!("the question name '{name}' is already used on row {first}"),
            ));
        }
        if let Some(note) = dropped {
            self.notes.push(format!(
                "sheet '{sheet}', row {}: question '{name}': {note}",
                row.number
            ));
        }
        let what = format!("question '{name}'");
        let own_relevant = self.expression(
            sheet,
            row,
            cols.col(Field::Relevant),
            "relevant",
            &what,
            &name,
            false,
        );
        let constraint = self.expression(
            sheet,
            row,
            cols.col(Field::Constraint),
            "constraint",
            &what,
            &name,
            true,
        );
        let mut constraint_message = cols.text(Field::ConstraintMessage, row);
        if constraint.is_none() && !constraint_message.is_empty() {
            constraint_message.clear();
            let why = if row.get(cols.col(Field::Constraint)).is_empty() {
                "the question has no constraint"
            } else {
                "it goes with the dropped constraint"
            };
            self.skip(
                sheet,
                row.number,
                format!("constraint_message of {what} dropped: {why}"),
            );
        }

        let required_text = row.get(cols.col(Field::Required));
        let mut required = match truthy(required_text) {
            Some(b) => b,
            None => {
                self.skip(
                    sheet,
                    row.number,
                    format!(
                        "required of {what} dropped: '{required_text}' is an expression \
                         (conditional required is not supported); imported as not required"
                    ),
                );
                false
            }
        };
        if required && qtype == QuestionType::Note {
            required = false;
            self.skip(
                sheet,
                row.number,
                format!("required of {what} dropped: a note cannot be required"),
            );
        }

        // The section and the groups' relevants.
        let mut relevants = Vec::new();
        let mut section = None;
        for block in &self.stack {
            if let Block::Group { relevant, .. } = block {
                relevants.extend(relevant.clone());
            }
        }
        relevants.extend(own_relevant);
        let relevant = match relevants.len() {
            0 => None,
            1 => relevants.pop(),
            _ => Some(
                relevants
                    .iter()
                    .map(|r| format!("({r})"))
                    .collect::<Vec<_>>()
                    .join(" and "),
            ),
        };
        if let Some(idx) = self
            .stack
            .iter()
            .rposition(|b| matches!(b, Block::Group { .. }))
        {
            let existing: BTreeSet<String> = self.sections.iter().map(|s| s.id.clone()).collect();
            if let Block::Group {
                name: group,
                title,
                section: group_section,
                ..
            } = &mut self.stack[idx]
            {
                if group_section.is_none() {
                    let base = section_slug(group);
                    let mut id = base.clone();
                    let mut n = 2;
                    while existing.contains(&id) {
                        id = format!("{base}_{n}");
                        n += 1;
                    }
                    let mut title = title.clone();
                    if title.is_empty() {
                        title.insert(String::new(), group.clone());
                        self.notes.push(format!(
                            "group '{group}' has no label; its name is the title of section \
                             '{id}'"
                        ));
                    }
                    *group_section = Some(id.clone());
                    self.sections.push(Section { id, title });
                }
                section = group_section.clone();
            }
        }

        let mut label = cols.text(Field::Label, row);
        if label.is_empty() {
            // Filled with the name in the default language later.
            label.insert(String::new(), name.clone());
            self.notes.push(format!(
                "sheet '{sheet}', row {}: question '{name}' has no label; its name is used as \
                 the label",
                row.number
            ));
        }
        let hint = cols.text(Field::Hint, row);
        if label
            .values()
            .chain(hint.values())
            .chain(constraint_message.values())
            .any(|t| t.contains("${"))
        {
            self.placeholders
                .push(format!("'{name}' (row {})", row.number));
        }

        if let Some(l) = &list {
            self.selects.push((name.clone(), row.number, l.clone()));
        }
        self.imported.insert(name.clone(), row.number);
        self.questions.push(Question {
            name,
            qtype,
            list,
            label,
            hint,
            required,
            relevant,
            constraint,
            constraint_message,
            indicator: None,
            section,
        });
        Ok(())
    }

    /// Check a `relevant` / `constraint` cell; `None` when empty or dropped (and then
    /// listed in `skipped` with the reason).
    #[allow(clippy::too_many_arguments)]
    fn expression(
        &mut self,
        sheet: &str,
        row: &GridRow,
        col: Option<usize>,
        kind: &str,
        what: &str,
        own_name: &str,
        is_constraint: bool,
    ) -> Option<String> {
        let src = row.get(col).trim().to_string();
        if src.is_empty() {
            return None;
        }
        let problem = match expr::parse(&src) {
            Err(e) => Some(format!("does not parse ({e})")),
            Ok(parsed) => {
                let mut problem = None;
                if !is_constraint && parsed.uses_dot() {
                    problem = Some("uses '.', which only has a meaning in a constraint".into());
                }
                for r in parsed.references() {
                    if problem.is_some() {
                        break;
                    }
                    problem = if self.imported.contains_key(&r) {
                        None
                    } else if r == own_name {
                        Some(if is_constraint {
                            format!("refers to the question itself as ${{{r}}} (use '.')")
                        } else {
                            format!("refers to the question itself (${{{r}}})")
                        })
                    } else if let Some(at) = self.skipped_names.get(&r) {
                        Some(format!(
                            "refers to '{r}', which is not imported (row {at} is skipped)"
                        ))
                    } else if let Some(at) = self.all_names.get(&r) {
                        Some(format!(
                            "refers to '{r}', which comes later (row {at}); only earlier \
                             questions can be referred to"
                        ))
                    } else {
                        Some(format!("refers to '{r}', which is not in the form"))
                    };
                }
                problem
            }
        };
        match problem {
            None => Some(src),
            Some(p) => {
                let kept = if what.starts_with("group") {
                    "the group's questions are kept without it"
                } else {
                    "the question is kept without it"
                };
                self.skip(
                    sheet,
                    row.number,
                    format!("{kind} of {what} dropped: '{src}' {p}; {kept}"),
                );
                None
            }
        }
    }

    // --- the choices sheet --------------------------------------------------------------

    fn choices(
        &mut self,
        grid: Option<&Grid>,
        cols: Option<&Columns>,
    ) -> Result<BTreeMap<String, Vec<Choice>>, ImportError> {
        let mut out = BTreeMap::new();
        let (grid, cols) = match (grid, cols) {
            (Some(g), Some(c)) => (g, c),
            _ => {
                if let Some((q, row, list)) = self.selects.first() {
                    return Err(self.error(
                        Some("survey"),
                        Some(*row),
                        format!(
                            "question '{q}' uses the choice list '{list}', but the workbook has \
                             no 'choices' sheet"
                        ),
                    ));
                }
                return Ok(out);
            }
        };
        if self.selects.is_empty() {
            return Ok(out);
        }
        let sheet = grid.name.clone();
        let value_col = cols.col(Field::Name).or(cols.col(Field::Value));
        if cols.col(Field::Name).is_some() && cols.col(Field::Value).is_some() {
            self.notes.push(format!(
                "sheet '{sheet}' has both 'name' and 'value' columns; 'name' is used"
            ));
        }
        let Some(list_col) = cols.col(Field::ListName) else {
            return Err(self.error(
                Some(&sheet),
                None,
                "the choices sheet has no 'list_name' column".to_string(),
            ));
        };
        let Some(value_col) = value_col else {
            return Err(self.error(
                Some(&sheet),
                None,
                "the choices sheet has no 'name' (or 'value') column".to_string(),
            ));
        };
        note_other_columns(grid, cols, "columns", &mut self.notes);

        // All lists, in sheet order, with their rows.
        let mut lists: BTreeMap<String, Vec<(usize, String, Text)>> = BTreeMap::new();
        for row in &grid.rows {
            let list = row.get(Some(list_col));
            let value = row.get(Some(value_col));
            if list.is_empty() && value.is_empty() {
                continue;
            }
            lists.entry(list.to_string()).or_default().push((
                row.number,
                value.to_string(),
                cols.text(Field::Label, row),
            ));
        }

        let used: BTreeSet<String> = self.selects.iter().map(|s| s.2.clone()).collect();
        for (q, row, list) in self.selects.clone() {
            if !lists.contains_key(&list) {
                let known: Vec<&str> = lists.keys().map(String::as_str).collect();
                return Err(self.error(
                    Some("survey"),
                    Some(row),
                    format!(
                        "question '{q}' uses the choice list '{list}', which is not in the \
                         choices sheet (lists there: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
        }
        let mut unused = Vec::new();
        for (list, rows) in lists {
            if !used.contains(&list) {
                if !list.is_empty() {
                    unused.push(list);
                }
                continue;
            }
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut options = Vec::new();
            for (row, value, mut label) in rows {
                if value.is_empty() {
                    return Err(self.error(
                        Some(&sheet),
                        Some(row),
                        format!("a choice of list '{list}' has no name"),
                    ));
                }
                if !valid_choice_value(&value) {
                    return Err(self.error(
                        Some(&sheet),
                        Some(row),
                        format!(
                            "the choice name '{value}' in list '{list}' is not valid: use only \
                             letters, digits, '_', '.' and '-'"
                        ),
                    ));
                }
                if let Some(first) = seen.get(&value) {
                    return Err(self.error(
                        Some(&sheet),
                        Some(row),
                        format!(
                            "the choice '{value}' appears twice in list '{list}' (rows {first} \
                             and {row})"
                        ),
                    ));
                }
                seen.insert(value.clone(), row);
                if label.is_empty() {
                    label.insert(String::new(), value.clone());
                    self.notes.push(format!(
                        "sheet '{sheet}', row {row}: choice '{value}' of list '{list}' has no \
                         label; its name is used as the label"
                    ));
                }
                options.push(Choice {
                    value,
                    label,
                    score: None,
                });
            }
            out.insert(list, options);
        }
        if !unused.is_empty() {
            self.notes.push(format!(
                "choice lists not used by any imported question are left out: {}",
                unused.join(", ")
            ));
        }
        Ok(out)
    }

    // --- the settings sheet -------------------------------------------------------------

    fn settings(
        &mut self,
        grid: Option<&Grid>,
        cols: Option<&Columns>,
        row: Option<GridRow>,
    ) -> (String, u32, Text) {
        let empty = GridRow {
            number: 2,
            cells: Vec::new(),
        };
        let row = row.unwrap_or(empty);
        let get = |f: Field| {
            cols.and_then(|c| c.col(f))
                .map(|i| row.get(Some(i)).to_string())
                .unwrap_or_default()
        };
        if let (Some(g), Some(c)) = (grid, cols) {
            let mut ignored = Vec::new();
            for &i in &c.other {
                let v = row.get(Some(i));
                if !v.is_empty() {
                    ignored.push(format!("'{}'", g.header[i]));
                }
            }
            if !ignored.is_empty() {
                self.notes.push(format!(
                    "sheet '{}': settings not carried over: {}",
                    g.name,
                    ignored.join(", ")
                ));
            }
        }

        let stem = Path::new(&self.file)
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let form_id = get(Field::FormId);
        let id_string = get(Field::IdString);
        let mut id = String::new();
        for (source, raw) in [
            ("form_id", form_id.as_str()),
            ("id_string", id_string.as_str()),
            ("the file name", stem.as_str()),
        ] {
            let s = slug(raw);
            if s.is_empty() {
                continue;
            }
            if s != raw || source == "the file name" {
                self.notes
                    .push(format!("the survey id '{s}' comes from {source} '{raw}'"));
            }
            id = s;
            break;
        }
        if id.is_empty() {
            id = "imported-survey".to_string();
            self.notes.push(
                "no usable form_id or file name: the survey id is 'imported-survey'".to_string(),
            );
        }

        let raw_version = get(Field::Version);
        let version = if raw_version.is_empty() {
            self.notes
                .push("the settings give no version: version = 1".to_string());
            1
        } else {
            match raw_version.parse::<u64>() {
                Ok(v) if (1..=u64::from(u32::MAX)).contains(&v) => v as u32,
                Ok(v) => {
                    self.notes.push(format!(
                        "the settings version {v} is not between 1 and {}: version = 1",
                        u32::MAX
                    ));
                    1
                }
                Err(_) => {
                    self.notes.push(format!(
                        "the settings version '{raw_version}' is not a whole number: version = 1"
                    ));
                    1
                }
            }
        };

        let mut title = cols
            .map(|c| c.text(Field::FormTitle, &row))
            .unwrap_or_default();
        if title.is_empty() {
            let fallback = [form_id.as_str(), id_string.as_str(), stem.as_str()]
                .into_iter()
                .find(|s| !s.is_empty())
                .unwrap_or(id.as_str())
                .to_string();
            self.notes.push(format!(
                "the settings give no form_title: the title is '{fallback}'"
            ));
            title.insert(String::new(), fallback);
        }
        (id, version, title)
    }

    // --- languages ----------------------------------------------------------------------

    /// Settle the survey's languages, fill missing texts from the default language, and
    /// note which column became which language.
    fn languages(
        &mut self,
        survey: &mut Survey,
        default_lang: &str,
        columns: &[(String, String, String)],
        langs: &Languages,
    ) {
        // Texts without a language ("" key: fallbacks such as a name used as label) are in
        // the default language.
        let mut present: BTreeSet<String> = BTreeSet::new();
        let mut visit = |t: &mut Text| {
            if let Some(v) = t.remove("") {
                t.entry(default_lang.to_string()).or_insert(v);
            }
            present.extend(t.keys().cloned());
        };
        visit(&mut survey.title);
        for s in &mut survey.sections {
            visit(&mut s.title);
        }
        for options in survey.choices.values_mut() {
            for c in options {
                visit(&mut c.label);
            }
        }
        for q in &mut survey.questions {
            visit(&mut q.label);
            visit(&mut q.hint);
            visit(&mut q.constraint_message);
        }

        // Order: the default, then in order of the columns.
        let mut order: Vec<String> = Vec::new();
        let first_found = columns
            .iter()
            .map(|c| c.0.clone())
            .find(|c| present.contains(c));
        let default = if present.contains(default_lang) {
            default_lang.to_string()
        } else {
            let fallback = first_found.unwrap_or_else(|| default_lang.to_string());
            if default_lang != "en" {
                self.notes.push(format!(
                    "the default_language '{default_lang}' has no texts; '{fallback}' is the \
                     default language"
                ));
            }
            fallback
        };
        order.push(default.clone());
        for (code, _, _) in columns {
            if present.contains(code) && !order.contains(code) {
                order.push(code.clone());
            }
        }
        for code in &present {
            if !order.contains(code) {
                order.push(code.clone());
            }
        }

        // Which columns became which language.
        for code in &order {
            let cols: Vec<String> = columns
                .iter()
                .filter(|c| &c.0 == code)
                .map(|(_, header, sheet)| {
                    let (_, spec) = split_header(header);
                    match spec {
                        None => format!(
                            "'{header}' ({sheet}; no language in the header, so the default)"
                        ),
                        Some(_) => format!("'{header}' ({sheet})"),
                    }
                })
                .collect();
            let default_mark = if *code == default { " (default)" } else { "" };
            if cols.is_empty() {
                self.notes
                    .push(format!("language '{code}'{default_mark}: no column"));
            } else {
                self.notes.push(format!(
                    "language '{code}'{default_mark} from columns {}",
                    cols.join(", ")
                ));
            }
        }
        for (spec, code) in &langs.derived {
            if order.contains(code) {
                self.notes.push(format!(
                    "the language '{spec}' has no code and is not a known language name; it got \
                     the code '{code}' (replace it in the TOML with the right 2–3 letter code)"
                ));
            }
        }

        // Fill every text missing in a language from the default language.
        // (missing language, language copied from) → texts.
        let mut missing: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut fill = |t: &mut Text, what: &str, optional: bool| {
            if optional && t.is_empty() {
                return;
            }
            let Some((from, source)) = order
                .iter()
                .find_map(|l| t.get(l).map(|v| (l.clone(), v.clone())))
            else {
                return;
            };
            for lang in &order {
                if !t.contains_key(lang) {
                    t.insert(lang.clone(), source.clone());
                    missing
                        .entry((lang.clone(), from.clone()))
                        .or_default()
                        .push(what.to_string());
                }
            }
        };
        fill(&mut survey.title, "the title", false);
        for s in &mut survey.sections {
            fill(
                &mut s.title,
                &format!("the title of section '{}'", s.id),
                false,
            );
        }
        for (list, options) in survey.choices.iter_mut() {
            for c in options {
                fill(
                    &mut c.label,
                    &format!("the label of choice '{}' in list '{list}'", c.value),
                    false,
                );
            }
        }
        for q in &mut survey.questions {
            fill(&mut q.label, &format!("the label of '{}'", q.name), false);
            fill(&mut q.hint, &format!("the hint of '{}'", q.name), true);
            fill(
                &mut q.constraint_message,
                &format!("the constraint message of '{}'", q.name),
                true,
            );
        }
        for ((lang, from), whats) in missing {
            self.notes.push(format!(
                "no '{lang}' text for {}; copied from '{from}' (translate them in the TOML)",
                whats.join(", ")
            ));
        }
        survey.languages = order;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::Workbook;

    /// A workbook from sheets written as text: one line per row, cells separated by `|`
    /// (an empty line is an empty row).
    fn xlsx(sheets: &[(&str, &str)]) -> Vec<u8> {
        let mut wb = Workbook::new();
        for (name, text) in sheets {
            let ws = wb.add_worksheet();
            ws.set_name(*name).unwrap();
            for (r, line) in text.trim_matches('\n').lines().enumerate() {
                for (c, cell) in line.split('|').enumerate() {
                    let cell = cell.trim();
                    if !cell.is_empty() {
                        ws.write_string(r as u32, c as u16, cell).unwrap();
                    }
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn import(name: &str, bytes: &[u8]) -> Imported {
        match import_bytes(name, bytes) {
            Ok(i) => i,
            Err(e) => panic!("import failed: {e}"),
        }
    }

    fn refuse(sheets: &[(&str, &str)]) -> ImportError {
        match import_bytes("f.xlsx", &xlsx(sheets)) {
            Ok(i) => panic!("imported: {:?}", i.survey),
            Err(e) => e,
        }
    }

    fn skipped_rows(i: &Imported) -> Vec<(usize, String)> {
        i.skipped.iter().map(|s| (s.row, s.what.clone())).collect()
    }

    fn has_skip(i: &Imported, row: usize, needle: &str) -> bool {
        i.skipped
            .iter()
            .any(|s| s.row == row && s.what.contains(needle))
    }

    fn t(pairs: &[(&str, &str)]) -> Text {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn groups_translations_selects_and_constraints() {
        let survey = "
type | name | label::English (en) | label::French (fr) | hint::English (en) | required | relevant | constraint | constraint_message::English (en) | constraint_message::French (fr) | appearance
begin_group | about | About you | À propos de vous
integer | age | Age | Âge | In years | yes | | . >= 0 and . <= 120 | 0 to 120 | 0 à 120
select_one yn | works | Do you work? | Travaillez-vous ? | | TRUE()

begin group | inner | Inner | Intérieur | | | ${works} = 'yes'
select_multiple topics | topics | Topics | Sujets | | | | count-selected(.) <= 2 | At most two | Deux au plus | minimal
end group
text | comment | Anything else? | | | no | selected(${topics}, 'water')
end_group
date | when | When? | Quand ? | | 1 | ${age} > today()
note | bye | Thanks | Merci | | | | regex(., 'x') | Bad | Mauvais
";
        let choices = "
list_name | name | label::English (en) | label::French (fr)
yn | yes | Yes | Oui
yn | no | No | Non
topics | water | Water | Eau
topics | food | Food
unused | x | X | X
";
        let settings = "
form_title | form_id | version | default_language
Household check | Household Check 2024 | 2024061201 | French (fr)
";
        let bytes = xlsx(&[
            ("survey", survey),
            ("choices", choices),
            ("settings", settings),
        ]);
        let i = import("check.xlsx", &bytes);
        let s = &i.survey;
        assert_eq!(s.id, "household-check-2024");
        assert_eq!(s.version, 2024061201);
        assert_eq!(s.kind, SurveyKind::Feedback);
        assert_eq!(s.respondent, Respondent::Public);
        assert_eq!(s.framework, None);
        assert_eq!(s.languages, ["fr", "en"]);
        assert_eq!(
            s.title,
            t(&[("en", "Household check"), ("fr", "Household check")])
        );
        let names: Vec<&str> = s.questions.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["age", "works", "topics", "comment", "when", "bye"]);
        assert_eq!(
            s.sections,
            vec![
                Section {
                    id: "about".into(),
                    title: t(&[("en", "About you"), ("fr", "À propos de vous")]),
                },
                Section {
                    id: "inner".into(),
                    title: t(&[("en", "Inner"), ("fr", "Intérieur")]),
                },
            ]
        );
        let age = &s.questions[0];
        assert_eq!(age.qtype, QuestionType::Integer);
        assert!(age.required);
        assert_eq!(age.section.as_deref(), Some("about"));
        assert_eq!(age.relevant, None);
        assert_eq!(age.constraint.as_deref(), Some(". >= 0 and . <= 120"));
        assert_eq!(
            age.constraint_message,
            t(&[("en", "0 to 120"), ("fr", "0 à 120")])
        );
        assert_eq!(age.hint, t(&[("en", "In years"), ("fr", "In years")]));
        let works = &s.questions[1];
        assert_eq!(works.qtype, QuestionType::SelectOne);
        assert_eq!(works.list.as_deref(), Some("yn"));
        assert!(works.required);
        let topics = &s.questions[2];
        assert_eq!(topics.qtype, QuestionType::SelectMultiple);
        assert_eq!(topics.list.as_deref(), Some("topics"));
        assert_eq!(topics.section.as_deref(), Some("inner"));
        assert_eq!(topics.relevant.as_deref(), Some("${works} = 'yes'"));
        assert_eq!(topics.constraint.as_deref(), Some("count-selected(.) <= 2"));
        let comment = &s.questions[3];
        assert_eq!(
            comment.section.as_deref(),
            Some("about"),
            "back in the outer group"
        );
        assert!(!comment.required);
        assert_eq!(
            comment.relevant.as_deref(),
            Some("selected(${topics}, 'water')")
        );
        assert_eq!(
            comment.label,
            t(&[("en", "Anything else?"), ("fr", "Anything else?")])
        );
        let when = &s.questions[4];
        assert_eq!(when.qtype, QuestionType::Date);
        assert_eq!(when.section, None);
        assert_eq!(when.relevant, None, "today() is not supported");
        assert!(when.required);
        let bye = &s.questions[5];
        assert_eq!(bye.constraint, None);
        assert!(bye.constraint_message.is_empty());
        assert_eq!(s.choices.keys().collect::<Vec<_>>(), ["topics", "yn"]);
        assert_eq!(
            s.choices["topics"][1].label,
            t(&[("en", "Food"), ("fr", "Food")])
        );
        assert!(s.choices.values().flatten().all(|c| c.score.is_none()));

        assert!(has_skip(&i, 11, "relevant of question 'when' dropped"));
        assert!(has_skip(&i, 11, "unknown function 'today'"));
        assert!(has_skip(&i, 12, "constraint of question 'bye' dropped"));
        assert!(has_skip(&i, 12, "regex"));
        assert!(has_skip(
            &i,
            12,
            "constraint_message of question 'bye' dropped"
        ));
        assert_eq!(i.skipped.len(), 3, "{:?}", skipped_rows(&i));
        let notes = i.notes.join("\n");
        assert!(notes.contains("no 'fr' text for"), "{notes}");
        assert!(notes.contains("the label of 'comment'"), "{notes}");
        assert!(
            notes.contains("the label of choice 'food' in list 'topics'"),
            "{notes}"
        );
        assert!(notes.contains("nested in group 'about'"), "{notes}");
        assert!(notes.contains("'appearance' (1 row)"), "{notes}");
        assert!(notes.contains("not used by any imported question are left out: unused"));
        assert!(
            notes.contains("language 'en' from columns 'label::English (en)' (survey)"),
            "{notes}"
        );
        assert!(notes.contains("language 'fr' (default)"), "{notes}");
        assert!(notes.contains("kind = \"feedback\""), "{notes}");
    }

    #[test]
    fn repeats_calculations_metadata_and_group_relevance() {
        let survey = "
type | name | label | relevant | calculation
start | start
select_one yn | consent | Consent?
begin group | main | Main | ${consent} = 'yes'
integer | members | How many?
calculate | double | | | ${members} * 2
begin_repeat | household | Member
text | member_name | Name
begin group | details | Details
integer | member_age | Age
end group
end_repeat
geopoint | where | Where?
text | why | Why? | ${double} > 2
text | later | Later? | ${after} = 'x'
end group
text | after | After
select_one yn or_other | other_q | Other?

deviceid | device
| | just a comment
";
        let choices = "
list name | name | label
yn | yes | Yes
yn | no | No
";
        let bytes = xlsx(&[("Survey", survey), ("Choices", choices)]);
        let i = import("my form.xlsx", &bytes);
        let s = &i.survey;
        assert_eq!(s.id, "my-form");
        assert_eq!(s.version, 1);
        assert_eq!(s.languages, ["en"]);
        assert_eq!(s.title, t(&[("en", "my form")]));
        let names: Vec<&str> = s.questions.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            names,
            ["consent", "members", "why", "later", "after", "other_q"]
        );
        assert_eq!(s.sections.len(), 1);
        assert_eq!(s.sections[0].id, "main");
        let members = &s.questions[1];
        assert_eq!(members.relevant.as_deref(), Some("${consent} = 'yes'"));
        assert_eq!(members.section.as_deref(), Some("main"));
        // The group's relevance stays; the question's own (naming a calculation) goes.
        assert_eq!(
            s.questions[2].relevant.as_deref(),
            Some("${consent} = 'yes'")
        );
        assert_eq!(s.questions[4].relevant, None);
        assert_eq!(s.questions[4].section, None);
        assert_eq!(s.questions[5].list.as_deref(), Some("yn"));

        let rows: Vec<usize> = i.skipped.iter().map(|s| s.row).collect();
        assert_eq!(
            rows,
            [2, 6, 7, 8, 9, 10, 13, 14, 15, 20, 21],
            "{:?}",
            skipped_rows(&i)
        );
        assert!(has_skip(
            &i,
            2,
            "question 'start' (start): metadata fields are not supported"
        ));
        assert!(has_skip(
            &i,
            6,
            "question 'double' (calculate): calculations are not supported"
        ));
        assert_eq!(
            i.skipped[2].what,
            "repeat group 'household' (begin_repeat): repeats are not supported"
        );
        assert!(has_skip(
            &i,
            8,
            "question 'member_name' (text) inside repeat group 'household'"
        ));
        assert!(has_skip(
            &i,
            9,
            "group 'details' (begin group) inside repeat group 'household'"
        ));
        assert!(has_skip(
            &i,
            10,
            "question 'member_age' (integer) inside repeat group"
        ));
        assert!(has_skip(&i, 13, "location questions are not supported"));
        assert!(has_skip(
            &i,
            14,
            "refers to 'double', which is not imported (row 6 is skipped)"
        ));
        assert!(has_skip(
            &i,
            15,
            "refers to 'after', which comes later (row 17)"
        ));
        assert!(has_skip(&i, 20, "question 'device' (deviceid)"));
        assert!(has_skip(&i, 21, "row without a type or a name"));
        assert!(i.skipped.iter().all(|s| s.sheet == "Survey"));
        let notes = i.notes.join("\n");
        assert!(notes.contains("'or other' is not supported"), "{notes}");
        assert!(
            notes.contains("relevant of group 'main' is added"),
            "{notes}"
        );
        assert!(notes.contains("'calculation' (1 row)"), "{notes}");
        assert!(notes.contains("no version"), "{notes}");
        assert!(
            notes.contains("comes from the file name 'my form'"),
            "{notes}"
        );
    }

    #[test]
    fn languages_by_name_plain_columns_and_derived_codes() {
        let survey = "
type | name | label | label::Français | label::Klingon | hint::es | label::English
text | q1 | Plain | Un | tlhIngan | Uno
note | n1
";
        // `label` (plain, so English) and `label::English`: the first is used.
        let i = import("langs.xlsx", &xlsx(&[("survey", survey)]));
        let s = &i.survey;
        assert_eq!(s.languages, ["en", "fr", "kli", "es"]);
        assert_eq!(
            s.questions[0].label,
            t(&[
                ("en", "Plain"),
                ("fr", "Un"),
                ("kli", "tlhIngan"),
                ("es", "Plain")
            ])
        );
        // The hint exists only in Spanish: copied from there.
        assert_eq!(
            s.questions[0].hint,
            t(&[("en", "Uno"), ("fr", "Uno"), ("kli", "Uno"), ("es", "Uno")])
        );
        // A question without any label gets its name.
        assert_eq!(s.questions[1].label["en"], "n1");
        let notes = i.notes.join("\n");
        assert!(
            notes.contains("column G ('label::English') repeats column C ('label')"),
            "{notes}"
        );
        assert!(notes.contains("'klingon' has no code"), "{notes}");
        assert!(notes.contains("question 'n1' has no label"), "{notes}");
        assert!(
            notes.contains("no 'en' text for the hint of 'q1'; copied from 'es'"),
            "{notes}"
        );
    }

    #[test]
    fn refusals_are_clear() {
        let err = import_bytes("notes.txt", b"type,name,label\ntext,q,Q\n").unwrap_err();
        assert_eq!(err.file, "notes.txt");
        assert!(err.message.contains("not a spreadsheet"), "{err}");
        assert!(err.message.contains("looks like a text file"), "{err}");
        let err = import_bytes("empty.xlsx", b"").unwrap_err();
        assert!(err.message.contains("empty"), "{err}");
        let err = import_bytes("zip.xlsx", b"PK\x03\x04garbage").unwrap_err();
        assert!(
            err.message.contains("not a readable .xlsx workbook"),
            "{err}"
        );
        let err = import_bytes("ole.xls", &OLE_MAGIC).unwrap_err();
        assert!(
            err.message.contains("not a readable .xls workbook"),
            "{err}"
        );

        let err = refuse(&[("Sheet1", "type | name | label\ntext | q | Q")]);
        assert_eq!(
            err.to_string(),
            "f.xlsx: the workbook has no 'survey' sheet (sheets found: 'Sheet1')"
        );

        let err = refuse(&[("survey", "type | label\ntext | Q")]);
        assert_eq!(err.sheet.as_deref(), Some("survey"));
        assert!(err.message.contains("has no 'name' column"), "{err}");
        assert!(
            err.to_string().starts_with("f.xlsx, sheet survey: "),
            "{err}"
        );

        let err = refuse(&[("survey", "type | name\ntext | q\ntext | my-q")]);
        assert_eq!(err.row, Some(3));
        assert!(err.message.contains("'my-q' is not valid"), "{err}");
        assert!(
            err.to_string().starts_with("f.xlsx, sheet survey, row 3: "),
            "{err}"
        );

        let err = refuse(&[("survey", "type | name\ntext | q\ninteger | q")]);
        assert_eq!(err.row, Some(3));
        assert!(err.message.contains("already used on row 2"), "{err}");

        let select = "type | name | label\ntext | q | Q\nselect_one colours | c | C";
        let choices = "list_name | name | label\nyn | yes | Yes";
        let err = refuse(&[("survey", select), ("choices", choices)]);
        assert_eq!(err.row, Some(3));
        assert!(
            err.message
                .contains("list 'colours', which is not in the choices sheet (lists there: yn)"),
            "{err}"
        );
        let err = refuse(&[("survey", select)]);
        assert!(err.message.contains("no 'choices' sheet"), "{err}");

        let choices = "list_name | name | label\nyn | yes | Yes\nyn | yes | Oui";
        let err = refuse(&[
            ("survey", "type | name\nselect_one yn | q"),
            ("choices", choices),
        ]);
        assert_eq!((err.sheet.as_deref(), err.row), (Some("choices"), Some(3)));

        let err = refuse(&[("survey", "type | name\ncalculate | x\nstart | s")]);
        assert!(
            err.message
                .starts_with("no question could be imported: row 2: "),
            "{err}"
        );

        let err = refuse(&[("survey", "type | name\ntext | q\nend group")]);
        assert_eq!(err.row, Some(3));
        assert!(err.message.contains("without a matching begin"), "{err}");

        let big = vec![0u8; MAX_FILE_BYTES as usize + 1];
        let err = import_bytes("big.xlsx", &big).unwrap_err();
        assert!(err.message.contains("over 20 MB"), "{err}");
    }

    #[test]
    fn import_path_reads_files_and_checks_size_first() {
        let dir = std::env::temp_dir().join(format!("xlsform-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("simple.xlsx");
        std::fs::write(
            &path,
            xlsx(&[("survey", "type | name | label\ntext | q | Q")]),
        )
        .unwrap();
        let i = import_path(&path).unwrap();
        assert_eq!(i.survey.id, "simple");
        // A sparse file: its size is known without writing 20 MB.
        let big = dir.join("big.xlsx");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let err = import_path(&big).unwrap_err();
        assert!(err.message.contains("over 20 MB"), "{err}");
        let err = import_path(&dir.join("missing.xlsx")).unwrap_err();
        assert!(err.message.contains("cannot read the file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn type_spellings() {
        let q = |t: QuestionType, l: &str| RowKind::Question {
            qtype: t,
            list: Some(l.to_string()),
            dropped: None,
        };
        assert_eq!(
            row_kind("select_one yes_no"),
            q(QuestionType::SelectOne, "yes_no")
        );
        assert_eq!(
            row_kind("select one from Sexes"),
            q(QuestionType::SelectOne, "Sexes")
        );
        assert_eq!(
            row_kind("select all that apply from toilet_type"),
            q(QuestionType::SelectMultiple, "toilet_type")
        );
        assert!(matches!(
            row_kind("select_multiple l or_other"),
            RowKind::Question {
                dropped: Some(_),
                ..
            }
        ));
        assert!(matches!(
            row_kind("select one from sexes or specify other"),
            RowKind::Question {
                dropped: Some(_),
                ..
            }
        ));
        assert_eq!(row_kind("Begin Group"), RowKind::BeginGroup);
        assert_eq!(row_kind("begin loop over x"), RowKind::BeginRepeat);
        assert_eq!(row_kind("end loop"), RowKind::EndRepeat);
        assert!(matches!(row_kind("select_one"), RowKind::Unsupported(_)));
        assert!(matches!(
            row_kind("select_one_external c1"),
            RowKind::Unsupported(_)
        ));
        assert!(matches!(row_kind("rank"), RowKind::Unsupported(m) if m.contains("'rank'")));
        assert_eq!(known_code("English (en)").as_deref(), Some("en"));
        assert_eq!(known_code("Français (fr)").as_deref(), Some("fr"));
        assert_eq!(known_code("EN").as_deref(), Some("en"));
        assert_eq!(known_code("pt-BR").as_deref(), Some("pt"));
        assert_eq!(known_code("العربية").as_deref(), Some("ar"));
        assert_eq!(known_code("Elvish"), None);
        assert_eq!(
            split_header("bind:jr:constraintMsg"),
            ("constraintmsg".into(), None)
        );
        assert_eq!(
            split_header(" Label::English (en) "),
            ("label".into(), Some("english (en)".into()))
        );
        assert_eq!(split_header("list name"), ("list_name".into(), None));
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(27), "AB");
    }

    /// Every file of the outside corpus imports into a survey the loader accepts, with
    /// every row accounted for, or is refused with a clear message; never a panic.
    /// `CLUSTERPULSE_XLSFORM_CORPUS` points elsewhere if needed.
    #[test]
    fn corpus() {
        let dir = std::env::var_os("CLUSTERPULSE_XLSFORM_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../shared/xlsform-corpus"
                ))
                .to_path_buf()
            });
        let Ok(entries) = std::fs::read_dir(&dir) else {
            println!(
                "xlsform corpus skipped: {} does not exist (it is part of the shared folder \
                 beside the repository)",
                dir.display()
            );
            return;
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("xlsx") | Some("xls")
                )
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no workbook in {}", dir.display());
        for path in files {
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            let outcome = std::panic::catch_unwind(|| import_path(&path));
            let result = match outcome {
                Ok(r) => r,
                Err(_) => panic!("{file}: the import panicked"),
            };
            match result {
                Ok(imported) => {
                    let s = &imported.survey;
                    let text = write::survey_to_toml(s);
                    let loaded = load::parse_survey(&load::Source {
                        path: format!("surveys/{}.toml", s.id),
                        text: text.clone(),
                    });
                    if let Err(problems) = &loaded {
                        let msgs: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                        panic!(
                            "{file}: the loader refuses the import:\n{}\n{text}",
                            msgs.join("\n")
                        );
                    }
                    assert_eq!(loaded.unwrap(), *s, "{file}: round trip");
                    check_rows_accounted(&path, &imported);
                    println!(
                        "{file}: imported '{}' with {} questions, {} sections, languages {:?}; \
                         {} skipped, {} notes",
                        s.id,
                        s.questions.len(),
                        s.sections.len(),
                        s.languages,
                        imported.skipped.len(),
                        imported.notes.len()
                    );
                }
                Err(e) => {
                    assert!(e.message.len() > 10, "{file}: unclear error {e}");
                    println!("{file}: refused: {e}");
                }
            }
        }
    }

    /// Read the survey sheet independently and check that every non-empty row is a
    /// question, a section, or listed in `skipped` (closing rows close what they open).
    fn check_rows_accounted(path: &Path, imported: &Imported) {
        let mut wb = calamine::open_workbook_auto(path).unwrap();
        let name = wb
            .sheet_names()
            .into_iter()
            .find(|n| n.trim().eq_ignore_ascii_case("survey"))
            .unwrap();
        let range = wb.worksheet_range(&name).unwrap();
        let grid = grid_of(&name, &range);
        let col = |f: Field| {
            grid.header
                .iter()
                .position(|h| field_of(SheetKind::Survey, &split_header(h).0) == Some(f))
        };
        let (type_col, name_col) = (col(Field::Type), col(Field::Name));
        let skipped: BTreeSet<usize> = imported.skipped.iter().map(|s| s.row).collect();
        let s = &imported.survey;
        for row in grid.rows.iter().filter(|r| !r.is_empty()) {
            let kind = row_kind(row.get(type_col));
            let name = row.get(name_col);
            let ok = skipped.contains(&row.number)
                || matches!(kind, RowKind::EndGroup | RowKind::EndRepeat)
                || match kind {
                    RowKind::BeginGroup => {
                        let base = section_slug(name);
                        s.sections
                            .iter()
                            .any(|sec| sec.id == base || sec.id.starts_with(&format!("{base}_")))
                    }
                    _ => s.question(name).is_some(),
                };
            assert!(
                ok,
                "{}: row {} ('{}' '{}') is neither imported nor listed as skipped",
                path.display(),
                row.number,
                row.get(type_col),
                name
            );
        }
    }
}
