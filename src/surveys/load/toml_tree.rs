//! A TOML tree that remembers where every key is, so problems name the file, line and column.

use super::*;

#[derive(Debug, Clone)]
pub(super) enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Node>),
    Table(Vec<(String, Node)>),
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    /// Byte offset of the key (for a table entry) or of the item (for an array item).
    pub(super) pos: Option<usize>,
    pub(super) val: Val,
}

impl<'de> serde::Deserialize<'de> for Val {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValVisitor)
    }
}

pub(super) struct ValVisitor;

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

pub(super) fn describe(val: &Val) -> String {
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
pub(super) type Seen = BTreeMap<String, Option<usize>>;

/// A table of the tree, with where it starts.
#[derive(Clone, Copy)]
pub(super) struct Tbl<'t> {
    pub(super) pos: Option<usize>,
    pub(super) entries: &'t [(String, Node)],
}

impl<'t> Tbl<'t> {
    pub(super) fn get(&self, key: &str) -> Option<&'t Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, n)| n)
    }
}

/// A value read from the tree, with where it is.
pub(super) struct At<T> {
    pub(super) val: T,
    pub(super) pos: Option<usize>,
}

/// Reads one file's tree, collecting problems.
pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) line_starts: Vec<usize>,
    pub(super) problems: Vec<Problem>,
}

/// Parses a source into its root table and a reading context.
pub(super) fn parse_tree(src: &Source) -> Result<(Vec<(String, Node)>, Ctx<'_>), Problem> {
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
    pub(super) fn line(&self, pos: Option<usize>) -> Option<usize> {
        pos.map(|p| self.line_starts.partition_point(|&start| start <= p))
    }

    pub(super) fn report(&mut self, pos: Option<usize>, message: impl Into<String>) {
        let line = self.line(pos);
        self.problems.push(Problem::new(self.file, line, message));
    }

    pub(super) fn finish<T>(mut self, value: impl FnOnce() -> T) -> Result<T, Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(value())
        } else {
            sort_problems(&mut self.problems);
            Err(self.problems)
        }
    }

    /// Reports keys of `t` that are not in `allowed`.
    pub(super) fn check_keys(&mut self, t: Tbl, allowed: &[&str], what: &str) {
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

    pub(super) fn value<'t>(
        &mut self,
        t: Tbl<'t>,
        key: &str,
        what: &str,
        required: bool,
    ) -> Option<&'t Node> {
        let node = t.get(key);
        if node.is_none() && required {
            self.report(t.pos, format!("{what} is missing \"{key}\""));
        }
        node
    }

    pub(super) fn wrong(&mut self, node: &Node, key: &str, what: &str, expected: &str) {
        self.report(
            node.pos,
            format!(
                "{key} of {what} must be {expected}, not {}",
                describe(&node.val)
            ),
        );
    }

    pub(super) fn string(
        &mut self,
        t: Tbl,
        key: &str,
        what: &str,
        required: bool,
    ) -> Option<At<String>> {
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
    pub(super) fn one_of<T: Copy>(
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

    pub(super) fn integer(
        &mut self,
        t: Tbl,
        key: &str,
        what: &str,
        required: bool,
    ) -> Option<At<i64>> {
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

    pub(super) fn number(&mut self, t: Tbl, key: &str, what: &str) -> Option<At<f64>> {
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

    pub(super) fn boolean(&mut self, t: Tbl, key: &str, what: &str) -> Option<At<bool>> {
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
    pub(super) fn tables<'t>(&mut self, node: &'t Node, key: &str, what: &str) -> Vec<Tbl<'t>> {
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
    pub(super) fn languages(&mut self, t: Tbl, what: &str) -> Vec<String> {
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
    pub(super) fn text(
        &mut self,
        t: Tbl,
        key: &str,
        what: &str,
        required: bool,
        langs: &[String],
    ) -> Text {
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

pub(super) fn valid_language(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

pub(super) fn valid_survey_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn valid_choice_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

pub(super) fn valid_question_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The closest allowed key to a misspelt one, if it is close enough.
pub(super) fn suggest<'k>(key: &str, allowed: &[&'k str]) -> Option<&'k str> {
    allowed
        .iter()
        .map(|&a| (edit_distance(key, a), a))
        .filter(|&(d, a)| d <= 2 && d < a.len().max(key.len()) / 2 + 1)
        .min_by_key(|&(d, _)| d)
        .map(|(_, a)| a)
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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

pub(super) fn format_number(x: f64) -> String {
    format!("{x}")
}

pub(super) fn comma_list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
