//! Password grants and refresh tokens: rotated on use, a reused one revokes its family.

use serde_json::json;
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, e2e_on_both_backends, grant, tokens_of};

use crate::refresh;

e2e_on_both_backends!(
    the_password_grant_issues_an_access_token_and_a_refresh_token,
    a_refresh_token_is_rotated_on_every_use,
    reusing_a_rotated_refresh_token_revokes_its_whole_family,
    revoking_a_refresh_token_ends_the_session,
    concurrent_refreshes_of_one_token_never_rotate_it_twice,
);

async fn the_password_grant_issues_an_access_token_and_a_refresh_token(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let clinic = server.create_clinic(&org.admin_token, "Glow Mitte").await;
    server
        .create_staff(
            &org.admin_token,
            "nina@glow.test",
            &[grant(Role::Nurse, Some(clinic))],
        )
        .await;

    // The email is matched as people type it on a phone.
    let answer = server
        .password_grant("glow", " Nina@Glow.test", PASSWORD)
        .await
        .expect_status(200);
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let tokens = tokens_of(&body);
    assert!(tokens.refresh.is_some(), "no refresh token in {body}");
    assert_eq!(tokens.access.split('.').count(), 3, "not a JWT");

    let me = server
        .get("/v1/me", Some(&tokens.access))
        .await
        .expect_status(200)
        .json();
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["email"], "nina@glow.test");
    assert_eq!(me["organization_id"], org.id.to_string());
    assert_eq!(me["organization_slug"], "glow");
    assert_eq!(
        me["roles"],
        json!([{ "role": "nurse", "clinic_id": clinic.to_string() }])
    );

    let admin = server
        .get("/v1/me", Some(&org.admin_token))
        .await
        .expect_status(200)
        .json();
    assert_eq!(admin["id"], org.admin_id.to_string());
    assert_eq!(
        admin["roles"],
        json!([{ "role": "org_admin", "clinic_id": null }])
    );
}

async fn a_refresh_token_is_rotated_on_every_use(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let first = server.login("glow", &org.admin_email, PASSWORD).await;
    let r1 = first.refresh.expect("a refresh token");

    let second = tokens_of(&refresh(&server, &r1).await.expect_status(200).json());
    let r2 = second.refresh.clone().expect("a new refresh token");
    assert_ne!(r1, r2, "the refresh token was not rotated");
    assert_ne!(first.access, second.access);
    server
        .get("/v1/me", Some(&second.access))
        .await
        .expect_status(200);

    let third = tokens_of(&refresh(&server, &r2).await.expect_status(200).json());
    let r3 = third.refresh.expect("a third refresh token");
    assert!(r3 != r1 && r3 != r2);
    server
        .get("/v1/me", Some(&third.access))
        .await
        .expect_status(200);
}

async fn reusing_a_rotated_refresh_token_revokes_its_whole_family(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let r1 = server
        .login("glow", &org.admin_email, PASSWORD)
        .await
        .refresh
        .expect("a refresh token");
    let other_device = server
        .login("glow", &org.admin_email, PASSWORD)
        .await
        .refresh
        .expect("a refresh token");
    let r2 = tokens_of(&refresh(&server, &r1).await.expect_status(200).json())
        .refresh
        .expect("a rotated refresh token");
    // A retry of the same refresh (its answer lost) gets the same token back.
    let retried = tokens_of(&refresh(&server, &r1).await.expect_status(200).json())
        .refresh
        .expect("the same refresh token");
    assert_eq!(retried, r2);
    let r3 = tokens_of(&refresh(&server, &r2).await.expect_status(200).json())
        .refresh
        .expect("a rotated refresh token");

    // Someone replays a token whose successor was used: refused...
    let replay = refresh(&server, &r1).await.expect_status(401);
    assert_eq!(replay.code().as_deref(), Some("invalid_grant"));
    // ...and the newest token of the family died with it.
    let newest = refresh(&server, &r3).await.expect_status(401);
    assert_eq!(newest.code().as_deref(), Some("invalid_grant"));
    // Another login's family is untouched.
    refresh(&server, &other_device).await.expect_status(200);

    let audit = server
        .get(
            "/v1/audit-events?action=auth.refresh_token_reuse&limit=200",
            Some(&org.admin_token),
        )
        .await
        .expect_status(200)
        .json();
    assert!(
        !audit["items"].as_array().expect("items").is_empty(),
        "the reuse is not in the audit log: {audit}"
    );
}

async fn revoking_a_refresh_token_ends_the_session(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let r1 = server
        .login("glow", &org.admin_email, PASSWORD)
        .await
        .refresh
        .expect("a refresh token");
    let r2 = tokens_of(&refresh(&server, &r1).await.expect_status(200).json())
        .refresh
        .expect("a rotated refresh token");

    server
        .post("/v1/auth/revoke", None, &json!({ "refresh_token": r2 }))
        .await
        .expect_status(204);
    refresh(&server, &r2).await.expect_status(401);
    // Revoking again, or a token that never existed, tells nothing.
    server
        .post("/v1/auth/revoke", None, &json!({ "refresh_token": r2 }))
        .await
        .expect_status(204);
    server
        .post(
            "/v1/auth/revoke",
            None,
            &json!({ "refresh_token": "slr_never-issued" }),
        )
        .await
        .expect_status(204);
}

async fn concurrent_refreshes_of_one_token_never_rotate_it_twice(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let token = server
        .login("glow", &org.admin_email, PASSWORD)
        .await
        .refresh
        .expect("a refresh token");

    let answers = futures::future::join_all((0..6).map(|_| refresh(&server, &token))).await;
    let mut winners = Vec::new();
    for answer in &answers {
        match answer.status.as_u16() {
            200 => winners.push(tokens_of(&answer.json())),
            401 => assert_eq!(answer.code().as_deref(), Some("invalid_grant")),
            other => panic!("a concurrent refresh answered {other}: {}", answer.text()),
        }
    }
    // Requests that raced the rotation are retries within the grace window: they get the
    // same new token, never a second one.
    let rotated: std::collections::BTreeSet<_> =
        winners.iter().filter_map(|w| w.refresh.clone()).collect();
    assert!(
        rotated.len() <= 1,
        "one refresh token was rotated twice: {rotated:?}"
    );
    if let Some(next) = rotated.first() {
        refresh(&server, next).await.expect_status(200);
    }
}
