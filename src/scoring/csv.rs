//! The scores as one tidy CSV table.

use super::RoundScores;
use std::fmt::Write;

/// The header of [`to_csv`].
pub const CSV_HEADER: &str = "level,id,parent,org_type,score,status,n,ci_low,ci_high";

/// One row per score, header first, `\n` line ends:
///
/// | level | id | parent | org_type | score | status | n | ci_low, ci_high |
/// | --- | --- | --- | --- | --- | --- | --- | --- |
/// | `overall` | `overall` | | | ✓ | ✓ | ✓ | ✓ |
/// | `function` | function id | | | ✓ | ✓ | ✓ | ✓ |
/// | `indicator` | indicator id | function id | | ✓ | ✓ | ✓ | |
/// | `question` | question name | indicator id | | ✓ | | ✓ | |
/// | `org_type_overall` | `overall` | | org type | ✓ | | ✓ (responses of the type) | |
/// | `org_type_function` | function id | | org type | ✓ | | | |
///
/// Rows come in that order (functions each followed by their indicators, org types each
/// followed by their functions). Scores are unrounded (shortest representation that reads
/// back as the same `f64`); a missing value is an empty field. Fields containing a comma,
/// quote or line break are quoted (RFC 4180).
pub fn to_csv(scores: &RoundScores) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str(CSV_HEADER);
    out.push('\n');
    let mut row = |level: &str,
                   id: &str,
                   parent: &str,
                   org: &str,
                   score: Option<f64>,
                   status: &str,
                   n: Option<usize>,
                   ci: Option<[f64; 2]>| {
        let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            field(level),
            field(id),
            field(parent),
            field(org),
            num(score),
            field(status),
            n.map(|n| n.to_string()).unwrap_or_default(),
            num(ci.map(|c| c[0])),
            num(ci.map(|c| c[1])),
        );
    };

    let o = &scores.overall;
    row(
        "overall",
        "overall",
        "",
        "",
        o.score,
        o.status.as_str(),
        Some(o.n),
        o.ci95,
    );
    for f in &scores.functions {
        row(
            "function",
            &f.id,
            "",
            "",
            f.score,
            f.status.as_str(),
            Some(f.n),
            f.ci95,
        );
        for i in &f.indicators {
            row(
                "indicator",
                &i.id,
                &f.id,
                "",
                i.score,
                i.status.as_str(),
                Some(i.n),
                None,
            );
        }
    }
    for q in &scores.questions {
        row(
            "question",
            &q.name,
            &q.indicator,
            "",
            Some(q.score),
            "",
            Some(q.n),
            None,
        );
    }
    for g in &scores.by_org_type {
        row(
            "org_type_overall",
            "overall",
            "",
            &g.org_type,
            g.overall,
            "",
            Some(g.n),
            None,
        );
        for f in &g.functions {
            row(
                "org_type_function",
                &f.id,
                "",
                &g.org_type,
                f.score,
                "",
                None,
                None,
            );
        }
    }
    out
}

fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}
