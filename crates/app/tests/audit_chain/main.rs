//! The audit log as a hash chain: every event numbered in one order per organisation, each hash
//! covering the event and the one before, and verification naming the first event changed,
//! deleted or inserted behind the application's back.

#![expect(clippy::expect_used, reason = "tests")]

mod backpressure;
#[path = "../common/mod.rs"]
pub mod common;
mod migration;
mod spool;
mod tampering;
mod verification;

use common::{Harness, Org, at, expect_code};
use skinledger_app::audit_chain::AuditVerification;
use skinledger_app::clients::NewClient;
use skinledger_app::clinics::NewClinic;
use skinledger_domain::role::Role;
use skinledger_store::Db;

fn clinic(name: &str) -> NewClinic {
    NewClinic {
        name: name.into(),
        address: None,
        phone: None,
        timezone: None,
    }
}

fn client(first: &str) -> NewClient {
    NewClient {
        first_name: first.into(),
        last_name: "Lovelace".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 5, 17).expect("a date"),
        phone: None,
        email: None,
        fitzpatrick_type: None,
        consent_version: None,
        consent_signed_at: None,
        photo_consent: false,
        notes: None,
    }
}

/// An organisation with writes, reads (audited in the background), a refusal and a denial on
/// its record; the background writer has written everything when this answers.
async fn busy_organisation(db: Db) -> (Harness, Org) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let mitte = h.clinic(&org.admin, "Glow Mitte").await;
    h.member(
        &org.admin,
        "nurse@glow.test",
        vec![at(Role::Nurse, mitte.id)],
    )
    .await;
    let created = h
        .create_client(&org.admin, client("Ada"), None)
        .await
        .expect("client created");
    for _ in 0..3 {
        h.get_client(&org.admin, created.id).await.expect("read");
    }
    expect_code(
        h.create_clinic(&org.admin, clinic(""), None).await,
        "validation_failed",
    );
    h.flush_read_audit().await;
    (h, org)
}

async fn verify(h: &Harness, org: &Org) -> AuditVerification {
    h.verify_audit_chain(&org.admin, None)
        .await
        .expect("verification ran")
}
