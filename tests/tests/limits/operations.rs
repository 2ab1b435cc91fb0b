//! Request ids, unknown routes, the operations endpoints, gRPC health and reflection.

use futures::StreamExt;
use serde_json::Value;
use skinledger_e2e::{Backend, TestServer, e2e_on_both_backends, pb};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use uuid::Uuid;

e2e_on_both_backends!(
    the_request_id_is_generated_when_absent_and_echoed_when_sent,
    unknown_routes_and_ids_answer_404,
    the_operations_endpoints_answer,
    grpc_health_and_reflection_answer,
);

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
        "skinledger_runtime_worker_threads",
    ] {
        assert!(
            metrics.contains(&format!("# HELP {family} ")),
            "no # HELP for {family}:\n{metrics}"
        );
    }
    let pools: &[&str] = match backend {
        Backend::Sqlite => &["read", "write"],
        Backend::Postgres => &["shared", "reads"],
    };
    for pool in pools {
        assert!(
            metrics.lines().any(|l| l.starts_with(&format!(
                r#"skinledger_db_pool_max_connections{{pool="{pool}"}}"#
            ))),
            "no {pool} pool in:\n{metrics}"
        );
    }
    assert!(
        !metrics.contains(r#"route="/grpc.health.v1.Health/{*rest}""#),
        "gRPC calls are counted as REST routes:\n{metrics}"
    );
}
