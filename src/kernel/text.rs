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

#[cfg(test)]
mod tests {
    use super::*;

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
