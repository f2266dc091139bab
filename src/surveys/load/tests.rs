use super::*;

/// A framework with two functions and three indicators.
const FRAMEWORK: &str = r#"id = "fw"
languages = ["en", "fr"]
title.en = "Framework"
title.fr = "Cadre"

[[functions]]
id = "1"
title.en = "One"
title.fr = "Un"

  [[functions.indicators]]
  id = "1.1"
  title.en = "One one"
  title.fr = "Un un"

  [[functions.indicators]]
  id = "1.2"
  title.en = "One two"
  title.fr = "Un deux"

[[functions]]
id = "2"
title.en = "Two"
title.fr = "Deux"

  [[functions.indicators]]
  id = "2.1"
  title.en = "Two one"
  title.fr = "Deux un"
"#;

/// A valid performance survey covering `FRAMEWORK`. Line numbers matter: tests
/// replace lines of it.
const SURVEY: &str = r#"id = "perf"
version = 1
kind = "performance"
respondent = "partner"
framework = "fw"
languages = ["en", "fr"]
title.en = "Survey"
title.fr = "Enquête"

[[sections]]
id = "s1"
title.en = "Section"
title.fr = "Section"

[[choices.agreement]]
value = "agree"
score = 100
label.en = "Agree"
label.fr = "D'accord"

[[choices.agreement]]
value = "disagree"
score = 0
label.en = "Disagree"
label.fr = "Pas d'accord"

[[choices.agreement]]
value = "dont_know"
label.en = "Don't know"
label.fr = "Ne sais pas"

[[choices.yes_no]]
value = "yes"
label.en = "Yes"
label.fr = "Oui"

[[choices.yes_no]]
value = "no"
label.en = "No"
label.fr = "Non"

[[questions]]
name = "q1"
type = "select_one agreement"
section = "s1"
indicator = "1.1"
required = true
label.en = "Q1"
label.fr = "Q1"

[[questions]]
name = "q2"
type = "select_one   agreement"
indicator = "1.2"
label.en = "Q2"
label.fr = "Q2"
hint.en = "Hint"
hint.fr = "Aide"

[[questions]]
name = "q3"
type = "select_one agreement"
indicator = "2.1"
relevant = "${q1} = 'agree' and ${q2} != ''"
label.en = "Q3"
label.fr = "Q3"

[[questions]]
name = "count"
type = "integer"
constraint = ". >= 0 and . <= ${q1}"
constraint_message.en = "Too many"
constraint_message.fr = "Trop"
label.en = "How many?"
label.fr = "Combien ?"

[[questions]]
name = "more"
type = "select_multiple yes_no"
label.en = "More?"
label.fr = "Plus ?"

[[questions]]
name = "intro"
type = "note"
label.en = "Thanks"
label.fr = "Merci"
"#;

const FEEDBACK: &str = r#"id = "fb"
version = 3
kind = "feedback"
respondent = "public"
languages = ["en"]
title.en = "Feedback"

[[choices.category]]
value = "complaint"
label.en = "Complaint"

[[questions]]
name = "category"
type = "select_one category"
required = true
label.en = "What is it about?"

[[questions]]
name = "message"
type = "text"
label.en = "Your message"
"#;

fn fw_src(text: &str) -> Source {
    Source::new("surveys/frameworks/fw.toml", text)
}

fn survey_src(text: &str) -> Source {
    Source::new("surveys/perf.toml", text)
}

/// `SURVEY` with 1-based line `line` replaced by `with` (which may be several lines,
/// or empty to delete it).
fn edit(text: &str, line: usize, with: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(line >= 1 && line <= lines.len(), "no line {line}");
    let replacement: Vec<&str> = with.lines().collect();
    lines.splice(line - 1..line, replacement);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Loads `survey` (as surveys/perf.toml) with the test framework and returns the
/// problems.
fn problems_of(survey: &str) -> Vec<Problem> {
    load_sources(&[fw_src(FRAMEWORK)], &[survey_src(survey)])
        .err()
        .unwrap_or_default()
}

#[track_caller]
fn expect(problems: &[Problem], line: Option<usize>, phrase: &str) {
    let found = problems
        .iter()
        .any(|p| p.line == line && p.message.contains(phrase));
    let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        found,
        "expected a problem at line {line:?} containing {phrase:?}; got:\n{}",
        listed.join("\n")
    );
}

#[track_caller]
fn expect_only(problems: &[Problem], line: Option<usize>, phrase: &str) {
    expect(problems, line, phrase);
    let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems.len(),
        1,
        "expected one problem, got:\n{}",
        listed.join("\n")
    );
}

// -- valid files ----------------------------------------------------------------

#[test]
fn valid_minimal_framework_and_surveys_load() {
    let catalog = load_sources(
        &[fw_src(FRAMEWORK)],
        &[survey_src(SURVEY), Source::new("surveys/fb.toml", FEEDBACK)],
    )
    .unwrap_or_else(|p| panic!("{p:#?}"));
    let fw = catalog.framework("fw").unwrap();
    assert_eq!(fw.thresholds, Thresholds::default());
    assert_eq!(fw.min_respondents, 3);
    assert_eq!(fw.functions.len(), 2);
    assert_eq!(
        fw.indicator_ids().collect::<Vec<_>>(),
        ["1.1", "1.2", "2.1"]
    );
    assert_eq!(fw.title["fr"], "Cadre");

    let s = catalog.survey("perf").unwrap();
    assert_eq!(s.version, 1);
    assert_eq!(s.kind, SurveyKind::Performance);
    assert_eq!(s.respondent, Respondent::Partner);
    assert_eq!(s.framework.as_deref(), Some("fw"));
    assert_eq!(s.languages, ["en", "fr"]);
    assert_eq!(s.sections.len(), 1);
    assert_eq!(s.choices["agreement"].len(), 3);
    assert_eq!(s.choices["agreement"][0].score, Some(100.0));
    assert_eq!(s.choices["agreement"][2].score, None);
    assert_eq!(s.questions.len(), 6);
    let q1 = s.question("q1").unwrap();
    assert_eq!(q1.qtype, QuestionType::SelectOne);
    assert_eq!(q1.list.as_deref(), Some("agreement"));
    assert!(q1.required);
    assert_eq!(q1.section.as_deref(), Some("s1"));
    assert_eq!(q1.indicator.as_deref(), Some("1.1"));
    let q2 = s.question("q2").unwrap();
    assert_eq!(q2.list.as_deref(), Some("agreement"));
    assert!(!q2.required);
    assert_eq!(q2.hint["fr"], "Aide");
    assert_eq!(
        s.question("count").unwrap().constraint.as_deref(),
        Some(". >= 0 and . <= ${q1}")
    );
    assert_eq!(
        s.question("more").unwrap().qtype,
        QuestionType::SelectMultiple
    );
    assert_eq!(s.question("intro").unwrap().qtype, QuestionType::Note);

    let fb = catalog.survey("fb").unwrap();
    assert_eq!(fb.version, 3);
    assert_eq!(fb.kind, SurveyKind::Feedback);
    assert_eq!(fb.framework, None);
}

#[test]
fn framework_settings_are_read() {
    let text = FRAMEWORK.replacen(
        "title.fr = \"Cadre\"\n",
        "title.fr = \"Cadre\"\nmin_respondents = 5\n[thresholds]\ngood = 80\nsatisfactory = 60.5\n",
        1,
    );
    let fw = parse_framework(&fw_src(&text)).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(fw.min_respondents, 5);
    assert_eq!(
        fw.thresholds,
        Thresholds {
            good: 80.0,
            satisfactory: 60.5,
            unsatisfactory: 25.0
        }
    );
}

#[test]
fn problem_display() {
    let p = Problem::new("surveys/a.toml", Some(3), "bad");
    assert_eq!(p.to_string(), "surveys/a.toml:3: bad");
    let p = Problem::new("surveys/a.toml", None, "bad");
    assert_eq!(p.to_string(), "surveys/a.toml: bad");
}

// -- TOML, keys and types -------------------------------------------------------

#[test]
fn toml_syntax_error_has_line() {
    let text = edit(SURVEY, 48, "label.en = \"Q1");
    let p = problems_of(&text);
    expect_only(&p, Some(48), "is not valid TOML");
}

#[test]
fn duplicate_toml_key_is_reported() {
    let text = edit(SURVEY, 2, "version = 1\nversion = 2");
    expect_only(&problems_of(&text), Some(3), "duplicate key");
}

#[test]
fn unknown_keys_are_reported_with_suggestion() {
    let text = edit(SURVEY, 64, "relevent = \"${q1} = 'agree'\"");
    let p = problems_of(&text);
    expect_only(
        &p,
        Some(64),
        "question \"q3\" has an unknown key \"relevent\"",
    );
    expect(&p, Some(64), "did you mean \"relevant\"?");
}

#[test]
fn unknown_top_level_and_nested_keys_are_all_reported() {
    let text = edit(SURVEY, 8, "title.fr = \"Enquête\"\ncolour = \"red\"");
    let text = edit(&text, 18, "scor = 100");
    let p = problems_of(&text);
    expect(&p, Some(9), "survey \"perf\" has an unknown key \"colour\"");
    expect(
        &p,
        Some(18),
        "has an unknown key \"scor\" (did you mean \"score\"?)",
    );
}

#[test]
fn wrong_types_are_reported() {
    let text = edit(SURVEY, 2, "version = \"1\"");
    let text = edit(&text, 47, "required = \"yes\"");
    let p = problems_of(&text);
    expect(
        &p,
        Some(2),
        "version of survey \"perf\" must be a whole number",
    );
    expect(
        &p,
        Some(47),
        "required of question \"q1\" must be true or false",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn missing_keys_are_reported() {
    let text = edit(SURVEY, 4, "");
    let text = edit(&text, 42, "");
    let p = problems_of(&text);
    expect(&p, None, "survey \"perf\" is missing \"respondent\"");
    expect(&p, Some(41), "question 1 is missing \"name\"");
}

// -- id and version -----------------------------------------------------------

#[test]
fn id_must_match_file_name() {
    let p = load_sources(
        &[fw_src(FRAMEWORK)],
        &[Source::new("surveys/other.toml", SURVEY)],
    )
    .unwrap_err();
    expect_only(&p, Some(1), "does not match the file name \"other.toml\"");
}

#[test]
fn id_must_be_lowercase_letters_digits_dashes() {
    let text = edit(SURVEY, 1, "id = \"Perf_1\"");
    let src = Source::new("surveys/Perf_1.toml", text);
    let p = load_sources(&[fw_src(FRAMEWORK)], &[src]).unwrap_err();
    expect_only(
        &p,
        Some(1),
        "may only contain lowercase letters, digits and '-'",
    );
}

#[test]
fn version_must_be_at_least_one() {
    let text = edit(SURVEY, 2, "version = 0");
    expect_only(
        &problems_of(&text),
        Some(2),
        "version of survey \"perf\" must be 1 or more",
    );
}

#[test]
fn kind_and_respondent_must_be_known() {
    let text = edit(SURVEY, 3, "kind = \"perf\"");
    let text = edit(&text, 4, "respondent = \"donor\"");
    let p = problems_of(&text);
    expect(
        &p,
        Some(3),
        "kind of survey \"perf\" must be \"performance\" or \"feedback\"",
    );
    expect(
        &p,
        Some(4),
        "respondent of survey \"perf\" must be \"partner\"",
    );
}

// -- framework ----------------------------------------------------------------

#[test]
fn performance_survey_needs_framework() {
    let text = edit(SURVEY, 5, "");
    expect_only(
        &problems_of(&text),
        Some(3),
        "is a performance survey, so it needs",
    );
}

#[test]
fn feedback_survey_has_no_framework() {
    let text = FEEDBACK.replacen(
        "kind = \"feedback\"\n",
        "kind = \"feedback\"\nframework = \"fw\"\n",
        1,
    );
    let p = load_sources(
        &[fw_src(FRAMEWORK)],
        &[Source::new("surveys/fb.toml", text)],
    )
    .unwrap_err();
    expect_only(
        &p,
        Some(4),
        "is a feedback survey, so it must not name a framework",
    );
}

#[test]
fn framework_must_exist() {
    let text = edit(SURVEY, 5, "framework = \"ccpm\"");
    expect_only(
        &problems_of(&text),
        Some(5),
        "framework \"ccpm\" is not defined (defined frameworks: fw)",
    );
}

// -- choice lists -------------------------------------------------------------

#[test]
fn select_must_name_a_defined_list() {
    let text = edit(SURVEY, 44, "type = \"select_one agrement\"");
    expect(
        &problems_of(&text),
        Some(44),
        "question \"q1\" uses choice list \"agrement\", which is not defined (defined lists: agreement, yes_no)",
    );
}

#[test]
fn every_list_must_be_used() {
    let text = edit(SURVEY, 79, "type = \"text\"");
    expect_only(
        &problems_of(&text),
        Some(32),
        "choice list \"yes_no\" is not used by any question",
    );
}

#[test]
fn choice_values_unique_and_valid() {
    let text = edit(SURVEY, 22, "value = \"agree\"");
    let text = edit(&text, 33, "value = \"oui si\"");
    let p = problems_of(&text);
    expect(
        &p,
        Some(22),
        "value \"agree\" is used twice in choice list \"agreement\" (first at line 16)",
    );
    expect(
        &p,
        Some(33),
        "value \"oui si\" of choice list \"yes_no\" may only contain",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn scores_within_0_to_100() {
    let text = edit(SURVEY, 17, "score = 101");
    let text = edit(&text, 23, "score = -1.5");
    let p = problems_of(&text);
    expect(
        &p,
        Some(17),
        "score of option \"agree\" of choice list \"agreement\" must be within 0–100, not 101",
    );
    expect(&p, Some(23), "must be within 0–100, not -1.5");
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn empty_choice_list_is_reported() {
    let text = SURVEY.replacen("[[questions]]", "[choices]\nempty = []\n\n[[questions]]", 1);
    expect(
        &problems_of(&text),
        Some(43),
        "choice list \"empty\" has no options",
    );
}

// -- questions ----------------------------------------------------------------

#[test]
fn question_names_unique_and_valid() {
    let text = edit(SURVEY, 52, "name = \"q1\"");
    let text = edit(&text, 61, "name = \"3rd-question\"");
    let p = problems_of(&text);
    expect(
        &p,
        Some(52),
        "question name \"q1\" is used twice (first at line 43)",
    );
    expect(&p, Some(61), "question name \"3rd-question\" is not valid");
}

#[test]
fn unsupported_types_are_named() {
    let text = edit(SURVEY, 70, "type = \"begin_group\"");
    let text = edit(&text, 79, "type = \"select_one\"");
    let p = problems_of(&text);
    expect(
        &p,
        Some(70),
        "question \"count\" has type \"begin_group\", which is not supported",
    );
    expect(
        &p,
        Some(79),
        "has type \"select_one\" without a choice list",
    );
}

#[test]
fn type_words_may_be_separated_by_any_whitespace() {
    assert_eq!(
        parse_type("select_multiple\t yes_no").unwrap(),
        (QuestionType::SelectMultiple, Some("yes_no".into()))
    );
    assert_eq!(parse_type(" date ").unwrap(), (QuestionType::Date, None));
    assert_eq!(
        parse_type(" calculate\t").unwrap(),
        (QuestionType::Calculate, None)
    );
    assert!(parse_type("geotrace").unwrap_err().contains("\"geotrace\""));
    assert!(parse_type("select_one a b").is_err());
}

#[test]
fn indicator_only_on_select_one() {
    let text = edit(
        SURVEY,
        79,
        "type = \"select_multiple yes_no\"\nindicator = \"2.1\"",
    );
    expect_only(
        &problems_of(&text),
        Some(80),
        "question \"more\" has an indicator, but only select_one questions can be scored (its type is select_multiple)",
    );
}

#[test]
fn indicator_only_in_performance_surveys() {
    let text = FEEDBACK.replacen(
        "required = true\n",
        "required = true\nindicator = \"1.1\"\n",
        1,
    );
    let p = load_sources(&[], &[Source::new("surveys/fb.toml", text)]).unwrap_err();
    expect_only(
        &p,
        Some(16),
        "only questions of a performance survey are scored",
    );
}

#[test]
fn indicator_must_exist_in_framework() {
    let text = edit(SURVEY, 54, "indicator = \"9.9\"");
    let p = problems_of(&text);
    expect(
        &p,
        Some(54),
        "question \"q2\" scores indicator \"9.9\", which is not an indicator of framework \"fw\"",
    );
    expect(
        &p,
        None,
        "indicator \"1.2\" of framework \"fw\" has no scored question",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn scored_question_needs_a_scored_option() {
    let text = edit(
        SURVEY,
        79,
        "type = \"select_one yes_no\"\nindicator = \"2.1\"",
    );
    expect_only(
        &problems_of(&text),
        Some(80),
        "scores indicator \"2.1\", but no option of its choice list \"yes_no\" has a score",
    );
}

#[test]
fn every_indicator_must_be_covered() {
    let text = edit(SURVEY, 63, "");
    let p = problems_of(&text);
    expect_only(
        &p,
        None,
        "indicator \"2.1\" of framework \"fw\" has no scored question in this survey",
    );
    assert_eq!(p[0].file, "surveys/perf.toml");
}

#[test]
fn section_must_be_declared() {
    let text = edit(SURVEY, 45, "section = \"s2\"");
    expect_only(
        &problems_of(&text),
        Some(45),
        "question \"q1\" is in section \"s2\", which is not declared (declared sections: s1)",
    );
}

#[test]
fn section_ids_unique() {
    let text = SURVEY.replacen(
        "[[choices.agreement]]",
        "[[sections]]\nid = \"s1\"\ntitle.en = \"Again\"\ntitle.fr = \"Encore\"\n\n[[choices.agreement]]",
        1,
    );
    expect_only(
        &problems_of(&text),
        Some(16),
        "section id \"s1\" is used twice (first at line 11)",
    );
}

// -- expressions --------------------------------------------------------------

#[test]
fn relevant_must_parse() {
    let text = edit(SURVEY, 64, "relevant = \"(${q1} = 'agree'\"");
    let p = problems_of(&text);
    expect_only(
        &p,
        Some(64),
        "relevant of question \"q3\" does not parse: column ",
    );
}

#[test]
fn constraint_must_parse() {
    let text = edit(SURVEY, 71, "constraint = \". >= \"");
    expect_only(
        &problems_of(&text),
        Some(71),
        "constraint of question \"count\" does not parse: column ",
    );
}

#[test]
fn relevant_refers_only_to_earlier_questions() {
    let text = edit(
        SURVEY,
        64,
        "relevant = \"${count} > 0 or ${nope} = 1 or ${q3} = 2\"",
    );
    let p = problems_of(&text);
    expect(
        &p,
        Some(64),
        "relevant of question \"q3\" refers to ${count}, which comes after it",
    );
    expect(
        &p,
        Some(64),
        "refers to ${nope}, which is not a question in this survey",
    );
    expect(
        &p,
        Some(64),
        "refers to ${q3}, which is the question itself",
    );
    assert_eq!(p.len(), 3, "{p:#?}");
}

#[test]
fn relevant_cannot_use_dot() {
    let text = edit(SURVEY, 64, "relevant = \". = 'x'\"");
    expect_only(
        &problems_of(&text),
        Some(64),
        "relevant of question \"q3\" uses \".\"",
    );
}

#[test]
fn constraint_may_use_dot_and_earlier_questions_only() {
    let text = edit(
        SURVEY,
        71,
        "constraint = \". > ${q3} and . < ${more} and . != ${count}\"",
    );
    let p = problems_of(&text);
    expect(
        &p,
        Some(71),
        "constraint of question \"count\" refers to ${more}, which comes after it",
    );
    expect(
        &p,
        Some(71),
        "refers to ${count}, which is the question itself; write \".\"",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn notes_cannot_be_required_or_scored() {
    let text = edit(
        SURVEY,
        85,
        "type = \"note\"\nrequired = true\nindicator = \"1.1\"",
    );
    let p = problems_of(&text);
    expect(
        &p,
        Some(86),
        "question \"intro\" is a note, so it cannot be required",
    );
    expect(
        &p,
        Some(87),
        "question \"intro\" is a note, so it cannot be scored",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

// -- languages ------------------------------------------------------------------

#[test]
fn texts_must_exist_in_every_language() {
    let text = edit(SURVEY, 49, "");
    let text = edit(&text, 35, "label.fr = \"Oui\"\nlabel.de = \"Ja\"");
    let text = edit(&text, 13, "title.fr = \"\"");
    let p = problems_of(&text);
    expect(&p, Some(13), "title of section \"s1\" is empty in \"fr\"");
    expect(&p, Some(36), "label of option \"yes\" of choice list \"yes_no\" has a text in \"de\", which is not one of the languages");
    expect(
        &p,
        Some(49),
        "label of question \"q1\" is missing in \"fr\"",
    );
    assert_eq!(p.len(), 3, "{p:#?}");
}

#[test]
fn text_must_be_a_table_per_language() {
    let text = edit(SURVEY, 48, "label = \"Q1\"");
    let text = edit(&text, 49, "");
    expect_only(
        &problems_of(&text),
        Some(48),
        "label of question \"q1\" must be one text per language",
    );
}

#[test]
fn language_codes_must_be_valid() {
    let text = edit(SURVEY, 6, "languages = [\"en\", \"french\", \"en\"]");
    let p = problems_of(&text);
    expect(
        &p,
        Some(6),
        "language \"french\" in languages of survey \"perf\" is not a language code",
    );
    expect(&p, Some(6), "language \"en\" is listed twice");
}

#[test]
fn framework_texts_must_exist_in_every_language() {
    let text = FRAMEWORK.replacen("  title.fr = \"Un deux\"\n", "", 1);
    let p = parse_framework(&fw_src(&text)).unwrap_err();
    expect_only(
        &p,
        Some(18),
        "title of indicator \"1.2\" is missing in \"fr\"",
    );
}

// -- framework rules ------------------------------------------------------------

#[test]
fn framework_ids_unique() {
    let text = FRAMEWORK.replacen("id = \"2\"", "id = \"1\"", 1);
    let text = text.replacen("id = \"2.1\"", "id = \"1.1\"", 1);
    let p = parse_framework(&fw_src(&text)).unwrap_err();
    expect(
        &p,
        Some(22),
        "function id \"1\" is used twice (first at line 7)",
    );
    expect(
        &p,
        Some(27),
        "indicator id \"1.1\" is used twice (first at line 12)",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn framework_thresholds_ordered_and_in_range() {
    let text = FRAMEWORK.replacen(
        "title.fr = \"Cadre\"\n",
        "title.fr = \"Cadre\"\n[thresholds]\ngood = 40\nsatisfactory = 50\nunsatisfactory = 120\n",
        1,
    );
    let p = parse_framework(&fw_src(&text)).unwrap_err();
    expect(&p, Some(5), "thresholds of framework \"fw\" must satisfy good > satisfactory > unsatisfactory (they are 40, 50, 25)");
    expect(
        &p,
        Some(8),
        "threshold unsatisfactory of framework \"fw\" must be within 0–100, not 120",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn framework_min_respondents_at_least_one() {
    let text = FRAMEWORK.replacen(
        "title.fr = \"Cadre\"\n",
        "title.fr = \"Cadre\"\nmin_respondents = 0\n",
        1,
    );
    let p = parse_framework(&fw_src(&text)).unwrap_err();
    expect_only(
        &p,
        Some(5),
        "min_respondents of framework \"fw\" must be 1 or more, not 0",
    );
}

#[test]
fn framework_functions_need_indicators() {
    let text = FRAMEWORK.replacen("id = \"2\"\n", "id = \"2\"\nindicators = []\n", 1);
    let text = text.replacen(
        "\n  [[functions.indicators]]\n  id = \"2.1\"\n  title.en = \"Two one\"\n  title.fr = \"Deux un\"\n",
        "",
        1,
    );
    let p = parse_framework(&fw_src(&text)).unwrap_err();
    expect_only(&p, Some(23), "function \"2\" has no indicators");
}

#[test]
fn framework_id_must_match_file_and_keys_known() {
    let text = FRAMEWORK.replacen("id = \"fw\"", "id = \"ccpm\"\ndescription.en = \"x\"", 1);
    let p = parse_framework(&fw_src(&text)).unwrap_err();
    expect(
        &p,
        Some(1),
        "framework id \"ccpm\" does not match the file name \"fw.toml\"",
    );
    expect(
        &p,
        Some(2),
        "framework \"ccpm\" has an unknown key \"description\"",
    );
}

// -- across surveys -------------------------------------------------------------

#[test]
fn shared_question_names_must_score_alike() {
    let other = SURVEY
        .replacen("id = \"perf\"", "id = \"perf2\"", 1)
        .replacen("indicator = \"1.2\"", "indicator = \"2.1\"", 1)
        .replacen(
            "indicator = \"2.1\"\nrelevant",
            "indicator = \"1.2\"\nrelevant",
            1,
        )
        .replacen("score = 0", "score = 10", 1);
    let p = load_sources(
        &[fw_src(FRAMEWORK)],
        &[survey_src(SURVEY), Source::new("surveys/perf2.toml", other)],
    )
    .unwrap_err();
    expect(
        &p,
        Some(42),
        "question \"q1\" must score like the question of the same name in surveys/perf.toml (surveys of framework \"fw\" pool their answers): option \"disagree\" scores 10 here but scores 0 there",
    );
    expect(&p, Some(51), "question \"q2\" must score like the question of the same name in surveys/perf.toml (surveys of framework \"fw\" pool their answers): here it scores indicator \"2.1\", there indicator \"1.2\"");
    expect(&p, Some(60), "question \"q3\" must score like");
    assert!(p.iter().all(|x| x.file == "surveys/perf2.toml"), "{p:#?}");
    assert_eq!(p.len(), 3, "{p:#?}");
}

#[test]
fn duplicate_survey_ids_are_reported() {
    let p = load_sources(
        &[fw_src(FRAMEWORK)],
        &[
            survey_src(SURVEY),
            Source::new("elsewhere/perf.toml", SURVEY),
        ],
    )
    .unwrap_err();
    expect_only(
        &p,
        Some(1),
        "survey id \"perf\" is already used by surveys/perf.toml",
    );
    assert_eq!(p[0].file, "elsewhere/perf.toml");
}

#[test]
fn broken_framework_does_not_cascade() {
    let broken = FRAMEWORK.replacen("id = \"1.1\"", "id = 11", 1);
    let p = load_sources(&[fw_src(&broken)], &[survey_src(SURVEY)]).unwrap_err();
    expect_only(
        &p,
        Some(12),
        "id of indicator 1 of function \"1\" must be text in quotes",
    );
    assert_eq!(p[0].file, "surveys/frameworks/fw.toml");
}

#[test]
fn validate_catalog_without_locations_names_the_survey() {
    let mut catalog = load_sources(&[fw_src(FRAMEWORK)], &[survey_src(SURVEY)]).expect("valid");
    catalog.frameworks.clear();
    let p = validate_catalog(&catalog, &Locations::default());
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].file, "survey \"perf\"");
    assert!(p[0].message.contains("framework \"fw\" is not defined"));
}

// -- many problems at once --------------------------------------------------------

#[test]
fn many_problems_are_reported_at_once_sorted() {
    let text = edit(SURVEY, 2, "version = 0");
    let text = edit(&text, 44, "type = \"select_one agrement\"");
    let text = edit(&text, 55, "labl.en = \"Q2\"");
    let text = edit(&text, 64, "relevant = \"${count} = 1\"");
    let text = edit(&text, 87, "label.fr = \"Merci\"\nhint = 3");
    let bad_fb = FEEDBACK.replacen("version = 3", "version = -1", 1);
    let p = load_sources(
        &[fw_src(FRAMEWORK)],
        &[survey_src(&text), Source::new("surveys/fb.toml", bad_fb)],
    )
    .unwrap_err();
    let rendered: Vec<String> = p.iter().map(|x| x.to_string()).collect();
    assert_eq!(
        rendered
            .iter()
            .map(|r| r.split(": ").next().unwrap())
            .collect::<Vec<_>>(),
        [
            "surveys/fb.toml:2",
            "surveys/perf.toml:2",
            "surveys/perf.toml:44",
            "surveys/perf.toml:55",
            "surveys/perf.toml:56",
            "surveys/perf.toml:64",
            "surveys/perf.toml:88",
        ],
        "{rendered:#?}"
    );
    expect(
        &p,
        Some(2),
        "version of survey \"fb\" must be 1 or more, not -1",
    );
    expect(
        &p,
        Some(44),
        "uses choice list \"agrement\", which is not defined",
    );
    expect(
        &p,
        Some(55),
        "unknown key \"labl\" (did you mean \"label\"?)",
    );
    expect(
        &p,
        Some(56),
        "label of question \"q2\" is missing in \"en\"",
    );
    expect(&p, Some(64), "refers to ${count}, which comes after it");
    expect(
        &p,
        Some(88),
        "hint of question \"intro\" must be one text per language",
    );
}

// -- directories ------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "clusterpulse-load-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("frameworks")).unwrap();
        TempDir(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.0.join(name), bytes).unwrap();
    }
    fn shown(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_dir_reads_frameworks_and_surveys() {
    let dir = TempDir::new("ok");
    dir.write("frameworks/fw.toml", FRAMEWORK.as_bytes());
    dir.write("perf.toml", SURVEY.as_bytes());
    dir.write("fb.toml", FEEDBACK.as_bytes());
    dir.write("README.md", b"not a survey");
    std::fs::create_dir_all(dir.0.join("drafts")).unwrap();
    dir.write("drafts/ignored.toml", b"this is not even TOML");
    let catalog = load_dir(&dir.0).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(catalog.frameworks.keys().collect::<Vec<_>>(), ["fw"]);
    assert_eq!(catalog.surveys.keys().collect::<Vec<_>>(), ["fb", "perf"]);
}

#[test]
fn load_dir_missing_or_empty_directory() {
    let missing = std::env::temp_dir().join("clusterpulse-load-test-does-not-exist");
    let p = load_dir(&missing).unwrap_err();
    expect_only(&p, None, "the survey definitions directory does not exist");
    assert_eq!(p[0].file, missing.display().to_string());

    let dir = TempDir::new("empty");
    dir.write("frameworks/fw.toml", FRAMEWORK.as_bytes());
    let p = load_dir(&dir.0).unwrap_err();
    expect_only(&p, None, "contains no survey files");
}

#[test]
fn load_dir_checks_file_names_encoding_and_size() {
    let dir = TempDir::new("bad");
    dir.write("frameworks/fw.toml", FRAMEWORK.as_bytes());
    dir.write("perf.toml", SURVEY.as_bytes());
    dir.write("renamed.toml", FEEDBACK.as_bytes());
    let mut latin1 = FEEDBACK
        .replace("id = \"fb\"", "id = \"latin\"")
        .into_bytes();
    latin1.extend_from_slice(b"# caf\xe9\n");
    dir.write("latin.toml", &latin1);
    let big = vec![b'#'; MAX_FILE_BYTES as usize + 1];
    dir.write("big.toml", &big);
    let p = load_dir(&dir.0).unwrap_err();
    assert_eq!(p.len(), 3, "{p:#?}");
    assert_eq!(p[0].file, dir.shown("big.toml"));
    expect(&p, None, "is too large (1048577 bytes; the limit is 1 MiB)");
    assert_eq!(p[1].file, dir.shown("latin.toml"));
    expect(&p, Some(22), "is not UTF-8 text");
    assert_eq!(p[2].file, dir.shown("renamed.toml"));
    expect(
        &p,
        Some(1),
        "survey id \"fb\" does not match the file name \"renamed.toml\"",
    );
}

// -- the shipped definitions ------------------------------------------------------

fn shipped_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys"));
    dir.is_dir().then_some(dir)
}

#[test]
fn shipped_definitions_load() {
    let Some(dir) = shipped_dir() else { return };
    if let Err(problems) = load_dir(&dir) {
        let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        panic!(
            "the shipped definitions have problems:\n{}",
            listed.join("\n")
        );
    }
}

#[test]
fn shipped_definitions_match_the_design() {
    let Some(dir) = shipped_dir() else { return };
    let Ok(catalog) = load_dir(&dir) else { return }; // reported by shipped_definitions_load
    let all = ["en", "fr", "es", "ar"];
    let ccpm = catalog.framework("ccpm").expect("framework ccpm");
    assert_eq!(ccpm.languages, all);
    for id in ["ccpm-partner", "ccpm-coordinator"] {
        let s = catalog.survey(id).unwrap_or_else(|| panic!("survey {id}"));
        assert_eq!(s.languages, all, "{id}");
        assert_eq!(s.kind, SurveyKind::Performance, "{id}");
        assert_eq!(s.framework.as_deref(), Some("ccpm"), "{id}");
        assert!(
            (20..=40).contains(&s.questions.len()),
            "{id}: {} questions",
            s.questions.len()
        );
    }
    // The service charter: eight commitments of one or two indicators each, every
    // indicator asked in the coordinators' questionnaire, which has no free text.
    let charter = catalog
        .framework("service-charter")
        .expect("framework service-charter");
    assert_eq!(charter.languages, all);
    assert_eq!(charter.functions.len(), 8);
    assert!(charter
        .functions
        .iter()
        .all(|f| (1..=2).contains(&f.indicators.len())));
    let s = catalog
        .survey("service-charter-coordinator")
        .expect("survey service-charter-coordinator");
    assert_eq!(s.languages, all);
    assert_eq!(s.framework.as_deref(), Some("service-charter"));
    for f in &charter.functions {
        for i in &f.indicators {
            assert!(
                s.questions
                    .iter()
                    .any(|q| q.indicator.as_deref() == Some(i.id.as_str())),
                "indicator {} is asked",
                i.id
            );
        }
    }
    assert!(s.questions.iter().all(|q| q.indicator.is_some()));
    let aap = catalog.survey("aap-feedback").expect("survey aap-feedback");
    assert_eq!(aap.languages, all);
    assert_eq!(aap.kind, SurveyKind::Feedback);
    for name in [
        "category",
        "message",
        "consent_to_contact",
        "contact",
        "sex",
        "age_group",
        "disability",
        "admin1",
        "admin2",
    ] {
        assert!(
            aap.question(name).is_some(),
            "aap-feedback has no question {name}"
        );
    }
    let category = aap.question("category").unwrap();
    let values: Vec<&str> = aap
        .choice_list(category)
        .expect("category has a choice list")
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(
        values,
        [
            "question",
            "suggestion",
            "complaint",
            "appreciation",
            "request",
            "sensitive"
        ]
    );
    let contact = aap.question("contact").unwrap();
    assert!(
        contact
            .relevant
            .as_deref()
            .is_some_and(|r| r.contains("${consent_to_contact}")),
        "contact must be relevant only with consent"
    );
}

// -- field-form types: calculate, range, choice filters, repeats -----------------

/// `FEEDBACK` with `extra` after it: its problems (none when it loads).
fn feedback_with(extra: &str) -> Vec<Problem> {
    let text = format!("{FEEDBACK}{extra}");
    load_sources(&[], &[Source::new("surveys/fb.toml", &text)])
        .err()
        .unwrap_or_default()
}

#[track_caller]
fn expect_phrases(problems: &[Problem], phrases: &[&str]) {
    let listed: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    for phrase in phrases {
        assert!(
            problems.iter().any(|p| p.message.contains(phrase)),
            "expected a problem containing {phrase:?}; got:\n{}",
            listed.join("\n")
        );
    }
    assert_eq!(problems.len(), phrases.len(), "{}", listed.join("\n"));
}

#[test]
fn field_types_load_with_their_keys() {
    let ok = r#"
[[choices.region]]
value = "north"
label.en = "North"

[[choices.district]]
value = "d1"
columns = { region = "north" }
label.en = "Central"

[[choices.district]]
value = "d1"
columns = { region = "south" }
label.en = "Central"

[[questions]]
name = "region"
type = "select_one region"
label.en = "Region"

[[questions]]
name = "district"
type = "select_one district"
choice_filter = "region = ${region} and name != ''"
label.en = "District"

[[questions]]
name = "place"
type = "calculate"
calculation = "if(${district} = '', 'none', concat(${region}, '/', ${district}))"
label.en = "Place"

[[questions]]
name = "where"
type = "geopoint"
relevant = "${place} != 'none' and today() > '2000-01-01'"
label.en = "Where?"

[[questions]]
name = "scale"
type = "range"
range = { start = 5, end = 1, step = 1 }
label.en = "Scale"

[[questions]]
name = "members"
type = "repeat"
required = true
label.en = "Members"

[[questions.questions]]
name = "member_age"
type = "integer"
constraint = ". < 120"
label.en = "Age"

[[questions.questions]]
name = "member_school"
type = "text"
relevant = "${member_age} < 18 and ${region} = 'north'"
label.en = "School"
"#;
    let text = format!("{FEEDBACK}{ok}");
    let catalog = load_sources(&[], &[Source::new("surveys/fb.toml", &text)])
        .unwrap_or_else(|p| panic!("{p:#?}"));
    let s = catalog.survey("fb").unwrap();
    assert_eq!(s.choices["district"].len(), 2);
    assert_eq!(s.choices["district"][1].columns["region"], "south");
    let members = s.question("members").unwrap();
    assert_eq!(members.qtype, QuestionType::Repeat);
    assert_eq!(members.questions.len(), 2);
    assert!(s.question("member_age").is_none());
    assert_eq!(
        s.any_question("member_age").unwrap().qtype,
        QuestionType::Integer
    );
    assert_eq!(
        s.question("scale").unwrap().range,
        Some(RangeSpec {
            start: 5.0,
            end: 1.0,
            step: 1.0
        })
    );
}

#[test]
fn field_types_are_checked() {
    // Keys on the wrong type, and types missing their key.
    expect_phrases(
        &feedback_with(
            r#"
[[questions]]
name = "c"
type = "calculate"
required = true
constraint = ". > 1"
label.en = "C"

[[questions]]
name = "t"
type = "text"
calculation = "1"
range = { start = 1, end = 2, step = 1 }
choice_filter = "x = 1"
label.en = "T"

[[questions]]
name = "r"
type = "range"
label.en = "R"

[[questions]]
name = "r2"
type = "range"
range = { start = 1, end = 2, step = 0 }
label.en = "R2"
"#,
        ),
        &[
            "question \"c\" is a calculate question, so it needs \"calculation\"",
            "question \"c\" is a calculate question, so it cannot be required",
            "question \"c\" is a calculate question, so it takes no constraint",
            "question \"t\" has a calculation, but only a calculate question takes one",
            "question \"t\" has a range, but only a range question takes one",
            "question \"t\" has a choice_filter, but only select questions take one",
            "question \"r\" is a range question, so it needs \"range\"",
            "step of the range of question \"r2\" must be above 0, not 0",
        ],
    );
    // Expressions: a calculation uses no '.', a filter tests columns its list has.
    expect_phrases(
        &feedback_with(
            r#"
[[questions]]
name = "c"
type = "calculate"
calculation = ". + ${later}"
label.en = "C"

[[questions]]
name = "later"
type = "select_one category"
choice_filter = "zone = ${category} and name != 'x'"
label.en = "L"
"#,
        ),
        &[
            "calculation of question \"c\" uses \".\"",
            "calculation of question \"c\" refers to ${later}, which comes after it",
            "choice_filter of question \"later\" tests the column \"zone\", which no option",
        ],
    );
    // Options sharing a value need different columns.
    expect_phrases(
        &feedback_with(
            r#"
[[choices.category]]
value = "complaint"
label.en = "Again"

[[choices.place]]
value = "a"
columns = { region = "n" }
label.en = "A"

[[choices.place]]
value = "a"
columns = { region = "n", label = "x" }
label.en = "A"

[[questions]]
name = "p"
type = "select_one place"
label.en = "P"
"#,
        ),
        &[
            "value \"complaint\" is used twice in choice list \"category\"",
            "column \"label\" of option \"a\" of choice list \"place\" is not a valid column name",
            "value \"a\" is used twice in choice list \"place\" with the same columns",
        ],
    );
}

#[test]
fn repeats_are_checked() {
    expect_phrases(
        &feedback_with(
            r#"
[[questions]]
name = "empty"
type = "repeat"
label.en = "Empty"

[[questions]]
name = "t"
type = "text"
label.en = "T"

[[questions.questions]]
name = "stray"
type = "text"
label.en = "Stray"

[[questions]]
name = "rows"
type = "repeat"
constraint = ". != ''"
label.en = "Rows"

[[questions.questions]]
name = "inner"
type = "repeat"
indicator = "1.1"
section = "s"
label.en = "Inner"

[[questions.questions]]
name = "age"
type = "integer"
relevant = "${t} != '' and ${message} = ''"
label.en = "Age"

[[questions]]
name = "after"
type = "text"
relevant = "${age} > 3"
label.en = "After"

[[questions]]
name = "message"
type = "text"
label.en = "Again"
"#,
        ),
        &[
            "question \"empty\" is a repeat, so it needs questions",
            "question \"t\" has questions, but only a repeat question takes them",
            "question \"rows\" is a repeat, so it takes no constraint",
            "question \"inner\" (inside question \"rows\") is a repeat inside a repeat",
            "(inside question \"rows\") is inside a repeat, so it cannot be scored",
            "(inside question \"rows\") is inside a repeat, which gives its section",
            "refers to ${age}, which is inside repeat \"rows\"",
            "question name \"message\" is used twice",
            "has an indicator, but only questions of a performance survey are scored",
            "is in section \"s\", which is not declared",
        ],
    );
}
