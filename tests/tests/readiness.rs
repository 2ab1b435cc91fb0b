//! `/readyz` and `grpc.health.v1` follow the database: 503 / NOT_SERVING while PostgreSQL
//! cannot be reached, in time for a Kubernetes readiness probe, and ready again once it can;
//! `/healthz` stays 200 throughout, and API calls answer 503 within 2 s instead of hanging.
//!
//! The database is cut off with a TCP proxy between the server and PostgreSQL. SQLite is a file
//! the process holds open and cannot become unreachable this way, so this runs on PostgreSQL
//! only (and passes without running when no server is configured).

#![expect(
    clippy::expect_used,
    reason = "test helpers: a step that cannot complete fails the test"
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use skinledger_e2e::{Backend, TestServer, postgres_or_skip};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The readiness probe's `timeoutSeconds` in `deploy/k8s/deployment.yaml`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Forwards TCP connections to `upstream` until cut.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let proxy = Self {
            addr: listener.local_addr().expect("an address"),
            upstream,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let tasks = Arc::clone(&self.tasks);
        let upstream = self.upstream;
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let connection = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks
                    .lock()
                    .expect("the task list")
                    .push(connection.abort_handle());
            }
        });
        self.tasks
            .lock()
            .expect("the task list")
            .push(accept.abort_handle());
    }

    /// Closes the port and every open connection.
    fn cut(&self) {
        for task in self.tasks.lock().expect("the task list").drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again.
    async fn restore(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) => {
                    assert!(Instant::now() < deadline, "cannot listen again: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.serve(listener);
    }
}

/// How soon a request answers 503 while the database is gone.
const FAIL_FAST: Duration = Duration::from_secs(2);

/// What `grpc.health.v1` answers for the server as a whole.
async fn health(server: &TestServer) -> ServingStatus {
    let mut client = HealthClient::new(server.channel.clone());
    let answer = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers");
    ServingStatus::try_from(answer.into_inner().status).expect("a known status")
}

/// The host and port of a `postgres://user@host:port/db` URL, resolved.
fn host_port(url: &str) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    std::net::ToSocketAddrs::to_socket_addrs(&with_port)
        .expect("a resolvable database host")
        .next()
        .expect("an address")
}

/// The same URL through `proxy`.
fn through(url: &str, proxy: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{proxy}{path}")
}

async fn status_within(server: &TestServer, path: &str, limit: Duration) -> (u16, Duration) {
    timed_get(server, path, None, limit).await
}

async fn timed_get(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    limit: Duration,
) -> (u16, Duration) {
    let started = Instant::now();
    let mut request = server.http.get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request
        .timeout(limit + Duration::from_secs(30))
        .send()
        .await
        .expect("the server answers");
    (answer.status().as_u16(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_and_liveness_does_not() {
    if !postgres_or_skip("readiness_follows_the_database_and_liveness_does_not") {
        return;
    }
    // The proxy must exist before the server, so start it towards the configured server and
    // point the server's URL at it.
    let admin_url =
        std::env::var(skinledger_store::testing::POSTGRES_URL_VAR).expect("the URL is set");
    let proxy = Proxy::start(host_port(&admin_url)).await;
    let proxy_addr = proxy.addr;
    let server = TestServer::start_with(Backend::Postgres, |config| {
        config.database_url = through(&config.database_url, proxy_addr);
    })
    .await;
    let org = server.create_org("glow").await;

    proxy.cut();
    let mut answers = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = status_within(&server, "/readyz", PROBE_TIMEOUT).await;
        let alive = status_within(&server, "/healthz", PROBE_TIMEOUT).await;
        answers.push((ready, alive));
        assert_eq!(
            alive.0, 200,
            "/healthz depends on the database: {answers:?}"
        );
        assert!(
            alive.1 < PROBE_TIMEOUT,
            "/healthz is slow without the database: {answers:?}"
        );
        if ready.0 == 503 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz never answered 503 without the database: {answers:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every readiness answer during the outage must come within the probe's timeout: a probe
    // that times out cannot tell "not ready" from "hung". Checked after recovery, so that one
    // run shows every problem.
    let mut problems = Vec::new();
    if !answers.iter().all(|((_, took), _)| *took < PROBE_TIMEOUT) {
        problems.push(format!(
            "/readyz took longer than the readiness probe's {PROBE_TIMEOUT:?} to answer without \
             the database (answers as ((status, time) of /readyz, (status, time) of /healthz)): \
             {answers:?}"
        ));
    }
    // A request needing the database fails fast, as unavailable, rather than hanging.
    let (me, took) = timed_get(
        &server,
        "/v1/me",
        Some(&org.admin_token),
        Duration::from_secs(60),
    )
    .await;
    if me != 503 || took > FAIL_FAST {
        problems.push(format!(
            "/v1/me answered {me} after {took:?} without the database"
        ));
    }
    // A write fails as cleanly: 503, nothing half-done.
    let started = Instant::now();
    let write = server
        .post(
            "/v1/clinics",
            Some(&org.admin_token),
            &serde_json::json!({ "name": "Opened in the dark" }),
        )
        .await;
    let took = started.elapsed();
    if write.status.as_u16() != 503 || took > FAIL_FAST {
        problems.push(format!(
            "a write answered {} after {took:?} without the database: {}",
            write.status,
            write.text()
        ));
    }
    let started = Instant::now();
    let grpc = server
        .auth_grpc()
        .me(skinledger_e2e::authorized(
            skinledger_e2e::pb::MeRequest {},
            &org.admin_token,
        ))
        .await;
    let took = started.elapsed();
    match grpc {
        Err(status) if status.code() == tonic::Code::Unavailable && took <= FAIL_FAST => {}
        other => problems.push(format!(
            "gRPC Me answered {other:?} after {took:?} without the database"
        )),
    }
    // gRPC health says what /readyz says.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = health(&server).await;
        if status == ServingStatus::NotServing {
            break;
        }
        if Instant::now() > deadline {
            problems.push(format!(
                "grpc.health.v1 still answered {status:?} without the database"
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ready, _) = status_within(&server, "/readyz", PROBE_TIMEOUT).await;
        if ready == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz did not recover once the database was back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server
        .get("/v1/me", Some(&org.admin_token))
        .await
        .expect_status(200);
    let clinics = server
        .get("/v1/clinics", Some(&org.admin_token))
        .await
        .expect_status(200)
        .json();
    assert!(
        !clinics.to_string().contains("Opened in the dark"),
        "the refused write left a clinic: {clinics}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while health(&server).await != ServingStatus::Serving {
        assert!(
            Instant::now() < deadline,
            "grpc.health.v1 did not recover once the database was back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Reads of health data right before the database drops out are still in the audit log after
/// it returns: the batch that failed is retried, nothing is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_events_of_reads_survive_a_database_blip() {
    if !postgres_or_skip("audit_events_of_reads_survive_a_database_blip") {
        return;
    }
    let admin_url =
        std::env::var(skinledger_store::testing::POSTGRES_URL_VAR).expect("the URL is set");
    let proxy = Proxy::start(host_port(&admin_url)).await;
    let proxy_addr = proxy.addr;
    let server = TestServer::start_with(Backend::Postgres, |config| {
        config.database_url = through(&config.database_url, proxy_addr);
    })
    .await;
    let org = server.create_org("glow").await;
    let client = server
        .post(
            "/v1/clients",
            Some(&org.admin_token),
            &serde_json::json!({ "first_name": "Blip", "last_name": "Reader",
                                 "date_of_birth": "1990-01-01" }),
        )
        .await
        .expect_status(201)
        .id();
    // Five reads at once, then the database drops out before their batch is written (it waits
    // up to 200 ms to gather more).
    let path = format!("/v1/clients/{client}");
    let reads =
        futures::future::join_all((0..5).map(|_| server.get(&path, Some(&org.admin_token)))).await;
    proxy.cut();
    for read in reads {
        read.expect_status(200);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore().await;

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = server
            .http
            .get(server.url(&format!(
                "/v1/audit-events?action=client.read&client_id={client}&limit=200"
            )))
            .bearer_auth(&org.admin_token)
            .send()
            .await
            .expect("the server answers");
        if log.status() == 200 {
            let log: serde_json::Value = log.json().await.expect("json");
            let reads = log["items"].as_array().map_or(0, Vec::len);
            if reads == 5 {
                break;
            }
            assert!(reads < 5, "a read was recorded twice: {log}");
        }
        assert!(
            Instant::now() < deadline,
            "the reads before the blip never reached the audit log"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let metrics = server.get("/metrics", None).await.text();
    let dropped = metrics
        .lines()
        .find(|l| l.starts_with("skinledger_read_audit_dropped_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(dropped == 0.0, "audit events were dropped: {metrics}");
    let retried = metrics
        .lines()
        .find(|l| l.starts_with("skinledger_read_audit_retries_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(retried > 0.0, "the batch was never retried: {metrics}");
    server.stop().await;
}
