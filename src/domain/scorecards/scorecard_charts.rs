//! The scorecard's charts: the function grid, feedback volume, each function across the
//! operations, and each operation's functions.

use super::*;
use crate::charts::ScoreBar;

/// Chart names: `grid`, `volume`, `function-{function id}` (one function, one bar per
/// operation with a round) and `functions-{operation slug}` (one operation's functions, the
/// web page's per-operation detail).
pub fn chart(catalog: &Catalog, sc: &Scorecard, name: &str) -> Option<Chart> {
    match name {
        "grid" => Some(grid_chart(catalog, sc)),
        "volume" => Some(volume_chart(catalog, sc)),
        _ if name.starts_with("function-") => function_chart(catalog, sc, &name[9..]),
        _ => {
            let slug = name.strip_prefix("functions-")?;
            let r = sc
                .operations
                .iter()
                .find(|c| c.operation.slug == slug)?
                .result
                .as_ref()?;
            Some(crate::domain::round_report::functions_chart(catalog, r))
        }
    }
}

/// The charts an email carries: the grid, the volume and one chart per function of the
/// framework with every operation as a bar (so the size of the email grows with operations
/// by bars, not by whole charts). The per-operation charts stay on the web page.
pub fn chart_names(catalog: &Catalog, sc: &Scorecard) -> Vec<String> {
    let mut names = vec!["grid".to_string(), "volume".to_string()];
    if sc.operations.iter().any(|c| c.result.is_some()) {
        if let Some(fw) = framework_of(catalog, sc) {
            names.extend(fw.functions.iter().map(|f| format!("function-{}", f.id)));
        }
    }
    names
}

/// The title of a function in the scorecard's language: "1. Supporting service delivery".
pub fn function_title(catalog: &Catalog, sc: &Scorecard, id: &str) -> Option<String> {
    let f = framework_of(catalog, sc)?
        .functions
        .iter()
        .find(|f| f.id == id)?;
    Some(format!("{id}. {}", text_in(&f.title, &sc.lang)))
}

/// One function across the operations: a bar (score, 95% interval, status) per operation
/// with a round, in the scorecard's order of operations.
fn function_chart(catalog: &Catalog, sc: &Scorecard, id: &str) -> Option<Chart> {
    let title = function_title(catalog, sc, id)?;
    let rows = sc
        .operations
        .iter()
        .filter_map(|c| {
            let f = c
                .result
                .as_ref()?
                .scores
                .functions
                .iter()
                .find(|f| f.id == id);
            Some(ScoreBar {
                label: c.operation.name.clone(),
                score: f.and_then(|f| f.score),
                ci95: f.and_then(|f| f.ci95).map(|c| (c[0], c[1])),
                status: f
                    .map(|f| f.status.as_str())
                    .unwrap_or("insufficient_data")
                    .to_string(),
            })
        })
        .collect();
    Some(Chart::FunctionScores {
        title,
        rows,
        thresholds: framework_of(catalog, sc)
            .map(|fw| fw.thresholds)
            .unwrap_or_default(),
    })
}

fn grid_chart(catalog: &Catalog, sc: &Scorecard) -> Chart {
    let columns: Vec<String> = framework_of(catalog, sc)
        .map(|fw| fw.functions.iter().map(|f| f.id.clone()).collect())
        .unwrap_or_default();
    let rows = sc
        .operations
        .iter()
        .map(|c| c.operation.name.clone())
        .collect();
    let cells = sc
        .operations
        .iter()
        .map(|c| {
            columns
                .iter()
                .map(|id| {
                    c.result.as_ref().and_then(|r| {
                        r.scores
                            .functions
                            .iter()
                            .find(|f| &f.id == id)
                            .map(|f| f.status.as_str().to_string())
                    })
                })
                .collect()
        })
        .collect();
    Chart::StatusGrid {
        title: format!("{} · {}", sc.cluster.name, i18n::t(&sc.lang, "sc_grid")),
        rows,
        columns: columns.iter().map(|c| format!("F{c}")).collect(),
        cells,
    }
}

fn volume_chart(catalog: &Catalog, sc: &Scorecard) -> Chart {
    let mut merged = AapMetrics::default();
    for c in &sc.operations {
        for m in &c.aap.by_month {
            match merged
                .by_month
                .iter_mut()
                .find(|x| x.month == m.month && x.category == m.category)
            {
                Some(x) => x.count += m.count,
                None => merged.by_month.push(m.clone()),
            }
        }
    }
    let labels = crate::domain::feedback::Labels::new(catalog, &sc.lang);
    let mut chart = crate::domain::feedback::charts::feedback_volume_chart(&merged, &labels);
    if let Chart::Volume { title, .. } = &mut chart {
        *title = i18n::t(&sc.lang, "sc_volume").to_string();
    }
    if let Chart::Volume {
        periods, series, ..
    } = &mut chart
    {
        if periods.is_empty() {
            periods.push(sc.period.clone());
            series.push(Series {
                label: "–".into(),
                points: vec![Some(0.0)],
            });
        }
    }
    chart
}
