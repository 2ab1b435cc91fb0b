//! Prometheus metrics: requests by route and status, and a latency histogram.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "skinledger_http_requests_total";
const LATENCY: &str = "skinledger_http_request_duration_seconds";
/// Connections open now (kept by the accept loop).
pub const OPEN_CONNECTIONS: &str = "skinledger_open_connections";

/// The process-wide recorder, installed on first use (tests start several servers in one process).
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(LATENCY.to_owned()),
                    &[
                        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ],
                )
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()
                .inspect(|_| describe())
        })
        .clone()
}

/// Every metric's `# HELP`.
fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "Requests answered, by method, route template (or `unmatched`) and status"
    );
    metrics::describe_histogram!(
        LATENCY,
        metrics::Unit::Seconds,
        "Time to answer a request, by method, route template and status"
    );
    metrics::describe_gauge!(OPEN_CONNECTIONS, "Client connections open now");
    skinledger_app::read_audit::describe_metrics();
}

/// Counts a request no route matched (404), under the route `unmatched`.
pub fn unmatched(method: &http::Method) {
    let labels = [
        ("method", method_label(method)),
        ("route", "unmatched".to_owned()),
        ("status", "404".to_owned()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
}

/// A fixed set of methods: made-up ones must not add series without bound.
fn method_label(method: &http::Method) -> String {
    match method.as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    }
}

/// Records one request under its route template (not its raw path, which would explode the
/// label space with ids).
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    // One line per request, inside the request's span (request id, organisation, principal).
    tracing::info!(
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(LATENCY, &labels).record(elapsed.as_secs_f64());
    response
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render() -> impl IntoResponse {
    let body = handle().map(|h| h.render()).unwrap_or_default();
    ([("content-type", "text/plain; version=0.0.4")], body)
}
