//! The demo organisation: two clinics and one active staff member per role, all with the
//! password `demo-password`. Seeding twice changes nothing.

use skinledger_app::auth::RoleGrant;
use skinledger_app::clinics::NewClinic;
use skinledger_app::orgs::NewOrganization;
use skinledger_app::staff::NewStaff;
use skinledger_app::{Actor, App, Principal};
use skinledger_domain::role::{Grant, Role};

/// The demo organisation's slug.
pub const ORG: &str = "demo";
/// Every demo login's password.
pub const PASSWORD: &str = "demo-password";

/// A demo login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The email.
    pub email: &'static str,
    /// What the account can do.
    pub role: Role,
}

/// Every demo login, in the order they are printed.
pub const LOGINS: &[(&str, &str, Role)] = &[
    ("admin@demo.test", "Ada Admin", Role::OrgAdmin),
    ("manager@demo.test", "Max Manager", Role::ClinicManager),
    (
        "physician@demo.test",
        "Dr. Petra Physician",
        Role::Physician,
    ),
    ("nurse@demo.test", "Nina Nurse", Role::Nurse),
    (
        "esthetician@demo.test",
        "Elif Esthetician",
        Role::Esthetician,
    ),
    ("frontdesk@demo.test", "Fred Frontdesk", Role::FrontDesk),
];

/// What seeding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeded {
    /// The organisation was created now.
    Created,
    /// It existed already; nothing changed.
    AlreadyThere,
}

/// Seeds the demo organisation unless it exists.
pub async fn seed(app: &App) -> anyhow::Result<Seeded> {
    if skinledger_store::orgs::by_slug(app.db().read(), ORG)
        .await?
        .is_some()
    {
        return Ok(Seeded::AlreadyThere);
    }
    let org = app
        .create_organization(NewOrganization {
            slug: ORG.into(),
            name: "Demo Skin Clinics".into(),
            admin_email: LOGINS[0].0.into(),
            admin_password: PASSWORD.into(),
        })
        .await?;
    let admin = Actor {
        org_id: org.id,
        principal: Principal::Staff(org.admin_id),
        grants: vec![Grant {
            role: Role::OrgAdmin,
            clinic_id: None,
        }],
        request_id: Some("demo-seed".into()),
    };
    app.update_staff(
        &admin,
        org.admin_id,
        skinledger_app::staff::StaffChanges {
            name: Some(LOGINS[0].1.into()),
            ..Default::default()
        },
    )
    .await?;
    let mitte = app
        .create_clinic(
            &admin,
            NewClinic {
                name: "Demo Clinic Mitte".into(),
                address: Some("Torstrasse 1, 10119 Berlin".into()),
                phone: Some("+49 30 1234567".into()),
            },
            None,
        )
        .await?;
    let nord = app
        .create_clinic(
            &admin,
            NewClinic {
                name: "Demo Clinic Nord".into(),
                address: Some("Nordufer 9, 13353 Berlin".into()),
                phone: Some("+49 30 7654321".into()),
            },
            None,
        )
        .await?;
    for (email, name, role) in &LOGINS[1..] {
        // The physician works at both clinics; everyone else at Mitte.
        let mut roles = vec![RoleGrant {
            role: *role,
            clinic_id: Some(mitte.id),
        }];
        if *role == Role::Physician {
            roles.push(RoleGrant {
                role: *role,
                clinic_id: Some(nord.id),
            });
        }
        app.create_staff(
            &admin,
            NewStaff {
                email: (*email).into(),
                name: (*name).into(),
                password: PASSWORD.into(),
                roles,
            },
            None,
        )
        .await?;
    }
    Ok(Seeded::Created)
}
