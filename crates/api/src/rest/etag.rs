//! Entity tags: the `ETag` of versioned resources (`"<version>"`), the `If-Match` that guards
//! their changes, and the `If-None-Match` that spares a client a body it already has.
//!
//! `If-Match` follows RFC 9110 §13.1.1: `*` asks for no check; otherwise it is a list of
//! entity tags compared strongly, so a weak tag (`W/"3"`) or a tag this server never issues
//! matches nothing and answers 412. The bare version (`3`) is taken as `"3"`. A header that is
//! not a list of tags at all answers 400, and so does one naming several versions.
//!
//! `If-None-Match` on a `GET` compares weakly (§13.1.2): when it names the version answered,
//! the answer is 304 with the `ETag` and no body.

use axum::extract::{FromRequestParts, Request};
use axum::http::header::{CACHE_CONTROL, ETAG, IF_MATCH, IF_NONE_MATCH, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
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

/// A version no resource has: an `If-Match` naming only tags this server never issues (or weak
/// ones) must fail the check, and this makes it fail as a stale version does.
const NO_VERSION: i64 = -1;

/// One entity tag of a list: weak or strong, and its opaque value.
#[derive(Debug, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    value: &'a str,
}

/// A comma-separated list of entity tags (RFC 9110 §8.8.3), a bare version standing for its
/// quoted form; `None` when it is not one.
fn entity_tags(raw: &str) -> Option<Vec<EntityTag<'_>>> {
    let mut tags = Vec::new();
    let mut rest = raw.trim();
    while !rest.is_empty() {
        let (weak, after) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            let bare = after[..end].trim();
            if weak || bare.is_empty() || !bare.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (bare, &after[end..])
        };
        tags.push(EntityTag { weak, value });
        rest = after.trim_start();
        match rest.strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    (!tags.is_empty()).then_some(tags)
}

/// `Some(None)` for `*`; `Some(Some(v))` for the one version a strong tag names (or
/// [`NO_VERSION`] when no strong tag names a version); `None` when unreadable or naming several
/// versions.
fn parse_if_match(raw: &str) -> Option<Option<i64>> {
    if raw.trim() == "*" {
        return Some(None);
    }
    let mut versions: Vec<i64> = entity_tags(raw)?
        .into_iter()
        .filter(|t| !t.weak && !t.value.is_empty() && t.value.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|t| t.value.parse().ok())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    match versions.as_slice() {
        [] => Some(Some(NO_VERSION)),
        [one] => Some(Some(*one)),
        _ => None,
    }
}

/// Answers 304 to a `GET` whose `If-None-Match` names the `ETag` of the answer (compared
/// weakly; `*` matches any), keeping the `ETag` and caching headers and dropping the body.
pub async fn not_modified(request: Request, next: Next) -> Response {
    let wanted = (request.method() == Method::GET || request.method() == Method::HEAD)
        .then(|| request.headers().get(IF_NONE_MATCH).cloned())
        .flatten();
    let response = next.run(request).await;
    let Some(wanted) = wanted else {
        return response;
    };
    if response.status() != StatusCode::OK {
        return response;
    }
    let Some(etag) = response.headers().get(ETAG).cloned() else {
        return response;
    };
    let Some(raw) = wanted.to_str().ok() else {
        return response;
    };
    let answered = etag.to_str().ok().and_then(entity_tags);
    let matches = raw.trim() == "*"
        || match (entity_tags(raw), answered) {
            (Some(wanted), Some(answered)) => wanted
                .iter()
                .any(|w| answered.iter().any(|a| a.value == w.value)),
            _ => false,
        };
    if !matches {
        return response;
    }
    let mut unchanged = StatusCode::NOT_MODIFIED.into_response();
    for name in [ETAG, CACHE_CONTROL, VARY] {
        if let Some(value) = response.headers().get(&name) {
            unchanged.headers_mut().insert(name, value.clone());
        }
    }
    unchanged
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
    use super::{NO_VERSION, parse_if_match};

    #[test]
    fn if_match_takes_the_quoted_tag_or_the_bare_version() {
        assert_eq!(parse_if_match("\"3\""), Some(Some(3)));
        assert_eq!(parse_if_match(" 12 "), Some(Some(12)));
        assert_eq!(parse_if_match("*"), Some(None));
    }

    #[test]
    fn weak_tags_and_tags_this_server_never_issues_match_nothing() {
        for never in [
            "W/\"3\"",
            "\"abc\"",
            "\"\"",
            "W/\"3\", \"x\"",
            "99999999999999999999",
        ] {
            assert_eq!(parse_if_match(never), Some(Some(NO_VERSION)), "{never}");
        }
        assert_eq!(parse_if_match("W/\"2\", \"3\""), Some(Some(3)));
        assert_eq!(parse_if_match("\"3\", \"3\""), Some(Some(3)));
    }

    #[test]
    fn headers_that_are_not_a_list_of_tags_are_refused() {
        for broken in ["-1", "abc", "\"3", "\"3\" \"4\"", "W/3", ""] {
            assert_eq!(parse_if_match(broken), None, "{broken}");
        }
        assert_eq!(parse_if_match("\"1\", \"2\""), None, "several versions");
    }
}
