//! What a server answers, and what tests send it: organisations, tokens, grants.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use uuid::Uuid;

use crate::pb;

/// An organisation created for a test, with its first administrator logged in.
#[derive(Debug, Clone)]
pub struct Org {
    /// Its id.
    pub id: Uuid,
    /// Its slug, used at login.
    pub slug: String,
    /// The first `org_admin`'s id.
    pub admin_id: Uuid,
    /// The first `org_admin`'s email.
    pub admin_email: String,
    /// An access token of the first `org_admin`.
    pub admin_token: String,
}

/// The tokens of a successful login.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The JWT access token.
    pub access: String,
    /// The refresh token, when the grant issues one.
    pub refresh: Option<String>,
}

/// A REST answer: status, headers and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Value::Null` when it is empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The problem document's `code`, when there is one.
    pub fn code(&self) -> Option<String> {
        self.json()
            .get("code")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The `field` of each entry of a 422's `errors`.
    pub fn invalid_fields(&self) -> Vec<String> {
        self.json()
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.get("field").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The `id` of a created resource.
    pub fn id(&self) -> Uuid {
        self.json()
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or_else(|| panic!("no id in {} {}", self.status, self.text()))
    }

    /// The body as text, for failure messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Panics with the body unless the status is `expected`.
    #[track_caller]
    pub fn expect_status(self, expected: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "expected {expected}, got {}: {}",
            self.status,
            self.text()
        );
        self
    }
}

/// A role grant as REST sends it.
pub fn grant(role: Role, clinic: Option<Uuid>) -> Value {
    json!({ "role": role.as_str(), "clinic_id": clinic })
}

/// A role grant as gRPC sends it.
pub fn pb_grant(role: Role, clinic: Option<Uuid>) -> pb::RoleGrant {
    pb::RoleGrant {
        role: role.as_str().to_owned(),
        clinic_id: clinic.map(|c| c.to_string()),
    }
}

/// Adds `authorization: Bearer <token>` to a gRPC request.
pub fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .expect("a token is valid metadata"),
    );
    request
}

/// The tokens in a token answer.
pub fn tokens_of(body: &Value) -> Tokens {
    Tokens {
        access: body
            .get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no access_token in {body}")),
        refresh: body
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}
