//! The feedback charts: volume by month and category, and the time to close.

use crate::charts::{Chart, Series};

/// Feedback items per month (of receipt), stacked by category (named by `labels`).
pub fn feedback_volume_chart(
    m: &crate::scoring::aap::AapMetrics,
    labels: &crate::domain::feedback::Labels,
) -> Chart {
    let mut periods: Vec<String> = m.by_month.iter().map(|r| r.month.clone()).collect();
    periods.sort();
    periods.dedup();
    let series = crate::domain::feedback::CATEGORIES
        .iter()
        .filter(|c| m.by_month.iter().any(|r| r.category == **c))
        .map(|c| Series {
            label: labels.choice("category", c),
            points: periods
                .iter()
                .map(|p| {
                    m.by_month
                        .iter()
                        .find(|r| &r.month == p && r.category == *c)
                        .map(|r| r.count as f64)
                        .or(Some(0.0))
                })
                .collect(),
        })
        .collect();
    Chart::Volume {
        title: "Feedback received per month, by category".into(),
        periods,
        series,
    }
}

/// Median days to close, by month of closing (the axis runs 0–100 days; longer medians are
/// drawn at 100 and the exact figure is in the table beside the chart).
pub fn feedback_close_time_chart(m: &crate::scoring::aap::AapMetrics) -> Chart {
    let rows = &m.days_to_close_by_month;
    Chart::Trend {
        title: "Median days to close, by month closed".into(),
        rounds: rows.iter().map(|r| r.month.clone()).collect(),
        series: vec![Series {
            label: "median days".into(),
            points: rows
                .iter()
                .map(|r| Some(r.median_days.min(100.0)))
                .collect(),
        }],
    }
}
