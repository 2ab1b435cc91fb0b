//! Authentication over REST and gRPC: the three grants, refresh rotation and reuse detection,
//! revocation, `me`, forged tokens, throttling and the sameness of failed logins.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{
    AUDIENCE, Backend, ISSUER, OTHER_KEY, PASSWORD, SIGNING_KEY, TestServer, authorized,
    e2e_on_both_backends, grant, pb, tokens_of,
};
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(
    the_password_grant_issues_an_access_token_and_a_refresh_token,
    a_refresh_token_is_rotated_on_every_use,
    reusing_a_rotated_refresh_token_revokes_its_whole_family,
    revoking_a_refresh_token_ends_the_session,
    an_api_client_obtains_an_access_token_with_client_credentials,
    a_deactivated_staff_member_can_neither_log_in_nor_refresh,
    requests_without_a_bearer_token_are_refused,
    the_auth_service_grants_rotates_and_revokes_over_grpc,
    forged_and_wrong_access_tokens_are_refused_over_rest_and_grpc,
    five_failed_logins_throttle_the_account_even_for_the_right_password,
    an_unknown_email_and_a_wrong_password_get_the_same_answer,
    a_token_request_names_each_missing_field,
    concurrent_refreshes_of_one_token_never_rotate_it_twice,
);

async fn refresh(server: &TestServer, token: &str) -> skinledger_e2e::Answer {
    server
        .post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "refresh_token", "refresh_token": token }),
        )
        .await
}

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

async fn the_auth_service_grants_rotates_and_revokes_over_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let clinic = server.create_clinic(&org.admin_token, "Glow Mitte").await;
    let mut auth = server.auth_grpc();

    let password = |email: &str| pb::TokenRequest {
        grant_type: "password".into(),
        org: "glow".into(),
        email: email.into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    let refresh = |token: &str| pb::TokenRequest {
        grant_type: "refresh_token".into(),
        refresh_token: token.into(),
        ..Default::default()
    };

    let first = auth
        .token(password(&org.admin_email))
        .await
        .expect("the password grant")
        .into_inner();
    assert_eq!(first.token_type, "Bearer");
    assert_eq!(first.expires_in, 900);
    let r1 = first.refresh_token.expect("a refresh token");

    let me = auth
        .me(authorized(pb::MeRequest {}, &first.access_token))
        .await
        .expect("me")
        .into_inner();
    assert_eq!(me.kind, "staff");
    assert_eq!(me.id, org.admin_id.to_string());
    assert_eq!(me.email.as_deref(), Some(org.admin_email.as_str()));
    assert_eq!(me.organization_slug, "glow");
    assert_eq!(me.roles.len(), 1);
    assert_eq!(me.roles[0].role, "org_admin");
    assert_eq!(me.roles[0].clinic_id, None);

    // Rotation: a new pair each time; a replayed one whose successor was used ends the family.
    let second = auth
        .token(refresh(&r1))
        .await
        .expect("the refresh grant")
        .into_inner();
    let r2 = second.refresh_token.expect("a rotated refresh token");
    assert_ne!(r1, r2);
    auth.me(authorized(pb::MeRequest {}, &second.access_token))
        .await
        .expect("the new access token works");
    // A retry within the grace window gets the same refresh token.
    let retried = auth
        .token(refresh(&r1))
        .await
        .expect("a retry")
        .into_inner();
    assert_eq!(retried.refresh_token.as_deref(), Some(r2.as_str()));
    let r2b = auth
        .token(refresh(&r2))
        .await
        .expect("the session goes on")
        .into_inner()
        .refresh_token
        .expect("a rotated refresh token");
    let replay = auth.token(refresh(&r1)).await.expect_err("a replay");
    assert_eq!(replay.code(), Code::Unauthenticated);
    assert!(replay.message().starts_with("invalid_grant"), "{replay:?}");
    let newest = auth
        .token(refresh(&r2b))
        .await
        .expect_err("the family ended");
    assert_eq!(newest.code(), Code::Unauthenticated);

    // Revoke (logout).
    let r3 = auth
        .token(password(&org.admin_email))
        .await
        .expect("a new login")
        .into_inner()
        .refresh_token
        .expect("a refresh token");
    auth.revoke(pb::RevokeRequest {
        refresh_token: r3.clone(),
    })
    .await
    .expect("revoke");
    let revoked = auth.token(refresh(&r3)).await.expect_err("revoked");
    assert_eq!(revoked.code(), Code::Unauthenticated);

    // Wrong password.
    let wrong = auth
        .token(pb::TokenRequest {
            password: "not-the-password".into(),
            ..password(&org.admin_email)
        })
        .await
        .expect_err("a wrong password");
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert!(
        wrong.message().starts_with("invalid_credentials"),
        "{wrong:?}"
    );

    // Client credentials.
    let (id, client_id, secret) = server
        .create_api_client(&org.admin_token, &[grant(Role::FrontDesk, Some(clinic))])
        .await;
    let answer = auth
        .token(pb::TokenRequest {
            grant_type: "client_credentials".into(),
            client_id,
            client_secret: secret,
            ..Default::default()
        })
        .await
        .expect("the client credentials grant")
        .into_inner();
    assert_eq!(answer.refresh_token, None);
    let me = auth
        .me(authorized(pb::MeRequest {}, &answer.access_token))
        .await
        .expect("me as an API client")
        .into_inner();
    assert_eq!(me.kind, "api_client");
    assert_eq!(me.id, id.to_string());
    assert_eq!(me.email, None);

    // An unknown grant type is a validation error.
    let unknown = auth
        .token(pb::TokenRequest {
            grant_type: "implicit".into(),
            ..Default::default()
        })
        .await
        .expect_err("an unknown grant");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(
        unknown.message().starts_with("validation_failed"),
        "{unknown:?}"
    );
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Claims the server would issue itself for this principal.
fn valid_claims(sub: &str, org: &str) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "kind": "staff",
        "org": org,
        "exp": now + 600,
        "nbf": now,
        "iat": now,
        "jti": Uuid::now_v7(),
    })
}

fn with(claims: &Value, changes: &Value) -> Value {
    let mut out = claims.clone();
    for (k, v) in changes.as_object().expect("an object") {
        out[k] = v.clone();
    }
    out
}

fn without(claims: &Value, claim: &str) -> Value {
    let mut out = claims.clone();
    out.as_object_mut().expect("an object").remove(claim);
    out
}

fn sign(algorithm: Algorithm, key: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .expect("a signed token")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// A token assembled by hand: base64url JSON header and payload, HS256 over them with `key`.
fn by_hand(header: &Value, claims: &Value, key: Option<&[u8]>) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = match key {
        Some(key) => jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(key),
            Algorithm::HS256,
        )
        .expect("a signature"),
        None => String::new(),
    };
    format!("{message}.{signature}")
}

async fn forged_and_wrong_access_tokens_are_refused_over_rest_and_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let other = server.create_org("other").await;
    let tokens = server.login("glow", &org.admin_email, PASSWORD).await;
    let sub = org.admin_id.to_string();
    let claims = valid_claims(&sub, &org.id.to_string());
    let now = now();

    // The forging is right: with the server's key, algorithm and claims a token is accepted,
    // by the library and by hand, and so is one that expired within the leeway.
    let accepted = [
        (
            "forged like the server",
            sign(Algorithm::HS256, SIGNING_KEY, &claims),
        ),
        (
            "assembled by hand",
            by_hand(
                &json!({ "alg": "HS256", "typ": "JWT" }),
                &claims,
                Some(SIGNING_KEY),
            ),
        ),
        (
            "expired 5 s ago, within the leeway",
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(
                    &claims,
                    &json!({ "exp": now - 5, "iat": now - 600, "nbf": now - 600 }),
                ),
            ),
        ),
    ];
    for (what, token) in &accepted {
        let answer = server.get("/v1/me", Some(token)).await;
        assert_eq!(answer.status, 200, "{what}: {}", answer.text());
        server
            .auth_grpc()
            .me(authorized(pb::MeRequest {}, token))
            .await
            .unwrap_or_else(|e| panic!("{what} over gRPC: {e:?}"));
    }

    let mut refused = vec![
        (
            "alg none".to_owned(),
            by_hand(&json!({ "alg": "none", "typ": "JWT" }), &claims, None),
        ),
        ("alg none with the real signature".to_owned(), {
            let real = sign(Algorithm::HS256, SIGNING_KEY, &claims);
            let signature = real.rsplit('.').next().expect("a signature").to_owned();
            let unsigned = by_hand(&json!({ "alg": "none", "typ": "JWT" }), &claims, None);
            format!("{unsigned}{signature}")
        }),
        (
            "HS512 with the right key".to_owned(),
            sign(Algorithm::HS512, SIGNING_KEY, &claims),
        ),
        (
            "HS384 with the right key".to_owned(),
            sign(Algorithm::HS384, SIGNING_KEY, &claims),
        ),
        (
            "another key".to_owned(),
            sign(Algorithm::HS256, OTHER_KEY, &claims),
        ),
        (
            "expired beyond the leeway".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(
                    &claims,
                    &json!({ "exp": now - 120, "iat": now - 1000, "nbf": now - 1000 }),
                ),
            ),
        ),
        (
            "nbf in the future beyond the leeway".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "nbf": now + 120 })),
            ),
        ),
        (
            "iat in the future beyond the leeway".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "iat": now + 120, "nbf": now })),
            ),
        ),
        (
            "exp as a string".to_owned(),
            by_hand(
                &json!({ "alg": "HS256", "typ": "JWT" }),
                &with(&claims, &json!({ "exp": (now + 600).to_string() })),
                Some(SIGNING_KEY),
            ),
        ),
        (
            "wrong aud".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "aud": "someone-else" })),
            ),
        ),
        (
            "wrong iss".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "iss": "https://evil.example" })),
            ),
        ),
        (
            "an unknown kind of principal".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "kind": "robot" })),
            ),
        ),
        (
            "a subject of another organisation".to_owned(),
            sign(
                Algorithm::HS256,
                SIGNING_KEY,
                &with(&claims, &json!({ "org": other.id.to_string() })),
            ),
        ),
        ("a payload changed after signing".to_owned(), {
            let real = sign(Algorithm::HS256, SIGNING_KEY, &claims);
            let parts: Vec<&str> = real.split('.').collect();
            let changed = b64(&with(
                &claims,
                &json!({ "sub": other.admin_id.to_string(), "org": other.id.to_string() }),
            ));
            format!("{}.{changed}.{}", parts[0], parts[2])
        }),
        (
            "a refresh token".to_owned(),
            tokens.refresh.clone().expect("a refresh token"),
        ),
        ("garbage".to_owned(), "not-a-token".to_owned()),
    ];
    for claim in [
        "iss", "aud", "sub", "kind", "org", "exp", "nbf", "iat", "jti",
    ] {
        refused.push((
            format!("missing {claim}"),
            sign(Algorithm::HS256, SIGNING_KEY, &without(&claims, claim)),
        ));
    }

    let mut failures = Vec::new();
    for (what, token) in &refused {
        let answer = server.get("/v1/me", Some(token)).await;
        if answer.status != 401 || answer.code().as_deref() != Some("unauthenticated") {
            failures.push(format!("REST, {what}: {} {}", answer.status, answer.text()));
        }
        match server
            .auth_grpc()
            .me(authorized(pb::MeRequest {}, token))
            .await
        {
            Err(status)
                if status.code() == Code::Unauthenticated
                    && status.message().starts_with("unauthenticated") => {}
            other => failures.push(format!("gRPC, {what}: {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "tokens accepted or refused wrongly:\n{}",
        failures.join("\n")
    );
}

async fn five_failed_logins_throttle_the_account_even_for_the_right_password(backend: Backend) {
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

    for attempt in 1..=5 {
        let answer = server
            .password_grant("glow", "nina@glow.test", "not-her-password")
            .await;
        assert_eq!(answer.status, 401, "attempt {attempt}: {}", answer.text());
    }
    let sixth = server
        .password_grant("glow", "nina@glow.test", PASSWORD)
        .await
        .expect_status(429);
    assert_eq!(sixth.code().as_deref(), Some("too_many_attempts"));
    let retry_after: u64 = sixth
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");

    // gRPC sees the same throttle.
    let status = server
        .auth_grpc()
        .token(pb::TokenRequest {
            grant_type: "password".into(),
            org: "glow".into(),
            email: "nina@glow.test".into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .expect_err("throttled");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().starts_with("too_many_attempts"),
        "{status:?}"
    );

    // Other accounts are unaffected.
    server.login("glow", &org.admin_email, PASSWORD).await;

    let audit = server
        .get(
            "/v1/audit-events?action=auth.login&limit=200",
            Some(&org.admin_token),
        )
        .await
        .expect_status(200)
        .json();
    let outcomes: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert!(outcomes.contains(&"failure"), "{outcomes:?}");
    assert!(outcomes.contains(&"throttled"), "{outcomes:?}");
}

async fn an_unknown_email_and_a_wrong_password_get_the_same_answer(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;

    let wrong_password = server
        .password_grant("glow", &org.admin_email, "not-the-password")
        .await;
    let unknown_email = server
        .password_grant("glow", "nobody@glow.test", "not-the-password")
        .await;
    let unknown_org = server
        .password_grant("nowhere", &org.admin_email, "not-the-password")
        .await;

    assert_eq!(wrong_password.status, 401, "{}", wrong_password.text());
    assert_eq!(
        wrong_password.code().as_deref(),
        Some("invalid_credentials")
    );
    for other in [&unknown_email, &unknown_org] {
        assert_eq!(other.status, wrong_password.status);
        assert_eq!(other.code(), wrong_password.code());
        assert_eq!(other.json()["detail"], wrong_password.json()["detail"]);
        assert_eq!(
            other.body,
            wrong_password.body,
            "bodies differ: {} vs {}",
            other.text(),
            wrong_password.text()
        );
    }

    let grpc = |email: &str| pb::TokenRequest {
        grant_type: "password".into(),
        org: "glow".into(),
        email: email.into(),
        password: "not-the-password".into(),
        ..Default::default()
    };
    let a = server
        .auth_grpc()
        .token(grpc(&org.admin_email))
        .await
        .expect_err("wrong password");
    let b = server
        .auth_grpc()
        .token(grpc("nobody@glow.test"))
        .await
        .expect_err("unknown email");
    assert_eq!(a.code(), b.code());
    assert_eq!(a.message(), b.message());
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
