//! Contact details at rest: sealed with AES-256-GCM under the server key.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

const PREFIX: &str = "v1:";

const CONTACT_KEY: &[u8] = b"feedback contact details v1";

fn cipher(secret: &str, purpose: &[u8]) -> Aes256Gcm {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"clusterpulse"), secret.as_bytes());
    let mut key = [0u8; 32];
    hk.expand(purpose, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    Aes256Gcm::new(&key.into())
}

/// AES-256-GCM with a random 96-bit nonce; the item's reference is bound as associated
/// data, so a ciphertext copied onto another item does not decrypt.
pub fn seal(secret: &str, reference: &str, plain: &str) -> String {
    seal_for(secret, CONTACT_KEY, reference, plain)
}

pub fn open(secret: &str, reference: &str, sealed: &str) -> Option<String> {
    open_for(secret, CONTACT_KEY, reference, sealed)
}

/// [`seal`] under a key of its own for `purpose` (HKDF info), e.g. authenticator secrets.
pub fn seal_for(secret: &str, purpose: &[u8], reference: &str, plain: &str) -> String {
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ct = cipher(secret, purpose)
        .encrypt(
            Nonce::from_slice(&nonce),
            aes_gcm::aead::Payload {
                msg: plain.as_bytes(),
                aad: reference.as_bytes(),
            },
        )
        .expect("AES-GCM encryption does not fail for small inputs");
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&ct);
    format!("{PREFIX}{}", STANDARD.encode(blob))
}

pub fn open_for(secret: &str, purpose: &[u8], reference: &str, sealed: &str) -> Option<String> {
    let blob = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
    if blob.len() < 12 + 16 {
        return None;
    }
    let (nonce, ct) = blob.split_at(12);
    let plain = cipher(secret, purpose)
        .decrypt(
            Nonce::from_slice(nonce),
            aes_gcm::aead::Payload {
                msg: ct,
                aad: reference.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(plain).ok()
}
