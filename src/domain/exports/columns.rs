//! The question columns of a responses export: one per question of the round's surveys
//! (every version answered), a select-multiple question also one 0/1 column per choice;
//! and the label sheets (questions, choices) of the workbook.

use super::hxl;
use super::Options;
use crate::render::tables::{Cell, Column, Kind, Row};
use crate::surveys::model::{Choice, QuestionType, Survey, Text};
use serde_json::Value;

/// One question as exported, pooled by name over the surveys and versions of a round (the
/// first definition that has it gives its labels; choices are the union by value).
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub qtype: QuestionType,
    pub list: Option<String>,
    pub indicator: Option<String>,
    pub label: Text,
    pub choices: Vec<Choice>,
    /// The default language of the survey the labels come from.
    pub default_lang: String,
}

impl Spec {
    fn is_select(&self) -> bool {
        matches!(
            self.qtype,
            QuestionType::SelectOne | QuestionType::SelectMultiple
        )
    }
}

/// The questions of `defs` in order, notes left out.
pub fn specs(defs: &[Survey]) -> Vec<Spec> {
    let mut out: Vec<Spec> = Vec::new();
    for def in defs {
        for q in &def.questions {
            if q.qtype == QuestionType::Note {
                continue;
            }
            let choices = def.choice_list(q).unwrap_or(&[]);
            match out.iter_mut().find(|s| s.name == q.name) {
                Some(spec) => {
                    for c in choices {
                        if !spec.choices.iter().any(|x| x.value == c.value) {
                            spec.choices.push(c.clone());
                        }
                    }
                }
                None => out.push(Spec {
                    name: q.name.clone(),
                    qtype: q.qtype,
                    list: q.list.clone(),
                    indicator: q.indicator.clone(),
                    label: q.label.clone(),
                    choices: choices.to_vec(),
                    default_lang: def.default_language().to_string(),
                }),
            }
        }
    }
    out
}

/// `text` in `lang`, else in `fallback`, else any.
pub fn label<'a>(text: &'a Text, lang: Option<&str>, fallback: &str) -> &'a str {
    lang.and_then(|l| text.get(l))
        .or_else(|| text.get(fallback))
        .or_else(|| text.values().next())
        .map_or("", |s| s.as_str())
}

/// The columns of `specs`: the question, then (select-multiple) `name/value` per choice.
pub fn columns(specs: &[Spec], opts: &Options) -> Vec<Column> {
    let mut out = Vec::new();
    for s in specs {
        let ind = s.indicator.as_deref();
        let kind = match s.qtype {
            QuestionType::Integer => Kind::Int,
            QuestionType::Decimal | QuestionType::Range => Kind::Num,
            _ => Kind::Text,
        };
        out.push(
            Column::new(
                s.name.clone(),
                hxl::question(&s.name, ind, s.is_select(), opts.labels),
            )
            .of(kind),
        );
        if s.qtype == QuestionType::SelectMultiple {
            for c in &s.choices {
                out.push(
                    Column::new(
                        format!("{}/{}", s.name, c.value),
                        hxl::choice(&s.name, ind, &c.value),
                    )
                    .of(Kind::Int),
                );
            }
        }
    }
    out
}

fn choice_cell(spec: &Spec, value: &str, opts: &Options) -> String {
    if !opts.labels {
        return value.to_string();
    }
    spec.choices
        .iter()
        .find(|c| c.value == value)
        .map(|c| label(&c.label, opts.lang.as_deref(), &spec.default_lang).to_string())
        .unwrap_or_else(|| value.to_string())
}

fn scalar(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Empty,
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => n.as_f64().map_or(Cell::Empty, Cell::Num),
        },
        Value::String(s) => Cell::text(s.clone()),
        Value::Bool(b) => Cell::Int(i64::from(*b)),
        other => Cell::text(other.to_string()),
    }
}

/// A stored answer (the JSON text of its value in `responses.answers`), decoded as little as it needs: a
/// plain JSON string, what nearly every answer is, is read in place.
pub enum Answer<'a> {
    Text(&'a str),
    Json(Value),
}

impl<'a> Answer<'a> {
    /// Decodes `stored`; text that is not JSON stands for itself.
    pub fn decode(stored: &'a str) -> Answer<'a> {
        let b = stored.as_bytes();
        if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
            let inner = &b[1..b.len() - 1];
            if !inner.iter().any(|&c| c == b'"' || c == b'\\' || c < 0x20) {
                return Answer::Text(&stored[1..stored.len() - 1]);
            }
        }
        Answer::Json(
            serde_json::from_str(stored).unwrap_or_else(|_| Value::String(stored.to_string())),
        )
    }

    /// [`Answer::decode`] of a stored value read in place or taken out of its object.
    pub fn from_stored(stored: std::borrow::Cow<'a, str>) -> Answer<'a> {
        match stored {
            std::borrow::Cow::Borrowed(s) => Answer::decode(s),
            std::borrow::Cow::Owned(s) => match Answer::decode(&s) {
                Answer::Text(t) => Answer::Json(Value::String(t.to_string())),
                Answer::Json(v) => Answer::Json(v),
            },
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Answer::Text(s) => Some(s),
            Answer::Json(Value::String(s)) => Some(s),
            Answer::Json(_) => None,
        }
    }
}

/// Appends the cells of `spec` for the stored answer `value` (`None`: not answered).
pub fn push_cells(row: &mut Row, spec: &Spec, value: Option<&Answer>, opts: &Options) {
    match spec.qtype {
        QuestionType::SelectMultiple => {
            let chosen: Option<Vec<&str>> = value.map(|v| match (v.text(), v) {
                (Some(s), _) => s.split_whitespace().collect(),
                (None, Answer::Json(Value::Array(items))) => {
                    items.iter().filter_map(Value::as_str).collect()
                }
                _ => Vec::new(),
            });
            match &chosen {
                Some(values) => {
                    let sep = if opts.labels { "; " } else { " " };
                    let joined: Vec<String> =
                        values.iter().map(|v| choice_cell(spec, v, opts)).collect();
                    row.push(Cell::text(joined.join(sep)));
                }
                None => row.push(Cell::Empty),
            }
            for c in &spec.choices {
                row.push(match &chosen {
                    Some(values) => Cell::Int(i64::from(values.contains(&c.value.as_str()))),
                    None => Cell::Empty,
                });
            }
        }
        _ => row.push(match value {
            None => Cell::Empty,
            Some(v) => match (v.text(), v) {
                (Some(s), _) if spec.qtype == QuestionType::SelectOne => {
                    Cell::text(choice_cell(spec, s, opts))
                }
                (Some(s), _) => Cell::text(s),
                (None, Answer::Json(v)) => scalar(v),
                (None, Answer::Text(_)) => Cell::Empty,
            },
        }),
    }
}

/// The workbook's sheet of questions: name, type, choice list, indicator, label.
pub fn question_sheet(specs: &[Spec], opts: &Options) -> (Vec<Column>, Vec<Row>) {
    let cols = vec![
        Column::new("question", "#meta+question+code"),
        Column::new("type", "#meta+type"),
        Column::new("choice_list", "#meta+list"),
        Column::new("indicator", "#indicator+code"),
        Column::new("label", "#meta+question+name"),
    ];
    let rows = specs
        .iter()
        .map(|s| {
            vec![
                Cell::text(s.name.clone()),
                Cell::text(s.qtype.as_str()),
                Cell::opt_text(s.list.as_deref()),
                Cell::opt_text(s.indicator.as_deref()),
                Cell::text(label(&s.label, opts.lang.as_deref(), &s.default_lang)),
            ]
        })
        .collect();
    (cols, rows)
}

/// The workbook's sheet of choices: question, value, label, score.
pub fn choice_sheet(specs: &[Spec], opts: &Options) -> (Vec<Column>, Vec<Row>) {
    let cols = vec![
        Column::new("question", "#meta+question+code"),
        Column::new("value", "#meta+choice+code"),
        Column::new("label", "#meta+choice+name"),
        Column::new("score", "#indicator+score").of(Kind::Num),
    ];
    let rows = specs
        .iter()
        .flat_map(|s| {
            s.choices.iter().map(move |c| {
                vec![
                    Cell::text(s.name.clone()),
                    Cell::text(c.value.clone()),
                    Cell::text(label(&c.label, opts.lang.as_deref(), &s.default_lang)),
                    c.score.map_or(Cell::Empty, Cell::Num),
                ]
            })
        })
        .collect();
    (cols, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(stored: &str) -> Option<String> {
        Answer::decode(stored).text().map(str::to_string)
    }

    #[test]
    fn stored_answers_decode_as_serde_json_reads_them() {
        assert!(matches!(Answer::decode("\"agree\""), Answer::Text("agree")));
        assert_eq!(text("\"café\"").as_deref(), Some("café"));
        // Escapes go through serde_json; text that is not JSON stands for itself.
        assert_eq!(text("\"a\\\"b\\n\"").as_deref(), Some("a\"b\n"));
        assert_eq!(text("\"a\"b\"").as_deref(), Some("\"a\"b\""));
        assert_eq!(text("not json").as_deref(), Some("not json"));
        assert!(matches!(
            Answer::decode("3"),
            Answer::Json(Value::Number(_))
        ));
        assert!(matches!(
            Answer::decode("[\"a\",\"b\"]"),
            Answer::Json(Value::Array(_))
        ));
    }
}
