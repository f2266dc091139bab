//! Writing a [`Survey`] back out as a TOML definition file.
//!
//! The output follows the readable, documented style of `docs/survey-format.md`: top-level
//! keys first, localised texts as dotted keys (`title.en = "…"`), then `[[sections]]`,
//! `[[choices.LIST]]` and `[[questions]]` tables with their keys in a natural reading order.
//! Every string value goes through `toml`'s own serializer, so quotes, backslashes, newlines
//! and control characters are always escaped correctly. Loading the output with
//! `load::parse_survey` gives back an equal `Survey`.

use super::model::{Question, QuestionType, Survey, Text};
use std::fmt::Write as _;

/// Render a survey as a TOML survey definition.
pub fn survey_to_toml(s: &Survey) -> String {
    let mut out = String::new();
    let langs = &s.languages;

    line(&mut out, "id", &string(&s.id));
    line(&mut out, "version", &s.version.to_string());
    line(&mut out, "kind", &string(kind_str(s)));
    line(&mut out, "respondent", &string(respondent_str(s)));
    if let Some(fw) = &s.framework {
        line(&mut out, "framework", &string(fw));
    }
    let list: Vec<String> = langs.iter().map(|l| string(l)).collect();
    line(&mut out, "languages", &format!("[{}]", list.join(", ")));
    text(&mut out, "title", &s.title, langs);
    text(&mut out, "description", &s.description, langs);

    for section in &s.sections {
        out.push_str("\n[[sections]]\n");
        line(&mut out, "id", &string(&section.id));
        text(&mut out, "title", &section.title, langs);
    }

    for (list_name, options) in &s.choices {
        for choice in options {
            let _ = writeln!(out, "\n[[choices.{}]]", key(list_name));
            line(&mut out, "value", &string(&choice.value));
            if let Some(score) = choice.score {
                line(&mut out, "score", &number(score));
            }
            if !choice.columns.is_empty() {
                let cols: Vec<String> = choice
                    .columns
                    .iter()
                    .map(|(k, v)| format!("{} = {}", key(k), string(v)))
                    .collect();
                line(&mut out, "columns", &format!("{{ {} }}", cols.join(", ")));
            }
            text(&mut out, "label", &choice.label, langs);
        }
    }

    for q in &s.questions {
        out.push_str("\n[[questions]]\n");
        question(&mut out, q, langs);
    }
    out
}

fn question(out: &mut String, q: &Question, langs: &[String]) {
    line(out, "name", &string(&q.name));
    let qtype = match (q.qtype, &q.list) {
        (QuestionType::SelectOne | QuestionType::SelectMultiple, Some(list)) => {
            format!("{} {}", q.qtype.as_str(), list)
        }
        _ => q.qtype.as_str().to_string(),
    };
    line(out, "type", &string(&qtype));
    if let Some(section) = &q.section {
        line(out, "section", &string(section));
    }
    if let Some(indicator) = &q.indicator {
        line(out, "indicator", &string(indicator));
    }
    if q.required {
        line(out, "required", "true");
    }
    if let Some(relevant) = &q.relevant {
        line(out, "relevant", &string(relevant));
    }
    if let Some(constraint) = &q.constraint {
        line(out, "constraint", &string(constraint));
    }
    if let Some(calculation) = &q.calculation {
        line(out, "calculation", &string(calculation));
    }
    if let Some(filter) = &q.choice_filter {
        line(out, "choice_filter", &string(filter));
    }
    if let Some(r) = &q.range {
        line(
            out,
            "range",
            &format!(
                "{{ start = {}, end = {}, step = {} }}",
                number(r.start),
                number(r.end),
                number(r.step)
            ),
        );
    }
    text(out, "constraint_message", &q.constraint_message, langs);
    text(out, "label", &q.label, langs);
    text(out, "hint", &q.hint, langs);
    // A repeat's questions: sub-tables, after every key of the repeat itself.
    for inner in &q.questions {
        out.push_str("\n[[questions.questions]]\n");
        question(out, inner, langs);
    }
}

fn kind_str(s: &Survey) -> &'static str {
    match s.kind {
        super::model::SurveyKind::Performance => "performance",
        super::model::SurveyKind::Feedback => "feedback",
    }
}

fn respondent_str(s: &Survey) -> &'static str {
    match s.respondent {
        super::model::Respondent::Partner => "partner",
        super::model::Respondent::Coordinator => "coordinator",
        super::model::Respondent::Public => "public",
        super::model::Respondent::Staff => "staff",
    }
}

fn line(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{key} = {value}");
}

/// A localised text as dotted keys: the survey's languages in their order first, then any
/// other language present in the map (sorted), so nothing is lost.
fn text(out: &mut String, name: &str, t: &Text, langs: &[String]) {
    let ordered = langs
        .iter()
        .filter(|l| t.contains_key(l.as_str()))
        .chain(t.keys().filter(|k| !langs.contains(k)));
    for lang in ordered {
        line(out, &format!("{name}.{}", key(lang)), &string(&t[lang]));
    }
}

/// A TOML string value, escaped by `toml` itself.
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A key: bare when TOML allows it, otherwise quoted.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        string(k)
    }
}

/// A number: an integer when it is whole (`score = 100`), otherwise a float.
fn number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        toml::Value::Float(n).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::{
        Choice, Question, QuestionType, Respondent, Section, Survey, SurveyKind, Text,
    };
    use super::*;
    use std::collections::BTreeMap;

    fn t(pairs: &[(&str, &str)]) -> Text {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn q(name: &str, qtype: QuestionType, list: Option<&str>) -> Question {
        Question {
            name: name.to_string(),
            qtype,
            list: list.map(str::to_string),
            label: t(&[("en", name), ("fr", name)]),
            hint: Text::new(),
            required: false,
            relevant: None,
            constraint: None,
            constraint_message: Text::new(),
            indicator: None,
            section: None,
            calculation: None,
            choice_filter: None,
            range: None,
            questions: Vec::new(),
        }
    }

    /// A survey that exercises every field and awkward strings.
    fn rich_survey() -> Survey {
        let mut choices = BTreeMap::new();
        choices.insert(
            "agreement".to_string(),
            vec![
                Choice {
                    value: "agree".into(),
                    label: t(&[("en", "Agree"), ("fr", "D'accord")]),
                    score: Some(100.0),
                    columns: BTreeMap::new(),
                },
                Choice {
                    value: "partly".into(),
                    label: t(&[("en", "Partly \"sort of\""), ("fr", "En partie")]),
                    score: Some(62.5),
                    columns: BTreeMap::new(),
                },
                Choice {
                    value: "dont_know".into(),
                    label: t(&[("en", "Don't know"), ("fr", "Ne sait pas")]),
                    score: None,
                    columns: BTreeMap::new(),
                },
            ],
        );
        choices.insert(
            "topics".to_string(),
            vec![
                Choice {
                    value: "water".into(),
                    label: t(&[("en", "Water"), ("fr", "Eau")]),
                    score: None,
                    columns: BTreeMap::new(),
                },
                Choice {
                    value: "food.aid".into(),
                    label: t(&[("en", "Food\\aid"), ("fr", "Aide\talimentaire")]),
                    score: None,
                    columns: BTreeMap::new(),
                },
            ],
        );
        let place = |value: &str, region: Option<&str>| Choice {
            value: value.into(),
            label: t(&[("en", value), ("fr", value)]),
            score: None,
            columns: region
                .map(|r| [("region".to_string(), r.to_string())].into())
                .unwrap_or_default(),
        };
        choices.insert(
            "region".to_string(),
            vec![place("north", None), place("south", None)],
        );
        choices.insert(
            "district".to_string(),
            vec![
                place("d1", Some("north")),
                place("d1", Some("south")),
                place("d2", Some("south \"far\"")),
            ],
        );
        let mut district = q("district", QuestionType::SelectOne, Some("district"));
        district.choice_filter = Some("region = ${region}".into());
        let mut total = q("total", QuestionType::Calculate, None);
        total.calculation = Some("if(${age} > 0, round(${age} div 3, 1), 'none')".into());
        let mut scale = q("scale", QuestionType::Range, None);
        scale.range = Some(crate::surveys::model::RangeSpec {
            start: 10.0,
            end: 0.0,
            step: 0.5,
        });
        let mut member = q("member", QuestionType::Repeat, None);
        member.relevant = Some("${age} > 0".into());
        let mut member_age = q("member_age", QuestionType::Integer, None);
        member_age.required = true;
        member_age.constraint = Some(". < ${age}".into());
        let mut member_other = q("member_note", QuestionType::Text, None);
        member_other.relevant = Some("${member_age} > 5 and ${region} = 'north'".into());
        member.questions = vec![
            q("member_name", QuestionType::Text, None),
            member_age,
            member_other,
        ];
        let mut rate = q("rate", QuestionType::SelectOne, Some("agreement"));
        rate.section = Some("s1".into());
        rate.required = true;
        rate.hint = t(&[("en", "Line one\nline two"), ("fr", "Ligne \u{1} un")]);
        let mut topics = q("topics", QuestionType::SelectMultiple, Some("topics"));
        topics.relevant = Some("selected(${rate}, 'agree') or ${rate} = \"partly\"".into());
        topics.constraint = Some("count-selected(.) <= 2".into());
        topics.constraint_message = t(&[("en", "At most two"), ("fr", "Deux au plus")]);
        topics.section = Some("s1".into());
        let mut age = q("age", QuestionType::Integer, None);
        age.constraint = Some(". >= 0 and . <= 120".into());
        age.constraint_message = t(&[("en", "0–120 \\ years"), ("fr", "0–120 ans")]);
        let mut comment = q("comment", QuestionType::Text, None);
        comment.label = t(&[("en", "Anything ''' else? \"\"\""), ("fr", "Autre chose ?")]);
        Survey {
            id: "rich-survey".into(),
            version: 2024061201,
            kind: SurveyKind::Feedback,
            respondent: Respondent::Public,
            framework: None,
            languages: vec!["en".into(), "fr".into()],
            title: t(&[("en", "A \"rich\" survey"), ("fr", "Une enquête « riche »")]),
            description: t(&[("en", "Intro\r\nwith CRLF"), ("fr", "Introduction")]),
            sections: vec![Section {
                id: "s1".into(),
                title: t(&[("en", "Section one"), ("fr", "Section un")]),
            }],
            choices,
            questions: vec![
                rate,
                topics,
                age,
                q("when", QuestionType::Date, None),
                q("amount", QuestionType::Decimal, None),
                q("info", QuestionType::Note, None),
                comment,
                q("region", QuestionType::SelectOne, Some("region")),
                district,
                total,
                q("where", QuestionType::Geopoint, None),
                q("ok", QuestionType::Acknowledge, None),
                scale,
                member,
                q("after_repeat", QuestionType::Text, None),
            ],
        }
    }

    #[test]
    fn writes_the_documented_style() {
        let s = rich_survey();
        let out = survey_to_toml(&s);
        assert!(out.starts_with("id = \"rich-survey\"\nversion = 2024061201\n"));
        assert!(out.contains("\nkind = \"feedback\"\nrespondent = \"public\"\n"));
        assert!(!out.contains("framework"));
        assert!(out.contains("languages = [\"en\", \"fr\"]\n"));
        assert!(out.contains("\n[[sections]]\nid = \"s1\"\ntitle.en = \"Section one\"\n"));
        assert!(out.contains("\n[[choices.agreement]]\nvalue = \"agree\"\nscore = 100\n"));
        assert!(out.contains("score = 62.5\n"));
        assert!(out.contains(
            "\n[[questions]]\nname = \"rate\"\ntype = \"select_one agreement\"\n\
             section = \"s1\"\nrequired = true\nlabel.en = \"rate\"\n"
        ));
        assert!(out.contains("type = \"select_multiple topics\""));
        // rate, and member_age inside the repeat
        assert_eq!(out.matches("required").count(), 2);
        assert!(out.contains("\n[[questions.questions]]\nname = \"member_name\"\n"));
        assert!(out.contains("range = { start = 10, end = 0, step = 0.5 }\n"));
        assert!(out.contains("columns = { region = \"north\" }\n"));
        // Every value must survive a plain TOML parse unchanged.
        let v: toml::Value = toml::from_str(&out).expect("valid TOML");
        assert_eq!(v["title"]["en"].as_str(), Some("A \"rich\" survey"));
        assert_eq!(v["description"]["en"].as_str(), Some("Intro\r\nwith CRLF"));
        let qs = v["questions"].as_array().unwrap();
        assert_eq!(qs[0]["hint"]["en"].as_str(), Some("Line one\nline two"));
        assert_eq!(qs[0]["hint"]["fr"].as_str(), Some("Ligne \u{1} un"));
        assert_eq!(
            qs[6]["label"]["en"].as_str(),
            Some("Anything ''' else? \"\"\"")
        );
        assert_eq!(
            v["choices"]["topics"][1]["label"]["en"].as_str(),
            Some("Food\\aid")
        );
    }

    #[test]
    fn quotes_keys_that_cannot_be_bare() {
        let mut s = rich_survey();
        s.languages.push("pt BR".into());
        for c in s.choices.values_mut().flatten() {
            c.label.insert("pt BR".into(), "x".into());
        }
        let out = survey_to_toml(&s);
        assert!(out.contains("label.\"pt BR\" = \"x\""));
        let v: toml::Value = toml::from_str(&out).expect("valid TOML");
        assert_eq!(
            v["choices"]["agreement"][0]["label"]["pt BR"].as_str(),
            Some("x")
        );
    }

    #[test]
    fn round_trips_through_the_loader() {
        use super::super::load::{parse_survey, Source};
        let s = rich_survey();
        let text = survey_to_toml(&s);
        let loaded = parse_survey(&Source {
            path: "surveys/rich-survey.toml".into(),
            text: text.clone(),
        });
        match loaded {
            Ok(back) => assert_eq!(back, s, "round trip changed the survey:\n{text}"),
            Err(problems) => {
                let msgs: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                panic!("loader refused the output:\n{}\n{text}", msgs.join("\n"));
            }
        }
    }
}
