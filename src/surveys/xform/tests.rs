use super::*;
use crate::surveys::load::load_dir;
use std::path::PathBuf;

const XF: &str = "http://www.w3.org/2002/xforms";
const JR: &str = "http://openrosa.org/javarosa";

fn shipped() -> crate::surveys::model::Catalog {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys"));
    load_dir(&dir).expect("shipped surveys load")
}

fn opts() -> Options {
    Options {
        version: "7".into(),
        ..Options::default()
    }
}

/// The itext value of `id` in the translation whose `lang` ends with `(code)`.
fn itext<'a>(doc: &'a roxmltree::Document, code: &str, id: &str) -> Option<&'a str> {
    let tr = doc.descendants().find(|n| {
        n.has_tag_name((XF, "translation"))
            && n.attribute("lang")
                .is_some_and(|l| l.ends_with(&format!("({code})")) || l == code)
    })?;
    tr.children()
        .find(|t| t.attribute("id") == Some(id))
        .and_then(|t| t.first_element_child())
        .and_then(|v| v.text())
}

fn bind<'a, 'i>(doc: &'a roxmltree::Document<'i>, name: &str) -> roxmltree::Node<'a, 'i> {
    let p = format!("/data/{name}");
    doc.descendants()
        .find(|n| n.has_tag_name((XF, "bind")) && n.attribute("nodeset") == Some(p.as_str()))
        .unwrap_or_else(|| panic!("no bind for {name}"))
}

#[test]
fn every_shipped_survey_becomes_a_form_with_every_question_in_every_language() {
    let catalog = shipped();
    assert!(catalog.surveys.len() >= 3);
    for survey in catalog.surveys.values() {
        let xml = write(survey, &opts()).unwrap();
        let doc = roxmltree::Document::parse(&xml)
            .unwrap_or_else(|e| panic!("{}: not XML: {e}", survey.id));
        let data = doc
            .descendants()
            .find(|n| n.has_tag_name((XF, "data")))
            .expect("instance root");
        assert_eq!(data.attribute("id"), Some(survey.id.as_str()));
        assert_eq!(data.attribute("version"), Some("7"));
        let translations = doc
            .descendants()
            .filter(|n| n.has_tag_name((XF, "translation")))
            .count();
        assert_eq!(translations, survey.languages.len(), "{}", survey.id);
        for q in &survey.questions {
            assert!(
                data.children()
                    .any(|n| n.has_tag_name((XF, q.name.as_str()))),
                "{}: no instance node {}",
                survey.id,
                q.name
            );
            let b = bind(&doc, &q.name);
            let expected = match q.qtype {
                QuestionType::Integer => "int",
                QuestionType::Decimal => "decimal",
                QuestionType::Date => "date",
                _ => "string",
            };
            assert_eq!(b.attribute("type"), Some(expected), "{}", q.name);
            assert_eq!(b.attribute("required").is_some(), q.required, "{}", q.name);
            assert_eq!(b.attribute("relevant").is_some(), q.relevant.is_some());
            assert_eq!(b.attribute("constraint").is_some(), q.constraint.is_some());
            let control = doc
                .descendants()
                .find(|n| n.attribute("ref") == Some(format!("/data/{}", q.name).as_str()))
                .unwrap_or_else(|| panic!("no control for {}", q.name));
            let tag = match q.qtype {
                QuestionType::SelectOne => "select1",
                QuestionType::SelectMultiple => "select",
                _ => "input",
            };
            assert_eq!(control.tag_name().name(), tag, "{}", q.name);
            for lang in &survey.languages {
                let label = itext(&doc, lang, &format!("/data/{}:label", q.name));
                let want = q.label.get(lang).or_else(|| q.label.values().next());
                assert_eq!(label, want.map(String::as_str), "{} {lang}", q.name);
            }
            if let Some(choices) = survey.choice_list(q) {
                let values: Vec<&str> = control
                    .children()
                    .filter(|n| n.has_tag_name((XF, "item")))
                    .filter_map(|i| i.children().find(|c| c.has_tag_name((XF, "value"))))
                    .filter_map(|v| v.text())
                    .collect();
                let want: Vec<&str> = choices.iter().map(|c| c.value.as_str()).collect();
                assert_eq!(values, want, "{}", q.name);
            }
        }
        let meta = bind(&doc, "meta/instanceID");
        assert_eq!(meta.attribute((JR, "preload")), Some("uid"));
    }
}

#[test]
fn the_feedback_form_keeps_its_rules() {
    let catalog = shipped();
    let survey = catalog.survey("aap-feedback").unwrap();
    let o = Options {
        default_language: Some("fr".into()),
        ..opts()
    };
    let xml = write(survey, &o).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        bind(&doc, "contact").attribute("relevant"),
        Some("(/data/consent_to_contact = 'yes')")
    );
    assert_eq!(bind(&doc, "category").attribute("required"), Some("true()"));
    // The requested default language is listed first and marked default.
    let first = doc
        .descendants()
        .find(|n| n.has_tag_name((XF, "translation")))
        .unwrap();
    assert_eq!(first.attribute("lang"), Some("Français (fr)"));
    assert_eq!(first.attribute("default"), Some("true()"));
    assert_eq!(
        itext(&doc, "ar", "/data/category/sensitive:label"),
        Some("أمر خطير أو حساس (مثل الإساءة أو الاستغلال أو الاحتيال)")
    );
    let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(title.text(), Some("Vos avis et vos plaintes"));
}

#[test]
fn expressions_become_xpath() {
    let cases = [
        ("${a} = 'yes'", "(/data/a = 'yes')"),
        (
            "${n} >= 18 and ${n} < 120",
            "((/data/n >= 18) and (/data/n < 120))",
        ),
        (". > 0 or not(${x})", "((. > 0) or not(/data/x))"),
        ("selected(${m}, 'b')", "selected(/data/m, 'b')"),
        ("count-selected(.) <= 2", "(count-selected(.) <= 2)"),
        (
            "string-length(.) div 2 mod 3",
            "((string-length(.) div 2) mod 3)",
        ),
        ("-${a} - 2.5", "(-(/data/a) - 2.5)"),
        ("${a} != \"it's\"", "(/data/a != \"it's\")"),
        ("true() = false()", "(true() = false())"),
        ("10 - 2 - 3", "((10 - 2) - 3)"),
        (".5 * 4", "(0.5 * 4)"),
    ];
    for (src, want) in cases {
        assert_eq!(to_xpath(&expr::parse(src).unwrap()), want, "{src}");
    }
}

fn tiny() -> Survey {
    let src = crate::surveys::load::Source::new(
        "tiny.toml",
        r#"id = "tiny"
version = 1
kind = "feedback"
respondent = "public"
languages = ["en"]
title.en = "Tiny & <small>"
sections = [{ id = "about", title.en = "About you" }]

[[choices.colours]]
value = "red"
label.en = "Red"

[[choices.colours]]
value = "blue"
label.en = "Blue"

[[questions]]
name = "age"
type = "integer"
section = "about"
constraint = ". >= 0 and . < 130"
constraint_message.en = "Between 0 & 130"
label.en = "Age"

[[questions]]
name = "colours"
type = "select_multiple colours"
section = "about"
label.en = "Colours"

[[questions]]
name = "intro"
type = "note"
label.en = "Thanks"

[[questions]]
name = "region"
type = "text"
label.en = "Region"

[[questions]]
name = "district"
type = "text"
label.en = "District"
"#,
    );
    let mut s = crate::surveys::load::parse_survey(&src).unwrap();
    // A second language with one text only: the others fall back to English.
    s.languages.push("fr".into());
    s.choices.get_mut("colours").unwrap()[0]
        .label
        .insert("fr".into(), "Rouge".into());
    s
}

#[test]
fn escaping_fallbacks_sections_notes_and_constraint_messages() {
    let s = tiny();
    let xml = write(&s, &opts()).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(title.text(), Some("Tiny & <small>"));
    let age = bind(&doc, "age");
    assert_eq!(
        age.attribute("constraint"),
        Some("((. >= 0) and (. < 130))")
    );
    assert_eq!(
        age.attribute((JR, "constraintMsg")),
        Some("jr:itext('/data/age:jr:constraintMsg')")
    );
    assert_eq!(
        itext(&doc, "fr", "/data/age:jr:constraintMsg"),
        Some("Between 0 & 130")
    );
    // A label missing in French falls back to English.
    assert_eq!(itext(&doc, "fr", "/data/colours/blue:label"), Some("Blue"));
    assert_eq!(itext(&doc, "fr", "/data/colours/red:label"), Some("Rouge"));
    assert_eq!(bind(&doc, "intro").attribute("readonly"), Some("true()"));
    // Both questions of the section sit in one group labelled with its title.
    let group = doc
        .descendants()
        .find(|n| n.has_tag_name((XF, "group")))
        .unwrap();
    let refs: Vec<&str> = group
        .children()
        .filter(|n| !n.has_tag_name((XF, "label")))
        .filter_map(|n| n.attribute("ref"))
        .collect();
    assert_eq!(refs, ["/data/age", "/data/colours"]);
    assert_eq!(
        itext(&doc, "en", "/data/section-about:label"),
        Some("About you")
    );
}

#[test]
fn dynamic_choices_cascade() {
    let s = tiny();
    let label = |en: &str| Text::from([("en".to_string(), en.to_string())]);
    let mut o = opts();
    o.dynamic.insert(
        "region".into(),
        Dynamic {
            choices: vec![
                DynamicChoice {
                    value: "R1".into(),
                    label: label("North"),
                    parent: None,
                },
                DynamicChoice {
                    value: "R2".into(),
                    label: label("South"),
                    parent: None,
                },
            ],
            filter_by: None,
        },
    );
    o.dynamic.insert(
        "district".into(),
        Dynamic {
            choices: vec![
                DynamicChoice {
                    value: "D1".into(),
                    label: label("Centre"),
                    parent: Some("R1".into()),
                },
                DynamicChoice {
                    value: "D2".into(),
                    label: label("Centre"),
                    parent: Some("R2".into()),
                },
            ],
            filter_by: Some("region".into()),
        },
    );
    let xml = write(&s, &o).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let control = doc
        .descendants()
        .find(|n| n.attribute("ref") == Some("/data/district"))
        .unwrap();
    assert_eq!(control.tag_name().name(), "select1");
    let itemset = control.first_element_child().unwrap();
    let itemset = control
        .children()
        .find(|n| n.has_tag_name((XF, "itemset")))
        .unwrap_or(itemset);
    assert_eq!(
        itemset.attribute("nodeset"),
        Some("instance('district')/root/item[parent = /data/region or parent = '']")
    );
    let inst = doc
        .descendants()
        .find(|n| n.has_tag_name((XF, "instance")) && n.attribute("id") == Some("district"))
        .unwrap();
    let parents: Vec<&str> = inst
        .descendants()
        .filter(|n| n.has_tag_name((XF, "parent")))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(parents, ["R1", "R2"]);
    assert_eq!(itext(&doc, "fr", "district-1"), Some("Centre"));
}

#[test]
fn instances_read_back_into_answers() {
    let s = tiny();
    let xml = r#"<?xml version="1.0"?>
<data xmlns:jr="http://openrosa.org/javarosa" id="tiny" version="7">
  <age> 42 </age><colours>red blue</colours><intro/><region></region>
  <grp><district>D1</district></grp>
  <meta><instanceID>uuid:0f6e</instanceID></meta>
</data>"#;
    let i = read_instance(&s, xml).unwrap();
    assert_eq!(i.instance_id, "uuid:0f6e");
    assert_eq!(i.version.as_deref(), Some("7"));
    let want: Map<String, Json> =
        serde_json::from_str(r#"{"age": "42", "colours": "red blue", "district": "D1"}"#).unwrap();
    assert_eq!(i.answers, want);
    // What the validator then makes of them.
    let v = crate::surveys::answers::validate(
        &s,
        &i.answers,
        "en",
        crate::surveys::answers::Mode::Submit,
    )
    .unwrap();
    assert_eq!(v.answers["colours"], serde_json::json!(["red", "blue"]));
    assert_eq!(v.answers["age"], serde_json::json!(42));
}

#[test]
fn bad_instances_are_refused_with_the_reason() {
    let s = tiny();
    let cases = [
        ("<data id=\"tiny\"><age>1</age></data>", "meta/instanceID"),
        (
            "<data id=\"other\"><meta><instanceID>u</instanceID></meta></data>",
            "not \"tiny\"",
        ),
        ("<data id=\"tiny\"><age>1</age>", "well-formed"),
        (
            "<!DOCTYPE data [<!ENTITY x \"xx\">]><data id=\"tiny\"><age>&x;</age>\
             <meta><instanceID>u</instanceID></meta></data>",
            "well-formed",
        ),
        (
            "<data id=\"tiny\"><age>1</age><g><age>2</age></g>\
             <meta><instanceID>u</instanceID></meta></data>",
            "more than once",
        ),
    ];
    for (xml, why) in cases {
        let e = read_instance(&s, xml).unwrap_err();
        assert!(e.0.contains(why), "{xml}: {e}");
    }
    let long = format!(
        "<data id=\"tiny\"><meta><instanceID>{}</instanceID></meta></data>",
        "u".repeat(201)
    );
    assert!(read_instance(&s, &long).unwrap_err().0.contains("too long"));
}
