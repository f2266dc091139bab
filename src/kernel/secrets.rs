//! Credentials: Argon2id passwords, random tokens stored as SHA-256 digests, and signed
//! session cookies. Pure functions; the HTTP side lives in `web::auth`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form of a bearer or invitation token: hex SHA-256. Tokens carry ≥128 bits of
/// entropy, so a fast hash is sufficient (no salt or stretching needed).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the account does not exist, so that timing does not tell
/// which emails have accounts.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

pub const MIN_PASSWORD_LEN: usize = 10;

/// The 10,000 most common passwords (`assets/passwords/`, from zxcvbn; see its header).
const COMMON_PASSWORDS: &str = include_str!("../../assets/passwords/common-passwords.txt");

fn is_common(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    });
    set.contains(password.trim().to_lowercase().as_str())
}

/// The rule for every password that is set (CLI, invitation and reset links, changing
/// one's own): long enough, and not one of the most common passwords.
pub fn check_password_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "the password must be at least {MIN_PASSWORD_LEN} characters long"
        ));
    }
    if is_common(password) {
        return Err(
            "this password is one of the 10,000 most common ones, which are tried first; choose another"
                .into(),
        );
    }
    Ok(())
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, purpose: &str, data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key size");
    m.update(purpose.as_bytes());
    m.update(b"\0");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// A keyed digest for other purposes (e.g. anonymous CSRF tokens on public forms).
pub fn keyed_digest(secret: &str, purpose: &str, data: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, purpose, data.as_bytes()))
}

/// Constant-time string comparison.
pub fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert!(check_password_strength("short").is_err());
        // Long enough, but on the list (in any case).
        for common in ["1234567890", "qwertyuiop", "Password123", "MANCHESTER"] {
            let e = check_password_strength(common).unwrap_err();
            assert!(e.contains("common"), "{common}: {e}");
        }
        assert!(check_password_strength("correct horse battery staple").is_ok());
        let listed = COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count();
        assert_eq!(listed, 10_000);
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(32);
        let b = random_token(32);
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
