//! The scorecard's charts: the function grid, feedback volume and each operation's functions.

use super::*;

/// Chart names: `grid`, `volume`, and `functions-{operation slug}` per operation with a round.
pub fn chart(catalog: &Catalog, sc: &Scorecard, name: &str) -> Option<Chart> {
    match name {
        "grid" => Some(grid_chart(catalog, sc)),
        "volume" => Some(volume_chart(catalog, sc)),
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

pub fn chart_names(sc: &Scorecard) -> Vec<String> {
    let mut names = vec!["grid".to_string(), "volume".to_string()];
    for c in &sc.operations {
        if c.result.is_some() {
            names.push(format!("functions-{}", c.operation.slug));
        }
    }
    names
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
