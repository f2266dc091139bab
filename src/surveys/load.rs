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
    Catalog, Choice, Framework, Function, Indicator, Question, QuestionType, Respondent, Section,
    Survey, SurveyKind, Text, Thresholds,
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
const CHOICE_KEYS: &[&str] = &["value", "label", "score"];
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
];
const SUPPORTED_TYPES: &str =
    "text, integer, decimal, date, note, select_one LIST or select_multiple LIST";

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// A TOML tree that remembers where every key is

#[derive(Debug, Clone)]
enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Node>),
    Table(Vec<(String, Node)>),
}

#[derive(Debug, Clone)]
struct Node {
    /// Byte offset of the key (for a table entry) or of the item (for an array item).
    pos: Option<usize>,
    val: Val,
}

impl<'de> serde::Deserialize<'de> for Val {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValVisitor)
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
        Ok(i64::try_from(v).map_or(Val::Float(v as f64), Val::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
        Ok(Val::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Val, E> {
        Ok(Val::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Val>>()? {
            let pos = Some(item.span().start);
            items.push(Node {
                pos,
                val: item.into_inner(),
            });
        }
        Ok(Val::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        // Keys always carry a span (values of implicit tables, such as `label` in
        // `label.en = "…"`, do not), so a table entry is located by its key.
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let pos = Some(key.span().start);
            let val = map.next_value::<Val>()?;
            entries.push((key.into_inner(), Node { pos, val }));
        }
        Ok(Val::Table(entries))
    }
}

fn describe(val: &Val) -> String {
    match val {
        Val::Str(s) => {
            let short: String = s.chars().take(40).collect();
            if short.len() < s.len() {
                format!("the text \"{short}…\"")
            } else {
                format!("the text \"{s}\"")
            }
        }
        Val::Int(i) => format!("the number {i}"),
        Val::Float(x) => format!("the number {x}"),
        Val::Bool(b) => format!("{b}"),
        Val::Array(_) => "a list".to_owned(),
        Val::Table(_) => "a table".to_owned(),
    }
}

/// Ids seen so far, with the line of their first use.
type Seen = BTreeMap<String, Option<usize>>;

/// A table of the tree, with where it starts.
#[derive(Clone, Copy)]
struct Tbl<'t> {
    pos: Option<usize>,
    entries: &'t [(String, Node)],
}

impl<'t> Tbl<'t> {
    fn get(&self, key: &str) -> Option<&'t Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, n)| n)
    }
}

/// A value read from the tree, with where it is.
struct At<T> {
    val: T,
    pos: Option<usize>,
}

/// Reads one file's tree, collecting problems.
struct Ctx<'a> {
    file: &'a str,
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
}

/// Parses a source into its root table and a reading context.
fn parse_tree(src: &Source) -> Result<(Vec<(String, Node)>, Ctx<'_>), Problem> {
    let text = src.text.strip_prefix('\u{feff}').unwrap_or(&src.text);
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let ctx = Ctx {
        file: &src.path,
        line_starts,
        problems: Vec::new(),
    };
    match toml::from_str::<Val>(text) {
        Ok(Val::Table(root)) => Ok((root, ctx)),
        Ok(_) => Err(Problem::new(&src.path, None, "is not a TOML document")),
        Err(e) => {
            let line = ctx.line(e.span().map(|s| s.start));
            let detail = if e.message().contains("__toml_private_datetime") {
                "dates and times are not used in definition files; put the value in quotes"
                    .to_owned()
            } else {
                e.message()
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            Err(Problem::new(
                &src.path,
                line,
                format!("is not valid TOML: {detail}"),
            ))
        }
    }
}

impl Ctx<'_> {
    fn line(&self, pos: Option<usize>) -> Option<usize> {
        pos.map(|p| self.line_starts.partition_point(|&start| start <= p))
    }

    fn report(&mut self, pos: Option<usize>, message: impl Into<String>) {
        let line = self.line(pos);
        self.problems.push(Problem::new(self.file, line, message));
    }

    fn finish<T>(mut self, value: impl FnOnce() -> T) -> Result<T, Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(value())
        } else {
            sort_problems(&mut self.problems);
            Err(self.problems)
        }
    }

    /// Reports keys of `t` that are not in `allowed`.
    fn check_keys(&mut self, t: Tbl, allowed: &[&str], what: &str) {
        for (key, node) in t.entries {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let hint = match suggest(key, allowed) {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => format!("the keys allowed here are: {}", allowed.join(", ")),
            };
            self.report(
                node.pos,
                format!("{what} has an unknown key \"{key}\" ({hint})"),
            );
        }
    }

    fn value<'t>(&mut self, t: Tbl<'t>, key: &str, what: &str, required: bool) -> Option<&'t Node> {
        let node = t.get(key);
        if node.is_none() && required {
            self.report(t.pos, format!("{what} is missing \"{key}\""));
        }
        node
    }

    fn wrong(&mut self, node: &Node, key: &str, what: &str, expected: &str) {
        self.report(
            node.pos,
            format!(
                "{key} of {what} must be {expected}, not {}",
                describe(&node.val)
            ),
        );
    }

    fn string(&mut self, t: Tbl, key: &str, what: &str, required: bool) -> Option<At<String>> {
        let node = self.value(t, key, what, required)?;
        match &node.val {
            Val::Str(s) => Some(At {
                val: s.clone(),
                pos: node.pos,
            }),
            Val::Int(_) | Val::Float(_) | Val::Bool(_) => {
                let expected = format!("text in quotes (write {key} = \"…\")");
                self.wrong(node, key, what, &expected);
                None
            }
            _ => {
                self.wrong(node, key, what, "text in quotes");
                None
            }
        }
    }

    /// The value named by `got` among `allowed`, or a problem listing them.
    fn one_of<T: Copy>(
        &mut self,
        got: &At<String>,
        allowed: &[(&str, T)],
        key: &str,
        what: &str,
    ) -> Option<T> {
        if let Some((_, v)) = allowed.iter().find(|(name, _)| *name == got.val) {
            return Some(*v);
        }
        let names: Vec<String> = allowed.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        let (last, rest) = names.split_last()?;
        self.report(
            got.pos,
            format!(
                "{key} of {what} must be {} or {last}, not \"{}\"",
                rest.join(", "),
                got.val
            ),
        );
        None
    }

    fn integer(&mut self, t: Tbl, key: &str, what: &str, required: bool) -> Option<At<i64>> {
        let node = self.value(t, key, what, required)?;
        match node.val {
            Val::Int(i) => Some(At {
                val: i,
                pos: node.pos,
            }),
            _ => {
                self.wrong(node, key, what, "a whole number (without quotes)");
                None
            }
        }
    }

    fn number(&mut self, t: Tbl, key: &str, what: &str) -> Option<At<f64>> {
        let node = self.value(t, key, what, false)?;
        match node.val {
            Val::Int(i) => Some(At {
                val: i as f64,
                pos: node.pos,
            }),
            Val::Float(x) => Some(At {
                val: x,
                pos: node.pos,
            }),
            _ => {
                self.wrong(node, key, what, "a number (without quotes)");
                None
            }
        }
    }

    fn boolean(&mut self, t: Tbl, key: &str, what: &str) -> Option<At<bool>> {
        let node = self.value(t, key, what, false)?;
        match node.val {
            Val::Bool(b) => Some(At {
                val: b,
                pos: node.pos,
            }),
            _ => {
                self.wrong(node, key, what, "true or false (without quotes)");
                None
            }
        }
    }

    /// A list of tables (`[[key]]`); items that are not tables are reported.
    fn tables<'t>(&mut self, node: &'t Node, key: &str, what: &str) -> Vec<Tbl<'t>> {
        let Val::Array(items) = &node.val else {
            let expected = format!("a list of tables (written [[{key}]])");
            self.wrong(node, key, what, &expected);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match &item.val {
                Val::Table(entries) => out.push(Tbl {
                    pos: item.pos,
                    entries,
                }),
                other => self.report(
                    item.pos,
                    format!(
                        "each entry of {key} of {what} must be a table (written [[{key}]]), not {}",
                        describe(other)
                    ),
                ),
            }
        }
        out
    }

    /// The languages of a file: 2–3 letter codes, no repeats. Empty when the list has a
    /// problem (so that texts are not checked against a wrong list).
    fn languages(&mut self, t: Tbl, what: &str) -> Vec<String> {
        let Some(node) = self.value(t, "languages", what, true) else {
            return Vec::new();
        };
        let Val::Array(items) = &node.val else {
            self.wrong(node, "languages", what, "a list such as [\"en\", \"fr\"]");
            return Vec::new();
        };
        if items.is_empty() {
            self.report(
                node.pos,
                format!("languages of {what} is empty; list at least one, e.g. [\"en\"]"),
            );
        }
        let mut out: Vec<String> = Vec::new();
        let mut ok = !items.is_empty();
        for item in items {
            match &item.val {
                Val::Str(code) if valid_language(code) => {
                    if out.contains(code) {
                        self.report(
                            item.pos,
                            format!("language \"{code}\" is listed twice in languages of {what}"),
                        );
                        ok = false;
                    } else {
                        out.push(code.clone());
                    }
                }
                Val::Str(code) => {
                    self.report(
                        item.pos,
                        format!(
                            "language \"{code}\" in languages of {what} is not a language code \
                             (use en, fr, es, ar or another code of 2–3 lowercase letters)"
                        ),
                    );
                    ok = false;
                }
                other => {
                    self.report(
                        item.pos,
                        format!(
                            "languages of {what} must list language codes in quotes, not {}",
                            describe(other)
                        ),
                    );
                    ok = false;
                }
            }
        }
        if ok {
            out
        } else {
            Vec::new()
        }
    }

    /// A text per language (`key.en = "…"`), checked against the file's languages.
    fn text(&mut self, t: Tbl, key: &str, what: &str, required: bool, langs: &[String]) -> Text {
        let mut out = Text::new();
        let Some(node) = self.value(t, key, what, required) else {
            return out;
        };
        let Val::Table(entries) = &node.val else {
            let expected = format!("one text per language (write {key}.en = \"…\")");
            self.wrong(node, key, what, &expected);
            return out;
        };
        for (lang, item) in entries {
            match &item.val {
                Val::Str(s) => {
                    if !langs.is_empty() && !langs.contains(lang) {
                        self.report(
                            item.pos,
                            format!(
                                "{key} of {what} has a text in \"{lang}\", which is not one of \
                                 the languages of this file ({})",
                                langs.join(", ")
                            ),
                        );
                    } else if s.trim().is_empty() {
                        self.report(item.pos, format!("{key} of {what} is empty in \"{lang}\""));
                    }
                    out.insert(lang.clone(), s.clone());
                }
                other => self.report(
                    item.pos,
                    format!(
                        "{key}.{lang} of {what} must be text in quotes, not {}",
                        describe(other)
                    ),
                ),
            }
        }
        for lang in langs {
            if !entries.iter().any(|(l, _)| l == lang) {
                self.report(
                    node.pos,
                    format!("{key} of {what} is missing in \"{lang}\""),
                );
            }
        }
        out
    }
}

fn valid_language(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

fn valid_survey_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_choice_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn valid_question_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The closest allowed key to a misspelt one, if it is close enough.
fn suggest<'k>(key: &str, allowed: &[&'k str]) -> Option<&'k str> {
    allowed
        .iter()
        .map(|&a| (edit_distance(key, a), a))
        .filter(|&(d, a)| d <= 2 && d < a.len().max(key.len()) / 2 + 1)
        .min_by_key(|&(d, _)| d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn format_number(x: f64) -> String {
    format!("{x}")
}

fn comma_list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Frameworks

/// Like [`parse_framework`], also returning where things are in the file.
pub fn parse_framework_located(src: &Source) -> Result<(Framework, FileLines), Vec<Problem>> {
    let (root, mut ctx) = parse_tree(src).map_err(|p| vec![p])?;
    let top = Tbl {
        pos: None,
        entries: &root,
    };
    let mut lines = FileLines::new(&src.path);

    let id = ctx.string(top, "id", "the framework", true);
    let what = match &id {
        Some(id) => format!("framework \"{}\"", id.val),
        None => "the framework".to_owned(),
    };
    ctx.check_keys(top, FRAMEWORK_KEYS, &what);
    if let Some(id) = &id {
        lines.set("id".into(), ctx.line(id.pos));
        check_id_matches_file(&mut ctx, &src.path, id, "framework");
        if id.val.trim().is_empty() {
            ctx.report(id.pos, "id of the framework is empty");
        }
    }
    let langs = ctx.languages(top, &what);
    let title = ctx.text(top, "title", &what, true, &langs);

    let min_respondents = match ctx.integer(top, "min_respondents", &what, false) {
        None => DEFAULT_MIN_RESPONDENTS,
        Some(m) if m.val < 1 || m.val > i64::from(u32::MAX) => {
            ctx.report(
                m.pos,
                format!("min_respondents of {what} must be 1 or more, not {}", m.val),
            );
            DEFAULT_MIN_RESPONDENTS
        }
        Some(m) => m.val as u32,
    };

    let mut thresholds = Thresholds::default();
    if let Some(node) = top.get("thresholds") {
        if let Val::Table(entries) = &node.val {
            let t = Tbl {
                pos: node.pos,
                entries,
            };
            let twhat = format!("the thresholds of {what}");
            ctx.check_keys(t, THRESHOLD_KEYS, &twhat);
            let fields = [
                ("good", &mut thresholds.good),
                ("satisfactory", &mut thresholds.satisfactory),
                ("unsatisfactory", &mut thresholds.unsatisfactory),
            ];
            for (key, slot) in fields {
                if let Some(x) = ctx.number(t, key, &twhat) {
                    if (0.0..=100.0).contains(&x.val) {
                        *slot = x.val;
                    } else {
                        ctx.report(
                            x.pos,
                            format!(
                                "threshold {key} of {what} must be within 0–100, not {}",
                                format_number(x.val)
                            ),
                        );
                    }
                }
            }
            let Thresholds {
                good,
                satisfactory,
                unsatisfactory,
            } = thresholds;
            if !(good > satisfactory && satisfactory > unsatisfactory) {
                ctx.report(
                    node.pos,
                    format!(
                        "thresholds of {what} must satisfy good > satisfactory > unsatisfactory \
                         (they are {}, {}, {})",
                        format_number(good),
                        format_number(satisfactory),
                        format_number(unsatisfactory)
                    ),
                );
            }
        } else {
            ctx.wrong(node, "thresholds", &what, "a table ([thresholds])");
        }
    }

    let mut functions = Vec::new();
    let mut function_ids: Seen = BTreeMap::new();
    let mut indicator_ids: Seen = BTreeMap::new();
    if let Some(node) = ctx.value(top, "functions", &what, true) {
        let tables = ctx.tables(node, "functions", &what);
        if tables.is_empty() && matches!(node.val, Val::Array(_)) {
            ctx.report(node.pos, format!("{what} has no functions"));
        }
        for (i, f) in tables.into_iter().enumerate() {
            let fid = ctx.string(f, "id", &format!("function {} of {what}", i + 1), true);
            let fwhat = match &fid {
                Some(fid) => format!("function \"{}\"", fid.val),
                None => format!("function {} of {what}", i + 1),
            };
            ctx.check_keys(f, FUNCTION_KEYS, &fwhat);
            if let Some(fid) = &fid {
                check_unique(&mut ctx, &mut function_ids, fid, "function id", "");
            }
            let ftitle = ctx.text(f, "title", &fwhat, true, &langs);
            let indicators = match ctx.value(f, "indicators", &fwhat, true) {
                Some(node) => read_indicators(&mut ctx, node, &fwhat, &langs, &mut indicator_ids),
                None => Vec::new(),
            };
            functions.push(Function {
                id: fid.map(|x| x.val).unwrap_or_default(),
                title: ftitle,
                indicators,
            });
        }
    }

    let id = id.map(|x| x.val).unwrap_or_default();
    ctx.finish(|| {
        (
            Framework {
                id,
                languages: langs,
                title,
                thresholds,
                min_respondents,
                functions,
            },
            lines,
        )
    })
}

fn read_indicators(
    ctx: &mut Ctx,
    node: &Node,
    fwhat: &str,
    langs: &[String],
    seen: &mut Seen,
) -> Vec<Indicator> {
    let tables = ctx.tables(node, "indicators", fwhat);
    if tables.is_empty() && matches!(node.val, Val::Array(_)) {
        ctx.report(node.pos, format!("{fwhat} has no indicators"));
    }
    let mut indicators = Vec::new();
    for (j, ind) in tables.into_iter().enumerate() {
        let numbered = format!("indicator {} of {fwhat}", j + 1);
        let id = ctx.string(ind, "id", &numbered, true);
        let what = match &id {
            Some(id) => format!("indicator \"{}\"", id.val),
            None => numbered,
        };
        ctx.check_keys(ind, INDICATOR_KEYS, &what);
        if let Some(id) = &id {
            check_unique(ctx, seen, id, "indicator id", "");
        }
        let title = ctx.text(ind, "title", &what, true, langs);
        indicators.push(Indicator {
            id: id.map(|x| x.val).unwrap_or_default(),
            title,
        });
    }
    indicators
}

fn check_id_matches_file(ctx: &mut Ctx, path: &str, id: &At<String>, kind: &str) {
    let stem = file_stem(path);
    if !stem.is_empty() && stem != id.val {
        ctx.report(
            id.pos,
            format!(
                "{kind} id \"{}\" does not match the file name \"{stem}.toml\" (a file must be \
                 named after its id)",
                id.val
            ),
        );
    }
}

/// Reports `id` if it is already in `seen` (ids must be unique), else records it.
fn check_unique(ctx: &mut Ctx, seen: &mut Seen, id: &At<String>, what: &str, within: &str) {
    if id.val.trim().is_empty() {
        ctx.report(id.pos, format!("{what} is empty"));
        return;
    }
    let line = ctx.line(id.pos);
    match seen.get(&id.val) {
        Some(first) => {
            let at = first
                .map(|l| format!(" (first at line {l})"))
                .unwrap_or_default();
            ctx.report(
                id.pos,
                format!("{what} \"{}\" is used twice{within}{at}", id.val),
            );
        }
        None => {
            seen.insert(id.val.clone(), line);
        }
    }
}

// ---------------------------------------------------------------------------
// Surveys

/// Reads the `type` of a question: `select_one LIST` etc. with any whitespace.
fn parse_type(s: &str) -> Result<(QuestionType, Option<String>), String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let simple = |w: &str| match w {
        "text" => Some(QuestionType::Text),
        "integer" => Some(QuestionType::Integer),
        "decimal" => Some(QuestionType::Decimal),
        "date" => Some(QuestionType::Date),
        "note" => Some(QuestionType::Note),
        _ => None,
    };
    let select = |w: &str| match w {
        "select_one" => Some(QuestionType::SelectOne),
        "select_multiple" => Some(QuestionType::SelectMultiple),
        _ => None,
    };
    match words.as_slice() {
        [w] if simple(w).is_some() => Ok((simple(w).unwrap_or(QuestionType::Text), None)),
        [w, list] if select(w).is_some() => Ok((
            select(w).unwrap_or(QuestionType::SelectOne),
            Some((*list).to_owned()),
        )),
        [w] if select(w).is_some() => Err(format!(
            "has type \"{s}\" without a choice list (write e.g. \"{w} yes_no\")"
        )),
        [w, ..] if select(w).is_some() => Err(format!(
            "has type \"{s}\", but a {w} question names exactly one choice list"
        )),
        _ => Err(format!(
            "has type \"{s}\", which is not supported (the types are {SUPPORTED_TYPES})"
        )),
    }
}

/// A question as read, before the checks that need the whole survey.
struct RawQuestion {
    pos: Option<usize>,
    name: Option<At<String>>,
    what: String,
    qtype: Option<At<(QuestionType, Option<String>)>>,
    label: Text,
    hint: Text,
    required: Option<At<bool>>,
    relevant: Option<At<String>>,
    constraint: Option<At<String>>,
    constraint_message: Text,
    indicator: Option<At<String>>,
    section: Option<At<String>>,
}

/// Like [`parse_survey`], also returning where things are in the file.
pub fn parse_survey_located(src: &Source) -> Result<(Survey, FileLines), Vec<Problem>> {
    let (root, mut ctx) = parse_tree(src).map_err(|p| vec![p])?;
    let top = Tbl {
        pos: None,
        entries: &root,
    };
    let mut lines = FileLines::new(&src.path);

    let id = ctx.string(top, "id", "the survey", true);
    let what = match &id {
        Some(id) => format!("survey \"{}\"", id.val),
        None => "the survey".to_owned(),
    };
    ctx.check_keys(top, SURVEY_KEYS, &what);
    if let Some(id) = &id {
        lines.set("id".into(), ctx.line(id.pos));
        if !valid_survey_id(&id.val) {
            ctx.report(
                id.pos,
                format!(
                    "survey id \"{}\" may only contain lowercase letters, digits and '-'",
                    id.val
                ),
            );
        }
        check_id_matches_file(&mut ctx, &src.path, id, "survey");
    }

    let version = match ctx.integer(top, "version", &what, true) {
        Some(v) if v.val < 1 => {
            ctx.report(
                v.pos,
                format!("version of {what} must be 1 or more, not {}", v.val),
            );
            None
        }
        Some(v) if v.val > i64::from(u32::MAX) => {
            ctx.report(v.pos, format!("version of {what} is too large ({})", v.val));
            None
        }
        Some(v) => Some(v.val as u32),
        None => None,
    };

    let kind = ctx.string(top, "kind", &what, true);
    let kind_value = kind.as_ref().and_then(|k| {
        let kinds = [
            ("performance", SurveyKind::Performance),
            ("feedback", SurveyKind::Feedback),
        ];
        ctx.one_of(k, &kinds, "kind", &what)
    });
    if let Some(k) = &kind {
        lines.set("kind".into(), ctx.line(k.pos));
    }
    let respondents = [
        ("partner", Respondent::Partner),
        ("coordinator", Respondent::Coordinator),
        ("public", Respondent::Public),
        ("staff", Respondent::Staff),
    ];
    let respondent = ctx
        .string(top, "respondent", &what, true)
        .and_then(|r| ctx.one_of(&r, &respondents, "respondent", &what));

    let framework = ctx.string(top, "framework", &what, false);
    if let Some(f) = &framework {
        lines.set("framework".into(), ctx.line(f.pos));
    }
    match (kind_value, &framework) {
        (Some(SurveyKind::Performance), None) => ctx.report(
            kind.as_ref().and_then(|k| k.pos),
            format!(
                "{what} is a performance survey, so it needs \"framework\" (the id of a \
                 framework in frameworks/)"
            ),
        ),
        (Some(SurveyKind::Feedback), Some(f)) => ctx.report(
            f.pos,
            format!(
                "{what} is a feedback survey, so it must not name a framework (remove \
                 \"framework\")"
            ),
        ),
        _ => {}
    }

    let langs = ctx.languages(top, &what);
    let title = ctx.text(top, "title", &what, true, &langs);
    let description = ctx.text(top, "description", &what, false, &langs);

    let (sections, section_ids) = read_sections(&mut ctx, top, &what, &langs);
    let (choices, list_pos) = read_choices(&mut ctx, top, &what, &langs);

    // Questions, as read
    let mut raw = Vec::new();
    if let Some(node) = ctx.value(top, "questions", &what, true) {
        let tables = ctx.tables(node, "questions", &what);
        if tables.is_empty() && matches!(node.val, Val::Array(_)) {
            ctx.report(node.pos, format!("{what} has no questions"));
        }
        for (i, q) in tables.into_iter().enumerate() {
            raw.push(read_question(&mut ctx, q, i, &langs));
        }
    }

    // Checks that need the whole survey
    let mut order: BTreeMap<String, usize> = BTreeMap::new();
    for (i, q) in raw.iter().enumerate() {
        let Some(name) = &q.name else { continue };
        if let Some(&first) = order.get(&name.val) {
            let at = ctx
                .line(raw[first].name.as_ref().and_then(|n| n.pos))
                .map(|l| format!(" (first at line {l})"))
                .unwrap_or_default();
            ctx.report(
                name.pos,
                format!("question name \"{}\" is used twice{at}", name.val),
            );
        } else {
            order.insert(name.val.clone(), i);
            lines.set(format!("question:{}", name.val), ctx.line(q.pos));
            if let Some(ind) = &q.indicator {
                lines.set(format!("indicator:{}", name.val), ctx.line(ind.pos));
            }
        }
    }

    let scope = SurveyScope {
        kind: kind_value,
        choices: &choices,
        section_ids: &section_ids,
        order: &order,
    };
    let mut used_lists = BTreeSet::new();
    for (i, q) in raw.iter().enumerate() {
        check_question(&mut ctx, &scope, q, i);
        if let Some(t) = &q.qtype {
            used_lists.extend(t.val.1.clone());
        }
    }
    for (name, pos) in &list_pos {
        if !used_lists.contains(name) {
            ctx.report(
                *pos,
                format!("choice list \"{name}\" is not used by any question"),
            );
        }
    }

    let questions: Vec<Question> = raw
        .into_iter()
        .map(|q| {
            let (qtype, list) = q.qtype.map(|t| t.val).unwrap_or((QuestionType::Text, None));
            Question {
                name: q.name.map(|n| n.val).unwrap_or_default(),
                qtype,
                list,
                label: q.label,
                hint: q.hint,
                required: q.required.is_some_and(|r| r.val),
                relevant: q.relevant.map(|r| r.val),
                constraint: q.constraint.map(|c| c.val),
                constraint_message: q.constraint_message,
                indicator: q.indicator.map(|i| i.val),
                section: q.section.map(|s| s.val),
            }
        })
        .collect();

    let id = id.map(|x| x.val).unwrap_or_default();
    ctx.finish(|| {
        (
            Survey {
                id,
                version: version.unwrap_or(1),
                kind: kind_value.unwrap_or(SurveyKind::Feedback),
                respondent: respondent.unwrap_or(Respondent::Public),
                framework: framework.map(|f| f.val),
                languages: langs,
                title,
                description,
                sections,
                choices,
                questions,
            },
            lines,
        )
    })
}

fn read_sections(ctx: &mut Ctx, top: Tbl, what: &str, langs: &[String]) -> (Vec<Section>, Seen) {
    let mut sections = Vec::new();
    let mut ids = Seen::new();
    let Some(node) = top.get("sections") else {
        return (sections, ids);
    };
    for (i, s) in ctx.tables(node, "sections", what).into_iter().enumerate() {
        let numbered = format!("section {} of {what}", i + 1);
        let id = ctx.string(s, "id", &numbered, true);
        let swhat = match &id {
            Some(id) => format!("section \"{}\"", id.val),
            None => numbered,
        };
        ctx.check_keys(s, SECTION_KEYS, &swhat);
        if let Some(id) = &id {
            check_unique(ctx, &mut ids, id, "section id", "");
        }
        let title = ctx.text(s, "title", &swhat, true, langs);
        sections.push(Section {
            id: id.map(|x| x.val).unwrap_or_default(),
            title,
        });
    }
    (sections, ids)
}

/// The choice lists, and where each is first defined.
fn read_choices(
    ctx: &mut Ctx,
    top: Tbl,
    what: &str,
    langs: &[String],
) -> (BTreeMap<String, Vec<Choice>>, Seen) {
    let mut choices = BTreeMap::new();
    let mut list_pos = Seen::new();
    let Some(node) = top.get("choices") else {
        return (choices, list_pos);
    };
    let Val::Table(lists) = &node.val else {
        let expected = "a table of choice lists (written [[choices.LIST]])";
        ctx.wrong(node, "choices", what, expected);
        return (choices, list_pos);
    };
    for (name, list) in lists {
        let lwhat = format!("choice list \"{name}\"");
        list_pos.insert(name.clone(), list.pos);
        let options = ctx.tables(list, &format!("choices.{name}"), what);
        if options.is_empty() && matches!(list.val, Val::Array(_)) {
            ctx.report(list.pos, format!("{lwhat} has no options"));
        }
        let mut values = Seen::new();
        let parsed = options
            .into_iter()
            .enumerate()
            .map(|(i, opt)| read_choice(ctx, opt, i, &lwhat, &mut values, langs))
            .collect();
        choices.insert(name.clone(), parsed);
    }
    (choices, list_pos)
}

fn read_choice(
    ctx: &mut Ctx,
    opt: Tbl,
    index: usize,
    lwhat: &str,
    values: &mut Seen,
    langs: &[String],
) -> Choice {
    let numbered = format!("option {} of {lwhat}", index + 1);
    let value = ctx.string(opt, "value", &numbered, true);
    let owhat = match &value {
        Some(v) => format!("option \"{}\" of {lwhat}", v.val),
        None => numbered,
    };
    ctx.check_keys(opt, CHOICE_KEYS, &owhat);
    if let Some(v) = &value {
        if valid_choice_value(&v.val) {
            check_unique(ctx, values, v, "value", &format!(" in {lwhat}"));
        } else {
            ctx.report(
                v.pos,
                format!(
                    "value \"{}\" of {lwhat} may only contain letters, digits, '_', '.' and '-'",
                    v.val
                ),
            );
        }
    }
    let label = ctx.text(opt, "label", &owhat, true, langs);
    // An out-of-range score is reported but kept, so that it does not also count as
    // "no score".
    let score = ctx.number(opt, "score", &owhat).map(|s| {
        if !(0.0..=100.0).contains(&s.val) {
            ctx.report(
                s.pos,
                format!(
                    "score of {owhat} must be within 0–100, not {}",
                    format_number(s.val)
                ),
            );
        }
        s.val
    });
    Choice {
        value: value.map(|v| v.val).unwrap_or_default(),
        label,
        score,
    }
}

fn read_question(ctx: &mut Ctx, q: Tbl, index: usize, langs: &[String]) -> RawQuestion {
    let numbered = format!("question {}", index + 1);
    let name = ctx.string(q, "name", &numbered, true);
    let what = match &name {
        Some(n) => format!("question \"{}\"", n.val),
        None => numbered,
    };
    ctx.check_keys(q, QUESTION_KEYS, &what);
    if let Some(n) = &name {
        if !valid_question_name(&n.val) {
            ctx.report(
                n.pos,
                format!(
                    "question name \"{}\" is not valid: it must start with a letter or '_' and \
                     contain only letters, digits and '_'",
                    n.val
                ),
            );
        }
    }
    let qtype = ctx
        .string(q, "type", &what, true)
        .and_then(|t| match parse_type(&t.val) {
            Ok(parsed) => Some(At {
                val: parsed,
                pos: t.pos,
            }),
            Err(message) => {
                ctx.report(t.pos, format!("{what} {message}"));
                None
            }
        });
    let label = ctx.text(q, "label", &what, true, langs);
    let hint = ctx.text(q, "hint", &what, false, langs);
    let required = ctx.boolean(q, "required", &what);
    let relevant = ctx.string(q, "relevant", &what, false);
    let constraint = ctx.string(q, "constraint", &what, false);
    let constraint_message = ctx.text(q, "constraint_message", &what, false, langs);
    let indicator = ctx.string(q, "indicator", &what, false);
    let section = ctx.string(q, "section", &what, false);
    RawQuestion {
        pos: q.pos,
        name,
        what,
        qtype,
        label,
        hint,
        required,
        relevant,
        constraint,
        constraint_message,
        indicator,
        section,
    }
}

/// What the checks of one question need to know about its survey.
struct SurveyScope<'a> {
    kind: Option<SurveyKind>,
    choices: &'a BTreeMap<String, Vec<Choice>>,
    section_ids: &'a Seen,
    /// Question name -> index of its first occurrence.
    order: &'a BTreeMap<String, usize>,
}

/// The checks of one question that need the rest of the survey.
fn check_question(ctx: &mut Ctx, scope: &SurveyScope, q: &RawQuestion, index: usize) {
    let qwhat = &q.what;
    let qname = q.name.as_ref().map(|n| n.val.as_str()).unwrap_or("");
    let (qtype, list) = match &q.qtype {
        Some(t) => (Some(t.val.0), t.val.1.as_deref()),
        None => (None, None),
    };

    if let Some(list) = list {
        if !scope.choices.contains_key(list) {
            let defined = if scope.choices.is_empty() {
                "this survey defines no choice lists".to_owned()
            } else {
                format!("defined lists: {}", comma_list(scope.choices.keys()))
            };
            ctx.report(
                q.qtype.as_ref().and_then(|t| t.pos),
                format!("{qwhat} uses choice list \"{list}\", which is not defined ({defined})"),
            );
        }
    }

    let is_note = qtype == Some(QuestionType::Note);
    if let Some(r) = q.required.as_ref().filter(|r| r.val && is_note) {
        ctx.report(
            r.pos,
            format!("{qwhat} is a note, so it cannot be required"),
        );
    }

    if let Some(ind) = &q.indicator {
        let problem = if is_note {
            Some("is a note, so it cannot be scored (remove \"indicator\")".to_owned())
        } else if scope.kind == Some(SurveyKind::Feedback) {
            Some("has an indicator, but only questions of a performance survey are scored".into())
        } else if let Some(t) = qtype.filter(|&t| t != QuestionType::SelectOne) {
            Some(format!(
                "has an indicator, but only select_one questions can be scored (its type is {})",
                t.as_str()
            ))
        } else if ind.val.trim().is_empty() {
            Some("has an empty indicator".to_owned())
        } else {
            let options = list.and_then(|l| scope.choices.get(l));
            options
                .filter(|o| !o.is_empty() && o.iter().all(|o| o.score.is_none()))
                .map(|_| {
                    format!(
                        "scores indicator \"{}\", but no option of its choice list \"{}\" has \
                         a score",
                        ind.val,
                        list.unwrap_or_default()
                    )
                })
        };
        if let Some(problem) = problem {
            ctx.report(ind.pos, format!("{qwhat} {problem}"));
        }
    }

    if let Some(section) = &q.section {
        if !scope.section_ids.contains_key(&section.val) {
            let declared = if scope.section_ids.is_empty() {
                "this survey declares no [[sections]]".to_owned()
            } else {
                format!(
                    "declared sections: {}",
                    comma_list(scope.section_ids.keys())
                )
            };
            ctx.report(
                section.pos,
                format!(
                    "{qwhat} is in section \"{}\", which is not declared ({declared})",
                    section.val
                ),
            );
        }
    }

    for (key, src) in [("relevant", &q.relevant), ("constraint", &q.constraint)] {
        if let Some(src) = src {
            check_expression(ctx, key, src, qwhat, qname, index, scope.order);
        }
    }
}

/// `relevant` may refer only to earlier questions; `constraint` also to `.` (the answer).
fn check_expression(
    ctx: &mut Ctx,
    key: &str,
    src: &At<String>,
    qwhat: &str,
    qname: &str,
    index: usize,
    order: &BTreeMap<String, usize>,
) {
    let parsed = match expr::parse(&src.val) {
        Ok(parsed) => parsed,
        Err(e) => {
            ctx.report(src.pos, format!("{key} of {qwhat} does not parse: {e}"));
            return;
        }
    };
    if key == "relevant" && parsed.uses_dot() {
        ctx.report(
            src.pos,
            format!(
                "{key} of {qwhat} uses \".\", which only a constraint may use (refer to \
                 questions as ${{name}})"
            ),
        );
    }
    for name in parsed.references() {
        let problem = match order.get(&name) {
            _ if name == qname && key == "constraint" => {
                "which is the question itself; write \".\" for its answer".to_owned()
            }
            _ if name == qname => "which is the question itself".to_owned(),
            None => "which is not a question in this survey".to_owned(),
            Some(&at) if at > index => "which comes after it".to_owned(),
            Some(_) => continue,
        };
        ctx.report(
            src.pos,
            format!("{key} of {qwhat} refers to ${{{name}}}, {problem}"),
        );
    }
}

// ---------------------------------------------------------------------------
// Checks across files

fn check_catalog(
    catalog: &Catalog,
    locations: &Locations,
    broken_frameworks: &BTreeSet<String>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let unknown_lines = FileLines::default();
    let lines_of = |id: &str| locations.surveys.get(id).unwrap_or(&unknown_lines);
    let file_of = |id: &str| match locations.surveys.get(id) {
        Some(l) if !l.file.is_empty() => l.file.clone(),
        _ => format!("survey \"{id}\""),
    };

    // Questions of the same name across the surveys of one framework:
    // (framework, name) -> (survey, question) where first seen.
    let mut shared: BTreeMap<(&str, &str), (&Survey, &Question)> = BTreeMap::new();

    for survey in catalog.surveys.values() {
        if survey.kind != SurveyKind::Performance {
            continue;
        }
        let lines = lines_of(&survey.id);
        let file = file_of(&survey.id);
        let Some(fid) = survey.framework.as_deref() else {
            problems.push(Problem::new(
                &file,
                lines.line("kind"),
                format!(
                    "survey \"{}\" is a performance survey, so it needs \"framework\"",
                    survey.id
                ),
            ));
            continue;
        };
        if broken_frameworks.contains(fid) {
            continue; // its own problems are reported
        }
        let Some(framework) = catalog.frameworks.get(fid) else {
            let known = if catalog.frameworks.is_empty() {
                "there are no frameworks in frameworks/".to_owned()
            } else {
                format!(
                    "defined frameworks: {}",
                    comma_list(catalog.frameworks.keys())
                )
            };
            problems.push(Problem::new(
                &file,
                lines.line("framework"),
                format!("framework \"{fid}\" is not defined ({known})"),
            ));
            continue;
        };

        let indicators: Vec<&str> = framework.indicator_ids().collect();
        let mut covered = BTreeSet::new();
        for q in &survey.questions {
            let Some(ind) = q.indicator.as_deref() else {
                continue;
            };
            if indicators.contains(&ind) {
                covered.insert(ind);
            } else {
                problems.push(Problem::new(
                    &file,
                    lines.question_indicator(&q.name),
                    format!(
                        "question \"{}\" scores indicator \"{ind}\", which is not an indicator \
                         of framework \"{fid}\" (its indicators: {})",
                        q.name,
                        indicators.join(", ")
                    ),
                ));
            }
        }
        for ind in &indicators {
            if !covered.contains(ind) {
                problems.push(Problem::new(
                    &file,
                    None,
                    format!(
                        "indicator \"{ind}\" of framework \"{fid}\" has no scored question in \
                         this survey"
                    ),
                ));
            }
        }

        for q in &survey.questions {
            let Some(&(first_survey, first)) = shared.get(&(fid, q.name.as_str())) else {
                shared.insert((fid, q.name.as_str()), (survey, q));
                continue;
            };
            if let Some(message) = shared_question_mismatch(first_survey, first, survey, q) {
                problems.push(Problem::new(
                    &file,
                    lines.question(&q.name),
                    format!(
                        "question \"{}\" must score like the question of the same name in {} \
                         (surveys of framework \"{fid}\" pool their answers): {message}",
                        q.name,
                        file_of(&first_survey.id)
                    ),
                ));
            }
        }
    }
    problems
}

/// How question `q` of `survey` scores differently from `first` of `first_survey`, if it
/// does.
fn shared_question_mismatch(
    first_survey: &Survey,
    first: &Question,
    survey: &Survey,
    q: &Question,
) -> Option<String> {
    match (&first.indicator, &q.indicator) {
        (None, None) => None,
        (Some(a), Some(b)) if a != b => Some(format!(
            "here it scores indicator \"{b}\", there indicator \"{a}\""
        )),
        (Some(a), None) => Some(format!(
            "here it is not scored, there it scores indicator \"{a}\""
        )),
        (None, Some(b)) => Some(format!(
            "here it scores indicator \"{b}\", there it is not scored"
        )),
        (Some(_), Some(_)) => {
            let scores = |s: &Survey, q: &Question| -> BTreeMap<String, f64> {
                s.choice_list(q)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|o| o.score.map(|x| (o.value.clone(), x)))
                    .collect()
            };
            let there = scores(first_survey, first);
            let here = scores(survey, q);
            let values: BTreeSet<&String> = there.keys().chain(here.keys()).collect();
            let describe = |x: Option<&f64>| match x {
                Some(x) => format!("scores {}", format_number(*x)),
                None => "has no score".to_owned(),
            };
            let mismatch = values.into_iter().find_map(|v| {
                let (a, b) = (there.get(v), here.get(v));
                (a != b).then(|| {
                    format!(
                        "option \"{v}\" {} here but {} there",
                        describe(b),
                        describe(a)
                    )
                })
            });
            mismatch
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A framework with two functions and three indicators.
    const FRAMEWORK: &str = r#"id = "fw"
languages = ["en", "fr"]
title.en = "Framework"
title.fr = "Cadre"

[[functions]]
id = "1"
title.en = "One"
title.fr = "Un"

  [[functions.indicators]]
  id = "1.1"
  title.en = "One one"
  title.fr = "Un un"

  [[functions.indicators]]
  id = "1.2"
  title.en = "One two"
  title.fr = "Un deux"

[[functions]]
id = "2"
title.en = "Two"
title.fr = "Deux"

  [[functions.indicators]]
  id = "2.1"
  title.en = "Two one"
  title.fr = "Deux un"
"#;

    /// A valid performance survey covering `FRAMEWORK`. Line numbers matter: tests
    /// replace lines of it.
    const SURVEY: &str = r#"id = "perf"
version = 1
kind = "performance"
respondent = "partner"
framework = "fw"
languages = ["en", "fr"]
title.en = "Survey"
title.fr = "Enquête"

[[sections]]
id = "s1"
title.en = "Section"
title.fr = "Section"

[[choices.agreement]]
value = "agree"
score = 100
label.en = "Agree"
label.fr = "D'accord"

[[choices.agreement]]
value = "disagree"
score = 0
label.en = "Disagree"
label.fr = "Pas d'accord"

[[choices.agreement]]
value = "dont_know"
label.en = "Don't know"
label.fr = "Ne sais pas"

[[choices.yes_no]]
value = "yes"
label.en = "Yes"
label.fr = "Oui"

[[choices.yes_no]]
value = "no"
label.en = "No"
label.fr = "Non"

[[questions]]
name = "q1"
type = "select_one agreement"
section = "s1"
indicator = "1.1"
required = true
label.en = "Q1"
label.fr = "Q1"

[[questions]]
name = "q2"
type = "select_one   agreement"
indicator = "1.2"
label.en = "Q2"
label.fr = "Q2"
hint.en = "Hint"
hint.fr = "Aide"

[[questions]]
name = "q3"
type = "select_one agreement"
indicator = "2.1"
relevant = "${q1} = 'agree' and ${q2} != ''"
label.en = "Q3"
label.fr = "Q3"

[[questions]]
name = "count"
type = "integer"
constraint = ". >= 0 and . <= ${q1}"
constraint_message.en = "Too many"
constraint_message.fr = "Trop"
label.en = "How many?"
label.fr = "Combien ?"

[[questions]]
name = "more"
type = "select_multiple yes_no"
label.en = "More?"
label.fr = "Plus ?"

[[questions]]
name = "intro"
type = "note"
label.en = "Thanks"
label.fr = "Merci"
"#;

    const FEEDBACK: &str = r#"id = "fb"
version = 3
kind = "feedback"
respondent = "public"
languages = ["en"]
title.en = "Feedback"

[[choices.category]]
value = "complaint"
label.en = "Complaint"

[[questions]]
name = "category"
type = "select_one category"
required = true
label.en = "What is it about?"

[[questions]]
name = "message"
type = "text"
label.en = "Your message"
"#;

    fn fw_src(text: &str) -> Source {
        Source::new("surveys/frameworks/fw.toml", text)
    }

    fn survey_src(text: &str) -> Source {
        Source::new("surveys/perf.toml", text)
    }

    /// `SURVEY` with 1-based line `line` replaced by `with` (which may be several lines,
    /// or empty to delete it).
    fn edit(text: &str, line: usize, with: &str) -> String {
        let mut lines: Vec<&str> = text.lines().collect();
        assert!(line >= 1 && line <= lines.len(), "no line {line}");
        let replacement: Vec<&str> = with.lines().collect();
        lines.splice(line - 1..line, replacement);
        let mut out = lines.join("\n");
        out.push('\n');
        out
    }

    /// Loads `survey` (as surveys/perf.toml) with the test framework and returns the
    /// problems.
    fn problems_of(survey: &str) -> Vec<Problem> {
        load_sources(&[fw_src(FRAMEWORK)], &[survey_src(survey)])
            .err()
            .unwrap_or_default()
    }

    #[track_caller]
    fn expect(problems: &[Problem], line: Option<usize>, phrase: &str) {
        let found = problems
            .iter()
            .any(|p| p.line == line && p.message.contains(phrase));
        let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            found,
            "expected a problem at line {line:?} containing {phrase:?}; got:\n{}",
            listed.join("\n")
        );
    }

    #[track_caller]
    fn expect_only(problems: &[Problem], line: Option<usize>, phrase: &str) {
        expect(problems, line, phrase);
        let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems.len(),
            1,
            "expected one problem, got:\n{}",
            listed.join("\n")
        );
    }

    // -- valid files ----------------------------------------------------------------

    #[test]
    fn valid_minimal_framework_and_surveys_load() {
        let catalog = load_sources(
            &[fw_src(FRAMEWORK)],
            &[survey_src(SURVEY), Source::new("surveys/fb.toml", FEEDBACK)],
        )
        .unwrap_or_else(|p| panic!("{p:#?}"));
        let fw = catalog.framework("fw").unwrap();
        assert_eq!(fw.thresholds, Thresholds::default());
        assert_eq!(fw.min_respondents, 3);
        assert_eq!(fw.functions.len(), 2);
        assert_eq!(
            fw.indicator_ids().collect::<Vec<_>>(),
            ["1.1", "1.2", "2.1"]
        );
        assert_eq!(fw.title["fr"], "Cadre");

        let s = catalog.survey("perf").unwrap();
        assert_eq!(s.version, 1);
        assert_eq!(s.kind, SurveyKind::Performance);
        assert_eq!(s.respondent, Respondent::Partner);
        assert_eq!(s.framework.as_deref(), Some("fw"));
        assert_eq!(s.languages, ["en", "fr"]);
        assert_eq!(s.sections.len(), 1);
        assert_eq!(s.choices["agreement"].len(), 3);
        assert_eq!(s.choices["agreement"][0].score, Some(100.0));
        assert_eq!(s.choices["agreement"][2].score, None);
        assert_eq!(s.questions.len(), 6);
        let q1 = s.question("q1").unwrap();
        assert_eq!(q1.qtype, QuestionType::SelectOne);
        assert_eq!(q1.list.as_deref(), Some("agreement"));
        assert!(q1.required);
        assert_eq!(q1.section.as_deref(), Some("s1"));
        assert_eq!(q1.indicator.as_deref(), Some("1.1"));
        let q2 = s.question("q2").unwrap();
        assert_eq!(q2.list.as_deref(), Some("agreement"));
        assert!(!q2.required);
        assert_eq!(q2.hint["fr"], "Aide");
        assert_eq!(
            s.question("count").unwrap().constraint.as_deref(),
            Some(". >= 0 and . <= ${q1}")
        );
        assert_eq!(
            s.question("more").unwrap().qtype,
            QuestionType::SelectMultiple
        );
        assert_eq!(s.question("intro").unwrap().qtype, QuestionType::Note);

        let fb = catalog.survey("fb").unwrap();
        assert_eq!(fb.version, 3);
        assert_eq!(fb.kind, SurveyKind::Feedback);
        assert_eq!(fb.framework, None);
    }

    #[test]
    fn framework_settings_are_read() {
        let text = FRAMEWORK.replacen(
            "title.fr = \"Cadre\"\n",
            "title.fr = \"Cadre\"\nmin_respondents = 5\n[thresholds]\ngood = 80\nsatisfactory = 60.5\n",
            1,
        );
        let fw = parse_framework(&fw_src(&text)).unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(fw.min_respondents, 5);
        assert_eq!(
            fw.thresholds,
            Thresholds {
                good: 80.0,
                satisfactory: 60.5,
                unsatisfactory: 25.0
            }
        );
    }

    #[test]
    fn problem_display() {
        let p = Problem::new("surveys/a.toml", Some(3), "bad");
        assert_eq!(p.to_string(), "surveys/a.toml:3: bad");
        let p = Problem::new("surveys/a.toml", None, "bad");
        assert_eq!(p.to_string(), "surveys/a.toml: bad");
    }

    // -- TOML, keys and types -------------------------------------------------------

    #[test]
    fn toml_syntax_error_has_line() {
        let text = edit(SURVEY, 48, "label.en = \"Q1");
        let p = problems_of(&text);
        expect_only(&p, Some(48), "is not valid TOML");
    }

    #[test]
    fn duplicate_toml_key_is_reported() {
        let text = edit(SURVEY, 2, "version = 1\nversion = 2");
        expect_only(&problems_of(&text), Some(3), "duplicate key");
    }

    #[test]
    fn unknown_keys_are_reported_with_suggestion() {
        let text = edit(SURVEY, 64, "relevent = \"${q1} = 'agree'\"");
        let p = problems_of(&text);
        expect_only(
            &p,
            Some(64),
            "question \"q3\" has an unknown key \"relevent\"",
        );
        expect(&p, Some(64), "did you mean \"relevant\"?");
    }

    #[test]
    fn unknown_top_level_and_nested_keys_are_all_reported() {
        let text = edit(SURVEY, 8, "title.fr = \"Enquête\"\ncolour = \"red\"");
        let text = edit(&text, 18, "scor = 100");
        let p = problems_of(&text);
        expect(&p, Some(9), "survey \"perf\" has an unknown key \"colour\"");
        expect(
            &p,
            Some(18),
            "has an unknown key \"scor\" (did you mean \"score\"?)",
        );
    }

    #[test]
    fn wrong_types_are_reported() {
        let text = edit(SURVEY, 2, "version = \"1\"");
        let text = edit(&text, 47, "required = \"yes\"");
        let p = problems_of(&text);
        expect(
            &p,
            Some(2),
            "version of survey \"perf\" must be a whole number",
        );
        expect(
            &p,
            Some(47),
            "required of question \"q1\" must be true or false",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    #[test]
    fn missing_keys_are_reported() {
        let text = edit(SURVEY, 4, "");
        let text = edit(&text, 42, "");
        let p = problems_of(&text);
        expect(&p, None, "survey \"perf\" is missing \"respondent\"");
        expect(&p, Some(41), "question 1 is missing \"name\"");
    }

    // -- id and version -----------------------------------------------------------

    #[test]
    fn id_must_match_file_name() {
        let p = load_sources(
            &[fw_src(FRAMEWORK)],
            &[Source::new("surveys/other.toml", SURVEY)],
        )
        .unwrap_err();
        expect_only(&p, Some(1), "does not match the file name \"other.toml\"");
    }

    #[test]
    fn id_must_be_lowercase_letters_digits_dashes() {
        let text = edit(SURVEY, 1, "id = \"Perf_1\"");
        let src = Source::new("surveys/Perf_1.toml", text);
        let p = load_sources(&[fw_src(FRAMEWORK)], &[src]).unwrap_err();
        expect_only(
            &p,
            Some(1),
            "may only contain lowercase letters, digits and '-'",
        );
    }

    #[test]
    fn version_must_be_at_least_one() {
        let text = edit(SURVEY, 2, "version = 0");
        expect_only(
            &problems_of(&text),
            Some(2),
            "version of survey \"perf\" must be 1 or more",
        );
    }

    #[test]
    fn kind_and_respondent_must_be_known() {
        let text = edit(SURVEY, 3, "kind = \"perf\"");
        let text = edit(&text, 4, "respondent = \"donor\"");
        let p = problems_of(&text);
        expect(
            &p,
            Some(3),
            "kind of survey \"perf\" must be \"performance\" or \"feedback\"",
        );
        expect(
            &p,
            Some(4),
            "respondent of survey \"perf\" must be \"partner\"",
        );
    }

    // -- framework ----------------------------------------------------------------

    #[test]
    fn performance_survey_needs_framework() {
        let text = edit(SURVEY, 5, "");
        expect_only(
            &problems_of(&text),
            Some(3),
            "is a performance survey, so it needs",
        );
    }

    #[test]
    fn feedback_survey_has_no_framework() {
        let text = FEEDBACK.replacen(
            "kind = \"feedback\"\n",
            "kind = \"feedback\"\nframework = \"fw\"\n",
            1,
        );
        let p = load_sources(
            &[fw_src(FRAMEWORK)],
            &[Source::new("surveys/fb.toml", text)],
        )
        .unwrap_err();
        expect_only(
            &p,
            Some(4),
            "is a feedback survey, so it must not name a framework",
        );
    }

    #[test]
    fn framework_must_exist() {
        let text = edit(SURVEY, 5, "framework = \"ccpm\"");
        expect_only(
            &problems_of(&text),
            Some(5),
            "framework \"ccpm\" is not defined (defined frameworks: fw)",
        );
    }

    // -- choice lists -------------------------------------------------------------

    #[test]
    fn select_must_name_a_defined_list() {
        let text = edit(SURVEY, 44, "type = \"select_one agrement\"");
        expect(
            &problems_of(&text),
            Some(44),
            "question \"q1\" uses choice list \"agrement\", which is not defined (defined lists: agreement, yes_no)",
        );
    }

    #[test]
    fn every_list_must_be_used() {
        let text = edit(SURVEY, 79, "type = \"text\"");
        expect_only(
            &problems_of(&text),
            Some(32),
            "choice list \"yes_no\" is not used by any question",
        );
    }

    #[test]
    fn choice_values_unique_and_valid() {
        let text = edit(SURVEY, 22, "value = \"agree\"");
        let text = edit(&text, 33, "value = \"oui si\"");
        let p = problems_of(&text);
        expect(
            &p,
            Some(22),
            "value \"agree\" is used twice in choice list \"agreement\" (first at line 16)",
        );
        expect(
            &p,
            Some(33),
            "value \"oui si\" of choice list \"yes_no\" may only contain",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    #[test]
    fn scores_within_0_to_100() {
        let text = edit(SURVEY, 17, "score = 101");
        let text = edit(&text, 23, "score = -1.5");
        let p = problems_of(&text);
        expect(
            &p,
            Some(17),
            "score of option \"agree\" of choice list \"agreement\" must be within 0–100, not 101",
        );
        expect(&p, Some(23), "must be within 0–100, not -1.5");
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    #[test]
    fn empty_choice_list_is_reported() {
        let text = SURVEY.replacen("[[questions]]", "[choices]\nempty = []\n\n[[questions]]", 1);
        expect(
            &problems_of(&text),
            Some(43),
            "choice list \"empty\" has no options",
        );
    }

    // -- questions ----------------------------------------------------------------

    #[test]
    fn question_names_unique_and_valid() {
        let text = edit(SURVEY, 52, "name = \"q1\"");
        let text = edit(&text, 61, "name = \"3rd-question\"");
        let p = problems_of(&text);
        expect(
            &p,
            Some(52),
            "question name \"q1\" is used twice (first at line 43)",
        );
        expect(&p, Some(61), "question name \"3rd-question\" is not valid");
    }

    #[test]
    fn unsupported_types_are_named() {
        let text = edit(SURVEY, 70, "type = \"begin_group\"");
        let text = edit(&text, 79, "type = \"select_one\"");
        let p = problems_of(&text);
        expect(
            &p,
            Some(70),
            "question \"count\" has type \"begin_group\", which is not supported",
        );
        expect(
            &p,
            Some(79),
            "has type \"select_one\" without a choice list",
        );
    }

    #[test]
    fn type_words_may_be_separated_by_any_whitespace() {
        assert_eq!(
            parse_type("select_multiple\t yes_no").unwrap(),
            (QuestionType::SelectMultiple, Some("yes_no".into()))
        );
        assert_eq!(parse_type(" date ").unwrap(), (QuestionType::Date, None));
        assert!(parse_type("calculate")
            .unwrap_err()
            .contains("\"calculate\""));
        assert!(parse_type("select_one a b").is_err());
    }

    #[test]
    fn indicator_only_on_select_one() {
        let text = edit(
            SURVEY,
            79,
            "type = \"select_multiple yes_no\"\nindicator = \"2.1\"",
        );
        expect_only(
            &problems_of(&text),
            Some(80),
            "question \"more\" has an indicator, but only select_one questions can be scored (its type is select_multiple)",
        );
    }

    #[test]
    fn indicator_only_in_performance_surveys() {
        let text = FEEDBACK.replacen(
            "required = true\n",
            "required = true\nindicator = \"1.1\"\n",
            1,
        );
        let p = load_sources(&[], &[Source::new("surveys/fb.toml", text)]).unwrap_err();
        expect_only(
            &p,
            Some(16),
            "only questions of a performance survey are scored",
        );
    }

    #[test]
    fn indicator_must_exist_in_framework() {
        let text = edit(SURVEY, 54, "indicator = \"9.9\"");
        let p = problems_of(&text);
        expect(
            &p,
            Some(54),
            "question \"q2\" scores indicator \"9.9\", which is not an indicator of framework \"fw\"",
        );
        expect(
            &p,
            None,
            "indicator \"1.2\" of framework \"fw\" has no scored question",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    #[test]
    fn scored_question_needs_a_scored_option() {
        let text = edit(
            SURVEY,
            79,
            "type = \"select_one yes_no\"\nindicator = \"2.1\"",
        );
        expect_only(
            &problems_of(&text),
            Some(80),
            "scores indicator \"2.1\", but no option of its choice list \"yes_no\" has a score",
        );
    }

    #[test]
    fn every_indicator_must_be_covered() {
        let text = edit(SURVEY, 63, "");
        let p = problems_of(&text);
        expect_only(
            &p,
            None,
            "indicator \"2.1\" of framework \"fw\" has no scored question in this survey",
        );
        assert_eq!(p[0].file, "surveys/perf.toml");
    }

    #[test]
    fn section_must_be_declared() {
        let text = edit(SURVEY, 45, "section = \"s2\"");
        expect_only(
            &problems_of(&text),
            Some(45),
            "question \"q1\" is in section \"s2\", which is not declared (declared sections: s1)",
        );
    }

    #[test]
    fn section_ids_unique() {
        let text = SURVEY.replacen(
            "[[choices.agreement]]",
            "[[sections]]\nid = \"s1\"\ntitle.en = \"Again\"\ntitle.fr = \"Encore\"\n\n[[choices.agreement]]",
            1,
        );
        expect_only(
            &problems_of(&text),
            Some(16),
            "section id \"s1\" is used twice (first at line 11)",
        );
    }

    // -- expressions --------------------------------------------------------------

    #[test]
    fn relevant_must_parse() {
        let text = edit(SURVEY, 64, "relevant = \"(${q1} = 'agree'\"");
        let p = problems_of(&text);
        expect_only(
            &p,
            Some(64),
            "relevant of question \"q3\" does not parse: column ",
        );
    }

    #[test]
    fn constraint_must_parse() {
        let text = edit(SURVEY, 71, "constraint = \". >= \"");
        expect_only(
            &problems_of(&text),
            Some(71),
            "constraint of question \"count\" does not parse: column ",
        );
    }

    #[test]
    fn relevant_refers_only_to_earlier_questions() {
        let text = edit(
            SURVEY,
            64,
            "relevant = \"${count} > 0 or ${nope} = 1 or ${q3} = 2\"",
        );
        let p = problems_of(&text);
        expect(
            &p,
            Some(64),
            "relevant of question \"q3\" refers to ${count}, which comes after it",
        );
        expect(
            &p,
            Some(64),
            "refers to ${nope}, which is not a question in this survey",
        );
        expect(
            &p,
            Some(64),
            "refers to ${q3}, which is the question itself",
        );
        assert_eq!(p.len(), 3, "{p:#?}");
    }

    #[test]
    fn relevant_cannot_use_dot() {
        let text = edit(SURVEY, 64, "relevant = \". = 'x'\"");
        expect_only(
            &problems_of(&text),
            Some(64),
            "relevant of question \"q3\" uses \".\"",
        );
    }

    #[test]
    fn constraint_may_use_dot_and_earlier_questions_only() {
        let text = edit(
            SURVEY,
            71,
            "constraint = \". > ${q3} and . < ${more} and . != ${count}\"",
        );
        let p = problems_of(&text);
        expect(
            &p,
            Some(71),
            "constraint of question \"count\" refers to ${more}, which comes after it",
        );
        expect(
            &p,
            Some(71),
            "refers to ${count}, which is the question itself; write \".\"",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    #[test]
    fn notes_cannot_be_required_or_scored() {
        let text = edit(
            SURVEY,
            85,
            "type = \"note\"\nrequired = true\nindicator = \"1.1\"",
        );
        let p = problems_of(&text);
        expect(
            &p,
            Some(86),
            "question \"intro\" is a note, so it cannot be required",
        );
        expect(
            &p,
            Some(87),
            "question \"intro\" is a note, so it cannot be scored",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    // -- languages ------------------------------------------------------------------

    #[test]
    fn texts_must_exist_in_every_language() {
        let text = edit(SURVEY, 49, "");
        let text = edit(&text, 35, "label.fr = \"Oui\"\nlabel.de = \"Ja\"");
        let text = edit(&text, 13, "title.fr = \"\"");
        let p = problems_of(&text);
        expect(&p, Some(13), "title of section \"s1\" is empty in \"fr\"");
        expect(&p, Some(36), "label of option \"yes\" of choice list \"yes_no\" has a text in \"de\", which is not one of the languages");
        expect(
            &p,
            Some(49),
            "label of question \"q1\" is missing in \"fr\"",
        );
        assert_eq!(p.len(), 3, "{p:#?}");
    }

    #[test]
    fn text_must_be_a_table_per_language() {
        let text = edit(SURVEY, 48, "label = \"Q1\"");
        let text = edit(&text, 49, "");
        expect_only(
            &problems_of(&text),
            Some(48),
            "label of question \"q1\" must be one text per language",
        );
    }

    #[test]
    fn language_codes_must_be_valid() {
        let text = edit(SURVEY, 6, "languages = [\"en\", \"french\", \"en\"]");
        let p = problems_of(&text);
        expect(
            &p,
            Some(6),
            "language \"french\" in languages of survey \"perf\" is not a language code",
        );
        expect(&p, Some(6), "language \"en\" is listed twice");
    }

    #[test]
    fn framework_texts_must_exist_in_every_language() {
        let text = FRAMEWORK.replacen("  title.fr = \"Un deux\"\n", "", 1);
        let p = parse_framework(&fw_src(&text)).unwrap_err();
        expect_only(
            &p,
            Some(18),
            "title of indicator \"1.2\" is missing in \"fr\"",
        );
    }

    // -- framework rules ------------------------------------------------------------

    #[test]
    fn framework_ids_unique() {
        let text = FRAMEWORK.replacen("id = \"2\"", "id = \"1\"", 1);
        let text = text.replacen("id = \"2.1\"", "id = \"1.1\"", 1);
        let p = parse_framework(&fw_src(&text)).unwrap_err();
        expect(
            &p,
            Some(22),
            "function id \"1\" is used twice (first at line 7)",
        );
        expect(
            &p,
            Some(27),
            "indicator id \"1.1\" is used twice (first at line 12)",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    #[test]
    fn framework_thresholds_ordered_and_in_range() {
        let text = FRAMEWORK.replacen(
            "title.fr = \"Cadre\"\n",
            "title.fr = \"Cadre\"\n[thresholds]\ngood = 40\nsatisfactory = 50\nunsatisfactory = 120\n",
            1,
        );
        let p = parse_framework(&fw_src(&text)).unwrap_err();
        expect(&p, Some(5), "thresholds of framework \"fw\" must satisfy good > satisfactory > unsatisfactory (they are 40, 50, 25)");
        expect(
            &p,
            Some(8),
            "threshold unsatisfactory of framework \"fw\" must be within 0–100, not 120",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }

    #[test]
    fn framework_min_respondents_at_least_one() {
        let text = FRAMEWORK.replacen(
            "title.fr = \"Cadre\"\n",
            "title.fr = \"Cadre\"\nmin_respondents = 0\n",
            1,
        );
        let p = parse_framework(&fw_src(&text)).unwrap_err();
        expect_only(
            &p,
            Some(5),
            "min_respondents of framework \"fw\" must be 1 or more, not 0",
        );
    }

    #[test]
    fn framework_functions_need_indicators() {
        let text = FRAMEWORK.replacen("id = \"2\"\n", "id = \"2\"\nindicators = []\n", 1);
        let text = text.replacen(
            "\n  [[functions.indicators]]\n  id = \"2.1\"\n  title.en = \"Two one\"\n  title.fr = \"Deux un\"\n",
            "",
            1,
        );
        let p = parse_framework(&fw_src(&text)).unwrap_err();
        expect_only(&p, Some(23), "function \"2\" has no indicators");
    }

    #[test]
    fn framework_id_must_match_file_and_keys_known() {
        let text = FRAMEWORK.replacen("id = \"fw\"", "id = \"ccpm\"\ndescription.en = \"x\"", 1);
        let p = parse_framework(&fw_src(&text)).unwrap_err();
        expect(
            &p,
            Some(1),
            "framework id \"ccpm\" does not match the file name \"fw.toml\"",
        );
        expect(
            &p,
            Some(2),
            "framework \"ccpm\" has an unknown key \"description\"",
        );
    }

    // -- across surveys -------------------------------------------------------------

    #[test]
    fn shared_question_names_must_score_alike() {
        let other = SURVEY
            .replacen("id = \"perf\"", "id = \"perf2\"", 1)
            .replacen("indicator = \"1.2\"", "indicator = \"2.1\"", 1)
            .replacen(
                "indicator = \"2.1\"\nrelevant",
                "indicator = \"1.2\"\nrelevant",
                1,
            )
            .replacen("score = 0", "score = 10", 1);
        let p = load_sources(
            &[fw_src(FRAMEWORK)],
            &[survey_src(SURVEY), Source::new("surveys/perf2.toml", other)],
        )
        .unwrap_err();
        expect(
            &p,
            Some(42),
            "question \"q1\" must score like the question of the same name in surveys/perf.toml (surveys of framework \"fw\" pool their answers): option \"disagree\" scores 10 here but scores 0 there",
        );
        expect(&p, Some(51), "question \"q2\" must score like the question of the same name in surveys/perf.toml (surveys of framework \"fw\" pool their answers): here it scores indicator \"2.1\", there indicator \"1.2\"");
        expect(&p, Some(60), "question \"q3\" must score like");
        assert!(p.iter().all(|x| x.file == "surveys/perf2.toml"), "{p:#?}");
        assert_eq!(p.len(), 3, "{p:#?}");
    }

    #[test]
    fn duplicate_survey_ids_are_reported() {
        let p = load_sources(
            &[fw_src(FRAMEWORK)],
            &[
                survey_src(SURVEY),
                Source::new("elsewhere/perf.toml", SURVEY),
            ],
        )
        .unwrap_err();
        expect_only(
            &p,
            Some(1),
            "survey id \"perf\" is already used by surveys/perf.toml",
        );
        assert_eq!(p[0].file, "elsewhere/perf.toml");
    }

    #[test]
    fn broken_framework_does_not_cascade() {
        let broken = FRAMEWORK.replacen("id = \"1.1\"", "id = 11", 1);
        let p = load_sources(&[fw_src(&broken)], &[survey_src(SURVEY)]).unwrap_err();
        expect_only(
            &p,
            Some(12),
            "id of indicator 1 of function \"1\" must be text in quotes",
        );
        assert_eq!(p[0].file, "surveys/frameworks/fw.toml");
    }

    #[test]
    fn validate_catalog_without_locations_names_the_survey() {
        let mut catalog = load_sources(&[fw_src(FRAMEWORK)], &[survey_src(SURVEY)]).expect("valid");
        catalog.frameworks.clear();
        let p = validate_catalog(&catalog, &Locations::default());
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!(p[0].file, "survey \"perf\"");
        assert!(p[0].message.contains("framework \"fw\" is not defined"));
    }

    // -- many problems at once --------------------------------------------------------

    #[test]
    fn many_problems_are_reported_at_once_sorted() {
        let text = edit(SURVEY, 2, "version = 0");
        let text = edit(&text, 44, "type = \"select_one agrement\"");
        let text = edit(&text, 55, "labl.en = \"Q2\"");
        let text = edit(&text, 64, "relevant = \"${count} = 1\"");
        let text = edit(&text, 87, "label.fr = \"Merci\"\nhint = 3");
        let bad_fb = FEEDBACK.replacen("version = 3", "version = -1", 1);
        let p = load_sources(
            &[fw_src(FRAMEWORK)],
            &[survey_src(&text), Source::new("surveys/fb.toml", bad_fb)],
        )
        .unwrap_err();
        let rendered: Vec<String> = p.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            rendered
                .iter()
                .map(|r| r.split(": ").next().unwrap())
                .collect::<Vec<_>>(),
            [
                "surveys/fb.toml:2",
                "surveys/perf.toml:2",
                "surveys/perf.toml:44",
                "surveys/perf.toml:55",
                "surveys/perf.toml:56",
                "surveys/perf.toml:64",
                "surveys/perf.toml:88",
            ],
            "{rendered:#?}"
        );
        expect(
            &p,
            Some(2),
            "version of survey \"fb\" must be 1 or more, not -1",
        );
        expect(
            &p,
            Some(44),
            "uses choice list \"agrement\", which is not defined",
        );
        expect(
            &p,
            Some(55),
            "unknown key \"labl\" (did you mean \"label\"?)",
        );
        expect(
            &p,
            Some(56),
            "label of question \"q2\" is missing in \"en\"",
        );
        expect(&p, Some(64), "refers to ${count}, which comes after it");
        expect(
            &p,
            Some(88),
            "hint of question \"intro\" must be one text per language",
        );
    }

    // -- directories ------------------------------------------------------------------

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "clusterpulse-load-test-{}-{name}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("frameworks")).unwrap();
            TempDir(dir)
        }
        fn write(&self, name: &str, bytes: &[u8]) {
            std::fs::write(self.0.join(name), bytes).unwrap();
        }
        fn shown(&self, name: &str) -> String {
            self.0.join(name).display().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn load_dir_reads_frameworks_and_surveys() {
        let dir = TempDir::new("ok");
        dir.write("frameworks/fw.toml", FRAMEWORK.as_bytes());
        dir.write("perf.toml", SURVEY.as_bytes());
        dir.write("fb.toml", FEEDBACK.as_bytes());
        dir.write("README.md", b"not a survey");
        std::fs::create_dir_all(dir.0.join("drafts")).unwrap();
        dir.write("drafts/ignored.toml", b"this is not even TOML");
        let catalog = load_dir(&dir.0).unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(catalog.frameworks.keys().collect::<Vec<_>>(), ["fw"]);
        assert_eq!(catalog.surveys.keys().collect::<Vec<_>>(), ["fb", "perf"]);
    }

    #[test]
    fn load_dir_missing_or_empty_directory() {
        let missing = std::env::temp_dir().join("clusterpulse-load-test-does-not-exist");
        let p = load_dir(&missing).unwrap_err();
        expect_only(&p, None, "the survey definitions directory does not exist");
        assert_eq!(p[0].file, missing.display().to_string());

        let dir = TempDir::new("empty");
        dir.write("frameworks/fw.toml", FRAMEWORK.as_bytes());
        let p = load_dir(&dir.0).unwrap_err();
        expect_only(&p, None, "contains no survey files");
    }

    #[test]
    fn load_dir_checks_file_names_encoding_and_size() {
        let dir = TempDir::new("bad");
        dir.write("frameworks/fw.toml", FRAMEWORK.as_bytes());
        dir.write("perf.toml", SURVEY.as_bytes());
        dir.write("renamed.toml", FEEDBACK.as_bytes());
        let mut latin1 = FEEDBACK
            .replace("id = \"fb\"", "id = \"latin\"")
            .into_bytes();
        latin1.extend_from_slice(b"# caf\xe9\n");
        dir.write("latin.toml", &latin1);
        let big = vec![b'#'; MAX_FILE_BYTES as usize + 1];
        dir.write("big.toml", &big);
        let p = load_dir(&dir.0).unwrap_err();
        assert_eq!(p.len(), 3, "{p:#?}");
        assert_eq!(p[0].file, dir.shown("big.toml"));
        expect(&p, None, "is too large (1048577 bytes; the limit is 1 MiB)");
        assert_eq!(p[1].file, dir.shown("latin.toml"));
        expect(&p, Some(22), "is not UTF-8 text");
        assert_eq!(p[2].file, dir.shown("renamed.toml"));
        expect(
            &p,
            Some(1),
            "survey id \"fb\" does not match the file name \"renamed.toml\"",
        );
    }

    // -- the shipped definitions ------------------------------------------------------

    fn shipped_dir() -> Option<PathBuf> {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys"));
        dir.is_dir().then_some(dir)
    }

    #[test]
    fn shipped_definitions_load() {
        let Some(dir) = shipped_dir() else { return };
        if let Err(problems) = load_dir(&dir) {
            let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            panic!(
                "the shipped definitions have problems:\n{}",
                listed.join("\n")
            );
        }
    }

    #[test]
    fn shipped_definitions_match_the_design() {
        let Some(dir) = shipped_dir() else { return };
        let Ok(catalog) = load_dir(&dir) else { return }; // reported by shipped_definitions_load
        let all = ["en", "fr", "es", "ar"];
        let ccpm = catalog.framework("ccpm").expect("framework ccpm");
        assert_eq!(ccpm.languages, all);
        for id in ["ccpm-partner", "ccpm-coordinator"] {
            let s = catalog.survey(id).unwrap_or_else(|| panic!("survey {id}"));
            assert_eq!(s.languages, all, "{id}");
            assert_eq!(s.kind, SurveyKind::Performance, "{id}");
            assert_eq!(s.framework.as_deref(), Some("ccpm"), "{id}");
            assert!(
                (20..=40).contains(&s.questions.len()),
                "{id}: {} questions",
                s.questions.len()
            );
        }
        let aap = catalog.survey("aap-feedback").expect("survey aap-feedback");
        assert_eq!(aap.languages, all);
        assert_eq!(aap.kind, SurveyKind::Feedback);
        for name in [
            "category",
            "message",
            "consent_to_contact",
            "contact",
            "sex",
            "age_group",
            "disability",
            "admin1",
            "admin2",
        ] {
            assert!(
                aap.question(name).is_some(),
                "aap-feedback has no question {name}"
            );
        }
        let category = aap.question("category").unwrap();
        let values: Vec<&str> = aap
            .choice_list(category)
            .expect("category has a choice list")
            .iter()
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(
            values,
            [
                "question",
                "suggestion",
                "complaint",
                "appreciation",
                "request",
                "sensitive"
            ]
        );
        let contact = aap.question("contact").unwrap();
        assert!(
            contact
                .relevant
                .as_deref()
                .is_some_and(|r| r.contains("${consent_to_contact}")),
            "contact must be relevant only with consent"
        );
    }
}
