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
//! - Types: `text`, `integer`, `decimal`, `date`, `note`, `geopoint` (or `gps`),
//!   `calculate` (its `calculation` column), `acknowledge`, `range` (its `parameters`
//!   `start=… end=… step=…`, XLSForm's defaults 1, 10, 1), `select_one L`,
//!   `select_multiple L` (also the old `select one from L`, `select all that apply from L`);
//!   `or_other` / `or specify other` adds an `other` choice (to a copy of the list) and a
//!   text question `NAME_other` shown when it is chosen, as XLSForm tools do;
//!   `phone number` (old pyxform) becomes `text`. `begin group` / `end group` become
//!   sections (nested groups are flattened, each question going to its innermost group's
//!   section; a group's `relevant` is and-ed into the `relevant` of every question inside
//!   it). `begin repeat` / `end repeat` (and the old `begin loop`) become a `repeat`
//!   question whose questions are the rows inside it (groups inside a repeat add their
//!   `relevant` only); a repeat inside a repeat is skipped with every row inside it. Every
//!   other type (`rank`, `select_one_from_file`, lines and shapes, media, metadata such as
//!   `start` or `deviceid`, …) is skipped, naming the type (and the file).
//! - `choice_filter` on a select: the choices-sheet columns it tests are carried over as the
//!   options' `columns` of the lists it filters; a list may then hold the same name under
//!   different parents. A filter testing a column the sheet lacks is dropped (the question
//!   keeps every option), naming the row.
//! - `relevant`, `constraint`, `calculation` and `choice_filter` are checked with
//!   [`expr::parse`] / [`expr::parse_choice_filter`]: an expression that does not parse
//!   (unsupported functions such as `regex()` or `pulldata()` included), that refers to a
//!   question that was not imported, comes later, is the question itself, or is inside a
//!   repeat the row is not in, is dropped from the question (which is kept; a calculate
//!   question without its calculation is not) and listed in `skipped` with the reason. A
//!   `required` that is an expression is dropped the same way.
//! - Settings: `form_id` (or the old `id_string`) becomes the id after reducing it to
//!   `[a-z0-9-]+` (else the file name); `version` is kept when it is an integer from 1 to
//!   `u32::MAX`, else 1 with a note; `form_title` (localised or not) becomes the title;
//!   `default_language` orders the languages.
//! - clusterpulse's own columns make a performance survey: `kind` (`performance` |
//!   `feedback`), `respondent` (`partner` | `coordinator` | `public` | `staff`),
//!   `framework`, `description::…` and `translated_title::…` in the settings, `indicator`
//!   on the survey sheet, `score` on the choices sheet ([`export_xlsx`] writes them all).
//!   Without them the result is a `feedback` survey for the `public`, without framework,
//!   and a note says how to make it a performance survey.
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
use super::model::{
    Choice, Question, QuestionType, RangeSpec, Respondent, Section, Survey, SurveyKind, Text,
};
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

mod columns;
mod export;
pub use export::export_xlsx;
mod types;
mod workbook;

use columns::*;
use types::*;
use workbook::*;

// ----------------------------------------------------------------------------------------
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
        /// Imported as a repeat question: its questions are those imported from `start`
        /// on (`self.questions`) when it closes. Not supported (a repeat inside a repeat):
        /// every row inside is skipped.
        supported: bool,
        start: usize,
        type_text: String,
        label: Text,
        hint: Text,
        relevant: Option<String>,
        required: bool,
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
    /// Names XLSForm allows and clusterpulse does not (`-`, `.`), and what they became.
    renames: Vec<(String, String)>,
    sections: Vec<Section>,
    stack: Vec<Block>,
    /// (question name, row, list) of imported selects.
    selects: Vec<(String, usize, String)>,
    /// Choice lists used with `or_other`: each gets a copy `{list}_or_other` with an
    /// `other` choice added.
    or_other_lists: BTreeSet<String>,
    /// Rows whose texts contain `${…}` (shown as typed).
    placeholders: Vec<String>,
    /// Questions inside an imported repeat → the repeat.
    repeat_children: HashMap<String, String>,
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
            renames: Vec::new(),
            sections: Vec::new(),
            stack: Vec::new(),
            selects: Vec::new(),
            or_other_lists: BTreeSet::new(),
            placeholders: Vec::new(),
            repeat_children: HashMap::new(),
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
        note_other_columns(&survey_grid, &survey_cols, &[], "columns", &mut self.notes);

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

        let (kind, respondent, framework) = self.performance(
            settings_grid.as_ref(),
            settings_cols.as_ref(),
            settings_row.as_ref(),
        )?;
        let description = settings_cols
            .as_ref()
            .zip(settings_row.as_ref())
            .map(|(c, r)| c.text(Field::Description, r))
            .unwrap_or_default();
        let (id, version, title) =
            self.settings(settings_grid.as_ref(), settings_cols.as_ref(), settings_row);

        let mut survey = Survey {
            id,
            version,
            kind,
            respondent,
            framework,
            languages: Vec::new(),
            title,
            description,
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
        if survey.kind == SurveyKind::Feedback && survey.framework.is_none() {
            self.notes.push(
                "the survey is imported as kind = \"feedback\", respondent = \"public\", \
                 without framework: for a performance survey, give the settings sheet the \
                 columns kind, respondent and framework, the survey sheet an indicator column \
                 and the choices sheet a score column (or edit the TOML)"
                    .to_string(),
            );
        }
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
        // XLSForm names may hold '-' and '.'; clusterpulse's take '_' instead. Renamed
        // before anything else, so expressions that refer to them follow.
        let mut taken: BTreeSet<String> = grid
            .rows
            .iter()
            .map(|r| r.get(cols.col(Field::Name)).to_string())
            .collect();
        let mut renamed_rows = Vec::new();
        for row in &grid.rows {
            let name = row.get(cols.col(Field::Name));
            if !name.contains(['-', '.']) || self.renames.iter().any(|(o, _)| o == name) {
                continue;
            }
            let base = name.replace(['-', '.'], "_");
            let mut new = base.clone();
            let mut k = 2;
            while taken.contains(&new) {
                new = format!("{base}_{k}");
                k += 1;
            }
            taken.insert(new.clone());
            renamed_rows.push(format!("'{name}' → '{new}' (row {})", row.number));
            self.renames.push((name.to_string(), new));
        }
        if !renamed_rows.is_empty() {
            self.notes.push(format!(
                "sheet '{sheet}': names with '-' or '.' renamed with '_' (and the expressions \
                 that refer to them): {}",
                renamed_rows.join(", ")
            ));
        }
        for row in &grid.rows {
            let name = self.renamed(row.get(cols.col(Field::Name)));
            if !name.is_empty() {
                self.all_names.entry(name).or_insert(row.number);
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
                Block::Repeat { name, row, .. } => ("repeat", name.clone(), *row),
            };
            self.notes.push(format!(
                "sheet '{sheet}': {what} '{name}' (row {row}) is never closed; it is taken to \
                 run to the end of the sheet"
            ));
            self.close_group(&sheet, block);
        }
        Ok(())
    }

    /// A survey-sheet name as clusterpulse keeps it.
    fn renamed(&self, name: &str) -> String {
        self.renames
            .iter()
            .find(|(o, _)| o == name)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| name.to_string())
    }

    /// An expression with the references to renamed questions following them.
    fn with_renames(&self, src: &str) -> String {
        let mut out = src.to_string();
        for (old, new) in &self.renames {
            out = out.replace(&format!("${{{old}}}"), &format!("${{{new}}}"));
        }
        out
    }

    /// The innermost repeat that is not imported, if the row is inside one: every row in
    /// it is skipped.
    fn in_repeat(&self) -> Option<String> {
        self.stack.iter().rev().find_map(|b| match b {
            Block::Repeat {
                name,
                supported: false,
                ..
            } => Some(name.clone()),
            _ => None,
        })
    }

    /// The imported repeat the row is in, if any, and its place in the stack.
    fn open_repeat(&self) -> Option<(usize, String)> {
        self.stack
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, b)| match b {
                Block::Repeat {
                    name,
                    supported: true,
                    ..
                } => Some((i, name.clone())),
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
        let name = self.renamed(row.get(cols.col(Field::Name)));
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
                    Some(Block::Repeat { name, row: r, .. }) => {
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
                let outer = repeat.or_else(|| self.open_repeat().map(|(_, n)| n));
                let Some(outer) = outer else {
                    return self.begin_repeat(sheet, row, cols, &type_text, name);
                };
                self.skip(
                    sheet,
                    row.number,
                    format!(
                        "repeat group '{shown_name}' ({type_text}) inside repeat group \
                         '{outer}': repeats inside repeats are not supported, so it is not \
                         imported with every row inside it"
                    ),
                );
                self.remember_skipped(&name, row.number);
                self.stack.push(Block::Repeat {
                    name: shown_name,
                    row: row.number,
                    supported: false,
                    start: 0,
                    type_text,
                    label: Text::new(),
                    hint: Text::new(),
                    relevant: None,
                    required: false,
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
                if let Some((_, outer)) = self.open_repeat() {
                    self.notes.push(format!(
                        "sheet '{sheet}', row {}: group '{shown_name}' is inside repeat group \
                         '{outer}'; its questions are the repeat's (a repeat has no sections)",
                        row.number
                    ));
                } else if let Some(Block::Group { name: outer, .. }) = self.stack.last() {
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
                or_other,
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
                let list = match list {
                    Some(l) if or_other => {
                        self.or_other_lists.insert(l.clone());
                        Some(format!("{l}_or_other"))
                    }
                    l => l,
                };
                let asked = name.clone();
                self.question(sheet, row, cols, &type_text, name, qtype, list, dropped)?;
                if or_other && self.imported.contains_key(&asked) {
                    self.other_text_question(sheet, row.number, &asked);
                }
                Ok(())
            }
        }
    }

    /// `own` and-ed with the relevants of the groups the row is in (inside an imported
    /// repeat: of the groups inside it).
    fn with_group_relevants(&self, own: Option<String>) -> Option<String> {
        let from = self.open_repeat().map(|(i, _)| i + 1).unwrap_or(0);
        let mut relevants: Vec<String> = self.stack[from..]
            .iter()
            .filter_map(|b| match b {
                Block::Group { relevant, .. } => relevant.clone(),
                _ => None,
            })
            .collect();
        relevants.extend(own);
        match relevants.len() {
            0 => None,
            1 => relevants.pop(),
            _ => Some(
                relevants
                    .iter()
                    .map(|r| format!("({r})"))
                    .collect::<Vec<_>>()
                    .join(" and "),
            ),
        }
    }

    /// The section of the innermost open group (made when its first question comes).
    fn current_section(&mut self) -> Option<String> {
        let idx = self
            .stack
            .iter()
            .rposition(|b| matches!(b, Block::Group { .. }))?;
        let mut section = None;
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

        section
    }

    /// `begin repeat`: its questions are collected until `end repeat`.
    fn begin_repeat(
        &mut self,
        sheet: &str,
        row: &GridRow,
        cols: &Columns,
        type_text: &str,
        name: String,
    ) -> Result<(), ImportError> {
        if name.is_empty() || !valid_name(&name) {
            return Err(self.error(
                Some(sheet),
                Some(row.number),
                format!(
                    "the repeat group name '{name}' is not valid: a name starts with a letter \
                     or '_' and has only letters, digits and '_'"
                ),
            ));
        }
        if let Some(first) = self.imported.get(&name) {
            return Err(self.error(
                Some(sheet),
                Some(row.number),
                format!("the name '{name}' is already used on row {first}"),
            ));
        }
        let what = format!("repeat group '{name}'");
        let relevant = self.expression(
            sheet,
            row,
            cols.col(Field::Relevant),
            "relevant",
            &what,
            &name,
            false,
        );
        let required = truthy(row.get(cols.col(Field::Required))).unwrap_or(false);
        self.stack.push(Block::Repeat {
            name,
            row: row.number,
            supported: true,
            start: self.questions.len(),
            type_text: type_text.to_string(),
            label: cols.text(Field::Label, row),
            hint: cols.text(Field::Hint, row),
            relevant,
            required,
        });
        Ok(())
    }

    /// `end repeat`: the questions imported since `begin repeat` become the repeat's.
    fn end_repeat(&mut self, sheet: &str, block: Block) {
        let Block::Repeat {
            name,
            row,
            start,
            type_text,
            mut label,
            hint,
            relevant,
            required,
            ..
        } = block
        else {
            return;
        };
        let inner: Vec<Question> = self.questions.drain(start..).collect();
        if inner.is_empty() {
            self.skip(
                sheet,
                row,
                format!(
                    "repeat group '{name}' ({type_text}): no question inside it could be \
                     imported, so it is not imported"
                ),
            );
            self.remember_skipped(&name, row);
            return;
        }
        for q in &inner {
            self.repeat_children.insert(q.name.clone(), name.clone());
        }
        if label.is_empty() {
            label.insert(String::new(), name.clone());
            self.notes.push(format!(
                "sheet '{sheet}', row {row}: repeat group '{name}' has no label; its name is \
                 used as the label"
            ));
        }
        let relevant = self.with_group_relevants(relevant);
        let section = self.current_section();
        self.notes.push(format!(
            "sheet '{sheet}', row {row}: repeat group '{name}' is imported as a repeat: its \
             answer is a list of rows, one per {name}, each with the answers to its {} \
             question{}",
            inner.len(),
            if inner.len() == 1 { "" } else { "s" }
        ));
        self.imported.insert(name.clone(), row);
        self.questions.push(Question {
            name,
            qtype: QuestionType::Repeat,
            list: None,
            label,
            hint,
            required,
            relevant,
            constraint: None,
            constraint_message: Text::new(),
            indicator: None,
            section,
            calculation: None,
            choice_filter: None,
            range: None,
            questions: inner,
        });
    }

    fn remember_skipped(&mut self, name: &str, row: usize) {
        if !name.is_empty() {
            self.skipped_names.entry(name.to_string()).or_insert(row);
        }
    }

    fn close_group(&mut self, sheet: &str, block: Block) {
        if let Block::Repeat {
            supported: true, ..
        } = block
        {
            self.end_repeat(sheet, block);
            return;
        }
        if self.open_repeat().is_some() {
            // A group inside a repeat is never a section.
            return;
        }
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
        let what = format!("question '{name}'");
        // A calculate question stands or falls with its calculation.
        let calculation = if qtype == QuestionType::Calculate {
            if row.get(cols.col(Field::Calculation)).trim().is_empty() {
                self.skip(
                    sheet,
                    row.number,
                    format!("{what} ({type_text}) has no calculation: not imported"),
                );
                self.remember_skipped(&name, row.number);
                return Ok(());
            }
            let c = self.expression(
                sheet,
                row,
                cols.col(Field::Calculation),
                "calculation",
                &what,
                &name,
                false,
            );
            if c.is_none() {
                self.remember_skipped(&name, row.number);
                return Ok(());
            }
            c
        } else {
            if !row.get(cols.col(Field::Calculation)).trim().is_empty() {
                self.skip(
                    sheet,
                    row.number,
                    format!(
                        "calculation of {what} dropped: only a calculate question has one; the \
                         question is kept without it"
                    ),
                );
            }
            None
        };
        let range = if qtype == QuestionType::Range {
            match range_parameters(row.get(cols.col(Field::Parameters))) {
                Ok((spec, ignored)) => {
                    if !ignored.is_empty() {
                        self.notes.push(format!(
                            "sheet '{sheet}', row {}: {what}: parameters not carried over: {}",
                            row.number,
                            ignored.join(", ")
                        ));
                    }
                    Some(spec)
                }
                Err(problem) => {
                    self.skip(
                        sheet,
                        row.number,
                        format!("{what} ({type_text}): {problem}: not imported"),
                    );
                    self.remember_skipped(&name, row.number);
                    return Ok(());
                }
            }
        } else {
            let p = row.get(cols.col(Field::Parameters)).trim();
            if !p.is_empty() {
                self.notes.push(format!(
                    "sheet '{sheet}', row {}: the parameters '{p}' of {what} are not carried \
                     over",
                    row.number
                ));
            }
            None
        };
        let choice_filter = if list.is_some() {
            self.expression(
                sheet,
                row,
                cols.col(Field::ChoiceFilter),
                "choice_filter",
                &what,
                &name,
                false,
            )
        } else {
            if !row.get(cols.col(Field::ChoiceFilter)).trim().is_empty() {
                self.skip(
                    sheet,
                    row.number,
                    format!(
                        "choice_filter of {what} dropped: only a select question has one; the \
                         question is kept without it"
                    ),
                );
            }
            None
        };
        if let Some(note) = dropped {
            self.notes.push(format!(
                "sheet '{sheet}', row {}: question '{name}': {note}",
                row.number
            ));
        }
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
        let constraint = match constraint {
            Some(c) if qtype == QuestionType::Calculate => {
                self.skip(
                    sheet,
                    row.number,
                    format!(
                        "constraint of {what} dropped: '{c}' (a calculation takes no \
                         constraint); the question is kept without it"
                    ),
                );
                None
            }
            c => c,
        };
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
        if required && qtype.is_not_asked() {
            required = false;
            self.skip(
                sheet,
                row.number,
                format!(
                    "required of {what} dropped: a {} cannot be required",
                    qtype.as_str()
                ),
            );
        }

        // The section and the groups' relevants (inside a repeat: the groups inside it;
        // the repeat carries the rest).
        let relevant = self.with_group_relevants(own_relevant);
        let section = if self.open_repeat().is_some() {
            None
        } else {
            self.current_section()
        };
        let indicator =
            Some(row.get(cols.col(Field::Indicator)).trim().to_string()).filter(|i| !i.is_empty());
        let indicator = match indicator {
            Some(i) if self.open_repeat().is_some() => {
                self.skip(
                    sheet,
                    row.number,
                    format!(
                        "indicator '{i}' of {what} dropped: questions inside a repeat are not \
                         scored"
                    ),
                );
                None
            }
            i => i,
        };

        let mut label = cols.text(Field::Label, row);
        if label.is_empty() && qtype == QuestionType::Calculate {
            // Never shown to respondents; it heads the column of exports.
            label.insert(String::new(), name.clone());
        } else if label.is_empty() {
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
            indicator,
            section,
            calculation,
            choice_filter,
            range,
            questions: Vec::new(),
        });
        Ok(())
    }

    /// After a select with `or_other`, the text question for "other", as XLSForm tools add
    /// it: `{name}_other`, shown when `other` is chosen.
    fn other_text_question(&mut self, sheet: &str, row: usize, asked: &str) {
        let Some(parent) = self.questions.iter().find(|q| q.name == asked).cloned() else {
            return;
        };
        let base = format!("{asked}_other");
        let mut name = base.clone();
        let mut k = 2;
        while self.imported.contains_key(&name) || self.all_names.contains_key(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        let label: Text = parent
            .label
            .keys()
            .map(|l| (l.clone(), other_words(l).1.to_string()))
            .collect();
        self.notes.push(format!(
            "sheet '{sheet}', row {row}: question '{asked}' has 'or other': an 'other' choice \
             and the text question '{name}' (shown when it is chosen) were added, as XLSForm \
             tools do"
        ));
        self.imported.insert(name.clone(), row);
        self.questions.push(Question {
            name,
            qtype: QuestionType::Text,
            list: None,
            label,
            hint: Text::new(),
            required: false,
            relevant: Some(format!("selected(${{{asked}}}, 'other')")),
            constraint: None,
            constraint_message: Text::new(),
            indicator: None,
            section: parent.section.clone(),
            calculation: None,
            choice_filter: None,
            range: None,
            questions: Vec::new(),
        });
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
        let src = self.with_renames(row.get(col).trim());
        if src.is_empty() {
            return None;
        }
        let parsed = if kind == "choice_filter" {
            expr::parse_choice_filter(&src)
        } else {
            expr::parse(&src)
        };
        let problem = match parsed {
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
                    let here = self.open_repeat().map(|(_, n)| n);
                    problem = if let Some(rep) = self
                        .repeat_children
                        .get(&r)
                        .filter(|rep| Some(*rep) != here.as_ref())
                    {
                        Some(format!(
                            "refers to '{r}', which is inside repeat group '{rep}' (only the \
                             questions of the same repeat can refer to it)"
                        ))
                    } else if self.imported.contains_key(&r) {
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
                } else if kind == "calculation" {
                    "the calculate question is not imported (clusterpulse calculates with the \
                     functions of relevant and constraint plus if, concat, coalesce, round and \
                     today)"
                } else if kind == "choice_filter" {
                    "the question is kept and offers every option of its list"
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
        // Choice filters: the columns they test are carried over for the lists they filter.
        let (filtered_lists, carried) = self.filter_columns(grid, cols);
        let carried_cols: Vec<usize> = carried.iter().map(|(_, c)| *c).collect();
        note_other_columns(grid, cols, &carried_cols, "columns", &mut self.notes);

        // All lists, in sheet order, with their rows.
        // Per list: row, name, label, score and filter columns of each choice.
        type Row = (usize, String, Text, Option<f64>, BTreeMap<String, String>);
        let mut lists: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        for row in &grid.rows {
            let list = row.get(Some(list_col));
            let value = row.get(Some(value_col));
            if list.is_empty() && value.is_empty() {
                continue;
            }
            let score = match row.get(cols.col(Field::Score)).trim() {
                "" => None,
                raw => Some(
                    crate::kernel::text::ascii_digits(raw)
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            self.error(
                                Some(&grid.name),
                                Some(row.number),
                                format!("the score '{raw}' of choice '{value}' is not a number"),
                            )
                        })?,
                ),
            };
            let columns: BTreeMap<String, String> = if filtered_lists.contains(list) {
                carried
                    .iter()
                    .map(|(field, c)| (field.clone(), row.get(Some(*c)).trim().to_string()))
                    .filter(|(_, v)| !v.is_empty())
                    .collect()
            } else {
                BTreeMap::new()
            };
            lists.entry(list.to_string()).or_default().push((
                row.number,
                value.to_string(),
                cols.text(Field::Label, row),
                score,
                columns,
            ));
        }

        // `or_other`: a copy of the list with an `other` choice (unless it has one).
        for l in self.or_other_lists.clone() {
            let Some(rows) = lists.get(&l).cloned() else {
                continue;
            };
            let mut rows = rows;
            if !rows.iter().any(|(_, v, _, _, _)| v == "other") {
                let mut label = Text::new();
                let langs: BTreeSet<String> = rows
                    .iter()
                    .flat_map(|(_, _, t, _, _)| t.keys().cloned())
                    .collect();
                for lang in langs {
                    label.insert(lang.clone(), other_words(&lang).0.to_string());
                }
                let last = rows.last().map(|r| r.0).unwrap_or(0);
                rows.push((last, "other".to_string(), label, None, BTreeMap::new()));
            }
            lists.insert(format!("{l}_or_other"), rows);
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
                if !list.is_empty() && !self.or_other_lists.contains(&list) {
                    unused.push(list);
                }
                continue;
            }
            let mut seen: HashMap<(String, BTreeMap<String, String>), usize> = HashMap::new();
            let mut options = Vec::new();
            for (row, value, mut label, score, columns) in rows {
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
                // A value may repeat when the filter columns tell the options apart.
                let key = (value.clone(), columns.clone());
                if let Some(first) = seen.get(&key) {
                    let same = if columns.is_empty() {
                        String::new()
                    } else {
                        " with the same filter columns".to_string()
                    };
                    return Err(self.error(
                        Some(&sheet),
                        Some(row),
                        format!(
                            "the choice '{value}' appears twice in list '{list}'{same} (rows \
                             {first} and {row})"
                        ),
                    ));
                }
                seen.insert(key, row);
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
                    score,
                    columns,
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

    /// The lists filtered by a `choice_filter` and the choices-sheet columns the filters
    /// test ((field, column index)). A filter testing a column the sheet lacks is dropped
    /// from its question, naming the question's row.
    fn filter_columns(
        &mut self,
        grid: &Grid,
        cols: &Columns,
    ) -> (BTreeSet<String>, Vec<(String, usize)>) {
        let mut lists = BTreeSet::new();
        let mut carried: Vec<(String, usize)> = Vec::new();
        let mut dropped = Vec::new();
        for q in &mut self.questions {
            let (Some(filter), Some(list)) = (&q.choice_filter, &q.list) else {
                continue;
            };
            let Ok(parsed) = expr::parse_choice_filter(filter) else {
                continue;
            };
            let mut missing = Vec::new();
            let mut found = Vec::new();
            for field in parsed.fields().into_iter().filter(|f| f != "name") {
                let col = cols.other.iter().copied().find(|&i| {
                    let (base, lang) = split_header(&grid.header[i]);
                    lang.is_none() && base == field.to_lowercase()
                });
                match col {
                    Some(c) => found.push((field, c)),
                    None => missing.push(field),
                }
            }
            if !missing.is_empty() {
                let row = self.imported.get(&q.name).copied().unwrap_or(0);
                dropped.push((
                    row,
                    format!(
                        "choice_filter of question '{}' dropped: '{filter}' tests {}, which the \
                         '{}' sheet has no column for; the question is kept and offers every \
                         option of its list",
                        q.name,
                        missing
                            .iter()
                            .map(|m| format!("'{m}'"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        grid.name
                    ),
                ));
                q.choice_filter = None;
                continue;
            }
            // An `or_other` copy takes its rows from the plain list.
            let source = list
                .strip_suffix("_or_other")
                .filter(|l| self.or_other_lists.contains(*l))
                .unwrap_or(list);
            lists.insert(source.to_string());
            for f in found {
                if !carried.contains(&f) {
                    carried.push(f);
                }
            }
        }
        for (row, what) in dropped {
            self.skip("survey", row, what);
        }
        (lists, carried)
    }

    /// clusterpulse's settings columns `kind`, `respondent` and `framework`; without them
    /// a form is a feedback survey for the public.
    fn performance(
        &self,
        grid: Option<&Grid>,
        cols: Option<&Columns>,
        row: Option<&GridRow>,
    ) -> Result<(SurveyKind, Respondent, Option<String>), ImportError> {
        let (Some(grid), Some(cols), Some(row)) = (grid, cols, row) else {
            return Ok((SurveyKind::Feedback, Respondent::Public, None));
        };
        let get = |f: Field| row.get(cols.col(f)).trim().to_lowercase();
        let refuse = |column: &str, value: &str, allowed: &str| {
            self.error(
                Some(&grid.name),
                Some(row.number),
                format!("the {column} '{value}' is not one of {allowed}"),
            )
        };
        let framework = Some(get(Field::Framework)).filter(|f| !f.is_empty());
        let kind = match get(Field::Kind).as_str() {
            "" if framework.is_some() => SurveyKind::Performance,
            "" | "feedback" => SurveyKind::Feedback,
            "performance" => SurveyKind::Performance,
            other => return Err(refuse("kind", other, "performance, feedback")),
        };
        let respondent = match get(Field::Respondent).as_str() {
            "" if kind == SurveyKind::Performance => Respondent::Partner,
            "" | "public" => Respondent::Public,
            "partner" => Respondent::Partner,
            "coordinator" => Respondent::Coordinator,
            "staff" => Respondent::Staff,
            other => {
                return Err(refuse(
                    "respondent",
                    other,
                    "partner, coordinator, public, staff",
                ))
            }
        };
        Ok((kind, respondent, framework))
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
        visit(&mut survey.description);
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
            for inner in &mut q.questions {
                visit(&mut inner.label);
                visit(&mut inner.hint);
                visit(&mut inner.constraint_message);
            }
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
        fill(&mut survey.description, "the description", true);
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
            for inner in &mut q.questions {
                fill(
                    &mut inner.label,
                    &format!("the label of '{}'", inner.name),
                    false,
                );
                fill(
                    &mut inner.hint,
                    &format!("the hint of '{}'", inner.name),
                    true,
                );
                fill(
                    &mut inner.constraint_message,
                    &format!("the constraint message of '{}'", inner.name),
                    true,
                );
            }
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

/// The words for the added "other" choice and its text question, by language code
/// (English for a language clusterpulse does not know, and for the default "").
fn other_words(lang: &str) -> (&'static str, &'static str) {
    match lang {
        "fr" => ("Autre", "Précisez « autre »"),
        "es" => ("Otro", "Especifique «otro»"),
        "ar" => ("أخرى", "حددوا «أخرى»"),
        _ => ("Other", "Specify other"),
    }
}

#[cfg(test)]
mod tests;
