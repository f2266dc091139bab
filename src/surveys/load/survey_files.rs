//! Reading a survey file: languages, questions, choices, logic and their checks.

use super::*;

/// Reads the `type` of a question: `select_one LIST` etc. with any whitespace.
pub(super) fn parse_type(s: &str) -> Result<(QuestionType, Option<String>), String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let simple = |w: &str| match w {
        "text" => Some(QuestionType::Text),
        "integer" => Some(QuestionType::Integer),
        "decimal" => Some(QuestionType::Decimal),
        "date" => Some(QuestionType::Date),
        "note" => Some(QuestionType::Note),
        "geopoint" => Some(QuestionType::Geopoint),
        "calculate" => Some(QuestionType::Calculate),
        "acknowledge" => Some(QuestionType::Acknowledge),
        "range" => Some(QuestionType::Range),
        "repeat" => Some(QuestionType::Repeat),
        _ => None,
    };
    let select = |w: &str| match w {
        "select_one" => Some(QuestionType::SelectOne),
        "select_multiple" => Some(QuestionType::SelectMultiple),
        _ => None,
    };
    match words.as_slice() {
        [w] if simple(w).is_some() => Ok((simple(w).unwrap_or(QuestionType::Text), None)),
        [w, list] if select(w).is_some() => Ok((
            select(w).unwrap_or(QuestionType::SelectOne),
            Some((*list).to_owned()),
        )),
        [w] if select(w).is_some() => Err(format!(
            "has type \"{s}\" without a choice list (write e.g. \"{w} yes_no\")"
        )),
        [w, ..] if select(w).is_some() => Err(format!(
            "has type \"{s}\", but a {w} question names exactly one choice list"
        )),
        _ => Err(format!(
            "has type \"{s}\", which is not supported (the types are {SUPPORTED_TYPES})"
        )),
    }
}

/// A question as read, before the checks that need the whole survey.
pub(super) struct RawQuestion {
    pub(super) pos: Option<usize>,
    pub(super) name: Option<At<String>>,
    pub(super) what: String,
    pub(super) qtype: Option<At<(QuestionType, Option<String>)>>,
    pub(super) label: Text,
    pub(super) hint: Text,
    pub(super) required: Option<At<bool>>,
    pub(super) relevant: Option<At<String>>,
    pub(super) constraint: Option<At<String>>,
    pub(super) constraint_message: Text,
    pub(super) indicator: Option<At<String>>,
    pub(super) section: Option<At<String>>,
    pub(super) calculation: Option<At<String>>,
    pub(super) choice_filter: Option<At<String>>,
    pub(super) range: Option<At<RangeSpec>>,
    /// A repeat's questions (`[[questions.questions]]`).
    pub(super) children: Vec<RawQuestion>,
    /// Inner questions: the name of their repeat.
    pub(super) repeat: Option<String>,
}

/// Like [`parse_survey`], also returning where things are in the file.
pub fn parse_survey_located(src: &Source) -> Result<(Survey, FileLines), Vec<Problem>> {
    let (root, mut ctx) = parse_tree(src).map_err(|p| vec![p])?;
    let top = Tbl {
        pos: None,
        entries: &root,
    };
    let mut lines = FileLines::new(&src.path);

    let id = ctx.string(top, "id", "the survey", true);
    let what = match &id {
        Some(id) => format!("survey \"{}\"", id.val),
        None => "the survey".to_owned(),
    };
    ctx.check_keys(top, SURVEY_KEYS, &what);
    if let Some(id) = &id {
        lines.set("id".into(), ctx.line(id.pos));
        if !valid_survey_id(&id.val) {
            ctx.report(
                id.pos,
                format!(
                    "survey id \"{}\" may only contain lowercase letters, digits and '-'",
                    id.val
                ),
            );
        }
        check_id_matches_file(&mut ctx, &src.path, id, "survey");
    }

    let version = match ctx.integer(top, "version", &what, true) {
        Some(v) if v.val < 1 => {
            ctx.report(
                v.pos,
                format!("version of {what} must be 1 or more, not {}", v.val),
            );
            None
        }
        Some(v) if v.val > i64::from(u32::MAX) => {
            ctx.report(v.pos, format!("version of {what} is too large ({})", v.val));
            None
        }
        Some(v) => Some(v.val as u32),
        None => None,
    };

    let kind = ctx.string(top, "kind", &what, true);
    let kind_value = kind.as_ref().and_then(|k| {
        let kinds = [
            ("performance", SurveyKind::Performance),
            ("feedback", SurveyKind::Feedback),
        ];
        ctx.one_of(k, &kinds, "kind", &what)
    });
    if let Some(k) = &kind {
        lines.set("kind".into(), ctx.line(k.pos));
    }
    let respondents = [
        ("partner", Respondent::Partner),
        ("coordinator", Respondent::Coordinator),
        ("public", Respondent::Public),
        ("staff", Respondent::Staff),
    ];
    let respondent = ctx
        .string(top, "respondent", &what, true)
        .and_then(|r| ctx.one_of(&r, &respondents, "respondent", &what));

    let framework = ctx.string(top, "framework", &what, false);
    if let Some(f) = &framework {
        lines.set("framework".into(), ctx.line(f.pos));
    }
    match (kind_value, &framework) {
        (Some(SurveyKind::Performance), None) => ctx.report(
            kind.as_ref().and_then(|k| k.pos),
            format!(
                "{what} is a performance survey, so it needs \"framework\" (the id of a \
                 framework in frameworks/)"
            ),
        ),
        (Some(SurveyKind::Feedback), Some(f)) => ctx.report(
            f.pos,
            format!(
                "{what} is a feedback survey, so it must not name a framework (remove \
                 \"framework\")"
            ),
        ),
        _ => {}
    }

    let langs = ctx.languages(top, &what);
    let title = ctx.text(top, "title", &what, true, &langs);
    let description = ctx.text(top, "description", &what, false, &langs);

    let (sections, section_ids) = read_sections(&mut ctx, top, &what, &langs);
    let (choices, list_pos) = read_choices(&mut ctx, top, &what, &langs);

    // Questions, as read
    let mut raw = Vec::new();
    if let Some(node) = ctx.value(top, "questions", &what, true) {
        let tables = ctx.tables(node, "questions", &what);
        if tables.is_empty() && matches!(node.val, Val::Array(_)) {
            ctx.report(node.pos, format!("{what} has no questions"));
        }
        for (i, q) in tables.into_iter().enumerate() {
            raw.push(read_question(&mut ctx, q, i, &langs));
        }
    }

    // Checks that need the whole survey, over every question in order (each repeat
    // followed by its inner questions).
    let flat: Vec<&RawQuestion> = raw
        .iter()
        .flat_map(|q| std::iter::once(q).chain(q.children.iter()))
        .collect();
    let mut order: BTreeMap<String, usize> = BTreeMap::new();
    let mut repeat_of: BTreeMap<String, String> = BTreeMap::new();
    for (i, q) in flat.iter().enumerate() {
        let Some(name) = &q.name else { continue };
        if let Some(r) = &q.repeat {
            repeat_of.insert(name.val.clone(), r.clone());
        }
        if let Some(&first) = order.get(&name.val) {
            let at = ctx
                .line(flat[first].name.as_ref().and_then(|n| n.pos))
                .map(|l| format!(" (first at line {l})"))
                .unwrap_or_default();
            ctx.report(
                name.pos,
                format!("question name \"{}\" is used twice{at}", name.val),
            );
        } else {
            order.insert(name.val.clone(), i);
            lines.set(format!("question:{}", name.val), ctx.line(q.pos));
            if let Some(ind) = &q.indicator {
                lines.set(format!("indicator:{}", name.val), ctx.line(ind.pos));
            }
        }
    }

    let scope = SurveyScope {
        kind: kind_value,
        choices: &choices,
        section_ids: &section_ids,
        order: &order,
        repeat_of: &repeat_of,
    };
    let mut used_lists = BTreeSet::new();
    for (i, q) in flat.iter().enumerate() {
        check_question(&mut ctx, &scope, q, i);
        if let Some(t) = &q.qtype {
            used_lists.extend(t.val.1.clone());
        }
    }
    for (name, pos) in &list_pos {
        if !used_lists.contains(name) {
            ctx.report(
                *pos,
                format!("choice list \"{name}\" is not used by any question"),
            );
        }
    }

    let questions: Vec<Question> = raw.into_iter().map(finish_question).collect();

    let id = id.map(|x| x.val).unwrap_or_default();
    ctx.finish(|| {
        (
            Survey {
                id,
                version: version.unwrap_or(1),
                kind: kind_value.unwrap_or(SurveyKind::Feedback),
                respondent: respondent.unwrap_or(Respondent::Public),
                framework: framework.map(|f| f.val),
                languages: langs,
                title,
                description,
                sections,
                choices,
                questions,
            },
            lines,
        )
    })
}

/// A question as read, as the model keeps it.
fn finish_question(q: RawQuestion) -> Question {
    let (qtype, list) = q.qtype.map(|t| t.val).unwrap_or((QuestionType::Text, None));
    Question {
        name: q.name.map(|n| n.val).unwrap_or_default(),
        qtype,
        list,
        label: q.label,
        hint: q.hint,
        required: q.required.is_some_and(|r| r.val),
        relevant: q.relevant.map(|r| r.val),
        constraint: q.constraint.map(|c| c.val),
        constraint_message: q.constraint_message,
        indicator: q.indicator.map(|i| i.val),
        section: q.section.map(|s| s.val),
        calculation: q.calculation.map(|c| c.val),
        choice_filter: q.choice_filter.map(|c| c.val),
        range: q.range.map(|r| r.val),
        questions: q.children.into_iter().map(finish_question).collect(),
    }
}

pub(super) fn read_sections(
    ctx: &mut Ctx,
    top: Tbl,
    what: &str,
    langs: &[String],
) -> (Vec<Section>, Seen) {
    let mut sections = Vec::new();
    let mut ids = Seen::new();
    let Some(node) = top.get("sections") else {
        return (sections, ids);
    };
    for (i, s) in ctx.tables(node, "sections", what).into_iter().enumerate() {
        let numbered = format!("section {} of {what}", i + 1);
        let id = ctx.string(s, "id", &numbered, true);
        let swhat = match &id {
            Some(id) => format!("section \"{}\"", id.val),
            None => numbered,
        };
        ctx.check_keys(s, SECTION_KEYS, &swhat);
        if let Some(id) = &id {
            check_unique(ctx, &mut ids, id, "section id", "");
        }
        let title = ctx.text(s, "title", &swhat, true, langs);
        sections.push(Section {
            id: id.map(|x| x.val).unwrap_or_default(),
            title,
        });
    }
    (sections, ids)
}

/// The choice lists, and where each is first defined.
pub(super) fn read_choices(
    ctx: &mut Ctx,
    top: Tbl,
    what: &str,
    langs: &[String],
) -> (BTreeMap<String, Vec<Choice>>, Seen) {
    let mut choices = BTreeMap::new();
    let mut list_pos = Seen::new();
    let Some(node) = top.get("choices") else {
        return (choices, list_pos);
    };
    let Val::Table(lists) = &node.val else {
        let expected = "a table of choice lists (written [[choices.LIST]])";
        ctx.wrong(node, "choices", what, expected);
        return (choices, list_pos);
    };
    for (name, list) in lists {
        let lwhat = format!("choice list \"{name}\"");
        list_pos.insert(name.clone(), list.pos);
        let options = ctx.tables(list, &format!("choices.{name}"), what);
        if options.is_empty() && matches!(list.val, Val::Array(_)) {
            ctx.report(list.pos, format!("{lwhat} has no options"));
        }
        let mut values = Seen::new();
        let parsed = options
            .into_iter()
            .enumerate()
            .map(|(i, opt)| read_choice(ctx, opt, i, &lwhat, &mut values, langs))
            .collect();
        choices.insert(name.clone(), parsed);
    }
    (choices, list_pos)
}

pub(super) fn read_choice(
    ctx: &mut Ctx,
    opt: Tbl,
    index: usize,
    lwhat: &str,
    values: &mut Seen,
    langs: &[String],
) -> Choice {
    let numbered = format!("option {} of {lwhat}", index + 1);
    let value = ctx.string(opt, "value", &numbered, true);
    let owhat = match &value {
        Some(v) => format!("option \"{}\" of {lwhat}", v.val),
        None => numbered,
    };
    ctx.check_keys(opt, CHOICE_KEYS, &owhat);
    let columns = read_choice_columns(ctx, opt, &owhat);
    if let Some(v) = &value {
        if valid_choice_value(&v.val) {
            // Options may share a value when their columns differ (two districts named
            // alike in two regions, told apart by a choice filter).
            let keyed = At {
                val: v.val.clone(),
                pos: v.pos,
            };
            let within = if columns.is_empty() {
                format!(" in {lwhat}")
            } else {
                format!(" in {lwhat} with the same columns")
            };
            let seen_key = if columns.is_empty() {
                keyed.val.clone()
            } else {
                format!("{}\u{0}{:?}", keyed.val, columns)
            };
            if let Some(first) = values.get(&seen_key) {
                let at = first
                    .map(|l| format!(" (first at line {l})"))
                    .unwrap_or_default();
                ctx.report(
                    v.pos,
                    format!("value \"{}\" is used twice{within}{at}", v.val),
                );
            } else {
                let line = ctx.line(v.pos);
                values.insert(seen_key, line);
            }
        } else {
            ctx.report(
                v.pos,
                format!(
                    "value \"{}\" of {lwhat} may only contain letters, digits, '_', '.' and '-'",
                    v.val
                ),
            );
        }
    }
    let label = ctx.text(opt, "label", &owhat, true, langs);
    // An out-of-range score is reported but kept, so that it does not also count as
    // "no score".
    let score = ctx.number(opt, "score", &owhat).map(|s| {
        if !(0.0..=100.0).contains(&s.val) {
            ctx.report(
                s.pos,
                format!(
                    "score of {owhat} must be within 0–100, not {}",
                    format_number(s.val)
                ),
            );
        }
        s.val
    });
    Choice {
        value: value.map(|v| v.val).unwrap_or_default(),
        label,
        score,
        columns,
    }
}

/// `columns = { region = "north" }`: text values under names a choice filter can use.
fn read_choice_columns(ctx: &mut Ctx, opt: Tbl, owhat: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(node) = opt.get("columns") else {
        return out;
    };
    let Val::Table(entries) = &node.val else {
        ctx.wrong(
            node,
            "columns",
            owhat,
            "a table of texts (write columns = { region = \"north\" })",
        );
        return out;
    };
    for (name, item) in entries {
        let reserved = matches!(
            name.as_str(),
            "name" | "label" | "list_name" | "value" | "score"
        );
        if !valid_question_name(name) || reserved {
            ctx.report(
                item.pos,
                format!(
                    "column \"{name}\" of {owhat} is not a valid column name (letters, digits \
                     and '_', starting with a letter or '_'; not name, label, list_name, value \
                     or score)"
                ),
            );
            continue;
        }
        match &item.val {
            Val::Str(s) => {
                out.insert(name.clone(), s.clone());
            }
            other => ctx.report(
                item.pos,
                format!(
                    "columns.{name} of {owhat} must be text in quotes, not {}",
                    describe(other)
                ),
            ),
        }
    }
    out
}

/// `range = { start = 0, end = 10, step = 1 }`.
fn read_range(ctx: &mut Ctx, q: Tbl, what: &str) -> Option<At<RangeSpec>> {
    let node = q.get("range")?;
    let Val::Table(entries) = &node.val else {
        ctx.wrong(
            node,
            "range",
            what,
            "a table (write range = { start = 0, end = 10, step = 1 })",
        );
        return None;
    };
    let t = Tbl {
        pos: node.pos,
        entries,
    };
    let rwhat = format!("the range of {what}");
    ctx.check_keys(t, RANGE_KEYS, &rwhat);
    let start = ctx.number(t, "start", &rwhat);
    let end = ctx.number(t, "end", &rwhat);
    let step = ctx.number(t, "step", &rwhat);
    // A bad range is reported and kept, so that it does not also count as missing.
    let (Some(start), Some(end), Some(step)) = (start, end, step) else {
        ctx.report(
            node.pos,
            format!("{rwhat} needs start, end and step (numbers)"),
        );
        return Some(At {
            val: RangeSpec::default(),
            pos: node.pos,
        });
    };
    if !(step.val > 0.0 && step.val.is_finite()) {
        ctx.report(
            step.pos,
            format!(
                "step of {rwhat} must be above 0, not {}",
                format_number(step.val)
            ),
        );
    }
    if !start.val.is_finite() || !end.val.is_finite() {
        ctx.report(node.pos, format!("{rwhat} must have finite bounds"));
    }
    Some(At {
        val: RangeSpec {
            start: start.val,
            end: end.val,
            step: step.val,
        },
        pos: node.pos,
    })
}

pub(super) fn read_question(ctx: &mut Ctx, q: Tbl, index: usize, langs: &[String]) -> RawQuestion {
    let numbered = format!("question {}", index + 1);
    let name = ctx.string(q, "name", &numbered, true);
    let what = match &name {
        Some(n) => format!("question \"{}\"", n.val),
        None => numbered,
    };
    ctx.check_keys(q, QUESTION_KEYS, &what);
    if let Some(n) = &name {
        if !valid_question_name(&n.val) {
            ctx.report(
                n.pos,
                format!(
                    "question name \"{}\" is not valid: it must start with a letter or '_' and \
                     contain only letters, digits and '_'",
                    n.val
                ),
            );
        }
    }
    let qtype = ctx
        .string(q, "type", &what, true)
        .and_then(|t| match parse_type(&t.val) {
            Ok(parsed) => Some(At {
                val: parsed,
                pos: t.pos,
            }),
            Err(message) => {
                ctx.report(t.pos, format!("{what} {message}"));
                None
            }
        });
    let label = ctx.text(q, "label", &what, true, langs);
    let hint = ctx.text(q, "hint", &what, false, langs);
    let required = ctx.boolean(q, "required", &what);
    let relevant = ctx.string(q, "relevant", &what, false);
    let constraint = ctx.string(q, "constraint", &what, false);
    let constraint_message = ctx.text(q, "constraint_message", &what, false, langs);
    let indicator = ctx.string(q, "indicator", &what, false);
    let section = ctx.string(q, "section", &what, false);
    let calculation = ctx.string(q, "calculation", &what, false);
    let choice_filter = ctx.string(q, "choice_filter", &what, false);
    let range = read_range(ctx, q, &what);
    let mut children = Vec::new();
    if let Some(node) = q.get("questions") {
        for (i, inner) in ctx.tables(node, "questions", &what).into_iter().enumerate() {
            let mut child = read_question(ctx, inner, i, langs);
            child.repeat = Some(name.as_ref().map(|n| n.val.clone()).unwrap_or_default());
            child.what = format!("{} (inside {what})", child.what);
            children.push(child);
        }
    }
    RawQuestion {
        pos: q.pos,
        name,
        what,
        qtype,
        label,
        hint,
        required,
        relevant,
        constraint,
        constraint_message,
        indicator,
        section,
        calculation,
        choice_filter,
        range,
        children,
        repeat: None,
    }
}

/// What the checks of one question need to know about its survey.
pub(super) struct SurveyScope<'a> {
    pub(super) kind: Option<SurveyKind>,
    pub(super) choices: &'a BTreeMap<String, Vec<Choice>>,
    pub(super) section_ids: &'a Seen,
    /// Question name -> index of its first occurrence (every question in order, each
    /// repeat followed by its inner questions).
    pub(super) order: &'a BTreeMap<String, usize>,
    /// Inner question name -> its repeat.
    pub(super) repeat_of: &'a BTreeMap<String, String>,
}

/// The checks of one question that need the rest of the survey.
pub(super) fn check_question(ctx: &mut Ctx, scope: &SurveyScope, q: &RawQuestion, index: usize) {
    let qwhat = &q.what;
    let (qtype, list) = match &q.qtype {
        Some(t) => (Some(t.val.0), t.val.1.as_deref()),
        None => (None, None),
    };

    if let Some(list) = list {
        if !scope.choices.contains_key(list) {
            let defined = if scope.choices.is_empty() {
                "this survey defines no choice lists".to_owned()
            } else {
                format!("defined lists: {}", comma_list(scope.choices.keys()))
            };
            ctx.report(
                q.qtype.as_ref().and_then(|t| t.pos),
                format!("{qwhat} uses choice list \"{list}\", which is not defined ({defined})"),
            );
        }
    }

    let is_note = qtype == Some(QuestionType::Note);
    if let Some(r) = q.required.as_ref().filter(|r| r.val && is_note) {
        ctx.report(
            r.pos,
            format!("{qwhat} is a note, so it cannot be required"),
        );
    }
    check_type_keys(ctx, scope, q, qtype, list, index);

    if let Some(ind) = &q.indicator {
        let problem = if is_note {
            Some("is a note, so it cannot be scored (remove \"indicator\")".to_owned())
        } else if scope.kind == Some(SurveyKind::Feedback) {
            Some("has an indicator, but only questions of a performance survey are scored".into())
        } else if let Some(t) = qtype.filter(|&t| t != QuestionType::SelectOne) {
            Some(format!(
                "has an indicator, but only select_one questions can be scored (its type is {})",
                t.as_str()
            ))
        } else if ind.val.trim().is_empty() {
            Some("has an empty indicator".to_owned())
        } else {
            let options = list.and_then(|l| scope.choices.get(l));
            options
                .filter(|o| !o.is_empty() && o.iter().all(|o| o.score.is_none()))
                .map(|_| {
                    format!(
                        "scores indicator \"{}\", but no option of its choice list \"{}\" has \
                         a score",
                        ind.val,
                        list.unwrap_or_default()
                    )
                })
        };
        if let Some(problem) = problem {
            ctx.report(ind.pos, format!("{qwhat} {problem}"));
        }
    }

    if let Some(section) = &q.section {
        if !scope.section_ids.contains_key(&section.val) {
            let declared = if scope.section_ids.is_empty() {
                "this survey declares no [[sections]]".to_owned()
            } else {
                format!(
                    "declared sections: {}",
                    comma_list(scope.section_ids.keys())
                )
            };
            ctx.report(
                section.pos,
                format!(
                    "{qwhat} is in section \"{}\", which is not declared ({declared})",
                    section.val
                ),
            );
        }
    }

    for (key, src) in [("relevant", &q.relevant), ("constraint", &q.constraint)] {
        if let Some(src) = src {
            check_expression(ctx, key, src, q, index, scope);
        }
    }
}

/// The keys that belong to one type only: `calculation` (calculate), `range` (range),
/// `choice_filter` (selects).
fn check_type_keys(
    ctx: &mut Ctx,
    scope: &SurveyScope,
    q: &RawQuestion,
    qtype: Option<QuestionType>,
    list: Option<&str>,
    index: usize,
) {
    let qwhat = &q.what;
    let is = |t: QuestionType| qtype == Some(t);
    let type_pos = q.qtype.as_ref().and_then(|t| t.pos);
    if is(QuestionType::Repeat) && q.repeat.is_some() {
        ctx.report(
            type_pos,
            format!("{qwhat} is a repeat inside a repeat, which is not supported"),
        );
    } else if is(QuestionType::Repeat) && q.children.is_empty() {
        ctx.report(
            type_pos,
            format!("{qwhat} is a repeat, so it needs questions (write [[questions.questions]])"),
        );
    } else if !is(QuestionType::Repeat) && !q.children.is_empty() {
        ctx.report(
            type_pos,
            format!("{qwhat} has questions, but only a repeat question takes them"),
        );
    }
    if is(QuestionType::Repeat) {
        if let Some(c) = &q.constraint {
            ctx.report(
                c.pos,
                format!("{qwhat} is a repeat, so it takes no constraint"),
            );
        }
    }
    if q.repeat.is_some() {
        if let Some(i) = &q.indicator {
            ctx.report(
                i.pos,
                format!("{qwhat} is inside a repeat, so it cannot be scored"),
            );
        }
        if let Some(s) = &q.section {
            ctx.report(
                s.pos,
                format!("{qwhat} is inside a repeat, which gives its section (remove \"section\")"),
            );
        }
    }
    match &q.calculation {
        Some(c) if !is(QuestionType::Calculate) => ctx.report(
            c.pos,
            format!("{qwhat} has a calculation, but only a calculate question takes one"),
        ),
        Some(c) => check_expression(ctx, "calculation", c, q, index, scope),
        None if is(QuestionType::Calculate) => ctx.report(
            type_pos,
            format!("{qwhat} is a calculate question, so it needs \"calculation\""),
        ),
        None => {}
    }
    if is(QuestionType::Calculate) {
        if let Some(r) = q.required.as_ref().filter(|r| r.val) {
            ctx.report(
                r.pos,
                format!("{qwhat} is a calculate question, so it cannot be required"),
            );
        }
        if let Some(c) = &q.constraint {
            ctx.report(
                c.pos,
                format!("{qwhat} is a calculate question, so it takes no constraint"),
            );
        }
    }
    match &q.range {
        Some(r) if !is(QuestionType::Range) => ctx.report(
            r.pos,
            format!("{qwhat} has a range, but only a range question takes one"),
        ),
        None if is(QuestionType::Range) => ctx.report(
            type_pos,
            format!(
                "{qwhat} is a range question, so it needs \"range\" (write range = {{ start = \
                 1, end = 10, step = 1 }})"
            ),
        ),
        _ => {}
    }
    let Some(filter) = &q.choice_filter else {
        return;
    };
    if list.is_none() {
        ctx.report(
            filter.pos,
            format!("{qwhat} has a choice_filter, but only select questions take one"),
        );
        return;
    }
    check_expression(ctx, "choice_filter", filter, q, index, scope);
    let Ok(parsed) = expr::parse_choice_filter(&filter.val) else {
        return;
    };
    let options = list.and_then(|l| scope.choices.get(l));
    for field in parsed.fields() {
        let known = field == "name"
            || options.is_some_and(|o| o.iter().any(|c| c.columns.contains_key(&field)));
        if !known {
            ctx.report(
                filter.pos,
                format!(
                    "choice_filter of {qwhat} tests the column \"{field}\", which no option of \
                     its choice list \"{}\" has (give the options columns = {{ {field} = \"…\" }})",
                    list.unwrap_or_default()
                ),
            );
        }
    }
}

/// `relevant` may refer only to earlier questions; `constraint` also to `.` (the answer).
/// A question inside a repeat may also refer to the earlier questions of its own repeat;
/// nothing refers to the questions of another repeat.
pub(super) fn check_expression(
    ctx: &mut Ctx,
    key: &str,
    src: &At<String>,
    q: &RawQuestion,
    index: usize,
    scope: &SurveyScope,
) {
    let qwhat = q.what.as_str();
    let qname = q.name.as_ref().map(|n| n.val.as_str()).unwrap_or("");
    let order = scope.order;
    let parsed = if key == "choice_filter" {
        expr::parse_choice_filter(&src.val)
    } else {
        expr::parse(&src.val)
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            ctx.report(src.pos, format!("{key} of {qwhat} does not parse: {e}"));
            return;
        }
    };
    if key != "constraint" && parsed.uses_dot() {
        ctx.report(
            src.pos,
            format!(
                "{key} of {qwhat} uses \".\", which only a constraint may use (refer to \
                 questions as ${{name}})"
            ),
        );
    }
    for name in parsed.references() {
        let problem = match order.get(&name) {
            _ if name == qname && key == "constraint" => {
                "which is the question itself; write \".\" for its answer".to_owned()
            }
            _ if name == qname => "which is the question itself".to_owned(),
            None => "which is not a question in this survey".to_owned(),
            Some(&at) if at > index => "which comes after it".to_owned(),
            Some(_)
                if scope
                    .repeat_of
                    .get(&name)
                    .is_some_and(|r| Some(r) != q.repeat.as_ref()) =>
            {
                format!(
                    "which is inside repeat \"{}\" (only the questions of the same repeat \
                     can refer to it)",
                    scope.repeat_of[&name]
                )
            }
            Some(_) => continue,
        };
        ctx.report(
            src.pos,
            format!("{key} of {qwhat} refers to ${{{name}}}, {problem}"),
        );
    }
}
