//! Bodies and gRPC messages over the limit are refused, and the connection closes.

use std::time::Duration;

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;

e2e_on_both_backends!(
    a_body_over_the_limit_answers_413,
    a_413_to_a_body_still_being_sent_announces_that_the_connection_closes,
    a_grpc_message_over_the_limit_is_refused_with_payload_too_large,
);

/// A body limit small enough to cross with a plausible request.
const SMALL_LIMIT: usize = 4096;

async fn a_body_over_the_limit_answers_413(backend: Backend) {
    let server = TestServer::start_with(backend, |c| c.body_limit_bytes = SMALL_LIMIT).await;
    let org = server.create_org("glow").await;

    let big = json!({ "name": "x".repeat(SMALL_LIMIT + 1) });
    let answer = server
        .post("/v1/clinics", Some(&org.admin_token), &big)
        .await
        .expect_status(413);
    assert_eq!(answer.code().as_deref(), Some("payload_too_large"));
    assert!(
        answer
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/problem+json")),
        "{:?}",
        answer.header("content-type")
    );
    // Before authentication too.
    let login = server
        .post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "password", "org": "glow", "email": "a@b.test", "password": "p".repeat(SMALL_LIMIT) }),
        )
        .await
        .expect_status(413);
    assert_eq!(login.code().as_deref(), Some("payload_too_large"));
    // Under the limit all is well.
    server
        .post(
            "/v1/clinics",
            Some(&org.admin_token),
            &json!({ "name": "x".repeat(150) }),
        )
        .await
        .expect_status(201);
}

/// Reads one HTTP/1.1 response (head and `Content-Length` body) from a raw connection.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return text;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .expect("the connection reads");
        assert!(
            n > 0,
            "the connection closed before the answer was complete"
        );
        received.extend_from_slice(&buf[..n]);
    }
}

async fn a_413_to_a_body_still_being_sent_announces_that_the_connection_closes(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(backend, |c| c.body_limit_bytes = SMALL_LIMIT).await;
    let org = server.create_org("glow").await;

    // A chunked upload whose first chunk is over the limit; the rest is still to come.
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("a connection");
    let chunk = format!(r#"{{"name": "{}"}}"#, "y".repeat(SMALL_LIMIT + 1));
    let head = format!(
        "POST /v1/clinics HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n",
        server.addr,
        org.admin_token,
        chunk.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("the request is sent");
    let answer = read_response(&mut stream).await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "a streamed body over the limit: {answer}"
    );
    assert!(answer.contains("payload_too_large"), "{answer}");
    let announced = answer
        .lines()
        .take_while(|l| !l.is_empty())
        .any(|l| l.eq_ignore_ascii_case("connection: close"));

    // The client finishes its upload and, as HTTP/1.1 allows, sends its next request on the
    // same connection. Either the server answers it, or it said it would close.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stream
        .write_all(b"0\r\n\r\nGET /healthz HTTP/1.1\r\nhost: e2e\r\n\r\n")
        .await;
    let mut buf = [0u8; 1024];
    let next = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    let kept_open = matches!(next, Ok(Ok(n)) if n > 0);
    assert!(
        kept_open || announced,
        "after a 413 to a body still being sent the server closed the connection without \
         `Connection: close`, so an HTTP client reuses it and its next request fails \
         (hyper: IncompleteMessage). The 413 was:\n{answer}"
    );
}

async fn a_grpc_message_over_the_limit_is_refused_with_payload_too_large(backend: Backend) {
    let server = TestServer::start_with(backend, |c| c.body_limit_bytes = SMALL_LIMIT).await;
    let org = server.create_org("glow").await;
    let status = server
        .org_grpc()
        .create_clinic(authorized(
            pb::CreateClinicRequest {
                name: "x".repeat(SMALL_LIMIT + 1),
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .expect_err("over the limit");
    // API.md: gRPC answers the matching status with the same code at the start of the
    // message; the api layer maps `payload_too_large` to RESOURCE_EXHAUSTED.
    assert_eq!(
        (status.code(), status.message().split(':').next()),
        (Code::ResourceExhausted, Some("payload_too_large")),
        "an over-limit gRPC message is refused by tonic's own check, without our code: {status:?}"
    );
}
