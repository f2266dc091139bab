//! ODK XForms (the XML form format of OpenRosa clients: ODK Collect, KoboCollect, Enketo)
//! written from a survey definition, and the instance documents those clients submit read
//! back into answers.
//!
//! # The form
//!
//! [`write`] makes one `h:html` document: every label, hint and constraint message in
//! every language of the survey through `itext` (a text missing in a language falls back to
//! the default language's), one instance node per question under the root `data` (with the
//! survey id and the given version as attributes) plus `meta/instanceID` (preloaded with a
//! UUID, the idempotency key of a submission), a `bind` per question (type, `required`,
//! `relevant`, `constraint` with `jr:constraintMsg`, notes read-only) and the body controls
//! (`input`, `select1`, `select`, `trigger` for an acknowledgement, `range`; a calculation
//! is a `calculate` bind with no control; grouped by section). Choice lists are written
//! inline (a `choice_filter` is left to the server's check). Repeat groups are refused.
//! A question may instead take its choices from a secondary instance ([`Dynamic`]): e.g. an
//! operation's areas, where the districts offered are filtered by the region answered
//! before (a cascading select, `itemset` with a predicate on `parent`).
//!
//! Expressions ([`crate::surveys::expr`]) become XPath 1.0: `${name}` is `/data/name`,
//! `div`, `mod`, `selected()`, `count-selected()` and `string-length()` are XPath or ODK
//! functions of the same meaning. One difference is left: our `=` compares two texts that
//! both read as numbers as numbers (`'5.0' = '5'`), XPath compares them as text. Answers are
//! checked again on the server, so the server's reading always decides.
//!
//! # The instance
//!
//! [`read_instance`] takes a submitted instance (DTDs refused, so no entity tricks), checks
//! that its root names the survey, and returns the answers as the validator takes them
//! (text, with `select_multiple` values separated by spaces): empty elements are
//! unanswered, notes and `meta` are not answers, and an element that is no question is
//! passed on so the validator names it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

use super::expr::{self, BinOp, Expr};
use super::model::{Question, QuestionType, Survey, Text};

/// The root element of the instance.
const ROOT: &str = "data";

/// One option of a [`Dynamic`] list.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicChoice {
    pub value: String,
    /// By language; a language left out shows the first label given.
    pub label: Text,
    /// The value of the filtering question this option belongs under (`None`: under any).
    pub parent: Option<String>,
}

/// Choices for a question that come from outside the survey (the question becomes a
/// `select_one` over them).
#[derive(Debug, Clone, PartialEq)]
pub struct Dynamic {
    pub choices: Vec<DynamicChoice>,
    /// The earlier question whose answer selects the options (by their `parent`).
    pub filter_by: Option<String>,
}

/// What [`write`] needs besides the survey.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The form's `version` (clients replace their copy when it changes).
    pub version: String,
    /// The language shown first (one of the survey's; else its first).
    pub default_language: Option<String>,
    /// Questions whose choices are given here, by question name.
    pub dynamic: BTreeMap<String, Dynamic>,
}

/// A survey expression that XPath cannot express (or that does not parse).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("question {question}: {problem}")]
pub struct XFormError {
    pub question: String,
    pub problem: String,
}

/// The XPath 1.0 form of an expression (`${name}` → `/data/name`).
pub fn to_xpath(e: &Expr) -> String {
    let mut out = String::new();
    write_xpath(e, &mut out);
    out
}

fn write_xpath(e: &Expr, out: &mut String) {
    let call = |out: &mut String, f: &str, args: &[&Expr]| {
        out.push_str(f);
        out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_xpath(a, out);
        }
        out.push(')');
    };
    match e {
        Expr::Ref(name) => {
            let _ = write!(out, "/{ROOT}/{name}");
        }
        Expr::Dot => out.push('.'),
        Expr::Number(x) if x.is_nan() => out.push_str("(0 div 0)"),
        Expr::Number(x) if x.is_infinite() => {
            out.push_str(if *x > 0.0 { "(1 div 0)" } else { "(-1 div 0)" })
        }
        Expr::Number(x) => {
            let _ = write!(out, "{x}");
        }
        // The parser takes no escapes, so a text never holds both kinds of quote.
        Expr::Text(s) if s.contains('\'') => {
            let _ = write!(out, "\"{s}\"");
        }
        Expr::Text(s) => {
            let _ = write!(out, "'{s}'");
        }
        Expr::Bool(b) => out.push_str(if *b { "true()" } else { "false()" }),
        Expr::Neg(x) => {
            out.push_str("-(");
            write_xpath(x, out);
            out.push(')');
        }
        Expr::Not(x) => call(out, "not", &[x]),
        Expr::Binary(op, x, y) => {
            out.push('(');
            write_xpath(x, out);
            out.push(' ');
            out.push_str(match op {
                BinOp::Or => "or",
                BinOp::And => "and",
                other => other.symbol(),
            });
            out.push(' ');
            write_xpath(y, out);
            out.push(')');
        }
        Expr::Selected(x, v) => call(out, "selected", &[x, v]),
        Expr::CountSelected(x) => call(out, "count-selected", &[x]),
        Expr::StringLength(x) => call(out, "string-length", &[x]),
        Expr::If(c, a, b) => call(out, "if", &[c, a, b]),
        Expr::Concat(parts) => {
            let parts: Vec<&Expr> = parts.iter().collect();
            call(out, "concat", &parts)
        }
        Expr::Coalesce(a, b) => call(out, "coalesce", &[a, b]),
        Expr::Round(x, digits) => call(out, "round", &[x, digits]),
        Expr::Today => out.push_str("today()"),
        // In a choice filter, a bare name is a column of the choice tested: relative to the
        // item in an itemset predicate.
        Expr::Field(name) => out.push_str(name),
    }
}

/// The name clients show for a language code, with the code in brackets (`Français (fr)`:
/// ODK's convention, from which Collect and Enketo read the code; the names are those of
/// our XLSForm export, so pyxform's form of it names the languages alike).
fn language_name(code: &str) -> String {
    let name = match code {
        "en" => "English",
        "fr" => "Français",
        "es" => "Español",
        "ar" => "العربية",
        other => return other.to_string(),
    };
    format!("{name} ({code})")
}

/// XML text with `&`, `<`, `>`, `"` escaped and characters XML 1.0 cannot hold dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The texts of one translation: id → text.
type Texts = Vec<(String, String)>;

struct Writer<'a> {
    survey: &'a Survey,
    languages: Vec<String>,
    /// Per language (in `languages` order).
    texts: Vec<Texts>,
}

impl Writer<'_> {
    /// Adds a text in every language (falling back to the default, then to any) and
    /// returns its `jr:itext` reference.
    fn text(&mut self, id: String, t: &Text) -> String {
        let fallback = t
            .get(self.survey.default_language())
            .or_else(|| t.values().next())
            .cloned()
            .unwrap_or_default();
        for (i, lang) in self.languages.iter().enumerate() {
            let v = t.get(lang).cloned().unwrap_or_else(|| fallback.clone());
            self.texts[i].push((id.clone(), v));
        }
        format!("jr:itext('{id}')")
    }

    fn expression(&self, q: &Question, what: &str, src: &str) -> Result<String, XFormError> {
        let e = expr::parse(src).map_err(|err| XFormError {
            question: q.name.clone(),
            problem: format!("{what} {src:?}: {err}"),
        })?;
        Ok(to_xpath(&e))
    }
}

fn path(name: &str) -> String {
    format!("/{ROOT}/{name}")
}

/// The XForm of `survey`. Fails only on an expression that does not parse (a loaded
/// survey has none).
pub fn write(survey: &Survey, opts: &Options) -> Result<String, XFormError> {
    let mut languages = survey.languages.clone();
    if languages.is_empty() {
        languages.push("en".into());
    }
    if let Some(d) = &opts.default_language {
        if let Some(i) = languages.iter().position(|l| l == d) {
            let l = languages.remove(i);
            languages.insert(0, l);
        }
    }
    let mut w = Writer {
        survey,
        texts: vec![Vec::new(); languages.len()],
        languages,
    };
    let mut binds = String::new();
    let mut body = String::new();
    let mut secondary = String::new();
    let mut open_section: Option<&str> = None;
    for q in &survey.questions {
        if q.qtype == QuestionType::Repeat {
            return Err(XFormError {
                question: q.name.clone(),
                problem: "repeat groups are not written to XForms yet (collect this survey on \
                          the web form)"
                    .into(),
            });
        }
        let p = path(&q.name);
        // Body: sections become groups (consecutive questions of one section).
        if q.section.as_deref() != open_section {
            if open_section.is_some() {
                body.push_str("    </group>\n");
            }
            if let Some(sid) = q.section.as_deref() {
                let title = survey
                    .sections
                    .iter()
                    .find(|s| s.id == sid)
                    .map(|s| s.title.clone())
                    .unwrap_or_default();
                let r = w.text(format!("/{ROOT}/section-{sid}:label"), &title);
                let _ = writeln!(body, "    <group>\n      <label ref=\"{}\"/>", esc(&r));
            }
            open_section = q.section.as_deref();
        }
        let indent = if open_section.is_some() {
            "      "
        } else {
            "    "
        };
        let dynamic = opts.dynamic.get(&q.name);
        let qtype = if dynamic.is_some() {
            QuestionType::SelectOne
        } else {
            q.qtype
        };
        // Bind.
        let whole_steps = |r: &crate::surveys::model::RangeSpec| {
            r.start.fract() == 0.0 && r.end.fract() == 0.0 && r.step.fract() == 0.0
        };
        let xtype = match qtype {
            QuestionType::Integer => "int",
            QuestionType::Decimal => "decimal",
            QuestionType::Date => "date",
            QuestionType::Geopoint => "geopoint",
            QuestionType::Range if q.range.as_ref().is_none_or(whole_steps) => "int",
            QuestionType::Range => "decimal",
            _ => "string",
        };
        let _ = write!(binds, "      <bind nodeset=\"{p}\" type=\"{xtype}\"");
        if qtype == QuestionType::Note {
            binds.push_str(" readonly=\"true()\"");
        } else if q.required {
            binds.push_str(" required=\"true()\"");
        }
        if let Some(rel) = &q.relevant {
            let x = w.expression(q, "relevant", rel)?;
            let _ = write!(binds, " relevant=\"{}\"", esc(&x));
        }
        if let (QuestionType::Calculate, Some(c)) = (qtype, &q.calculation) {
            let x = w.expression(q, "calculation", c)?;
            let _ = write!(binds, " calculate=\"{}\"", esc(&x));
        }
        if let Some(c) = &q.constraint {
            let x = w.expression(q, "constraint", c)?;
            let _ = write!(binds, " constraint=\"{}\"", esc(&x));
            if !q.constraint_message.is_empty() {
                let r = w.text(format!("{p}:jr:constraintMsg"), &q.constraint_message);
                let _ = write!(binds, " jr:constraintMsg=\"{}\"", esc(&r));
            }
        }
        binds.push_str("/>\n");
        // A calculation is never shown.
        if qtype == QuestionType::Calculate {
            continue;
        }
        // Body control.
        let tag = match qtype {
            QuestionType::SelectOne => "select1",
            QuestionType::SelectMultiple => "select",
            QuestionType::Acknowledge => "trigger",
            QuestionType::Range => "range",
            _ => "input",
        };
        match (qtype, &q.range) {
            (QuestionType::Range, Some(r)) => {
                let _ = writeln!(
                    body,
                    "{indent}<{tag} ref=\"{p}\" start=\"{}\" end=\"{}\" step=\"{}\">",
                    r.start, r.end, r.step
                );
            }
            _ => {
                let _ = writeln!(body, "{indent}<{tag} ref=\"{p}\">");
            }
        }
        let label = w.text(format!("{p}:label"), &q.label);
        let _ = writeln!(body, "{indent}  <label ref=\"{}\"/>", esc(&label));
        if !q.hint.is_empty() {
            let hint = w.text(format!("{p}:hint"), &q.hint);
            let _ = writeln!(body, "{indent}  <hint ref=\"{}\"/>", esc(&hint));
        }
        if let Some(d) = dynamic {
            let name = &q.name;
            let _ = writeln!(secondary, "      <instance id=\"{name}\">\n        <root>");
            for (i, c) in d.choices.iter().enumerate() {
                let id = format!("{name}-{i}");
                w.text(id.clone(), &c.label);
                let _ = writeln!(
                    secondary,
                    "          <item><itextId>{id}</itextId><name>{}</name><parent>{}</parent></item>",
                    esc(&c.value),
                    esc(c.parent.as_deref().unwrap_or(""))
                );
            }
            secondary.push_str("        </root>\n      </instance>\n");
            let filter = match &d.filter_by {
                Some(f) => format!("[parent = {} or parent = '']", path(f)),
                None => String::new(),
            };
            let _ = writeln!(
                body,
                "{indent}  <itemset nodeset=\"{}\">\n{indent}    <value ref=\"name\"/>\n\
                 {indent}    <label ref=\"jr:itext(itextId)\"/>\n{indent}  </itemset>",
                esc(&format!("instance('{name}')/root/item{filter}"))
            );
        } else if let Some(choices) = survey.choice_list(q) {
            for c in choices {
                let r = w.text(format!("{p}/{}:label", c.value), &c.label);
                let _ = writeln!(
                    body,
                    "{indent}  <item>\n{indent}    <label ref=\"{}\"/>\n{indent}    <value>{}</value>\n{indent}  </item>",
                    esc(&r),
                    esc(&c.value)
                );
            }
        }
        let _ = writeln!(body, "{indent}</{tag}>");
    }
    if open_section.is_some() {
        body.push_str("    </group>\n");
    }
    binds.push_str(&format!(
        "      <bind nodeset=\"/{ROOT}/meta/instanceID\" type=\"string\" readonly=\"true()\" jr:preload=\"uid\"/>\n"
    ));

    let title = survey
        .title
        .get(&w.languages[0])
        .or_else(|| survey.title.get(survey.default_language()))
        .or_else(|| survey.title.values().next())
        .cloned()
        .unwrap_or_else(|| survey.id.clone());
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<h:html xmlns=\"http://www.w3.org/2002/xforms\" xmlns:h=\"http://www.w3.org/1999/xhtml\" \
         xmlns:ev=\"http://www.w3.org/2001/xml-events\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\" \
         xmlns:odk=\"http://www.opendatakit.org/xforms\">\n",
    );
    let _ = writeln!(out, "  <h:head>\n    <h:title>{}</h:title>", esc(&title));
    out.push_str("    <model odk:xforms-version=\"1.0.0\">\n      <itext>\n");
    for (i, lang) in w.languages.iter().enumerate() {
        let default = if i == 0 { " default=\"true()\"" } else { "" };
        let _ = writeln!(
            out,
            "        <translation lang=\"{}\"{default}>",
            esc(&language_name(lang))
        );
        for (id, v) in &w.texts[i] {
            let _ = writeln!(
                out,
                "          <text id=\"{}\"><value>{}</value></text>",
                esc(id),
                esc(v)
            );
        }
        out.push_str("        </translation>\n");
    }
    out.push_str("      </itext>\n      <instance>\n");
    let _ = writeln!(
        out,
        "        <{ROOT} id=\"{}\" version=\"{}\">",
        esc(&survey.id),
        esc(&opts.version)
    );
    for q in &survey.questions {
        let _ = writeln!(out, "          <{}/>", q.name);
    }
    out.push_str("          <meta>\n            <instanceID/>\n          </meta>\n");
    let _ = writeln!(out, "        </{ROOT}>\n      </instance>");
    out.push_str(&secondary);
    out.push_str(&binds);
    out.push_str("    </model>\n  </h:head>\n  <h:body>\n");
    out.push_str(&body);
    out.push_str("  </h:body>\n</h:html>\n");
    Ok(out)
}

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
    // Questions are children of the root; a client that nests them in groups is read too.
    let mut stack: Vec<roxmltree::Node> = root.children().filter(|n| n.is_element()).collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let name = node.tag_name().name();
        if name == "meta" {
            instance_id = node
                .children()
                .find(|c| c.is_element() && c.tag_name().name() == "instanceID")
                .and_then(|c| c.text())
                .map(|t| t.trim().to_string());
            continue;
        }
        let children: Vec<roxmltree::Node> = node.children().filter(|n| n.is_element()).collect();
        if !children.is_empty() && survey.question(name).is_none() {
            stack.extend(children.into_iter().rev());
            continue;
        }
        let text: String = node
            .children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect();
        let text = text.trim();
        if survey
            .question(name)
            .is_some_and(|q| q.qtype == QuestionType::Note)
            || text.is_empty()
        {
            continue;
        }
        if answers.contains_key(name) {
            return Err(InstanceError(format!(
                "the instance answers {name:?} more than once"
            )));
        }
        answers.insert(name.to_string(), Json::String(text.to_string()));
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

#[cfg(test)]
mod tests;
