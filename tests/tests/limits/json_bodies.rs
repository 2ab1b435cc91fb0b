//! JSON bodies: invalid fields each named, malformed or unknown fields, wrong type.

use serde_json::json;
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, e2e_on_both_backends, grant};

e2e_on_both_backends!(
    invalid_fields_are_each_named_in_a_422,
    malformed_json_answers_400,
    unknown_json_fields_are_refused_naming_the_field,
    a_body_that_is_not_declared_json_answers_415,
);

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
