//! The packed item scores of a response (`responses.scores`): one score per column of the
//! survey version's layout (`response_score_columns.position`), as decimal text joined by
//! `,`, empty where the response has no score (`"100,75,,50"`). A row may be shorter than
//! the layout (columns added later have no score). The text holds each `f64` exactly: the
//! app writes Rust's shortest round-trip form, the migration SQLite's `quote()` or
//! PostgreSQL's `float8` text, all of which read back as the same double.

/// Packs scores in column order (`None`: no score).
pub fn encode(scores: &[Option<f64>]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(scores.len() * 4);
    for (c, s) in scores.iter().enumerate() {
        if c > 0 {
            out.push(',');
        }
        if let Some(v) = s {
            write!(out, "{v}").expect("writing to a string");
        }
    }
    // Trailing columns without a score cost nothing.
    let kept = out.trim_end_matches(',').len();
    out.truncate(kept);
    out
}

/// Appends the scores of one packed row to `out`, `NaN` where there is none; returns how
/// many columns it held.
pub fn decode_into(text: &str, out: &mut Vec<f64>) -> Result<usize, String> {
    if text.is_empty() {
        return Ok(0);
    }
    let bytes = text.as_bytes();
    let mut n = 0;
    let mut start = 0;
    loop {
        // One cell, read as a whole number on the way when it is one.
        let mut end = start;
        let mut whole = 0u64;
        let mut digits_only = true;
        while end < bytes.len() && bytes[end] != b',' {
            let d = bytes[end].wrapping_sub(b'0');
            if d > 9 {
                digits_only = false;
            }
            whole = whole.wrapping_mul(10).wrapping_add(u64::from(d));
            end += 1;
        }
        let cell = &text[start..end];
        out.push(
            parse_cell(cell, digits_only.then_some(whole))
                .ok_or_else(|| format!("not a score: {cell:?}"))?,
        );
        n += 1;
        if end == bytes.len() {
            return Ok(n);
        }
        start = end + 1;
    }
}

/// The scores of one packed row (`None`: no score).
pub fn decode(text: &str) -> Result<Vec<Option<f64>>, String> {
    let mut v = Vec::new();
    decode_into(text, &mut v)?;
    Ok(v.into_iter().map(|s| (!s.is_nan()).then_some(s)).collect())
}

/// A cell's score: `NaN` when empty. `whole` is its value when it holds digits only.
fn parse_cell(cell: &str, whole: Option<u64>) -> Option<f64> {
    if cell.is_empty() {
        return Some(f64::NAN);
    }
    // Most option scores are small whole numbers: read those without the float parser.
    match whole {
        Some(n) if cell.len() <= 15 => Some(n as f64),
        _ => cell.parse::<f64>().ok().filter(|v| !v.is_nan()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_double_exactly() {
        let values = [
            Some(0.0),
            Some(100.0),
            None,
            Some(66.666_666_666_666_67),
            Some(0.1),
            Some(-2.5e-300),
            Some(1e21),
            None,
        ];
        let text = encode(&values);
        assert_eq!(text.matches(',').count(), 6, "{text}");
        let back = decode(&text).unwrap();
        assert_eq!(back.len(), 7);
        assert_eq!(&back[..], &values[..7]);
        for v in values.iter().flatten() {
            assert_eq!(
                decode(&encode(&[Some(*v)])).unwrap()[0].unwrap().to_bits(),
                v.to_bits()
            );
        }
    }

    #[test]
    fn reads_the_forms_the_migrations_write() {
        // SQLite quote(): "75.0", "6.66666666666666714036e+01"; PostgreSQL: "66.66666666666667".
        let row = decode("75.0,6.66666666666666714036e+01,,66.66666666666667").unwrap();
        assert_eq!(
            row,
            vec![Some(75.0), Some(200.0 / 3.0), None, Some(200.0 / 3.0)]
        );
        assert_eq!(decode("").unwrap(), Vec::<Option<f64>>::new());
        assert!(decode("75,x").is_err());
        assert!(decode("NaN").is_err());
        assert_eq!(encode(&[None, None]), "");
        assert_eq!(encode(&[Some(1.0), None]), "1");
    }
}
