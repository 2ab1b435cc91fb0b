//! Resolved callers are reused for a short bound: a change of status, roles or password, or a
//! revoked API client, applies at once in the process that made it, and in every other process
//! (here: another `App` over the same database, as another replica would be) once the bound has
//! passed.

#![expect(clippy::expect_used, reason = "tests")]

pub mod common;

use std::time::Duration;

use common::{
    Harness, Org, PASSWORD, at, email, expect_forbidden, expect_unauthenticated, page_of,
};
use skinledger_app::auth::TokenGrant;
use skinledger_app::staff::StaffChanges;
use skinledger_app::{Actor, App};
use skinledger_domain::role::Role;
use skinledger_store::Db;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    roles_withdrawn_through_another_replica_are_refused_once_the_bound_has_passed,
    a_deactivation_through_another_replica_is_refused_once_the_bound_has_passed,
    another_replica_reuses_a_caller_it_resolved_until_the_bound,
    changes_made_in_this_process_apply_at_once,
    a_zero_bound_reads_the_caller_on_every_request,
);

/// The bound of the replica that reads a caller before a change made elsewhere.
const SHORT: Duration = Duration::from_millis(300);

/// A bound no test outlives.
const LONG: Duration = Duration::from_secs(3600);

/// An organisation with a clinic and a nurse working there, created through `admin_app`.
struct Setting {
    org: Org,
    nurse_id: Uuid,
    nurse_email: String,
}

async fn setting(admin_app: &Harness) -> Setting {
    let org = admin_app.organization("glow").await;
    let clinic = admin_app.clinic(&org.admin, "Mitte").await;
    let nurse_email = email("glow", "nurse");
    let nurse = admin_app
        .member(&org.admin, &nurse_email, vec![at(Role::Nurse, clinic.id)])
        .await;
    Setting {
        org,
        nurse_id: nurse.id,
        nurse_email,
    }
}

/// The nurse's access token, issued by `app`.
async fn nurse_token(app: &Harness, setting: &Setting) -> String {
    app.password_login("glow", &setting.nurse_email, PASSWORD)
        .await
        .expect("the nurse logs in")
        .access_token
}

/// Reads the client list as the caller of `token`: allowed to a nurse.
async fn read_clients(app: &App, token: &str) -> skinledger_app::Result<()> {
    let actor: Actor = app.authenticate(token, None).await?;
    app.list_clients(&actor, None, &page_of(10)).await.map(drop)
}

async fn roles_withdrawn_through_another_replica_are_refused_once_the_bound_has_passed(db: Db) {
    let here = Harness::with_caller_cache(db.clone(), LONG);
    let there = Harness::with_caller_cache(db, SHORT);
    let setting = setting(&here).await;
    let token = nurse_token(&there, &setting).await;
    read_clients(&there, &token)
        .await
        .expect("the nurse reads clients");

    here.set_staff_roles(&setting.org.admin, setting.nurse_id, vec![])
        .await
        .expect("roles withdrawn");
    tokio::time::sleep(SHORT).await;

    expect_forbidden(read_clients(&there, &token).await);
}

async fn a_deactivation_through_another_replica_is_refused_once_the_bound_has_passed(db: Db) {
    let here = Harness::with_caller_cache(db.clone(), LONG);
    let there = Harness::with_caller_cache(db, SHORT);
    let setting = setting(&here).await;
    let token = nurse_token(&there, &setting).await;
    read_clients(&there, &token)
        .await
        .expect("the nurse reads clients");

    here.deactivate_staff(&setting.org.admin, setting.nurse_id)
        .await
        .expect("nurse deactivated");
    tokio::time::sleep(SHORT).await;

    expect_unauthenticated(there.authenticate(&token, None).await, "unauthenticated");
}

async fn another_replica_reuses_a_caller_it_resolved_until_the_bound(db: Db) {
    let here = Harness::with_caller_cache(db.clone(), LONG);
    let there = Harness::with_caller_cache(db, LONG);
    let setting = setting(&here).await;
    let token = nurse_token(&there, &setting).await;
    read_clients(&there, &token)
        .await
        .expect("the nurse reads clients");
    read_clients(&here, &token)
        .await
        .expect("the nurse reads clients");

    here.set_staff_roles(&setting.org.admin, setting.nurse_id, vec![])
        .await
        .expect("roles withdrawn");

    // The process that withdrew the roles refuses at once; the other answers from what it
    // resolved, within its bound, without asking the database.
    expect_forbidden(read_clients(&here, &token).await);
    read_clients(&there, &token)
        .await
        .expect("the other replica has not looked again yet");
}

async fn changes_made_in_this_process_apply_at_once(db: Db) {
    let h = Harness::with_caller_cache(db, LONG);
    let setting = setting(&h).await;
    let admin = &setting.org.admin;

    // Roles withdrawn.
    let token = nurse_token(&h, &setting).await;
    read_clients(&h, &token)
        .await
        .expect("the nurse reads clients");
    h.set_staff_roles(admin, setting.nurse_id, vec![])
        .await
        .expect("roles withdrawn");
    expect_forbidden(read_clients(&h, &token).await);

    // A password reset by an administrator ends the access tokens issued before.
    let clinic = h.clinic(admin, "Nord").await;
    h.set_staff_roles(admin, setting.nurse_id, vec![at(Role::Nurse, clinic.id)])
        .await
        .expect("roles given back");
    let token = nurse_token(&h, &setting).await;
    read_clients(&h, &token)
        .await
        .expect("the nurse reads clients");
    h.update_staff(
        admin,
        setting.nurse_id,
        StaffChanges {
            password: Some("another long passphrase".into()),
            ..Default::default()
        },
    )
    .await
    .expect("password reset");
    expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");

    // Deactivated.
    let token = h
        .password_login("glow", &setting.nurse_email, "another long passphrase")
        .await
        .expect("the new password works")
        .access_token;
    read_clients(&h, &token)
        .await
        .expect("the nurse reads clients");
    h.deactivate_staff(admin, setting.nurse_id)
        .await
        .expect("nurse deactivated");
    expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");

    // An API client revoked.
    let integration = h
        .integration(admin, "booking", vec![at(Role::FrontDesk, clinic.id)])
        .await;
    let token = h
        .token(
            TokenGrant::ClientCredentials {
                client_id: integration.client_id.clone(),
                client_secret: integration.client_secret.clone().expect("a secret"),
            },
            None,
        )
        .await
        .expect("client credentials accepted")
        .access_token;
    read_clients(&h, &token)
        .await
        .expect("the integration reads clients");
    h.revoke_api_client(admin, integration.id)
        .await
        .expect("API client revoked");
    expect_unauthenticated(h.authenticate(&token, None).await, "unauthenticated");
}

async fn a_zero_bound_reads_the_caller_on_every_request(db: Db) {
    let here = Harness::with_caller_cache(db.clone(), LONG);
    let there = Harness::with_caller_cache(db, Duration::ZERO);
    let setting = setting(&here).await;
    let token = nurse_token(&there, &setting).await;
    read_clients(&there, &token)
        .await
        .expect("the nurse reads clients");

    here.set_staff_roles(&setting.org.admin, setting.nurse_id, vec![])
        .await
        .expect("roles withdrawn");

    expect_forbidden(read_clients(&there, &token).await);
}
