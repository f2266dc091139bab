//! ODK XForms (the XML form format of OpenRosa clients: ODK Collect, KoboCollect, Enketo)
//! written from a survey definition; the instance documents those clients submit are read
//! back into answers by [`instance`].
//!
//! [`write`] makes one `h:html` document: every label, hint and constraint message in
//! every language of the survey through `itext` (a text missing in a language falls back to
//! the default language's), one instance node per question under the root `data` (with the
//! survey id and the given version as attributes) plus `meta/instanceID` (preloaded with a
//! UUID, the idempotency key of a submission), a `bind` per question (type, `required`,
//! `relevant`, `constraint` with `jr:constraintMsg`, notes read-only) and the body controls
//! (`input`, `select1`, `select`, `trigger` for an acknowledgement, `range`; a calculation
//! is a `calculate` bind with no control; grouped by section).
//!
//! Choice lists are written inline, except for a question with a `choice_filter` (a
//! cascading select): its list becomes a secondary instance (`<instance id="LIST">`, one
//! `item` per option with its `name`, its label's `itextId` and every column of the list,
//! empty where an option has none) and the question an `itemset` over it whose predicate is
//! the filter, so the client offers only the options that pass given the answers before. A
//! question may also take its choices from outside the survey ([`Dynamic`]): e.g. an
//! operation's areas, where the districts offered are filtered by the region answered
//! before (an `itemset` with a predicate on `parent`).
//!
//! A repeat is a `group` holding a `repeat` of its questions (`/data/repeat/question`); its
//! instance node comes as a `jr:template` and a first row. Its relevance is bound, its
//! `required` is left to the server (at least one row). Inside a row, a question of the same
//! repeat is referred to relatively (`../name`), so each row reads its own answers.
//!
//! Expressions ([`crate::surveys::expr`]) become XPath 1.0: `${name}` is `/data/name`,
//! `div`, `mod`, `selected()`, `count-selected()` and `string-length()` are XPath or ODK
//! functions of the same meaning. One difference is left: our `=` compares two texts that
//! both read as numbers as numbers (`'5.0' = '5'`), XPath compares them as text. Answers are
//! checked again on the server, so the server's reading always decides. An expression that
//! refers to a repeat as a whole is refused ([`XFormError`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

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
    xpath_with(e, &|name| format!("/{ROOT}/{name}"))
}

/// The XPath 1.0 form of an expression, `${name}` written as `path(name)`.
fn xpath_with(e: &Expr, path: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    write_xpath(e, path, &mut out);
    out
}

fn write_xpath(e: &Expr, path: &dyn Fn(&str) -> String, out: &mut String) {
    let call = |out: &mut String, f: &str, args: &[&Expr]| {
        out.push_str(f);
        out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_xpath(a, path, out);
        }
        out.push(')');
    };
    match e {
        Expr::Ref(name) => out.push_str(&path(name)),
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
            write_xpath(x, path, out);
            out.push(')');
        }
        Expr::Not(x) => call(out, "not", &[x]),
        Expr::Binary(op, x, y) => {
            out.push('(');
            write_xpath(x, path, out);
            out.push(' ');
            out.push_str(match op {
                BinOp::Or => "or",
                BinOp::And => "and",
                other => other.symbol(),
            });
            out.push(' ');
            write_xpath(y, path, out);
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
    opts: &'a Options,
    languages: Vec<String>,
    /// Per language (in `languages` order).
    texts: Vec<Texts>,
    /// The repeat of each question inside one, by question name.
    repeat_of: BTreeMap<&'a str, &'a str>,
    binds: String,
    body: String,
    /// The secondary instances (choice lists of filtered questions, [`Dynamic`] choices).
    secondary: String,
    /// The ids of the secondary instances written so far.
    instances: BTreeSet<String>,
}

impl<'a> Writer<'a> {
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

    /// The instance path of question `name` (`/data/name`, `/data/repeat/name`).
    fn path(&self, name: &str) -> String {
        match self.repeat_of.get(name) {
            Some(r) => format!("/{ROOT}/{r}/{name}"),
            None => format!("/{ROOT}/{name}"),
        }
    }

    /// Expression `src` of `q` (its `what`) as XPath. A question of the same repeat as `q`
    /// is reached relatively (`../name`; `current()/../name` in a choice filter, whose
    /// context is the option), so the row's own answer is read; any other absolutely.
    fn expression(&self, q: &Question, what: &str, src: &str) -> Result<String, XFormError> {
        let fail = |problem: String| XFormError {
            question: q.name.clone(),
            problem,
        };
        let filter = what == "choice_filter";
        let e = if filter {
            expr::parse_choice_filter(src)
        } else {
            expr::parse(src)
        }
        .map_err(|err| fail(format!("{what} {src:?}: {err}")))?;
        if let Some(r) = e.references().into_iter().find(|name| {
            self.survey
                .question(name)
                .is_some_and(|r| r.qtype == QuestionType::Repeat)
        }) {
            return Err(fail(format!(
                "{what} {src:?} refers to the repeat ${{{r}}} as a whole, which an XForm \
                 cannot read as the server does (collect this survey on the web form)"
            )));
        }
        let own = self.repeat_of.get(q.name.as_str());
        let path = |name: &str| match self.repeat_of.get(name) {
            Some(r) if Some(r) == own && filter => format!("current()/../{name}"),
            Some(r) if Some(r) == own => format!("../{name}"),
            _ => self.path(name),
        };
        Ok(xpath_with(&e, &path))
    }

    /// Adds secondary instance `id` holding `items`; option `i`'s label is the text
    /// `{id}-{i}`.
    fn secondary_instance(&mut self, id: &str, items: &[Item]) {
        let mut out = String::new();
        let _ = writeln!(out, "      <instance id=\"{}\">\n        <root>", esc(id));
        for (i, item) in items.iter().enumerate() {
            let text = format!("{id}-{i}");
            self.text(text.clone(), item.label);
            let _ = write!(
                out,
                "          <item><itextId>{}</itextId><name>{}</name>",
                esc(&text),
                esc(item.value)
            );
            for (column, value) in &item.columns {
                let _ = write!(out, "<{column}>{}</{column}>", esc(value));
            }
            out.push_str("</item>\n");
        }
        out.push_str("        </root>\n      </instance>\n");
        self.secondary.push_str(&out);
        self.instances.insert(id.to_string());
    }

    /// A control's `itemset` over secondary instance `id`, its items filtered by
    /// `predicate` (XPath, relative to an item; `None`: all of them).
    fn itemset(&mut self, indent: &str, id: &str, predicate: Option<&str>) {
        let filter = predicate.map(|p| format!("[{p}]")).unwrap_or_default();
        let _ = writeln!(
            self.body,
            "{indent}  <itemset nodeset=\"{}\">\n{indent}    <value ref=\"name\"/>\n\
             {indent}    <label ref=\"jr:itext(itextId)\"/>\n{indent}  </itemset>",
            esc(&format!("instance('{id}')/root/item{filter}"))
        );
    }

    /// The options of select question `q` in the body: from its [`Dynamic`] choices, from
    /// its list filtered (an itemset), or inline.
    fn options(&mut self, q: &Question, indent: &str) -> Result<(), XFormError> {
        let survey = self.survey;
        if let Some(d) = self.opts.dynamic.get(&q.name) {
            let items: Vec<Item> = d
                .choices
                .iter()
                .map(|c| Item {
                    value: &c.value,
                    label: &c.label,
                    columns: vec![("parent", c.parent.as_deref().unwrap_or(""))],
                })
                .collect();
            self.secondary_instance(&q.name, &items);
            let filter = d
                .filter_by
                .as_ref()
                .map(|f| format!("parent = {} or parent = ''", self.path(f)));
            self.itemset(indent, &q.name, filter.as_deref());
        } else if let (Some(filter), Some(list), Some(choices)) =
            (&q.choice_filter, &q.list, survey.choice_list(q))
        {
            let predicate = self.expression(q, "choice_filter", filter)?;
            let id = list_instance_id(list, self.opts);
            if !self.instances.contains(&id) {
                // Every item has every column, so a column an option lacks reads as ''
                // (as the server's filter reads it), not as an empty node-set.
                let columns: BTreeSet<&str> = choices
                    .iter()
                    .flat_map(|c| c.columns.keys().map(String::as_str))
                    .collect();
                let items: Vec<Item> = choices
                    .iter()
                    .map(|c| Item {
                        value: &c.value,
                        label: &c.label,
                        columns: columns
                            .iter()
                            .map(|k| (*k, c.columns.get(*k).map_or("", String::as_str)))
                            .collect(),
                    })
                    .collect();
                self.secondary_instance(&id, &items);
            }
            self.itemset(indent, &id, Some(&predicate));
        } else if let Some(choices) = survey.choice_list(q) {
            let p = self.path(&q.name);
            for c in choices {
                let r = self.text(format!("{p}/{}:label", c.value), &c.label);
                let _ = writeln!(
                    self.body,
                    "{indent}  <item>\n{indent}    <label ref=\"{}\"/>\n{indent}    \
                     <value>{}</value>\n{indent}  </item>",
                    esc(&r),
                    esc(&c.value)
                );
            }
        }
        Ok(())
    }

    /// The bind and the body control of `q` (for a repeat: its group, and its questions
    /// inside the `repeat`), the control at `indent`.
    fn question(&mut self, q: &'a Question, indent: &str) -> Result<(), XFormError> {
        let p = self.path(&q.name);
        let qtype = if self.opts.dynamic.contains_key(&q.name) {
            QuestionType::SelectOne
        } else {
            q.qtype
        };
        let whole_steps = |r: &crate::surveys::model::RangeSpec| {
            r.start.fract() == 0.0 && r.end.fract() == 0.0 && r.step.fract() == 0.0
        };
        let xtype = match qtype {
            // A repeat's bind has no type; it is written only for its relevance.
            QuestionType::Repeat => None,
            QuestionType::Integer => Some("int"),
            QuestionType::Decimal => Some("decimal"),
            QuestionType::Date => Some("date"),
            QuestionType::Geopoint => Some("geopoint"),
            QuestionType::Range if q.range.as_ref().is_none_or(whole_steps) => Some("int"),
            QuestionType::Range => Some("decimal"),
            _ => Some("string"),
        };
        let mut bind = format!("      <bind nodeset=\"{p}\"");
        if let Some(t) = xtype {
            let _ = write!(bind, " type=\"{t}\"");
        }
        if qtype == QuestionType::Note {
            bind.push_str(" readonly=\"true()\"");
        } else if q.required && qtype != QuestionType::Repeat {
            // A repeat's rows are counted by the server (at least one when required).
            bind.push_str(" required=\"true()\"");
        }
        if let Some(rel) = &q.relevant {
            let x = self.expression(q, "relevant", rel)?;
            let _ = write!(bind, " relevant=\"{}\"", esc(&x));
        }
        if let (QuestionType::Calculate, Some(c)) = (qtype, &q.calculation) {
            let x = self.expression(q, "calculation", c)?;
            let _ = write!(bind, " calculate=\"{}\"", esc(&x));
        }
        if let Some(c) = &q.constraint {
            let x = self.expression(q, "constraint", c)?;
            let _ = write!(bind, " constraint=\"{}\"", esc(&x));
            if !q.constraint_message.is_empty() {
                let r = self.text(format!("{p}:jr:constraintMsg"), &q.constraint_message);
                let _ = write!(bind, " jr:constraintMsg=\"{}\"", esc(&r));
            }
        }
        if xtype.is_some() || bind.contains(" relevant=") {
            self.binds.push_str(&bind);
            self.binds.push_str("/>\n");
        }
        // A calculation is never shown.
        if qtype == QuestionType::Calculate {
            return Ok(());
        }
        let label = self.text(format!("{p}:label"), &q.label);
        if qtype == QuestionType::Repeat {
            let _ = writeln!(
                self.body,
                "{indent}<group ref=\"{p}\">\n{indent}  <label ref=\"{}\"/>\n\
                 {indent}  <repeat nodeset=\"{p}\">",
                esc(&label)
            );
            let inner = format!("{indent}    ");
            for row_q in &q.questions {
                self.question(row_q, &inner)?;
            }
            let _ = writeln!(self.body, "{indent}  </repeat>\n{indent}</group>");
            return Ok(());
        }
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
                    self.body,
                    "{indent}<{tag} ref=\"{p}\" start=\"{}\" end=\"{}\" step=\"{}\">",
                    r.start, r.end, r.step
                );
            }
            _ => {
                let _ = writeln!(self.body, "{indent}<{tag} ref=\"{p}\">");
            }
        }
        let _ = writeln!(self.body, "{indent}  <label ref=\"{}\"/>", esc(&label));
        if !q.hint.is_empty() {
            let hint = self.text(format!("{p}:hint"), &q.hint);
            let _ = writeln!(self.body, "{indent}  <hint ref=\"{}\"/>", esc(&hint));
        }
        self.options(q, indent)?;
        let _ = writeln!(self.body, "{indent}</{tag}>");
        Ok(())
    }
}

/// One option of a secondary instance: its value, its label and the further columns a
/// filter may test (name, value).
struct Item<'a> {
    value: &'a str,
    label: &'a Text,
    columns: Vec<(&'a str, &'a str)>,
}

/// The id of the secondary instance of choice list `list`: its name, unless a [`Dynamic`]
/// question (whose instance is named after it) has taken that name.
fn list_instance_id(list: &str, opts: &Options) -> String {
    if opts.dynamic.contains_key(list) {
        format!("{list}-choices")
    } else {
        list.to_string()
    }
}

/// The empty instance nodes of `questions` at `indent`; a repeat as its template
/// (`jr:template`) and one first row, as pyxform writes them.
fn instance_nodes(out: &mut String, questions: &[Question], indent: &str) {
    for q in questions {
        if q.qtype == QuestionType::Repeat {
            let inner = format!("{indent}  ");
            for template in [" jr:template=\"\"", ""] {
                let _ = writeln!(out, "{indent}<{}{template}>", q.name);
                instance_nodes(out, &q.questions, &inner);
                let _ = writeln!(out, "{indent}</{}>", q.name);
            }
        } else {
            let _ = writeln!(out, "{indent}<{}/>", q.name);
        }
    }
}

/// The XForm of `survey`. Fails on an expression that does not parse (a loaded survey has
/// none) and on one that refers to a repeat as a whole.
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
        opts,
        texts: vec![Vec::new(); languages.len()],
        languages,
        repeat_of: survey
            .questions
            .iter()
            .flat_map(|r| {
                r.questions
                    .iter()
                    .map(|q| (q.name.as_str(), r.name.as_str()))
            })
            .collect(),
        binds: String::new(),
        body: String::new(),
        secondary: String::new(),
        instances: BTreeSet::new(),
    };
    let mut open_section: Option<&str> = None;
    for q in &survey.questions {
        // Body: sections become groups (consecutive questions of one section).
        if q.section.as_deref() != open_section {
            if open_section.is_some() {
                w.body.push_str("    </group>\n");
            }
            if let Some(sid) = q.section.as_deref() {
                let title = survey
                    .sections
                    .iter()
                    .find(|s| s.id == sid)
                    .map(|s| s.title.clone())
                    .unwrap_or_default();
                let r = w.text(format!("/{ROOT}/section-{sid}:label"), &title);
                let _ = writeln!(w.body, "    <group>\n      <label ref=\"{}\"/>", esc(&r));
            }
            open_section = q.section.as_deref();
        }
        let indent = if open_section.is_some() {
            "      "
        } else {
            "    "
        };
        w.question(q, indent)?;
    }
    if open_section.is_some() {
        w.body.push_str("    </group>\n");
    }
    w.binds.push_str(&format!(
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
    instance_nodes(&mut out, &survey.questions, "          ");
    out.push_str("          <meta>\n            <instanceID/>\n          </meta>\n");
    let _ = writeln!(out, "        </{ROOT}>\n      </instance>");
    out.push_str(&w.secondary);
    out.push_str(&w.binds);
    out.push_str("    </model>\n  </h:head>\n  <h:body>\n");
    out.push_str(&w.body);
    out.push_str("  </h:body>\n</h:html>\n");
    Ok(out)
}

mod instance;
pub use instance::{read_instance, Instance, InstanceError};

#[cfg(test)]
mod tests;
