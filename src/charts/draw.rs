//! Layout ([`plan`]) and drawing ([`draw`]) of every chart, generic over the plotters
//! backend so SVG and PNG come from the same code.

use super::text::{self, fit, num, width, wrap2};
use super::{is_empty, status_colour, status_name, Chart, RateBar, ScoreBar, Series};
use crate::surveys::model::Thresholds;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

type Area<DB> = DrawingArea<DB, Shift>;
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

pub(super) fn fail<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("chart drawing failed: {e}")
}

// Geometry, in pixels.
const WIDTH: i32 = 720;
const PAD: i32 = 12;
const GAP: i32 = 8;
const TITLE_H: i32 = 44;
const ROW_H: i32 = 28;
const AXIS_H: i32 = 30;
/// Plot height of the trend and volume charts.
const PLOT_H: i32 = 240;
/// Column header height of the status grid (two lines of text).
const HEADER_H: i32 = 46;
const LEGEND_ROW_H: i32 = 24;
/// Width of a legend key (swatch, whisker or line sample) plus its gap to the text.
const KEY_W: i32 = 30;
const NO_DATA_H: i32 = 120;
const MIN_COL_W: i32 = 48;

// Text sizes (plotters units: about 1.24 × the em size in pixels).
const TITLE_SIZE: f64 = 22.0;
const LABEL_SIZE: f64 = 17.0;
const SMALL_SIZE: f64 = 15.0;

const INK: RGBColor = RGBColor(0x21, 0x21, 0x21);
const MUTED: RGBColor = RGBColor(0x75, 0x75, 0x75);
const GRID: RGBColor = RGBColor(0xe0, 0xe0, 0xe0);
const AXIS: RGBColor = RGBColor(0x9e, 0x9e, 0x9e);
const TRACK: RGBColor = RGBColor(0xee, 0xee, 0xee);
const RATE: RGBColor = RGBColor(0x45, 0x75, 0xb4);
const NO_SCORE_CELL: RGBColor = RGBColor(0xf5, 0xf5, 0xf5);
const WHISKER: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Strength of the threshold band tints behind score bars (0 = white, 1 = full colour).
const BAND_TINT: f64 = 0.18;

/// Series colours (Tableau 10), cycled; markers cycle through [`MARKERS`] shapes too.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];
const MARKERS: usize = 5;

const STATUSES: [&str; 5] = [
    "good",
    "satisfactory",
    "unsatisfactory",
    "weak",
    "insufficient_data",
];

fn series_colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `c` blended over white: `strength` 0 gives white, 1 gives `c`.
fn tint(c: RGBColor, strength: f64) -> RGBColor {
    let mix = |v: u8| (255.0 - (255.0 - f64::from(v)) * strength).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

fn darker(c: RGBColor) -> RGBColor {
    let d = |v: u8| (f64::from(v) * 0.7).round() as u8;
    RGBColor(d(c.0), d(c.1), d(c.2))
}

/// Text colour that reads on a cell of colour `c`.
fn ink_on(c: RGBColor) -> RGBColor {
    let luminance = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if luminance < 140.0 {
        WHITE
    } else {
        INK
    }
}

fn status_code(status: &str) -> &'static str {
    match status {
        "good" => "G",
        "satisfactory" => "S",
        "unsatisfactory" => "U",
        "weak" => "W",
        _ => "?",
    }
}

pub(super) fn rate(r: &RateBar) -> Option<f64> {
    (r.invited > 0).then(|| f64::from(r.responded) / f64::from(r.invited) * 100.0)
}

fn rate_text(r: &RateBar) -> String {
    match rate(r) {
        Some(p) => format!("{}/{} ({p:.0}%)", r.responded, r.invited),
        None => format!("{}/{}", r.responded, r.invited),
    }
}

/// A legend key drawn before its text.
#[derive(Debug, Clone, Copy)]
enum Key {
    Swatch(RGBColor),
    /// A swatch with a status code inside, as in the status grid cells.
    Code(RGBColor, &'static str),
    Whisker,
    /// A line sample with the series marker.
    Line(RGBColor, usize),
}

/// Legend items laid out in rows: (x offset from the left padding, key, text).
type Legend = Vec<Vec<(i32, Key, String)>>;

fn legend(items: Vec<(Key, String)>, max_w: i32) -> Legend {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut x = 0;
    for (key, label) in items {
        let label = fit(&label, SMALL_SIZE, false, max_w - KEY_W);
        let w = KEY_W + width(&label, SMALL_SIZE, false) + 18;
        if x > 0 && x + w > max_w {
            rows.push(std::mem::take(&mut row));
            x = 0;
        }
        row.push((x, key, label));
        x += w;
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows
}

/// Sizes and positions decided before drawing.
pub(super) struct Plan {
    pub width: u32,
    pub height: u32,
    /// Width of the row label column.
    label_w: i32,
    /// Width of the value column right of the bars.
    value_w: i32,
    /// Width of one status grid column.
    col_w: i32,
    legend: Legend,
}

fn label_column(labels: impl Iterator<Item = impl AsRef<str>>, max: i32) -> i32 {
    labels
        .map(|l| width(l.as_ref(), LABEL_SIZE, false))
        .max()
        .unwrap_or(0)
        .clamp(40, max)
}

pub(super) fn plan(chart: &Chart) -> Plan {
    let mut plan = Plan {
        width: WIDTH as u32,
        height: NO_DATA_H as u32,
        label_w: 0,
        value_w: 0,
        col_w: 0,
        legend: Vec::new(),
    };
    if is_empty(chart) {
        return plan;
    }
    let legend_w = WIDTH - 2 * PAD;
    let legend_h = |legend: &Legend| legend.len() as i32 * LEGEND_ROW_H;
    let height = match chart {
        Chart::FunctionScores {
            rows, thresholds, ..
        } => {
            plan.label_w = label_column(rows.iter().map(|r| &r.label), 240);
            plan.value_w = 60;
            plan.legend = legend(score_legend(thresholds), legend_w);
            TITLE_H + rows.len() as i32 * ROW_H + AXIS_H + GAP + legend_h(&plan.legend) + PAD
        }
        Chart::ResponseRate { rows, .. } => {
            plan.label_w = label_column(rows.iter().map(|r| &r.label), 240);
            plan.value_w = rows
                .iter()
                .map(|r| width(&rate_text(r), LABEL_SIZE, false))
                .max()
                .unwrap_or(0)
                .clamp(60, 200)
                + GAP;
            TITLE_H + rows.len() as i32 * ROW_H + AXIS_H + PAD
        }
        Chart::Trend { series, .. } => {
            let items = series
                .iter()
                .enumerate()
                .map(|(i, s)| (Key::Line(series_colour(i), i % MARKERS), s.label.clone()))
                .collect();
            plan.legend = legend(items, legend_w);
            TITLE_H + PLOT_H + AXIS_H + GAP + legend_h(&plan.legend) + PAD
        }
        Chart::Volume { series, .. } => {
            let items = series
                .iter()
                .enumerate()
                .map(|(i, s)| (Key::Swatch(series_colour(i)), s.label.clone()))
                .collect();
            plan.legend = legend(items, legend_w);
            TITLE_H + PLOT_H + AXIS_H + GAP + legend_h(&plan.legend) + PAD
        }
        Chart::StatusGrid {
            rows,
            columns,
            cells,
            ..
        } => {
            plan.label_w = label_column(rows.iter(), 220);
            let cols = columns.len() as i32;
            let free = WIDTH - 2 * PAD - plan.label_w - GAP;
            plan.col_w = (free / cols).max(MIN_COL_W);
            plan.width = (2 * PAD + plan.label_w + GAP + cols * plan.col_w).max(WIDTH) as u32;
            let mut items: Vec<(Key, String)> = STATUSES
                .iter()
                .map(|s| {
                    (
                        Key::Code(status_colour(s), status_code(s)),
                        status_name(s).to_string(),
                    )
                })
                .collect();
            if cells.iter().flatten().any(Option::is_none) {
                items.push((Key::Code(NO_SCORE_CELL, "–"), "no score".to_string()));
            }
            plan.legend = legend(items, plan.width as i32 - 2 * PAD);
            TITLE_H + HEADER_H + rows.len() as i32 * ROW_H + GAP + legend_h(&plan.legend) + PAD
        }
    };
    plan.height = height as u32;
    plan
}

fn score_legend(t: &Thresholds) -> Vec<(Key, String)> {
    vec![
        (
            Key::Swatch(status_colour("good")),
            format!("good (> {})", num(t.good)),
        ),
        (
            Key::Swatch(status_colour("satisfactory")),
            format!("satisfactory (> {})", num(t.satisfactory)),
        ),
        (
            Key::Swatch(status_colour("unsatisfactory")),
            format!("unsatisfactory (> {})", num(t.unsatisfactory)),
        ),
        (
            Key::Swatch(status_colour("weak")),
            format!("weak (≤ {})", num(t.unsatisfactory)),
        ),
        (
            Key::Swatch(status_colour("insufficient_data")),
            "insufficient data".to_string(),
        ),
        (Key::Whisker, "95% interval".to_string()),
    ]
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    chart: &Chart,
    plan: &Plan,
) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(fail)?;
    let title = super::title(chart);
    let title = fit(title, TITLE_SIZE, true, plan.width as i32 - 2 * PAD);
    let at = (PAD, TITLE_H / 2);
    put(root, &title, at, TITLE_SIZE, true, INK, HPos::Left)?;
    if is_empty(chart) {
        let at = (plan.width as i32 / 2, (TITLE_H + NO_DATA_H) / 2);
        return put(root, "No data", at, LABEL_SIZE, false, MUTED, HPos::Center);
    }
    match chart {
        Chart::FunctionScores {
            rows, thresholds, ..
        } => draw_scores(root, plan, rows, thresholds)?,
        Chart::ResponseRate { rows, .. } => draw_rates(root, plan, rows)?,
        Chart::Trend { rounds, series, .. } => draw_trend(root, plan, rounds, series)?,
        Chart::Volume {
            periods, series, ..
        } => draw_volume(root, plan, periods, series)?,
        Chart::StatusGrid {
            rows,
            columns,
            cells,
            ..
        } => draw_grid(root, plan, rows, columns, cells)?,
    }
    let legend_top = plan.height as i32 - PAD - plan.legend.len() as i32 * LEGEND_ROW_H;
    draw_legend(root, &plan.legend, legend_top)
}

/// Draws one line of text; `at` is the anchor point, vertically the middle of the line.
fn put<DB: DrawingBackend>(
    root: &Area<DB>,
    s: &str,
    at: (i32, i32),
    size: f64,
    bold: bool,
    colour: RGBColor,
    h: HPos,
) -> anyhow::Result<()> {
    if s.is_empty() {
        return Ok(());
    }
    let style = text::font(size, bold)
        .color(&colour)
        .pos(Pos::new(h, VPos::Center));
    root.draw(&Text::new(s, at, style)).map_err(fail)
}

/// The part of `root` between the given pixel edges.
fn sub_area<DB: DrawingBackend>(
    root: &Area<DB>,
    plan: &Plan,
    left: i32,
    right: i32,
    top: i32,
    bottom: i32,
) -> Area<DB> {
    root.margin(
        top,
        plan.height as i32 - bottom,
        left,
        plan.width as i32 - right,
    )
}

/// The x mesh (vertical grid lines and labels) of a horizontal bar chart.
fn x_mesh<DB: DrawingBackend>(
    plot: &mut Plot<'_, DB>,
    format: &dyn Fn(&f64) -> String,
) -> anyhow::Result<()> {
    plot.configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_labels(6)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(text::font(SMALL_SIZE, false).color(&MUTED))
        .x_label_formatter(format)
        .draw()
        .map_err(fail)
}

fn draw_scores<DB: DrawingBackend>(
    root: &Area<DB>,
    plan: &Plan,
    rows: &[ScoreBar],
    t: &Thresholds,
) -> anyhow::Result<()> {
    let n = rows.len() as f64;
    let left = PAD + plan.label_w + GAP;
    let right = plan.width as i32 - PAD - plan.value_w;
    let bottom = TITLE_H + rows.len() as i32 * ROW_H + AXIS_H;
    let area = sub_area(root, plan, left, right, TITLE_H, bottom);
    let mut plot = ChartBuilder::on(&area)
        .x_label_area_size(AXIS_H)
        .build_cartesian_2d(0f64..100f64, 0f64..n)
        .map_err(fail)?;

    let bands = [
        (0.0, t.unsatisfactory, "weak"),
        (t.unsatisfactory, t.satisfactory, "unsatisfactory"),
        (t.satisfactory, t.good, "satisfactory"),
        (t.good, 100.0, "good"),
    ];
    plot.draw_series(bands.iter().filter(|b| b.1 > b.0).map(|&(a, b, status)| {
        Rectangle::new(
            [(a, 0.0), (b, n)],
            tint(status_colour(status), BAND_TINT).filled(),
        )
    }))
    .map_err(fail)?;
    x_mesh(&mut plot, &|v| format!("{v:.0}"))?;
    plot.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (0.0, n)],
        AXIS.stroke_width(1),
    )))
    .map_err(fail)?;

    for (i, row) in rows.iter().enumerate() {
        let yc = n - i as f64 - 0.5;
        let y = plot.backend_coord(&(0.0, yc)).1;
        let label = fit(&row.label, LABEL_SIZE, false, plan.label_w);
        put(
            root,
            &label,
            (left - GAP, y),
            LABEL_SIZE,
            false,
            INK,
            HPos::Right,
        )?;

        let colour = status_colour(&row.status);
        if let Some(score) = row.score {
            plot.draw_series([
                Rectangle::new([(0.0, yc - 0.3), (score, yc + 0.3)], colour.filled()),
                Rectangle::new([(0.0, yc - 0.3), (score, yc + 0.3)], darker(colour)),
            ])
            .map_err(fail)?;
        }
        if let Some((lo, hi)) = row.ci95 {
            let style = WHISKER.stroke_width(2);
            plot.draw_series([
                PathElement::new(vec![(lo, yc), (hi, yc)], style),
                PathElement::new(vec![(lo, yc - 0.18), (lo, yc + 0.18)], style),
                PathElement::new(vec![(hi, yc - 0.18), (hi, yc + 0.18)], style),
            ])
            .map_err(fail)?;
        }
        let end = row.score.unwrap_or(0.0).max(row.ci95.map_or(0.0, |c| c.1));
        let x = plot.backend_coord(&(end, yc)).0 + 6;
        match row.score {
            Some(score) => put(
                root,
                &format!("{score:.1}"),
                (x, y),
                SMALL_SIZE,
                true,
                INK,
                HPos::Left,
            )?,
            None => put(
                root,
                "no score",
                (x, y),
                SMALL_SIZE,
                false,
                MUTED,
                HPos::Left,
            )?,
        }
    }
    Ok(())
}

fn draw_rates<DB: DrawingBackend>(
    root: &Area<DB>,
    plan: &Plan,
    rows: &[RateBar],
) -> anyhow::Result<()> {
    let n = rows.len() as f64;
    let left = PAD + plan.label_w + GAP;
    let right = plan.width as i32 - PAD - plan.value_w;
    let bottom = TITLE_H + rows.len() as i32 * ROW_H + AXIS_H;
    let area = sub_area(root, plan, left, right, TITLE_H, bottom);
    let mut plot = ChartBuilder::on(&area)
        .x_label_area_size(AXIS_H)
        .build_cartesian_2d(0f64..100f64, 0f64..n)
        .map_err(fail)?;
    x_mesh(&mut plot, &|v| format!("{v:.0}%"))?;
    for (i, row) in rows.iter().enumerate() {
        let yc = n - i as f64 - 0.5;
        let y = plot.backend_coord(&(0.0, yc)).1;
        let label = fit(&row.label, LABEL_SIZE, false, plan.label_w);
        put(
            root,
            &label,
            (left - GAP, y),
            LABEL_SIZE,
            false,
            INK,
            HPos::Right,
        )?;
        plot.draw_series(std::iter::once(Rectangle::new(
            [(0.0, yc - 0.3), (100.0, yc + 0.3)],
            TRACK.filled(),
        )))
        .map_err(fail)?;
        if let Some(p) = rate(row) {
            plot.draw_series(std::iter::once(Rectangle::new(
                [(0.0, yc - 0.3), (p.min(100.0), yc + 0.3)],
                RATE.filled(),
            )))
            .map_err(fail)?;
        }
        let at = (plan.width as i32 - PAD, y);
        put(
            root,
            &rate_text(row),
            at,
            LABEL_SIZE,
            false,
            INK,
            HPos::Right,
        )?;
    }
    Ok(())
}

/// The frame of the trend and volume charts: categories along x (segment `i` spans
/// `i..i + 1`), values along y with grid lines; category labels are drawn below.
fn category_frame<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    categories: &[String],
    y_max: f64,
    y_format: &dyn Fn(&f64) -> String,
) -> anyhow::Result<Plot<'a, DB>> {
    let m = categories.len() as f64;
    let mut plot = ChartBuilder::on(area)
        .x_label_area_size(AXIS_H)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..m, 0f64..y_max)
        .map_err(fail)?;
    plot.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(text::font(SMALL_SIZE, false).color(&MUTED))
        .y_label_formatter(y_format)
        .draw()
        .map_err(fail)?;
    Ok(plot)
}

fn category_labels<DB: DrawingBackend>(
    root: &Area<DB>,
    plot: &Plot<'_, DB>,
    categories: &[String],
) -> anyhow::Result<()> {
    let (xs, _) = plot.plotting_area().get_pixel_range();
    let seg_w = (xs.end - xs.start) / categories.len().max(1) as i32;
    for (i, c) in categories.iter().enumerate() {
        let (x, y) = plot.backend_coord(&(i as f64 + 0.5, 0.0));
        let label = fit(c, SMALL_SIZE, false, seg_w - 6);
        put(
            root,
            &label,
            (x, y + AXIS_H / 2),
            SMALL_SIZE,
            false,
            INK,
            HPos::Center,
        )?;
    }
    Ok(())
}

fn plot_area<DB: DrawingBackend>(root: &Area<DB>, plan: &Plan) -> Area<DB> {
    sub_area(
        root,
        plan,
        PAD,
        plan.width as i32 - PAD - 8,
        TITLE_H,
        TITLE_H + PLOT_H + AXIS_H,
    )
}

fn draw_trend<DB: DrawingBackend>(
    root: &Area<DB>,
    plan: &Plan,
    rounds: &[String],
    series: &[Series],
) -> anyhow::Result<()> {
    let area = plot_area(root, plan);
    let mut plot = category_frame(&area, rounds, 100.0, &|v| format!("{v:.0}"))?;
    category_labels(root, &plot, rounds)?;
    for (i, s) in series.iter().enumerate() {
        let colour = series_colour(i);
        // Consecutive present points form one line; a missing point breaks it.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (j, p) in s.points.iter().enumerate() {
            match p {
                Some(v) => run.push((j as f64 + 0.5, *v)),
                None => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        plot.draw_series(
            runs.into_iter()
                .filter(|r| r.len() > 1)
                .map(|r| PathElement::new(r, colour.stroke_width(3))),
        )
        .map_err(fail)?;
        for (j, p) in s.points.iter().enumerate() {
            if let Some(v) = p {
                let at = plot.backend_coord(&(j as f64 + 0.5, *v));
                marker(root, at, i % MARKERS, colour)?;
            }
        }
    }
    Ok(())
}

/// A round upper bound for a count axis: 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × a power of ten,
/// at least 5.
fn nice_max(v: f64) -> f64 {
    if v <= 5.0 {
        return 5.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * magnitude)
}

fn draw_volume<DB: DrawingBackend>(
    root: &Area<DB>,
    plan: &Plan,
    periods: &[String],
    series: &[Series],
) -> anyhow::Result<()> {
    let totals: Vec<f64> = (0..periods.len())
        .map(|i| series.iter().filter_map(|s| s.points[i]).sum())
        .collect();
    let y_max = nice_max(totals.iter().copied().fold(0.0, f64::max) * 1.1);
    let area = plot_area(root, plan);
    let y_format = |v: &f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    let mut plot = category_frame(&area, periods, y_max, &y_format)?;
    category_labels(root, &plot, periods)?;
    let (xs, _) = plot.plotting_area().get_pixel_range();
    let seg_w = f64::from(xs.end - xs.start) / periods.len() as f64;
    let half = (36.0 / seg_w).min(0.32);
    for (i, total) in totals.iter().enumerate() {
        let (x0, x1) = (i as f64 + 0.5 - half, i as f64 + 0.5 + half);
        let mut base = 0.0;
        for (j, s) in series.iter().enumerate() {
            let v = s.points[i].unwrap_or(0.0);
            if v > 0.0 {
                let corners = [(x0, base), (x1, base + v)];
                plot.draw_series([
                    Rectangle::new(corners, series_colour(j).filled()),
                    Rectangle::new(corners, WHITE.stroke_width(1)),
                ])
                .map_err(fail)?;
                base += v;
            }
        }
        let (x, y) = plot.backend_coord(&(i as f64 + 0.5, *total));
        put(
            root,
            &num(*total),
            (x, y - 10),
            SMALL_SIZE,
            true,
            INK,
            HPos::Center,
        )?;
    }
    Ok(())
}

fn draw_grid<DB: DrawingBackend>(
    root: &Area<DB>,
    plan: &Plan,
    rows: &[String],
    columns: &[String],
    cells: &[Vec<Option<String>>],
) -> anyhow::Result<()> {
    let x0 = PAD + plan.label_w + GAP;
    let y0 = TITLE_H + HEADER_H;
    for (c, column) in columns.iter().enumerate() {
        let cx = x0 + c as i32 * plan.col_w + plan.col_w / 2;
        let lines = wrap2(column, SMALL_SIZE, false, plan.col_w - 6);
        let first_y = if lines.len() > 1 { y0 - 30 } else { y0 - 12 };
        for (k, line) in lines.iter().enumerate() {
            let at = (cx, first_y + 18 * k as i32);
            put(root, line, at, SMALL_SIZE, false, INK, HPos::Center)?;
        }
    }
    for (r, (row, row_cells)) in rows.iter().zip(cells).enumerate() {
        let top = y0 + r as i32 * ROW_H;
        let label = fit(row, LABEL_SIZE, false, plan.label_w);
        let at = (x0 - GAP, top + ROW_H / 2);
        put(root, &label, at, LABEL_SIZE, false, INK, HPos::Right)?;
        for (c, cell) in row_cells.iter().enumerate() {
            let left = x0 + c as i32 * plan.col_w;
            let (fill, code) = match cell {
                Some(status) => (status_colour(status), status_code(status)),
                None => (NO_SCORE_CELL, "–"),
            };
            root.draw(&Rectangle::new(
                [
                    (left + 1, top + 1),
                    (left + plan.col_w - 1, top + ROW_H - 1),
                ],
                fill.filled(),
            ))
            .map_err(fail)?;
            let at = (left + plan.col_w / 2, top + ROW_H / 2);
            let ink = if cell.is_some() { ink_on(fill) } else { MUTED };
            put(root, code, at, SMALL_SIZE, true, ink, HPos::Center)?;
        }
    }
    Ok(())
}

/// Series marker `shape` centred on pixel `at`.
fn marker<DB: DrawingBackend>(
    root: &Area<DB>,
    (x, y): (i32, i32),
    shape: usize,
    colour: RGBColor,
) -> anyhow::Result<()> {
    let fill = colour.filled();
    let result = match shape {
        0 => root.draw(&Circle::new((x, y), 5, fill)),
        1 => root.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], fill)),
        2 => root.draw(&Polygon::new(
            vec![(x, y - 6), (x + 6, y + 4), (x - 6, y + 4)],
            fill,
        )),
        3 => root.draw(&Polygon::new(
            vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)],
            fill,
        )),
        _ => root
            .draw(&Circle::new((x, y), 5, WHITE.filled()))
            .and_then(|_| root.draw(&Circle::new((x, y), 5, colour.stroke_width(2)))),
    };
    result.map_err(fail)
}

fn draw_legend<DB: DrawingBackend>(
    root: &Area<DB>,
    legend: &Legend,
    top: i32,
) -> anyhow::Result<()> {
    for (r, row) in legend.iter().enumerate() {
        let y = top + r as i32 * LEGEND_ROW_H + LEGEND_ROW_H / 2;
        for (offset, key, label) in row {
            let x = PAD + offset;
            match *key {
                Key::Swatch(c) => {
                    let corners = [(x + 4, y - 7), (x + 18, y + 7)];
                    root.draw(&Rectangle::new(corners, c.filled()))
                        .and_then(|_| root.draw(&Rectangle::new(corners, darker(c))))
                        .map_err(fail)?;
                }
                Key::Code(c, code) => {
                    let corners = [(x, y - 9), (x + 22, y + 9)];
                    root.draw(&Rectangle::new(corners, c.filled()))
                        .map_err(fail)?;
                    let ink = if code == "–" { MUTED } else { ink_on(c) };
                    put(root, code, (x + 11, y), SMALL_SIZE, true, ink, HPos::Center)?;
                }
                Key::Whisker => {
                    let style = WHISKER.stroke_width(2);
                    for points in [
                        vec![(x + 2, y), (x + 20, y)],
                        vec![(x + 2, y - 5), (x + 2, y + 5)],
                        vec![(x + 20, y - 5), (x + 20, y + 5)],
                    ] {
                        root.draw(&PathElement::new(points, style)).map_err(fail)?;
                    }
                }
                Key::Line(c, shape) => {
                    root.draw(&PathElement::new(
                        vec![(x, y), (x + 22, y)],
                        c.stroke_width(3),
                    ))
                    .map_err(fail)?;
                    marker(root, (x + 11, y), shape, c)?;
                }
            }
            put(
                root,
                label,
                (x + KEY_W, y),
                SMALL_SIZE,
                false,
                INK,
                HPos::Left,
            )?;
        }
    }
    Ok(())
}
