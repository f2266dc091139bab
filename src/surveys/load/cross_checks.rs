//! Checks across files: every indicator answered, every referenced survey and framework present.

use super::*;

pub(super) fn check_catalog(
    catalog: &Catalog,
    locations: &Locations,
    broken_frameworks: &BTreeSet<String>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let unknown_lines = FileLines::default();
    let lines_of = |id: &str| locations.surveys.get(id).unwrap_or(&unknown_lines);
    let file_of = |id: &str| match locations.surveys.get(id) {
        Some(l) if !l.file.is_empty() => l.file.clone(),
        _ => format!("survey \"{id}\""),
    };

    // Questions of the same name across the surveys of one framework:
    // (framework, name) -> (survey, question) where first seen.
    let mut shared: BTreeMap<(&str, &str), (&Survey, &Question)> = BTreeMap::new();

    for survey in catalog.surveys.values() {
        if survey.kind != SurveyKind::Performance {
            continue;
        }
        let lines = lines_of(&survey.id);
        let file = file_of(&survey.id);
        let Some(fid) = survey.framework.as_deref() else {
            problems.push(Problem::new(
                &file,
                lines.line("kind"),
                format!(
                    "survey \"{}\" is a performance survey, so it needs \"framework\"",
                    survey.id
                ),
            ));
            continue;
        };
        if broken_frameworks.contains(fid) {
            continue; // its own problems are reported
        }
        let Some(framework) = catalog.frameworks.get(fid) else {
            let known = if catalog.frameworks.is_empty() {
                "there are no frameworks in frameworks/".to_owned()
            } else {
                format!(
                    "defined frameworks: {}",
                    comma_list(catalog.frameworks.keys())
                )
            };
            problems.push(Problem::new(
                &file,
                lines.line("framework"),
                format!("framework \"{fid}\" is not defined ({known})"),
            ));
            continue;
        };

        let indicators: Vec<&str> = framework.indicator_ids().collect();
        let mut covered = BTreeSet::new();
        for q in &survey.questions {
            let Some(ind) = q.indicator.as_deref() else {
                continue;
            };
            if indicators.contains(&ind) {
                covered.insert(ind);
            } else {
                problems.push(Problem::new(
                    &file,
                    lines.question_indicator(&q.name),
                    format!(
                        "question \"{}\" scores indicator \"{ind}\", which is not an indicator \
                         of framework \"{fid}\" (its indicators: {})",
                        q.name,
                        indicators.join(", ")
                    ),
                ));
            }
        }
        for ind in &indicators {
            if !covered.contains(ind) {
                problems.push(Problem::new(
                    &file,
                    None,
                    format!(
                        "indicator \"{ind}\" of framework \"{fid}\" has no scored question in \
                         this survey"
                    ),
                ));
            }
        }

        for q in &survey.questions {
            let Some(&(first_survey, first)) = shared.get(&(fid, q.name.as_str())) else {
                shared.insert((fid, q.name.as_str()), (survey, q));
                continue;
            };
            if let Some(message) = shared_question_mismatch(first_survey, first, survey, q) {
                problems.push(Problem::new(
                    &file,
                    lines.question(&q.name),
                    format!(
                        "question \"{}\" must score like the question of the same name in {} \
                         (surveys of framework \"{fid}\" pool their answers): {message}",
                        q.name,
                        file_of(&first_survey.id)
                    ),
                ));
            }
        }
    }
    problems
}

/// How question `q` of `survey` scores differently from `first` of `first_survey`, if it
/// does.
pub(super) fn shared_question_mismatch(
    first_survey: &Survey,
    first: &Question,
    survey: &Survey,
    q: &Question,
) -> Option<String> {
    match (&first.indicator, &q.indicator) {
        (None, None) => None,
        (Some(a), Some(b)) if a != b => Some(format!(
            "here it scores indicator \"{b}\", there indicator \"{a}\""
        )),
        (Some(a), None) => Some(format!(
            "here it is not scored, there it scores indicator \"{a}\""
        )),
        (None, Some(b)) => Some(format!(
            "here it scores indicator \"{b}\", there it is not scored"
        )),
        (Some(_), Some(_)) => {
            let scores = |s: &Survey, q: &Question| -> BTreeMap<String, f64> {
                s.choice_list(q)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|o| o.score.map(|x| (o.value.clone(), x)))
                    .collect()
            };
            let there = scores(first_survey, first);
            let here = scores(survey, q);
            let values: BTreeSet<&String> = there.keys().chain(here.keys()).collect();
            let describe = |x: Option<&f64>| match x {
                Some(x) => format!("scores {}", format_number(*x)),
                None => "has no score".to_owned(),
            };
            let mismatch = values.into_iter().find_map(|v| {
                let (a, b) = (there.get(v), here.get(v));
                (a != b).then(|| {
                    format!(
                        "option \"{v}\" {} here but {} there",
                        describe(b),
                        describe(a)
                    )
                })
            });
            mismatch
        }
    }
}
