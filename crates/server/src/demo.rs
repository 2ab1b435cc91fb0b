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
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use skinledger_app::auth::RoleGrant;
use skinledger_app::clients::NewClient;
use skinledger_app::clinics::NewClinic;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::courses::NewCourse;
use skinledger_app::orgs::NewOrganization;
use skinledger_app::products::{ClinicReorderPointChange, NewProduct};
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::screenings::{NewClearance, NewScreening};
use skinledger_app::staff::{NewStaff, StaffMember};
use skinledger_app::treatments::{NewAddendum, NewAdverseEvent, NewTreatment, Treatment};
use skinledger_app::webhooks::{NewWebhook, Webhook};
use skinledger_app::{Actor, App, Principal, secrets};
use skinledger_domain::clinical::{
    AdverseEventKind, Area, DeviceKind, Endpoint, FitzpatrickType, Indication, Severity,
};
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::gtin::Gtin;
use skinledger_domain::inventory::{LotNumber, ProductKind};
use skinledger_domain::role::{Grant, Role};
use skinledger_domain::screening::ScreeningAnswers;
use uuid::Uuid;

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

/// The products demo sessions consume.
struct Devices {
    roller: Uuid,
    cartridge: Uuid,
}

/// A demo needle device: single use, labelled for its needle length.
fn needle_device(
    kind: ProductKind,
    name: &str,
    gtin: &str,
    length_hundredths: u16,
    needles: u32,
    reorder_point: u32,
) -> anyhow::Result<NewProduct> {
    Ok(NewProduct {
        kind,
        name: name.into(),
        maker: "Demo Medical Devices GmbH".into(),
        gtin: Some(Gtin::parse(gtin)?),
        needle_length_mm: Some(NeedleDepth::from_hundredths(length_hundredths)?),
        needle_count: Some(needles),
        max_depth_mm: None,
        single_use: None,
        reorder_point: Some(reorder_point),
        clinic_reorder_points: Vec::new(),
    })
}

/// Products, lots and stock at both clinics: one lot expiring within 30 days, one product
/// below its reorder point.
async fn seed_inventory(
    app: &App,
    admin: &Actor,
    mitte: Uuid,
    nord: Uuid,
) -> anyhow::Result<Devices> {
    let roller = app
        .create_product(
            admin,
            needle_device(
                ProductKind::Roller,
                "Dermaroller 0.5 mm, 192 needles",
                "04012345000016",
                50,
                192,
                20,
            )?,
            None,
        )
        .await?;
    let cartridge = app
        .create_product(
            admin,
            NewProduct {
                clinic_reorder_points: vec![ClinicReorderPointChange {
                    clinic_id: nord,
                    reorder_point: Some(10),
                }],
                ..needle_device(
                    ProductKind::PenCartridge,
                    "Pen cartridge 12-pin, 2.5 mm",
                    "04012345000023",
                    250,
                    12,
                    30,
                )?
            },
            None,
        )
        .await?;
    let deep_roller = app
        .create_product(
            admin,
            needle_device(
                ProductKind::Roller,
                "Dermaroller 1.0 mm, 540 needles",
                "04012345000030",
                100,
                540,
                10,
            )?,
            None,
        )
        .await?;
    let today = Utc::now().date_naive();
    let deliveries = [
        (mitte, roller.id, "DR05-2407", 20, 12),
        (mitte, roller.id, "DR05-2501", 400, 40),
        (nord, roller.id, "DR05-2501", 400, 25),
        (mitte, cartridge.id, "PC12-2502", 300, 60),
        (nord, cartridge.id, "PC12-2502", 300, 20),
        (nord, deep_roller.id, "DR10-2409", 250, 4),
    ];
    for (clinic, product, lot, expires_in_days, quantity) in deliveries {
        app.receive_stock(
            admin,
            clinic,
            ReceiptRequest {
                product_id: Some(product),
                lot_number: Some(LotNumber::parse(lot)?),
                expiry: Some(today + Duration::days(expires_in_days)),
                quantity: Some(quantity),
                reference: Some(format!("DEMO-{lot}")),
                // Delivered three weeks ago, before the demo's sessions.
                received_at: Some(Utc::now() - Duration::days(21)),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await?;
    }
    Ok(Devices {
        roller: roller.id,
        cartridge: cartridge.id,
    })
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

/// The demo staff who record the clinical part, each as themselves.
struct Team<'a> {
    physician: &'a Actor,
    nurse: &'a Actor,
    esthetician: &'a Actor,
    front_desk: &'a Actor,
}

/// The day `n` days before today (UTC).
fn days_ago(n: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(n)
}

/// Ten in the morning (UTC) `n` days ago, or now if that is still to come.
fn morning(n: i64) -> DateTime<Utc> {
    let ten = days_ago(n)
        .and_time(NaiveTime::MIN + Duration::hours(10))
        .and_utc();
    ten.min(Utc::now())
}

/// Registers a demo client who signed the consent form on the day of their first visit.
async fn client(
    app: &App,
    actor: &Actor,
    name: &str,
    born: &str,
    first_visit_days_ago: i64,
) -> anyhow::Result<Uuid> {
    let (first_name, last_name) = name
        .split_once(' ')
        .with_context(|| format!("demo client `{name}` needs a first and a last name"))?;
    let date_of_birth: NaiveDate = born.parse()?;
    let email = format!(
        "{}.{}@example.test",
        first_name.to_lowercase(),
        last_name.to_lowercase()
    );
    let created = app
        .create_client(
            actor,
            NewClient {
                first_name: first_name.into(),
                last_name: last_name.into(),
                date_of_birth,
                phone: Some(format!("+49 151 {:07}", date_of_birth.num_days_from_ce())),
                email: Some(email),
                // Varied by birth month, for lists that do not all look alike.
                fitzpatrick_type: FitzpatrickType::ALL
                    .get(date_of_birth.month0() as usize % 6)
                    .copied(),
                consent_version: Some("2025-01".into()),
                consent_signed_at: Some(morning(first_visit_days_ago)),
                photo_consent: first_visit_days_ago % 2 == 0,
                notes: None,
            },
            None,
        )
        .await?;
    Ok(created.id)
}

/// Screens a client at `clinic` `n` days ago; `answers` starts from "no" to every question.
async fn screen(
    app: &App,
    actor: &Actor,
    client_id: Uuid,
    clinic: Uuid,
    n: i64,
    answers: ScreeningAnswers,
) -> anyhow::Result<Uuid> {
    let screening = app
        .record_screening(
            actor,
            client_id,
            NewScreening {
                clinic_id: Some(clinic),
                screened_on: Some(days_ago(n)),
                answers,
            },
            None,
        )
        .await?;
    Ok(screening.id)
}

/// One demo session.
struct Session {
    clinic_id: Uuid,
    client_id: Uuid,
    days_ago: i64,
    depth_hundredths: u16,
    device_kind: DeviceKind,
    endpoint: Endpoint,
    indications: Vec<Indication>,
    areas: Vec<Area>,
    notes: &'static str,
    course_id: Option<Uuid>,
    /// The single-use device used, taken first expiry first out from the clinic's stock.
    device: Uuid,
}

/// Records one demo session as a draft by `actor`, through every check a real one goes through.
async fn record_session(app: &App, actor: &Actor, session: Session) -> anyhow::Result<Treatment> {
    let new = NewTreatment {
        clinic_id: session.clinic_id,
        client_id: session.client_id,
        performed_at: Some(morning(session.days_ago)),
        indications: session.indications,
        areas: session.areas,
        device_kind: session.device_kind,
        needle_depth_mm: NeedleDepth::from_hundredths(session.depth_hundredths)?,
        passes: 8,
        anaesthetic_product: Some("EMLA 5% cream".into()),
        // Longer needles, longer numbing.
        anaesthetic_minutes: Some(if session.depth_hundredths > 100 {
            60
        } else {
            30
        }),
        topicals: vec!["Hyaluronic acid serum".into()],
        endpoint: session.endpoint,
        duration_minutes: 40,
        notes: Some(session.notes.into()),
        interval_override_reason: None,
        course_id: session.course_id,
        consumables: vec![ConsumableRequest {
            product_id: session.device,
            serial: None,
            lot_id: None,
            quantity: 1,
        }],
    };
    Ok(app.create_treatment(actor, new, None).await?)
}

/// Clients covering every screening outcome, treatments signed and draft, and a course.
async fn seed_clinical(
    app: &App,
    team: &Team<'_>,
    devices: &Devices,
    mitte: Uuid,
) -> anyhow::Result<()> {
    // Eligible, with a signed session, an addendum and a mild adverse event.
    let lena = client(app, team.front_desk, "Lena Hoffmann", "1988-04-12", 10).await?;
    screen(
        app,
        team.esthetician,
        lena,
        mitte,
        10,
        ScreeningAnswers::default(),
    )
    .await?;
    let session = record_session(
        app,
        team.esthetician,
        Session {
            clinic_id: mitte,
            client_id: lena,
            days_ago: 7,
            depth_hundredths: 50,
            device_kind: DeviceKind::Roller,
            endpoint: Endpoint::Erythema,
            indications: vec![Indication::FineLinesAndWrinkles, Indication::EnlargedPores],
            areas: vec![Area::FullFace],
            notes: "Even erythema after 8 passes per direction; client comfortable throughout.",
            course_id: None,
            device: devices.roller,
        },
    )
    .await?;
    app.sign_treatment(team.esthetician, session.id, session.version, None)
        .await?;
    app.add_treatment_addendum(
        team.esthetician,
        session.id,
        NewAddendum {
            text: "Correction: the anaesthetic stayed on for 35 minutes, not 30.".into(),
        },
        None,
    )
    .await?;
    app.record_adverse_event(
        team.esthetician,
        session.id,
        NewAdverseEvent {
            kind: AdverseEventKind::ProlongedErythema,
            severity: Severity::Mild,
            onset_on: days_ago(6),
            notes: Some("Redness on the cheeks into day 4; settled with moisturiser.".into()),
        },
        None,
    )
    .await?;

    // Herpes history, cleared by the physician; a draft session by the nurse.
    let jonas = client(app, team.front_desk, "Jonas Weber", "1979-11-03", 5).await?;
    let screening = screen(
        app,
        team.nurse,
        jonas,
        mitte,
        5,
        ScreeningAnswers {
            herpes_history: true,
            medications: Some("Aciclovir as needed".into()),
            ..ScreeningAnswers::default()
        },
    )
    .await?;
    app.clear_screening_factor(
        team.physician,
        screening,
        NewClearance {
            factor: Contraindication::HerpesHistory,
            reason: "No outbreak for three years; prophylactic aciclovir started two days before."
                .into(),
        },
        None,
    )
    .await?;
    record_session(
        app,
        team.nurse,
        Session {
            clinic_id: mitte,
            client_id: jonas,
            days_ago: 2,
            depth_hundredths: 100,
            device_kind: DeviceKind::Pen,
            endpoint: Endpoint::Erythema,
            indications: vec![Indication::AcneScarring],
            areas: vec![Area::Cheeks, Area::Chin],
            notes: "Rolling scars on both cheeks; first session, kept to 1.0 mm.",
            course_id: None,
            device: devices.cartridge,
        },
    )
    .await?;

    // Very sensitive skin: requires a physician's clearance, not given yet.
    let mia = client(app, team.front_desk, "Mia Schulz", "1995-07-21", 1).await?;
    let sensitive = ScreeningAnswers {
        very_sensitive_skin: true,
        ..ScreeningAnswers::default()
    };
    screen(app, team.esthetician, mia, mitte, 1, sensitive).await?;

    // Deferred: waxed four days ago, so not before ten days from now.
    let sophie = client(app, team.front_desk, "Sophie Becker", "1991-02-08", 0).await?;
    let waxed = ScreeningAnswers {
        last_waxing_or_resurfacing_on: Some(days_ago(4)),
        ..ScreeningAnswers::default()
    };
    screen(app, team.nurse, sophie, mitte, 0, waxed).await?;

    // Contraindicated: pregnancy.
    let anna = client(app, team.front_desk, "Anna Fischer", "1993-09-30", 2).await?;
    let pregnant = ScreeningAnswers {
        pregnant: true,
        ..ScreeningAnswers::default()
    };
    screen(app, team.physician, anna, mitte, 2, pregnant).await?;

    // On a rejuvenation course, with its first session signed.
    let clara = client(app, team.front_desk, "Clara Wagner", "1976-05-17", 20).await?;
    screen(
        app,
        team.physician,
        clara,
        mitte,
        20,
        ScreeningAnswers::default(),
    )
    .await?;
    let course = app
        .create_course(
            team.physician,
            clara,
            NewCourse {
                template: Some("rejuvenation".into()),
                started_on: Some(days_ago(14)),
                ..NewCourse::default()
            },
            None,
        )
        .await?;
    let session = record_session(
        app,
        team.physician,
        Session {
            clinic_id: mitte,
            client_id: clara,
            days_ago: 14,
            depth_hundredths: 150,
            device_kind: DeviceKind::Pen,
            endpoint: Endpoint::PinpointBleeding,
            indications: vec![
                Indication::DullOrSaggingSkin,
                Indication::FineLinesAndWrinkles,
            ],
            areas: vec![Area::FullFace, Area::Neck],
            notes: "First of three rejuvenation sessions; uniform pinpoint bleeding.",
            course_id: Some(course.id),
            device: devices.cartridge,
        },
    )
    .await?;
    app.sign_treatment(team.physician, session.id, session.version, None)
        .await?;

    // Registered at the desk, not screened yet: any treatment is blocked until screened.
    client(app, team.front_desk, "Ben Klein", "2001-12-01", 0).await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use skinledger_app::PageParams;
    use skinledger_app::auth::TokenGrant;
    use skinledger_domain::clinical::TreatmentStatus;
    use skinledger_domain::screening::Outcome;

    use super::*;
    use crate::Config;

    async fn demo_app(dir: &std::path::Path) -> anyhow::Result<App> {
        let config = Config {
            data_dir: dir.into(),
            database_url: format!("sqlite://{}/demo.db?mode=rwc", dir.display()),
            ..Config::default()
        };
        let db = crate::connect(&config).await?;
        crate::migrate(&db).await?;
        let (app, _audit) = crate::app(&config, db)?;
        Ok(app)
    }

    async fn login(app: &App, email: &str) -> anyhow::Result<Actor> {
        let grant = TokenGrant::Password {
            org: ORG.into(),
            email: email.into(),
            password: PASSWORD.into(),
        };
        let token = app.token(grant, None).await?;
        Ok(app.authenticate(&token.access_token, None).await?)
    }

    #[tokio::test]
    async fn the_demo_shows_every_screening_outcome_treatment_state_and_a_course()
    -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let app = demo_app(dir.path()).await?;
        assert_eq!(seed(&app).await?, Seeded::Created);
        assert_eq!(seed(&app).await?, Seeded::AlreadyThere);

        let physician = login(&app, "physician@demo.test").await?;
        let page = PageParams::default();
        let clients = app.list_clients(&physician, None, &page).await?.items;
        assert_eq!(clients.len(), 7);
        let mut outcomes = Vec::new();
        let mut states = Vec::new();
        let mut courses = Vec::new();
        for client in &clients {
            let screenings = app
                .list_client_screenings(&physician, client.id, &page)
                .await?;
            outcomes.extend(screenings.items.iter().map(|s| s.outcome));
            let treatments = app
                .list_client_treatments(&physician, client.id, &page)
                .await?;
            states.extend(treatments.items.into_iter().map(|t| {
                let amended = t.addenda.is_some_and(|a| !a.is_empty())
                    && t.adverse_events.is_some_and(|e| !e.is_empty());
                (t.status, amended)
            }));
            courses.extend(
                app.list_client_courses(&physician, client.id, &page)
                    .await?
                    .items,
            );
        }
        for outcome in Outcome::ALL {
            assert!(outcomes.contains(&outcome), "no demo client is {outcome}");
        }
        assert!(states.contains(&(TreatmentStatus::Signed, true)));
        assert!(states.contains(&(TreatmentStatus::Draft, false)));
        assert_eq!(courses.len(), 1);
        assert_eq!(courses[0].progress.sessions_done, 1);
        Ok(())
    }

    #[tokio::test]
    async fn every_demo_login_works_with_the_one_password_hashed_once() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let app = demo_app(dir.path()).await?;
        seed(&app).await?;
        for (email, _, _) in LOGINS {
            login(&app, email).await?;
        }
        let org = skinledger_store::orgs::by_slug(app.db().read(), ORG)
            .await?
            .context("the demo organisation")?;
        let mut hashes = Vec::new();
        for (email, _, _) in LOGINS {
            let member = skinledger_store::staff::by_email(app.db().read(), org.id, email)
                .await?
                .context("a demo login")?;
            hashes.push(member.password_hash);
        }
        hashes.dedup();
        assert_eq!(hashes.len(), 1, "one hash for every demo login");
        Ok(())
    }

    #[tokio::test]
    async fn the_demo_stocks_both_clinics_and_its_sessions_consumed_real_units()
    -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let app = demo_app(dir.path()).await?;
        seed(&app).await?;
        let admin = login(&app, "admin@demo.test").await?;

        let expiring = app.expiring_report(&admin, Some(30)).await?;
        assert_eq!(expiring.len(), 1);
        assert_eq!(expiring[0].lot_number, "DR05-2407");
        assert_eq!(expiring[0].on_hand, 11, "one unit went to a session");
        let low = app.low_stock_report(&admin).await?;
        assert!(
            low.iter()
                .any(|l| l.clinic_name == "Demo Clinic Nord" && l.on_hand == 4)
        );
        let usage = app
            .usage_report(
                &admin,
                &skinledger_app::reports::ReportPeriod {
                    from: days_ago(30),
                    to: days_ago(0),
                    clinic_id: None,
                },
            )
            .await?;
        assert_eq!(usage.iter().map(|l| l.units).sum::<i64>(), 3);
        let clinics = app.list_clinics(&admin, &PageParams::default()).await?;
        for clinic in clinics.items {
            let stock = app.get_clinic_stock(&admin, clinic.id).await?;
            assert!(stock.products.len() >= 2, "{} holds stock", clinic.name);
        }
        Ok(())
    }
}
