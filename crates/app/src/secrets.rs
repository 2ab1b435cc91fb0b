//! Password hashing (argon2id) and random secrets stored by hash (refresh tokens, API client
//! secrets: high-entropy, so a SHA-256 digest is enough and keeps their checks cheap).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Hashes a password with argon2id and a random salt, off the async threads.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
}

/// Checks a password against a stored hash, off the async threads. With no stored hash (an
/// unknown account) a dummy hash is checked instead, so both answers take as long.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && ok
    })
    .await
    .map_err(|e| Error::Internal(format!("password check task failed: {e}")))
}

/// A hash of a random secret with the same parameters as real ones, made once, checked for
/// unknown accounts so that they cost the same time as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(random_secret("").as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// A new random secret of 32 bytes, base64url, with a readable prefix (`slr_`, `sls_`).
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new random identifier of 16 bytes, hex, with a prefix.
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// The SHA-256 digest of a secret, hex, as stored.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two digests in constant time.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery".into())
            .await
            .unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap_or(false)
        );
        assert!(
            !verify_password("wrong horse battery".into(), Some(hash))
                .await
                .unwrap_or(true)
        );
        assert!(
            !verify_password("anything".into(), None)
                .await
                .unwrap_or(true)
        );
    }

    #[test]
    fn secrets_are_random_and_digests_compare() {
        let (a, b) = (random_secret("slr_"), random_secret("slr_"));
        assert_ne!(a, b);
        assert!(digests_match(&digest(&a), &digest(&a)));
        assert!(!digests_match(&digest(&a), &digest(&b)));
    }
}
