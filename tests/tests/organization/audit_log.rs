//! Writes and logins appear in the audit log with their request id.

use serde_json::json;
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, authorized, e2e_on_both_backends, grant, pb};
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(writes_and_logins_appear_in_the_audit_log_with_their_request_id);

async fn writes_and_logins_appear_in_the_audit_log_with_their_request_id(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let request_id = format!("e2e-{}", Uuid::now_v7());
    let clinic = server
        .send(
            server
                .http
                .post(server.url("/v1/clinics"))
                .bearer_auth(&org.admin_token)
                .header("x-request-id", &request_id)
                .json(&json!({ "name": "Audited" })),
        )
        .await
        .expect_status(201)
        .id();

    let answer = server
        .get(
            &format!("/v1/audit-events?entity_id={clinic}"),
            Some(&org.admin_token),
        )
        .await
        .expect_status(200)
        .json();
    let events = answer["items"].as_array().expect("items");
    assert_eq!(events.len(), 1, "{answer}");
    let event = &events[0];
    assert_eq!(event["action"], "clinic.create");
    assert_eq!(event["actor_kind"], "staff");
    assert_eq!(event["actor_id"], org.admin_id.to_string());
    assert_eq!(event["outcome"], "success");
    assert_eq!(event["request_id"], request_id);
    assert!(event["occurred_at"].is_string());

    let logins = server
        .get("/v1/audit-events?action=auth.login", Some(&org.admin_token))
        .await
        .expect_status(200)
        .json();
    assert!(
        logins["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|e| e["outcome"] == "success")),
        "{logins}"
    );

    // gRPC: the org_admin reads it, others may not.
    let events = server
        .audit_grpc()
        .list_audit_events(authorized(
            pb::ListAuditEventsRequest {
                entity_id: Some(clinic.to_string()),
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .expect("ListAuditEvents")
        .into_inner();
    assert_eq!(events.items.len(), 1);
    assert_eq!(
        events.items[0].request_id.as_deref(),
        Some(request_id.as_str())
    );

    server
        .create_staff(
            &org.admin_token,
            "nina@glow.test",
            &[grant(Role::Nurse, Some(clinic))],
        )
        .await;
    let nurse = server
        .login("glow", "nina@glow.test", PASSWORD)
        .await
        .access;
    let denied = server
        .audit_grpc()
        .list_audit_events(authorized(pb::ListAuditEventsRequest::default(), &nurse))
        .await
        .expect_err("a nurse reads no audit log");
    assert_eq!(denied.code(), Code::PermissionDenied);
}
