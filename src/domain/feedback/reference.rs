//! Reference codes: what a person keeps to follow their feedback, and how typed ones are read back.

/// Crockford's base-32 alphabet: no I, L, O or U, so codes read out over a phone line or
/// copied by hand are not misread.
const REF_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new reference like `FB-7KQ2-9XW3` (40 random bits).
pub fn new_reference() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut s = String::from("FB-");
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        s.push(REF_ALPHABET[rng.gen_range(0..REF_ALPHABET.len())] as char);
    }
    s
}

/// Normalises what a person typed (case, spaces, look-alike letters) into a reference, or
/// `None` when it cannot be one.
pub fn normalize_reference(input: &str) -> Option<String> {
    let mut chars: Vec<char> = crate::kernel::text::ascii_digits(input.trim())
        .to_ascii_uppercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if chars.len() == 10 && chars[0] == 'F' && chars[1] == 'B' {
        chars.drain(0..2);
    }
    if chars.len() != 8 {
        return None;
    }
    let mut out = String::from("FB-");
    for (i, c) in chars.into_iter().enumerate() {
        let c = match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !REF_ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        if i == 4 {
            out.push('-');
        }
        out.push(c);
    }
    Some(out)
}
