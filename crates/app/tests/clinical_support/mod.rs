//! Set-up for the clinical-record tests: an app over a fresh database, an organisation with two
//! clinics, staff logged in by password, and shorthands for clients, screenings and treatments.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use skinledger_app::audit::AuditEntry;
use skinledger_app::auth::{RoleGrant, TokenGrant};
use skinledger_app::clients::{Client, NewClient};
use skinledger_app::clinics::NewClinic;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::orgs::NewOrganization;
use skinledger_app::products::NewProduct;
use skinledger_app::read_audit::ReadAuditTask;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::screenings::{NewScreening, Screening};
use skinledger_app::staff::NewStaff;
use skinledger_app::treatments::{NewTreatment, Treatment};
use skinledger_app::{Actor, App, AppSettings, Error, PageParams, Result, SigningKey};
use skinledger_domain::clinical::{Area, DeviceKind, Endpoint, Indication};
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::inventory::{LotNumber, ProductKind};
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;
use skinledger_store::audit::AuditFilter;
use uuid::Uuid;

/// The password of every staff member here.
pub const PASSWORD: &str = "correct horse battery staple";

/// An organisation with two clinics and its administrator, logged in.
pub struct Org {
    /// Its login handle.
    pub slug: String,
    /// The first administrator.
    pub admin: Actor,
    /// The clinic most tests work at.
    pub clinic: Uuid,
    /// A second clinic.
    pub other_clinic: Uuid,
}

/// Units of the 3 mm test roller each clinic starts with (see [`roller_at`]).
pub const ROLLERS_IN_STOCK: u32 = 10_000;

/// Which roller product each clinic made here stocks, for [`treatment`].
static ROLLERS: Mutex<Vec<(Uuid, Uuid)>> = Mutex::new(Vec::new());

/// The 3 mm single-use test roller a clinic made here stocks, which [`treatment`] consumes.
pub fn roller_at(clinic: Uuid) -> Uuid {
    ROLLERS
        .lock()
        .expect("roller registry")
        .iter()
        .find(|(c, _)| *c == clinic)
        .map_or(Uuid::nil(), |(_, product)| *product)
}

/// The app under test and one organisation in it.
pub struct World {
    /// The app.
    pub app: App,
    /// The organisation.
    pub org: Org,
    read_audit: Option<ReadAuditTask>,
}

impl World {
    /// Starts the app over `db` with an organisation `glow`.
    pub async fn new(db: Db) -> Self {
        Self::with_settings(db, |_| {}).await
    }

    /// Starts the app over `db`, with settings `adjust` changed, and an organisation `glow`.
    pub async fn with_settings(db: Db, adjust: impl FnOnce(&mut AppSettings)) -> Self {
        Self::named(db, "glow", adjust).await
    }

    /// Starts the app over `db`, with settings `adjust` changed, and an organisation `slug`.
    pub async fn named(db: Db, slug: &str, adjust: impl FnOnce(&mut AppSettings)) -> Self {
        let mut settings = AppSettings {
            issuer: "https://skinledger.test".into(),
            audience: "skinledger-test".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
            signing_key: SigningKey::new(vec![7u8; 32]).expect("a 32-byte key"),
            default_timezone: skinledger_domain::local_time::TimeZone::UTC,
            audit_spool: None,
            login_failures_per_source: 20,
            event_retention: Duration::from_secs(30 * 86_400),
            caller_cache: Duration::from_secs(1),
            webhooks: skinledger_app::webhooks::WebhookSettings::default(),
        };
        adjust(&mut settings);
        let (app, read_audit) = App::new(db, settings);
        let org = add_org(&app, slug).await;
        Self {
            app,
            org,
            read_audit: Some(read_audit),
        }
    }

    /// Another organisation in the same app.
    pub async fn other_org(&self, slug: &str) -> Org {
        add_org(&self.app, slug).await
    }

    /// A staff member of `org` holding `role` at `clinic`, logged in.
    pub async fn staff(&self, org: &Org, name: &str, role: Role, clinic: Uuid) -> Actor {
        self.staff_with(
            org,
            name,
            vec![RoleGrant {
                role,
                clinic_id: Some(clinic),
            }],
        )
        .await
    }

    /// A staff member of `org` with `roles`, logged in.
    pub async fn staff_with(&self, org: &Org, name: &str, roles: Vec<RoleGrant>) -> Actor {
        let email = format!("{name}@{}.test", org.slug);
        self.app
            .create_staff(
                &org.admin,
                NewStaff {
                    email: email.clone(),
                    name: name.into(),
                    password: PASSWORD.into(),
                    roles,
                },
                None,
            )
            .await
            .expect("staff created");
        log_in(&self.app, &org.slug, &email).await
    }

    /// Registers a client.
    pub async fn client(&self, actor: &Actor, first: &str, last: &str) -> Client {
        self.app
            .create_client(actor, new_client(first, last), None)
            .await
            .expect("client created")
    }

    /// Records a screening taken on `on`, at no particular clinic.
    pub async fn screening(
        &self,
        actor: &Actor,
        client: Uuid,
        on: NaiveDate,
        answers: ScreeningAnswers,
    ) -> Screening {
        self.app
            .record_screening(
                actor,
                client,
                NewScreening {
                    clinic_id: None,
                    screened_on: Some(on),
                    answers,
                },
                None,
            )
            .await
            .expect("screening recorded")
    }

    /// Lets sessions be recorded up to a year back, so a test can lay down a client's history.
    pub async fn allow_backdating_a_year(&self) {
        let policy = skinledger_domain::policy::ClinicalPolicy {
            max_backdate_days: 365,
            ..Default::default()
        };
        self.app
            .put_policy(&self.org.admin, policy, None)
            .await
            .expect("policy updated");
    }

    /// Records a treatment that must succeed.
    pub async fn treat(&self, actor: &Actor, new: NewTreatment) -> Treatment {
        self.app
            .create_treatment(actor, new, None)
            .await
            .expect("treatment recorded")
    }

    /// Stops the background writer of read audits, writing what it holds, and answers the
    /// organisation's audit log.
    pub async fn audit_log(&mut self) -> Vec<AuditEntry> {
        if let Some(task) = self.read_audit.take() {
            task.finish().await;
        }
        let page = PageParams {
            limit: Some(200),
            cursor: None,
        };
        self.app
            .list_audit_events(&self.org.admin, &AuditFilter::default(), &page)
            .await
            .expect("audit log")
            .items
    }
}

async fn add_org(app: &App, slug: &str) -> Org {
    let admin_email = format!("admin@{slug}.test");
    app.create_organization(NewOrganization {
        slug: slug.into(),
        name: format!("{slug} clinics"),
        admin_email: admin_email.clone(),
        admin_password: PASSWORD.into(),
    })
    .await
    .expect("organisation created");
    let admin = log_in(app, slug, &admin_email).await;
    let mut clinics = Vec::new();
    for name in ["Mitte", "Nord"] {
        let clinic = app
            .create_clinic(
                &admin,
                NewClinic {
                    name: name.into(),
                    address: None,
                    phone: None,
                    timezone: None,
                },
                None,
            )
            .await
            .expect("clinic created");
        clinics.push(clinic.id);
    }
    // Every treatment consumes a single-use device: stock both clinics with plenty.
    let roller = app
        .create_product(
            &admin,
            NewProduct {
                kind: ProductKind::Roller,
                name: "Test roller 3.0 mm".into(),
                maker: "Test maker".into(),
                gtin: None,
                needle_length_mm: Some(mm(3.0)),
                needle_count: Some(540),
                max_depth_mm: None,
                single_use: None,
                reorder_point: None,
                clinic_reorder_points: Vec::new(),
            },
            None,
        )
        .await
        .expect("roller created");
    for clinic in &clinics {
        app.receive_stock(
            &admin,
            *clinic,
            ReceiptRequest {
                product_id: Some(roller.id),
                lot_number: Some(LotNumber::parse("TEST-ROLLERS").expect("a lot number")),
                expiry: Some(today() + Days::new(3 * 365)),
                quantity: Some(ROLLERS_IN_STOCK),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await
        .expect("rollers received");
        ROLLERS
            .lock()
            .expect("roller registry")
            .push((*clinic, roller.id));
    }
    // The rollers arrived a year ago, so that sessions dated in the past had them on the
    // shelf (stock is judged as it stood at each session).
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use skinledger_store::entities::movement;
    movement::Entity::update_many()
        .col_expr(
            movement::Column::CreatedAt,
            Expr::value(Utc::now() - chrono::Duration::days(366)),
        )
        .filter(movement::Column::OrganizationId.eq(admin.org_id))
        .exec(app.db().write())
        .await
        .expect("deliveries dated back");
    Org {
        slug: slug.into(),
        admin,
        clinic: clinics[0],
        other_clinic: clinics[1],
    }
}

async fn log_in(app: &App, slug: &str, email: &str) -> Actor {
    let answer = app
        .token(
            TokenGrant::Password {
                org: slug.into(),
                email: email.into(),
                password: PASSWORD.into(),
            },
            None,
        )
        .await
        .expect("logged in");
    app.authenticate(&answer.access_token, None)
        .await
        .expect("token accepted")
}

/// A client with only the required fields.
pub fn new_client(first: &str, last: &str) -> NewClient {
    NewClient {
        first_name: first.into(),
        last_name: last.into(),
        date_of_birth: NaiveDate::from_ymd_opt(1990, 5, 17).expect("a date"),
        phone: None,
        email: None,
        fitzpatrick_type: None,
        consent_version: None,
        consent_signed_at: None,
        photo_consent: false,
        notes: None,
    }
}

/// Today, UTC.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// `n` days before today.
pub fn days_ago(n: u64) -> NaiveDate {
    today() - Days::new(n)
}

/// The first moment of `day`, UTC.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// A needle depth in millimetres.
pub fn mm(depth: f64) -> NeedleDepth {
    NeedleDepth::from_mm(depth).expect("a needle depth")
}

/// A plain treatment of `client` at `clinic` on `day` with a needle of `depth`, consuming one
/// of the clinic's test rollers.
pub fn treatment(clinic: Uuid, client: Uuid, depth: f64, day: NaiveDate) -> NewTreatment {
    NewTreatment {
        clinic_id: clinic,
        client_id: client,
        // Today's sessions happen now, after the test's deliveries; earlier ones at midnight.
        performed_at: Some(if day == today() {
            Utc::now()
        } else {
            start_of(day)
        }),
        indications: vec![Indication::FineLinesAndWrinkles],
        areas: vec![Area::FullFace],
        device_kind: DeviceKind::Roller,
        needle_depth_mm: mm(depth),
        passes: 6,
        anaesthetic_product: Some("EMLA 5%".into()),
        anaesthetic_minutes: Some(30),
        topicals: vec!["hyaluronic serum".into()],
        endpoint: Endpoint::Erythema,
        duration_minutes: 40,
        notes: Some("tolerated well".into()),
        interval_override_reason: None,
        course_id: None,
        consumables: vec![ConsumableRequest {
            product_id: roller_at(clinic),
            serial: None,
            lot_id: None,
            quantity: 1,
        }],
    }
}

/// Unwraps the error of a result that must fail.
pub fn failure<T: std::fmt::Debug>(result: Result<T>) -> Error {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(e) => e,
    }
}

/// The codes of the blockers in a 409's `extra`.
pub fn blocker_codes(error: &Error) -> Vec<String> {
    match error {
        Error::Conflict {
            extra: Some(extra), ..
        } => extra["blockers"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|b| b["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        other => panic!("expected a conflict with blockers, got {other:?}"),
    }
}

/// The fields a 422 names.
pub fn invalid_fields(error: &Error) -> Vec<String> {
    match error {
        Error::Invalid(errors) => errors.0.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected invalid fields, got {other:?}"),
    }
}

/// The keys of a value serialised to a JSON object.
pub fn json_keys(value: &impl serde::Serialize) -> Vec<String> {
    let json = serde_json::to_value(value).expect("serialises");
    let mut keys: Vec<String> = json
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}
