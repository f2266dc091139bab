//! The round report: chart descriptions and page data built from a scored round.

use crate::charts::{Chart, RateBar, ScoreBar, Series};
use crate::db::models::Round;
use crate::db::schema::rounds;
use crate::db::DbConnection;
use crate::domain::scores::RoundResult;
use crate::kernel::error::AppError;
use crate::surveys::model::Catalog;
use diesel::prelude::*;
use serde_json::{json, Value};

fn title_en(t: &crate::surveys::model::Text) -> String {
    t.get("en")
        .or_else(|| t.values().next())
        .cloned()
        .unwrap_or_default()
}

fn status_str(s: &crate::scoring::Status) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "insufficient_data".into())
}

pub fn functions_chart(catalog: &Catalog, r: &RoundResult) -> Chart {
    let fw = catalog.framework(&r.round.framework);
    let rows = r
        .scores
        .functions
        .iter()
        .map(|f| {
            let title = fw
                .and_then(|fw| fw.functions.iter().find(|x| x.id == f.id))
                .map(|x| title_en(&x.title))
                .unwrap_or_default();
            ScoreBar {
                label: format!("{} {}", f.id, title),
                score: f.score,
                ci95: f.ci95.map(|c| (c[0], c[1])),
                status: status_str(&f.status),
            }
        })
        .collect();
    Chart::FunctionScores {
        title: format!("Function scores, {} (95% intervals)", r.operation.name),
        rows,
        thresholds: fw.map(|f| f.thresholds).unwrap_or_default(),
    }
}

pub fn response_rate_chart(r: &RoundResult) -> Chart {
    let rows = r
        .progress
        .by_org_type
        .iter()
        .flatten()
        .map(|b| RateBar {
            label: b.org_type.clone(),
            invited: b.invited as u32,
            responded: b.responded as u32,
        })
        .collect();
    Chart::ResponseRate {
        title: "Response rate by organization type".into(),
        rows,
    }
}

/// Function scores across the operation's closed rounds of this framework, up to this one.
pub fn trend_chart(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round: &Round,
) -> Result<Chart, AppError> {
    let mut history: Vec<Round> = crate::domain::rounds::same_owner(round)
        .filter(rounds::framework.eq(round.framework.clone()))
        .filter(rounds::closes_at.le(round.closes_at))
        .order(rounds::closes_at)
        .select(Round::as_select())
        .load(conn)?;
    let now = crate::kernel::time::now();
    history.retain(|r| {
        r.id == round.id || r.effective_state(now) == crate::kernel::vocab::RoundState::Closed
    });
    let history: Vec<Round> = history.into_iter().rev().take(6).rev().collect();
    let fw = catalog.framework(&round.framework);
    let mut labels = Vec::new();
    let mut per_round = Vec::new();
    for r in &history {
        labels.push(if r.title.is_empty() {
            format!("Round {}", r.id)
        } else {
            r.title.clone()
        });
        per_round.push(crate::domain::scores::score_only(conn, catalog, r)?);
    }
    let series = fw
        .map(|fw| {
            fw.functions
                .iter()
                .map(|f| Series {
                    label: format!("{} {}", f.id, title_en(&f.title)),
                    points: per_round
                        .iter()
                        .map(|s| {
                            s.functions
                                .iter()
                                .find(|x| x.id == f.id)
                                .and_then(|x| x.score)
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Chart::Trend {
        title: "Function scores across rounds".into(),
        rounds: labels,
        series,
    })
}

fn fmt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "–".into())
}

/// Everything the report page shows, as template data.
pub fn page_data(catalog: &Catalog, r: &RoundResult) -> Value {
    let fw = catalog.framework(&r.round.framework);
    let functions: Vec<Value> = r
        .scores
        .functions
        .iter()
        .map(|f| {
            let def = fw.and_then(|fw| fw.functions.iter().find(|x| x.id == f.id));
            let indicators: Vec<Value> = f
                .indicators
                .iter()
                .map(|i| {
                    let t = def
                        .and_then(|d| d.indicators.iter().find(|x| x.id == i.id))
                        .map(|x| title_en(&x.title))
                        .unwrap_or_default();
                    json!({"id": i.id, "title": t, "score": fmt(i.score), "status": status_str(&i.status), "n": i.n})
                })
                .collect();
            let arrow = match f.change {
                Some(c) if c > 2.0 => "▲",
                Some(c) if c < -2.0 => "▼",
                Some(_) => "▶",
                None => "",
            };
            json!({
                "id": f.id,
                "title": def.map(|d| title_en(&d.title)).unwrap_or_default(),
                "score": fmt(f.score),
                "status": status_str(&f.status),
                "n": f.n,
                "ci": f.ci95.map(|c| format!("{:.0}–{:.0}", c[0], c[1])),
                "previous": f.previous.map(|p| format!("{p:.0}")),
                "change": f.change.map(|c| format!("{c:+.0}")),
                "arrow": arrow,
                "indicators": indicators,
            })
        })
        .collect();
    let mut questions = r.scores.questions.clone();
    questions.sort_by(|a, b| {
        a.score
            .partial_cmp(&b.score)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let labels: std::collections::HashMap<String, String> = r
        .round
        .survey_ids()
        .iter()
        .filter_map(|s| catalog.survey(s))
        .flat_map(|s| {
            s.questions
                .iter()
                .map(|q| (q.name.clone(), title_en(&q.label)))
        })
        .collect();
    // Only questions answered by enough respondents, so no single answer is exposed.
    let min_n = fw.map(|f| f.min_respondents as usize).unwrap_or(3);
    let lowest: Vec<Value> = questions
        .iter()
        .filter(|q| q.n >= min_n)
        .take(5)
        .map(|q| json!({"name": q.name, "label": labels.get(&q.name), "indicator": q.indicator, "score": format!("{:.0}", q.score), "n": q.n}))
        .collect();
    let o = &r.scores.overall;
    json!({
        "overall": {"score": fmt(o.score), "status": status_str(&o.status), "n": o.n,
                    "ci": o.ci95.map(|c| format!("{:.0}–{:.0}", c[0], c[1]))},
        "functions": functions,
        "lowest": lowest,
        "min_respondents": fw.map(|f| f.min_respondents).unwrap_or(3),
        "previous_round": r.previous.as_ref().map(|(p, _)| json!({"id": p.id, "title": p.title})),
    })
}

/// What partners wrote in their own words, and the numbers they gave that are not scored
/// (the 0–10 overall rating), for the report of a closed round.
///
/// Free text can identify its author, so: only for a closed round, only for a survey with
/// at least the framework's `min_respondents` responses in the round, never next to an org
/// type or any other column, and in an order that says nothing about who answered first
/// (sorted by a digest of the round and the text).
#[derive(Debug, Default, serde::Serialize)]
pub struct OpenAnswers {
    pub questions: Vec<OpenQuestion>,
    pub numbers: Vec<NumberSummary>,
    /// Why nothing is shown, when nothing is.
    pub withheld: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct OpenQuestion {
    pub survey: String,
    pub label: String,
    /// How many answers (templates cannot take the length of a list).
    pub count: usize,
    pub answers: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct NumberSummary {
    pub survey: String,
    pub label: String,
    pub n: usize,
    pub median: f64,
    /// The median as people write it (8, not 8.0).
    pub median_text: String,
    /// `(value, count)` in value order, when there are at most 11 distinct values.
    pub distribution: Vec<(String, usize)>,
}

pub fn open_answers(
    conn: &mut DbConnection,
    catalog: &Catalog,
    round: &Round,
) -> Result<OpenAnswers, AppError> {
    use crate::db::schema::responses;
    use crate::kernel::vocab::RoundState;
    use crate::surveys::model::QuestionType;
    use sha2::{Digest, Sha256};
    if round.effective_state(crate::kernel::time::now()) != RoundState::Closed {
        return Ok(OpenAnswers {
            withheld: Some("Open answers are shown once the round has closed.".into()),
            ..Default::default()
        });
    }
    let min = catalog
        .framework(&round.framework)
        .map(|f| f.min_respondents)
        .unwrap_or(5) as i64;
    let mut out = OpenAnswers::default();
    for survey_id in round.survey_ids() {
        let Some(survey) = catalog.survey(&survey_id) else {
            continue;
        };
        let n: i64 = responses::table
            .filter(responses::round_id.eq(round.id))
            .filter(responses::survey_id.eq(&survey_id))
            .count()
            .get_result(conn)?;
        if n < min {
            if n > 0 {
                out.withheld = Some(format!(
                    "Open answers of a survey are shown only when it has at least {min} responses."
                ));
            }
            continue;
        }
        let wanted: Vec<&crate::surveys::model::Question> = survey
            .questions
            .iter()
            .filter(|q| {
                q.indicator.is_none()
                    && matches!(
                        q.qtype,
                        QuestionType::Text | QuestionType::Integer | QuestionType::Decimal
                    )
            })
            .collect();
        let names: Vec<&str> = wanted.iter().map(|q| q.name.as_str()).collect();
        let stored: Vec<String> = responses::table
            .filter(responses::round_id.eq(round.id))
            .filter(responses::survey_id.eq(&survey_id))
            .select(responses::answers)
            .load(conn)?;
        let mut rows: Vec<(String, String)> = Vec::new();
        for text in &stored {
            crate::domain::response_store::each_answer(text, |question, value| {
                if names.contains(&question) {
                    rows.push((question.to_string(), value.into_owned()));
                }
            })?;
        }
        let title = title_en(&survey.title);
        for q in wanted {
            let values = rows
                .iter()
                .filter(|(name, _)| name == &q.name)
                .filter_map(|(_, v)| serde_json::from_str::<Value>(v).ok());
            let label = title_en(&q.label);
            if q.qtype == QuestionType::Text {
                let mut texts: Vec<(Vec<u8>, String)> = values
                    .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        let key = Sha256::digest(format!("{}\u{0}{s}", round.id)).to_vec();
                        (key, s)
                    })
                    .collect();
                if texts.is_empty() {
                    continue;
                }
                texts.sort();
                let answers: Vec<String> = texts.into_iter().map(|(_, s)| s).collect();
                out.questions.push(OpenQuestion {
                    survey: title.clone(),
                    label,
                    count: answers.len(),
                    answers,
                });
            } else {
                let mut xs: Vec<f64> = values.filter_map(|v| v.as_f64()).collect();
                if xs.is_empty() {
                    continue;
                }
                xs.sort_by(f64::total_cmp);
                let mid = xs.len() / 2;
                let median = if xs.len() % 2 == 1 {
                    xs[mid]
                } else {
                    (xs[mid - 1] + xs[mid]) / 2.0
                };
                let mut distribution: Vec<(String, usize)> = Vec::new();
                for x in &xs {
                    let label = if x.fract() == 0.0 {
                        format!("{}", *x as i64)
                    } else {
                        format!("{x}")
                    };
                    match distribution.last_mut() {
                        Some((l, c)) if *l == label => *c += 1,
                        _ => distribution.push((label, 1)),
                    }
                }
                if distribution.len() > 11 {
                    distribution.clear();
                }
                out.numbers.push(NumberSummary {
                    survey: title.clone(),
                    label,
                    n: xs.len(),
                    median,
                    median_text: format!("{median}"),
                    distribution,
                });
            }
        }
    }
    Ok(out)
}
