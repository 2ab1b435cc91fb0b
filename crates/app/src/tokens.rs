//! Access tokens: JWTs signed with HS256, the one algorithm the server accepts.

use std::fmt;
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
    pub fn verify(&self, token: &str) -> Result<(Uuid, Principal, i32)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "access token refused");
                Error::unauthenticated()
            })?;
        let claims = data.claims;
        if claims.iat > jsonwebtoken::get_current_timestamp() + LEEWAY_SECS {
            return Err(Error::unauthenticated());
        }
        let principal = match claims.kind.as_str() {
            "staff" => Principal::Staff(claims.sub),
            "api_client" => Principal::ApiClient(claims.sub),
            _ => return Err(Error::unauthenticated()),
        };
        Ok((claims.org, principal, claims.sv))
    }
}
