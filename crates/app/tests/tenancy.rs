//! Organisations are sealed from each other: another organisation's ids answer `not_found`
//! (never `forbidden`, which would confirm they exist), and no list shows another's rows.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

pub mod common;

use std::collections::HashSet;

use common::{Harness, at, email, expect_not_found, invalid_fields, page_of};
use skinledger_app::api_clients::NewApiClient;
use skinledger_app::clinics::ClinicChanges;
use skinledger_app::staff::StaffChanges;
use skinledger_domain::role::Role;
use skinledger_store::Db;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    another_organisations_admin_finds_none_of_our_clinics_staff_or_api_clients,
    another_organisations_staff_without_admin_rights_also_get_not_found,
    another_organisations_lists_never_show_our_rows,
    another_organisations_admin_cannot_grant_roles_at_our_clinics,
);

async fn another_organisations_admin_finds_none_of_our_clinics_staff_or_api_clients(db: Db) {
    let h = Harness::new(db);
    let glow = h.organization("glow").await;
    let clinic = h.clinic(&glow.admin, "Glow Mitte").await;
    let nurse = h
        .member(
            &glow.admin,
            &email("glow", "nurse"),
            vec![at(Role::Nurse, clinic.id)],
        )
        .await;
    let client = h
        .integration(&glow.admin, "sync", vec![at(Role::FrontDesk, clinic.id)])
        .await;
    let lumen = h.organization("lumen").await;
    let intruder = &lumen.admin;

    expect_not_found(h.get_clinic(intruder, clinic.id).await);
    expect_not_found(
        h.update_clinic(
            intruder,
            clinic.id,
            ClinicChanges {
                name: Some("Taken over".into()),
                ..ClinicChanges::default()
            },
        )
        .await,
    );
    for staff_id in [nurse.id, glow.admin_id] {
        expect_not_found(h.get_staff(intruder, staff_id).await);
        expect_not_found(
            h.update_staff(
                intruder,
                staff_id,
                StaffChanges {
                    name: Some("Taken over".into()),
                    ..StaffChanges::default()
                },
            )
            .await,
        );
        expect_not_found(h.deactivate_staff(intruder, staff_id).await);
        expect_not_found(h.set_staff_roles(intruder, staff_id, vec![]).await);
    }
    expect_not_found(h.revoke_api_client(intruder, client.id).await);

    // Nothing of ours changed.
    assert_eq!(
        h.get_clinic(&glow.admin, clinic.id).await.unwrap().name,
        "Glow Mitte"
    );
    let nurse_now = h.get_staff(&glow.admin, nurse.id).await.unwrap();
    assert_eq!(
        (&nurse_now.name, nurse_now.active, &nurse_now.roles),
        (&nurse.name, true, &nurse.roles)
    );
    let admin_now = h.get_staff(&glow.admin, glow.admin_id).await.unwrap();
    assert!(admin_now.active);
    assert_eq!(admin_now.roles, vec![common::org_admin()]);
    let clients = h.list_api_clients(&glow.admin, &page_of(10)).await.unwrap();
    assert!(clients.items.iter().all(|c| c.revoked_at.is_none()));
}

async fn another_organisations_staff_without_admin_rights_also_get_not_found(db: Db) {
    let h = Harness::new(db);
    let glow = h.organization("glow").await;
    let clinic = h.clinic(&glow.admin, "Glow Mitte").await;
    let nurse = h
        .member(
            &glow.admin,
            &email("glow", "nurse"),
            vec![at(Role::Nurse, clinic.id)],
        )
        .await;
    let lumen = h.organization("lumen").await;
    let their_clinic = h.clinic(&lumen.admin, "Lumen Altona").await;
    let their_email = email("lumen", "frontdesk");
    h.member(
        &lumen.admin,
        &their_email,
        vec![at(Role::FrontDesk, their_clinic.id)],
    )
    .await;
    let front_desk = h.log_in("lumen", &their_email).await;

    expect_not_found(h.get_clinic(&front_desk, clinic.id).await);
    expect_not_found(h.get_staff(&front_desk, nurse.id).await);
    expect_not_found(
        h.set_staff_roles(&front_desk, nurse.id, vec![at(Role::Nurse, clinic.id)])
            .await,
    );
    expect_not_found(h.deactivate_staff(&front_desk, nurse.id).await);
}

async fn another_organisations_lists_never_show_our_rows(db: Db) {
    let h = Harness::new(db);
    let glow = h.organization("glow").await;
    let our_clinic = h.clinic(&glow.admin, "Glow Mitte").await;
    let our_nurse = h
        .member(
            &glow.admin,
            &email("glow", "nurse"),
            vec![at(Role::Nurse, our_clinic.id)],
        )
        .await;
    let our_client = h
        .integration(
            &glow.admin,
            "sync",
            vec![at(Role::FrontDesk, our_clinic.id)],
        )
        .await;
    let lumen = h.organization("lumen").await;
    let their_clinic = h.clinic(&lumen.admin, "Lumen Altona").await;
    let their_nurse = h
        .member(
            &lumen.admin,
            &email("lumen", "nurse"),
            vec![at(Role::Nurse, their_clinic.id)],
        )
        .await;
    let their_client = h
        .integration(
            &lumen.admin,
            "sync",
            vec![at(Role::FrontDesk, their_clinic.id)],
        )
        .await;
    let ours: HashSet<Uuid> = [
        glow.id,
        glow.admin_id,
        our_clinic.id,
        our_nurse.id,
        our_client.id,
    ]
    .into();
    let lumen_admin = &lumen.admin;

    let clinics = h.visible_clinics(lumen_admin).await;
    let staff: Vec<Uuid> = h
        .list_staff(lumen_admin, &page_of(200))
        .await
        .unwrap()
        .items
        .iter()
        .map(|s| s.id)
        .collect();
    let clients: Vec<Uuid> = h
        .list_api_clients(lumen_admin, &page_of(200))
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.id)
        .collect();
    let events = h.audit_log(lumen_admin).await;

    assert_eq!(clinics, vec![their_clinic.id]);
    let mut staff_sorted = staff.clone();
    staff_sorted.sort();
    let mut expected = vec![lumen.admin_id, their_nurse.id];
    expected.sort();
    assert_eq!(staff_sorted, expected);
    assert_eq!(clients, vec![their_client.id]);
    assert!(!events.is_empty());
    for event in &events {
        for id in [event.entity_id, event.actor_id].into_iter().flatten() {
            assert!(!ours.contains(&id), "glow's {id} in lumen's log: {event:?}");
        }
    }
    // And the other way round.
    assert_eq!(h.visible_clinics(&glow.admin).await, vec![our_clinic.id]);
}

async fn another_organisations_admin_cannot_grant_roles_at_our_clinics(db: Db) {
    let h = Harness::new(db);
    let glow = h.organization("glow").await;
    let our_clinic = h.clinic(&glow.admin, "Glow Mitte").await;
    let lumen = h.organization("lumen").await;
    let their_nurse = h
        .member(&lumen.admin, &email("lumen", "nurse"), vec![])
        .await;

    let fields = invalid_fields(
        h.set_staff_roles(
            &lumen.admin,
            their_nurse.id,
            vec![at(Role::Nurse, our_clinic.id)],
        )
        .await,
    );
    assert_eq!(fields, vec!["roles[0].clinic_id"]);
    let fields = invalid_fields(
        h.create_api_client(
            &lumen.admin,
            NewApiClient {
                name: "sync".into(),
                roles: vec![at(Role::FrontDesk, our_clinic.id)],
            },
        )
        .await,
    );
    assert_eq!(fields, vec!["roles[0].clinic_id"]);
}
