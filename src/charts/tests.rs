use super::*;
use std::collections::HashSet;

const HOSTILE: &str = "<script>alert(\"x\")</script> & 'quotes' \u{0}\u{1b}]0;\u{7}\nline";

fn thresholds() -> Thresholds {
    Thresholds {
        good: 75.0,
        satisfactory: 50.0,
        unsatisfactory: 25.0,
    }
}

fn score_bar(label: &str, score: Option<f64>, ci: Option<(f64, f64)>, status: &str) -> ScoreBar {
    ScoreBar {
        label: label.to_string(),
        score,
        ci95: ci,
        status: status.to_string(),
    }
}

fn series(label: &str, points: &[Option<f64>]) -> Series {
    Series {
        label: label.to_string(),
        points: points.to_vec(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn function_scores() -> Chart {
    Chart::FunctionScores {
        title: "Shelter Yemen — function scores, round 2025-Q1".into(),
        rows: vec![
            score_bar(
                "1. Service delivery",
                Some(81.2),
                Some((74.0, 87.5)),
                "good",
            ),
            score_bar(
                "2. Strategic decisions",
                Some(63.4),
                Some((55.1, 70.9)),
                "satisfactory",
            ),
            score_bar(
                "3. Planning and strategy",
                Some(41.0),
                Some((33.3, 49.8)),
                "unsatisfactory",
            ),
            score_bar("4. Advocacy", Some(18.5), Some((10.0, 27.0)), "weak"),
            score_bar(
                "5. Monitoring and reporting",
                Some(70.0),
                None,
                "insufficient_data",
            ),
            score_bar("6. Preparedness", None, None, "insufficient_data"),
            score_bar(
                "7. Accountability to affected people",
                Some(99.0),
                Some((96.0, 100.0)),
                "good",
            ),
        ],
        thresholds: thresholds(),
    }
}

fn response_rate() -> Chart {
    let rate = |label: &str, invited, responded| RateBar {
        label: label.into(),
        invited,
        responded,
    };
    Chart::ResponseRate {
        title: "Response rate by organization type".into(),
        rows: vec![
            rate("UN agency", 12, 9),
            rate("International NGO", 40, 22),
            rate("National NGO", 55, 18),
            rate("Government", 6, 6),
            rate("Donor", 0, 0),
        ],
    }
}

fn trend() -> Chart {
    Chart::Trend {
        title: "Function scores across rounds".into(),
        rounds: strings(&["2024-Q1", "2024-Q3", "2025-Q1", "2025-Q3"]),
        series: vec![
            series(
                "1. Service delivery",
                &[Some(60.0), Some(68.0), Some(75.5), Some(81.2)],
            ),
            series(
                "2. Strategic decisions",
                &[Some(50.0), None, Some(58.0), Some(63.4)],
            ),
            series(
                "3. Planning",
                &[Some(45.0), Some(42.0), Some(40.0), Some(41.0)],
            ),
            series("4. Advocacy", &[None, Some(30.0), Some(22.0), Some(18.5)]),
            series(
                "5. Monitoring",
                &[Some(72.0), Some(71.0), Some(70.0), Some(70.0)],
            ),
            series("6. Preparedness", &[Some(35.0), Some(55.0), None, None]),
            series("7. AAP", &[Some(88.0), Some(92.0), Some(95.0), Some(99.0)]),
        ],
    }
}

fn status_grid() -> Chart {
    let s = |v: &str| Some(v.to_string());
    Chart::StatusGrid {
        title: "Shelter cluster: function status by operation".into(),
        rows: strings(&["Yemen", "Syria (cross-border)", "South Sudan", "Haiti"]),
        columns: strings(&[
            "1 Service delivery",
            "2 Strategic decisions",
            "3 Planning",
            "4 Advocacy",
            "5 Monitoring",
            "6 Preparedness",
            "7 AAP",
        ]),
        cells: vec![
            vec![
                s("good"),
                s("satisfactory"),
                s("unsatisfactory"),
                s("weak"),
                s("insufficient_data"),
                None,
                s("good"),
            ],
            vec![
                s("satisfactory"),
                s("satisfactory"),
                s("good"),
                s("good"),
                s("weak"),
                s("weak"),
                s("unsatisfactory"),
            ],
            vec![
                s("weak"),
                s("unsatisfactory"),
                s("unsatisfactory"),
                s("satisfactory"),
                s("good"),
                s("good"),
                s("satisfactory"),
            ],
            vec![None, None, None, None, None, None, None],
        ],
    }
}

fn volume() -> Chart {
    Chart::Volume {
        title: "Feedback items by category".into(),
        periods: strings(&[
            "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06",
        ]),
        series: vec![
            series(
                "question",
                &[
                    Some(12.0),
                    Some(15.0),
                    Some(9.0),
                    Some(20.0),
                    Some(18.0),
                    Some(11.0),
                ],
            ),
            series(
                "suggestion",
                &[
                    Some(4.0),
                    Some(6.0),
                    Some(3.0),
                    Some(8.0),
                    Some(5.0),
                    Some(2.0),
                ],
            ),
            series(
                "complaint",
                &[
                    Some(7.0),
                    Some(11.0),
                    Some(14.0),
                    Some(6.0),
                    Some(9.0),
                    Some(4.0),
                ],
            ),
            series(
                "appreciation",
                &[Some(2.0), None, Some(1.0), Some(3.0), Some(2.0), Some(5.0)],
            ),
            series(
                "request",
                &[
                    Some(9.0),
                    Some(10.0),
                    Some(12.0),
                    Some(13.0),
                    Some(7.0),
                    Some(8.0),
                ],
            ),
            series(
                "sensitive",
                &[
                    Some(1.0),
                    Some(0.0),
                    Some(2.0),
                    Some(0.0),
                    Some(1.0),
                    Some(0.0),
                ],
            ),
        ],
    }
}

fn all_samples() -> Vec<(&'static str, Chart)> {
    vec![
        ("function_scores", function_scores()),
        ("response_rate", response_rate()),
        ("trend", trend()),
        ("status_grid", status_grid()),
        ("volume", volume()),
    ]
}

fn empty_charts() -> Vec<Chart> {
    vec![
        Chart::FunctionScores {
            title: "Scores".into(),
            rows: vec![],
            thresholds: thresholds(),
        },
        Chart::ResponseRate {
            title: "Rates".into(),
            rows: vec![],
        },
        Chart::Trend {
            title: "Trend".into(),
            rounds: vec![],
            series: vec![],
        },
        Chart::Trend {
            title: "Trend, no values".into(),
            rounds: strings(&["R1", "R2"]),
            series: vec![series("F1", &[None, None])],
        },
        Chart::StatusGrid {
            title: "Grid".into(),
            rows: strings(&["Yemen"]),
            columns: vec![],
            cells: vec![],
        },
        Chart::Volume {
            title: "Volume".into(),
            periods: strings(&["2025-01"]),
            series: vec![],
        },
    ]
}

/// Parses the SVG as XML and returns all its text content, joined by newlines.
fn svg_text(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("SVG is not well-formed XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert!(
        doc.descendants().all(|n| !n.is_element()
            || matches!(
                n.tag_name().name(),
                "svg"
                    | "title"
                    | "desc"
                    | "rect"
                    | "text"
                    | "polyline"
                    | "circle"
                    | "polygon"
                    | "line"
            )),
        "unexpected element in SVG"
    );
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

struct Decoded {
    width: u32,
    height: u32,
    pixels: Vec<[u8; 3]>,
}

fn decode_png(bytes: &[u8]) -> Decoded {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
    let mut decoder = png::Decoder::new(bytes);
    // Charts are indexed colour; expanded to RGB here.
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("PNG header");
    assert_eq!(reader.info().color_type, png::ColorType::Indexed);
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Decoded {
        width: info.width,
        height: info.height,
        pixels,
    }
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

#[test]
fn status_colours_follow_the_design() {
    assert_eq!(status_colour("good"), RGBColor(0x1a, 0x98, 0x50));
    assert_eq!(status_colour("satisfactory"), RGBColor(0xfe, 0xe0, 0x8b));
    assert_eq!(status_colour("unsatisfactory"), RGBColor(0xfc, 0x8d, 0x59));
    assert_eq!(status_colour("weak"), RGBColor(0xd7, 0x30, 0x27));
    assert_eq!(
        status_colour("insufficient_data"),
        RGBColor(0xbd, 0xbd, 0xbd)
    );
    assert_eq!(status_colour(" Good "), status_colour("good"));
    assert_eq!(
        status_colour("no-such-status"),
        status_colour("insufficient_data")
    );
}

#[test]
fn every_chart_renders_valid_svg_with_its_labels() {
    for (name, chart) in all_samples() {
        let svg = render_svg(&chart).unwrap();
        let text = svg_text(&svg);
        let (w, h) = size(&chart).unwrap();
        assert!(
            svg.contains(&format!("width=\"{w}\"")) && svg.contains(&format!("height=\"{h}\"")),
            "{name}: SVG size"
        );
        assert!(text.contains(title(&chart)), "{name}: title missing");
        let labels: Vec<String> = match &chart {
            Chart::FunctionScores { rows, .. } => rows.iter().map(|r| r.label.clone()).collect(),
            Chart::ResponseRate { rows, .. } => rows.iter().map(|r| r.label.clone()).collect(),
            Chart::Trend { rounds, series, .. }
            | Chart::Volume {
                periods: rounds,
                series,
                ..
            } => rounds
                .iter()
                .chain(series.iter().map(|s| &s.label))
                .cloned()
                .collect(),
            Chart::StatusGrid { rows, .. } => rows.clone(),
        };
        for label in labels {
            assert!(text.contains(&label), "{name}: label {label:?} missing");
        }
    }
}

#[test]
fn svg_has_accessible_title_and_description() {
    let svg = render_svg(&function_scores()).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("role"), Some("img"));
    let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(
        title.text(),
        Some("Shelter Yemen — function scores, round 2025-Q1")
    );
    let desc = root.children().find(|n| n.has_tag_name("desc")).unwrap();
    let desc = desc.text().unwrap();
    assert!(
        desc.contains("4. Advocacy: 18.5 (weak), 95% interval 10.0 to 27.0"),
        "{desc}"
    );
    assert!(
        desc.contains("6. Preparedness: no score (insufficient data)"),
        "{desc}"
    );
}

#[test]
fn svg_values_and_status_colours() {
    let svg = render_svg(&function_scores()).unwrap();
    let text = svg_text(&svg);
    for value in ["81.2", "63.4", "41.0", "18.5", "70.0", "99.0", "no score"] {
        assert!(text.contains(value), "value {value} missing");
    }
    for legend in [
        "good (> 75)",
        "satisfactory (> 50)",
        "weak (≤ 25)",
        "95% interval",
    ] {
        assert!(text.contains(legend), "legend {legend} missing");
    }
    for status in STATUS_NAMES {
        let colour = hex(status_colour(status));
        assert!(svg.contains(&colour), "status colour {colour} missing");
    }

    let svg = render_svg(&status_grid()).unwrap();
    let text = svg_text(&svg);
    for status in STATUS_NAMES {
        assert!(
            svg.contains(&hex(status_colour(status))),
            "grid: {status} colour"
        );
    }
    for code in [
        "G",
        "S",
        "U",
        "W",
        "?",
        "–",
        "no score",
        "insufficient data",
    ] {
        assert!(text.lines().any(|l| l == code), "grid: {code} missing");
    }

    let text = svg_text(&render_svg(&response_rate()).unwrap());
    for value in ["9/12 (75%)", "22/40 (55%)", "6/6 (100%)", "0/0"] {
        assert!(text.contains(value), "rate {value} missing");
    }

    let text = svg_text(&render_svg(&volume()).unwrap());
    for total in ["35", "42", "41", "50", "42", "30"] {
        assert!(
            text.lines().any(|l| l == total),
            "volume total {total} missing"
        );
    }
}

const STATUS_NAMES: [&str; 5] = [
    "good",
    "satisfactory",
    "unsatisfactory",
    "weak",
    "insufficient_data",
];

#[test]
fn every_chart_renders_a_png_of_the_planned_size_with_content() {
    for (name, chart) in all_samples() {
        let png = render_png(&chart).unwrap();
        let image = decode_png(&png);
        let (w, h) = size(&chart).unwrap();
        assert_eq!((image.width, image.height), (w, h), "{name}: PNG size");
        assert_eq!(w, 720, "{name}: width");
        let distinct: HashSet<[u8; 3]> = image.pixels.iter().copied().collect();
        assert!(
            distinct.len() > 20,
            "{name}: only {} colours",
            distinct.len()
        );
        let white = image
            .pixels
            .iter()
            .filter(|p| **p == [255, 255, 255])
            .count();
        assert!(
            white > image.pixels.len() / 3,
            "{name}: background not white"
        );
        assert!(
            white < image.pixels.len() * 99 / 100,
            "{name}: nearly blank"
        );
    }
}

#[test]
fn png_contains_the_status_colours() {
    for chart in [function_scores(), status_grid()] {
        let image = decode_png(&render_png(&chart).unwrap());
        let colours: HashSet<[u8; 3]> = image.pixels.iter().copied().collect();
        for status in STATUS_NAMES {
            let c = status_colour(status);
            assert!(
                colours.contains(&[c.0, c.1, c.2]),
                "{status} colour not drawn"
            );
        }
    }
}

#[test]
fn sizes_follow_rows() {
    let (w, h) = size(&function_scores()).unwrap();
    assert_eq!(w, 720);
    let mut more = function_scores();
    if let Chart::FunctionScores { rows, .. } = &mut more {
        let extra = rows.clone();
        rows.extend(extra);
    }
    let (w2, h2) = size(&more).unwrap();
    assert_eq!((w2, h2), (720, h + 7 * 28));

    // A grid with many columns grows wider instead of squeezing them.
    let columns: Vec<String> = (1..=30).map(|i| format!("F{i}")).collect();
    let grid = Chart::StatusGrid {
        title: "Wide".into(),
        rows: strings(&["A"]),
        cells: vec![vec![Some("good".into()); 30]],
        columns,
    };
    let (w, _) = size(&grid).unwrap();
    assert!(w > 720);
    let image = decode_png(&render_png(&grid).unwrap());
    assert_eq!(image.width, w);
}

#[test]
fn output_is_deterministic() {
    for (name, chart) in all_samples() {
        assert_eq!(
            render_svg(&chart).unwrap(),
            render_svg(&chart).unwrap(),
            "{name} SVG"
        );
        assert!(
            render_png(&chart).unwrap() == render_png(&chart).unwrap(),
            "{name} PNG"
        );
    }
}

#[test]
fn empty_input_renders_no_data() {
    for chart in empty_charts() {
        let svg = render_svg(&chart).unwrap();
        let text = svg_text(&svg);
        assert!(text.contains("No data"), "{chart:?}");
        assert!(text.contains(title(&chart)));
        let image = decode_png(&render_png(&chart).unwrap());
        assert_eq!((image.width, image.height), (720, 120));
        let distinct: HashSet<[u8; 3]> = image.pixels.iter().copied().collect();
        assert!(distinct.len() > 2, "no-data PNG has no text");
    }
}

#[test]
fn hostile_labels_are_escaped_and_cleaned() {
    let s = |v: &str| Some(v.to_string());
    let charts = vec![
        Chart::FunctionScores {
            title: HOSTILE.into(),
            rows: vec![score_bar(HOSTILE, Some(50.0), Some((40.0, 60.0)), HOSTILE)],
            thresholds: thresholds(),
        },
        Chart::ResponseRate {
            title: HOSTILE.into(),
            rows: vec![RateBar {
                label: HOSTILE.into(),
                invited: 3,
                responded: 1,
            }],
        },
        Chart::Trend {
            title: HOSTILE.into(),
            rounds: strings(&[HOSTILE, "]]>"]),
            series: vec![series(HOSTILE, &[Some(10.0), Some(20.0)])],
        },
        Chart::StatusGrid {
            title: HOSTILE.into(),
            rows: strings(&[HOSTILE]),
            columns: strings(&[HOSTILE, "<!-- -->"]),
            cells: vec![vec![s(HOSTILE), s("good")]],
        },
        Chart::Volume {
            title: HOSTILE.into(),
            periods: strings(&[HOSTILE]),
            series: vec![series(HOSTILE, &[Some(4.0)])],
        },
    ];
    let cleaned = "<script>alert(\"x\")</script> & 'quotes' ]0; line";
    for chart in charts {
        let svg = render_svg(&chart).unwrap();
        assert!(!svg.contains('\u{0}') && !svg.contains('\u{1b}') && !svg.contains('\u{7}'));
        let text = svg_text(&svg);
        // The title is wide enough to be kept whole; row labels may be cut with "…".
        assert!(text.contains(cleaned), "{text}");
        assert!(text.contains("<script>alert"), "{text}");
        render_png(&chart).unwrap();
    }
}

#[test]
fn odd_input_is_tolerated() {
    let long = "Coordination ".repeat(500);
    let charts = vec![
        Chart::FunctionScores {
            title: long.clone(),
            rows: vec![
                score_bar(&long, Some(f64::NAN), Some((f64::NAN, 3.0)), "good"),
                score_bar("", Some(250.0), Some((90.0, -5.0)), "GOOD"),
                score_bar("عمليات الإيواء", Some(-3.0), None, "weak"),
            ],
            thresholds: Thresholds {
                good: f64::NAN,
                satisfactory: 80.0,
                unsatisfactory: 90.0,
            },
        },
        Chart::ResponseRate {
            title: String::new(),
            rows: vec![RateBar {
                label: long.clone(),
                invited: 3,
                responded: 7,
            }],
        },
        Chart::Trend {
            title: "ragged".into(),
            rounds: strings(&["R1", "R2", "R3"]),
            series: vec![
                series("short", &[Some(50.0)]),
                series(
                    "long",
                    &[
                        Some(1.0),
                        Some(2.0),
                        Some(3.0),
                        Some(4.0),
                        Some(f64::INFINITY),
                    ],
                ),
            ],
        },
        Chart::StatusGrid {
            title: "ragged".into(),
            rows: strings(&["A", "B", "C"]),
            columns: strings(&["x", "y"]),
            cells: vec![
                vec![Some("good".into())],
                vec![],
                vec![None, None, Some("weak".into())],
            ],
        },
        Chart::Volume {
            title: "odd".into(),
            periods: strings(&["P1", "P2"]),
            series: vec![
                series("neg", &[Some(-4.0), Some(f64::NAN)]),
                series("big", &[Some(1e9), None]),
            ],
        },
        Chart::Volume {
            title: "all zero".into(),
            periods: strings(&["P1", "P2"]),
            series: vec![series("zero", &[Some(0.0), Some(0.0)])],
        },
    ];
    for chart in charts {
        let svg = render_svg(&chart).unwrap();
        svg_text(&svg);
        let (w, h) = size(&chart).unwrap();
        let image = decode_png(&render_png(&chart).unwrap());
        assert_eq!((image.width, image.height), (w, h));
    }
}

#[test]
fn labels_are_cleaned_and_fitted() {
    assert_eq!(text::clean("  a\tb\n\nc \u{0} d\u{FFFE}  "), "a b c d");
    assert_eq!(text::clean(&"x".repeat(1000)).chars().count(), 201);
    text::ensure_fonts().unwrap();
    let fitted = text::fit(&"word ".repeat(100), 17.0, false, 200);
    assert!(fitted.ends_with('…'));
    assert!(text::width(&fitted, 17.0, false) <= 200);
    assert_eq!(text::fit("short", 17.0, false, 200), "short");
    let lines = text::wrap2(
        "Strategic decisions of the humanitarian country team",
        15.0,
        false,
        90,
    );
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| text::width(l, 15.0, false) <= 90));
    assert_eq!(text::num(75.0), "75");
    assert_eq!(text::num(62.5), "62.5");
}

/// Writes sample renderings for a person to look at:
/// `CLUSTERPULSE_CHART_SAMPLES=/tmp/charts cargo test --lib charts::tests::write_samples`.
#[test]
fn write_samples() {
    let Ok(dir) = std::env::var("CLUSTERPULSE_CHART_SAMPLES") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let mut samples = all_samples();
    samples.push(("empty", empty_charts().remove(0)));
    samples.push((
        "odd_labels",
        Chart::FunctionScores {
            title: format!("{HOSTILE} {}", "very long title ".repeat(10)),
            rows: vec![
                score_bar(HOSTILE, Some(50.0), Some((40.0, 60.0)), "satisfactory"),
                score_bar("عمليات الإيواء في اليمن", Some(12.0), None, "weak"),
                score_bar(
                    &"Coordination ".repeat(40),
                    Some(100.0),
                    Some((97.0, 100.0)),
                    "good",
                ),
            ],
            thresholds: thresholds(),
        },
    ));
    for (name, chart) in samples {
        std::fs::write(format!("{dir}/{name}.png"), render_png(&chart).unwrap()).unwrap();
        std::fs::write(format!("{dir}/{name}.svg"), render_svg(&chart).unwrap()).unwrap();
    }
}

/// Render timings for BENCHMARKS.md ("Charts"). Run in release:
/// `cargo test --release --lib charts::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench() {
    use std::time::{Duration, Instant};
    fn measure<T>(mut f: impl FnMut() -> T) -> (Duration, Duration) {
        for _ in 0..3 {
            std::hint::black_box(f());
        }
        let mut times: Vec<Duration> = (0..40)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect();
        times.sort();
        (times[times.len() / 2], times[times.len() * 9 / 10])
    }
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    let mut samples = all_samples();
    let mut big = function_scores();
    if let Chart::FunctionScores { rows, .. } = &mut big {
        let base = rows.clone();
        for i in 0..4 {
            rows.extend(base.iter().map(|r| ScoreBar {
                label: format!("{} ({i})", r.label),
                ..r.clone()
            }));
        }
    }
    samples.push(("function_scores, 35 rows", big));
    println!("| chart | size (px) | SVG median / p90 (ms) | SVG bytes | PNG median / p90 (ms) | PNG bytes |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, chart) in samples {
        let (w, h) = size(&chart).unwrap();
        let (svg_median, svg_p90) = measure(|| render_svg(&chart).unwrap());
        let (png_median, png_p90) = measure(|| render_png(&chart).unwrap());
        println!(
            "| {name} | {w}×{h} | {} / {} | {} | {} / {} | {} |",
            ms(svg_median),
            ms(svg_p90),
            render_svg(&chart).unwrap().len(),
            ms(png_median),
            ms(png_p90),
            render_png(&chart).unwrap().len()
        );
    }
}

/// The email PNG: 4-bit indexed, at most 16 colours, same size as the full PNG, every status
/// colour of the grid still there (anti-aliasing shades are what goes), and smaller.
#[test]
fn compact_png_keeps_the_flat_colours_in_16() {
    let chart = status_grid();
    let full = render_png(&chart).unwrap();
    let compact = render_png_compact(&chart).unwrap();
    let decoder = png::Decoder::new(compact.as_slice());
    let reader = decoder.read_info().unwrap();
    assert_eq!(reader.info().bit_depth, png::BitDepth::Four);
    assert!(reader.info().palette.as_ref().unwrap().len() <= 3 * COMPACT_COLOURS);
    let (a, b) = (decode_png(&full), decode_png(&compact));
    assert_eq!((a.width, a.height), (b.width, b.height));
    for status in [
        "good",
        "satisfactory",
        "unsatisfactory",
        "weak",
        "insufficient",
    ] {
        let c = status_colour(status);
        let c = [c.0, c.1, c.2];
        let count = |d: &Decoded| d.pixels.iter().filter(|p| **p == c).count();
        assert!(count(&a) > 0, "{status} is in the chart");
        // Flat areas keep their exact colour (edges may gain a few pixels).
        assert!(
            count(&b) >= count(&a),
            "{status}: {} < {}",
            count(&b),
            count(&a)
        );
    }
    assert!(
        compact.len() < full.len(),
        "{} vs {}",
        compact.len(),
        full.len()
    );
}
