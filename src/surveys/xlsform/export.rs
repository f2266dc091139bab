//! Writing a survey as an XLSForm workbook, so people can edit it in Excel or carry it to
//! another XLSForm tool, and upload it back: [`import_bytes`](super::import_bytes) reads
//! the workbook into the same definition.
//!
//! - `survey` sheet: `type`, `name`, `label::Language (code)` per language, `hint::…`,
//!   `required`, `relevant`, `constraint`, `constraint_message::…`, `calculation`,
//!   `choice_filter`, `parameters` (a range's `start=… end=… step=…`) and clusterpulse's
//!   `indicator`; sections become `begin_group` / `end_group` rows, and a repeat's
//!   questions sit between its `begin_repeat` and `end_repeat` rows.
//! - `choices` sheet: `list_name`, `name`, `label::…`, clusterpulse's `score`, and a column
//!   per filter column of the options (what `choice_filter`s test). When two options of a
//!   list share a value the settings say `allow_choice_duplicates = yes`, as pyxform wants.
//! - `settings` sheet: `form_id`, `version`, `form_title` (the default language: XLSForm
//!   tools take one plain title), `default_language`, and clusterpulse's
//!   `translated_title::…` (the other languages), `kind`, `respondent`, `framework` and
//!   `description::…`.
//!
//! Expressions are already written in XLSForm's syntax (`${name}`, `selected()`), so they
//! go out as they are.

use crate::surveys::model::{Question, QuestionType, Respondent, Survey, SurveyKind, Text};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

fn language_name(code: &str) -> &str {
    match code {
        "en" => "English",
        "fr" => "Français",
        "es" => "Español",
        "ar" => "العربية",
        other => other,
    }
}

/// One sheet being written: a header row, then rows of cells by column name.
struct Sheet<'a> {
    ws: &'a mut Worksheet,
    columns: Vec<String>,
    row: u32,
}

impl<'a> Sheet<'a> {
    fn new(ws: &'a mut Worksheet, columns: Vec<String>, bold: &Format) -> Result<Self, XlsxError> {
        for (i, c) in columns.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, c, bold)?;
        }
        ws.set_freeze_panes(1, 0)?;
        Ok(Sheet {
            ws,
            columns,
            row: 0,
        })
    }

    fn col(&self, name: &str) -> u16 {
        self.columns
            .iter()
            .position(|c| c == name)
            .expect("a column named in the header") as u16
    }

    fn next_row(&mut self) {
        self.row += 1;
    }

    fn text(&mut self, column: &str, value: &str) -> Result<(), XlsxError> {
        if !value.is_empty() {
            let c = self.col(column);
            self.ws.write_string(self.row, c, value)?;
        }
        Ok(())
    }

    fn texts(&mut self, field: &str, t: &Text, langs: &[String]) -> Result<(), XlsxError> {
        for l in langs {
            if let Some(v) = t.get(l) {
                self.text(&localised(field, l), v)?;
            }
        }
        Ok(())
    }
}

fn localised(field: &str, lang: &str) -> String {
    format!("{field}::{} ({lang})", language_name(lang))
}

fn localised_columns(field: &str, langs: &[String]) -> Vec<String> {
    langs.iter().map(|l| localised(field, l)).collect()
}

fn kind(k: SurveyKind) -> &'static str {
    match k {
        SurveyKind::Performance => "performance",
        SurveyKind::Feedback => "feedback",
    }
}

fn respondent(r: Respondent) -> &'static str {
    match r {
        Respondent::Partner => "partner",
        Respondent::Coordinator => "coordinator",
        Respondent::Public => "public",
        Respondent::Staff => "staff",
    }
}

/// The survey as an `.xlsx` XLSForm workbook.
pub fn export_xlsx(s: &Survey) -> Result<Vec<u8>, XlsxError> {
    let langs = &s.languages;
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();

    let mut columns: Vec<String> = vec!["type".into(), "name".into()];
    columns.extend(localised_columns("label", langs));
    columns.extend(localised_columns("hint", langs));
    columns.extend(["required", "relevant", "constraint"].map(String::from));
    columns.extend(localised_columns("constraint_message", langs));
    columns.extend(["calculation", "choice_filter", "parameters", "indicator"].map(String::from));
    let ws = book.add_worksheet().set_name("survey")?;
    let mut sheet = Sheet::new(ws, columns, &bold)?;
    let mut open: Option<&str> = None;
    for q in &s.questions {
        if q.section.as_deref() != open {
            if open.is_some() {
                sheet.next_row();
                sheet.text("type", "end_group")?;
            }
            if let Some(id) = q.section.as_deref() {
                sheet.next_row();
                sheet.text("type", "begin_group")?;
                sheet.text("name", id)?;
                if let Some(sec) = s.sections.iter().find(|x| x.id == id) {
                    sheet.texts("label", &sec.title, langs)?;
                }
            }
            open = q.section.as_deref();
        }
        question_rows(&mut sheet, q, langs)?;
    }
    if open.is_some() {
        sheet.next_row();
        sheet.text("type", "end_group")?;
    }
    choices_sheet(&mut book, s, &bold)?;
    settings_sheet(&mut book, s, &bold)?;
    book.save_to_buffer()
}

/// The row of a question; a repeat's between `begin_repeat` and `end_repeat`.
fn question_rows(sheet: &mut Sheet, q: &Question, langs: &[String]) -> Result<(), XlsxError> {
    sheet.next_row();
    let qtype = match (q.qtype, &q.list) {
        (QuestionType::SelectOne | QuestionType::SelectMultiple, Some(list)) => {
            format!("{} {list}", q.qtype.as_str())
        }
        (QuestionType::Repeat, _) => "begin_repeat".to_string(),
        (t, _) => t.as_str().to_string(),
    };
    sheet.text("type", &qtype)?;
    sheet.text("name", &q.name)?;
    sheet.texts("label", &q.label, langs)?;
    sheet.texts("hint", &q.hint, langs)?;
    if q.required {
        sheet.text("required", "yes")?;
    }
    sheet.text("relevant", q.relevant.as_deref().unwrap_or(""))?;
    sheet.text("constraint", q.constraint.as_deref().unwrap_or(""))?;
    sheet.texts("constraint_message", &q.constraint_message, langs)?;
    sheet.text("calculation", q.calculation.as_deref().unwrap_or(""))?;
    sheet.text("choice_filter", q.choice_filter.as_deref().unwrap_or(""))?;
    if let Some(r) = &q.range {
        sheet.text(
            "parameters",
            &format!("start={} end={} step={}", r.start, r.end, r.step),
        )?;
    }
    sheet.text("indicator", q.indicator.as_deref().unwrap_or(""))?;
    if q.qtype == QuestionType::Repeat {
        for inner in &q.questions {
            question_rows(sheet, inner, langs)?;
        }
        sheet.next_row();
        sheet.text("type", "end_repeat")?;
    }
    Ok(())
}

fn choices_sheet(book: &mut Workbook, s: &Survey, bold: &Format) -> Result<(), XlsxError> {
    let langs = &s.languages;
    let mut columns: Vec<String> = vec!["list_name".into(), "name".into()];
    columns.extend(localised_columns("label", langs));
    columns.push("score".into());
    let filter_columns: std::collections::BTreeSet<&String> = s
        .choices
        .values()
        .flatten()
        .flat_map(|c| c.columns.keys())
        .collect();
    columns.extend(filter_columns.iter().map(|c| c.to_string()));
    let ws = book.add_worksheet().set_name("choices")?;
    let mut sheet = Sheet::new(ws, columns, bold)?;
    for (list, options) in &s.choices {
        for c in options {
            sheet.next_row();
            sheet.text("list_name", list)?;
            sheet.text("name", &c.value)?;
            sheet.texts("label", &c.label, langs)?;
            if let Some(score) = c.score {
                let col = sheet.col("score");
                sheet.ws.write_number(sheet.row, col, score)?;
            }
            for (name, value) in &c.columns {
                sheet.text(name, value)?;
            }
        }
    }

    Ok(())
}

fn settings_sheet(book: &mut Workbook, s: &Survey, bold: &Format) -> Result<(), XlsxError> {
    let langs = &s.languages;
    let mut columns: Vec<String> = vec!["form_id".into(), "version".into(), "form_title".into()];
    columns.extend(localised_columns(
        "translated_title",
        &langs[1.min(langs.len())..],
    ));
    columns.extend(["default_language", "kind", "respondent", "framework"].map(String::from));
    columns.extend(localised_columns("description", langs));
    let duplicates = s.choices.values().any(|options| {
        let values: std::collections::BTreeSet<&str> =
            options.iter().map(|c| c.value.as_str()).collect();
        values.len() < options.len()
    });
    if duplicates {
        columns.push("allow_choice_duplicates".into());
    }
    let ws = book.add_worksheet().set_name("settings")?;
    let mut sheet = Sheet::new(ws, columns, bold)?;
    sheet.next_row();
    sheet.text("form_id", &s.id)?;
    sheet.text("version", &s.version.to_string())?;
    // XLSForm tools read one plain title: the default language's.
    if let Some(first) = langs.first() {
        sheet.text(
            "form_title",
            s.title.get(first).map(String::as_str).unwrap_or(""),
        )?;
    }
    sheet.texts("translated_title", &s.title, &langs[1.min(langs.len())..])?;
    if let Some(first) = langs.first() {
        sheet.text("default_language", &localised_lang(first))?;
    }
    sheet.text("kind", kind(s.kind))?;
    sheet.text("respondent", respondent(s.respondent))?;
    sheet.text("framework", s.framework.as_deref().unwrap_or(""))?;
    sheet.texts("description", &s.description, langs)?;
    if duplicates {
        sheet.text("allow_choice_duplicates", "yes")?;
    }
    Ok(())
}

/// `default_language` names the language as its columns do (`English (en)`).
fn localised_lang(code: &str) -> String {
    format!("{} ({code})", language_name(code))
}
