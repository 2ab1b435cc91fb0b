//! The edge as an attacker tries it: bodies that are not objects, two credentials at once,
//! request ids of any length, made-up methods; and the headers tokens and client data go out
//! with.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;

e2e_on_both_backends!(
    bodies_credentials_and_request_ids_are_held_to_their_shape,
    tokens_and_client_data_are_never_cached_and_the_docs_cannot_be_framed,
);

async fn bodies_credentials_and_request_ids_are_held_to_their_shape(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = org.admin_token.as_str();

    // `[]` would otherwise read as "every field default" and reset a customised policy.
    let before = server
        .get("/v1/policy", Some(admin))
        .await
        .expect_status(200);
    let refused = server.put("/v1/policy", Some(admin), &json!([])).await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text());
    assert_eq!(refused.invalid_fields(), vec!["body".to_owned()]);
    for scalar in [json!(7), json!("policy"), json!(null)] {
        let answer = server.post("/v1/clinics", Some(admin), &scalar).await;
        assert_eq!(answer.status.as_u16(), 422, "{scalar}: {}", answer.text());
    }
    let after = server
        .get("/v1/policy", Some(admin))
        .await
        .expect_status(200);
    assert_eq!(before.json(), after.json());

    // Two credentials: which one counts? Neither.
    let two = server
        .send(
            server
                .http
                .get(server.url("/v1/me"))
                .header("authorization", format!("Bearer {admin}"))
                .header("authorization", "Bearer someone-elses"),
        )
        .await;
    assert_eq!(two.status.as_u16(), 400, "{}", two.text());
    let mut request = authorized(pb::MeRequest {}, admin);
    request.metadata_mut().append(
        "authorization",
        "Bearer someone-elses".parse().expect("metadata"),
    );
    let refused = server
        .auth_grpc()
        .me(request)
        .await
        .expect_err("two credentials");
    assert_eq!(refused.code(), Code::InvalidArgument);

    // A short request id is kept; one of 8,000 characters is replaced.
    let kept = server
        .send(
            server
                .http
                .get(server.url("/v1/me"))
                .bearer_auth(admin)
                .header("x-request-id", "clinic-app-42"),
        )
        .await;
    assert_eq!(
        kept.header("x-request-id").as_deref(),
        Some("clinic-app-42")
    );
    let long = "r".repeat(8_000);
    let replaced = server
        .send(
            server
                .http
                .get(server.url("/v1/me"))
                .bearer_auth(admin)
                .header("x-request-id", &long),
        )
        .await;
    let id = replaced.header("x-request-id").expect("a request id");
    assert!(id.len() <= 64 && id != long, "{id}");

    // Made-up methods do not grow the metrics.
    for n in 0..100 {
        let method = reqwest::Method::from_bytes(format!("BREW{n}").as_bytes()).expect("a method");
        let _ = server
            .http
            .request(method, server.url("/v1/clinics"))
            .bearer_auth(admin)
            .send()
            .await
            .expect("an answer");
    }
    let metrics = server.get("/metrics", None).await.text();
    let methods: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("skinledger_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert!(
        methods.iter().all(|m| [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"
        ]
        .contains(m)),
        "{methods:?}"
    );
    // The made-up methods were counted, under one label.
    assert!(methods.contains("other"), "{methods:?}");
}

async fn tokens_and_client_data_are_never_cached_and_the_docs_cannot_be_framed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let token = server
        .password_grant("glow", &org.admin_email, skinledger_e2e::PASSWORD)
        .await
        .expect_status(200);
    let client = server
        .post(
            "/v1/clients",
            Some(&org.admin_token),
            &json!({ "first_name": "Cache", "last_name": "Never", "date_of_birth": "1990-01-01" }),
        )
        .await
        .expect_status(201);
    let read = server
        .get(
            &format!("/v1/clients/{}", client.id()),
            Some(&org.admin_token),
        )
        .await
        .expect_status(200);
    for answer in [&token, &client, &read] {
        assert_eq!(answer.header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(
            answer.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
    let docs = server.get("/docs", None).await;
    assert_eq!(docs.status.as_u16(), 200);
    let csp = docs
        .header("content-security-policy")
        .expect("a content security policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
        "{csp}"
    );
    assert_eq!(docs.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        docs.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

/// The `src` and `href` values of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_page_loads_everything_from_the_server_itself() {
    let server = TestServer::start(Backend::Sqlite).await;
    let page = server.get("/docs/", None).await.expect_status(200);
    let html = page.text();
    let refs = references(&html);
    assert!(
        refs.iter().any(|r| r.ends_with(".js")),
        "the page loads a script: {refs:?}"
    );
    for reference in &refs {
        assert!(
            !reference.contains("://") && !reference.starts_with("//"),
            "the page refers to another host: {reference}"
        );
        let path = format!("/docs/{}", reference.trim_start_matches("./"));
        let asset = server.get(&path, None).await;
        assert_eq!(asset.status.as_u16(), 200, "{path}");
    }
    let initializer = server
        .get("/docs/swagger-initializer.js", None)
        .await
        .expect_status(200)
        .text();
    assert!(initializer.contains("/openapi.json"), "{initializer}");
    assert!(
        !initializer.contains("http://") && !initializer.contains("https://"),
        "the initializer names another host: {initializer}"
    );
    let csp = page
        .header("content-security-policy")
        .expect("a content security policy");
    assert!(
        !csp.contains("http"),
        "the policy allows another host: {csp}"
    );
    let document = server.get("/openapi.json", None).await.expect_status(200);
    assert_eq!(document.json()["openapi"], "3.1.0");
    server.stop().await;
}
