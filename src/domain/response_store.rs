//! How a response is stored: one `responses` row holding the answers whole (a JSON object,
//! question → normalised value, in question order) and the item scores packed by column
//! (`crate::db::packed`). A column is a position in the layout of the survey version
//! (`response_score_columns`): the version's scored questions in the order they were first
//! stored, which is the survey's question order. A layout only grows, so a stored row keeps
//! its meaning.

use crate::db::packed;
use crate::db::schema::response_score_columns as rsc;
use crate::db::DbConnection;
use crate::kernel::error::AppError;
use crate::surveys::answers::Item;
use diesel::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The answers of `items` as the JSON object stored in `responses.answers`.
pub fn answers_text(items: &[Item]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(items.len() * 32 + 2);
    out.push(b'{');
    for (k, it) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        // Written straight into the buffer (writing to a Vec cannot fail).
        let _ = serde_json::to_writer(&mut out, it.question.as_str());
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, &it.value);
    }
    out.push(b'}');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// Each (question, value as JSON text) of a stored answers object, in stored order. Plain
/// keys and values are read in place; anything unusual goes through serde_json.
pub fn each_answer<'a>(
    text: &'a str,
    mut f: impl FnMut(&str, Cow<'a, str>),
) -> Result<(), AppError> {
    if let Some(pairs) = split_object(text) {
        for (k, v) in pairs {
            f(k, Cow::Borrowed(v));
        }
        return Ok(());
    }
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored answers are not JSON: {e}")))?;
    for (k, v) in map {
        f(&k, Cow::Owned(v.to_string()));
    }
    Ok(())
}

/// The top-level (key, raw value) pairs of a JSON object whose keys have no escapes;
/// `None` if it is anything else (the caller then parses it properly).
fn split_object(text: &str) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b'}') {
        return (skip_ws(b, i + 1) == b.len()).then_some(out);
    }
    loop {
        // Key: a string without escapes.
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let end = start + b[start..].iter().position(|&c| c == b'"' || c == b'\\')?;
        if b[end] != b'"' {
            return None;
        }
        let key = &text[start..end];
        i = skip_ws(b, end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let vstart = i;
        let (mut depth, mut in_str) = (0i32, false);
        while i < b.len() {
            let c = b[i];
            if in_str {
                match c {
                    b'\\' => i += 1,
                    b'"' => in_str = false,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => depth -= 1,
                    b',' | b'}' if depth == 0 => break,
                    _ => {}
                }
            }
            i += 1;
        }
        let value = text.get(vstart..i)?.trim_end();
        if value.is_empty() || in_str {
            return None;
        }
        out.push((key, value));
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return (skip_ws(b, i + 1) == b.len()).then_some(out),
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The layout (questions by position) of each survey version asked for.
pub fn layouts(
    conn: &mut DbConnection,
    versions: &[(String, i32)],
) -> QueryResult<HashMap<(String, i32), Vec<String>>> {
    let mut out: HashMap<(String, i32), Vec<String>> =
        versions.iter().map(|v| (v.clone(), Vec::new())).collect();
    let surveys: Vec<&str> = versions.iter().map(|v| v.0.as_str()).collect();
    let rows: Vec<(String, i32, String)> = rsc::table
        .filter(rsc::survey_id.eq_any(&surveys))
        .order((rsc::survey_id, rsc::survey_version, rsc::position))
        .select((rsc::survey_id, rsc::survey_version, rsc::question))
        .load(conn)?;
    for (survey, version, question) in rows {
        if let Some(l) = out.get_mut(&(survey, version)) {
            l.push(question);
        }
    }
    Ok(out)
}

fn layout(conn: &mut DbConnection, survey_id: &str, version: i32) -> QueryResult<Vec<String>> {
    rsc::table
        .filter(rsc::survey_id.eq(survey_id))
        .filter(rsc::survey_version.eq(version))
        .order(rsc::position)
        .select(rsc::question)
        .load(conn)
}

/// A survey version's layout: its scored questions by position, and the other way round.
#[derive(Debug, Default)]
pub struct Layout {
    columns: Vec<String>,
    position: HashMap<String, usize>,
}

impl Layout {
    fn new(columns: Vec<String>) -> Layout {
        let position = columns
            .iter()
            .enumerate()
            .map(|(p, q)| (q.clone(), p))
            .collect();
        Layout { columns, position }
    }

    /// Whether every scored item of `items` has a column.
    pub fn covers(&self, items: &[Item]) -> bool {
        items
            .iter()
            .filter(|it| it.score.is_some())
            .all(|it| self.position.contains_key(&it.question))
    }

    /// The packed scores of `items`, every scored one of which has a column.
    pub fn pack(&self, survey_id: &str, version: i32, items: &[Item]) -> Result<String, AppError> {
        let mut scores = vec![None; self.columns.len()];
        for it in items.iter().filter(|it| it.score.is_some()) {
            let p = *self.position.get(&it.question).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "question {} has no column in the layout of {survey_id} v{version}",
                    it.question
                ))
            })?;
            scores[p] = it.score;
        }
        Ok(packed::encode(&scores))
    }
}

/// The layouts a process has read, per survey version, so that storing a response does not
/// read its layout again. A layout only grows and a position never changes its question, so
/// a layout read earlier that has a column for every question of a response is still right
/// for it; one that lacks a column is read again (another process may have added it).
#[derive(Debug, Default)]
pub struct LayoutCache(Mutex<HashMap<(String, i32), Arc<Layout>>>);

impl LayoutCache {
    /// The layout of the survey version, with a column for every scored item of `items` if
    /// the database has one for each (read from the database only when the one kept
    /// lacks a column).
    pub fn covering(
        &self,
        conn: &mut DbConnection,
        survey_id: &str,
        version: i32,
        items: &[Item],
    ) -> QueryResult<Arc<Layout>> {
        let key = (survey_id.to_string(), version);
        let kept = self.0.lock().ok().and_then(|m| m.get(&key).cloned());
        if let Some(l) = kept.filter(|l| l.covers(items)) {
            return Ok(l);
        }
        let fresh = Arc::new(Layout::new(layout(conn, survey_id, version)?));
        if let Ok(mut m) = self.0.lock() {
            m.insert(key, fresh.clone());
        }
        Ok(fresh)
    }
}

/// The packed scores of `items` for the survey version, adding to its layout the scored
/// questions it does not hold yet (inside the caller's transaction; a layout only grows,
/// and only the first responses of a version add to it). `known` is a layout read earlier
/// (see [`LayoutCache`]): when it covers the items, the database is not asked.
pub fn pack_scores(
    conn: &mut DbConnection,
    survey_id: &str,
    version: i32,
    items: &[Item],
    known: Option<&Layout>,
) -> Result<String, AppError> {
    if let Some(l) = known.filter(|l| l.covers(items)) {
        return l.pack(survey_id, version, items);
    }
    let scored = || items.iter().filter(|it| it.score.is_some());
    let mut cols = layout(conn, survey_id, version)?;
    // Two rounds at most: a writer that lost a race for a position sees the winner's
    // columns on its second read and appends what is still missing after them.
    for _ in 0..3 {
        let missing: Vec<&str> = scored()
            .map(|it| it.question.as_str())
            .filter(|q| !cols.iter().any(|c| c == q))
            .collect();
        if missing.is_empty() {
            break;
        }
        let rows: Vec<_> = missing
            .iter()
            .enumerate()
            .map(|(k, q)| {
                (
                    rsc::survey_id.eq(survey_id),
                    rsc::survey_version.eq(version),
                    rsc::position.eq((cols.len() + k) as i32),
                    rsc::question.eq(*q),
                )
            })
            .collect();
        let q = diesel::insert_into(rsc::table)
            .values(rows)
            .on_conflict_do_nothing();
        match conn {
            DbConnection::Sqlite(c) => q.execute(c)?,
            DbConnection::Postgres(c) => q.execute(c)?,
        };
        cols = layout(conn, survey_id, version)?;
    }
    Layout::new(cols).pack(survey_id, version, items)
}

/// One stored answer: question, value (JSON text), item score.
pub type StoredAnswer = (String, String, Option<f64>);

/// The answers of the response with the client's `uuid`, in stored order, each with its
/// item score (`None`: the question has none in this response).
pub fn stored_answers(conn: &mut DbConnection, uuid: &str) -> Result<Vec<StoredAnswer>, AppError> {
    use crate::db::schema::responses;
    let (survey, version, answers, scores): (String, i32, String, String) = responses::table
        .filter(responses::uuid.eq(uuid))
        .select((
            responses::survey_id,
            responses::survey_version,
            responses::answers,
            responses::scores,
        ))
        .first(conn)?;
    let columns = layout(conn, &survey, version)?;
    let scores = packed::decode(&scores).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let score_of = |q: &str| {
        let p = columns.iter().position(|c| c == q)?;
        scores.get(p).copied().flatten()
    };
    let mut out = Vec::new();
    each_answer(&answers, |q, v| {
        out.push((q.to_string(), v.into_owned(), score_of(q)))
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        let mut v = Vec::new();
        each_answer(text, |k, val| v.push((k.to_string(), val.into_owned()))).unwrap();
        v
    }

    #[test]
    fn splits_stored_objects_in_place_or_through_serde() {
        let text = r#"{"a":"x, y}","b":[1,{"c":"]"}],"d":-2.5e3,"e":null,"f":"q\"}"}"#;
        assert_eq!(split_object(text).unwrap().len(), 5);
        assert_eq!(
            pairs(text),
            vec![
                ("a".into(), r#""x, y}""#.into()),
                ("b".into(), r#"[1,{"c":"]"}]"#.into()),
                ("d".into(), "-2.5e3".into()),
                ("e".into(), "null".into()),
                ("f".into(), r#""q\"}""#.into()),
            ]
        );
        // PostgreSQL's json_object_agg spacing.
        assert_eq!(
            pairs(r#"{ "a" : 1, "b" : "x" }"#),
            vec![("a".into(), "1".into()), ("b".into(), r#""x""#.into())]
        );
        assert_eq!(pairs("{}"), vec![]);
        // An escaped key goes through serde_json.
        assert!(split_object(r#"{"a\"b":1}"#).is_none());
        assert_eq!(pairs(r#"{"a\"b":1}"#), vec![("a\"b".into(), "1".into())]);
        assert!(each_answer("[1]", |_, _| {}).is_err());
    }
}
