//! Token requests and answers as they travel: the grant types, the OAuth 2 form and the token
//! answer, and who the caller is.

use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use uuid::Uuid;

use crate::audit::ActorKind;
use crate::error::{Error, Result};
pub use crate::grants::RoleGrant;
use crate::tokens::AccessToken;

/// A token request, by grant type.
#[derive(Debug, Clone)]
pub enum TokenGrant {
    /// A staff member's password.
    Password {
        /// The organisation's slug.
        org: String,
        /// The login email.
        email: String,
        /// The password.
        password: String,
    },
    /// A refresh token from an earlier answer.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
    },
    /// An API client's credentials.
    ClientCredentials {
        /// The public client id.
        client_id: String,
        /// The client secret.
        client_secret: String,
    },
}

skinledger_domain::wire_enum! {
    /// How an access token is presented: `Authorization: Bearer <token>`.
    #[derive(utoipa::ToSchema)]
    pub enum TokenType ("token type", schema by hand) {
        /// The only kind issued.
        Bearer => "Bearer",
    }
}

skinledger_domain::wire_enum! {
    /// The grant types of `POST /v1/auth/token`.
    pub enum GrantType ("grant type", refusal lists names) {
        /// A staff member's organisation, email and password.
        Password => "password",
        /// A refresh token from an earlier answer.
        RefreshToken => "refresh_token",
        /// An API client's id and secret.
        ClientCredentials => "client_credentials",
    }
}

/// A token request as sent: the grant type and the fields it needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// `password`, `refresh_token` or `client_credentials`. (Read as text, so that an unknown
    /// grant type is refused naming the ones there are.)
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    /// The organisation's slug (password grant).
    pub org: Option<String>,
    /// The login email (password grant).
    pub email: Option<String>,
    /// The password (password grant).
    pub password: Option<String>,
    /// The refresh token (refresh_token grant).
    pub refresh_token: Option<String>,
    /// The client id (client_credentials grant).
    pub client_id: Option<String>,
    /// The client secret (client_credentials grant).
    pub client_secret: Option<String>,
}

impl TokenRequest {
    /// Checks that the grant type is known and its fields are present, naming each missing one.
    pub fn into_grant(self) -> Result<TokenGrant> {
        fn need(errors: &mut ValidationErrors, field: &str, value: Option<String>) -> String {
            match value.filter(|v| !v.is_empty()) {
                Some(v) => v,
                None => {
                    errors.add(field, "is required for this grant_type");
                    String::new()
                }
            }
        }
        let mut errors = ValidationErrors::new();
        let grant_type = self.grant_type.parse::<GrantType>().ok();
        let grant = match grant_type {
            Some(GrantType::Password) => TokenGrant::Password {
                org: need(&mut errors, "org", self.org),
                email: need(&mut errors, "email", self.email),
                password: need(&mut errors, "password", self.password),
            },
            Some(GrantType::RefreshToken) => TokenGrant::RefreshToken {
                refresh_token: need(&mut errors, "refresh_token", self.refresh_token),
            },
            Some(GrantType::ClientCredentials) => TokenGrant::ClientCredentials {
                client_id: need(&mut errors, "client_id", self.client_id),
                client_secret: need(&mut errors, "client_secret", self.client_secret),
            },
            None => {
                return Err(Error::invalid(
                    "grant_type",
                    "must be password, refresh_token or client_credentials",
                ));
            }
        };
        errors.into_result()?;
        Ok(grant)
    }
}

/// The answer to a token request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenAnswer {
    /// The JWT access token.
    pub access_token: String,
    /// How to present the access token.
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// A refresh token (not for client credentials).
    pub refresh_token: Option<String>,
}

impl TokenAnswer {
    /// The answer carrying `access`, as a bearer token, and a refresh token when one was issued.
    pub(crate) fn bearer(access: AccessToken, refresh_token: Option<String>) -> Self {
        Self {
            access_token: access.token,
            token_type: TokenType::Bearer,
            expires_in: access.expires_in,
            refresh_token,
        }
    }
}

/// Who the caller is.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    /// `staff` or `api_client`.
    pub kind: ActorKind,
    /// The staff member's or API client's id.
    pub id: Uuid,
    /// The staff member's email (none for API clients).
    pub email: Option<String>,
    /// The display name.
    pub name: String,
    /// The organisation's id.
    pub organization_id: Uuid,
    /// The organisation's slug.
    pub organization_slug: String,
    /// The organisation's name.
    pub organization_name: String,
    /// Roles per clinic and organisation-wide.
    pub roles: Vec<RoleGrant>,
}
