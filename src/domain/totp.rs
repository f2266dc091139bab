//! Two-factor sign-in with authenticator apps: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s
//! steps, one step of clock drift either way) and ten one-time recovery codes.
//!
//! The secret is sealed with AES-256-GCM under the server key, bound to its user id; the
//! last accepted time step is kept, so a code (or an older one) is refused the second
//! time. Recovery codes are stored as SHA-256 digests and work once each.

use crate::db::schema::{totp_credentials, totp_recovery_codes};
use crate::db::DbConnection;
use crate::kernel::error::AppError;
use crate::kernel::secrets;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
pub const RECOVERY_CODES: usize = 10;
const SEAL_PURPOSE: &[u8] = b"totp secret v1";
const ISSUER: &str = "clusterpulse";

/// The HOTP value (RFC 4226) of `secret` at counter `step`.
pub fn code_at(secret: &[u8], step: u64) -> u32 {
    let mut m = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key size");
    m.update(&step.to_be_bytes());
    let h = m.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    bin % 10u32.pow(DIGITS)
}

/// The time step of `now` (seconds since 1970 divided by 30).
pub fn step_of(now: NaiveDateTime) -> i64 {
    now.and_utc().timestamp().div_euclid(STEP_SECONDS)
}

/// RFC 4648 base32 without padding, as authenticator apps take it.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A new secret to show once: base32 and the `otpauth://` URI for a QR code.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// Type this into the authenticator app if it cannot read the URI.
    pub secret: String,
    /// `otpauth://totp/clusterpulse:EMAIL?secret=…&issuer=clusterpulse`
    pub uri: String,
}

fn reference(user_id: i32) -> String {
    format!("user:{user_id}")
}

/// Whether the account has an authenticator confirmed.
pub fn is_enabled(conn: &mut DbConnection, user_id: i32) -> Result<bool, AppError> {
    Ok(totp_credentials::table
        .find(user_id)
        .filter(totp_credentials::confirmed_at.is_not_null())
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Starts (or starts again) enrolment: a fresh secret, not in use until confirmed. Refused
/// while one is already confirmed (turn it off first).
pub fn begin(
    conn: &mut DbConnection,
    key: &str,
    user_id: i32,
    email: &str,
    now: NaiveDateTime,
) -> Result<Enrolment, AppError> {
    if is_enabled(conn, user_id)? {
        return Err(AppError::Conflict(
            "an authenticator app is already set up for this account; turn it off first to set up another".into(),
        ));
    }
    let mut raw = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = base32(&raw);
    let sealed =
        crate::domain::feedback::crypto::seal_for(key, SEAL_PURPOSE, &reference(user_id), &secret);
    diesel::delete(totp_credentials::table.find(user_id)).execute(conn)?;
    diesel::insert_into(totp_credentials::table)
        .values((
            totp_credentials::user_id.eq(user_id),
            totp_credentials::secret_sealed.eq(sealed),
            totp_credentials::created_at.eq(now),
        ))
        .execute(conn)?;
    let label = urlencoding(&format!("{ISSUER}:{email}"));
    Ok(Enrolment {
        uri: format!("otpauth://totp/{label}?secret={secret}&issuer={ISSUER}"),
        secret,
    })
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode_base32(s: &str) -> Option<Vec<u8>> {
    let (mut buf, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        } as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// Checks a 6-digit code at `now` (±1 step) against the stored secret and the last step
/// used; an accepted code moves the last step on, so it cannot be used again.
fn accept_code(
    conn: &mut DbConnection,
    key: &str,
    user_id: i32,
    code: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let Some((sealed, last)) = totp_credentials::table
        .find(user_id)
        .select((totp_credentials::secret_sealed, totp_credentials::last_step))
        .first::<(String, Option<i64>)>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    let secret =
        crate::domain::feedback::crypto::open_for(key, SEAL_PURPOSE, &reference(user_id), &sealed)
            .and_then(|s| decode_base32(&s))
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "the TOTP secret of user {user_id} does not open"
                ))
            })?;
    let now_step = step_of(now);
    let given: u32 = code.parse().unwrap_or(u32::MAX);
    let matched = (now_step - 1..=now_step + 1)
        .filter(|s| *s >= 0 && last.is_none_or(|l| *s > l))
        .find(|s| code_at(&secret, *s as u64) == given);
    let Some(step) = matched else {
        return Ok(false);
    };
    // Only moves forward: two requests racing with the same code cannot both win.
    let moved = diesel::update(
        totp_credentials::table.find(user_id).filter(
            totp_credentials::last_step
                .is_null()
                .or(totp_credentials::last_step.lt(step)),
        ),
    )
    .set(totp_credentials::last_step.eq(step))
    .execute(conn)?;
    Ok(moved == 1)
}

/// Turns the authenticator on with its first code; the ten recovery codes to show once.
pub fn confirm(
    conn: &mut DbConnection,
    key: &str,
    user_id: i32,
    code: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, AppError> {
    let pending = totp_credentials::table
        .find(user_id)
        .filter(totp_credentials::confirmed_at.is_null())
        .count()
        .get_result::<i64>(conn)?;
    if pending == 0 {
        return Err(AppError::Conflict(
            "there is no authenticator set-up waiting to be confirmed; start with POST /api/v1/account/totp".into(),
        ));
    }
    if !accept_code(conn, key, user_id, code, now)? {
        return Err(AppError::field(
            "code",
            "is not the current code of the authenticator app",
        ));
    }
    diesel::update(totp_credentials::table.find(user_id))
        .set(totp_credentials::confirmed_at.eq(Some(now)))
        .execute(conn)?;
    diesel::delete(totp_recovery_codes::table.filter(totp_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    for c in &codes {
        diesel::insert_into(totp_recovery_codes::table)
            .values((
                totp_recovery_codes::user_id.eq(user_id),
                totp_recovery_codes::code_hash.eq(secrets::hash_token(&normalise(c))),
            ))
            .execute(conn)?;
    }
    crate::db::models::audit(
        conn,
        Some(user_id),
        "totp.enable",
        &reference(user_id),
        serde_json::json!({}),
    )?;
    Ok(codes)
}

/// `xxxxx-xxxxx` from 50 random bits in base32 (lowercase).
fn recovery_code() -> String {
    let mut raw = [0u8; 7];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let s = base32(&raw).to_lowercase();
    format!("{}-{}", &s[0..5], &s[5..10])
}

fn normalise(code: &str) -> String {
    code.trim().to_lowercase().replace(['-', ' '], "")
}

/// How a second factor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Code,
    Recovery,
}

/// Checks a code from the app, or else a recovery code (spent by this use); `None` when
/// neither matches.
pub fn verify(
    conn: &mut DbConnection,
    key: &str,
    user_id: i32,
    code: &str,
    now: NaiveDateTime,
) -> Result<Option<Proof>, AppError> {
    if !is_enabled(conn, user_id)? {
        return Ok(None);
    }
    if accept_code(conn, key, user_id, code, now)? {
        return Ok(Some(Proof::Code));
    }
    let hash = secrets::hash_token(&normalise(code));
    let spent = diesel::update(
        totp_recovery_codes::table
            .filter(totp_recovery_codes::user_id.eq(user_id))
            .filter(totp_recovery_codes::code_hash.eq(hash))
            .filter(totp_recovery_codes::used_at.is_null()),
    )
    .set(totp_recovery_codes::used_at.eq(Some(now)))
    .execute(conn)?;
    if spent == 0 {
        return Ok(None);
    }
    let left: i64 = totp_recovery_codes::table
        .filter(totp_recovery_codes::user_id.eq(user_id))
        .filter(totp_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?;
    crate::db::models::audit(
        conn,
        Some(user_id),
        "totp.recovery_code_used",
        &reference(user_id),
        serde_json::json!({"left": left}),
    )?;
    Ok(Some(Proof::Recovery))
}

/// Turns the authenticator off, given a current code or a recovery code; refused when the
/// account's role requires it.
pub fn disable(
    conn: &mut DbConnection,
    key: &str,
    user_id: i32,
    code: &str,
    required: bool,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    if !is_enabled(conn, user_id)? {
        return Err(AppError::Conflict(
            "no authenticator app is set up for this account".into(),
        ));
    }
    if required {
        return Err(AppError::Forbidden(
            "your role requires sign-in with an authenticator app; it cannot be turned off".into(),
        ));
    }
    if verify(conn, key, user_id, code, now)?.is_none() {
        return Err(AppError::field(
            "code",
            "is neither the current code nor an unused recovery code",
        ));
    }
    diesel::delete(totp_credentials::table.find(user_id)).execute(conn)?;
    diesel::delete(totp_recovery_codes::table.filter(totp_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    crate::db::models::audit(
        conn,
        Some(user_id),
        "totp.disable",
        &reference(user_id),
        serde_json::json!({}),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, secret "12345678901234567890", last 6 of the 8 digits.
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59u64, 287082),
            (1111111109, 81804),
            (1234567890, 5924),
            (2000000000, 279037),
        ] {
            assert_eq!(code_at(secret, t / 30), want, "t={t}");
        }
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        let raw = [7u8; 20];
        assert_eq!(decode_base32(&base32(&raw)).unwrap(), raw);
        assert_eq!(normalise(" AbCde-fghij "), "abcdefghij");
    }
}
