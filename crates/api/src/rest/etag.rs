//! Entity tags: the `ETag` of versioned resources (`"<version>"`) and the `If-Match` that
//! guards their changes.
//!
//! `If-Match` takes the tag as answered (`"3"`) or the bare version (`3`); `*` asks for no
//! check. Anything else answers 400 rather than 412: a tag this server never issues is a
//! client bug, and 412 would send the client to re-read and retry with the same broken header.

use axum::extract::FromRequestParts;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use skinledger_app::Error;

use crate::error::ApiError;

/// The optional `If-Match` header, as the version it names.
#[derive(Debug, Clone, Copy, Default)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        value
            .to_str()
            .ok()
            .and_then(parse_if_match)
            .map(IfMatch)
            .ok_or_else(|| {
                ApiError(Error::BadRequest(
                    "If-Match must be the ETag answered by GET, such as \"3\"".into(),
                ))
            })
    }
}

/// `Some(None)` for `*`, `Some(Some(v))` for `"v"` or `v`, `None` when unreadable.
fn parse_if_match(raw: &str) -> Option<Option<i64>> {
    let raw = raw.trim();
    if raw == "*" {
        return Some(None);
    }
    let unquoted = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let digits_only = !unquoted.is_empty() && unquoted.bytes().all(|b| b.is_ascii_digit());
    digits_only
        .then(|| unquoted.parse().ok())
        .flatten()
        .map(Some)
}

/// An answer with an `ETag` of the version it shows, when it shows one.
#[derive(Debug)]
pub struct Tagged<T> {
    /// The version, absent when the caller may not see it.
    pub version: Option<i64>,
    /// The answer.
    pub body: T,
}

impl<T> Tagged<T> {
    /// `body`, tagged with `version`.
    pub fn new(version: Option<i64>, body: T) -> Self {
        Self { version, body }
    }
}

/// The `ETag` header of `version`.
pub fn etag_headers(version: Option<i64>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(value) = version.and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok()) {
        headers.insert(ETAG, value);
    }
    headers
}

impl<T: IntoResponse> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        (etag_headers(self.version), self.body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_if_match;

    #[test]
    fn if_match_takes_the_quoted_tag_or_the_bare_version() {
        assert_eq!(parse_if_match("\"3\""), Some(Some(3)));
        assert_eq!(parse_if_match(" 12 "), Some(Some(12)));
        assert_eq!(parse_if_match("*"), Some(None));
    }

    #[test]
    fn if_match_refuses_tags_this_server_never_issues() {
        assert_eq!(parse_if_match("W/\"3\""), None);
        assert_eq!(parse_if_match("\"abc\""), None);
        assert_eq!(parse_if_match("\"\""), None);
        assert_eq!(parse_if_match("-1"), None);
        assert_eq!(parse_if_match("\"1\", \"2\""), None);
        assert_eq!(parse_if_match("99999999999999999999"), None);
    }
}
