//! The `skinledger` binary as a newcomer runs it: `--help` on every command, `serve --demo` in
//! an empty folder answering `/readyz` and a demo login, `demo` twice, and `org create` refusing
//! a slug that exists.
//!
//! These tests run the binary built by cargo (see `skinledger_e2e::server_binary`), each in a
//! fresh temporary folder, with no `SKINLEDGER_*` variable but the ones set here. The embedded
//! SQLite default is what a newcomer gets, so these run once, not per backend.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use skinledger_e2e::server_binary;

/// The command in `dir`, with the environment of a fresh shell as far as skinledger sees it.
fn skinledger(dir: &Path) -> Command {
    let mut command = Command::new(server_binary());
    command.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SKINLEDGER_") {
            command.env_remove(key);
        }
    }
    command.env("RUST_LOG", "warn");
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    skinledger(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run skinledger {args:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits (up to a minute) until the server at `base` answers `/readyz` with 200.
async fn wait_until_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz never answered 200");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Stops the child on every path out of the test, so no server outlives it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_command_explains_itself_with_help() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["org", "create", "--help"],
        &["demo", "--help"],
    ] {
        let output = run(dir.path(), args);
        assert!(
            output.status.success(),
            "skinledger {args:?} failed: {}",
            text(&output.stderr)
        );
        let help = text(&output.stdout);
        assert!(help.contains("Usage"), "skinledger {args:?}:\n{help}");
    }
    let serve = text(&run(dir.path(), &["serve", "--help"]).stdout);
    assert!(
        serve.contains("--demo") && serve.contains("--config"),
        "{serve}"
    );
    let create = text(&run(dir.path(), &["org", "create", "--help"]).stdout);
    for flag in ["--slug", "--name", "--admin-email", "--admin-password"] {
        assert!(create.contains(flag), "{flag} missing from:\n{create}");
    }
    // Nothing was written by asking for help.
    assert!(!dir.path().join("data").exists());
}

#[test]
fn seeding_the_demo_twice_succeeds_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let first = run(dir.path(), &["demo"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let printed = text(&first.stdout);
    assert!(printed.contains("nurse@demo.test"), "{printed}");
    assert!(printed.contains("demo-password"), "{printed}");
    assert!(dir.path().join("data").is_dir(), "no ./data folder");

    let second = run(dir.path(), &["demo"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).contains("nurse@demo.test"));

    let migrate = run(dir.path(), &["migrate"]);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
}

#[test]
fn creating_an_organisation_twice_with_one_slug_fails_clearly() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let args = [
        "org",
        "create",
        "--slug",
        "glow",
        "--name",
        "Glow Clinics",
        "--admin-email",
        "owner@glow.test",
        "--admin-password",
        "a-long-enough-password",
    ];
    let first = run(dir.path(), &args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("glow"),
        "{}",
        text(&first.stdout)
    );

    let second = run(dir.path(), &args);
    assert!(!second.status.success(), "a duplicate slug was accepted");
    let complaint = text(&second.stderr).to_lowercase();
    assert!(
        complaint.contains("slug") && complaint.contains("exists"),
        "the refusal does not say why:\n{complaint}"
    );

    let weak = run(
        dir.path(),
        &[
            "org",
            "create",
            "--slug",
            "Bad Slug",
            "--name",
            "x",
            "--admin-email",
            "nope",
            "--admin-password",
            "short",
        ],
    );
    assert!(!weak.status.success());
    let complaint = text(&weak.stderr);
    for field in ["slug", "admin_email", "admin_password"] {
        assert!(
            complaint.contains(field),
            "{field} not named in:\n{complaint}"
        );
    }
}

#[test]
fn serve_demo_in_an_empty_folder_answers_and_the_demo_nurse_logs_in() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let mut child = skinledger(dir.path())
        .args(["serve", "--demo"])
        .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("skinledger serve --demo starts");
    // The logins go to stderr, so that stdout carries only the log.
    let stdout = child.stderr.take().expect("stderr");
    let child = Running(child);

    // The logins are printed before serving.
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !printed
        .iter()
        .any(|l: &String| l.contains("frontdesk@demo.test"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(_) => panic!("the demo logins were not printed; got {printed:?}"),
        }
    }
    let printed = printed.join("\n");
    for email in [
        "admin@demo.test",
        "manager@demo.test",
        "physician@demo.test",
        "nurse@demo.test",
        "esthetician@demo.test",
        "frontdesk@demo.test",
    ] {
        assert!(printed.contains(email), "{email} not printed:\n{printed}");
    }
    assert!(printed.contains("demo-password"), "{printed}");

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&http, &base).await;

        let token: serde_json::Value = http
            .post(format!("{base}/v1/auth/token"))
            .json(&json!({ "grant_type": "password", "org": "demo",
                           "email": "nurse@demo.test", "password": "demo-password" }))
            .send()
            .await
            .expect("the token endpoint answers")
            .json()
            .await
            .expect("a JSON answer");
        let access = token["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {token}"));
        let me: serde_json::Value = http
            .get(format!("{base}/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .expect("/v1/me answers")
            .json()
            .await
            .expect("a JSON answer");
        assert_eq!(me["email"], "nurse@demo.test");
        assert_eq!(me["organization_slug"], "demo");
        assert_eq!(me["roles"][0]["role"], "nurse", "{me}");
    });

    // SIGTERM: a graceful stop, exit status 0.
    let mut child = child;
    #[cfg(unix)]
    {
        let pid = child.0.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.0.try_wait().expect("the child's status") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "the server stopped with {status}");
    }
    #[cfg(not(unix))]
    {
        let _ = child.0.kill();
    }
    assert!(
        dir.path().join("data").join("signing.key").exists(),
        "no signing key was generated under ./data"
    );
}

/// A line of `/proc/<pid>/status` in KiB, e.g. `VmHWM` (the peak resident set).
#[cfg(target_os = "linux")]
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

#[cfg(target_os = "linux")]
#[test]
fn two_hundred_logins_at_once_keep_the_server_under_128_mib() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let child = skinledger(dir.path())
        .args(["serve", "--demo"])
        .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("skinledger serve --demo starts");
    let child = Running(child);
    let pid = child.0.id();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let answers = runtime.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&http, &base).await;
        println!(
            "resident set when ready: {} MiB (peak {} MiB)",
            status_kib(pid, "VmRSS") / 1024,
            status_kib(pid, "VmHWM") / 1024
        );
        // A storm: unknown emails (each checked against a dummy hash), and the nurse's own
        // password, all at once, each from its own address (127.0.0.2 to 127.0.0.201), as a
        // botnet would: no address reaches its own throttling limit, so every password is
        // checked.
        let logins = (0..200u8).map(|i| {
            let base = base.clone();
            let http = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, i + 2]))
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client");
            async move {
                let email = if i % 4 == 0 {
                    "nurse@demo.test".to_owned()
                } else {
                    format!("nobody{i}@demo.test")
                };
                http.post(format!("{base}/v1/auth/token"))
                    .json(&json!({ "grant_type": "password", "org": "demo",
                                   "email": email, "password": "demo-password" }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string())
            }
        });
        let answers = futures::future::join_all(logins).await;
        // The storm is over: the nurse logs in as ever.
        let after = http
            .post(format!("{base}/v1/auth/token"))
            .json(&json!({ "grant_type": "password", "org": "demo",
                           "email": "nurse@demo.test", "password": "demo-password" }))
            .send()
            .await
            .expect("the token endpoint answers");
        assert_eq!(after.status(), 200);
        answers
    });
    let peak_mib = status_kib(pid, "VmHWM") / 1024;
    println!("peak resident set during 200 logins at once: {peak_mib} MiB");
    let unexpected: Vec<_> = answers
        .iter()
        .filter(|a| !matches!(a, Ok(200 | 401 | 503)))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    // Right passwords arriving together are not throttled.
    assert!(
        answers.iter().filter(|a| matches!(a, Ok(200))).count() >= 1,
        "{answers:?}"
    );
    assert!(
        peak_mib < 128,
        "the server's resident set peaked at {peak_mib} MiB"
    );
}

#[cfg(unix)]
#[test]
fn each_bad_configuration_stops_the_server_at_once_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let private = |name: &str, contents: &str, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join(name);
        std::fs::write(&path, contents).expect("a key file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    };
    let short = private("short.key", "c2hvcnQga2V5\n", 0o600);
    let placeholder = private(
        "placeholder.key",
        "REPLACE_ME_WITH_OUTPUT_OF_openssl_rand_-base64_48",
        0o600,
    );
    let shared = private("shared.key", &skinledger_e2e::signing_key_file(), 0o644);
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken_addr = taken.local_addr().expect("an address").to_string();
    let closed = free_port();
    let cases: Vec<(Vec<(&str, String)>, String)> = vec![
        (
            vec![("SKINLEDGER_SIGNING_KEY_FILE", short.display().to_string())],
            "fewer than 32".into(),
        ),
        (
            vec![(
                "SKINLEDGER_SIGNING_KEY_FILE",
                placeholder.display().to_string(),
            )],
            "placeholder".into(),
        ),
        (
            vec![("SKINLEDGER_SIGNING_KEY_FILE", shared.display().to_string())],
            "chmod 600".into(),
        ),
        (
            vec![("SKINLEDGER_TLS_CERT_FILE", "/etc/hostname".into())],
            "tls_key_file".into(),
        ),
        (
            vec![("SKINLEDGER_LISTEN_ADRESS", "127.0.0.1:9".into())],
            "SKINLEDGER_LISTEN_ADRESS".into(),
        ),
        (
            vec![("SKINLEDGER_LISTEN_ADDR", taken_addr.clone())],
            format!("cannot listen on {taken_addr}"),
        ),
        (
            vec![(
                "SKINLEDGER_DATABASE_URL",
                format!("postgres://app:secret@127.0.0.1:{closed}/skinledger"),
            )],
            format!("cannot reach PostgreSQL at 127.0.0.1:{closed}"),
        ),
    ];
    // Built before the clock starts.
    server_binary();
    for (env, expected) in cases {
        let started = Instant::now();
        let mut command = skinledger(dir.path());
        command.arg("serve").env("RUST_BACKTRACE", "1");
        for (key, value) in &env {
            command.env(key, value);
        }
        let output = command.output().expect("skinledger runs");
        let took = started.elapsed();
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{env:?} started");
        assert!(took < Duration::from_secs(5), "{env:?} took {took:?}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{env:?}: not one line:\n{stderr}");
        assert!(lines[0].contains(&expected), "{env:?}: {stderr}");
        assert!(
            !stderr.contains("secret"),
            "the password was printed: {stderr}"
        );
    }
    drop(taken);
}

#[cfg(unix)]
#[test]
fn a_fresh_start_keeps_the_data_folder_and_database_files_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let seeded = run(dir.path(), &["demo"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let data = dir.path().join("data");
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&data), 0o700, "the data folder");
    for entry in std::fs::read_dir(&data).expect("the data folder") {
        let path = entry.expect("an entry").path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others: {:o}",
            path.display(),
            mode(&path)
        );
    }
    assert!(data.join("skinledger.db").exists());
}

#[test]
fn json_logs_are_one_object_per_line_with_one_line_per_request() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let mut child = skinledger(dir.path())
        .args(["serve", "--demo"])
        .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("SKINLEDGER_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("skinledger serve --demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut child = Running(child);
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&http, &base).await;
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&http, &base).await;
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
