//! The gRPC counterpart of HTTP 413: tonic refuses an over-limit message before our codec runs,
//! as `OUT_OF_RANGE` without our code; this answers `RESOURCE_EXHAUSTED` with
//! `payload_too_large`, as the REST side does.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// Rewrites tonic's "message length too large" refusal into our error.
pub async fn payload_too_large(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers();
    let out_of_range = headers.get("grpc-status").is_some_and(|v| v == "11");
    let too_large = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m.contains("too%20large") || m.contains("too large"));
    if out_of_range && too_large {
        let headers = response.headers_mut();
        headers.insert("grpc-status", HeaderValue::from_static("8"));
        headers.insert(
            "grpc-message",
            HeaderValue::from_static(
                "payload_too_large:%20the%20message%20is%20larger%20than%20the%20configured%20limit",
            ),
        );
    }
    response
}
