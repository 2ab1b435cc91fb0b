//! Webhook secrets and signatures, as the Standard Webhooks specification defines them.
//!
//! A secret is `whsec_` followed by the standard base64 of 32 random bytes. A delivery is
//! signed with HMAC-SHA256, keyed with those bytes, over `{webhook-id}.{webhook-timestamp}.{body}`,
//! and the signature travels as `v1,<standard base64>` in the `webhook-signature` header, so
//! that receivers verify it with the specification's own libraries.
//!
//! The secret is stored sealed: XORed with a key derived (SHA-256) from the server's token
//! signing key and a random nonce kept beside it, with a short check value that tells a wrong
//! key from a right one. A copy of the database alone does not reveal it.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::SigningKey;

/// The prefix of webhook secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// The random bytes of a secret.
const SECRET_LEN: usize = 32;
const NONCE_LEN: usize = 16;
const CHECK_LEN: usize = 8;

/// A new secret: its text as shown to the integrator, and its key bytes.
pub(crate) fn new_secret() -> (String, [u8; SECRET_LEN]) {
    let mut bytes = [0u8; SECRET_LEN];
    rand::rng().fill_bytes(&mut bytes);
    (text(&bytes), bytes)
}

/// The text of a secret: `whsec_` and the standard base64 of its bytes.
pub(crate) fn text(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

fn pad(key: &SigningKey, nonce: &[u8]) -> [u8; SECRET_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(b"skinledger webhook secret\0");
    hasher.update(key.expose());
    hasher.update(nonce);
    hasher.finalize().into()
}

fn check(key: &SigningKey, secret: &[u8]) -> [u8; CHECK_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(b"skinledger webhook secret check\0");
    hasher.update(key.expose());
    hasher.update(secret);
    let digest: [u8; 32] = hasher.finalize().into();
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&digest[..CHECK_LEN]);
    out
}

/// Seals a secret's bytes for storage with a key derived from `key`.
pub(crate) fn seal(secret: &[u8; SECRET_LEN], key: &SigningKey) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let pad = pad(key, &nonce);
    let mut sealed = Vec::with_capacity(NONCE_LEN + SECRET_LEN + CHECK_LEN);
    sealed.extend_from_slice(&nonce);
    sealed.extend(secret.iter().zip(pad.iter()).map(|(s, p)| s ^ p));
    sealed.extend_from_slice(&check(key, secret));
    URL_SAFE_NO_PAD.encode(sealed)
}

/// Opens what [`seal`] sealed; `None` when it was sealed with another key (the signing key
/// changed) or is not a seal.
pub(crate) fn unseal(sealed: &str, key: &SigningKey) -> Option<[u8; SECRET_LEN]> {
    let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if raw.len() != NONCE_LEN + SECRET_LEN + CHECK_LEN {
        return None;
    }
    let (nonce, rest) = raw.split_at(NONCE_LEN);
    let (body, stored_check) = rest.split_at(SECRET_LEN);
    let pad = pad(key, nonce);
    let mut secret = [0u8; SECRET_LEN];
    for (out, (b, p)) in secret.iter_mut().zip(body.iter().zip(pad.iter())) {
        *out = b ^ p;
    }
    let expected = check(key, &secret);
    let same = expected
        .iter()
        .zip(stored_check)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    same.then_some(secret)
}

/// The `webhook-signature` value of a delivery: `v1,` and the standard base64 of
/// HMAC-SHA256(secret, `{id}.{timestamp}.{body}`).
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this cannot happen.
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::new(vec![byte; 32]).expect("a 32-byte key")
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_only_and_does_not_show_in_the_seal() {
        let (shown, bytes) = new_secret();
        assert!(shown.starts_with("whsec_"));
        let sealed = seal(&bytes, &key(1));
        assert!(!sealed.contains(&shown[SECRET_PREFIX.len()..]));
        assert_eq!(unseal(&sealed, &key(1)), Some(bytes));
        assert_eq!(unseal(&sealed, &key(2)), None);
        assert_eq!(unseal("not a seal", &key(1)), None);
        // Each seal has its own nonce.
        assert_ne!(seal(&bytes, &key(1)), sealed);
    }

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("base64");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
