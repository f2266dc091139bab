//! Fonts and text: the embedded DejaVu Sans faces, label clean-up, measuring and fitting.

use plotters::style::{FontDesc, FontFamily, FontStyle};
use std::sync::OnceLock;

pub(super) static FONT_REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(super) static FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The family the embedded fonts are registered under. SVG output names it in
/// `font-family`, so browsers fall back to their own sans-serif face.
pub(super) const FAMILY: FontFamily<'static> = FontFamily::SansSerif;

/// Longest label kept (in characters) before measuring; longer text is cut with an ellipsis.
const MAX_CHARS: usize = 200;

/// Registers the embedded faces with plotters once per process.
pub(super) fn ensure_fonts() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        let name = FAMILY.as_str();
        plotters::style::register_font(name, FontStyle::Normal, FONT_REGULAR).is_ok()
            && plotters::style::register_font(name, FontStyle::Bold, FONT_BOLD).is_ok()
    });
    if ok {
        Ok(())
    } else {
        anyhow::bail!("the embedded chart font could not be loaded")
    }
}

pub(super) fn font(size: f64, bold: bool) -> FontDesc<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FAMILY, size, style)
}

/// Width in pixels of `text` drawn at `size` (0 when the font cannot measure it).
pub(super) fn width(text: &str, size: f64, bold: bool) -> i32 {
    font(size, bold)
        .box_size(text)
        .map(|(w, _)| w as i32)
        .unwrap_or(0)
}

/// Makes any input safe and tidy as a one-line label: control characters (including
/// newlines and tabs) become spaces, characters XML 1.0 forbids are dropped, runs of
/// whitespace collapse, ends are trimmed and very long text is cut.
pub(super) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS * 4));
    let mut count = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c == '\u{FFFE}' || c == '\u{FFFF}' {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        if count >= MAX_CHARS {
            out.push('…');
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// `text` if it fits in `max_w` pixels, otherwise its longest prefix that fits followed
/// by an ellipsis.
pub(super) fn fit(text: &str, size: f64, bold: bool, max_w: i32) -> String {
    if width(text, size, bold) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let candidate = |n: usize| -> String {
        let mut s: String = chars[..n].iter().collect();
        s.truncate(s.trim_end().len());
        s.push('…');
        s
    };
    // Invariant: `lo` characters fit (0 always "fits"), `hi` do not.
    let (mut lo, mut hi) = (0, chars.len());
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if width(&candidate(mid), size, bold) <= max_w {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if lo == 0 {
        return "…".to_string();
    }
    candidate(lo)
}

/// Splits `text` into at most two lines no wider than `max_w`, breaking at spaces; the
/// second line is cut with an ellipsis when the text is still too long.
pub(super) fn wrap2(text: &str, size: f64, bold: bool, max_w: i32) -> Vec<String> {
    if width(text, size, bold) <= max_w {
        return vec![text.to_string()];
    }
    let words: Vec<&str> = text.split(' ').collect();
    let mut first = 0;
    for n in 1..words.len() {
        if width(&words[..n].join(" "), size, bold) <= max_w {
            first = n;
        } else {
            break;
        }
    }
    if first == 0 {
        return vec![fit(text, size, bold, max_w)];
    }
    vec![
        words[..first].join(" "),
        fit(&words[first..].join(" "), size, bold, max_w),
    ]
}

/// Escapes text for XML character data and attribute values.
pub(super) fn xml_escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// A number without a needless `.0`: 75 → "75", 62.5 → "62.5".
pub(super) fn num(v: f64) -> String {
    let s = format!("{v:.1}");
    match s.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => s,
    }
}
