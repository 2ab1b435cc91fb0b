//! Access tokens: only tokens the server issued, unaltered, unexpired, for a principal that is
//! still active, turn into a caller; everything else is a plain `unauthenticated`.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

pub mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{AUDIENCE, Harness, ISSUER, Org, SIGNING_KEY, at, email, expect_unauthenticated};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use skinledger_app::auth::TokenGrant;
use skinledger_app::tokens::Claims;
use skinledger_domain::role::Role;
use skinledger_store::Db;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    a_token_made_with_the_servers_key_and_valid_claims_is_accepted,
    a_token_signed_with_another_key_is_refused,
    a_token_signed_with_another_algorithm_is_refused,
    an_unsigned_token_is_refused,
    a_token_whose_claims_were_edited_after_signing_is_refused,
    a_token_for_another_issuer_or_audience_is_refused,
    an_expired_token_is_refused,
    a_token_not_yet_valid_or_issued_in_the_future_is_refused,
    a_token_of_an_unknown_principal_kind_is_refused,
    a_token_naming_another_organisation_than_its_subjects_is_refused,
    a_refresh_token_is_not_an_access_token,
    garbage_is_not_an_access_token,
    a_deactivated_staff_members_access_token_stops_working_at_once,
    a_revoked_api_clients_access_token_stops_working_at_once,
    a_role_change_applies_to_access_tokens_already_issued,
);

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// The claims the server would put into an access token of the org's administrator.
fn admin_claims(org: &Org) -> Claims {
    let now = now();
    Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: org.admin_id,
        kind: "staff".into(),
        org: org.id,
        exp: now + 600,
        nbf: now,
        iat: now,
        jti: Uuid::now_v7(),
        sv: 0,
    }
}

fn sign(claims: &Claims, algorithm: Algorithm, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .expect("token signed")
}

fn with_server_key(claims: &Claims) -> String {
    sign(claims, Algorithm::HS256, &SIGNING_KEY)
}

async fn a_token_made_with_the_servers_key_and_valid_claims_is_accepted(db: Db) {
    // The control for the forgeries below: each differs from this token in one way only.
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let actor = h
        .authenticate(&with_server_key(&admin_claims(&org)), None)
        .await
        .expect("accepted");

    assert_eq!(actor.org_id, org.id);
    assert!(actor.is_org_admin());
}

async fn a_token_signed_with_another_key_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let forged = sign(&admin_claims(&org), Algorithm::HS256, &[8u8; 32]);

    expect_unauthenticated(h.authenticate(&forged, None).await, "unauthenticated");
}

async fn a_token_signed_with_another_algorithm_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign(&admin_claims(&org), algorithm, &SIGNING_KEY);
        expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
    }
}

async fn an_unsigned_token_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&admin_claims(&org)).unwrap());

    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
    }
}

async fn a_token_whose_claims_were_edited_after_signing_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let nurse_email = email("glow", "nurse");
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let nurse = h
        .member(&org.admin, &nurse_email, vec![at(Role::Nurse, clinic.id)])
        .await;
    let token = h
        .password_login("glow", &nurse_email, common::PASSWORD)
        .await
        .unwrap()
        .access_token;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);

    // The nurse rewrites her token to say she is the administrator.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["sub"], nurse.id.to_string());
    claims["sub"] = org.admin_id.to_string().into();
    let edited = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let tampered = format!("{}.{edited}.{}", parts[0], parts[2]);

    expect_unauthenticated(h.authenticate(&tampered, None).await, "unauthenticated");
}

async fn a_token_for_another_issuer_or_audience_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let other_issuer = Claims {
        iss: "https://elsewhere.test".into(),
        ..admin_claims(&org)
    };
    let other_audience = Claims {
        aud: "another-service".into(),
        ..admin_claims(&org)
    };

    for claims in [other_issuer, other_audience] {
        let token = with_server_key(&claims);
        expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
    }
}

async fn an_expired_token_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let now = now();

    let expired = Claims {
        exp: now - 120,
        nbf: now - 1_000,
        iat: now - 1_000,
        ..admin_claims(&org)
    };

    expect_unauthenticated(
        h.authenticate(&with_server_key(&expired), None).await,
        "unauthenticated",
    );
}

async fn a_token_not_yet_valid_or_issued_in_the_future_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let now = now();

    let not_yet_valid = Claims {
        nbf: now + 600,
        exp: now + 1_200,
        ..admin_claims(&org)
    };
    let issued_later = Claims {
        iat: now + 600,
        exp: now + 1_200,
        ..admin_claims(&org)
    };

    for claims in [not_yet_valid, issued_later] {
        let token = with_server_key(&claims);
        expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
    }
}

async fn a_token_of_an_unknown_principal_kind_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let token = with_server_key(&Claims {
        kind: "superuser".into(),
        ..admin_claims(&org)
    });

    expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
}

async fn a_token_naming_another_organisation_than_its_subjects_is_refused(db: Db) {
    let h = Harness::new(db);
    let glow = h.organization("glow").await;
    let lumen = h.organization("lumen").await;

    // glow's administrator, presented as a member of lumen.
    let staff = with_server_key(&Claims {
        org: lumen.id,
        ..admin_claims(&glow)
    });
    let clinic = h.clinic(&glow.admin, "Glow Mitte").await;
    let client = h
        .integration(&glow.admin, "sync", vec![at(Role::FrontDesk, clinic.id)])
        .await;
    let api_client = with_server_key(&Claims {
        sub: client.id,
        kind: "api_client".into(),
        org: lumen.id,
        ..admin_claims(&glow)
    });

    for token in [staff, api_client] {
        expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
    }
}

async fn a_refresh_token_is_not_an_access_token(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let answer = h
        .password_login("glow", &org.admin_email, common::PASSWORD)
        .await
        .unwrap();

    let refresh = answer.refresh_token.unwrap();

    expect_unauthenticated(h.authenticate(&refresh, None).await, "unauthenticated");
    h.refresh(&refresh)
        .await
        .expect("the refusal did not spend the refresh token");
}

async fn garbage_is_not_an_access_token(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let real = h
        .password_login("glow", &org.admin_email, common::PASSWORD)
        .await
        .unwrap()
        .access_token;

    for garbage in [
        String::new(),
        "garbage".into(),
        "a.b.c".into(),
        "...".into(),
        format!("Bearer {real}"),
        format!("{real}x"),
        real[..real.len() - 4].to_owned(),
    ] {
        expect_unauthenticated(h.authenticate(&garbage, None).await, "unauthenticated");
    }
}

async fn a_deactivated_staff_members_access_token_stops_working_at_once(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let nurse_email = email("glow", "nurse");
    let nurse = h
        .member(&org.admin, &nurse_email, vec![at(Role::Nurse, clinic.id)])
        .await;
    let token = h
        .password_login("glow", &nurse_email, common::PASSWORD)
        .await
        .unwrap()
        .access_token;
    h.authenticate(&token, None).await.expect("valid before");

    h.deactivate_staff(&org.admin, nurse.id).await.unwrap();

    expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
}

async fn a_revoked_api_clients_access_token_stops_working_at_once(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let client = h
        .integration(&org.admin, "sync", vec![at(Role::FrontDesk, clinic.id)])
        .await;
    let grant = TokenGrant::ClientCredentials {
        client_id: client.client_id.clone(),
        client_secret: client.client_secret.clone().unwrap(),
    };
    let token = h.token(grant.clone(), None).await.unwrap().access_token;
    h.authenticate(&token, None).await.expect("valid before");

    let revoked = h.revoke_api_client(&org.admin, client.id).await.unwrap();

    assert!(revoked.revoked_at.is_some());
    expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
    expect_unauthenticated(h.token(grant, None).await, "invalid_credentials");
}

async fn a_role_change_applies_to_access_tokens_already_issued(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let member_email = email("glow", "member");
    let member = h
        .member(
            &org.admin,
            &member_email,
            vec![at(Role::FrontDesk, clinic.id)],
        )
        .await;
    let token = h
        .password_login("glow", &member_email, common::PASSWORD)
        .await
        .unwrap()
        .access_token;

    h.set_staff_roles(&org.admin, member.id, vec![at(Role::Nurse, clinic.id)])
        .await
        .unwrap();

    let actor = h.authenticate(&token, None).await.unwrap();
    assert_eq!(actor.roles_at(clinic.id), vec![Role::Nurse]);
}
