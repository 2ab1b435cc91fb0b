//! Client credentials, deactivated staff, missing bearer tokens and missing fields.

use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, e2e_on_both_backends, grant, pb, tokens_of};
use tonic::Code;

use crate::refresh;

e2e_on_both_backends!(
    an_api_client_obtains_an_access_token_with_client_credentials,
    a_deactivated_staff_member_can_neither_log_in_nor_refresh,
    requests_without_a_bearer_token_are_refused,
    a_token_request_names_each_missing_field,
);

async fn an_api_client_obtains_an_access_token_with_client_credentials(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let clinic = server.create_clinic(&org.admin_token, "Glow Mitte").await;
    let (id, client_id, secret) = server
        .create_api_client(
            &org.admin_token,
            &[grant(Role::ClinicManager, Some(clinic))],
        )
        .await;

    let answer = server
        .post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret }),
        )
        .await
        .expect_status(200);
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body.get("refresh_token").is_none_or(Value::is_null),
        "client credentials must not get a refresh token: {body}"
    );
    let token = tokens_of(&body).access;
    let me = server
        .get("/v1/me", Some(&token))
        .await
        .expect_status(200)
        .json();
    assert_eq!(me["kind"], "api_client");
    assert_eq!(me["id"], id.to_string());
    assert_eq!(me["organization_slug"], "glow");
    assert_eq!(
        me["roles"],
        json!([{ "role": "clinic_manager", "clinic_id": clinic.to_string() }])
    );
    // It acts with its roles: a clinic manager reads its clinic.
    server
        .get(&format!("/v1/clinics/{clinic}"), Some(&token))
        .await
        .expect_status(200);

    let wrong = server
        .post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "client_credentials", "client_id": client_id, "client_secret": "sls_wrong" }),
        )
        .await
        .expect_status(401);
    assert_eq!(wrong.code().as_deref(), Some("invalid_credentials"));

    // Revoked: no new tokens, and the one it holds stops working at once.
    server
        .delete(&format!("/v1/api-clients/{id}"), Some(&org.admin_token))
        .await
        .expect_status(200);
    server
        .post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret }),
        )
        .await
        .expect_status(401);
    server.get("/v1/me", Some(&token)).await.expect_status(401);
}

async fn a_deactivated_staff_member_can_neither_log_in_nor_refresh(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let clinic = server.create_clinic(&org.admin_token, "Glow Mitte").await;
    let nina = server
        .create_staff(
            &org.admin_token,
            "nina@glow.test",
            &[grant(Role::Nurse, Some(clinic))],
        )
        .await;
    let tokens = server.login("glow", "nina@glow.test", PASSWORD).await;

    server
        .post(
            &format!("/v1/staff/{nina}/deactivate"),
            Some(&org.admin_token),
            &json!({}),
        )
        .await
        .expect_status(200);

    let login = server
        .password_grant("glow", "nina@glow.test", PASSWORD)
        .await
        .expect_status(401);
    assert_eq!(login.code().as_deref(), Some("invalid_credentials"));
    refresh(&server, tokens.refresh.as_deref().expect("a refresh token"))
        .await
        .expect_status(401);
    server
        .get("/v1/me", Some(&tokens.access))
        .await
        .expect_status(401);
}

async fn requests_without_a_bearer_token_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let answer = server.get("/v1/me", None).await.expect_status(401);
    assert_eq!(answer.code().as_deref(), Some("unauthenticated"));
    assert_eq!(answer.header("www-authenticate").as_deref(), Some("Bearer"));
    assert!(
        answer
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/problem+json")),
        "not a problem document: {:?}",
        answer.header("content-type")
    );
    let basic = server
        .send(
            server
                .http
                .get(server.url("/v1/clinics"))
                .header("authorization", "Basic YWRtaW46YWRtaW4="),
        )
        .await;
    assert_eq!(basic.status, 401);

    let status = server
        .auth_grpc()
        .me(pb::MeRequest {})
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().starts_with("unauthenticated"),
        "{status:?}"
    );
}

async fn a_token_request_names_each_missing_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let answer = server
        .post("/v1/auth/token", None, &json!({ "grant_type": "password" }))
        .await
        .expect_status(422);
    assert_eq!(answer.code().as_deref(), Some("validation_failed"));
    let fields = answer.invalid_fields();
    for field in ["org", "email", "password"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }
    let unknown = server
        .post("/v1/auth/token", None, &json!({ "grant_type": "implicit" }))
        .await
        .expect_status(422);
    assert_eq!(unknown.invalid_fields(), vec!["grant_type".to_owned()]);
}
