//! How people read feedback codes: the choice labels of the feedback form (`aap-feedback`)
//! in a page's language, so pages, charts and scorecards show "18 to 59" and "Prefer not to
//! say" instead of `18_59` and `prefer_not_to_say`. Stored values and the API keep the codes.

use super::*;
use crate::render::i18n;
use std::collections::BTreeMap;

/// The questions whose answers are choice codes shown on pages.
const CODED: [&str; 5] = [
    "category",
    "consent_to_contact",
    "sex",
    "age_group",
    "disability",
];

/// The labels of one language.
#[derive(Debug, Clone)]
pub struct Labels {
    lang: String,
    /// Question name → (code, label) in the form's order.
    choices: BTreeMap<String, Vec<(String, String)>>,
}

/// A label without its trailing explanation in brackets ("Something serious or sensitive
/// (for example …)" → "Something serious or sensitive"): the short form for tables and
/// legends.
fn short(label: &str) -> &str {
    match label.find(" (") {
        Some(i) if i > 0 && label.trim_end().ends_with(')') => &label[..i],
        _ => label,
    }
}

impl Labels {
    /// The labels of `catalog`'s feedback form in `lang` (English where a label lacks it).
    pub fn new(catalog: &Catalog, lang: &str) -> Labels {
        let mut choices = BTreeMap::new();
        if let Some(survey) = catalog.survey(FORM_ID) {
            for name in CODED {
                let list = survey
                    .questions
                    .iter()
                    .find(|q| q.name == name)
                    .and_then(|q| q.list.as_ref())
                    .and_then(|l| survey.choices.get(l));
                let Some(list) = list else { continue };
                let pairs = list
                    .iter()
                    .map(|c| {
                        let label = c
                            .label
                            .get(lang)
                            .or_else(|| c.label.get("en"))
                            .cloned()
                            .unwrap_or_else(|| c.value.clone());
                        (c.value.clone(), short(&label).to_string())
                    })
                    .collect();
                choices.insert(name.to_string(), pairs);
            }
        }
        Labels {
            lang: lang.to_string(),
            choices,
        }
    }

    /// The label of answer `code` to `question`; "not given" for no answer (the metrics'
    /// `unknown`); the code itself when the form does not know it.
    pub fn choice(&self, question: &str, code: &str) -> String {
        if code.is_empty() || code == crate::scoring::aap::UNKNOWN {
            return i18n::t(&self.lang, "fb_not_given").to_string();
        }
        self.choices
            .get(question)
            .and_then(|l| l.iter().find(|(v, _)| v == code))
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| code.to_string())
    }

    /// Like [`Labels::choice`] for an optional answer.
    pub fn answer(&self, question: &str, code: Option<&str>) -> String {
        self.choice(question, code.unwrap_or(""))
    }

    /// The name of a channel (`hotline` → "Hotline").
    pub fn channel(&self, code: &str) -> String {
        if CHANNELS.contains(&code) {
            i18n::t(&self.lang, &format!("ch_{code}")).to_string()
        } else {
            code.to_string()
        }
    }

    /// The choices of `question` as `{value, label, selected}` for a `<select>`.
    pub fn options(&self, question: &str, selected: Option<&str>) -> Vec<Value> {
        self.choices
            .get(question)
            .into_iter()
            .flatten()
            .map(|(v, l)| json!({"value": v, "label": l, "selected": selected == Some(v.as_str())}))
            .collect()
    }

    /// The channels as `{value, label, selected}`.
    pub fn channel_options<'a>(
        &self,
        channels: impl IntoIterator<Item = &'a &'a str>,
        selected: Option<&str>,
    ) -> Vec<Value> {
        channels
            .into_iter()
            .map(
                |c| json!({"value": c, "label": self.channel(c), "selected": selected == Some(*c)}),
            )
            .collect()
    }

    /// A breakdown of the metrics (`code → count`) as `{code, name, count}` rows, named.
    pub fn rows(&self, question: &str, counts: &BTreeMap<String, u64>) -> Vec<Value> {
        counts
            .iter()
            .map(|(k, n)| {
                let name = if question == "channel" {
                    self.channel(k)
                } else {
                    self.choice(question, k)
                };
                json!({"code": k, "name": name, "count": n})
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_form_labels_read_as_words() {
        let (catalog, _) =
            crate::domain::catalog::load_catalog(std::path::Path::new("/nonexistent"))
                .expect("shipped surveys load");
        let en = Labels::new(&catalog, "en");
        assert_eq!(en.choice("age_group", "18_59"), "18 to 59");
        assert_eq!(en.choice("sex", "prefer_not_to_say"), "Prefer not to say");
        assert_eq!(en.choice("sex", "unknown"), "not given");
        assert_eq!(en.answer("sex", None), "not given");
        assert_eq!(
            en.choice("category", "sensitive"),
            "Something serious or sensitive"
        );
        assert_eq!(en.choice("category", "no_such_code"), "no_such_code");
        assert_eq!(en.channel("box"), "Suggestion box");
        let ar = Labels::new(&catalog, "ar");
        assert_eq!(ar.choice("age_group", "18_59"), "من 18 إلى 59 سنة");
        let fr = Labels::new(&catalog, "fr");
        assert_eq!(fr.choice("category", "complaint"), "Une plainte");
        assert_eq!(fr.options("sex", Some("male"))[1]["selected"], true);
    }
}
