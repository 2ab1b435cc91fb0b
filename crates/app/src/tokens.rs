//! Access tokens: JWTs signed with HS256, the one algorithm the server accepts.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::Principal;
use crate::error::{Error, Result};

/// The fixed signing algorithm: a token naming any other is refused.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// The secret access tokens are signed with. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// Wraps key material; at least 32 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < 32 {
            return Err(format!(
                "the signing key must be at least 32 bytes, got {}",
                bytes.len()
            ));
        }
        Ok(Self(bytes))
    }

    /// The raw key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

/// The claims of an access token; every one is required.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The principal's id.
    pub sub: Uuid,
    /// `staff` or `api_client`.
    pub kind: String,
    /// The organisation id.
    pub org: Uuid,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    pub nbf: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Token id.
    pub jti: Uuid,
    /// The staff member's session version when it was issued (0 for API clients).
    #[serde(default)]
    pub sv: i32,
}

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    verified: Arc<Mutex<HashMap<Box<str>, Verified>>>,
}

/// The most verified tokens kept at once (a few hundred bytes each).
const VERIFIED_CAPACITY: usize = 4_096;

/// What a token's signature and claims were verified to say, and the times that still bound
/// it: a token seen again is the same text, so only these need looking at again.
#[derive(Debug, Clone, Copy)]
struct Verified {
    org: Uuid,
    principal: Principal,
    session: i32,
    exp: u64,
    nbf: u64,
    iat: u64,
}

impl Verified {
    /// Whether the token is still good at `now`: the same checks of `exp`, `nbf` and `iat`,
    /// with the same leeway, as its first verification made.
    fn good_at(&self, now: u64) -> bool {
        self.exp >= now.saturating_sub(LEEWAY_SECS)
            && self.nbf <= now + LEEWAY_SECS
            && self.iat <= now + LEEWAY_SECS
    }
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

/// An access token and its lifetime.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl TokenService {
    /// A service signing with `key` for `issuer` and `audience`.
    pub fn new(key: &SigningKey, issuer: &str, audience: &str, access_ttl: Duration) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "nbf", "iat"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(key.expose()),
            decoding: DecodingKey::from_secret(key.expose()),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl,
            verified: Arc::default(),
        }
    }

    /// Issues an access token for a principal of an organisation.
    pub fn issue(&self, org: Uuid, principal: Principal, session: i32) -> Result<AccessToken> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: principal.id(),
            kind: principal.kind().as_str().to_owned(),
            org,
            exp: now + self.access_ttl.as_secs(),
            nbf: now,
            iat: now,
            jti: Uuid::now_v7(),
            sv: session,
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("cannot sign token: {e}")))?;
        Ok(AccessToken {
            token,
            expires_in: self.access_ttl.as_secs(),
        })
    }

    /// Verifies signature, algorithm and every claim; any failure is a plain 401.
    ///
    /// A token verified before is recognised by its exact text, and only its times are looked
    /// at again: a token differing by one byte is verified afresh, and a refused one is never
    /// kept.
    pub fn verify(&self, token: &str) -> Result<(Uuid, Principal, i32)> {
        let now = jsonwebtoken::get_current_timestamp();
        let known = self.verified().get(token).copied();
        if let Some(known) = known {
            return if known.good_at(now) {
                Ok((known.org, known.principal, known.session))
            } else {
                self.verified().remove(token);
                Err(Error::unauthenticated())
            };
        }
        let verified = self.decode(token, now)?;
        let key: Box<str> = token.into();
        let mut kept = self.verified();
        crate::bounded::make_room(&mut kept, VERIFIED_CAPACITY, &key, |v| v.good_at(now));
        kept.insert(key, verified);
        Ok((verified.org, verified.principal, verified.session))
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Verified>> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The signature and every claim checked.
    fn decode(&self, token: &str, now: u64) -> Result<Verified> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "access token refused");
                Error::unauthenticated()
            })?;
        let claims = data.claims;
        if claims.iat > now + LEEWAY_SECS {
            return Err(Error::unauthenticated());
        }
        let principal = match claims.kind.as_str() {
            "staff" => Principal::Staff(claims.sub),
            "api_client" => Principal::ApiClient(claims.sub),
            _ => return Err(Error::unauthenticated()),
        };
        Ok(Verified {
            org: claims.org,
            principal,
            session: claims.sv,
            exp: claims.exp,
            nbf: claims.nbf,
            iat: claims.iat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        let key = SigningKey::new(vec![7; 32]).expect("a key");
        TokenService::new(
            &key,
            "skinledger",
            "skinledger-api",
            Duration::from_secs(900),
        )
    }

    fn kept(tokens: &TokenService) -> usize {
        tokens.verified().len()
    }

    #[test]
    fn a_verified_token_is_good_within_its_times_and_the_leeway() {
        let at = |exp, nbf, iat| Verified {
            org: Uuid::nil(),
            principal: Principal::Staff(Uuid::nil()),
            session: 0,
            exp,
            nbf,
            iat,
        };
        assert!(at(1_000, 0, 0).good_at(1_030));
        assert!(!at(1_000, 0, 0).good_at(1_031));
        assert!(at(10_000, 1_030, 0).good_at(1_000));
        assert!(!at(10_000, 1_031, 0).good_at(1_000));
        assert!(at(10_000, 0, 1_030).good_at(1_000));
        assert!(!at(10_000, 0, 1_031).good_at(1_000));
    }

    #[test]
    fn a_token_is_kept_once_verified_and_a_refused_one_never() {
        let tokens = service();
        let (org, who) = (Uuid::now_v7(), Principal::Staff(Uuid::now_v7()));
        let token = tokens.issue(org, who, 3).expect("a token").token;
        assert_eq!(tokens.verify(&token).expect("good"), (org, who, 3));
        assert_eq!(tokens.verify(&token).expect("good again"), (org, who, 3));
        assert_eq!(kept(&tokens), 1);
        let (message, signature) = token.rsplit_once('.').expect("three parts");
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{message}.{first}{}", &signature[1..]);
        for _ in 0..2 {
            assert!(tokens.verify(&forged).is_err());
        }
        let other = TokenService::new(
            &SigningKey::new(vec![8; 32]).expect("a key"),
            "skinledger",
            "skinledger-api",
            Duration::from_secs(900),
        );
        assert!(other.verify(&token).is_err(), "another key");
        assert_eq!(kept(&tokens), 1);
    }

    #[test]
    fn the_tokens_kept_never_exceed_their_capacity() {
        let tokens = service();
        let org = Uuid::now_v7();
        for _ in 0..VERIFIED_CAPACITY + 10 {
            let token = tokens
                .issue(org, Principal::ApiClient(Uuid::now_v7()), 0)
                .expect("a token")
                .token;
            tokens.verify(&token).expect("good");
            assert!(kept(&tokens) <= VERIFIED_CAPACITY);
        }
    }
}
