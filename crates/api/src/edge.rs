//! What every request and answer passes at the edge: request ids clients may not abuse, and the
//! headers a security review expects.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::rest::extract::REQUEST_ID;

/// The longest request id a client may choose.
pub const MAX_REQUEST_ID: usize = 64;

/// Whether a client's `X-Request-Id` may be kept: 1 to 64 visible ASCII characters. Anything
/// else is replaced by a generated id, so that it cannot fill logs and the audit log.
pub fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_REQUEST_ID && bytes.iter().all(u8::is_ascii_graphic)
}

/// Drops a request id the client chose that is not acceptable (a generated one replaces it),
/// and every id after the first.
pub async fn request_ids(mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    let keep = headers
        .get(REQUEST_ID)
        .filter(|v| acceptable_request_id(v))
        .cloned();
    headers.remove(REQUEST_ID);
    if let Some(id) = keep {
        headers.insert(REQUEST_ID, id);
    }
    next.run(request).await
}

/// The documentation page may load its script and styles from the page itself and the CDN it
/// names, and may not be framed.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `nosniff` on every answer; `Cache-Control: no-store` on every API answer (tokens and client
/// data must never sit in a cache, RFC 6749 §5.1); a strict CSP and `DENY` framing on `/docs`.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let docs = request.uri().path().starts_with("/docs");
    let api = request.uri().path().starts_with("/v1/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    if docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_visible_request_ids_are_kept() {
        assert!(acceptable_request_id(&HeaderValue::from_static(
            "3f2a-clinic-app-42"
        )));
        let long = "x".repeat(MAX_REQUEST_ID + 1);
        assert!(!acceptable_request_id(
            &HeaderValue::from_str(&long).expect("a header")
        ));
        assert!(!acceptable_request_id(&HeaderValue::from_static(
            "two words"
        )));
        assert!(!acceptable_request_id(&HeaderValue::from_static("")));
    }
}
