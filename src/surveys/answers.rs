//! Checking submitted answers against a survey definition.
//!
//! [`validate`] is what `POST /api/v1/responses`, the survey web form (final submit and
//! saved drafts) and the public feedback form run before anything is stored. It reports
//! every bad field at once (never just the first), keyed by the bare question name, each
//! message in the respondent's language, and on success returns the answers normalised
//! (trimmed text, numbers as JSON numbers, select_multiple as an array in list order)
//! together with one scoring [`Item`] per stored answer.
//!
//! # Rules
//!
//! - A name that is not a question of the survey is an error; so is an answer to a `note`.
//! - `null`, `""`, `[]` and text made only of whitespace are "unanswered": they are never
//!   an error by themselves and are dropped from the normalised answers.
//! - Types: `text` is a JSON string, trimmed, at most [`MAX_TEXT_CHARS`] characters, with no
//!   NUL character (PostgreSQL cannot store one); `integer` is a JSON integer or a string
//!   holding one (an `i64`); `decimal` is a JSON number or a string holding a finite
//!   number; `date` is `YYYY-MM-DD` naming a real calendar day (years 0001–9999);
//!   `select_one` is one value of its list (a JSON number is read as its text);
//!   `select_multiple` is an array of distinct values of its list, or one string of values
//!   separated by spaces (XLSForm's form), normalised to an array in list order;
//!   `geopoint` is text `"lat lon [alt [acc]]"` (latitude −90…90, longitude −180…180,
//!   altitude any finite number, accuracy 0 or more), normalised to single spaces;
//!   `acknowledge` is `"OK"` (any case) or `true`, normalised to `"OK"`; `range` is a number
//!   between its bounds on one of its steps (a JSON integer when the range is whole).
//! - `calculate` questions are computed, never taken from the input: in question order, a
//!   calculation that applies (its `relevant` holds) is evaluated over the answers so far
//!   and stored as [`expr::calculated`] gives it; a value sent for it is ignored.
//! - Choice filters ([`Mode::Submit`] only): a select answer must be the value of an option
//!   that passes the question's `choice_filter` given the answers before it.
//! - `repeat`: an array of rows (objects keyed by the repeat's questions), at most
//!   [`MAX_REPEAT_ROWS`]; rows with nothing answered are dropped (the web form always shows
//!   an empty one), so a required repeat needs one answered row. Each row is checked like a
//!   survey of the repeat's questions whose expressions also see the answers before the
//!   repeat; its errors are keyed `repeat.ROW.question` (`ROW` counts from 0, as sent).
//! - Relevance ([`Mode::Submit`] only): each question's `relevant` is evaluated in question
//!   order over the answers accepted so far, so an answer to a question that does not apply
//!   counts as unanswered for every later expression (XLSForm semantics). Answering a
//!   question that does not apply is an error; a required question that applies and is
//!   unanswered is an error; a question that does not apply is never required.
//! - Constraints ([`Mode::Submit`] only): evaluated with `.` bound to the normalised answer
//!   and `${…}` to the normalised answers of the questions before it (a constraint may
//!   only refer to earlier questions). When false, the question's `constraint_message` is
//!   shown in the respondent's language, else in the survey's default language, else the
//!   built-in [`MsgKey::NotAccepted`].
//! - [`Mode::Draft`] (a saved, unfinished questionnaire) checks only types and choice
//!   values, and keeps answers to questions that do not currently apply (the respondent may
//!   still change the answer they depend on).
//!
//! # Language
//!
//! Messages are in the requested language when the survey has it (`fr-CA` and `FR` are
//! read as `fr`), otherwise in the survey's default language (its first). Built-in messages
//! exist in English, French, Spanish and Arabic; any other language gets English.
//!
//! Nothing is cached between calls: each expression is parsed once per call, which for a
//! 40-question survey takes microseconds.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Number, Value as Json};

use super::expr;
use super::model::{Choice, Question, QuestionType, Survey, MAX_REPEAT_ROWS};
use super::parsed;
use crate::kernel::text::ascii_digits;

/// The longest accepted text answer, in characters (Unicode scalar values), after trimming.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// How many allowed values an error message about a choice lists before ending with `…`.
const MAX_LISTED_CHOICES: usize = 10;

/// How thoroughly to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A final submission: every rule.
    Submit,
    /// A saved draft: type and choice checks only; no required answers, no constraints,
    /// and answers to questions that do not (yet) apply are kept.
    Draft,
}

/// One stored answer, as scoring sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Item {
    /// The question's name.
    pub question: String,
    /// The normalised answer.
    pub value: Json,
    /// The score of the chosen option of a `select_one` question; `None` for other types
    /// and for options without a score ("don't know", "not applicable").
    pub score: Option<f64>,
    /// The framework indicator of the question, if it has one.
    pub indicator: Option<String>,
}

/// Answers that passed [`validate`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Validated {
    /// The normalised answers of the answered questions (that apply, in [`Mode::Submit`]),
    /// inserted in question order (kept in that order when serde_json preserves insertion
    /// order; [`Validated::items`] always is).
    pub answers: Map<String, Json>,
    /// One item per stored answer, in question order.
    pub items: Vec<Item>,
}

/// Bad fields: the bare question name → what is wrong, in the respondent's language.
pub type FieldErrors = BTreeMap<String, String>;

/// The built-in messages (see [`message`]). Variants with data fill in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgKey {
    /// The name is not a question of the survey.
    UnknownQuestion,
    /// The question is a `note`, which displays text and takes no answer.
    NoteAnswered,
    /// A required question that applies was left unanswered.
    Required,
    /// The question does not apply given earlier answers, yet it was answered.
    NotRelevant,
    /// A constraint failed and the question has no `constraint_message`.
    NotAccepted,
    /// A `text` answer that is not a string.
    ExpectText,
    /// A `text` answer longer than `max` characters.
    TextTooLong { max: usize },
    /// A `text` answer containing a NUL character.
    BadCharacter,
    /// An `integer` answer that is not a whole number.
    ExpectInteger,
    /// A `decimal` answer that is not a finite number.
    ExpectDecimal,
    /// A `date` answer that is not a real `YYYY-MM-DD` date.
    ExpectDate,
    /// A `select_one` answer that is not one of `allowed` (the list's values, in order).
    ExpectOneChoice { allowed: Vec<String> },
    /// A `select_multiple` answer with a value not in `allowed`, or of the wrong shape.
    ExpectChoices { allowed: Vec<String> },
    /// A `select_multiple` answer naming the same value twice.
    DuplicateChoice,
    /// A `geopoint` answer that is not `lat lon [alt [acc]]` within range.
    ExpectGeopoint,
    /// An `acknowledge` answer other than `OK`.
    ExpectAcknowledge,
    /// A `range` answer that is not a step between `start` and `end`.
    ExpectRange {
        start: String,
        end: String,
        step: String,
    },
    /// A `repeat` answer (or one of its rows) that is not a list of rows (objects).
    ExpectRows,
    /// A `repeat` answer with more than `max` rows.
    TooManyRows { max: usize },
}

impl MsgKey {
    /// A stable, language-independent code for the message.
    pub fn code(&self) -> &'static str {
        match self {
            MsgKey::UnknownQuestion => "unknown_question",
            MsgKey::NoteAnswered => "note_answered",
            MsgKey::Required => "required",
            MsgKey::NotRelevant => "not_relevant",
            MsgKey::NotAccepted => "not_accepted",
            MsgKey::ExpectText => "expect_text",
            MsgKey::TextTooLong { .. } => "text_too_long",
            MsgKey::BadCharacter => "bad_character",
            MsgKey::ExpectInteger => "expect_integer",
            MsgKey::ExpectDecimal => "expect_decimal",
            MsgKey::ExpectDate => "expect_date",
            MsgKey::ExpectOneChoice { .. } => "expect_one_choice",
            MsgKey::ExpectChoices { .. } => "expect_choices",
            MsgKey::DuplicateChoice => "duplicate_choice",
            MsgKey::ExpectGeopoint => "expect_geopoint",
            MsgKey::ExpectAcknowledge => "expect_acknowledge",
            MsgKey::ExpectRange { .. } => "expect_range",
            MsgKey::ExpectRows => "expect_rows",
            MsgKey::TooManyRows { .. } => "too_many_rows",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Fr,
    Es,
    Ar,
}

fn builtin_lang(lang: &str) -> Lang {
    let primary = lang.split(['-', '_']).next().unwrap_or("");
    match primary.to_ascii_lowercase().as_str() {
        "fr" => Lang::Fr,
        "es" => Lang::Es,
        "ar" => Lang::Ar,
        _ => Lang::En,
    }
}

/// A built-in message in `lang` (`en`, `fr`, `es` or `ar`, region subtags ignored; any
/// other language gets English).
pub fn message(key: MsgKey, lang: &str) -> String {
    let lang = builtin_lang(lang);
    let pick = |en: &str, fr: &str, es: &str, ar: &str| -> String {
        match lang {
            Lang::En => en,
            Lang::Fr => fr,
            Lang::Es => es,
            Lang::Ar => ar,
        }
        .to_owned()
    };
    match key {
        MsgKey::UnknownQuestion => pick(
            "This question does not exist in this survey.",
            "Cette question n'existe pas dans ce questionnaire.",
            "Esta pregunta no existe en este cuestionario.",
            "هذا السؤال غير موجود في هذا الاستبيان.",
        ),
        MsgKey::NoteAnswered => pick(
            "This is an information note; it cannot be answered.",
            "Ceci est une note d'information ; elle n'attend pas de réponse.",
            "Esto es una nota informativa; no admite respuesta.",
            "هذه ملاحظة للاطلاع فقط ولا يمكن الإجابة عنها.",
        ),
        MsgKey::Required => pick(
            "This question requires an answer.",
            "Cette question demande une réponse.",
            "Esta pregunta requiere una respuesta.",
            "هذا السؤال يتطلب إجابة.",
        ),
        MsgKey::NotRelevant => pick(
            "This question does not apply given your other answers.",
            "Cette question ne s'applique pas compte tenu de vos autres réponses.",
            "Esta pregunta no corresponde según sus otras respuestas.",
            "هذا السؤال لا ينطبق بناءً على إجاباتكم الأخرى.",
        ),
        MsgKey::NotAccepted => pick(
            "This answer is not accepted.",
            "Cette réponse n'est pas acceptée.",
            "Esta respuesta no se acepta.",
            "هذه الإجابة غير مقبولة.",
        ),
        MsgKey::ExpectText => pick(
            "Enter your answer as text.",
            "Saisissez votre réponse sous forme de texte.",
            "Escriba su respuesta como texto.",
            "أدخلوا إجابتكم على شكل نص.",
        ),
        MsgKey::TextTooLong { max } => match lang {
            Lang::En => format!(
                "Your answer is too long: use at most {} characters.",
                group_digits(max, ",")
            ),
            Lang::Fr => format!(
                "Votre réponse est trop longue : {} caractères au maximum.",
                group_digits(max, "\u{202f}")
            ),
            Lang::Es => {
                format!("Su respuesta es demasiado larga: use como máximo {max} caracteres.")
            }
            Lang::Ar => format!("إجابتكم طويلة جداً: الحد الأقصى {max} حرف."),
        },
        MsgKey::BadCharacter => pick(
            "Your answer contains a character that is not allowed.",
            "Votre réponse contient un caractère non autorisé.",
            "Su respuesta contiene un carácter no permitido.",
            "تحتوي إجابتكم على حرف غير مسموح به.",
        ),
        MsgKey::ExpectInteger => pick(
            "Enter a whole number, for example 12.",
            "Saisissez un nombre entier, par exemple 12.",
            "Escriba un número entero, por ejemplo 12.",
            "أدخلوا عدداً صحيحاً، مثل 12.",
        ),
        MsgKey::ExpectDecimal => pick(
            "Enter a number, for example 2.5.",
            "Saisissez un nombre, avec un point pour les décimales, par exemple 2.5.",
            "Escriba un número, con punto para los decimales, por ejemplo 2.5.",
            "أدخلوا رقماً، مثل 2.5.",
        ),
        MsgKey::ExpectDate => pick(
            "Enter a real date as YYYY-MM-DD, for example 2024-03-31.",
            "Saisissez une date réelle au format AAAA-MM-JJ, par exemple 2024-03-31.",
            "Escriba una fecha real con el formato AAAA-MM-DD, por ejemplo 2024-03-31.",
            "أدخلوا تاريخاً صحيحاً بالصيغة YYYY-MM-DD، مثل 2024-03-31.",
        ),
        MsgKey::ExpectOneChoice { allowed } => {
            let list = list_values(&allowed, lang);
            match lang {
                Lang::En => format!("Choose one of the options: {list}."),
                Lang::Fr => format!("Choisissez l'une des options : {list}."),
                Lang::Es => format!("Elija una de las opciones: {list}."),
                Lang::Ar => format!("اختاروا أحد الخيارات: {list}."),
            }
        }
        MsgKey::ExpectChoices { allowed } => {
            let list = list_values(&allowed, lang);
            match lang {
                Lang::En => format!("Choose only among the options: {list}."),
                Lang::Fr => format!("Choisissez uniquement parmi les options : {list}."),
                Lang::Es => format!("Elija solo entre las opciones: {list}."),
                Lang::Ar => format!("اختاروا فقط من بين الخيارات: {list}."),
            }
        }
        MsgKey::DuplicateChoice => pick(
            "Each option can be chosen only once.",
            "Chaque option ne peut être choisie qu'une seule fois.",
            "Cada opción solo puede elegirse una vez.",
            "لا يمكن اختيار الخيار نفسه أكثر من مرة.",
        ),
        MsgKey::ExpectGeopoint => pick(
            "Enter a location as latitude and longitude in degrees, separated by a space, \
             for example 12.34 -1.52 (altitude and accuracy in metres may follow).",
            "Saisissez un lieu par sa latitude et sa longitude en degrés, séparées par une \
             espace, par exemple 12.34 -1.52 (l'altitude et la précision en mètres peuvent \
             suivre).",
            "Escriba un lugar con su latitud y longitud en grados, separadas por un espacio, \
             por ejemplo 12.34 -1.52 (pueden seguir la altitud y la precisión en metros).",
            "أدخلوا الموقع بخط العرض وخط الطول بالدرجات، بينهما مسافة، مثل 12.34 -1.52 \
             (يمكن إضافة الارتفاع والدقة بالأمتار).",
        ),
        MsgKey::ExpectAcknowledge => pick(
            "Tick the box to confirm, or leave it empty.",
            "Cochez la case pour confirmer, ou laissez-la vide.",
            "Marque la casilla para confirmar, o déjela vacía.",
            "ضعوا علامة في المربع للتأكيد، أو اتركوه فارغاً.",
        ),
        MsgKey::ExpectRange { start, end, step } => match lang {
            Lang::En => format!("Enter a number from {start} to {end}, in steps of {step}."),
            Lang::Fr => format!("Saisissez un nombre de {start} à {end}, par pas de {step}."),
            Lang::Es => format!("Escriba un número de {start} a {end}, en pasos de {step}."),
            Lang::Ar => format!("أدخلوا رقماً من {start} إلى {end}، بخطوات قدرها {step}."),
        },
        MsgKey::ExpectRows => pick(
            "Give the rows as a list, each row with its answers.",
            "Donnez les lignes sous forme de liste, chaque ligne avec ses réponses.",
            "Dé las filas como una lista, cada fila con sus respuestas.",
            "قدّموا الصفوف على شكل قائمة، لكل صف إجاباته.",
        ),
        MsgKey::TooManyRows { max } => match lang {
            Lang::En => format!("Too many rows: at most {max}."),
            Lang::Fr => format!("Trop de lignes : {max} au maximum."),
            Lang::Es => format!("Demasiadas filas: como máximo {max}."),
            Lang::Ar => format!("عدد الصفوف كبير جداً: الحد الأقصى {max}."),
        },
    }
}

/// `5000` → `5,000` (with `sep` between groups of three digits).
fn group_digits(n: usize, sep: &str) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// The first [`MAX_LISTED_CHOICES`] values, separated by commas, then `…` if there are more.
fn list_values(values: &[String], lang: Lang) -> String {
    let sep = if lang == Lang::Ar { "، " } else { ", " };
    let mut out = values
        .iter()
        .take(MAX_LISTED_CHOICES)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(sep);
    if values.len() > MAX_LISTED_CHOICES {
        out.push_str(sep);
        out.push('…');
    }
    out
}

/// The language messages for `survey` are given in: `lang` when the survey has it (also
/// ignoring case and a region such as `-CA`), otherwise the survey's default language.
pub fn language<'a>(survey: &'a Survey, lang: &str) -> &'a str {
    let primary = lang.split(['-', '_']).next().unwrap_or("");
    survey
        .languages
        .iter()
        .find(|l| l.as_str() == lang)
        .or_else(|| {
            survey
                .languages
                .iter()
                .find(|l| l.eq_ignore_ascii_case(lang) || l.eq_ignore_ascii_case(primary))
        })
        .map(String::as_str)
        .unwrap_or_else(|| survey.default_language())
}

/// Checks `answers` (question name → raw JSON answer) against `survey`; see the module
/// documentation for the rules. `lang` is the respondent's language, for the messages.
pub fn validate(
    survey: &Survey,
    answers: &Map<String, Json>,
    lang: &str,
    mode: Mode,
) -> Result<Validated, FieldErrors> {
    let mut walk = Walk {
        survey,
        lang: language(survey, lang),
        mode,
        errors: FieldErrors::new(),
    };
    let (accepted, items) = walk.questions(&survey.questions, answers, &Map::new(), "");
    if walk.errors.is_empty() {
        Ok(Validated {
            answers: accepted,
            items,
        })
    } else {
        Err(walk.errors)
    }
}

/// One validation: the survey, the rules that apply and the errors found so far.
struct Walk<'a> {
    survey: &'a Survey,
    lang: &'a str,
    mode: Mode,
    errors: FieldErrors,
}

impl Walk<'_> {
    fn error(&mut self, key: String, msg: MsgKey) {
        self.errors.insert(key, message(msg, self.lang));
    }

    /// Checks `answers` against `questions` (the survey's, or a repeat's for one row) and
    /// returns the accepted answers and their items. `outer` is what expressions see
    /// besides these answers (a repeat row: the answers before its repeat); error keys
    /// start with `prefix` (`member.0.` for the first row of repeat `member`).
    fn questions(
        &mut self,
        questions: &[Question],
        answers: &Map<String, Json>,
        outer: &Map<String, Json>,
        prefix: &str,
    ) -> (Map<String, Json>, Vec<Item>) {
        let known: HashSet<&str> = questions.iter().map(|q| q.name.as_str()).collect();
        for name in answers.keys() {
            if !known.contains(name.as_str()) {
                self.error(format!("{prefix}{name}"), MsgKey::UnknownQuestion);
            }
        }
        // What later expressions see: the outer answers and those accepted so far. At the
        // top level (no outer answers) that is `accepted` itself, so no copy is kept.
        let mut env = (!outer.is_empty()).then(|| outer.clone());
        let mut accepted = Map::new();
        let mut items = Vec::new();
        let mode = self.mode;
        for q in questions {
            // The error key, built only when there is an error to report.
            let key = || format!("{prefix}{}", q.name);
            let seen = env.as_ref().unwrap_or(&accepted);
            if q.qtype == QuestionType::Calculate {
                // Computed here whatever was sent; empty when the question does not apply.
                if is_relevant(q, seen) {
                    if let Some(value) = calculate(q, seen) {
                        items.push(item(q, value.clone(), None));
                        keep(&mut env, &mut accepted, &q.name, value);
                    }
                }
                continue;
            }
            let raw = answers.get(&q.name).filter(|v| !is_blank(v));
            if q.qtype == QuestionType::Note {
                if raw.is_some() {
                    self.error(key(), MsgKey::NoteAnswered);
                }
                continue;
            }
            // Drafts keep answers whatever the relevance, so it is not evaluated for them.
            let applies = mode == Mode::Draft || is_relevant(q, seen);
            let rows = match (raw, q.qtype) {
                (Some(raw), QuestionType::Repeat) if applies => self.rows(q, raw, seen, &key()),
                _ => None,
            };
            let raw = match q.qtype {
                QuestionType::Repeat if applies => rows.as_ref().and(raw),
                _ => raw,
            };
            let Some(raw) = raw else {
                if mode == Mode::Submit && applies && q.required {
                    let key = key();
                    if !self.errors.contains_key(&key) {
                        self.error(key, MsgKey::Required);
                    }
                }
                continue;
            };
            if !applies {
                self.error(key(), MsgKey::NotRelevant);
                continue;
            }
            if let Some(rows) = rows {
                items.push(item(q, rows.clone(), None));
                keep(&mut env, &mut accepted, &q.name, rows);
                continue;
            }
            let all_choices = self.survey.choice_list(q).unwrap_or(&[]);
            let filtered;
            let choices = if mode == Mode::Submit && q.choice_filter.is_some() {
                filtered = offered(q, all_choices, seen);
                filtered.as_slice()
            } else {
                all_choices
            };
            let value = match normalise(q, raw, choices) {
                Ok(Some(value)) => value,
                // Nothing left after normalising (cannot happen after `is_blank`, but an
                // empty normalised answer is unanswered either way).
                Ok(None) => continue,
                Err(msg) => {
                    self.error(key(), msg);
                    continue;
                }
            };
            let score = match (&value, q.qtype) {
                (Json::String(v), QuestionType::SelectOne) => {
                    choices.iter().find(|c| &c.value == v).and_then(|c| c.score)
                }
                _ => None,
            };
            items.push(item(q, value.clone(), score));
            // A well-typed answer that fails its constraint still counts for the relevance
            // of later questions, as it does in the browser, so both show the same errors.
            keep(&mut env, &mut accepted, &q.name, value);
            if mode == Mode::Submit && !constraint_holds(q, env.as_ref().unwrap_or(&accepted)) {
                let msg = constraint_message(self.survey, q, self.lang);
                self.errors.insert(key(), msg);
            }
        }
        (accepted, items)
    }

    /// The rows of a repeat answer, each checked against the repeat's questions; rows with
    /// nothing answered are dropped (the web form always offers an empty one). `None`
    /// when no row is left, or the answer is not a list of rows (then reported).
    fn rows(
        &mut self,
        q: &Question,
        raw: &Json,
        env: &Map<String, Json>,
        key: &str,
    ) -> Option<Json> {
        let Json::Array(rows) = raw else {
            self.error(key.to_string(), MsgKey::ExpectRows);
            return None;
        };
        if rows.len() > MAX_REPEAT_ROWS {
            self.error(
                key.to_string(),
                MsgKey::TooManyRows {
                    max: MAX_REPEAT_ROWS,
                },
            );
            return None;
        }
        let mut out = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let Json::Object(row) = row else {
                self.error(format!("{key}.{i}"), MsgKey::ExpectRows);
                continue;
            };
            if row.values().all(is_blank) {
                continue;
            }
            let (accepted, _) = self.questions(&q.questions, row, env, &format!("{key}.{i}."));
            out.push(Json::Object(accepted));
        }
        (!out.is_empty()).then_some(Json::Array(out))
    }
}

fn item(q: &Question, value: Json, score: Option<f64>) -> Item {
    Item {
        question: q.name.clone(),
        value,
        score,
        indicator: q.indicator.clone(),
    }
}

/// What a person could see: the answers to questions that do not apply (given the answers
/// before them, in order, as the form's script decides) are dropped, inside repeat rows
/// too; calculations are computed for what follows them. Names that are not questions
/// are kept, so that validation reports them.
pub fn prune_irrelevant(survey: &Survey, raw: &Map<String, Json>) -> Map<String, Json> {
    let mut kept = prune(&survey.questions, raw, &Map::new());
    for (k, v) in raw {
        if survey.question(k).is_none() {
            kept.insert(k.clone(), v.clone());
        }
    }
    kept
}

fn prune(
    questions: &[Question],
    raw: &Map<String, Json>,
    outer: &Map<String, Json>,
) -> Map<String, Json> {
    let mut env = outer.clone();
    let mut kept = Map::new();
    for q in questions {
        if !is_relevant(q, &env) {
            continue;
        }
        let value = if q.qtype == QuestionType::Calculate {
            calculate(q, &env)
        } else {
            raw.get(&q.name).map(|v| match v {
                Json::Array(rows) if q.qtype == QuestionType::Repeat => Json::Array(
                    rows.iter()
                        .map(|row| match row {
                            Json::Object(row) => Json::Object(prune(&q.questions, row, &env)),
                            other => other.clone(),
                        })
                        .collect(),
                ),
                v => v.clone(),
            })
        };
        if let Some(v) = value {
            env.insert(q.name.clone(), v.clone());
            kept.insert(q.name.clone(), v);
        }
    }
    kept
}

/// Keeps an accepted answer, and in what later expressions see when that is a map of its
/// own (a repeat row's: see [`Walk::questions`]).
fn keep(
    env: &mut Option<Map<String, Json>>,
    accepted: &mut Map<String, Json>,
    name: &str,
    value: Json,
) {
    if let Some(env) = env {
        env.insert(name.to_string(), value.clone());
    }
    accepted.insert(name.to_string(), value);
}

/// Whether `q` applies given the answers accepted so far.
fn is_relevant(q: &Question, accepted: &Map<String, Json>) -> bool {
    match q.relevant.as_deref().map(parsed::expression) {
        None => true,
        Some(Ok(e)) => expr::eval_bool(&e, accepted, None),
        // Definitions are validated when loaded, so this cannot happen with a loaded
        // survey; a broken expression must not lock respondents out, so it counts as true.
        Some(Err(_)) => true,
    }
}

/// The options of a select question that pass its `choice_filter` given the answers so far
/// (all of them when it has none, or it does not parse).
pub fn offered(q: &Question, choices: &[Choice], accepted: &Map<String, Json>) -> Vec<Choice> {
    let Some(Ok(filter)) = q.choice_filter.as_deref().map(parsed::choice_filter) else {
        return choices.to_vec();
    };
    choices
        .iter()
        .filter(|c| {
            expr::choice_passes(
                &filter,
                accepted,
                expr::ChoiceColumns {
                    name: &c.value,
                    columns: &c.columns,
                },
            )
        })
        .cloned()
        .collect()
}

/// The value of a `calculate` question over the answers so far (`None`: empty).
pub fn calculate(q: &Question, accepted: &Map<String, Json>) -> Option<Json> {
    let e = parsed::expression(q.calculation.as_deref()?).ok()?;
    expr::calculated(expr::evaluate(&e, accepted, None))
}

/// Whether the answer to `q` (already in `accepted`) satisfies its constraint.
fn constraint_holds(q: &Question, accepted: &Map<String, Json>) -> bool {
    match q.constraint.as_deref().map(parsed::expression) {
        None => true,
        Some(Ok(e)) => expr::eval_bool(&e, accepted, accepted.get(&q.name)),
        // As for `relevant`: validated at load time; if broken anyway, the answer passes.
        Some(Err(_)) => true,
    }
}

fn constraint_message(survey: &Survey, q: &Question, lang: &str) -> String {
    let given = |l: &str| {
        q.constraint_message
            .get(l)
            .filter(|m| !m.trim().is_empty())
            .cloned()
    };
    given(lang)
        .or_else(|| given(survey.default_language()))
        .unwrap_or_else(|| message(MsgKey::NotAccepted, lang))
}

/// `null`, `""`, whitespace-only text, `[]` and rows with nothing answered: unanswered.
fn is_blank(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.trim().is_empty(),
        Json::Array(items) => items
            .iter()
            .all(|i| matches!(i, Json::Object(row) if row.values().all(is_blank))),
        _ => false,
    }
}

/// The normalised answer, `None` when it amounts to no answer, or what is wrong with it.
fn normalise(q: &Question, raw: &Json, choices: &[Choice]) -> Result<Option<Json>, MsgKey> {
    if is_blank(raw) {
        return Ok(None);
    }
    let value = match q.qtype {
        QuestionType::Note | QuestionType::Calculate => return Err(MsgKey::NoteAnswered),
        // Rows are checked by `Walk::rows`.
        QuestionType::Repeat => return Err(MsgKey::ExpectRows),
        QuestionType::Geopoint => Json::String(geopoint(raw).ok_or(MsgKey::ExpectGeopoint)?),
        QuestionType::Acknowledge => match raw {
            Json::Bool(true) => Json::String("OK".into()),
            Json::String(s) if s.trim().eq_ignore_ascii_case("ok") => Json::String("OK".into()),
            _ => return Err(MsgKey::ExpectAcknowledge),
        },
        QuestionType::Range => {
            let spec = q.range.unwrap_or_default();
            let wrong = || MsgKey::ExpectRange {
                start: format!("{}", spec.start),
                end: format!("{}", spec.end),
                step: format!("{}", spec.step),
            };
            let x = decimal(raw)
                .filter(|x| spec.contains(*x))
                .ok_or_else(wrong)?;
            if spec.is_integer() {
                Json::from(x.round() as i64)
            } else {
                Json::Number(Number::from_f64(x).ok_or_else(wrong)?)
            }
        }
        QuestionType::Text => {
            let Json::String(s) = raw else {
                return Err(MsgKey::ExpectText);
            };
            let s = crate::kernel::text::strip_bidi_controls(s);
            let s = s.trim();
            if s.chars().count() > MAX_TEXT_CHARS {
                return Err(MsgKey::TextTooLong {
                    max: MAX_TEXT_CHARS,
                });
            }
            if s.contains('\0') {
                return Err(MsgKey::BadCharacter);
            }
            Json::String(s.to_owned())
        }
        QuestionType::Integer => Json::from(integer(raw).ok_or(MsgKey::ExpectInteger)?),
        QuestionType::Decimal => {
            let x = decimal(raw).ok_or(MsgKey::ExpectDecimal)?;
            Json::Number(Number::from_f64(x).ok_or(MsgKey::ExpectDecimal)?)
        }
        QuestionType::Date => match raw {
            Json::String(s) if is_date(&ascii_digits(s.trim())) => {
                Json::String(ascii_digits(s.trim()).into_owned())
            }
            _ => return Err(MsgKey::ExpectDate),
        },
        QuestionType::SelectOne => {
            let wrong = || MsgKey::ExpectOneChoice {
                allowed: values_of(choices),
            };
            let v = choice_text(raw).ok_or_else(wrong)?;
            if !choices.iter().any(|c| c.value == v) {
                return Err(wrong());
            }
            Json::String(v)
        }
        QuestionType::SelectMultiple => select_multiple(raw, choices)?,
    };
    Ok(Some(value))
}

fn values_of(choices: &[Choice]) -> Vec<String> {
    choices.iter().map(|c| c.value.clone()).collect()
}

/// A JSON integer (or a number with no fraction that a double holds exactly), or a string
/// holding an `i64` (in ASCII, Arabic-Indic or Persian digits).
fn integer(raw: &Json) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match raw {
        Json::Number(n) => n.as_i64().or_else(|| {
            let x = n.as_f64()?;
            (n.is_f64() && x.fract() == 0.0 && x.abs() <= EXACT).then_some(x as i64)
        }),
        Json::String(s) => ascii_digits(s.trim()).parse::<i64>().ok(),
        _ => None,
    }
}

/// A JSON number, or a string holding a finite number (`2.5`, `-3`, `1e3`, `٢٫٥`).
fn decimal(raw: &Json) -> Option<f64> {
    let x = match raw {
        Json::Number(n) => n.as_f64()?,
        Json::String(s) => {
            let t = ascii_digits(s.trim());
            // Only digits, signs, a point and an exponent: no `inf`, `NaN`, `infinity`.
            if !t
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
            {
                return None;
            }
            t.parse::<f64>().ok()?
        }
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// `lat lon [alt [acc]]`, each a decimal number (ASCII, Arabic-Indic or Persian digits),
/// normalised to single spaces; `None` when out of range or malformed.
fn geopoint(raw: &Json) -> Option<String> {
    let Json::String(s) = raw else {
        return None;
    };
    let s = ascii_digits(s.trim());
    let parts: Vec<&str> = s.split_whitespace().collect();
    if !(2..=4).contains(&parts.len()) {
        return None;
    }
    let numbers: Vec<f64> = parts
        .iter()
        .map(|p| decimal(&Json::String(p.to_string())))
        .collect::<Option<_>>()?;
    let ok = (-90.0..=90.0).contains(&numbers[0])
        && (-180.0..=180.0).contains(&numbers[1])
        && numbers.get(3).is_none_or(|acc| *acc >= 0.0);
    ok.then(|| parts.join(" "))
}

/// `YYYY-MM-DD` naming a real day of the Gregorian calendar, years 0001–9999.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[range];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// A choice value given as a string (trimmed) or a number (its text: `3`, `2.5`).
fn choice_text(raw: &Json) -> Option<String> {
    match raw {
        Json::String(s) => Some(s.trim().to_owned()),
        Json::Number(n) => Some(number_text(n)),
        _ => None,
    }
}

fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let x = n.as_f64().unwrap_or(f64::NAN);
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// An array of distinct list values, or one string of values separated by whitespace;
/// normalised to an array in list order.
fn select_multiple(raw: &Json, choices: &[Choice]) -> Result<Json, MsgKey> {
    let wrong = || MsgKey::ExpectChoices {
        allowed: values_of(choices),
    };
    let given: Vec<String> = match raw {
        Json::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Json::Array(items) => items
            .iter()
            .map(choice_text)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(wrong)?,
        _ => return Err(wrong()),
    };
    let mut chosen = vec![false; choices.len()];
    let mut duplicate = false;
    for v in &given {
        let at = choices
            .iter()
            .position(|c| &c.value == v)
            .ok_or_else(wrong)?;
        duplicate |= std::mem::replace(&mut chosen[at], true);
    }
    if duplicate {
        return Err(MsgKey::DuplicateChoice);
    }
    Ok(Json::Array(
        choices
            .iter()
            .zip(&chosen)
            .filter(|(_, &on)| on)
            .map(|(c, _)| Json::String(c.value.clone()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::*;
    use serde_json::json;
    use std::path::Path;

    const SMALL: &str = r#"
id = "household"
version = 1
kind = "feedback"
respondent = "staff"
languages = ["en", "fr", "ar"]
title.en = "Household visit"
title.fr = "Visite du ménage"
title.ar = "زيارة الأسرة"

[[choices.yes_no]]
value = "yes"
label.en = "Yes"
label.fr = "Oui"
label.ar = "نعم"

[[choices.yes_no]]
value = "no"
label.en = "No"
label.fr = "Non"
label.ar = "لا"

[[choices.service]]
value = "water"
label.en = "Water"
label.fr = "Eau"
label.ar = "مياه"

[[choices.service]]
value = "shelter"
label.en = "Shelter"
label.fr = "Abri"
label.ar = "مأوى"

[[choices.service]]
value = "health"
label.en = "Health"
label.fr = "Santé"
label.ar = "صحة"

[[choices.service]]
value = "other"
label.en = "Other"
label.fr = "Autre"
label.ar = "أخرى"

[[choices.size]]
value = "1"
label.en = "One"
label.fr = "Un"
label.ar = "واحد"

[[choices.size]]
value = "2"
label.en = "Two"
label.fr = "Deux"
label.ar = "اثنان"

[[choices.rating]]
value = "good"
score = 100
label.en = "Good"
label.fr = "Bien"
label.ar = "جيد"

[[choices.rating]]
value = "poor"
score = 0
label.en = "Poor"
label.fr = "Mauvais"
label.ar = "سيئ"

[[choices.rating]]
value = "dont_know"
label.en = "Don't know"
label.fr = "Je ne sais pas"
label.ar = "لا أعرف"

[[questions]]
name = "intro"
type = "note"
label.en = "Thank you for your time."
label.fr = "Merci de votre temps."
label.ar = "شكراً لوقتكم."

[[questions]]
name = "name"
type = "text"
required = true
label.en = "Name of the village"
label.fr = "Nom du village"
label.ar = "اسم القرية"

[[questions]]
name = "age"
type = "integer"
required = true
constraint = ". >= 0 and . <= 120"
constraint_message.en = "Age must be between 0 and 120."
constraint_message.fr = "L'âge doit être compris entre 0 et 120."
constraint_message.ar = "يجب أن يكون العمر بين 0 و120."
label.en = "Age of the head of household"
label.fr = "Âge du chef de ménage"
label.ar = "عمر رب الأسرة"

[[questions]]
name = "height"
type = "decimal"
label.en = "Height of the shelter (m)"
label.fr = "Hauteur de l'abri (m)"
label.ar = "ارتفاع المأوى (م)"

[[questions]]
name = "visit"
type = "date"
label.en = "Date of the visit"
label.fr = "Date de la visite"
label.ar = "تاريخ الزيارة"

[[questions]]
name = "has_children"
type = "select_one yes_no"
required = true
label.en = "Are there children?"
label.fr = "Y a-t-il des enfants ?"
label.ar = "هل يوجد أطفال؟"

[[questions]]
name = "children"
type = "integer"
required = true
relevant = "${has_children} = 'yes'"
constraint = ". >= 1"
label.en = "How many children?"
label.fr = "Combien d'enfants ?"
label.ar = "كم عدد الأطفال؟"

[[questions]]
name = "large_family"
type = "text"
relevant = "${children} > 3"
label.en = "What support does the family need?"
label.fr = "De quel soutien la famille a-t-elle besoin ?"
label.ar = "ما الدعم الذي تحتاجه الأسرة؟"

[[questions]]
name = "services"
type = "select_multiple service"
label.en = "Services received"
label.fr = "Services reçus"
label.ar = "الخدمات المتلقاة"

[[questions]]
name = "other_service"
type = "text"
relevant = "selected(${services}, 'other')"
label.en = "Which other service?"
label.fr = "Quel autre service ?"
label.ar = "ما الخدمة الأخرى؟"

[[questions]]
name = "household_size"
type = "select_one size"
label.en = "Household size"
label.fr = "Taille du ménage"
label.ar = "حجم الأسرة"

[[questions]]
name = "rating"
type = "select_one rating"
label.en = "How was the visit?"
label.fr = "Comment s'est passée la visite ?"
label.ar = "كيف كانت الزيارة؟"
"#;

    fn small() -> Survey {
        load::parse_survey(&load::Source::new("household.toml", SMALL))
            .unwrap_or_else(|problems| panic!("test survey does not load: {problems:?}"))
    }

    fn shipped(id: &str) -> Survey {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys"));
        let catalog = load::load_dir(dir)
            .unwrap_or_else(|problems| panic!("shipped surveys do not load: {problems:?}"));
        catalog.survey(id).expect("shipped survey").clone()
    }

    fn obj(v: Json) -> Map<String, Json> {
        match v {
            Json::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    /// The smallest complete valid submission of the small survey.
    fn base() -> Map<String, Json> {
        obj(json!({"name": "Al Mukalla", "age": 40, "has_children": "no"}))
    }

    fn with(pairs: Json) -> Map<String, Json> {
        let mut m = base();
        m.extend(obj(pairs));
        m
    }

    fn errors(survey: &Survey, answers: Map<String, Json>, lang: &str) -> FieldErrors {
        match validate(survey, &answers, lang, Mode::Submit) {
            Ok(v) => panic!("expected errors, got {v:?}"),
            Err(e) => e,
        }
    }

    fn ok(survey: &Survey, answers: Map<String, Json>) -> Validated {
        validate(survey, &answers, "en", Mode::Submit)
            .unwrap_or_else(|e| panic!("expected success, got {e:?}"))
    }

    fn error_of(answers: Json, field: &str) -> String {
        let e = errors(&small(), with(answers), "en");
        assert_eq!(e.len(), 1, "{e:?}");
        e.get(field)
            .unwrap_or_else(|| panic!("no error for {field}: {e:?}"))
            .clone()
    }

    #[test]
    fn valid_answers_are_normalised_and_kept_in_question_order() {
        let v = ok(
            &small(),
            obj(json!({
                "rating": "good",
                "household_size": 2,
                "other_service": "  transport ",
                "services": "other  water",
                "children": "4",
                "large_family": "Blankets",
                "has_children": "yes",
                "visit": " 2024-02-29 ",
                "height": "2.5",
                "age": " 40 ",
                "name": "  Al Mukalla\n",
            })),
        );
        let expected = obj(json!({
            "name": "Al Mukalla",
            "age": 40,
            "height": 2.5,
            "visit": "2024-02-29",
            "has_children": "yes",
            "children": 4,
            "large_family": "Blankets",
            "services": ["water", "other"],
            "other_service": "transport",
            "household_size": "2",
            "rating": "good",
        }));
        assert_eq!(v.answers, expected);
        let names: Vec<&str> = v.items.iter().map(|i| i.question.as_str()).collect();
        assert_eq!(
            names,
            [
                "name",
                "age",
                "height",
                "visit",
                "has_children",
                "children",
                "large_family",
                "services",
                "other_service",
                "household_size",
                "rating"
            ]
        );
        for item in &v.items {
            assert_eq!(item.value, expected[&item.question]);
        }
        // Only the chosen option of a scored select_one has a score.
        let rating = v.items.last().unwrap();
        assert_eq!(rating.score, Some(100.0));
        assert!(v.items[..v.items.len() - 1]
            .iter()
            .all(|i| i.score.is_none()));
        assert!(v.items.iter().all(|i| i.indicator.is_none()));
    }

    #[test]
    fn blank_answers_count_as_unanswered_and_are_dropped() {
        let v = ok(
            &small(),
            with(json!({
                "height": null,
                "visit": "",
                "services": [],
                "rating": "   ",
                "intro": "",
                "large_family": " \t\n ",
            })),
        );
        assert_eq!(v.answers, base());
        assert_eq!(v.items.len(), 3);
        // A required question answered with blanks is missing.
        let e = errors(&small(), with(json!({"name": "  ", "age": null})), "en");
        assert_eq!(e.len(), 2);
        assert_eq!(e["name"], "This question requires an answer.");
        assert_eq!(e["age"], "This question requires an answer.");
    }

    #[test]
    fn unknown_questions_are_reported_by_name() {
        let e = errors(&small(), with(json!({"colour": "red", "Age": 3})), "fr");
        assert_eq!(e.len(), 2);
        assert_eq!(
            e["colour"],
            "Cette question n'existe pas dans ce questionnaire."
        );
        assert!(e.contains_key("Age"));
        let e = errors(&small(), with(json!({"colour": "red"})), "en");
        assert_eq!(e["colour"], "This question does not exist in this survey.");
    }

    #[test]
    fn a_note_cannot_be_answered_even_in_a_draft() {
        let msg = error_of(json!({"intro": "hello"}), "intro");
        assert_eq!(msg, message(MsgKey::NoteAnswered, "en"));
        let draft = validate(&small(), &obj(json!({"intro": 1})), "en", Mode::Draft);
        assert_eq!(draft.unwrap_err().len(), 1);
    }

    #[test]
    fn text_must_be_a_string_of_at_most_5000_characters() {
        assert_eq!(
            error_of(json!({"name": 12}), "name"),
            "Enter your answer as text."
        );
        assert_eq!(
            error_of(json!({"name": ["a"]}), "name"),
            "Enter your answer as text."
        );
        let msg = error_of(json!({"name": "é".repeat(5_001)}), "name");
        assert!(msg.contains("5,000"), "{msg}");
        // Exactly 5,000 characters (multi-byte, plus surrounding spaces) is fine.
        let long = "é".repeat(5_000);
        let v = ok(&small(), with(json!({"name": format!("  {long} ")})));
        assert_eq!(v.answers["name"], json!(long));
        assert_eq!(
            error_of(json!({"name": "a\u{0}b"}), "name"),
            message(MsgKey::BadCharacter, "en")
        );
        let fr = errors(&small(), with(json!({"name": "x".repeat(6_000)})), "fr");
        assert!(fr["name"].contains("5\u{202f}000"), "{}", fr["name"]);
    }

    #[test]
    fn integers_from_numbers_and_strings() {
        for (given, want) in [
            (json!(7), 7),
            (json!("7"), 7),
            (json!(" -0 "), 0),
            (json!("+12"), 12),
            (json!(12.0), 12),
            (json!("١٢"), 12),
            (json!("۴۲"), 42),
        ] {
            let v = ok(&small(), with(json!({"age": given})));
            assert_eq!(v.answers["age"], json!(want), "{given}");
            assert!(v.answers["age"].is_i64() || v.answers["age"].is_u64());
        }
        for bad in [
            json!("12.5"),
            json!(12.5),
            json!("twelve"),
            json!(true),
            json!("99999999999999999999"),
            json!(["12"]),
            json!({"n": 12}),
            json!("1 2"),
        ] {
            assert_eq!(
                error_of(json!({"age": bad.clone()}), "age"),
                "Enter a whole number, for example 12.",
                "{bad}"
            );
        }
    }

    #[test]
    fn decimals_from_numbers_and_strings() {
        for (given, want) in [
            (json!(2.5), 2.5),
            (json!("2.5"), 2.5),
            (json!(" -0.25 "), -0.25),
            (json!(3), 3.0),
            (json!("1e2"), 100.0),
            (json!("٢٫٥"), 2.5),
            (json!("۱۲"), 12.0),
        ] {
            let v = ok(&small(), with(json!({"height": given})));
            assert_eq!(v.answers["height"].as_f64(), Some(want));
        }
        for bad in [
            json!("2,5"),
            json!("NaN"),
            json!("inf"),
            json!("infinity"),
            json!("1e400"),
            json!("abc"),
            json!(false),
            json!([2.5]),
        ] {
            assert_eq!(
                error_of(json!({"height": bad.clone()}), "height"),
                message(MsgKey::ExpectDecimal, "en"),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_must_be_real_calendar_days() {
        for good in [
            "2024-02-29",
            "2000-02-29",
            "2023-12-31",
            "0001-01-01",
            "2023-04-30",
        ] {
            let v = ok(&small(), with(json!({"visit": good})));
            assert_eq!(v.answers["visit"], json!(good));
        }
        for bad in [
            json!("2023-02-29"),
            json!("1900-02-29"),
            json!("2023-04-31"),
            json!("2023-13-01"),
            json!("2023-00-10"),
            json!("2023-01-00"),
            json!("2023-01-32"),
            json!("0000-01-01"),
            json!("2023-1-1"),
            json!("23-01-01"),
            json!("2023/01/01"),
            json!("2023-01-01T00:00:00Z"),
            json!("２０２３-01-01"),
            json!(20230101),
        ] {
            assert_eq!(
                error_of(json!({"visit": bad.clone()}), "visit"),
                "Enter a real date as YYYY-MM-DD, for example 2024-03-31.",
                "{bad}"
            );
        }
    }

    #[test]
    fn select_one_takes_a_list_value_and_lists_the_options() {
        let v = ok(
            &small(),
            with(json!({"household_size": 1, "rating": " poor "})),
        );
        assert_eq!(v.answers["household_size"], json!("1"));
        assert_eq!(v.answers["rating"], json!("poor"));
        assert_eq!(
            error_of(json!({"has_children": "maybe"}), "has_children"),
            "Choose one of the options: yes, no."
        );
        for bad in [json!(["yes"]), json!(true), json!("Yes")] {
            assert_eq!(
                error_of(json!({"has_children": bad}), "has_children"),
                "Choose one of the options: yes, no."
            );
        }
        let e = errors(&small(), with(json!({"rating": "great"})), "ar");
        assert_eq!(e["rating"], "اختاروا أحد الخيارات: good، poor، dont_know.");
    }

    #[test]
    fn long_choice_lists_are_cut_after_ten_values() {
        let allowed: Vec<String> = (1..=15).map(|i| format!("v{i}")).collect();
        let msg = message(MsgKey::ExpectOneChoice { allowed }, "en");
        assert_eq!(
            msg,
            "Choose one of the options: v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, …."
        );
    }

    #[test]
    fn select_multiple_normalises_to_an_array_in_list_order() {
        for given in [
            json!(["health", "water"]),
            json!("health water"),
            json!(" health\twater "),
        ] {
            let v = ok(&small(), with(json!({"services": given})));
            assert_eq!(v.answers["services"], json!(["water", "health"]));
            let item = v.items.iter().find(|i| i.question == "services").unwrap();
            assert_eq!(item.value, json!(["water", "health"]));
            assert_eq!(item.score, None);
        }
        let options = "Choose only among the options: water, shelter, health, other.";
        for bad in [
            json!(["water", "food"]),
            json!("water food"),
            json!(["water", null]),
            json!(["water", ["health"]]),
            json!({"water": true}),
            json!(3),
        ] {
            assert_eq!(
                error_of(json!({"services": bad.clone()}), "services"),
                options,
                "{bad}"
            );
        }
        for dup in [json!(["water", "water"]), json!("health water health")] {
            assert_eq!(
                error_of(json!({"services": dup}), "services"),
                "Each option can be chosen only once."
            );
        }
    }

    #[test]
    fn required_only_when_the_question_applies() {
        // `children` is required but applies only when has_children = yes.
        ok(&small(), base());
        let e = errors(&small(), with(json!({"has_children": "yes"})), "en");
        assert_eq!(e.len(), 1);
        assert_eq!(e["children"], "This question requires an answer.");
        let e = errors(&small(), Map::new(), "ar");
        assert_eq!(e.len(), 3);
        assert_eq!(e["name"], "هذا السؤال يتطلب إجابة.");
        assert!(e.contains_key("age") && e.contains_key("has_children"));
    }

    #[test]
    fn answers_to_questions_that_do_not_apply() {
        let answers = with(json!({
            "children": 5,
            "large_family": "Blankets",
            "services": "water",
            "other_service": "food",
        }));
        // Submit: `children` does not apply (has_children = no), so its answer counts as
        // unanswered and `large_family` (children > 3) does not apply either.
        let e = errors(&small(), answers.clone(), "en");
        assert_eq!(e.len(), 3, "{e:?}");
        for name in ["children", "large_family", "other_service"] {
            assert_eq!(
                e[name],
                "This question does not apply given your other answers."
            );
        }
        let fr = errors(&small(), answers.clone(), "fr");
        assert_eq!(
            fr["other_service"],
            "Cette question ne s'applique pas compte tenu de vos autres réponses."
        );
        // A type error under a question that does not apply: it does not apply.
        let e = errors(&small(), with(json!({"children": "many"})), "en");
        assert_eq!(e["children"], message(MsgKey::NotRelevant, "en"));

        // Draft: kept silently.
        let v = validate(&small(), &answers, "en", Mode::Draft).unwrap();
        assert_eq!(v.answers["children"], json!(5));
        assert_eq!(v.answers["large_family"], json!("Blankets"));
        assert_eq!(v.answers["other_service"], json!("food"));
        assert_eq!(v.items.len(), 7);
    }

    #[test]
    fn drafts_check_types_only() {
        // Missing required answers and failing constraints are fine in a draft.
        let v = validate(
            &small(),
            &obj(json!({"age": "200", "services": "health"})),
            "en",
            Mode::Draft,
        )
        .unwrap();
        assert_eq!(v.answers, obj(json!({"age": 200, "services": ["health"]})));
        // Type and choice errors are not.
        let e = validate(
            &small(),
            &obj(json!({"age": "old", "services": "food", "nope": 1})),
            "fr",
            Mode::Draft,
        )
        .unwrap_err();
        assert_eq!(e.len(), 3);
        assert_eq!(e["age"], "Saisissez un nombre entier, par exemple 12.");
        assert_eq!(
            e["services"],
            "Choisissez uniquement parmi les options : water, shelter, health, other."
        );
    }

    #[test]
    fn constraint_messages_in_the_respondents_language() {
        let s = small();
        let too_old = with(json!({"age": 130}));
        assert_eq!(
            errors(&s, too_old.clone(), "en")["age"],
            "Age must be between 0 and 120."
        );
        assert_eq!(
            errors(&s, too_old.clone(), "fr")["age"],
            "L'âge doit être compris entre 0 et 120."
        );
        assert_eq!(
            errors(&s, too_old.clone(), "ar")["age"],
            "يجب أن يكون العمر بين 0 و120."
        );
        assert_eq!(
            errors(&s, too_old.clone(), "fr-CA")["age"],
            "L'âge doit être compris entre 0 et 120."
        );
        // Spanish is not a language of this survey: its default language (English) is used,
        // for the survey's own messages and the built-in ones alike.
        let e = errors(&s, with(json!({"age": 130, "zzz": 1})), "es");
        assert_eq!(e["age"], "Age must be between 0 and 120.");
        assert_eq!(e["zzz"], "This question does not exist in this survey.");
        // Without a message in the respondent's language: the default language's.
        let mut partial = s.clone();
        let age = partial
            .questions
            .iter_mut()
            .find(|q| q.name == "age")
            .unwrap();
        age.constraint_message.remove("ar");
        assert_eq!(
            errors(&partial, too_old.clone(), "ar")["age"],
            "Age must be between 0 and 120."
        );
        // Without any message: the built-in one, localized.
        let zero = with(json!({"has_children": "yes", "children": 0}));
        assert_eq!(
            errors(&s, zero.clone(), "en")["children"],
            "This answer is not accepted."
        );
        assert_eq!(
            errors(&s, zero.clone(), "fr")["children"],
            "Cette réponse n'est pas acceptée."
        );
        assert_eq!(errors(&s, zero, "ar")["children"], "هذه الإجابة غير مقبولة.");
        // Boundaries pass.
        ok(&s, with(json!({"age": 0})));
        ok(&s, with(json!({"age": "120"})));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let e = errors(
            &small(),
            obj(json!({
                "intro": "x",
                "name": 5,
                "age": 130,
                "height": "tall",
                "visit": "2023-02-29",
                "has_children": "no",
                "children": 2,
                "services": ["water", "water"],
                "household_size": 3,
                "rating": "excellent",
                "unknown": "?",
            })),
            "en",
        );
        let names: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "age",
                "children",
                "height",
                "household_size",
                "intro",
                "name",
                "rating",
                "services",
                "unknown",
                "visit"
            ]
        );
        assert_eq!(e["household_size"], "Choose one of the options: 1, 2.");
    }

    #[test]
    fn broken_expressions_let_answers_through() {
        let mut s = small();
        for q in &mut s.questions {
            if q.relevant.is_some() {
                q.relevant = Some("${".into());
            }
            if q.constraint.is_some() {
                q.constraint = Some("((".into());
            }
        }
        let v = ok(&s, with(json!({"age": 500, "children": 0})));
        assert_eq!(v.answers["children"], json!(0));
    }

    #[test]
    fn partner_survey_item_scores_and_indicators() {
        let s = shipped("ccpm-partner");
        let v = ok(
            &s,
            obj(json!({
                "meeting_attendance": "often",
                "coordination_level": "national",
                "meetings_useful": "agree",
                "meetings_focus": "dont_know",
                "who_what_where": "strongly_disagree",
                "avoid_duplication": "not_applicable",
                "overall_rating": "7",
                "works_well": "Information sharing",
            })),
        );
        let item = |name: &str| v.items.iter().find(|i| i.question == name).unwrap().clone();
        assert_eq!(item("meetings_useful").score, Some(75.0));
        assert_eq!(item("meetings_useful").indicator.as_deref(), Some("1.1"));
        assert_eq!(item("meetings_focus").score, None);
        assert_eq!(item("meetings_focus").indicator.as_deref(), Some("1.1"));
        assert_eq!(item("who_what_where").score, Some(0.0));
        assert_eq!(item("who_what_where").indicator.as_deref(), Some("1.2"));
        assert_eq!(item("avoid_duplication").score, None);
        assert_eq!(item("meeting_attendance").score, None);
        assert_eq!(item("meeting_attendance").indicator, None);
        assert_eq!(item("overall_rating").value, json!(7));
        assert_eq!(item("overall_rating").score, None);
        assert_eq!(v.items.len(), 8);
        // Items serialise with the fixed field names.
        assert_eq!(
            serde_json::to_value(item("meetings_useful")).unwrap(),
            json!({"question": "meetings_useful", "value": "agree", "score": 75.0,
                   "indicator": "1.1"})
        );

        // The follow-up question applies only after disagreeing.
        let e = errors(
            &s,
            obj(json!({"meetings_useful": "agree", "meetings_improve": "More notice"})),
            "es",
        );
        assert_eq!(
            e["meetings_improve"],
            "Esta pregunta no corresponde según sus otras respuestas."
        );
        ok(
            &s,
            obj(json!({"meetings_useful": "disagree", "meetings_improve": "More notice"})),
        );
        // The shipped constraint message.
        let e = errors(&s, obj(json!({"overall_rating": 11})), "ar");
        assert_eq!(e["overall_rating"], "أدخلوا عدداً صحيحاً من 0 إلى 10.");
    }

    #[test]
    fn feedback_contact_only_with_consent() {
        let s = shipped("aap-feedback");
        let answers = |consent: &str| {
            obj(json!({
                "category": "complaint",
                "message": "The water point has been broken for a week.",
                "consent_to_contact": consent,
                "contact": "+967 1 234 567",
                "sex": "female",
            }))
        };
        let e = errors(&s, answers("no"), "ar");
        assert_eq!(e.len(), 1);
        assert_eq!(e["contact"], "هذا السؤال لا ينطبق بناءً على إجاباتكم الأخرى.");
        let v = ok(&s, answers("yes"));
        assert_eq!(v.answers["contact"], json!("+967 1 234 567"));
        assert!(v.items.iter().all(|i| i.score.is_none()));
        // Required questions.
        let e = errors(&s, obj(json!({"sex": "male"})), "fr");
        let names: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(names, ["category", "consent_to_contact", "message"]);
        assert_eq!(e["message"], "Cette question demande une réponse.");
    }

    #[test]
    fn every_message_exists_in_every_language() {
        let keys = [
            MsgKey::UnknownQuestion,
            MsgKey::NoteAnswered,
            MsgKey::Required,
            MsgKey::NotRelevant,
            MsgKey::NotAccepted,
            MsgKey::ExpectText,
            MsgKey::TextTooLong { max: 5_000 },
            MsgKey::BadCharacter,
            MsgKey::ExpectInteger,
            MsgKey::ExpectDecimal,
            MsgKey::ExpectDate,
            MsgKey::ExpectOneChoice {
                allowed: vec!["a".into(), "b".into()],
            },
            MsgKey::ExpectChoices {
                allowed: vec!["a".into(), "b".into()],
            },
            MsgKey::DuplicateChoice,
            MsgKey::ExpectGeopoint,
            MsgKey::ExpectAcknowledge,
            MsgKey::ExpectRange {
                start: "1".into(),
                end: "5".into(),
                step: "1".into(),
            },
            MsgKey::ExpectRows,
            MsgKey::TooManyRows { max: 100 },
        ];
        let mut codes = HashSet::new();
        for key in keys {
            assert!(codes.insert(key.code()));
            let en = message(key.clone(), "en");
            assert!(!en.is_empty());
            for lang in ["fr", "es", "ar"] {
                let text = message(key.clone(), lang);
                assert!(!text.is_empty() && text != en, "{} in {lang}", key.code());
            }
            // Other languages fall back to English; region subtags are ignored.
            assert_eq!(message(key.clone(), "sw"), en);
            assert_eq!(message(key.clone(), ""), en);
            assert_eq!(message(key.clone(), "es-MX"), message(key, "es"));
        }
        assert_eq!(
            message(MsgKey::TextTooLong { max: 5_000 }, "en"),
            "Your answer is too long: use at most 5,000 characters."
        );
    }

    #[test]
    fn validating_a_full_survey_is_fast() {
        let s = shipped("ccpm-partner");
        let mut answers = Map::new();
        for q in &s.questions {
            let value = match q.qtype {
                QuestionType::SelectOne => json!(s.choice_list(q).unwrap()[1].value),
                QuestionType::Integer => json!(8),
                QuestionType::Text => json!("Regular, well prepared meetings."),
                _ => continue,
            };
            answers.insert(q.name.clone(), value);
        }
        answers.remove("meetings_improve");
        let started = std::time::Instant::now();
        for _ in 0..200 {
            let v = validate(&s, &answers, "fr", Mode::Submit).unwrap();
            assert_eq!(v.answers.len(), answers.len());
        }
        // Generous, for unoptimised builds on a busy machine: 10 ms per call at most.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    const FIELD: &str = r#"id = "field"
version = 1
kind = "feedback"
respondent = "public"
languages = ["en", "fr"]
title.en = "Field"
title.fr = "Terrain"

[[choices.district]]
value = "d1"
columns = { region = "north" }
label.en = "Central"
label.fr = "Centre"

[[choices.district]]
value = "d1"
columns = { region = "south" }
label.en = "Central"
label.fr = "Centre"

[[choices.district]]
value = "d2"
columns = { region = "south" }
label.en = "Coast"
label.fr = "Côte"

[[questions]]
name = "region"
type = "text"
label.en = "Region"
label.fr = "Région"

[[questions]]
name = "districts"
type = "select_multiple district"
choice_filter = "region = ${region}"
label.en = "Districts"
label.fr = "Districts"

[[questions]]
name = "site"
type = "geopoint"
label.en = "Site"
label.fr = "Site"

[[questions]]
name = "ok"
type = "acknowledge"
label.en = "OK?"
label.fr = "OK ?"

[[questions]]
name = "half"
type = "range"
range = { start = 1, end = 0, step = 0.25 }
label.en = "Half"
label.fr = "Moitié"

[[questions]]
name = "total"
type = "calculate"
calculation = "round(${half} * 3, 1)"
label.en = "Total"
label.fr = "Total"

[[questions]]
name = "people"
type = "repeat"
required = true
relevant = "${total} != 0"
label.en = "People"
label.fr = "Personnes"

[[questions.questions]]
name = "age"
type = "integer"
required = true
label.en = "Age"
label.fr = "Âge"

[[questions.questions]]
name = "twice"
type = "calculate"
calculation = "${age} * 2 + ${total}"
label.en = "Twice"
label.fr = "Double"
"#;

    #[test]
    fn field_types_choice_filters_calculations_and_repeats() {
        let s = load::parse_survey(&load::Source::new("field.toml", FIELD))
            .unwrap_or_else(|p| panic!("{p:?}"));
        let check = |v: Json, mode| validate(&s, &obj(v), "fr", mode);
        let ok = check(
            json!({"region": "south", "districts": "d2 d1", "site": "-12.5 180 0 0",
                   "ok": true, "half": "0.75",
                   "people": [{"age": "٤"}, {"age": null}, {"age": 30, "twice": 1}]}),
            Mode::Submit,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.answers["districts"], json!(["d1", "d2"]));
        assert_eq!(ok.answers["ok"], "OK");
        assert_eq!(ok.answers["half"], 0.75);
        assert_eq!(ok.answers["total"], 2.3);
        assert_eq!(
            ok.answers["people"],
            json!([{"age": 4, "twice": 10.3}, {"age": 30, "twice": 62.3}])
        );
        let names: Vec<&str> = ok.items.iter().map(|i| i.question.as_str()).collect();
        assert_eq!(
            names,
            [
                "region",
                "districts",
                "site",
                "ok",
                "half",
                "total",
                "people"
            ]
        );

        let bad = check(
            json!({"region": "north", "districts": ["d1", "d2"], "site": "12 181",
                   "ok": "yes", "half": 0.3,
                   "people": [{"age": "x", "nope": 1}, 3]}),
            Mode::Submit,
        )
        .unwrap_err();
        assert_eq!(
            bad.keys().collect::<Vec<_>>(),
            [
                "districts",
                "half",
                "ok",
                "people.0.age",
                "people.0.nope",
                "people.1",
                "site"
            ]
        );
        assert_eq!(
            bad["half"],
            "Saisissez un nombre de 1 à 0, par pas de 0.25."
        );
        assert_eq!(
            bad["districts"],
            "Choisissez uniquement parmi les options : d1."
        );
        // A draft keeps a filtered-out choice (the region may still change).
        assert!(check(json!({"region": "north", "districts": "d2"}), Mode::Draft).is_ok());
        // A required repeat needs one answered row; empty rows do not count.
        let e = check(
            json!({"half": 1, "people": [{}, {"age": ""}]}),
            Mode::Submit,
        )
        .unwrap_err();
        assert_eq!(e["people"], "Cette question demande une réponse.");
        // Not applying (total 0): rows are refused, and empty rows are no answer.
        let e = check(json!({"half": 0, "people": [{"age": 3}]}), Mode::Submit).unwrap_err();
        assert_eq!(e.keys().collect::<Vec<_>>(), ["people"]);
        assert!(check(json!({"half": 0, "people": [{}]}), Mode::Submit).is_ok());
        let many: Vec<Json> = (0..=MAX_REPEAT_ROWS).map(|i| json!({"age": i})).collect();
        let e = check(json!({"half": 1, "people": many}), Mode::Submit).unwrap_err();
        assert_eq!(e["people"], "Trop de lignes : 100 au maximum.");
        for site in [
            "12",
            "1 2 3 4 5",
            "91 0",
            "0 -181",
            "1 2 3 -1",
            "a b",
            "NaN 1",
        ] {
            let e = check(json!({"site": site, "half": 0}), Mode::Submit).unwrap_err();
            assert!(e.contains_key("site"), "{site}: {e:?}");
        }

        // What a person without script could not see is pruned, inside rows too.
        let pruned = prune_irrelevant(
            &s,
            &obj(json!({"half": "0", "people": [{"age": "3"}], "other": 1})),
        );
        assert_eq!(pruned, obj(json!({"half": "0", "total": 0, "other": 1})));
    }
}
