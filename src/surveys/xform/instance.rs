//! The instance documents OpenRosa clients submit, read back into answers.
//!
//! [`read_instance`] takes a submitted instance (DTDs refused, so no entity tricks), checks
//! that its root names the survey, and returns the answers as the validator takes them
//! (text, with `select_multiple` values separated by spaces; a repeat as a list of rows, one
//! per element, its template left out): empty elements are unanswered, notes and `meta` are
//! not answers, and an element that is no question is passed on so the validator names it.

use serde_json::{Map, Value as Json};

use crate::surveys::model::{Question, QuestionType, Survey};

const JR: &str = "http://openrosa.org/javarosa";

/// A submitted instance, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// `meta/instanceID` (e.g. `uuid:…`).
    pub instance_id: String,
    /// The form version the client filled in.
    pub version: Option<String>,
    /// Question name → answer text, for the validator.
    pub answers: Map<String, Json>,
}

/// Why an instance was refused (before its answers are checked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InstanceError(pub String);

/// Where the answers of an element go: among the form's, or into row `.1` of repeat `.0`.
#[derive(Clone, Copy)]
enum Slot<'s> {
    Form,
    Row(&'s Question, usize),
}

/// The element children of `n`.
fn elements<'a, 'i>(n: roxmltree::Node<'a, 'i>) -> Vec<roxmltree::Node<'a, 'i>> {
    n.children().filter(|c| c.is_element()).collect()
}

/// Reads a submitted instance of `survey`.
pub fn read_instance(survey: &Survey, xml: &str) -> Result<Instance, InstanceError> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| InstanceError(format!("the instance is not well-formed XML: {e}")))?;
    let root = doc.root_element();
    let id = root.attribute("id").unwrap_or("");
    if id != survey.id {
        return Err(InstanceError(format!(
            "the instance is of form {id:?}, not {:?}",
            survey.id
        )));
    }
    let mut instance_id = None;
    let mut answers = Map::new();
    // Questions are children of the root, a repeat's questions children of each of its
    // rows; a client that nests them in groups is read too.
    let mut stack: Vec<(roxmltree::Node, Slot)> = elements(root)
        .into_iter()
        .rev()
        .map(|n| (n, Slot::Form))
        .collect();
    while let Some((node, slot)) = stack.pop() {
        let name = node.tag_name().name();
        if name == "meta" {
            instance_id = node
                .children()
                .find(|c| c.is_element() && c.tag_name().name() == "instanceID")
                .and_then(|c| c.text())
                .map(|t| t.trim().to_string());
            continue;
        }
        // A repeat's template is no row.
        if node.attribute((JR, "template")).is_some() {
            continue;
        }
        let question = match slot {
            Slot::Form => survey.question(name),
            Slot::Row(r, _) => r.questions.iter().find(|q| q.name == name),
        };
        let children = elements(node);
        match (question, slot) {
            (Some(q), Slot::Form) if q.qtype == QuestionType::Repeat => {
                let rows = answers
                    .entry(name.to_string())
                    .or_insert_with(|| Json::Array(Vec::new()));
                let Json::Array(rows) = rows else {
                    return Err(InstanceError(format!(
                        "the instance answers {name:?} more than once"
                    )));
                };
                rows.push(Json::Object(Map::new()));
                let row = Slot::Row(q, rows.len() - 1);
                stack.extend(children.into_iter().rev().map(|c| (c, row)));
                continue;
            }
            (None, _) if !children.is_empty() => {
                stack.extend(children.into_iter().rev().map(|c| (c, slot)));
                continue;
            }
            _ => {}
        }
        let text: String = node
            .children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect();
        let text = text.trim();
        if question.is_some_and(|q| q.qtype == QuestionType::Note) || text.is_empty() {
            continue;
        }
        let target = match slot {
            Slot::Form => &mut answers,
            Slot::Row(r, i) => match answers.get_mut(&r.name).and_then(|rows| rows.get_mut(i)) {
                Some(Json::Object(row)) => row,
                _ => {
                    return Err(InstanceError(format!(
                        "the instance answers {:?} more than once",
                        r.name
                    )))
                }
            },
        };
        if target.contains_key(name) {
            return Err(InstanceError(format!(
                "the instance answers {name:?} more than once"
            )));
        }
        target.insert(name.to_string(), Json::String(text.to_string()));
    }
    let instance_id = instance_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| InstanceError("the instance has no meta/instanceID".into()))?;
    if instance_id.chars().count() > 200 {
        return Err(InstanceError(
            "meta/instanceID is too long (200 characters at most)".into(),
        ));
    }
    Ok(Instance {
        instance_id,
        version: root.attribute("version").map(str::to_string),
        answers,
    })
}
