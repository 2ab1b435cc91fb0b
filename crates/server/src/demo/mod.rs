//! The demo organisation: two clinics and one active staff member per role, all with the
//! password `demo-password`, and clients at Demo Clinic Mitte covering the clinical records.
//! Seeding twice changes nothing.
//!
//! | client | shows |
//! | --- | --- |
//! | Lena Hoffmann | eligible; a signed treatment (esthetician, 0.5 mm) with an addendum and a mild adverse event |
//! | Jonas Weber | herpes history cleared by the physician; a draft treatment (nurse, 1.0 mm) |
//! | Mia Schulz | very sensitive skin, awaiting a physician's clearance |
//! | Sophie Becker | deferred: waxing four days ago |
//! | Anna Fischer | contraindicated: pregnancy |
//! | Clara Wagner | on a rejuvenation course, one signed session (physician, 1.5 mm) counted |
//! | Ben Klein | registered by the front desk, not screened yet |
//!
//! Stock: a 0.5 mm roller at both clinics (a lot at Mitte expires within 30 days, and the
//! sessions above consumed from it), 12-pin pen cartridges at both (Nord with its own reorder
//! point), and a 1.0 mm roller below its reorder point at Nord and absent at Mitte.

use anyhow::Context;
use skinledger_app::auth::RoleGrant;
use skinledger_app::clinics::NewClinic;
use skinledger_app::orgs::NewOrganization;
use skinledger_app::staff::{NewStaff, StaffMember};
use skinledger_app::webhooks::{NewWebhook, Webhook};
use skinledger_app::{Actor, App, Principal, secrets};
use skinledger_domain::role::{Grant, Role};
use uuid::Uuid;

use self::clinical::{Team, seed_clinical};
use self::inventory::seed_inventory;

mod clinical;
mod inventory;
#[cfg(test)]
mod tests;

/// The demo organisation's slug.
pub const ORG: &str = "demo";
/// Every demo login's password.
pub const PASSWORD: &str = "demo-password";

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
    // Every demo login has the one published password: hashed once for all of them, so that
    // seeding holds one password worker's memory instead of one per account.
    secrets::hashing_once(PASSWORD, create(app)).await??;
    Ok(Seeded::Created)
}

/// Creates the demo organisation, its staff, stock and clinical records.
async fn create(app: &App) -> anyhow::Result<()> {
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
    // The demo's history reaches a month back, so its sessions may be recorded that far.
    app.put_policy(
        &admin,
        skinledger_domain::policy::ClinicalPolicy {
            max_backdate_days: 30,
            ..Default::default()
        },
        None,
    )
    .await?;
    // The demo chain's clinics are in Berlin, and keep Berlin's calendar.
    let berlin = skinledger_domain::local_time::TimeZone::parse("Europe/Berlin")?;
    let mitte = app
        .create_clinic(
            &admin,
            NewClinic {
                name: "Demo Clinic Mitte".into(),
                address: Some("Torstrasse 1, 10119 Berlin".into()),
                phone: Some("+49 30 1234567".into()),
                timezone: Some(berlin),
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
                timezone: Some(berlin),
            },
            None,
        )
        .await?;
    let mut team = Vec::new();
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
        let member = app
            .create_staff(
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
        team.push((*role, acting_as(org.id, &member)));
    }
    let member = |role: Role| {
        team.iter()
            .find(|(r, _)| *r == role)
            .map(|(_, actor)| actor)
            .with_context(|| format!("the demo {role} is missing"))
    };
    let team = Team {
        physician: member(Role::Physician)?,
        nurse: member(Role::Nurse)?,
        esthetician: member(Role::Esthetician)?,
        front_desk: member(Role::FrontDesk)?,
    };
    let devices = seed_inventory(app, &admin, mitte.id, nord.id).await?;
    seed_clinical(app, &team, &devices, mitte.id).await?;
    Ok(())
}

/// A staff member as the caller of use cases: what authenticating their token would resolve.
fn acting_as(org_id: Uuid, member: &StaffMember) -> Actor {
    Actor {
        org_id,
        principal: Principal::Staff(member.id),
        grants: member
            .roles
            .iter()
            .map(|g| Grant {
                role: g.role,
                clinic_id: g.clinic_id,
            })
            .collect(),
        request_id: Some("demo-seed".into()),
    }
}

/// The addresses of a demo webhook's host that webhooks could not otherwise reach (a receiver
/// on this machine or in this network), so that the demo may be served allowing exactly
/// those.
pub async fn private_addresses_of(url: &str) -> anyhow::Result<Vec<std::net::IpAddr>> {
    use skinledger_app::webhooks::outbound::{is_public, parse_url};
    let parsed = parse_url(url).map_err(|e| anyhow::anyhow!("--demo-webhook {url}: {e}"))?;
    let host = parsed
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
        .unwrap_or_default();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let found = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| anyhow::anyhow!("--demo-webhook {url}: cannot resolve {host}: {e}"))?;
    let mut private: Vec<std::net::IpAddr> =
        found.map(|a| a.ip()).filter(|ip| !is_public(*ip)).collect();
    private.sort();
    private.dedup();
    Ok(private)
}

/// Registers a webhook of the demo organisation to `url`, replacing one registered there
/// before (whose secret was shown then); answers the new webhook with its secret.
pub async fn register_webhook(app: &App, url: &str) -> anyhow::Result<Webhook> {
    let read = app.db().read();
    let org = skinledger_store::orgs::by_slug(read, ORG)
        .await?
        .context("the demo organisation is not seeded")?;
    let admin = skinledger_store::staff::by_email(read, org.id, LOGINS[0].0)
        .await?
        .context("the demo administrator is missing")?;
    let admin = Actor {
        org_id: org.id,
        principal: Principal::Staff(admin.id),
        grants: vec![Grant {
            role: Role::OrgAdmin,
            clinic_id: None,
        }],
        request_id: Some("demo-seed".into()),
    };
    let normalised = skinledger_app::webhooks::outbound::parse_url(url)
        .map_err(|e| anyhow::anyhow!("--demo-webhook {url}: {e}"))?
        .to_string();
    for old in skinledger_store::webhooks::by_url(read, org.id, &normalised).await? {
        app.delete_webhook(&admin, old.id).await?;
    }
    Ok(app
        .create_webhook(
            &admin,
            NewWebhook {
                url: url.to_owned(),
                event_types: Vec::new(),
                description: Some("The demo's receiver".into()),
            },
        )
        .await?)
}
