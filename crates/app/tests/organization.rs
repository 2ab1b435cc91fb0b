//! Running an organisation: field validation, retries with an `Idempotency-Key`, and the audit
//! log that every login and every write lands in.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

pub mod common;

use std::collections::HashSet;

use common::{Harness, PASSWORD, at, email, expect_code, invalid_fields, page_of};
use futures::future::join_all;
use skinledger_app::audit::AuditEntry;
use skinledger_app::auth::{RoleGrant, TokenGrant};
use skinledger_app::clinics::{ClinicChanges, NewClinic};
use skinledger_app::staff::{NewStaff, StaffChanges};
use skinledger_app::{Error, IdempotencyKey, PageParams};
use skinledger_domain::role::Role;
use skinledger_store::Db;
use skinledger_store::audit::AuditFilter;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    a_new_staff_member_with_bad_fields_is_refused_naming_each_field,
    a_second_staff_member_with_the_same_email_is_a_conflict,
    ten_concurrent_retries_of_one_clinic_creation_open_one_clinic,
    an_idempotency_key_reused_with_another_body_is_refused,
    logins_and_every_write_appear_in_the_audit_log,
    the_audit_log_in_pages_of_two_shows_every_event_exactly_once,
    the_last_org_admin_cannot_give_up_the_role,
    a_clinic_manager_grants_only_nurse_esthetician_and_front_desk,
    a_new_password_ends_every_session_of_the_old_one,
);

fn new_staff(email: &str, password: &str, roles: Vec<RoleGrant>) -> NewStaff {
    NewStaff {
        email: email.into(),
        name: "Ada Nurse".into(),
        password: password.into(),
        roles,
    }
}

fn mitte() -> NewClinic {
    NewClinic {
        name: "Glow Mitte".into(),
        address: Some("Torstrasse 1, Berlin".into()),
        phone: None,
        timezone: None,
    }
}

async fn a_new_staff_member_with_bad_fields_is_refused_naming_each_field(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;

    let fields = invalid_fields(
        h.create_staff(
            &org.admin,
            new_staff(
                "not-an-email",
                "short",
                vec![RoleGrant {
                    role: Role::Nurse,
                    clinic_id: None,
                }],
            ),
            None,
        )
        .await,
    );

    for field in ["email", "password", "roles[0].clinic_id"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }
    let staff = h.list_staff(&org.admin, &page_of(10)).await.unwrap();
    assert_eq!(staff.items.len(), 1, "only the administrator exists");
}

async fn a_second_staff_member_with_the_same_email_is_a_conflict(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    h.member(
        &org.admin,
        &email("glow", "ada"),
        vec![at(Role::Nurse, clinic.id)],
    )
    .await;

    for again in ["ada@glow.test", " ADA@Glow.Test "] {
        let err = expect_code(
            h.create_staff(&org.admin, new_staff(again, PASSWORD, vec![]), None)
                .await,
            "already_exists",
        );
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    }
    let other = h.member(&org.admin, &email("glow", "bea"), vec![]).await;
    expect_code(
        h.update_staff(
            &org.admin,
            other.id,
            StaffChanges {
                email: Some("ada@glow.test".into()),
                ..StaffChanges::default()
            },
        )
        .await,
        "already_exists",
    );
}

async fn ten_concurrent_retries_of_one_clinic_creation_open_one_clinic(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let key = IdempotencyKey::parse("open-mitte-2026-11-21").unwrap();

    let answers = join_all((0..10).map(|_| h.create_clinic(&org.admin, mitte(), Some(&key)))).await;

    // Each retry gets the clinic, or is told the first request is still in flight.
    let ids: HashSet<Uuid> = answers
        .into_iter()
        .filter_map(|a| match a {
            Ok(clinic) => Some(clinic.id),
            Err(e) if e.code() == "idempotency_key_in_flight" => None,
            Err(e) => panic!("unexpected answer to a retry: {e:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 1, "every answered retry names the same clinic");
    let clinics = h.visible_clinics(&org.admin).await;
    assert_eq!(clinics, ids.into_iter().collect::<Vec<_>>());
    let created = h
        .list_audit_events(
            &org.admin,
            &AuditFilter {
                action: Some("clinic.create".into()),
                ..AuditFilter::default()
            },
            &page_of(50),
        )
        .await
        .unwrap();
    assert_eq!(created.items.len(), 1, "one creation, audited once");
    let later = h
        .create_clinic(&org.admin, mitte(), Some(&key))
        .await
        .unwrap();
    assert_eq!(vec![later.id], clinics, "a later retry answers it again");
}

async fn an_idempotency_key_reused_with_another_body_is_refused(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let key = IdempotencyKey::parse("open-clinic-1").unwrap();
    h.create_clinic(&org.admin, mitte(), Some(&key))
        .await
        .unwrap();

    let other = NewClinic {
        name: "Glow Nord".into(),
        ..mitte()
    };
    let err = expect_code(
        h.create_clinic(&org.admin, other.clone(), Some(&key)).await,
        "idempotency_key_reused",
    );

    assert!(matches!(err, Error::IdempotencyKeyReused));
    assert_eq!(h.visible_clinics(&org.admin).await.len(), 1);
    let fresh_key = IdempotencyKey::parse("open-clinic-2").unwrap();
    h.create_clinic(&org.admin, other, Some(&fresh_key))
        .await
        .expect("another key opens another clinic");
    assert_eq!(h.visible_clinics(&org.admin).await.len(), 2);
}

/// The one event of `action` about `entity`.
#[track_caller]
fn event<'a>(log: &'a [AuditEntry], action: &str, entity: Uuid) -> &'a AuditEntry {
    let found: Vec<_> = log
        .iter()
        .filter(|e| e.action == action && e.entity_id == Some(entity))
        .collect();
    assert_eq!(found.len(), 1, "{action} on {entity}: {log:#?}");
    found[0]
}

async fn logins_and_every_write_appear_in_the_audit_log(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let admin = &org.admin;
    let admin_id = org.admin_id;
    expect_code(
        h.password_login("glow", &org.admin_email, "not the password")
            .await,
        "invalid_credentials",
    );
    let clinic = h.clinic(admin, "Glow Mitte").await;
    h.update_clinic(
        admin,
        clinic.id,
        ClinicChanges {
            phone: Some("+49 30 1234567".into()),
            timezone: None,
            ..ClinicChanges::default()
        },
    )
    .await
    .unwrap();
    let nurse = h
        .member(
            admin,
            &email("glow", "nurse"),
            vec![at(Role::Nurse, clinic.id)],
        )
        .await;
    h.update_staff(
        admin,
        nurse.id,
        StaffChanges {
            name: Some("Ada Nurse".into()),
            ..StaffChanges::default()
        },
    )
    .await
    .unwrap();
    h.set_staff_roles(admin, nurse.id, vec![at(Role::Physician, clinic.id)])
        .await
        .unwrap();
    h.deactivate_staff(admin, nurse.id).await.unwrap();
    let client = h
        .integration(admin, "sync", vec![at(Role::FrontDesk, clinic.id)])
        .await;
    h.token(
        TokenGrant::ClientCredentials {
            client_id: client.client_id.clone(),
            client_secret: client.client_secret.clone().unwrap(),
        },
        None,
    )
    .await
    .unwrap();
    h.revoke_api_client(admin, client.id).await.unwrap();

    let log = h.audit_log(admin).await;

    let logins: Vec<_> = log
        .iter()
        .filter(|e| e.action == "auth.login" && e.actor_id == Some(admin_id))
        .map(|e| e.outcome.as_str())
        .collect();
    assert_eq!(logins, vec!["success", "failure"], "{log:#?}");
    let writes = [
        ("clinic.create", clinic.id),
        ("clinic.update", clinic.id),
        ("staff.create", nurse.id),
        ("staff.update", nurse.id),
        ("staff.set_roles", nurse.id),
        ("staff.deactivate", nurse.id),
        ("api_client.create", client.id),
        ("api_client.revoke", client.id),
    ];
    for (action, entity) in writes {
        let e = event(&log, action, entity);
        assert_eq!(e.outcome, "success", "{e:?}");
        assert_eq!(e.actor_kind, "staff", "{e:?}");
        assert_eq!(e.actor_id, Some(admin_id), "{e:?}");
    }
    let machine = event(&log, "auth.client_credentials", client.id);
    assert_eq!(
        (machine.actor_kind.as_str(), machine.outcome.as_str()),
        ("api_client", "success")
    );
    assert_eq!(log[0].action, "organization.create");
    let ordered: Vec<_> = log.iter().map(|e| e.id).collect();
    let mut sorted = ordered.clone();
    sorted.sort();
    assert_eq!(ordered, sorted, "oldest first");
}

async fn the_audit_log_in_pages_of_two_shows_every_event_exactly_once(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    for name in ["A", "B", "C", "D"] {
        h.clinic(&org.admin, &format!("Glow {name}")).await;
    }
    let whole: Vec<Uuid> = h.audit_log(&org.admin).await.iter().map(|e| e.id).collect();
    assert_eq!(
        whole.len(),
        6,
        "organization.create, auth.login, 4 × clinic.create"
    );

    let mut walked = Vec::new();
    let mut params = PageParams {
        limit: Some(2),
        cursor: None,
    };
    let mut pages = 0;
    loop {
        let page = h
            .list_audit_events(&org.admin, &AuditFilter::default(), &params)
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        walked.extend(page.items.iter().map(|e| e.id));
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => break,
        }
        assert!(pages < 10, "the cursor does not advance");
    }

    assert_eq!(walked, whole);
    assert_eq!(pages, 3);
    let garbage = PageParams {
        limit: Some(2),
        cursor: Some("not-a-cursor".into()),
    };
    let fields = invalid_fields(
        h.list_audit_events(&org.admin, &AuditFilter::default(), &garbage)
            .await,
    );
    assert_eq!(fields, vec!["cursor"]);
}

async fn the_last_org_admin_cannot_give_up_the_role(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let me = org.admin.staff_id().expect("a staff member");
    // Nobody changes their own roles, an org_admin neither.
    let own = h
        .set_staff_roles(&org.admin, me, vec![at(Role::Nurse, clinic.id)])
        .await;
    expect_code(own, "forbidden");
    // An org_admin API client can neither demote nor deactivate the only human org_admin.
    let client = h
        .integration(&org.admin, "directory sync", vec![common::org_admin()])
        .await;
    let token = h
        .token(
            TokenGrant::ClientCredentials {
                client_id: client.client_id.clone(),
                client_secret: client.client_secret.clone().expect("secret shown once"),
            },
            None,
        )
        .await
        .expect("token issued");
    let robot = h
        .authenticate(&token.access_token, None)
        .await
        .expect("the client");
    expect_code(
        h.set_staff_roles(&robot, me, vec![at(Role::Nurse, clinic.id)])
            .await,
        "last_org_admin",
    );
    expect_code(h.deactivate_staff(&robot, me).await, "last_org_admin");

    let second = h
        .member(
            &org.admin,
            &email("glow", "second-admin"),
            vec![common::org_admin()],
        )
        .await;
    let handed_over = h
        .set_staff_roles(&robot, me, vec![at(Role::Nurse, clinic.id)])
        .await
        .expect("another admin remains");
    assert_eq!(handed_over.roles, vec![at(Role::Nurse, clinic.id)]);
    assert!(second.roles.contains(&common::org_admin()));
}

async fn a_clinic_manager_grants_only_nurse_esthetician_and_front_desk(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let clinic = h.clinic(&org.admin, "Glow Mitte").await;
    let manager = h
        .member(
            &org.admin,
            &email("glow", "manager"),
            vec![at(Role::ClinicManager, clinic.id)],
        )
        .await;
    let manager_actor = h.log_in("glow", &manager.email).await;
    let colleague = h
        .member(
            &org.admin,
            &email("glow", "colleague"),
            vec![at(Role::FrontDesk, clinic.id)],
        )
        .await;
    for role in [Role::Physician, Role::ClinicManager] {
        expect_code(
            h.set_staff_roles(&manager_actor, colleague.id, vec![at(role, clinic.id)])
                .await,
            "forbidden",
        );
    }
    // Not themselves either, not even to a smaller role.
    expect_code(
        h.set_staff_roles(
            &manager_actor,
            manager.id,
            vec![at(Role::Physician, clinic.id)],
        )
        .await,
        "forbidden",
    );
    for role in [Role::Nurse, Role::Esthetician, Role::FrontDesk] {
        let changed = h
            .set_staff_roles(&manager_actor, colleague.id, vec![at(role, clinic.id)])
            .await
            .expect("a clinic role the manager may grant");
        assert_eq!(changed.roles, vec![at(role, clinic.id)]);
    }
}

async fn a_new_password_ends_every_session_of_the_old_one(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let session = h
        .password_login("glow", &org.admin_email, PASSWORD)
        .await
        .expect("logged in");
    let me = org.admin.staff_id().expect("a staff member");
    // A stolen access token alone cannot change the password (or the login email).
    for current in [None, Some("not the password".to_owned())] {
        for changes in [
            StaffChanges {
                password: Some("a thief's passphrase".into()),
                current_password: current.clone(),
                ..Default::default()
            },
            StaffChanges {
                email: Some("thief@example.com".into()),
                current_password: current.clone(),
                ..Default::default()
            },
        ] {
            expect_code(
                h.update_staff(&org.admin, me, changes).await,
                "reauthentication_required",
            );
        }
    }
    h.update_staff(
        &org.admin,
        me,
        StaffChanges {
            password: Some("a brand new passphrase".into()),
            current_password: Some(PASSWORD.into()),
            ..Default::default()
        },
    )
    .await
    .expect("password changed");
    let refresh = session.refresh_token.expect("a refresh token");
    common::expect_unauthenticated(h.refresh(&refresh).await, "invalid_grant");
    // Access tokens issued before the change stop working too.
    common::expect_unauthenticated(
        h.authenticate(&session.access_token, None).await,
        "unauthenticated",
    );
    h.password_login("glow", &org.admin_email, "a brand new passphrase")
        .await
        .expect("the new password works");
}
