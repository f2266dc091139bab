//! Charts for scorecards: one plain description ([`Chart`]) drawn as SVG for web pages
//! ([`render_svg`]) and as PNG for email ([`render_png`]), with plotters.
//!
//! - Text is drawn with DejaVu Sans compiled into the binary (`assets/fonts/`), so PNG
//!   rendering needs no system fonts; SVG names `sans-serif` and leaves fonts to the browser.
//! - Charts are 720 px wide (a status grid with many columns grows wider) and as tall as
//!   their rows need; [`size`] tells the size before rendering (for `<img width height>`).
//! - Any label text is accepted: control characters are replaced, XML is escaped, and
//!   labels too wide for their place are cut with an ellipsis.
//! - Empty input draws the title and "No data" instead of failing.
//! - Status colours follow DESIGN.md (see [`status_colour`]); every chart with colours has a
//!   legend, values are written next to bars, and the SVG carries a `<title>` and a `<desc>`
//!   listing the data for screen readers.
//! - Output is deterministic: the same chart gives byte-identical SVG and PNG.
//!
//! Known limit: the PNG text renderer does no complex-script shaping or bidi reordering,
//! so Arabic labels come out as unjoined letters left to right in PNG (SVG is shaped by
//! the browser); characters DejaVu Sans lacks (e.g. CJK) show as boxes in PNG.

mod draw;
mod raster;
mod text;

#[cfg(test)]
mod tests;

use crate::surveys::model::Thresholds;
use plotters::prelude::*;

pub use plotters::style::RGBColor;

/// One chart to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Horizontal bars 0–100 coloured by status, with 95% interval whiskers and the
    /// status threshold bands shaded lightly behind.
    FunctionScores {
        title: String,
        rows: Vec<ScoreBar>,
        thresholds: Thresholds,
    },
    /// Response rate bars (e.g. by organization type), each labelled "responded/invited (rate)".
    ResponseRate { title: String, rows: Vec<RateBar> },
    /// Scores (0–100) across rounds: one line with markers per series; a missing point
    /// breaks the line.
    Trend {
        title: String,
        rounds: Vec<String>,
        series: Vec<Series>,
    },
    /// Rows × columns of status-coloured cells (e.g. operations × functions). `cells[r][c]`
    /// is the status of row `r`, column `c`; `None` means no score.
    StatusGrid {
        title: String,
        rows: Vec<String>,
        columns: Vec<String>,
        cells: Vec<Vec<Option<String>>>,
    },
    /// Counts per period stacked by series (e.g. feedback items by category per month),
    /// with the total above each bar.
    Volume {
        title: String,
        periods: Vec<String>,
        series: Vec<Series>,
    },
}

/// One bar of [`Chart::FunctionScores`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreBar {
    pub label: String,
    /// 0–100; `None` draws "no score".
    pub score: Option<f64>,
    /// 95% interval (low, high), 0–100.
    pub ci95: Option<(f64, f64)>,
    /// `good`, `satisfactory`, `unsatisfactory`, `weak` or `insufficient_data`.
    pub status: String,
}

/// One bar of [`Chart::ResponseRate`].
#[derive(Debug, Clone, PartialEq)]
pub struct RateBar {
    pub label: String,
    pub invited: u32,
    pub responded: u32,
}

/// One series of [`Chart::Trend`] or [`Chart::Volume`]: one point per round / period, in
/// order (missing points are `None`; extra points are ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<Option<f64>>,
}

/// Renders the chart as a standalone SVG document.
pub fn render_svg(chart: &Chart) -> anyhow::Result<String> {
    text::ensure_fonts()?;
    let chart = normalise(chart);
    let plan = draw::plan(&chart);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (plan.width, plan.height)).into_drawing_area();
        draw::draw(&root, &chart, &plan)?;
        root.present().map_err(draw::fail)?;
    }
    Ok(with_accessible_name(&svg, title(&chart), &describe(&chart)))
}

/// Renders the chart as an encoded PNG image (8-bit indexed colour, see [`encode_indexed`]).
pub fn render_png(chart: &Chart) -> anyhow::Result<Vec<u8>> {
    let (pixels, w, h) = raster_pixels(chart)?;
    encode_indexed(&pixels, w, h)
}

/// Renders the chart as a small PNG for email: at most [`COMPACT_COLOURS`] colours, 4 bits a
/// pixel, deflate at its best level; about half the bytes of [`render_png`]. The palette
/// keeps the colours that fill flat areas (bars, status cells, swatches, text cores) first,
/// so every status colour survives; anti-aliasing shades become the nearest of them.
pub fn render_png_compact(chart: &Chart) -> anyhow::Result<Vec<u8>> {
    let (pixels, w, h) = raster_pixels(chart)?;
    let (palette, indices) = flat_palette(&pixels, w as usize, COMPACT_COLOURS);
    let row = (w as usize).div_ceil(2);
    let mut packed = Vec::with_capacity(row * h as usize);
    for line in indices.chunks(w as usize) {
        for pair in line.chunks(2) {
            packed.push(pair[0] << 4 | pair.get(1).copied().unwrap_or(0));
        }
    }
    let mut out = Vec::with_capacity(packed.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Four);
        encoder.set_palette(palette.concat());
        encoder.set_compression(png::Compression::Best);
        encoder.set_filter(png::FilterType::NoFilter);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&packed)?;
        writer.finish()?;
    }
    Ok(out)
}

/// Colours of a [`render_png_compact`] image.
pub const COMPACT_COLOURS: usize = 16;

/// The chart drawn into 8-bit RGB pixels: `(pixels, width, height)`.
fn raster_pixels(chart: &Chart) -> anyhow::Result<(Vec<u8>, u32, u32)> {
    text::ensure_fonts()?;
    let chart = normalise(chart);
    let plan = draw::plan(&chart);
    let (w, h) = (plan.width, plan.height);
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = raster::PngBackend(BitMapBackend::with_buffer(&mut pixels, (w, h)));
        let root = backend.into_drawing_area();
        draw::draw(&root, &chart, &plan)?;
        root.present().map_err(draw::fail)?;
    }
    Ok((pixels, w, h))
}

/// A palette of at most `max` colours for `pixels` (`width` a row) and each pixel's index
/// into it. Colours are ranked by how many 2×2 blocks of that one colour the image has
/// (flat areas, not anti-aliasing), then by frequency, then by value (deterministic); every
/// pixel takes the nearest palette colour.
fn flat_palette(pixels: &[u8], width: usize, max: usize) -> (Vec<[u8; 3]>, Vec<u8>) {
    use std::collections::HashMap;
    let px: Vec<[u8; 3]> = pixels.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    let height = px.len() / width.max(1);
    let mut rank: HashMap<[u8; 3], (usize, usize)> = HashMap::new();
    for y in 0..height {
        for x in 0..width {
            let c = px[y * width + x];
            let flat = x + 1 < width
                && y + 1 < height
                && px[y * width + x + 1] == c
                && px[(y + 1) * width + x] == c
                && px[(y + 1) * width + x + 1] == c;
            let r = rank.entry(c).or_default();
            r.0 += usize::from(flat);
            r.1 += 1;
        }
    }
    let mut colours: Vec<([u8; 3], (usize, usize))> = rank.into_iter().collect();
    colours.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let palette: Vec<[u8; 3]> = colours.iter().take(max).map(|c| c.0).collect();
    let nearest = |c: [u8; 3]| -> u8 {
        let d = |p: &[u8; 3]| -> u32 {
            (0..3)
                .map(|i| (i32::from(p[i]) - i32::from(c[i])).pow(2) as u32)
                .sum()
        };
        (0..palette.len())
            .min_by_key(|&i| d(&palette[i]))
            .unwrap_or(0) as u8
    };
    let index: HashMap<[u8; 3], u8> = colours.iter().map(|(c, _)| (*c, nearest(*c))).collect();
    (palette, px.iter().map(|c| index[c]).collect())
}

/// Encodes 8-bit RGB pixels as an indexed-colour PNG (at most 256 colours, one byte a pixel),
/// a third of the raw data of RGB, which deflate then squeezes much further: charts are flat
/// colours plus anti-aliased edges. A chart with at most 256 colours is encoded exactly
/// ([`palette`]); one with more keeps its 256 most frequent colours (every flat colour, and so
/// every status colour, among them) and draws each other pixel, an anti-aliasing shade, in the
/// nearest of them.
fn encode_indexed(pixels: &[u8], w: u32, h: u32) -> anyhow::Result<Vec<u8>> {
    let (palette, indices) = palette(pixels);
    let mut out = Vec::with_capacity(indices.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_palette(palette.concat());
        // Unfiltered rows (filters do not help palette indices) at zlib's default level.
        encoder.set_compression(png::Compression::Default);
        encoder.set_filter(png::FilterType::NoFilter);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&indices)?;
        writer.finish()?;
    }
    Ok(out)
}

/// The palette (by decreasing frequency, ties by colour, so the output is deterministic) and
/// each pixel's index into it. Runs of equal pixels are counted and mapped once.
fn palette(pixels: &[u8]) -> (Vec<[u8; 3]>, Vec<u8>) {
    use std::collections::HashMap;
    let rgb = |p: &[u8]| [p[0], p[1], p[2]];
    let runs = || {
        let mut it = pixels.chunks_exact(3).map(rgb).peekable();
        std::iter::from_fn(move || {
            let c = it.next()?;
            let mut len = 1usize;
            while it.next_if_eq(&c).is_some() {
                len += 1;
            }
            Some((c, len))
        })
    };
    let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
    for (c, len) in runs() {
        *counts.entry(c).or_default() += len;
    }
    let mut colours: Vec<([u8; 3], usize)> = counts.into_iter().collect();
    colours.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let palette: Vec<[u8; 3]> = colours.iter().take(256).map(|c| c.0).collect();
    let nearest = |c: [u8; 3]| -> u8 {
        let d = |p: &[u8; 3]| -> u32 {
            (0..3)
                .map(|i| (i32::from(p[i]) - i32::from(c[i])).pow(2) as u32)
                .sum()
        };
        (0..palette.len())
            .min_by_key(|&i| d(&palette[i]))
            .unwrap_or(0) as u8
    };
    let index: HashMap<[u8; 3], u8> = colours
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (*c, if i < 256 { i as u8 } else { nearest(*c) }))
        .collect();
    let mut indices = Vec::with_capacity(pixels.len() / 3);
    for (c, len) in runs() {
        indices.extend(std::iter::repeat_n(index[&c], len));
    }
    (palette, indices)
}

/// Width and height in pixels that [`render_svg`] and [`render_png`] give for this chart.
pub fn size(chart: &Chart) -> anyhow::Result<(u32, u32)> {
    text::ensure_fonts()?;
    let plan = draw::plan(&normalise(chart));
    Ok((plan.width, plan.height))
}

/// The colour of a status (DESIGN.md "Scoring"); unknown statuses get the
/// insufficient-data grey.
pub fn status_colour(status: &str) -> RGBColor {
    match status.trim().to_ascii_lowercase().as_str() {
        "good" => RGBColor(0x1a, 0x98, 0x50),
        "satisfactory" => RGBColor(0xfe, 0xe0, 0x8b),
        "unsatisfactory" => RGBColor(0xfc, 0x8d, 0x59),
        "weak" => RGBColor(0xd7, 0x30, 0x27),
        _ => RGBColor(0xbd, 0xbd, 0xbd),
    }
}

/// Human wording of a status for legends and descriptions.
fn status_name(status: &str) -> &'static str {
    match status {
        "good" => "good",
        "satisfactory" => "satisfactory",
        "unsatisfactory" => "unsatisfactory",
        "weak" => "weak",
        "insufficient_data" => "insufficient data",
        _ => "unknown",
    }
}

fn title(chart: &Chart) -> &str {
    match chart {
        Chart::FunctionScores { title, .. }
        | Chart::ResponseRate { title, .. }
        | Chart::Trend { title, .. }
        | Chart::StatusGrid { title, .. }
        | Chart::Volume { title, .. } => title,
    }
}

/// True when there is nothing to draw but the title and "No data".
fn is_empty(chart: &Chart) -> bool {
    let no_points = |series: &[Series]| series.iter().all(|s| s.points.iter().all(Option::is_none));
    match chart {
        Chart::FunctionScores { rows, .. } => rows.is_empty(),
        Chart::ResponseRate { rows, .. } => rows.is_empty(),
        Chart::Trend { rounds, series, .. } => rounds.is_empty() || no_points(series),
        Chart::StatusGrid { rows, columns, .. } => rows.is_empty() || columns.is_empty(),
        Chart::Volume {
            periods, series, ..
        } => periods.is_empty() || no_points(series),
    }
}

/// A tidy copy of the input: labels cleaned, statuses lower-cased, non-finite numbers
/// dropped, values clamped to their scale, and series / grids sized to their axes.
fn normalise(chart: &Chart) -> Chart {
    use text::clean;
    let score = |v: Option<f64>| v.filter(|v| v.is_finite()).map(|v| v.clamp(0.0, 100.0));
    let series = |series: &[Series], len: usize, clamp100: bool| -> Vec<Series> {
        series
            .iter()
            .map(|s| Series {
                label: clean(&s.label),
                points: (0..len)
                    .map(|i| {
                        let v = s.points.get(i).copied().flatten();
                        if clamp100 {
                            score(v)
                        } else {
                            v.filter(|v| v.is_finite() && *v >= 0.0)
                        }
                    })
                    .collect(),
            })
            .collect()
    };
    match chart {
        Chart::FunctionScores {
            title,
            rows,
            thresholds,
        } => {
            let t = |v: f64, default: f64| {
                if v.is_finite() {
                    v.clamp(0.0, 100.0)
                } else {
                    default
                }
            };
            let good = t(thresholds.good, 75.0);
            let satisfactory = t(thresholds.satisfactory, 50.0).min(good);
            let unsatisfactory = t(thresholds.unsatisfactory, 25.0).min(satisfactory);
            Chart::FunctionScores {
                title: clean(title),
                rows: rows
                    .iter()
                    .map(|r| ScoreBar {
                        label: clean(&r.label),
                        score: score(r.score),
                        ci95: r
                            .ci95
                            .filter(|(lo, hi)| lo.is_finite() && hi.is_finite())
                            .map(|(lo, hi)| {
                                (lo.min(hi).clamp(0.0, 100.0), hi.max(lo).clamp(0.0, 100.0))
                            }),
                        status: r.status.trim().to_ascii_lowercase(),
                    })
                    .collect(),
                thresholds: Thresholds {
                    good,
                    satisfactory,
                    unsatisfactory,
                },
            }
        }
        Chart::ResponseRate { title, rows } => Chart::ResponseRate {
            title: clean(title),
            rows: rows
                .iter()
                .map(|r| RateBar {
                    label: clean(&r.label),
                    ..*r
                })
                .collect(),
        },
        Chart::Trend {
            title,
            rounds,
            series: s,
        } => Chart::Trend {
            title: clean(title),
            rounds: rounds.iter().map(|r| clean(r)).collect(),
            series: series(s, rounds.len(), true),
        },
        Chart::StatusGrid {
            title,
            rows,
            columns,
            cells,
        } => Chart::StatusGrid {
            title: clean(title),
            rows: rows.iter().map(|r| clean(r)).collect(),
            columns: columns.iter().map(|c| clean(c)).collect(),
            cells: (0..rows.len())
                .map(|r| {
                    (0..columns.len())
                        .map(|c| {
                            cells
                                .get(r)
                                .and_then(|row| row.get(c))
                                .cloned()
                                .flatten()
                                .map(|s| s.trim().to_ascii_lowercase())
                        })
                        .collect()
                })
                .collect(),
        },
        Chart::Volume {
            title,
            periods,
            series: s,
        } => Chart::Volume {
            title: clean(title),
            periods: periods.iter().map(|p| clean(p)).collect(),
            series: series(s, periods.len(), false),
        },
    }
}

/// A plain-text account of the data, for the SVG `<desc>` (screen readers).
fn describe(chart: &Chart) -> String {
    use text::num;
    if is_empty(chart) {
        return "No data.".to_string();
    }
    let opt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "no value".to_string());
    let mut parts: Vec<String> = Vec::new();
    match chart {
        Chart::FunctionScores { rows, .. } => {
            for r in rows {
                let mut s = format!("{}: ", r.label);
                match r.score {
                    Some(v) => s.push_str(&format!("{:.1}", v)),
                    None => s.push_str("no score"),
                }
                s.push_str(&format!(" ({})", status_name(&r.status)));
                if let Some((lo, hi)) = r.ci95 {
                    s.push_str(&format!(", 95% interval {:.1} to {:.1}", lo, hi));
                }
                parts.push(s);
            }
        }
        Chart::ResponseRate { rows, .. } => {
            for r in rows {
                parts.push(format!(
                    "{}: {} of {} responded{}",
                    r.label,
                    r.responded,
                    r.invited,
                    draw::rate(r)
                        .map(|p| format!(" ({p:.0}%)"))
                        .unwrap_or_default()
                ));
            }
        }
        Chart::Trend { rounds, series, .. }
        | Chart::Volume {
            periods: rounds,
            series,
            ..
        } => {
            for s in series {
                let points: Vec<String> = rounds
                    .iter()
                    .zip(&s.points)
                    .map(|(r, v)| format!("{r} {}", opt(*v)))
                    .collect();
                parts.push(format!("{}: {}", s.label, points.join(", ")));
            }
        }
        Chart::StatusGrid {
            rows,
            columns,
            cells,
            ..
        } => {
            for (row, cells) in rows.iter().zip(cells) {
                let statuses: Vec<String> = columns
                    .iter()
                    .zip(cells)
                    .map(|(c, s)| {
                        format!(
                            "{c} {}",
                            s.as_deref().map(status_name).unwrap_or("no score")
                        )
                    })
                    .collect();
                parts.push(format!("{row}: {}", statuses.join(", ")));
            }
        }
    }
    parts.join("; ") + "."
}

/// Adds `role="img"`, `<title>` and `<desc>` to the SVG plotters wrote.
fn with_accessible_name(svg: &str, title: &str, desc: &str) -> String {
    let Some(end) = svg
        .find("<svg")
        .and_then(|start| svg[start..].find('>').map(|e| start + e))
    else {
        return svg.to_string();
    };
    let mut out = String::with_capacity(svg.len() + title.len() + desc.len() + 64);
    out.push_str(&svg[..end]);
    out.push_str(" role=\"img\">\n<title>");
    text::xml_escape(title, &mut out);
    out.push_str("</title>\n<desc>");
    text::xml_escape(desc, &mut out);
    out.push_str("</desc>");
    out.push_str(&svg[end + 1..]);
    out
}
