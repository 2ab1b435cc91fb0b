//! Connections as a slow, greedy or idle client makes them, over real sockets: headers sent a
//! byte at a time, bodies that stop, connections held open, more connections than allowed;
//! TLS served by the server itself (REST and gRPC); metrics and reflection kept to an
//! operations address. Transport only, so SQLite alone.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests: a failed step fails the test"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use skinledger::Config;
use skinledger_e2e::{Backend, PASSWORD, TestServer, free_port, pb, test_config};
use skinledger_store::testing::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server started without the test harness's own connections, so that every connection to
/// it is the test's.
struct Bare {
    addr: SocketAddr,
    db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Bare {
    async fn start(adjust: impl FnOnce(&mut Config)) -> Self {
        let (mut config, db, dir) = test_config(Backend::Sqlite).await;
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound");
        config.listen_addr = addr;
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(skinledger::launch(config.clone(), listener, async move {
            let _ = stopped.await;
        }));
        // The listener is bound: the first request waits in its backlog until the server has
        // migrated and accepts.
        let server = Self {
            addr,
            db,
            stop: Some(stop),
            handle,
            _dir: dir,
        };
        let (status, _) = server.one_request("GET /healthz").await;
        assert_eq!(status, 200);
        server
    }

    /// Sends one request on its own connection (`Connection: close`) and answers the status
    /// and the whole answer.
    async fn one_request(&self, line: &str) -> (u16, String) {
        let mut stream = connect(self.addr).await;
        let request = format!("{line} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        (status_of(&answer), answer)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(15), self.handle)
            .await
            .expect("the server stops")
            .expect("no panic")
            .expect("a clean stop");
        drop(self.db);
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    for _ in 0..100 {
        if let Ok(stream) = TcpStream::connect(addr).await {
            return stream;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot connect to {addr}");
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Reads until the server closes the connection, answering how long that took (or `None`
/// after `within`).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_a_byte_a_second_are_cut_off_at_the_header_timeout() {
    let server = Bare::start(|c| c.header_read_timeout_secs = 2).await;

    // The slow client: one byte a second, never finishing its headers.
    let slow = connect(server.addr).await;
    let (mut reader, mut writer) = slow.into_split();
    let started = Instant::now();
    let dripping = tokio::spawn(async move {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1".iter() {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    // Meanwhile others are served.
    let (status, _) = server.one_request("GET /healthz").await;
    assert_eq!(status, 200);
    let mut buf = [0u8; 1024];
    let ended = tokio::time::timeout(Duration::from_secs(6), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    let took = started.elapsed();
    assert!(
        ended.is_ok(),
        "the slow connection is still open after {took:?}"
    );
    assert!(
        took < Duration::from_millis(3500),
        "closed after {took:?}, later than the 2 s header timeout"
    );
    dripping.abort();

    // A connection that says nothing at all goes the same way.
    let mut silent = connect(server.addr).await;
    let took = closed_within(&mut silent, Duration::from_secs(6)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_millis(3500)),
        "a silent connection stays open: {took:?}"
    );
    let (status, _) = server.one_request("GET /healthz").await;
    assert_eq!(status, 200, "the server still answers");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_left_idle_is_closed() {
    let server = Bare::start(|c| {
        c.idle_timeout_secs = 1;
        c.header_read_timeout_secs = 30;
    })
    .await;
    let mut stream = connect(server.addr).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("sent");
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.expect("an answer");
    assert_eq!(status_of(&String::from_utf8_lossy(&buf[..n])), 200);
    let took = closed_within(&mut stream, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|t| t < Duration::from_millis(2600)),
        "an idle keep-alive connection stays open: {took:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_wait_until_one_closes() {
    let server = Bare::start(|c| c.max_connections = 2).await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(server.addr).await;
        stream.write_all(request).await.expect("sent");
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.expect("answered");
        assert_eq!(status_of(&String::from_utf8_lossy(&buf[..n])), 200);
        held.push(stream);
    }
    // The third waits in the backlog: connected by the kernel, not yet served.
    let mut third = connect(server.addr).await;
    third.write_all(request).await.expect("sent");
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut buf)).await;
    assert!(early.is_err(), "a third connection is served: {early:?}");
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("served once a connection closed")
        .expect("read");
    assert_eq!(status_of(&String::from_utf8_lossy(&buf[..n])), 200);
    drop(held);
    drop(third);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_answered_408_and_the_connection_closed() {
    let server = Bare::start(|c| c.body_read_timeout_secs = 1).await;
    let mut stream = connect(server.addr).await;
    stream
        .write_all(
            b"POST /v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"grant_type\":",
        )
        .await
        .expect("sent");
    let mut answer = String::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
        .await
        .expect("answered and closed within 5 s");
    read.expect("read");
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
    server.stop().await;
}

/// A self-signed certificate for `localhost`, written as PEM files (the key owner-only), and
/// its PEM text for clients to trust.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("a certificate");
    let cert_pem = generated.cert.pem();
    let cert = dir.join("tls.crt");
    let key = dir.join("tls.key");
    std::fs::write(&cert, &cert_pem).expect("written");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    (cert, key, cert_pem)
}

fn tls_client(cert_pem: &str, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("PEM"))
        .expect("a root");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tls_files_rest_and_grpc_are_served_over_tls() {
    let certs = tempfile::tempdir().expect("a folder");
    let (cert, key, cert_pem) = certificate(certs.path());
    let (mut config, db, dir) = test_config(Backend::Sqlite).await;
    config.tls_cert_file = Some(cert);
    config.tls_key_file = Some(key);
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("bound");
    config.listen_addr = addr;
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(skinledger::launch(config.clone(), listener, async move {
        let _ = stopped.await;
    }));
    let (app, audit) = skinledger::app(&config, db.db.clone()).expect("the app");
    let org = app
        .create_organization(skinledger_app::orgs::NewOrganization {
            slug: "secure".into(),
            name: "Secure clinics".into(),
            admin_email: "admin@secure.test".into(),
            admin_password: PASSWORD.into(),
        })
        .await
        .expect("an organisation");

    // REST over HTTP/1.1 with TLS: answered, with HSTS.
    let connector = tls_client(&cert_pem, &[b"http/1.1"]);
    let domain = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    let mut answer = String::new();
    for _ in 0..100 {
        let Ok(tcp) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(mut tls) = connector.connect(domain.clone(), tcp).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .expect("sent");
        tls.read_to_string(&mut answer).await.expect("read");
        break;
    }
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("strict-transport-security: max-age="),
        "{answer}"
    );
    // Plain HTTP on the TLS port gets nothing.
    let mut plain = connect(addr).await;
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("sent");
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read(&mut buf)).await;
    assert!(
        !matches!(read, Ok(Ok(n)) if String::from_utf8_lossy(&buf[..n]).contains("200 OK")),
        "plain HTTP is served on the TLS port"
    );

    // HTTP/2 is chosen by ALPN.
    let h2 = tls_client(&cert_pem, &[b"h2", b"http/1.1"])
        .connect(domain, connect(addr).await)
        .await
        .expect("a handshake");
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    drop(h2);

    // gRPC over TLS: log in and ask who is calling.
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(&cert_pem))
        .domain_name("localhost");
    let channel =
        tonic::transport::Channel::from_shared(format!("https://localhost:{}", addr.port()))
            .expect("an endpoint")
            .tls_config(tls)
            .expect("TLS settings")
            .connect()
            .await
            .expect("a TLS gRPC connection");
    let mut auth = pb::auth_service_client::AuthServiceClient::new(channel);
    let token = auth
        .token(pb::TokenRequest {
            grant_type: "password".into(),
            org: "secure".into(),
            email: "admin@secure.test".into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .expect("logged in over TLS")
        .into_inner()
        .access_token;
    let me = auth
        .me(skinledger_e2e::authorized(pb::MeRequest {}, &token))
        .await
        .expect("answered")
        .into_inner();
    assert_eq!(me.organization_id, org.id.to_string());

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(15), handle)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("clean");
    audit.finish().await;
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_key_others_may_read_stops_the_server_at_start() {
    let certs = tempfile::tempdir().expect("a folder");
    let (cert, key, _) = certificate(certs.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let config = Config {
        tls_cert_file: Some(cert),
        tls_key_file: Some(key),
        ..Config::default()
    };
    let refused = config.tls().err().map(|e| e.to_string());
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("chmod 600")),
        "{refused:?}"
    );
}

/// An address on a port free at the time of asking.
fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_reflection_can_be_kept_to_an_operations_address() {
    let ops = free_addr();
    let server = TestServer::start_with(Backend::Sqlite, |c| c.ops_listen_addr = Some(ops)).await;

    assert_eq!(server.get("/metrics", None).await.status.as_u16(), 404);
    assert_eq!(server.get("/healthz", None).await.status.as_u16(), 200);
    let on_ops = server
        .send(server.http.get(format!("http://{ops}/metrics")))
        .await;
    assert_eq!(on_ops.status.as_u16(), 200);
    assert!(on_ops.text().contains("skinledger_http_requests_total"));
    let ready = server
        .send(server.http.get(format!("http://{ops}/readyz")))
        .await;
    assert_eq!(ready.status.as_u16(), 200);

    // Reflection answers on the operations address only.
    async fn list_services(
        channel: tonic::transport::Channel,
    ) -> Result<Vec<String>, tonic::Status> {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut answers = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream_once(request))
            .await?
            .into_inner();
        let Some(answer) = answers.message().await? else {
            return Ok(Vec::new());
        };
        Ok(match answer.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect()
            }
            _ => Vec::new(),
        })
    }
    let ops_channel = tonic::transport::Channel::from_shared(format!("http://{ops}"))
        .expect("an endpoint")
        .connect()
        .await
        .expect("a connection");
    let listed = list_services(ops_channel)
        .await
        .expect("reflection answers");
    assert!(
        listed.iter().any(|s| s == "skinledger.v1.ClientService"),
        "{listed:?}"
    );
    assert!(
        list_services(server.channel.clone()).await.is_err(),
        "reflection is not served with the API"
    );
    server.stop().await;
}

fn tokio_stream_once<T: Send + 'static>(item: T) -> impl futures::Stream<Item = T> + Send {
    futures::stream::iter([item])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_tls_ending_at_a_proxy_answers_carry_hsts_when_configured() {
    let plain = TestServer::start(Backend::Sqlite).await;
    let answer = plain.get("/healthz", None).await;
    assert!(answer.header("strict-transport-security").is_none());
    plain.stop().await;
    let behind = TestServer::start_with(Backend::Sqlite, |c| c.hsts = true).await;
    let answer = behind.get("/v1/me", None).await;
    assert_eq!(
        answer.header("strict-transport-security").as_deref(),
        Some("max-age=31536000; includeSubDomains")
    );
    behind.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_preface_arriving_in_pieces_is_still_known_for_http2() {
    let server = Bare::start(|_| {}).await;
    let mut stream = connect(server.addr).await;
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    for piece in [&preface[..3], &preface[3..10], &preface[10..]] {
        stream.write_all(piece).await.expect("sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The server's first HTTP/2 frame is its SETTINGS (frame type 4, RFC 9113 §3.4).
    let mut header = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut header))
        .await
        .expect("the server speaks first")
        .expect("a frame header");
    assert_eq!(header[3], 4, "not a SETTINGS frame: {header:?}");
    drop(stream);
    server.stop().await;
}
