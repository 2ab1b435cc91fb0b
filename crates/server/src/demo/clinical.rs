//! The demo's clients, screenings, courses and treatment records at Demo Clinic Mitte.

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use skinledger_app::clients::NewClient;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::courses::NewCourse;
use skinledger_app::screenings::{NewClearance, NewScreening};
use skinledger_app::treatments::{NewAddendum, NewAdverseEvent, NewTreatment, Treatment};
use skinledger_app::{Actor, App};
use skinledger_domain::clinical::{
    AdverseEventKind, Area, DeviceKind, Endpoint, FitzpatrickType, Indication, Severity,
};
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::screening::ScreeningAnswers;
use uuid::Uuid;

use super::inventory::Devices;

/// The demo staff who record the clinical part, each as themselves.
pub(super) struct Team<'a> {
    pub(super) physician: &'a Actor,
    pub(super) nurse: &'a Actor,
    pub(super) esthetician: &'a Actor,
    pub(super) front_desk: &'a Actor,
}

/// The day `n` days before today (UTC).
pub(super) fn days_ago(n: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(n)
}

/// Ten in the morning (UTC) `n` days ago, or now if that is still to come.
pub(super) fn morning(n: i64) -> DateTime<Utc> {
    let ten = days_ago(n)
        .and_time(NaiveTime::MIN + Duration::hours(10))
        .and_utc();
    ten.min(Utc::now())
}

/// Registers a demo client who signed the consent form on the day of their first visit.
pub(super) async fn client(
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
pub(super) async fn screen(
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
pub(super) async fn seed_clinical(
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
    app.sign_treatment(team.esthetician, session.id, session.version(), None)
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
    app.sign_treatment(team.physician, session.id, session.version(), None)
        .await?;

    // Registered at the desk, not screened yet: any treatment is blocked until screened.
    client(app, team.front_desk, "Ben Klein", "2001-12-01", 0).await?;
    Ok(())
}
