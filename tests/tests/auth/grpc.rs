//! The auth service grants, rotates and revokes tokens over gRPC.

use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, PASSWORD, TestServer, authorized, e2e_on_both_backends, grant, pb};
use tonic::Code;

e2e_on_both_backends!(the_auth_service_grants_rotates_and_revokes_over_grpc);

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
