//! AAP indicators of an operation's feedback (DESIGN.md, "Feedback (AAP)"), with polars.
//!
//! Plain Rust types at the edges. The caller (`crate::domain::feedback::metrics`) lets the database do the
//! row-level work and hands over three inputs:
//!
//! - [`VolumeGroup`]s: items counted per created month and category, with counts of the
//!   flags each indicator needs (total, by category, by month, the rates);
//! - [`ProfileGroup`]s: items counted per channel, sex, age group and admin1 (the other
//!   marginals);
//! - [`Closure`]s: one per closed item, the month it was closed in and its time to close,
//!   for the medians (an exact median needs every value).
//!
//! Polars sums the groups (any grouping works, one group per item too) and takes the
//! medians.
//!
//! # Definitions
//!
//! The population is the operation's items with `created_at` (UTC) on a date in
//! `[from, to]`, both ends inclusive and optional. Sensitive items are counted like any
//! other (metrics never show content). `now` is the time the metrics are computed at.
//!
//! - `total`: items in the population.
//! - `by_category`, `by_channel`, `by_sex`, `by_age_group`, `by_admin1`: items per value
//!   (only values that occur; an unset value counts under `"unknown"`). Each sums to `total`.
//! - `acknowledged_within_sla_pct`: among items that were acknowledged (`acknowledged_at`
//!   set) or whose acknowledgement deadline has passed (`ack_due_at ≤ now`), the share
//!   acknowledged by the deadline (`acknowledged_at ≤ ack_due_at`). Items still within their
//!   deadline and not yet acknowledged are left out: they can still make it.
//! - `closed_pct`: closed items (status `closed`, i.e. `closed_at` set) / `total`.
//! - `responded_pct`: among closed items, the share with a response communicated
//!   (`responded_at` set).
//! - `median_days_to_close`: median of `closed_at − created_at` in fractional days
//!   (86,400 s; durations measured to the millisecond) over closed items; with an even count,
//!   the mean of the two middle values.
//! - `satisfied_pct`: among closed items whose satisfaction was recorded (`satisfied` not
//!   null), the share satisfied.
//! - `sensitive`: items marked sensitive. `overdue`: items neither closed nor acknowledged
//!   whose deadline is past (`ack_due_at < now`).
//! - `by_month`: items per month of `created_at` (`YYYY-MM`) and category, by month then
//!   category. `days_to_close_by_month`: per month of `closed_at`, the median days to close
//!   and the number of items closed, over the closed items of the population (so a month
//!   after `to` may appear).
//!
//! Percentages are 0–100 and unrounded; a percentage or median whose denominator is 0 is
//! `None` (JSON `null`).

use polars::prelude::{col, len, lit, Column, DataFrame, IntoLazy, LazyFrame, PolarsResult};
use serde::Serialize;
use std::collections::BTreeMap;

/// The label of an unset dimension value.
pub const UNKNOWN: &str = "unknown";

/// Items of one created month and category, with counts of the flags behind the
/// indicators (see the module documentation for what each flag means).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeGroup {
    /// Month of `created_at`, as [`month_index`].
    pub month: i32,
    pub category: String,
    /// Items in the group.
    pub count: u64,
    /// … marked sensitive.
    pub sensitive: u64,
    /// … acknowledged, or with `ack_due_at ≤ now` (the SLA denominator).
    pub sla_due: u64,
    /// … with `acknowledged_at ≤ ack_due_at`.
    pub sla_met: u64,
    /// … closed.
    pub closed: u64,
    /// … closed with `responded_at` set.
    pub responded: u64,
    /// … closed with `satisfied` not null.
    pub satisfaction_recorded: u64,
    /// … closed with `satisfied` true.
    pub satisfied: u64,
    /// … neither closed nor acknowledged, with `ack_due_at < now`.
    pub overdue: u64,
}

/// Items sharing a channel, sex, age group and admin1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileGroup {
    pub channel: String,
    pub sex: Option<String>,
    pub age_group: Option<String>,
    pub admin1: Option<String>,
    pub count: u64,
}

/// One closed item: the month of `closed_at` ([`month_index`]) and `closed_at − created_at`
/// in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closure {
    pub month: i32,
    pub millis: i64,
}

/// What the indicators are computed from: the population three times over, grouped three
/// ways. Groups may be split further (one per item is fine) and may repeat a key: polars only
/// sums them. Each table must cover the population exactly once (`volume` and `profile` add
/// up to the same total; `closures` has one row per closed item); rows with a zero `count`
/// that only carry flags are allowed in `volume`.
#[derive(Debug, Clone, Default)]
pub struct AapInput {
    pub volume: Vec<VolumeGroup>,
    pub profile: Vec<ProfileGroup>,
    pub closures: Vec<Closure>,
}

/// The AAP indicators: the JSON of `GET /api/v1/operations/{slug}/feedback/metrics`
/// (the appendix fields), plus `by_month` and `days_to_close_by_month` for the charts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AapMetrics {
    pub total: u64,
    pub by_category: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
    pub by_sex: BTreeMap<String, u64>,
    pub by_age_group: BTreeMap<String, u64>,
    pub by_admin1: BTreeMap<String, u64>,
    pub acknowledged_within_sla_pct: Option<f64>,
    pub closed_pct: Option<f64>,
    pub responded_pct: Option<f64>,
    pub median_days_to_close: Option<f64>,
    pub satisfied_pct: Option<f64>,
    /// Items marked sensitive: exact for the PSEA focal points; for everyone else the sum of
    /// the sealed months, or `null` when one of them is too small to show.
    pub sensitive: Option<u64>,
    /// `sensitive` for people: a number, "fewer than 3" or "at least N".
    pub sensitive_display: String,
    /// Sealed items per whole calendar month of the period.
    pub sealed_by_month: Vec<SealedMonth>,
    pub overdue: u64,
    pub by_month: Vec<MonthCategoryCount>,
    pub days_to_close_by_month: Vec<MonthDaysToClose>,
}

/// Sensitive items created in `month` (`YYYY-MM`): `count` is `null` when it is 1 or 2
/// outside the PSEA view, and `display` then says "fewer than 3".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SealedMonth {
    pub month: String,
    pub count: Option<u64>,
    pub display: String,
}

/// Items created in `month` (`YYYY-MM`) with `category`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MonthCategoryCount {
    pub month: String,
    pub category: String,
    pub count: u64,
}

/// Items closed in `month` (`YYYY-MM`): how many, and their median days to close.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthDaysToClose {
    pub month: String,
    pub median_days: f64,
    pub closed: u64,
}

/// `year * 12 + (month - 1)`: a month as one integer that sorts in time order.
pub fn month_index(year: i32, month: u32) -> i32 {
    year * 12 + month as i32 - 1
}

/// `YYYY-MM` of a [`month_index`].
pub fn month_label(index: i32) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

const MILLIS_PER_DAY: f64 = 86_400_000.0;

/// The median in days of a list of times to close (milliseconds) from its middle values:
/// `lower == upper` for an odd count, the two middle values for an even one. The same
/// arithmetic as polars' median (linear interpolation at the midpoint), so that a median
/// taken from summaries equals the one [`aap_metrics`] takes over every value.
pub fn median_days(lower_millis: i64, upper_millis: i64) -> f64 {
    let (lower, upper) = (
        lower_millis as f64 / MILLIS_PER_DAY,
        upper_millis as f64 / MILLIS_PER_DAY,
    );
    if lower == upper {
        lower
    } else {
        0.5 * (upper - lower) + lower
    }
}

fn pct(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| 100.0 * numerator as f64 / denominator as f64)
}

/// Computes the indicators (see the module documentation for the definitions).
pub fn aap_metrics(input: &AapInput) -> anyhow::Result<AapMetrics> {
    let mut m = AapMetrics {
        sensitive: Some(0),
        ..Default::default()
    };
    if !input.volume.is_empty() {
        volume(&input.volume, &mut m)?;
    }
    if !input.profile.is_empty() {
        profile(&input.profile, &mut m)?;
    }
    if !input.closures.is_empty() {
        medians(&input.closures, &mut m)?;
    }
    Ok(m)
}

const FLAGS: [&str; 9] = [
    "count",
    "sensitive",
    "sla_due",
    "sla_met",
    "closed",
    "responded",
    "satisfaction_recorded",
    "satisfied",
    "overdue",
];

fn volume_frame(groups: &[VolumeGroup]) -> PolarsResult<DataFrame> {
    let flag = |f: fn(&VolumeGroup) -> u64| -> Vec<u64> { groups.iter().map(f).collect() };
    let flags: [Vec<u64>; 9] = [
        flag(|g| g.count),
        flag(|g| g.sensitive),
        flag(|g| g.sla_due),
        flag(|g| g.sla_met),
        flag(|g| g.closed),
        flag(|g| g.responded),
        flag(|g| g.satisfaction_recorded),
        flag(|g| g.satisfied),
        flag(|g| g.overdue),
    ];
    let mut columns = vec![
        Column::new(
            "month".into(),
            groups.iter().map(|g| g.month).collect::<Vec<i32>>(),
        ),
        Column::new(
            "category".into(),
            groups
                .iter()
                .map(|g| g.category.as_str())
                .collect::<Vec<&str>>(),
        ),
    ];
    for (name, values) in FLAGS.iter().zip(flags) {
        columns.push(Column::new((*name).into(), values));
    }
    DataFrame::new(groups.len(), columns)
}

/// Counts per value of `dim` (a string column, nulls as [`UNKNOWN`]), values with no item
/// left out.
fn counts_by(lf: &LazyFrame, dim: &str, out: &mut BTreeMap<String, u64>) -> PolarsResult<()> {
    let df = lf
        .clone()
        .group_by([col(dim).fill_null(lit(UNKNOWN))])
        .agg([col("count").sum()])
        .filter(col("count").gt(lit(0u64)))
        .collect()?;
    let names = df.column(dim)?.str()?;
    let counts = df.column("count")?.u64()?;
    for (name, count) in names.iter().zip(counts.iter()) {
        *out.entry(name.unwrap_or(UNKNOWN).to_string()).or_default() += count.unwrap_or(0);
    }
    Ok(())
}

fn volume(groups: &[VolumeGroup], m: &mut AapMetrics) -> anyhow::Result<()> {
    let lf = volume_frame(groups)?.lazy();

    // Totals of every flag.
    let totals = lf.clone().select(FLAGS.map(|f| col(f).sum())).collect()?;
    let t: Vec<u64> = FLAGS
        .iter()
        .map(|f| Ok(totals.column(f)?.u64()?.get(0).unwrap_or(0)))
        .collect::<PolarsResult<_>>()?;
    let [count, sensitive, sla_due, sla_met, closed, responded, recorded, satisfied, overdue] =
        t[..]
    else {
        unreachable!("one total per flag")
    };
    m.total = count;
    m.sensitive = Some(sensitive);
    m.overdue = overdue;
    m.acknowledged_within_sla_pct = pct(sla_met, sla_due);
    m.closed_pct = pct(closed, count);
    m.responded_pct = pct(responded, closed);
    m.satisfied_pct = pct(satisfied, recorded);

    counts_by(&lf, "category", &mut m.by_category)?;

    // Volume by created month and category.
    let df = lf
        .group_by([col("month"), col("category")])
        .agg([col("count").sum()])
        .filter(col("count").gt(lit(0u64)))
        .sort(["month", "category"], Default::default())
        .collect()?;
    let months = df.column("month")?.i32()?;
    let categories = df.column("category")?.str()?;
    let counts = df.column("count")?.u64()?;
    m.by_month = months
        .iter()
        .zip(categories.iter())
        .zip(counts.iter())
        .map(|((month, category), count)| MonthCategoryCount {
            month: month_label(month.unwrap_or(0)),
            category: category.unwrap_or(UNKNOWN).to_string(),
            count: count.unwrap_or(0),
        })
        .collect();
    Ok(())
}

fn profile(groups: &[ProfileGroup], m: &mut AapMetrics) -> anyhow::Result<()> {
    let strings = |f: fn(&ProfileGroup) -> Option<&str>| -> Vec<Option<&str>> {
        groups.iter().map(f).collect()
    };
    let df = DataFrame::new(
        groups.len(),
        vec![
            Column::new("channel".into(), strings(|g| Some(g.channel.as_str()))),
            Column::new("sex".into(), strings(|g| g.sex.as_deref())),
            Column::new("age_group".into(), strings(|g| g.age_group.as_deref())),
            Column::new("admin1".into(), strings(|g| g.admin1.as_deref())),
            Column::new(
                "count".into(),
                groups.iter().map(|g| g.count).collect::<Vec<u64>>(),
            ),
        ],
    )?;
    let lf = df.lazy();
    counts_by(&lf, "channel", &mut m.by_channel)?;
    counts_by(&lf, "sex", &mut m.by_sex)?;
    counts_by(&lf, "age_group", &mut m.by_age_group)?;
    counts_by(&lf, "admin1", &mut m.by_admin1)?;
    Ok(())
}

fn medians(closures: &[Closure], m: &mut AapMetrics) -> anyhow::Result<()> {
    let n = closures.len();
    let df = DataFrame::new(
        n,
        vec![
            Column::new(
                "month".into(),
                closures.iter().map(|c| c.month).collect::<Vec<i32>>(),
            ),
            Column::new(
                "days".into(),
                closures
                    .iter()
                    .map(|c| c.millis as f64 / MILLIS_PER_DAY)
                    .collect::<Vec<f64>>(),
            ),
        ],
    )?;
    let lf = df.lazy();
    let overall = lf.clone().select([col("days").median()]).collect()?;
    m.median_days_to_close = overall.column("days")?.f64()?.get(0);
    let by_month = lf
        .group_by([col("month")])
        .agg([col("days").median(), len().alias("closed")])
        .sort(["month"], Default::default())
        .collect()?;
    let months = by_month.column("month")?.i32()?;
    let days = by_month.column("days")?.f64()?;
    let closed = by_month.column("closed")?.idx()?;
    m.days_to_close_by_month = months
        .iter()
        .zip(days.iter())
        .zip(closed.iter())
        .map(|((month, days), closed)| MonthDaysToClose {
            month: month_label(month.unwrap_or(0)),
            median_days: days.unwrap_or(f64::NAN),
            closed: closed.unwrap_or(0) as u64,
        })
        .collect();
    Ok(())
}

#[cfg(test)]
mod tests;
