//! HTTP as an integrator's HTTP library expects it: `201` with `Location`, compressed answers
//! when asked, 405 and 415 as problem documents, `If-Match` compared strongly (a weak tag never
//! matches) and `If-None-Match` answered 304.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, e2e_on_both_backends};

e2e_on_both_backends!(
    created_answers_locate_and_answers_compress_when_asked,
    wrong_methods_and_media_types_are_problem_documents,
    versions_are_compared_as_rfc_9110_says,
);

async fn created_answers_locate_and_answers_compress_when_asked(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = org.admin_token.as_str();

    let created = server
        .post("/v1/clinics", Some(admin), &json!({ "name": "Glow Mitte" }))
        .await
        .expect_status(201);
    let location = created.header("location").expect("a Location");
    assert_eq!(location, format!("/v1/clinics/{}", created.id()));
    let found = server.get(&location, Some(admin)).await.expect_status(200);
    assert_eq!(found.json()["id"], created.json()["id"]);

    for (encoding, magic) in [("gzip", &[0x1f_u8, 0x8b][..]), ("br", &[][..])] {
        let answer = server
            .send(
                server
                    .http
                    .get(server.url("/v1/clinics"))
                    .bearer_auth(admin)
                    .header("accept-encoding", encoding),
            )
            .await;
        assert_eq!(answer.status.as_u16(), 200);
        assert_eq!(answer.header("content-encoding").as_deref(), Some(encoding));
        assert!(answer.body.starts_with(magic), "{encoding}");
        assert!(
            serde_json::from_slice::<serde_json::Value>(&answer.body).is_err(),
            "{encoding}: the body went out as plain JSON"
        );
    }
    let plain = server.get("/v1/clinics", Some(admin)).await;
    assert!(plain.header("content-encoding").is_none());
    assert!(plain.json()["items"].is_array());
    server.stop().await;
}

async fn wrong_methods_and_media_types_are_problem_documents(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = org.admin_token.as_str();

    let wrong = server.delete("/v1/clinics", Some(admin)).await;
    assert_eq!(wrong.status.as_u16(), 405, "{}", wrong.text());
    assert_eq!(wrong.code().as_deref(), Some("method_not_allowed"));
    assert_eq!(
        wrong.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let allow = wrong.header("allow").expect("an Allow header");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    let form = server
        .send(
            server
                .http
                .post(server.url("/v1/clinics"))
                .bearer_auth(admin)
                .header("content-type", "text/plain")
                .body(r#"{"name": "Glow Mitte"}"#),
        )
        .await;
    assert_eq!(form.status.as_u16(), 415, "{}", form.text());
    assert_eq!(form.code().as_deref(), Some("unsupported_media_type"));
    assert_eq!(
        form.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    server.stop().await;
}

async fn versions_are_compared_as_rfc_9110_says(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = org.admin_token.as_str();
    let created = server
        .post(
            "/v1/products",
            Some(admin),
            &json!({
                "kind": "roller",
                "name": "Roller 0.5",
                "maker": "Dermaroll GmbH",
                "gtin": "09506000134352",
                "needle_length_mm": 0.5,
                "needle_count": 192,
            }),
        )
        .await
        .expect_status(201);
    let path = format!("/v1/products/{}", created.id());
    let read = server.get(&path, Some(admin)).await.expect_status(200);
    let etag = read.header("etag").expect("an ETag");

    // If-None-Match: the version the client has answers 304, weakly compared; another 200.
    for tag in [etag.clone(), format!("W/{etag}"), "*".to_owned()] {
        let unchanged = server
            .send(
                server
                    .http
                    .get(server.url(&path))
                    .bearer_auth(admin)
                    .header("if-none-match", &tag),
            )
            .await;
        assert_eq!(unchanged.status.as_u16(), 304, "{tag}");
        assert!(unchanged.body.is_empty());
        assert_eq!(unchanged.header("etag").as_deref(), Some(etag.as_str()));
    }
    let other = server
        .send(
            server
                .http
                .get(server.url(&path))
                .bearer_auth(admin)
                .header("if-none-match", "\"999\""),
        )
        .await;
    assert_eq!(other.status.as_u16(), 200);

    // If-Match: a weak tag or a tag never issued does not match (412); nonsense is 400.
    for (tag, status, code) in [
        (format!("W/{etag}"), 412, "precondition_failed"),
        ("\"abc\"".to_owned(), 412, "precondition_failed"),
        ("abc".to_owned(), 400, "bad_request"),
    ] {
        let refused = server
            .send(
                server
                    .http
                    .patch(server.url(&path))
                    .bearer_auth(admin)
                    .header("if-match", &tag)
                    .json(&json!({ "name": "Roller 0.5 mm" })),
            )
            .await;
        assert_eq!(refused.status.as_u16(), status, "{tag}: {}", refused.text());
        assert_eq!(refused.code().as_deref(), Some(code), "{tag}");
    }
    let changed = server
        .send(
            server
                .http
                .patch(server.url(&path))
                .bearer_auth(admin)
                .header("if-match", &etag)
                .json(&json!({ "name": "Roller 0.5 mm" })),
        )
        .await;
    assert_eq!(changed.status.as_u16(), 200, "{}", changed.text());
    server.stop().await;
}
