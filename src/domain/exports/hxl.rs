//! The HXL hashtags of the export columns (<https://hxlstandard.org/standard/1-1final/>).
//! A hashtag is `#tag` followed by `+attribute`s, all lowercase letters, digits and `_`,
//! starting with a letter. README, "Exports and feeds", lists the mapping.

/// `s` as an HXL attribute: lowercase, every other character `_`, never starting with a
/// digit (`1.1` → `i1_1`).
pub fn attribute(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert(0, 'i');
    }
    out
}

/// The hashtag of a question's column: `#indicator+i1_1+<name>` for a scored question,
/// `#meta+answer+<name>` otherwise; select questions add `+code` (codes) or `+name`
/// (labels).
pub fn question(name: &str, indicator: Option<&str>, select: bool, labels: bool) -> String {
    let mut tag = match indicator {
        Some(i) => format!("#indicator+{}+{}", attribute(i), attribute(name)),
        None => format!("#meta+answer+{}", attribute(name)),
    };
    if select {
        tag.push_str(if labels { "+name" } else { "+code" });
    }
    tag
}

/// The hashtag of one choice's 0/1 column of a select-multiple question.
pub fn choice(name: &str, indicator: Option<&str>, value: &str) -> String {
    format!(
        "{}+{}",
        question(name, indicator, false, false),
        attribute(value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_valid_hxl() {
        assert_eq!(attribute("1.1"), "i1_1");
        assert_eq!(attribute("Meetings-Useful"), "meetings_useful");
        assert_eq!(
            question("meetings_useful", Some("1.1"), true, false),
            "#indicator+i1_1+meetings_useful+code"
        );
        assert_eq!(
            choice("gaps", None, "don't know"),
            "#meta+answer+gaps+don_t_know"
        );
    }
}
