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

    // Checks that need the whole survey
    let mut order: BTreeMap<String, usize> = BTreeMap::new();
    for (i, q) in raw.iter().enumerate() {
        let Some(name) = &q.name else { continue };
        if let Some(&first) = order.get(&name.val) {
            let at = ctx
                .line(raw[first].name.as_ref().and_then(|n| n.pos))
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
    };
    let mut used_lists = BTreeSet::new();
    for (i, q) in raw.iter().enumerate() {
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

    let questions: Vec<Question> = raw
        .into_iter()
        .map(|q| {
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
            }
        })
        .collect();

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
    if let Some(v) = &value {
        if valid_choice_value(&v.val) {
            check_unique(ctx, values, v, "value", &format!(" in {lwhat}"));
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
    }
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
    }
}

/// What the checks of one question need to know about its survey.
pub(super) struct SurveyScope<'a> {
    pub(super) kind: Option<SurveyKind>,
    pub(super) choices: &'a BTreeMap<String, Vec<Choice>>,
    pub(super) section_ids: &'a Seen,
    /// Question name -> index of its first occurrence.
    pub(super) order: &'a BTreeMap<String, usize>,
}

/// The checks of one question that need the rest of the survey.
pub(super) fn check_question(ctx: &mut Ctx, scope: &SurveyScope, q: &RawQuestion, index: usize) {
    let qwhat = &q.what;
    let qname = q.name.as_ref().map(|n| n.val.as_str()).unwrap_or("");
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
            check_expression(ctx, key, src, qwhat, qname, index, scope.order);
        }
    }
}

/// `relevant` may refer only to earlier questions; `constraint` also to `.` (the answer).
pub(super) fn check_expression(
    ctx: &mut Ctx,
    key: &str,
    src: &At<String>,
    qwhat: &str,
    qname: &str,
    index: usize,
    order: &BTreeMap<String, usize>,
) {
    let parsed = match expr::parse(&src.val) {
        Ok(parsed) => parsed,
        Err(e) => {
            ctx.report(src.pos, format!("{key} of {qwhat} does not parse: {e}"));
            return;
        }
    };
    if key == "relevant" && parsed.uses_dot() {
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
            Some(_) => continue,
        };
        ctx.report(
            src.pos,
            format!("{key} of {qwhat} refers to ${{{name}}}, {problem}"),
        );
    }
}
