//! What every request and answer passes at the edge: request ids callers may not abuse, the
//! caller's trace, the caller's address, and the headers a security review expects.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::common::REQUEST_ID;

/// The longest request id a caller may choose.
pub const MAX_REQUEST_ID: usize = 64;

/// Whether a caller's `X-Request-Id` may be kept: 1 to 64 visible ASCII characters. Anything
/// else is replaced by a generated id, so that it cannot fill logs and the audit log.
pub fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_REQUEST_ID && bytes.iter().all(u8::is_ascii_graphic)
}

/// Drops a request id the caller chose that is not acceptable (a generated one replaces it),
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

/// Joins a request's span to the caller's trace when the request carries a W3C `traceparent`
/// (an HTTP header, or gRPC metadata), and names the trace in the span's `trace_id` field, so
/// log lines and exported spans can be found from the caller's side. With OpenTelemetry export
/// on, a request without `traceparent` starts a trace of its own, named the same way.
pub fn join_trace(span: &tracing::Span, headers: &HeaderMap) {
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::{TraceContextExt as _, TraceId};
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    let parent = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&TraceHeaders(headers));
    let remote = parent.span().span_context().trace_id();
    if remote != TraceId::INVALID {
        let _ = span.set_parent(parent);
    }
    let own = span.context().span().span_context().trace_id();
    let trace_id = if own == TraceId::INVALID { remote } else { own };
    if trace_id != TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// Request headers as OpenTelemetry's propagators read them.
struct TraceHeaders<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for TraceHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The address a request came from: the peer's, or, behind `trusted_proxy_hops` proxies, the
/// one the outermost trusted proxy saw (in `X-Forwarded-For`). Login throttling counts per
/// address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerAddr(pub IpAddr);

/// Works out the caller's address and keeps it with the request, for throttling and logs.
/// Each trusted proxy appends the address it received from to `X-Forwarded-For`, so the
/// `hops`-th entry from the right is the one the outermost trusted proxy saw; entries further
/// left are the caller's own say and are ignored.
pub async fn caller_address(State(hops): State<u8>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(addr) = caller_addr(peer, request.headers(), hops) {
        request.extensions_mut().insert(CallerAddr(addr));
    }
    next.run(request).await
}

/// The address a request from `peer` with `headers` came from, trusting `hops` proxies.
pub fn caller_addr(peer: Option<IpAddr>, headers: &HeaderMap, hops: u8) -> Option<IpAddr> {
    if hops == 0 {
        return peer;
    }
    // Every X-Forwarded-For header, in order, as one list.
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let hops = usize::from(hops);
    if forwarded.len() < hops {
        // Fewer proxies than configured: not all of them were passed; the peer is the best
        // known address.
        return peer;
    }
    forwarded[forwarded.len() - hops].parse().ok().or(peer)
}

/// What the security headers depend on.
#[derive(Debug, Clone, Copy)]
pub struct HeaderSettings {
    /// Whether clients reach the server over HTTPS: answers then carry
    /// `Strict-Transport-Security`.
    pub hsts: bool,
}

/// The documentation page loads everything from the server itself (no other host, so it works
/// behind a firewall with no internet), and may not be framed.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `nosniff` on every answer; `Cache-Control: no-store` on every API answer, the FHIR export's
/// included (tokens and client data must never sit in a cache, RFC 6749 §5.1); a strict CSP and `DENY` framing on `/docs`;
/// HSTS when served over HTTPS.
pub async fn security_headers(
    State(settings): State<HeaderSettings>,
    request: Request,
    next: Next,
) -> Response {
    let docs = request.uri().path().starts_with("/docs");
    let api =
        request.uri().path().starts_with("/v1/") || request.uri().path().starts_with("/fhir/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if settings.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
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

    #[test]
    fn the_caller_address_is_the_one_the_outermost_trusted_proxy_saw() {
        let peer: IpAddr = "10.0.0.9".parse().expect("an address");
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.7"),
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("10.0.0.2"));
        let addr = |hops| caller_addr(Some(peer), &headers, hops).map(|a| a.to_string());
        assert_eq!(addr(0).as_deref(), Some("10.0.0.9"), "no proxy trusted");
        assert_eq!(addr(1).as_deref(), Some("10.0.0.2"));
        assert_eq!(addr(2).as_deref(), Some("203.0.113.7"));
        assert_eq!(addr(3).as_deref(), Some("6.6.6.6"));
        assert_eq!(
            addr(4).as_deref(),
            Some("10.0.0.9"),
            "fewer entries than hops"
        );
        let garbage = HeaderMap::from_iter([(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_static("not-an-address"),
        )]);
        assert_eq!(caller_addr(Some(peer), &garbage, 1), Some(peer));
    }
}
