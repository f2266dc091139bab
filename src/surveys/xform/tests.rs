use super::*;
use crate::surveys::load::load_dir;
use serde_json::{Map, Value as Json};
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

/// tests/fixtures/site-visit.toml, with French for one option only (the others fall back
/// to English).
fn cascade() -> Survey {
    let src = crate::surveys::load::Source::new(
        "site-visit.toml",
        include_str!("../../../tests/fixtures/site-visit.toml"),
    );
    let mut s = crate::surveys::load::parse_survey(&src).unwrap_or_else(|p| panic!("{p:?}"));
    s.languages.push("fr".into());
    s.choices.get_mut("district").unwrap()[0]
        .label
        .insert("fr".into(), "Centre (nord)".into());
    s
}

#[test]
fn choice_filters_become_itemsets_over_the_list() {
    let xml = write(&cascade(), &opts()).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let itemset = |q: &str| {
        let control = doc
            .descendants()
            .find(|n| n.attribute("ref") == Some(&*format!("/data/{q}")))
            .unwrap();
        control
            .children()
            .find(|n| n.has_tag_name((XF, "itemset")))
            .and_then(|i| i.attribute("nodeset"))
    };
    assert_eq!(
        itemset("district"),
        Some("instance('district')/root/item[((region = /data/region) or (region = 'any'))]")
    );
    assert_eq!(
        itemset("also"),
        Some("instance('district')/root/item[((name != 'camp') and (zone = 'b'))]")
    );
    // Without a filter the options stay inline.
    assert_eq!(itemset("region"), None);
    // One instance for the list, each option with every column ('' where it has none).
    let instances: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((XF, "instance")) && n.attribute("id") == Some("district"))
        .collect();
    assert_eq!(instances.len(), 1);
    let items: Vec<Vec<(String, String)>> = instances[0]
        .descendants()
        .filter(|n| n.has_tag_name((XF, "item")))
        .map(|item| {
            item.children()
                .filter(|c| c.is_element())
                .map(|c| {
                    let text = c.text().unwrap_or("").to_string();
                    (c.tag_name().name().to_string(), text)
                })
                .collect()
        })
        .collect();
    let row = |i: usize, name: &str, region: &str, zone: &str| {
        [
            ("itextId", format!("district-{i}")),
            ("name", name.to_string()),
            ("region", region.to_string()),
            ("zone", zone.to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .to_vec()
    };
    assert_eq!(
        items,
        [
            row(0, "centre", "north", ""),
            row(1, "hills", "north", ""),
            row(2, "centre", "south", ""),
            row(3, "coast", "south", "b"),
            row(4, "camp", "any", ""),
        ]
    );
    // Labels in every language, falling back to the default one.
    assert_eq!(itext(&doc, "fr", "district-0"), Some("Centre (nord)"));
    assert_eq!(itext(&doc, "fr", "district-2"), Some("Centre (south)"));
}

#[test]
fn a_list_named_like_a_dynamic_question_gets_its_own_instance() {
    let mut o = opts();
    o.dynamic.insert(
        "district".into(),
        Dynamic {
            choices: vec![],
            filter_by: None,
        },
    );
    let mut s = cascade();
    s.questions.retain(|q| q.name != "district");
    s.questions.insert(
        1,
        crate::surveys::model::Question {
            name: "district".into(),
            qtype: QuestionType::Text,
            list: None,
            choice_filter: None,
            ..s.question("region").unwrap().clone()
        },
    );
    let xml = write(&s, &o).unwrap();
    assert!(xml.contains("<instance id=\"district\">"), "{xml}");
    assert!(xml.contains("instance('district-choices')/root/item[((name != 'camp')"));
}

#[test]
fn repeats_become_repeat_groups_whose_rows_read_their_own_answers() {
    let s = cascade();
    let xml = write(&s, &opts()).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    // The instance: the template, then one first row.
    let data = doc
        .descendants()
        .find(|n| n.has_tag_name((XF, "data")))
        .unwrap();
    let rows: Vec<(bool, Vec<&str>)> = data
        .children()
        .filter(|n| n.has_tag_name((XF, "people")))
        .map(|n| {
            let names = n
                .children()
                .filter(|c| c.is_element())
                .map(|c| c.tag_name().name())
                .collect();
            (n.attribute((JR, "template")).is_some(), names)
        })
        .collect();
    let names = vec!["age", "school", "older", "met_in", "met_district"];
    assert_eq!(rows, [(true, names.clone()), (false, names)]);
    // Binds under the repeat; its own questions relative, the required left to the server.
    let bind_at = |p: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name((XF, "bind")) && n.attribute("nodeset") == Some(p))
    };
    assert!(bind_at("/data/people").is_none(), "no type, no relevance");
    let school = bind_at("/data/people/school").unwrap();
    assert_eq!(school.attribute("relevant"), Some("(../age < 18)"));
    let older = bind_at("/data/people/older").unwrap();
    assert_eq!(
        older.attribute("calculate"),
        Some("if((../age >= 60), 'yes', 'no')")
    );
    let age = bind_at("/data/people/age").unwrap();
    assert_eq!(age.attribute("type"), Some("int"));
    assert_eq!(age.attribute("required"), Some("true()"));
    // The body: a group holding the repeat and its controls (not the calculation).
    let group = doc
        .descendants()
        .find(|n| n.has_tag_name((XF, "group")) && n.attribute("ref") == Some("/data/people"))
        .unwrap();
    let repeat = group
        .children()
        .find(|n| n.has_tag_name((XF, "repeat")))
        .unwrap();
    assert_eq!(repeat.attribute("nodeset"), Some("/data/people"));
    let controls: Vec<&str> = repeat
        .children()
        .filter_map(|n| n.attribute("ref"))
        .collect();
    assert_eq!(
        controls,
        [
            "/data/people/age",
            "/data/people/school",
            "/data/people/met_in",
            "/data/people/met_district"
        ]
    );
    // A filter on an answer of the row: relative to the question, not to the option.
    let itemset = repeat
        .descendants()
        .find(|n| n.has_tag_name((XF, "itemset")))
        .unwrap();
    assert_eq!(
        itemset.attribute("nodeset"),
        Some("instance('district')/root/item[(region = current()/../met_in)]")
    );
    assert_eq!(itext(&doc, "en", "/data/people:label"), Some("People met"));

    // A relevance on the repeat is bound; an expression on the repeat as a whole is refused.
    let mut s = cascade();
    let people = s.questions.iter_mut().find(|q| q.name == "people").unwrap();
    people.relevant = Some("${region} = 'north'".into());
    let xml = write(&s, &opts()).unwrap();
    assert!(xml.contains("<bind nodeset=\"/data/people\" relevant=\"(/data/region = 'north')\"/>"));
    s.questions.push(crate::surveys::model::Question {
        name: "after".into(),
        relevant: Some("${people} != ''".into()),
        ..s.question("region").unwrap().clone()
    });
    let e = write(&s, &opts()).unwrap_err();
    assert_eq!(e.question, "after");
    assert!(e.problem.contains("${people}"), "{e}");
}

#[test]
fn repeat_rows_are_read_back_as_lists() {
    let s = cascade();
    let xml = "<data id=\"site-visit\" xmlns:jr=\"http://openrosa.org/javarosa\">\
        <region>south</region><district>coast</district>\
        <people jr:template=\"\"><age>99</age></people>\
        <people><age>12</age><school>Al Noor</school><older>no</older></people>\
        <people><age/><school/></people>\
        <people><age>70</age><school/><older>yes</older></people>\
        <meta><instanceID>uuid:r</instanceID></meta></data>";
    let read = read_instance(&s, xml).unwrap();
    assert_eq!(
        Json::Object(read.answers.clone()),
        serde_json::json!({"region": "south", "district": "coast", "people": [
            {"age": "12", "school": "Al Noor", "older": "no"}, {}, {"age": "70", "older": "yes"}]})
    );
    let checked = crate::surveys::answers::validate(
        &s,
        &read.answers,
        "en",
        crate::surveys::answers::Mode::Submit,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(checked.answers["people"].as_array().unwrap().len(), 2);
    // A question answered twice in one row, or twice in the form.
    for bad in [
        "<people><age>1</age><age>2</age></people>",
        "<people><age>1</age></people><region>north</region>",
    ] {
        let xml = format!(
            "<data id=\"site-visit\"><region>south</region>{bad}\
             <meta><instanceID>uuid:x</instanceID></meta></data>"
        );
        let e = read_instance(&s, &xml).unwrap_err();
        assert!(e.0.contains("more than once"), "{bad}: {e}");
    }
}
