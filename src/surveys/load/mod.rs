//! Loading and validating survey and framework definitions (`surveys/`).
//!
//! The file format and its rules are described in `docs/survey-format.md`.
//!
//! Each file is first parsed into a small TOML tree that remembers where every key
//! sits (byte offsets from `toml::Spanned`), then read key by key. Reading the tree by
//! hand, rather than deserialising straight into structs, lets the loader report
//! *every* problem of a file at once — unknown keys, wrong types and broken rules —
//! each with its file and line, instead of stopping at the first one.
//!
//! - [`parse_framework`] / [`parse_survey`] do the checks that need only one file;
//! - [`validate_catalog`] does the checks across files (frameworks exist, indicators
//!   exist and are all covered, shared question names agree);
//! - [`load_sources`] and [`load_dir`] do both and return a [`Catalog`].

use super::expr;
use super::model::{
    Catalog, Choice, Framework, Function, Indicator, Question, QuestionType, RangeSpec, Respondent,
    Section, Survey, SurveyKind, Text, Thresholds,
};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Files larger than this are refused without being read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

const DEFAULT_MIN_RESPONDENTS: u32 = 3;

const FRAMEWORK_KEYS: &[&str] = &[
    "id",
    "languages",
    "title",
    "min_respondents",
    "thresholds",
    "functions",
];
const THRESHOLD_KEYS: &[&str] = &["good", "satisfactory", "unsatisfactory"];
const FUNCTION_KEYS: &[&str] = &["id", "title", "indicators"];
const INDICATOR_KEYS: &[&str] = &["id", "title"];
const SURVEY_KEYS: &[&str] = &[
    "id",
    "version",
    "kind",
    "respondent",
    "framework",
    "languages",
    "title",
    "description",
    "sections",
    "choices",
    "questions",
];
const SECTION_KEYS: &[&str] = &["id", "title"];
const CHOICE_KEYS: &[&str] = &["value", "label", "score", "columns"];
const QUESTION_KEYS: &[&str] = &[
    "name",
    "type",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "indicator",
    "section",
    "calculation",
    "choice_filter",
    "range",
    "questions",
];
const RANGE_KEYS: &[&str] = &["start", "end", "step"];
const SUPPORTED_TYPES: &str = "text, integer, decimal, date, note, geopoint, calculate, \
     acknowledge, range, repeat, select_one LIST or select_multiple LIST";

mod cross_checks;
mod frameworks;
mod survey_files;
mod toml_tree;

use cross_checks::*;
pub use frameworks::*;
pub use survey_files::*;
use toml_tree::*;

// ----------------------------------------------------------------------------------------
// Public types

/// One problem in a definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as shown to people, e.g. `surveys/ccpm-partner.toml`.
    pub file: String,
    /// 1-based line, when the problem sits at a particular place in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn new(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for Problem {}

/// The text of one definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as shown in messages, e.g. `surveys/ccpm-partner.toml`. Its file stem
    /// must equal the `id` inside.
    pub path: String,
    pub text: String,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// Where the parts of one loaded file are, so that checks made after parsing
/// ([`validate_catalog`]) can still name a line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileLines {
    /// The file as shown in messages.
    pub file: String,
    lines: BTreeMap<String, usize>,
}

impl FileLines {
    pub fn new(file: impl Into<String>) -> Self {
        FileLines {
            file: file.into(),
            lines: BTreeMap::new(),
        }
    }

    /// The line of a top-level key (`"id"`, `"framework"`, `"kind"`, …).
    pub fn line(&self, key: &str) -> Option<usize> {
        self.lines.get(key).copied()
    }

    /// The line where question `name` starts.
    pub fn question(&self, name: &str) -> Option<usize> {
        self.lines.get(&format!("question:{name}")).copied()
    }

    /// The line of the `indicator` key of question `name` (or else of the question).
    pub fn question_indicator(&self, name: &str) -> Option<usize> {
        self.lines
            .get(&format!("indicator:{name}"))
            .copied()
            .or_else(|| self.question(name))
    }

    fn set(&mut self, key: String, line: Option<usize>) {
        if let Some(line) = line {
            self.lines.entry(key).or_insert(line);
        }
    }
}

/// The [`FileLines`] of every definition of a catalog, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations {
    pub frameworks: BTreeMap<String, FileLines>,
    pub surveys: BTreeMap<String, FileLines>,
}

// ----------------------------------------------------------------------------------------
// Loading

/// Loads `DIR/frameworks/*.toml` (frameworks) and `DIR/*.toml` (surveys), validates
/// every file and the catalog as a whole, and returns either the catalog or every
/// problem found, sorted by file and line.
pub fn load_dir(dir: &Path) -> Result<Catalog, Vec<Problem>> {
    let shown = dir.display().to_string();
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(vec![Problem::new(
                shown,
                None,
                "is not a directory (expected the folder of survey definitions)",
            )])
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(vec![Problem::new(
                shown,
                None,
                "the survey definitions directory does not exist",
            )])
        }
        Err(e) => {
            return Err(vec![Problem::new(
                shown,
                None,
                format!("the survey definitions directory cannot be read: {e}"),
            )])
        }
    }

    let mut problems = Vec::new();
    let (surveys, survey_files) = read_toml_files(dir, &mut problems);
    let framework_dir = dir.join("frameworks");
    let frameworks = if framework_dir.is_dir() {
        read_toml_files(&framework_dir, &mut problems).0
    } else {
        Vec::new()
    };
    if survey_files == 0 {
        problems.push(Problem::new(
            shown,
            None,
            "contains no survey files (*.toml); expected files such as ccpm-partner.toml, \
             with frameworks in a frameworks/ folder beside them",
        ));
    }

    match load_sources(&frameworks, &surveys) {
        Ok(catalog) if problems.is_empty() => Ok(catalog),
        Ok(_) => {
            sort_problems(&mut problems);
            Err(problems)
        }
        Err(more) => {
            problems.extend(more);
            sort_problems(&mut problems);
            Err(problems)
        }
    }
}

/// Validates framework and survey sources (e.g. compiled into the binary) and returns
/// the catalog, or every problem found, sorted by file and line.
pub fn load_sources(frameworks: &[Source], surveys: &[Source]) -> Result<Catalog, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut catalog = Catalog::default();
    let mut locations = Locations::default();
    let mut broken_frameworks = BTreeSet::new();

    for src in frameworks {
        match parse_framework_located(src) {
            Ok((framework, lines)) => {
                if let Some(first) = locations.frameworks.get(&framework.id) {
                    problems.push(Problem::new(
                        &src.path,
                        lines.line("id"),
                        format!(
                            "framework id \"{}\" is already used by {}",
                            framework.id, first.file
                        ),
                    ));
                    continue;
                }
                locations.frameworks.insert(framework.id.clone(), lines);
                catalog.frameworks.insert(framework.id.clone(), framework);
            }
            Err(found) => {
                problems.extend(found);
                broken_frameworks.insert(file_stem(&src.path));
            }
        }
    }

    for src in surveys {
        match parse_survey_located(src) {
            Ok((survey, lines)) => {
                if let Some(first) = locations.surveys.get(&survey.id) {
                    problems.push(Problem::new(
                        &src.path,
                        lines.line("id"),
                        format!(
                            "survey id \"{}\" is already used by {}",
                            survey.id, first.file
                        ),
                    ));
                    continue;
                }
                locations.surveys.insert(survey.id.clone(), lines);
                catalog.surveys.insert(survey.id.clone(), survey);
            }
            Err(found) => problems.extend(found),
        }
    }

    problems.extend(check_catalog(&catalog, &locations, &broken_frameworks));
    if problems.is_empty() {
        Ok(catalog)
    } else {
        sort_problems(&mut problems);
        Err(problems)
    }
}

/// Parses and checks one framework file (only what can be checked within the file).
pub fn parse_framework(src: &Source) -> Result<Framework, Vec<Problem>> {
    parse_framework_located(src).map(|(framework, _)| framework)
}

/// Parses and checks one survey file (only what can be checked within the file; see
/// [`validate_catalog`] for the rest).
pub fn parse_survey(src: &Source) -> Result<Survey, Vec<Problem>> {
    parse_survey_located(src).map(|(survey, _)| survey)
}

/// Checks across files: every performance survey names a known framework, scores only
/// indicators of it and covers all of them; questions of the same name in surveys of one
/// framework score the same indicator with the same option scores (their answers are
/// pooled). `locations` gives files and lines for the messages; with an empty one,
/// messages name the survey instead of a file.
pub fn validate_catalog(catalog: &Catalog, locations: &Locations) -> Vec<Problem> {
    let mut problems = check_catalog(catalog, locations, &BTreeSet::new());
    sort_problems(&mut problems);
    problems
}

/// Sorts problems by file, then line (problems without a line first), keeping the order
/// of problems on the same line, and drops exact duplicates.
pub fn sort_problems(problems: &mut Vec<Problem>) {
    problems.sort_by(|a, b| (a.file.as_str(), a.line).cmp(&(b.file.as_str(), b.line)));
    problems.dedup();
}

fn file_stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the `*.toml` files directly in `dir` (sorted by name). Returns the sources that
/// could be read and how many candidate files there were.
fn read_toml_files(dir: &Path, problems: &mut Vec<Problem>) -> (Vec<Source>, usize) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Problem::new(
                dir.display().to_string(),
                None,
                format!("the directory cannot be listed: {e}"),
            ));
            return (Vec::new(), 0);
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                if path.extension().is_some_and(|ext| ext == "toml") {
                    paths.push(path);
                }
            }
            Err(e) => problems.push(Problem::new(
                dir.display().to_string(),
                None,
                format!("the directory cannot be listed: {e}"),
            )),
        }
    }
    paths.sort();

    let mut sources = Vec::new();
    let mut candidates = 0;
    for path in paths {
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                problems.push(Problem::new(shown, None, format!("cannot be read: {e}")));
                continue;
            }
        };
        if !meta.is_file() {
            continue;
        }
        candidates += 1;
        if meta.len() > MAX_FILE_BYTES {
            problems.push(too_large(shown, meta.len()));
            continue;
        }
        match read_limited(&path) {
            Ok(bytes) if bytes.len() as u64 > MAX_FILE_BYTES => {
                problems.push(too_large(shown, bytes.len() as u64));
            }
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(Source { path: shown, text }),
                Err(e) => {
                    let bad = e.utf8_error().valid_up_to();
                    let line = e.as_bytes()[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
                    problems.push(Problem::new(
                        shown,
                        Some(line),
                        "is not UTF-8 text (the first invalid byte is on this line); \
                         save the file with UTF-8 encoding",
                    ));
                }
            },
            Err(e) => problems.push(Problem::new(shown, None, format!("cannot be read: {e}"))),
        }
    }
    (sources, candidates)
}

fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn too_large(file: String, len: u64) -> Problem {
    Problem::new(
        file,
        None,
        format!(
            "is too large ({len} bytes; the limit is 1 MiB): a survey definition is a small \
             text file"
        ),
    )
}

#[cfg(test)]
mod tests;
