//! Prometheus metrics: REST requests by route and status, gRPC calls by method and gRPC
//! status, latency histograms of both, and the database's connection pools.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use skinledger_app::App;

const REQUESTS: &str = "skinledger_http_requests_total";
const LATENCY: &str = "skinledger_http_request_duration_seconds";
const GRPC_REQUESTS: &str = "skinledger_grpc_requests_total";
const GRPC_LATENCY: &str = "skinledger_grpc_request_duration_seconds";
const POOL_CONNECTIONS: &str = "skinledger_db_pool_connections";
const POOL_IDLE: &str = "skinledger_db_pool_idle_connections";
const POOL_MAX: &str = "skinledger_db_pool_max_connections";
const POOL_WAITING: &str = "skinledger_db_pool_waiting";
const WORKER_THREADS: &str = "skinledger_runtime_worker_threads";
/// Connections open now (kept by the accept loop).
pub const OPEN_CONNECTIONS: &str = "skinledger_open_connections";

/// The process-wide recorder, installed on first use (tests start several servers in one process).
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(LATENCY.to_owned()), BUCKETS)
                .ok()?
                .set_buckets_for_metric(Matcher::Full(GRPC_LATENCY.to_owned()), BUCKETS)
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full(skinledger_app::webhooks::delivery::DELIVERY_LAG.to_owned()),
                    LAG_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()
                .inspect(|handle| {
                    describe();
                    keep_up(handle.clone());
                })
        })
        .clone()
}

/// How often the histograms' samples are folded into their buckets.
const UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// The name of the thread that folds them.
const UPKEEP_THREAD: &str = "metrics-upkeep";

/// Folds the histograms' samples into their buckets every [`UPKEEP`] on a thread of its own
/// (the recorder outlives any one runtime). The recorder keeps every sample until then; without
/// this only a scrape of `/metrics` would, and a server nobody scrapes would hold every request's
/// latency for good.
fn keep_up(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name(UPKEEP_THREAD.to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the metrics upkeep; samples are folded only when /metrics is read");
    }
}

/// Latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Webhook delivery lag buckets, in seconds: from instant to the day of retries.
const LAG_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0,
];

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
    metrics::describe_counter!(
        GRPC_REQUESTS,
        "gRPC calls answered, by service, method (or `unknown`) and gRPC status code"
    );
    metrics::describe_histogram!(
        GRPC_LATENCY,
        metrics::Unit::Seconds,
        "Time to answer a gRPC call, to its last message, by service, method and gRPC status"
    );
    metrics::describe_gauge!(OPEN_CONNECTIONS, "Client connections open now");
    metrics::describe_gauge!(
        POOL_CONNECTIONS,
        "Database connections open, by pool (shared and reads on PostgreSQL; read and write on SQLite)"
    );
    metrics::describe_gauge!(
        POOL_IDLE,
        "Database connections open and not in use, by pool"
    );
    metrics::describe_gauge!(POOL_MAX, "The most database connections a pool opens");
    metrics::describe_gauge!(
        POOL_WAITING,
        "Transactions waiting for a database connection now, by pool"
    );
    metrics::describe_gauge!(
        WORKER_THREADS,
        "Threads serving requests (the worker_threads setting, or one per core)"
    );
    skinledger_app::read_audit::describe_metrics();
    skinledger_app::events::describe_metrics();
    skinledger_app::webhooks::delivery::describe_metrics();
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
/// label space with ids); a gRPC call under its method, once its status is known.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    if is_grpc(&request) {
        let (service, method) = grpc_method(request.uri().path());
        let response = next.run(request).await;
        let call = GrpcCall {
            service,
            method,
            start,
            span: tracing::Span::current(),
        };
        return call.observe(response);
    }
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

fn is_grpc(request: &Request) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// The service and method of a gRPC path, when the server has them; `unknown` otherwise, so
/// that made-up method names do not add series without bound.
fn grpc_method(path: &str) -> (&'static str, &'static str) {
    static KNOWN: OnceLock<BTreeSet<(String, String)>> = OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        use prost::Message as _;
        let mut known = BTreeSet::new();
        for set in [
            crate::grpc::pb::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ] {
            let Ok(files) = prost_types::FileDescriptorSet::decode(set) else {
                continue;
            };
            for file in files.file {
                for service in &file.service {
                    let name = format!("{}.{}", file.package(), service.name());
                    for method in &service.method {
                        known.insert((name.clone(), method.name().to_owned()));
                    }
                }
            }
        }
        known.insert((
            "grpc.reflection.v1.ServerReflection".to_owned(),
            "ServerReflectionInfo".to_owned(),
        ));
        known.insert((
            "grpc.reflection.v1alpha.ServerReflection".to_owned(),
            "ServerReflectionInfo".to_owned(),
        ));
        known
    });
    let unknown = ("unknown", "unknown");
    let Some((service, method)) = path.trim_start_matches('/').split_once('/') else {
        return unknown;
    };
    known
        .get(&(service.to_owned(), method.to_owned()))
        .map_or(unknown, |(s, m)| (s.as_str(), m.as_str()))
}

/// A gRPC call under way: its status comes in the trailers, after the last message.
struct GrpcCall {
    service: &'static str,
    method: &'static str,
    start: Instant,
    span: tracing::Span,
}

impl GrpcCall {
    /// Records the call now when the answer is trailers-only (a refusal), otherwise when the
    /// body's trailers pass.
    fn observe(self, response: Response) -> Response {
        if let Some(code) = response.headers().get("grpc-status") {
            self.record(code.to_str().unwrap_or_default());
            return response;
        }
        response.map(|body| {
            Body::new(ObservedBody {
                inner: body,
                call: Some(self),
            })
        })
    }

    fn record(self, code: &str) {
        let code = code.parse::<i32>().map_or("UNKNOWN", |n| {
            crate::error::grpc_code_name(tonic::Code::from_i32(n))
        });
        let elapsed = self.start.elapsed();
        tracing::info!(
            parent: &self.span,
            method = "POST",
            route = %format_args!("/{}/{}", self.service, self.method),
            status = 200,
            grpc_status = code,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
        let labels = [
            ("service", self.service),
            ("method", self.method),
            ("code", code),
        ];
        metrics::counter!(GRPC_REQUESTS, &labels).increment(1);
        metrics::histogram!(GRPC_LATENCY, &labels).record(elapsed.as_secs_f64());
    }
}

/// A gRPC answer's body, watched for the trailers that carry the call's status.
struct ObservedBody {
    inner: Body,
    call: Option<GrpcCall>,
}

impl http_body::Body for ObservedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(|t| t.get("grpc-status"))
                    && let Some(call) = this.call.take()
                {
                    call.record(code.to_str().unwrap_or_default());
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(call) = this.call.take() {
                    call.record("2");
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    call.record("2");
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ObservedBody {
    /// The client went away before the last message: the call was cancelled.
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.record("1");
        }
    }
}

/// `GET /metrics` in the Prometheus text format, with the connection pools as they are now and
/// the threads serving requests.
pub async fn render(app: App) -> impl IntoResponse {
    #[expect(clippy::cast_precision_loss, reason = "a count of threads")]
    metrics::gauge!(WORKER_THREADS)
        .set(tokio::runtime::Handle::current().metrics().num_workers() as f64);
    for pool in app.db().pool_stats() {
        let labels = [("pool", pool.pool)];
        metrics::gauge!(POOL_CONNECTIONS, &labels).set(f64::from(pool.size));
        metrics::gauge!(POOL_IDLE, &labels).set(f64::from(pool.idle));
        metrics::gauge!(POOL_MAX, &labels).set(f64::from(pool.max));
        #[expect(clippy::cast_precision_loss, reason = "a count of waiting tasks")]
        metrics::gauge!(POOL_WAITING, &labels).set(pool.waiting as f64);
    }
    if let Err(e) = app.observe_webhook_backlog().await {
        tracing::warn!(error = %e, "cannot read the webhook backlog");
    }
    let body = handle().map(|h| h.render()).unwrap_or_default();
    ([("content-type", "text/plain; version=0.0.4")], body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn once_the_recorder_is_installed_its_samples_are_folded_in_the_background() {
        assert!(handle().is_some(), "the recorder is installed");
        let threads = || -> Vec<String> {
            std::fs::read_dir("/proc/self/task")
                .expect("this process's threads")
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                .map(|name| name.trim().to_owned())
                .collect()
        };
        // A new thread names itself once it runs.
        let named = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            threads().iter().any(|name| name == UPKEEP_THREAD)
        });
        assert!(named, "{:?}", threads());
    }

    #[test]
    fn grpc_calls_are_labelled_by_methods_the_server_has_and_nothing_else() {
        assert_eq!(
            grpc_method("/skinledger.v1.ClientService/GetClient"),
            ("skinledger.v1.ClientService", "GetClient")
        );
        assert_eq!(
            grpc_method("/grpc.health.v1.Health/Check"),
            ("grpc.health.v1.Health", "Check")
        );
        for made_up in [
            "/skinledger.v1.ClientService/GetClient2",
            "/skinledger.v1.NoSuchService/GetClient",
            "/no-slash",
            "/",
        ] {
            assert_eq!(grpc_method(made_up), ("unknown", "unknown"), "{made_up}");
        }
        assert_eq!(
            crate::error::grpc_code_name(tonic::Code::from_i32(9)),
            "FAILED_PRECONDITION"
        );
    }
}
