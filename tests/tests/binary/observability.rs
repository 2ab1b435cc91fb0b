//! JSON logs one line per request, and spans that join the caller's trace over OTLP.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Running, free_port, ready, skinledger};

#[test]
fn json_logs_are_one_object_per_line_with_one_line_per_request() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut child, port, reader) =
        serve_logging(dir.path(), &[("SKINLEDGER_LOG_FORMAT", Some("json"))]);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let (http, base) = ready(port, Duration::from_secs(10)).await;
        let token: serde_json::Value = http
            .post(format!("{base}/v1/auth/token"))
            .json(&json!({ "grant_type": "password", "org": "demo",
                           "email": "nurse@demo.test", "password": "demo-password" }))
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
        let token = token["access_token"].as_str().expect("a token").to_owned();
        let clinics = http
            .get(format!("{base}/v1/clinics"))
            .bearer_auth(&token)
            .header("x-request-id", "log-line-test-1")
            .header("traceparent", CALLER_TRACE)
            .send()
            .await
            .expect("answered");
        assert_eq!(clinics.status(), 200);
        // The same over gRPC: one line, under the method, with the gRPC status.
        let channel = tonic::transport::Endpoint::from_shared(base.clone())
            .expect("an endpoint")
            .connect()
            .await
            .expect("a gRPC connection");
        let mut organization =
            skinledger_e2e::pb::organization_service_client::OrganizationServiceClient::new(
                channel,
            );
        let mut request =
            skinledger_e2e::authorized(skinledger_e2e::pb::ListClinicsRequest::default(), &token);
        request
            .metadata_mut()
            .insert("x-request-id", "log-line-grpc-1".parse().expect("metadata"));
        organization
            .list_clinics(request)
            .await
            .expect("clinics over gRPC");
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
    still_running(&mut child);
    let _ = child.0.kill();
    let _ = child.0.wait();
    let lines = reader.join().expect("the log is read");

    let mut objects = Vec::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let object: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        objects.push(object);
    }
    let request = objects
        .iter()
        .find(|o| {
            o["fields"]["message"] == "request" && o["span"]["request_id"] == "log-line-test-1"
        })
        .unwrap_or_else(|| panic!("no request line in {lines:#?}"));
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["fields"]["route"], "/v1/clinics");
    assert_eq!(request["fields"]["method"], "GET");
    assert_eq!(request["fields"]["status"], 200);
    assert!(request["fields"]["latency_ms"].is_number(), "{request}");
    // The caller's trace names the line, with no OpenTelemetry export configured.
    assert_eq!(request["span"]["trace_id"], CALLER_TRACE_ID, "{request}");
    assert!(
        request["span"]["org"]
            .as_str()
            .is_some_and(|o| o.len() == 36),
        "{request}"
    );
    assert!(
        request["span"]["principal"]
            .as_str()
            .is_some_and(|p| p.starts_with("staff:")),
        "{request}"
    );
    let grpc = objects
        .iter()
        .find(|o| {
            o["fields"]["message"] == "request" && o["span"]["request_id"] == "log-line-grpc-1"
        })
        .unwrap_or_else(|| panic!("no gRPC request line in {lines:#?}"));
    assert_eq!(
        grpc["fields"]["route"],
        "/skinledger.v1.OrganizationService/ListClinics"
    );
    assert_eq!(grpc["fields"]["grpc_status"], "OK", "{grpc}");
    assert!(grpc["fields"]["latency_ms"].is_number(), "{grpc}");
    assert_eq!(grpc["span"]["org"], request["span"]["org"], "{grpc}");
    assert_eq!(
        grpc["span"]["principal"], request["span"]["principal"],
        "{grpc}"
    );
}

#[test]
fn pretty_logs_written_to_a_pipe_are_plain_text() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut child, port, reader) = serve_logging(dir.path(), &[("NO_COLOR", None)]);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let (http, base) = ready(port, Duration::from_secs(10)).await;
        let answer = http
            .get(format!("{base}/healthz"))
            .header("x-request-id", "plain-log-line-1")
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
    still_running(&mut child);
    let _ = child.0.kill();
    let _ = child.0.wait();
    let lines = reader.join().expect("the log is read");
    let request = lines
        .iter()
        .find(|l| l.contains("plain-log-line-1"))
        .unwrap_or_else(|| panic!("no line for the request in {lines:#?}"));
    assert!(request.contains("route=/healthz"), "{request}");
    let coloured: Vec<&String> = lines.iter().filter(|l| l.contains('\u{1b}')).collect();
    assert!(
        coloured.is_empty(),
        "terminal escapes in a pipe: {coloured:#?}"
    );
}

/// `skinledger serve --demo` on a free port, logging at `info`, with `env` set (or removed, for
/// `None`), and a thread reading its standard output line by line until it exits.
fn serve_logging(
    dir: &std::path::Path,
    env: &[(&str, Option<&str>)],
) -> (Running, u16, std::thread::JoinHandle<Vec<String>>) {
    let port = free_port();
    let mut command = skinledger(dir);
    command
        .args(["serve", "--demo"])
        .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let mut child = command.spawn().expect("skinledger serve --demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    (Running(child), port, reader)
}

/// Fails the test when the server on `child` has exited (its port taken, say): answers that
/// came meanwhile were another server's.
fn still_running(child: &mut Running) {
    let exited = child.0.try_wait().expect("the server's status");
    assert!(exited.is_none(), "the server exited early: {exited:?}");
}

/// A W3C `traceparent` as a caller's tracing sends it: version, trace id, parent span id, flags.
const CALLER_TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CALLER_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";

/// An OTLP/HTTP collector in the test process: it decodes every export it receives.
async fn collector() -> (
    String,
    std::sync::Arc<
        std::sync::Mutex<
            Vec<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest>,
        >,
    >,
) {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use prost::Message as _;

    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = std::sync::Arc::clone(&received);
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let store = std::sync::Arc::clone(&store);
            async move {
                match ExportTraceServiceRequest::decode(body) {
                    Ok(export) => {
                        store.lock().expect("the collector's store").push(export);
                        (
                            axum::http::StatusCode::OK,
                            [("content-type", "application/x-protobuf")],
                            ExportTraceServiceResponse::default().encode_to_vec(),
                        )
                    }
                    Err(_) => (
                        axum::http::StatusCode::BAD_REQUEST,
                        [("content-type", "text/plain")],
                        b"not an ExportTraceServiceRequest".to_vec(),
                    ),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the collector");
    let addr = listener.local_addr().expect("the collector's address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), received)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn spans_join_the_caller_s_trace_and_reach_the_otlp_collector() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (endpoint, received) = runtime.block_on(collector());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let child = skinledger(dir.path())
        .args(["serve", "--demo"])
        .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_SERVICE_NAME")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("skinledger serve --demo starts");
    let _child = Running(child);

    runtime.block_on(async {
        let (http, base) = ready(port, Duration::from_secs(10)).await;
        let answer = http
            .get(format!("{base}/v1/clinics"))
            .header("traceparent", CALLER_TRACE)
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), 401);

        // gRPC metadata carries the same header.
        let channel = tonic::transport::Endpoint::from_shared(base.clone())
            .expect("an endpoint")
            .connect()
            .await
            .expect("a gRPC connection");
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let mut check = tonic::Request::new(tonic_health::pb::HealthCheckRequest::default());
        let grpc_trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        check
            .metadata_mut()
            .insert("traceparent", grpc_trace.parse().expect("metadata"));
        health.check(check).await.expect("a health answer");

        // Both requests' spans reach the collector, children of the callers' spans.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let spans: Vec<(String, String, String, Vec<String>)> = received
                .lock()
                .expect("the collector's store")
                .iter()
                .flat_map(|export| export.resource_spans.iter())
                .flat_map(|resource| {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| r.attributes.iter())
                        .filter(|a| a.key == "service.name")
                        .filter_map(|a| a.value.as_ref().map(|v| format!("{:?}", v.value)))
                        .collect::<Vec<_>>();
                    resource
                        .scope_spans
                        .iter()
                        .flat_map(|scope| scope.spans.iter())
                        .map(move |span| {
                            (
                                span.name.clone(),
                                hex(&span.trace_id),
                                hex(&span.parent_span_id),
                                service.clone(),
                            )
                        })
                })
                .collect();
            let joined = |trace: &str, parent: &str| {
                spans.iter().any(|(name, trace_id, parent_id, service)| {
                    name == "request"
                        && trace_id == trace
                        && parent_id == parent
                        && service.iter().any(|s| s.contains("skinledger"))
                })
            };
            if joined(CALLER_TRACE_ID, CALLER_SPAN_ID)
                && joined("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the request spans did not reach the collector as children of the callers' \
                 spans; received {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}
