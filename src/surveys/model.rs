//! The parsed, validated shape of survey and framework definitions.
//!
//! These types are what the rest of clusterpulse uses (and what
//! `GET /api/v1/surveys/{id}` and `GET /api/v1/frameworks/{id}` return as JSON).
//! They are plain data: loading, line numbers and validation live in `load.rs`.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Text in several languages, keyed by language code (`en`, `fr`, `es`, `ar`).
pub type Text = BTreeMap<String, String>;

/// The scored structure of a performance survey: functions, indicators, thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Framework {
    pub id: String,
    pub languages: Vec<String>,
    pub title: Text,
    pub thresholds: Thresholds,
    pub min_respondents: u32,
    pub functions: Vec<Function>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Thresholds {
    pub good: f64,
    pub satisfactory: f64,
    pub unsatisfactory: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            good: 75.0,
            satisfactory: 50.0,
            unsatisfactory: 25.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Function {
    pub id: String,
    pub title: Text,
    pub indicators: Vec<Indicator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Indicator {
    pub id: String,
    pub title: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    Performance,
    Feedback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Respondent {
    Partner,
    Coordinator,
    Public,
    Staff,
}

/// One questionnaire, at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: String,
    pub version: u32,
    pub kind: SurveyKind,
    pub respondent: Respondent,
    pub framework: Option<String>,
    /// The first language is the default.
    pub languages: Vec<String>,
    pub title: Text,
    /// Optional introduction shown above the first question.
    #[serde(default)]
    pub description: Text,
    /// Sections in display order; questions refer to them by id.
    #[serde(default)]
    pub sections: Vec<Section>,
    /// Named choice lists, each an ordered list of options.
    pub choices: BTreeMap<String, Vec<Choice>>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Section {
    pub id: String,
    pub title: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Choice {
    pub value: String,
    pub label: Text,
    /// 0–100; `None` for options excluded from scoring ("don't know", "not applicable").
    pub score: Option<f64>,
    /// Further columns of the option that a question's `choice_filter` can test, e.g.
    /// `{"region": "north"}` (XLSForm's extra columns of the choices sheet). Two options of
    /// a list may share a value when these differ (two districts named alike in two
    /// regions).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    Text,
    Integer,
    Decimal,
    Date,
    SelectOne,
    SelectMultiple,
    Note,
    /// A location: `"lat lon [alt [acc]]"` (degrees, metres).
    Geopoint,
    /// A value computed from earlier answers by `calculation`; never asked.
    Calculate,
    /// A statement to confirm: the answer is `"OK"`.
    Acknowledge,
    /// A number from `range.start` to `range.end` in steps of `range.step`.
    Range,
    /// A group of `questions` asked once per row (household members, visits…); the answer
    /// is an array of objects, one per row, each keyed by the inner questions' names.
    Repeat,
}

impl QuestionType {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::Text => "text",
            QuestionType::Integer => "integer",
            QuestionType::Decimal => "decimal",
            QuestionType::Date => "date",
            QuestionType::SelectOne => "select_one",
            QuestionType::SelectMultiple => "select_multiple",
            QuestionType::Note => "note",
            QuestionType::Geopoint => "geopoint",
            QuestionType::Calculate => "calculate",
            QuestionType::Acknowledge => "acknowledge",
            QuestionType::Range => "range",
            QuestionType::Repeat => "repeat",
        }
    }

    /// Whether the question takes no answer from the respondent (notes, calculations).
    pub fn is_not_asked(self) -> bool {
        matches!(self, QuestionType::Note | QuestionType::Calculate)
    }
}

/// The bounds of a `range` question. `end` may be below `start` (a descending scale);
/// `step` is positive. The answer is a whole number when all three are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RangeSpec {
    pub start: f64,
    pub end: f64,
    pub step: f64,
}

impl Default for RangeSpec {
    /// XLSForm's defaults.
    fn default() -> Self {
        RangeSpec {
            start: 1.0,
            end: 10.0,
            step: 1.0,
        }
    }
}

impl RangeSpec {
    /// Whether answers are whole numbers.
    pub fn is_integer(&self) -> bool {
        [self.start, self.end, self.step]
            .iter()
            .all(|x| x.fract() == 0.0)
    }

    /// Whether `x` is one of the range's steps (with a tolerance of a millionth of a step
    /// for decimal steps).
    pub fn contains(&self, x: f64) -> bool {
        let (lo, hi) = if self.start <= self.end {
            (self.start, self.end)
        } else {
            (self.end, self.start)
        };
        if !x.is_finite() || x < lo || x > hi {
            return false;
        }
        let steps = (x - self.start) / self.step;
        (steps - steps.round()).abs() <= 1e-6
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    pub name: String,
    #[serde(rename = "type")]
    pub qtype: QuestionType,
    /// The choice list of a `select_one` / `select_multiple` question.
    pub list: Option<String>,
    pub label: Text,
    #[serde(default)]
    pub hint: Text,
    pub required: bool,
    pub relevant: Option<String>,
    pub constraint: Option<String>,
    #[serde(default)]
    pub constraint_message: Text,
    /// The framework indicator this question scores (performance surveys, `select_one` only).
    pub indicator: Option<String>,
    pub section: Option<String>,
    /// `calculate` questions: the expression whose value is the answer (the server
    /// computes it; a value sent for it is replaced).
    #[serde(default)]
    pub calculation: Option<String>,
    /// Select questions: the expression an option must pass to be offered (cascading
    /// selects); bare names in it are the option's `columns`, `name` its value.
    #[serde(default)]
    pub choice_filter: Option<String>,
    /// `range` questions: the bounds and step.
    #[serde(default)]
    pub range: Option<RangeSpec>,
    /// `repeat` questions: the questions of each row (never a repeat themselves, never
    /// scored, not in sections). Names are unique across the whole survey.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub questions: Vec<Question>,
}

/// The most rows a repeat answer may have.
pub const MAX_REPEAT_ROWS: usize = 100;

impl Survey {
    /// A top-level question by name (the questions inside repeats are not answers of
    /// their own: see [`Survey::any_question`]).
    pub fn question(&self, name: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.name == name)
    }

    /// A question by name, inside a repeat or not.
    pub fn any_question(&self, name: &str) -> Option<&Question> {
        self.all_questions().find(|q| q.name == name)
    }

    /// Every question, each repeat followed by its inner questions.
    pub fn all_questions(&self) -> impl Iterator<Item = &Question> {
        self.questions
            .iter()
            .flat_map(|q| std::iter::once(q).chain(q.questions.iter()))
    }

    pub fn choice_list(&self, q: &Question) -> Option<&[Choice]> {
        q.list
            .as_deref()
            .and_then(|l| self.choices.get(l))
            .map(|v| v.as_slice())
    }

    pub fn default_language(&self) -> &str {
        self.languages.first().map(|s| s.as_str()).unwrap_or("en")
    }
}

impl Framework {
    pub fn indicator_ids(&self) -> impl Iterator<Item = &str> {
        self.functions
            .iter()
            .flat_map(|f| f.indicators.iter().map(|i| i.id.as_str()))
    }

    /// The function an indicator belongs to.
    pub fn function_of(&self, indicator: &str) -> Option<&Function> {
        self.functions
            .iter()
            .find(|f| f.indicators.iter().any(|i| i.id == indicator))
    }
}

/// Every definition known to the server: frameworks and the current version of each survey.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub frameworks: BTreeMap<String, Framework>,
    pub surveys: BTreeMap<String, Survey>,
    /// Ids of the surveys that were published through the web or the API rather than read
    /// from files. A round includes them only when it names them.
    pub uploaded: BTreeSet<String>,
}

impl Catalog {
    pub fn survey(&self, id: &str) -> Option<&Survey> {
        self.surveys.get(id)
    }
    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.get(id)
    }
}
