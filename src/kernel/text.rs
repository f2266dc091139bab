//! Text hygiene for what people type, shared by every layer that takes it in.
//!
//! - Names (clusters, operations, organizations, round titles) end up in email headers,
//!   pages and CSV files: control characters (CR/LF among them) and bidirectional
//!   formatting controls are refused with a clear message.
//! - Free text (answers, feedback messages, notes) keeps line breaks, but loses the
//!   bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069),
//!   which can make a stored text display as something else (spoofing in the inbox). The
//!   marks U+200E/U+200F, which only steer neutral characters, are kept: Arabic text uses them.

use std::borrow::Cow;

/// A bidirectional embedding, override or isolate control.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` without bidirectional embedding, override and isolate controls.
pub fn strip_bidi_controls(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_bidi_control) {
        Cow::Owned(s.chars().filter(|c| !is_bidi_control(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Checks a name: not empty after trimming, at most `max` characters, no control characters
/// (line breaks and tabs included) and no bidirectional controls. The message names the
/// problem, for the caller to put under the field's name.
pub fn check_name(value: &str, max: usize) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err("must be one line without control characters".into());
    }
    if v.chars().any(is_bidi_control) {
        return Err(
            "must not contain text-direction control characters (U+202A–U+202E, U+2066–U+2069)"
                .into(),
        );
    }
    Ok(())
}

/// `s` with Arabic-Indic (U+0660–U+0669) and Persian (U+06F0–U+06F9) digits as ASCII
/// digits, and the Arabic decimal separator (U+066B) as a point: people type numbers with
/// the digits of their keyboard, and every place that reads a number reads them all.
pub fn ascii_digits(s: &str) -> Cow<'_, str> {
    let foreign =
        |c: char| matches!(c, '\u{0660}'..='\u{0669}' | '\u{06F0}'..='\u{06F9}' | '\u{066B}');
    if !s.chars().any(foreign) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
                '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
                '\u{066B}' => '.',
                c => c,
            })
            .collect(),
    )
}

/// The name an uploaded file is shown under: its last path segment, without control
/// characters, at most 200 characters; `fallback` when nothing is left.
pub fn file_base_name(file_name: &str, fallback: &str) -> String {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    let base: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(200)
        .collect();
    if base.is_empty() {
        fallback.to_string()
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_file_names_are_the_last_part_and_never_empty() {
        assert_eq!(
            file_base_name("C:\\forms\\wash.xlsx", "upload"),
            "wash.xlsx"
        );
        assert_eq!(file_base_name("../../etc/passwd", "upload"), "passwd");
        assert_eq!(file_base_name("  ", "upload"), "upload");
        assert_eq!(file_base_name("a\u{0}b\u{202e}.toml", "upload"), "ab.toml");
    }

    #[test]
    fn arabic_and_persian_digits_read_as_ascii() {
        assert_eq!(ascii_digits("١٢"), "12");
        assert_eq!(ascii_digits("۳۴٫۵"), "34.5");
        assert_eq!(ascii_digits("x٩"), "x9");
        assert!(matches!(ascii_digits("42"), Cow::Borrowed(_)));
    }

    #[test]
    fn names_refuse_control_and_bidi_characters() {
        assert!(check_name("Relief Org", 200).is_ok());
        assert!(check_name("منظمة الإغاثة", 200).is_ok());
        assert_eq!(check_name("  ", 200).unwrap_err(), "must not be empty");
        assert!(check_name(&"x".repeat(201), 200)
            .unwrap_err()
            .contains("200"));
        for bad in ["Relief\r\nBcc: x@y.org", "Tab\there", "a\u{7}b"] {
            assert!(
                check_name(bad, 200).unwrap_err().contains("control"),
                "{bad:?}"
            );
        }
        assert!(check_name("evil\u{202E}gpj.exe", 200)
            .unwrap_err()
            .contains("text-direction"));
    }

    #[test]
    fn free_text_loses_overrides_and_keeps_marks_and_lines() {
        assert_eq!(strip_bidi_controls("abc\u{202E}fed\u{202C}"), "abcfed");
        assert_eq!(strip_bidi_controls("\u{2067}x\u{2069}"), "x");
        assert_eq!(strip_bidi_controls("a\u{200F}b\nc"), "a\u{200F}b\nc");
        assert!(matches!(strip_bidi_controls("plain"), Cow::Borrowed(_)));
    }
}
