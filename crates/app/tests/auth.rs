//! Logging in and staying logged in: the three token grants, refresh-token rotation and reuse
//! detection, logout, and `me`.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

pub mod common;

use common::{ACCESS_TTL, Harness, PASSWORD, at, email, expect_unauthenticated};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use skinledger_app::Principal;
use skinledger_app::auth::REFRESH_RETRY_WINDOW;
use skinledger_app::auth::{RoleGrant, TokenGrant};
use skinledger_domain::role::Role;
use skinledger_store::Db;
use skinledger_store::entities::{refresh_token, staff};

skinledger_store::on_both_backends!(
    a_staff_member_logs_in_with_a_password_and_gets_a_bearer_token_and_a_refresh_token,
    logging_in_ignores_the_case_and_surrounding_spaces_of_the_email,
    a_refresh_token_buys_new_tokens_once_and_is_then_spent,
    replaying_a_rotated_refresh_token_ends_the_whole_session_and_is_audited,
    replaying_a_rotated_refresh_token_leaves_other_sessions_logged_in,
    a_refresh_retried_within_the_grace_window_gets_the_same_token_and_the_session_lives,
    a_rotated_token_replayed_after_the_grace_window_ends_the_session,
    logging_out_ends_the_session_for_every_refresh_token_of_it,
    logging_out_with_an_unknown_token_answers_quietly,
    an_unknown_refresh_token_is_an_invalid_grant,
    an_api_client_gets_an_access_token_without_a_refresh_token,
    an_api_client_with_a_wrong_secret_or_unknown_id_gets_invalid_credentials,
    me_answers_the_organisation_and_the_roles_per_clinic,
    me_answers_an_api_client_without_an_email,
    a_password_stored_at_an_older_cost_is_hashed_anew_at_its_next_login,
);

async fn a_staff_member_logs_in_with_a_password_and_gets_a_bearer_token_and_a_refresh_token(
    db: Db,
) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let answer = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .expect("logged in");

    assert_eq!(answer.token_type.as_str(), "Bearer");
    assert_eq!(answer.expires_in, ACCESS_TTL.as_secs());
    assert!(answer.refresh_token.is_some_and(|t| !t.is_empty()));
    let actor = h
        .authenticate(&answer.access_token, Some("req-1".into()))
        .await
        .expect("the access token is accepted");
    assert_eq!(actor.org_id, org.id);
    assert_eq!(actor.principal, Principal::Staff(org.admin_id));
    assert_eq!(actor.request_id.as_deref(), Some("req-1"));
    assert!(actor.is_org_admin());
}

async fn logging_in_ignores_the_case_and_surrounding_spaces_of_the_email(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let answer = h
        .password_login("glow", "  ADMIN@Glow.Test ", PASSWORD)
        .await
        .expect("logged in");

    let actor = h.authenticate(&answer.access_token, None).await.unwrap();
    assert_eq!(actor.principal, Principal::Staff(org.admin_id));
}

async fn a_refresh_token_buys_new_tokens_once_and_is_then_spent(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let first = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap();
    let first_refresh = first.refresh_token.unwrap();

    let second = h.refresh(&first_refresh).await.expect("refreshed");

    let second_refresh = second.refresh_token.expect("a new refresh token");
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(second.token_type.as_str(), "Bearer");
    assert_eq!(second.expires_in, ACCESS_TTL.as_secs());
    let actor = h
        .authenticate(&second.access_token, None)
        .await
        .expect("the new access token is accepted");
    assert_eq!(actor.principal, Principal::Staff(org.admin_id));
    // Once the new token is used, the first is spent.
    h.refresh(&second_refresh).await.expect("refreshed again");
    expect_unauthenticated(h.refresh(&first_refresh).await, "invalid_grant");
}

async fn replaying_a_rotated_refresh_token_ends_the_whole_session_and_is_audited(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let stolen = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let second = h.refresh(&stolen).await.unwrap().refresh_token.unwrap();
    let newest = h.refresh(&second).await.unwrap().refresh_token.unwrap();

    expect_unauthenticated(h.refresh(&stolen).await, "invalid_grant");

    expect_unauthenticated(h.refresh(&newest).await, "invalid_grant");
    let log = h.audit_log(&org.admin).await;
    let reuse: Vec<_> = log
        .iter()
        .filter(|e| e.action == "auth.refresh_token_reuse")
        .collect();
    assert!(!reuse.is_empty(), "no reuse event in {log:#?}");
    assert_eq!(reuse[0].outcome, "denied");
    assert_eq!(reuse[0].actor_id, Some(org.admin_id));
    assert_eq!(reuse[0].entity_kind, "refresh_token_family");
}

async fn replaying_a_rotated_refresh_token_leaves_other_sessions_logged_in(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let phone = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let tablet = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let next = h.refresh(&phone).await.unwrap().refresh_token.unwrap();
    h.refresh(&next).await.unwrap();

    // Its successor used, the phone's first token is a copy: its family ends.
    expect_unauthenticated(h.refresh(&phone).await, "invalid_grant");

    h.refresh(&tablet)
        .await
        .expect("the other session still refreshes");
}

async fn logging_out_ends_the_session_for_every_refresh_token_of_it(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let first = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let current = h.refresh(&first).await.unwrap().refresh_token.unwrap();

    h.revoke(&current, None).await.expect("logged out");

    expect_unauthenticated(h.refresh(&current).await, "invalid_grant");
    expect_unauthenticated(h.refresh(&first).await, "invalid_grant");
    let log = h.audit_log(&org.admin).await;
    let logout = log
        .iter()
        .find(|e| e.action == "auth.revoke")
        .expect("the logout is audited");
    assert_eq!(logout.outcome, "success");
    assert_eq!(logout.actor_id, Some(org.admin_id));
}

async fn logging_out_with_an_unknown_token_answers_quietly(db: Db) {
    let h = Harness::new(db);
    h.organization("glow").await;

    h.revoke("slr_not-a-token-we-issued", None)
        .await
        .expect("no hint whether the token exists");
}

async fn an_unknown_refresh_token_is_an_invalid_grant(db: Db) {
    let h = Harness::new(db);
    h.organization("glow").await;

    expect_unauthenticated(h.refresh("slr_made-up").await, "invalid_grant");
    expect_unauthenticated(h.refresh("").await, "invalid_grant");
}

async fn an_api_client_gets_an_access_token_without_a_refresh_token(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let client = h
        .integration(
            &org.admin,
            "booking sync",
            vec![at(Role::FrontDesk, clinic.id)],
        )
        .await;
    assert!(client.revoked_at.is_none() && client.last_used_at.is_none());

    let answer = h
        .token(
            TokenGrant::ClientCredentials {
                client_id: client.client_id.clone(),
                client_secret: client.client_secret.clone().expect("secret shown once"),
            },
            None,
        )
        .await
        .expect("token issued");

    assert_eq!(answer.token_type.as_str(), "Bearer");
    assert_eq!(answer.expires_in, ACCESS_TTL.as_secs());
    assert!(answer.refresh_token.is_none());
    let actor = h.authenticate(&answer.access_token, None).await.unwrap();
    assert_eq!(actor.org_id, org.id);
    assert_eq!(actor.principal, Principal::ApiClient(client.id));
    assert_eq!(actor.roles_at(clinic.id), vec![Role::FrontDesk]);
    let listed = h
        .list_api_clients(&org.admin, &common::page_of(10))
        .await
        .unwrap();
    let listed = listed.items.iter().find(|c| c.id == client.id).unwrap();
    assert!(listed.last_used_at.is_some(), "last use is recorded");
    assert!(
        listed.client_secret.is_none(),
        "the secret is never shown again"
    );
}

async fn an_api_client_with_a_wrong_secret_or_unknown_id_gets_invalid_credentials(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let client = h
        .integration(
            &org.admin,
            "booking sync",
            vec![at(Role::FrontDesk, clinic.id)],
        )
        .await;
    let grant = |client_id: &str, client_secret: &str| TokenGrant::ClientCredentials {
        client_id: client_id.into(),
        client_secret: client_secret.into(),
    };

    expect_unauthenticated(
        h.token(grant(&client.client_id, "sls_wrong"), None).await,
        "invalid_credentials",
    );
    expect_unauthenticated(
        h.token(
            grant("slc_unknown", client.client_secret.as_deref().unwrap()),
            None,
        )
        .await,
        "invalid_credentials",
    );
    let log = h.audit_log(&org.admin).await;
    assert!(
        log.iter().any(|e| e.action == "auth.client_credentials"
            && e.outcome == "failure"
            && e.actor_id == Some(client.id)),
        "the failed attempt is audited: {log:#?}"
    );
}

async fn me_answers_the_organisation_and_the_roles_per_clinic(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let mitte = h.clinic(&org.admin, "Glow Mitte").await;
    let nord = h.clinic(&org.admin, "Glow Nord").await;
    let nurse_email = email("glow", "nurse");
    let nurse = h
        .member(
            &org.admin,
            &nurse_email,
            vec![at(Role::Nurse, mitte.id), at(Role::FrontDesk, nord.id)],
        )
        .await;
    let actor = h.log_in("glow", &nurse_email).await;

    let me = h.me(&actor).await.expect("me answers");

    assert_eq!(me.kind.as_str(), "staff");
    assert_eq!(me.id, nurse.id);
    assert_eq!(me.email.as_deref(), Some(nurse_email.as_str()));
    assert_eq!(me.name, nurse.name);
    assert_eq!(me.organization_id, org.id);
    assert_eq!(me.organization_slug, "glow");
    assert_eq!(me.organization_name, "glow clinics");
    let mut roles = me.roles;
    roles.sort_by_key(|r| (r.role, r.clinic_id));
    let mut expected = vec![at(Role::Nurse, mitte.id), at(Role::FrontDesk, nord.id)];
    expected.sort_by_key(|r| (r.role, r.clinic_id));
    assert_eq!(roles, expected);

    let admin_me = h.me(&org.admin).await.unwrap();
    assert_eq!(
        admin_me.roles,
        vec![RoleGrant {
            role: Role::OrgAdmin,
            clinic_id: None
        }]
    );
}

async fn me_answers_an_api_client_without_an_email(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let client = h
        .integration(
            &org.admin,
            "stock feed",
            vec![at(Role::ClinicManager, clinic.id)],
        )
        .await;
    let answer = h
        .token(
            TokenGrant::ClientCredentials {
                client_id: client.client_id.clone(),
                client_secret: client.client_secret.clone().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    let actor = h.authenticate(&answer.access_token, None).await.unwrap();

    let me = h.me(&actor).await.unwrap();

    assert_eq!(me.kind.as_str(), "api_client");
    assert_eq!(me.id, client.id);
    assert_eq!(me.email, None);
    assert_eq!(me.name, "stock feed");
    assert_eq!(me.organization_id, org.id);
    assert_eq!(me.roles, vec![at(Role::ClinicManager, clinic.id)]);
}

async fn a_refresh_retried_within_the_grace_window_gets_the_same_token_and_the_session_lives(
    db: Db,
) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let first = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    // The answer to the refresh is lost on a bad network; the phone sends the same token again.
    let answer = h.refresh(&first).await.unwrap();
    let retried = h.refresh(&first).await.expect("a retry is answered");
    assert_eq!(retried.refresh_token, answer.refresh_token);
    assert!(h.authenticate(&retried.access_token, None).await.is_ok());
    // The session goes on with that token, once.
    let next = answer.refresh_token.unwrap();
    let after = h.refresh(&next).await.expect("the session lives");
    expect_unauthenticated(h.refresh(&first).await, "invalid_grant");
    expect_unauthenticated(
        h.refresh(&after.refresh_token.unwrap()).await,
        "invalid_grant",
    );
    let log = h.audit_log(&org.admin).await;
    assert!(
        log.iter()
            .any(|e| e.action == "auth.refresh"
                && e.detail.as_ref().is_some_and(|d| d["retry"] == true)),
        "{log:#?}"
    );
}

async fn a_rotated_token_replayed_after_the_grace_window_ends_the_session(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let first = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let next = h.refresh(&first).await.unwrap().refresh_token.unwrap();
    // Time passes beyond the window.
    refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::RotatedAt,
            Expr::value(chrono::Utc::now() - REFRESH_RETRY_WINDOW - chrono::Duration::seconds(1)),
        )
        .filter(refresh_token::Column::RotatedAt.is_not_null())
        .exec(h.app.db().write())
        .await
        .unwrap();
    expect_unauthenticated(h.refresh(&first).await, "invalid_grant");
    expect_unauthenticated(h.refresh(&next).await, "invalid_grant");
}

/// The stored hash of a staff member's password.
async fn stored_hash(h: &Harness, id: uuid::Uuid) -> String {
    staff::Entity::find_by_id(id)
        .one(h.app.db().read())
        .await
        .unwrap()
        .expect("the staff row")
        .password_hash
}

async fn a_password_stored_at_an_older_cost_is_hashed_anew_at_its_next_login(db: Db) {
    use argon2::password_hash::PasswordHasher;
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let before = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .unwrap();
    // A hash made at the argon2 crate's default cost (19 MiB, 2 passes), as hashes once were.
    let older = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    assert!(older.contains("m=19456,t=2,p=1"), "{older}");
    staff::Entity::update_many()
        .col_expr(staff::Column::PasswordHash, Expr::value(older.clone()))
        .filter(staff::Column::Id.eq(org.admin_id))
        .exec(h.app.db().write())
        .await
        .unwrap();

    // A wrong password changes nothing.
    expect_unauthenticated(
        h.password_login("glow", &org.admin_email, "not the password")
            .await,
        "invalid_credentials",
    );
    assert_eq!(stored_hash(&h, org.admin_id).await, older);

    // The right one logs in and leaves a hash at the current cost in its place.
    h.password_login("glow", &org.admin_email, PASSWORD)
        .await
        .expect("logged in with the older hash");
    let renewed = stored_hash(&h, org.admin_id).await;
    assert!(renewed.contains("m=7168,t=5,p=1"), "{renewed}");
    assert_ne!(renewed, older);

    // The password is the same one, and the sessions begun before stay valid.
    h.password_login("glow", &org.admin_email, PASSWORD)
        .await
        .expect("logged in with the renewed hash");
    assert_eq!(stored_hash(&h, org.admin_id).await, renewed);
    h.authenticate(&before.access_token, None)
        .await
        .expect("an earlier access token still holds");
    h.refresh(&before.refresh_token.unwrap())
        .await
        .expect("an earlier refresh token still holds");
}
