//! XLSForm question types and how each maps onto a clusterpulse question.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum RowKind {
    Question {
        qtype: QuestionType,
        list: Option<String>,
        /// A note about what was dropped from the type (`phone number`'s check, …).
        dropped: Option<String>,
        /// `or_other`: an `other` choice and a text question for it are added.
        or_other: bool,
    },
    BeginGroup,
    EndGroup,
    BeginRepeat,
    EndRepeat,
    Unsupported(String),
}

pub(super) fn row_kind(type_text: &str) -> RowKind {
    let words: Vec<&str> = type_text.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let joined = lower.join(" ");
    let simple = |qtype| RowKind::Question {
        qtype,
        list: None,
        dropped: None,
        or_other: false,
    };
    match joined.as_str() {
        "text" | "string" => return simple(QuestionType::Text),
        "integer" | "int" => return simple(QuestionType::Integer),
        "decimal" => return simple(QuestionType::Decimal),
        "date" => return simple(QuestionType::Date),
        "note" => return simple(QuestionType::Note),
        "geopoint" | "gps" => return simple(QuestionType::Geopoint),
        "calculate" | "calculation" => return simple(QuestionType::Calculate),
        "acknowledge" => return simple(QuestionType::Acknowledge),
        "range" => return simple(QuestionType::Range),
        "phone number" => {
            return RowKind::Question {
                qtype: QuestionType::Text,
                list: None,
                dropped: Some(
                    "the old pyxform type 'phone number' is imported as text; its digits-only \
                     constraint is not carried over"
                        .to_string(),
                ),
                or_other: false,
            }
        }
        "begin group" | "begin_group" | "begin lgroup" => return RowKind::BeginGroup,
        "end group" | "end_group" | "end lgroup" => return RowKind::EndGroup,
        "begin repeat" | "begin_repeat" => return RowKind::BeginRepeat,
        "end repeat" | "end_repeat" | "end loop" | "end_loop" => return RowKind::EndRepeat,
        _ => {}
    }
    if lower.first().map(String::as_str) == Some("begin")
        && lower.get(1).map(String::as_str) == Some("loop")
        || lower.first().map(String::as_str) == Some("begin_loop")
    {
        return RowKind::BeginRepeat;
    }
    // Selects: `select_one L`, `select one L`, `select one from L`, `select_multiple L`,
    // `select all that apply from L`, each optionally followed by `or_other` /
    // `or specify other`.
    let (qtype, rest) = match lower.as_slice() {
        [a, ..] if a == "select_one" || a == "select1" => (QuestionType::SelectOne, 1),
        [a, ..] if a == "select_multiple" => (QuestionType::SelectMultiple, 1),
        [a, b, ..] if a == "select" && b == "one" => (QuestionType::SelectOne, 2),
        [a, b, ..] if a == "select" && b == "multiple" => (QuestionType::SelectMultiple, 2),
        [a, b, c, d, ..] if a == "select" && b == "all" && c == "that" && d == "apply" => {
            (QuestionType::SelectMultiple, 4)
        }
        _ => return unsupported(&joined, type_text),
    };
    let mut rest = rest;
    if lower.get(rest).map(String::as_str) == Some("from") {
        rest += 1;
    }
    let tail: Vec<&str> = lower[rest..].iter().map(String::as_str).collect();
    let (list_words, other) = match tail.as_slice() {
        [l @ .., "or_other"] => (l.len(), true),
        [l @ .., "or", "specify", "other"] => (l.len(), true),
        [l @ .., "or_specify_other"] => (l.len(), true),
        l => (l.len(), false),
    };
    if list_words != 1 {
        return RowKind::Unsupported(format!(
            "the type '{type_text}' does not name exactly one choice list"
        ));
    }
    RowKind::Question {
        qtype,
        list: Some(words[rest].to_string()),
        dropped: None,
        or_other: other,
    }
}

pub(super) fn unsupported(lower: &str, type_text: &str) -> RowKind {
    let first = lower.split_whitespace().next().unwrap_or("");
    let rest = type_text
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    let reason = match first {
        "geotrace" | "geoshape" | "osm" => {
            "lines and shapes on a map are not supported (a single location, 'geopoint', is)"
                .to_string()
        }
        "rank" => format!(
            "ranking questions are not supported (the options of '{rest}' would be put in \
             order); use a select_one per rank, or select_multiple"
        ),
        "image" | "photo" | "audio" | "video" | "file" | "background-audio" => {
            "media and file uploads are not supported".to_string()
        }
        "time" | "datetime" => "time answers are not supported (only 'date' is)".to_string(),
        "start" | "end" | "today" | "deviceid" | "username" | "phonenumber" | "simserial"
        | "subscriberid" | "email" | "audit" | "start-geopoint" | "imei" | "uri:email"
        | "uri:username" | "uri:phonenumber" | "uri:deviceid" | "uri:subscriberid"
        | "uri:simserial" => {
            "metadata fields are not supported (clusterpulse records each response's time and \
             language itself)"
                .to_string()
        }
        "select_one_external" | "select_one_from_file" | "select_multiple_from_file" => {
            format!(
                "choices from an external file ('{rest}') are not supported; copy the choices \
                 into the choices sheet and use select_one / select_multiple"
            )
        }
        "include" => "'include' (an old pyxform feature) is not supported".to_string(),
        "" => "the row has no type".to_string(),
        _ => format!("the type '{type_text}' is not supported"),
    };
    RowKind::Unsupported(reason)
}

pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn valid_choice_value(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `form_id` reduced to `[a-z0-9-]+`.
pub(super) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A section id from a group name: lower case letters, digits and `_`.
pub(super) fn section_slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

pub(super) fn truthy(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "" | "no" | "n" | "false" | "false()" | "0" => Some(false),
        "yes" | "y" | "true" | "true()" | "1" => Some(true),
        _ => None,
    }
}

/// A `range` row's `parameters` (`start=0 end=10 step=2`, separated by spaces, commas or
/// semicolons; XLSForm's defaults 1, 10 and 1 for what is missing): the bounds, and the
/// parameters that are not carried over (`tick_interval`, …).
pub(super) fn range_parameters(text: &str) -> Result<(RangeSpec, Vec<String>), String> {
    let mut spec = RangeSpec::default();
    let mut ignored = Vec::new();
    for part in text
        .split([' ', '\t', ',', ';'])
        .filter(|p| !p.trim().is_empty())
    {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!(
                "the parameter '{part}' is not key=value (write e.g. start=0 end=10 step=1)"
            ));
        };
        let key = key.trim().to_lowercase();
        let slot = match key.as_str() {
            "start" => &mut spec.start,
            "end" => &mut spec.end,
            "step" => &mut spec.step,
            _ => {
                ignored.push(format!("'{part}'"));
                continue;
            }
        };
        *slot = value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("the range parameter {key}='{value}' is not a number"))?;
    }
    if spec.step <= 0.0 {
        return Err(format!(
            "the range step {} must be above 0 (a range from a high start to a low end counts \
             down with a positive step)",
            spec.step
        ));
    }
    Ok((spec, ignored))
}
