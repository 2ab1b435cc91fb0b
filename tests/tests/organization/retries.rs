//! A create retried with its idempotency key happens once; concurrent requests all succeed.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;

use crate::ids;

e2e_on_both_backends!(
    a_create_retried_with_its_idempotency_key_happens_once,
    concurrent_requests_all_succeed,
);

async fn a_create_retried_with_its_idempotency_key_happens_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let other = server.create_org("other").await;
    let create = |token: &str, key: &str, name: &str| {
        server
            .http
            .post(server.url("/v1/clinics"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({ "name": name }))
    };

    let first = server
        .send(create(&org.admin_token, "retry-1", "Mitte"))
        .await
        .expect_status(201);
    let again = server
        .send(create(&org.admin_token, "retry-1", "Mitte"))
        .await
        .expect_status(201);
    assert_eq!(first.json(), again.json(), "the retry got another answer");
    let reused = server
        .send(create(&org.admin_token, "retry-1", "Nord"))
        .await
        .expect_status(422);
    assert_eq!(reused.code().as_deref(), Some("idempotency_key_reused"));
    // Keys belong to one organisation.
    let theirs = server
        .send(create(&other.admin_token, "retry-1", "Mitte"))
        .await
        .expect_status(201);
    assert_ne!(theirs.id(), first.id());
    let clinics = ids(&server
        .get("/v1/clinics", Some(&org.admin_token))
        .await
        .expect_status(200));
    assert_eq!(clinics, BTreeSet::from([first.id().to_string()]));

    // gRPC: the same key as metadata.
    let request = |name: &str| {
        let mut request = authorized(
            pb::CreateClinicRequest {
                name: name.into(),
                ..Default::default()
            },
            &org.admin_token,
        );
        request
            .metadata_mut()
            .insert("idempotency-key", "grpc-retry-1".parse().expect("metadata"));
        request
    };
    let mut grpc = server.org_grpc();
    let a = grpc
        .create_clinic(request("Süd"))
        .await
        .expect("CreateClinic")
        .into_inner();
    let b = grpc
        .create_clinic(request("Süd"))
        .await
        .expect("the retry")
        .into_inner();
    assert_eq!(a, b);
    let reused = grpc
        .create_clinic(request("West"))
        .await
        .expect_err("another request with the key");
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert!(
        reused.message().starts_with("idempotency_key_reused"),
        "{reused:?}"
    );
}

async fn concurrent_requests_all_succeed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("busy").await;
    let token = org.admin_token.as_str();

    // Writes and reads at once: none may fail (on SQLite: never "database is locked").
    let bodies: Vec<Value> = (0..24)
        .map(|i| json!({ "name": format!("Clinic {i}") }))
        .collect();
    let writes = bodies
        .iter()
        .map(|body| server.post("/v1/clinics", Some(token), body));
    let reads = (0..24).map(|_| server.get("/v1/clinics", Some(token)));
    let (writes, reads) = tokio::join!(
        futures::future::join_all(writes),
        futures::future::join_all(reads)
    );
    for answer in writes {
        answer.expect_status(201);
    }
    for answer in reads {
        answer.expect_status(200);
    }

    // One key sent many times at once: one clinic, every answer the same or "in flight".
    let sends = (0..8).map(|_| {
        server.send(
            server
                .http
                .post(server.url("/v1/clinics"))
                .bearer_auth(token)
                .header("idempotency-key", "burst-1")
                .json(&json!({ "name": "Burst" })),
        )
    });
    let answers = futures::future::join_all(sends).await;
    let mut created = BTreeSet::new();
    for answer in &answers {
        match answer.status.as_u16() {
            201 => {
                created.insert(answer.id());
            }
            409 => {}
            other => panic!("a concurrent retry answered {other}: {}", answer.text()),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    let listed = server
        .get("/v1/clinics?limit=200", Some(token))
        .await
        .expect_status(200)
        .json();
    let bursts = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|c| c["name"] == "Burst")
        .count();
    assert_eq!(bursts, 1);
}
