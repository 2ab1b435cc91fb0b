//! Requests the server must refuse precisely (413, 422 naming fields, 400 for what is not JSON
//! or not protobuf), the request id, and the operations endpoints of both protocols.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use std::time::Duration;

use futures::StreamExt;
use prost::bytes::{Buf, BufMut};
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, authorized, e2e_on_both_backends, grant, pb};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use uuid::Uuid;

e2e_on_both_backends!(
    a_body_over_the_limit_answers_413,
    a_413_to_a_body_still_being_sent_announces_that_the_connection_closes,
    a_grpc_message_over_the_limit_is_refused_with_payload_too_large,
    invalid_fields_are_each_named_in_a_422,
    malformed_json_answers_400,
    unknown_json_fields_are_refused_naming_the_field,
    a_body_that_is_not_declared_json_answers_415,
    a_malformed_protobuf_message_answers_invalid_argument,
    a_grpc_validation_error_answers_invalid_argument_naming_the_fields,
    the_request_id_is_generated_when_absent_and_echoed_when_sent,
    unknown_routes_and_ids_answer_404,
    the_operations_endpoints_answer,
    grpc_health_and_reflection_answer,
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

async fn invalid_fields_are_each_named_in_a_422(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let answer = server
        .post(
            "/v1/staff",
            Some(&org.admin_token),
            &json!({ "email": "not-an-email", "name": "Nina", "password": "short" }),
        )
        .await
        .expect_status(422);
    assert_eq!(answer.code().as_deref(), Some("validation_failed"));
    let mut fields = answer.invalid_fields();
    fields.sort();
    assert_eq!(fields, vec!["email".to_owned(), "password".to_owned()]);
    let body = answer.json();
    for error in body["errors"].as_array().expect("errors") {
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
    assert_eq!(body["status"], 422);
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());

    // A value of the wrong type names its field, nested ones with their path.
    let wrong_type = server
        .post("/v1/clinics", Some(&org.admin_token), &json!({ "name": 5 }))
        .await
        .expect_status(422);
    assert_eq!(wrong_type.invalid_fields(), vec!["name".to_owned()]);
    let clinic = server.create_clinic(&org.admin_token, "Mitte").await;
    let nested = server
        .post(
            "/v1/staff",
            Some(&org.admin_token),
            &json!({ "email": "n@glow.test", "name": "N", "password": PASSWORD,
                     "roles": [grant(Role::Nurse, Some(clinic)), { "role": "wizard", "clinic_id": clinic }] }),
        )
        .await
        .expect_status(422);
    assert_eq!(nested.invalid_fields(), vec!["roles[1].role".to_owned()]);
}

async fn malformed_json_answers_400(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    for body in [
        r#"{"name": "Mitte""#,
        r#"{"name": "Mitte"} trailing"#,
        "not json",
        "",
    ] {
        let answer = server
            .send(
                server
                    .http
                    .post(server.url("/v1/clinics"))
                    .bearer_auth(&org.admin_token)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
        assert_eq!(answer.status, 400, "{body:?}: {}", answer.text());
        assert_eq!(answer.code().as_deref(), Some("bad_request"), "{body:?}");
    }
}

async fn unknown_json_fields_are_refused_naming_the_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let answer = server
        .post(
            "/v1/clinics",
            Some(&org.admin_token),
            &json!({ "name": "Mitte", "colour": "teal" }),
        )
        .await
        .expect_status(422);
    assert_eq!(answer.code().as_deref(), Some("validation_failed"));
    assert_eq!(answer.invalid_fields(), vec!["colour".to_owned()]);

    let token = server
        .post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "password", "org": "glow", "email": "a@b.test", "password": "x", "scope": "all" }),
        )
        .await
        .expect_status(422);
    assert_eq!(token.invalid_fields(), vec!["scope".to_owned()]);

    let clinic = server.create_clinic(&org.admin_token, "Mitte").await;
    let nested = server
        .post(
            "/v1/staff",
            Some(&org.admin_token),
            &json!({ "email": "n@glow.test", "name": "N", "password": PASSWORD,
                     "roles": [{ "role": "nurse", "clinic_id": clinic, "since": "2024-01-01" }] }),
        )
        .await
        .expect_status(422);
    let fields = nested.invalid_fields();
    assert!(
        fields.len() == 1 && fields[0].contains("since"),
        "{fields:?}"
    );
}

async fn a_body_that_is_not_declared_json_answers_415(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let body = r#"{"name": "Mitte"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = server
            .http
            .post(server.url("/v1/clinics"))
            .bearer_auth(&org.admin_token)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let answer = server.send(request).await;
        assert_eq!(answer.status, 415, "{content_type:?}: {}", answer.text());
        assert_eq!(answer.code().as_deref(), Some("unsupported_media_type"));
    }
    // A charset parameter is fine.
    server
        .send(
            server
                .http
                .post(server.url("/v1/clinics"))
                .bearer_auth(&org.admin_token)
                .header("content-type", "application/json; charset=utf-8")
                .body(body),
        )
        .await
        .expect_status(201);
}

/// Sends message bytes as they are: for what a generated client can never produce.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug, Clone, Copy, Default)]
struct RawBytes;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> RawBytes {
        RawBytes
    }

    fn decoder(&mut self) -> RawBytes {
        RawBytes
    }
}

impl Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

async fn raw_grpc(
    server: &TestServer,
    path: &'static str,
    message: Vec<u8>,
    token: Option<&str>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(server.channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unknown(e.to_string()))?;
    let request = match token {
        Some(token) => authorized(message, token),
        None => tonic::Request::new(message),
    };
    grpc.unary(request, PathAndQuery::from_static(path), RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

async fn a_malformed_protobuf_message_answers_invalid_argument(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let garbage: [&[u8]; 3] = [
        // A varint that never ends.
        &[0xff; 11],
        // Field 1, length-delimited, claiming 100 bytes and carrying one.
        &[0x0a, 0x64, 0x61],
        // Field 1 as a string that is not UTF-8.
        &[0x0a, 0x02, 0xc3, 0x28],
    ];
    for bytes in garbage {
        for (path, token) in [
            ("/skinledger.v1.AuthService/Token", None),
            (
                "/skinledger.v1.OrganizationService/CreateClinic",
                Some(org.admin_token.as_str()),
            ),
        ] {
            let status = raw_grpc(&server, path, bytes.to_vec(), token)
                .await
                .expect_err("garbage is refused");
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{path} {bytes:?}: {status:?}"
            );
            assert!(
                status.message().starts_with("bad_request"),
                "{path} {bytes:?}: {status:?}"
            );
        }
    }
    // The raw client itself is sound: a well-formed message goes through.
    let valid = prost::Message::encode_to_vec(&pb::ListClinicsRequest::default());
    raw_grpc(
        &server,
        "/skinledger.v1.OrganizationService/ListClinics",
        valid,
        Some(&org.admin_token),
    )
    .await
    .expect("a well-formed message");
}

async fn a_grpc_validation_error_answers_invalid_argument_naming_the_fields(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let status = server
        .org_grpc()
        .create_staff(authorized(
            pb::CreateStaffRequest {
                email: "not-an-email".into(),
                name: "Nina".into(),
                password: "short".into(),
                roles: vec![],
            },
            &org.admin_token,
        ))
        .await
        .expect_err("invalid fields");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("validation_failed"),
        "{status:?}"
    );
    assert!(
        status.message().contains("email") && status.message().contains("password"),
        "{status:?}"
    );

    let bad_grant = server
        .org_grpc()
        .create_staff(authorized(
            pb::CreateStaffRequest {
                email: "nina@glow.test".into(),
                name: "Nina".into(),
                password: PASSWORD.into(),
                roles: vec![pb::RoleGrant {
                    role: "nurse".into(),
                    clinic_id: Some("not-a-uuid".into()),
                }],
            },
            &org.admin_token,
        ))
        .await
        .expect_err("a malformed clinic id");
    assert_eq!(bad_grant.code(), Code::InvalidArgument);
    assert!(
        bad_grant.message().contains("roles[0].clinic_id"),
        "{bad_grant:?}"
    );
}

async fn the_request_id_is_generated_when_absent_and_echoed_when_sent(backend: Backend) {
    let server = TestServer::start(backend).await;
    let generated = server.get("/healthz", None).await.expect_status(200);
    let id = generated.header("x-request-id").expect("a request id");
    assert!(Uuid::parse_str(&id).is_ok(), "{id}");
    let again = server.get("/healthz", None).await;
    assert_ne!(again.header("x-request-id"), Some(id), "request ids repeat");

    let mine = "client-chose-this-id-42";
    let echoed = server
        .send(
            server
                .http
                .get(server.url("/v1/me"))
                .header("x-request-id", mine),
        )
        .await
        .expect_status(401);
    assert_eq!(echoed.header("x-request-id").as_deref(), Some(mine));

    // gRPC: the same header, as metadata.
    let mut request = tonic::Request::new(pb::MeRequest {});
    request
        .metadata_mut()
        .insert("x-request-id", mine.parse().expect("metadata"));
    let status = server.auth_grpc().me(request).await.expect_err("no token");
    assert_eq!(
        status
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(mine),
        "{status:?}"
    );
    let response = server
        .auth_grpc()
        .token(pb::TokenRequest {
            grant_type: "password".into(),
            org: "nowhere".into(),
            email: "a@b.test".into(),
            password: "whatever-password".into(),
            ..Default::default()
        })
        .await
        .expect_err("an unknown organisation");
    let generated = response
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        generated
            .as_deref()
            .is_some_and(|id| Uuid::parse_str(id).is_ok()),
        "{response:?}"
    );
}

async fn unknown_routes_and_ids_answer_404(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let token = Some(org.admin_token.as_str());
    for path in [
        "/v1/nothing-here",
        "/v1/clinics/not-a-uuid",
        &format!("/v1/clinics/{}", Uuid::now_v7()),
        &format!("/v1/staff/{}", Uuid::now_v7()),
    ] {
        let answer = server.get(path, token).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        assert_eq!(answer.code().as_deref(), Some("not_found"), "{path}");
    }
}

async fn the_operations_endpoints_answer(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.get("/healthz", None).await.expect_status(200);
    server.get("/readyz", None).await.expect_status(200);

    // Make sure a templated route and an unknown path have been counted.
    server
        .get(&format!("/v1/clinics/{}", Uuid::now_v7()), None)
        .await
        .expect_status(401);
    server
        .get("/v1/no-such-thing", None)
        .await
        .expect_status(404);
    let metrics = server.get("/metrics", None).await.expect_status(200).text();
    for family in [
        "skinledger_http_requests_total",
        "skinledger_http_request_duration_seconds",
        "skinledger_open_connections",
    ] {
        assert!(
            metrics.contains(&format!("# HELP {family} ")),
            "no # HELP for {family}:\n{metrics}"
        );
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("skinledger_http_requests_total{")
                && l.contains(r#"route="unmatched""#)
                && l.contains(r#"status="404""#)),
        "unknown paths are not counted:\n{metrics}"
    );
    let counted: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("skinledger_http_requests_total{"))
        .collect();
    assert!(!counted.is_empty(), "no request counter in:\n{metrics}");
    assert!(
        counted
            .iter()
            .any(|l| l.contains(r#"route="/v1/clinics/{id}""#) && l.contains(r#"status="401""#)),
        "requests are not counted by route template and status:\n{}",
        counted.join("\n")
    );
    assert!(
        metrics.contains("skinledger_http_request_duration_seconds_bucket"),
        "no latency histogram"
    );

    let openapi = server.get("/openapi.json", None).await.expect_status(200);
    let document: Value = serde_json::from_slice(&openapi.body).expect("OpenAPI parses as JSON");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3'))
    );
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/v1/auth/token",
        "/v1/auth/revoke",
        "/v1/me",
        "/v1/clinics",
        "/v1/clinics/{id}",
        "/v1/staff",
        "/v1/staff/{id}",
        "/v1/staff/{id}/roles",
        "/v1/staff/{id}/deactivate",
        "/v1/api-clients",
        "/v1/api-clients/{id}",
        "/v1/audit-events",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }

    let docs = server.get("/docs", None).await.expect_status(200);
    assert!(
        docs.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        docs.header("content-type")
    );
    assert!(docs.text().to_lowercase().contains("<html"));

    // And it stops gracefully, with REST and gRPC connections still open.
    server.stop().await;
}

async fn grpc_health_and_reflection_answer(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut health = HealthClient::new(server.channel.clone());
    for service in [
        "",
        "skinledger.v1.AuthService",
        "skinledger.v1.OrganizationService",
        "skinledger.v1.AuditService",
    ] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health of {service:?}: {e:?}"))
            .into_inner();
        assert_eq!(
            answer.status,
            ServingStatus::Serving as i32,
            "{service:?} is not serving"
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "skinledger.v1.NoSuchService".into(),
        })
        .await
        .expect_err("an unknown service");
    assert_eq!(unknown.code(), Code::NotFound);

    let mut reflection = ServerReflectionClient::new(server.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection")
        .into_inner();
    let answer = answers
        .next()
        .await
        .expect("one answer")
        .expect("a reflection answer");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let services: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "skinledger.v1.AuthService",
        "skinledger.v1.OrganizationService",
        "skinledger.v1.AuditService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            services.iter().any(|s| s == expected),
            "{expected} not in {services:?}"
        );
    }
    drop(answers);

    // gRPC calls are counted by service, method and gRPC status: a refusal (trailers only),
    // an answer (status in the trailers after the message).
    let refused = server
        .org_grpc()
        .list_clinics(pb::ListClinicsRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), Code::Unauthenticated);
    let metrics = server.get("/metrics", None).await.expect_status(200).text();
    let grpc_count = |service: &str, method: &str, code: &str| {
        metrics.lines().any(|l| {
            l.starts_with("skinledger_grpc_requests_total{")
                && l.contains(&format!(r#"service="{service}""#))
                && l.contains(&format!(r#"method="{method}""#))
                && l.contains(&format!(r#"code="{code}""#))
        })
    };
    assert!(
        grpc_count("grpc.health.v1.Health", "Check", "OK"),
        "a served call is not counted:\n{metrics}"
    );
    assert!(
        grpc_count("grpc.health.v1.Health", "Check", "NOT_FOUND"),
        "a refused health check is not counted:\n{metrics}"
    );
    assert!(
        grpc_count(
            "skinledger.v1.OrganizationService",
            "ListClinics",
            "UNAUTHENTICATED"
        ),
        "a refusal is not counted by its gRPC status:\n{metrics}"
    );
    for family in [
        "skinledger_grpc_requests_total",
        "skinledger_grpc_request_duration_seconds",
        "skinledger_db_pool_connections",
        "skinledger_db_pool_idle_connections",
        "skinledger_db_pool_max_connections",
        "skinledger_db_pool_waiting",
    ] {
        assert!(
            metrics.contains(&format!("# HELP {family} ")),
            "no # HELP for {family}:\n{metrics}"
        );
    }
    let pool = match backend {
        Backend::Sqlite => "write",
        Backend::Postgres => "shared",
    };
    assert!(
        metrics.lines().any(|l| l.starts_with(&format!(
            r#"skinledger_db_pool_max_connections{{pool="{pool}"}}"#
        ))),
        "no {pool} pool in:\n{metrics}"
    );
    assert!(
        !metrics.contains(r#"route="/grpc.health.v1.Health/{*rest}""#),
        "gRPC calls are counted as REST routes:\n{metrics}"
    );
}
