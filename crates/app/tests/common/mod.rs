//! Set-up shared by the app-layer tests: an app over a fresh database, organisations, clinics,
//! staff members and API clients, logged in the way clients log in.

use std::ops::Deref;
use std::time::Duration;

use skinledger_app::api_clients::{ApiClient, NewApiClient};
use skinledger_app::audit::AuditEntry;
use skinledger_app::auth::{RoleGrant, TokenAnswer, TokenGrant};
use skinledger_app::clinics::{Clinic, NewClinic};
use skinledger_app::orgs::NewOrganization;
use skinledger_app::read_audit::ReadAuditTask;
use skinledger_app::staff::{NewStaff, StaffMember};
use skinledger_app::{Actor, App, AppSettings, Error, PageParams, Result, SigningKey};
use skinledger_domain::role::Role;
use skinledger_store::Db;
use skinledger_store::audit::AuditFilter;
use uuid::Uuid;

/// The `iss` of the app's access tokens.
pub const ISSUER: &str = "https://skinledger.test";
/// The `aud` of the app's access tokens.
pub const AUDIENCE: &str = "skinledger-test";
/// The key the app signs access tokens with.
pub const SIGNING_KEY: [u8; 32] = [7u8; 32];
/// The lifetime of access tokens.
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// The lifetime of refresh tokens.
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The password every staff member of these tests is given.
pub const PASSWORD: &str = "correct horse battery staple";

/// An app over a fresh database, with its background audit writer kept running.
pub struct Harness {
    /// The app under test.
    pub app: App,
    read_audit: tokio::sync::Mutex<Option<ReadAuditTask>>,
}

impl Deref for Harness {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

/// An organisation and its first administrator, logged in.
pub struct Org {
    /// The organisation's id.
    pub id: Uuid,
    /// Its login handle.
    pub slug: String,
    /// The first administrator's email.
    pub admin_email: String,
    /// The first administrator's staff id.
    pub admin_id: Uuid,
    /// The first administrator, logged in.
    pub admin: Actor,
}

impl Harness {
    /// Starts the app over `db`.
    pub fn new(db: Db) -> Self {
        Self::with_caller_cache(db, Duration::from_secs(1))
    }

    /// Starts the app over `db`, reusing a resolved caller for `bound`.
    pub fn with_caller_cache(db: Db, bound: Duration) -> Self {
        let settings = AppSettings {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            access_ttl: ACCESS_TTL,
            refresh_ttl: REFRESH_TTL,
            signing_key: SigningKey::new(SIGNING_KEY.to_vec()).expect("a 32-byte key"),
            default_timezone: skinledger_domain::local_time::TimeZone::UTC,
            audit_spool: None,
            login_failures_per_source: 20,
            event_retention: Duration::from_secs(30 * 86_400),
            caller_cache: bound,
            webhooks: skinledger_app::webhooks::WebhookSettings::default(),
        };
        let (app, read_audit) = App::new(db, settings);
        Self {
            app,
            read_audit: tokio::sync::Mutex::new(Some(read_audit)),
        }
    }

    /// Writes every audit event of reads and refusals queued so far, then stops the background
    /// writer: later reads of this harness are no longer audited.
    pub async fn flush_read_audit(&self) {
        if let Some(task) = self.read_audit.lock().await.take() {
            task.finish().await;
        }
    }

    /// Creates an organisation and logs its first administrator in.
    pub async fn organization(&self, slug: &str) -> Org {
        let admin_email = email(slug, "admin");
        let org = self
            .create_organization(NewOrganization {
                slug: slug.into(),
                name: format!("{slug} clinics"),
                admin_email: admin_email.clone(),
                admin_password: PASSWORD.into(),
            })
            .await
            .expect("organisation created");
        let admin = self.log_in(slug, &admin_email).await;
        Org {
            id: org.id,
            slug: org.slug,
            admin_email,
            admin_id: org.admin_id,
            admin,
        }
    }

    /// Asks for tokens with a password.
    pub async fn password_login(
        &self,
        org: &str,
        email: &str,
        password: &str,
    ) -> Result<TokenAnswer> {
        self.token(
            TokenGrant::Password {
                org: org.into(),
                email: email.into(),
                password: password.into(),
            },
            None,
        )
        .await
    }

    /// Asks for tokens with a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenAnswer> {
        self.token(
            TokenGrant::RefreshToken {
                refresh_token: refresh_token.into(),
            },
            None,
        )
        .await
    }

    /// Logs a staff member in with [`PASSWORD`] and turns the access token into the caller.
    pub async fn log_in(&self, org: &str, email: &str) -> Actor {
        let answer = self
            .password_login(org, email, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{email} cannot log in: {e:?}"));
        self.authenticate(&answer.access_token, None)
            .await
            .expect("a fresh access token is accepted")
    }

    /// Opens a clinic.
    pub async fn clinic(&self, admin: &Actor, name: &str) -> Clinic {
        self.create_clinic(
            admin,
            NewClinic {
                name: name.into(),
                address: None,
                phone: None,
                timezone: None,
            },
            None,
        )
        .await
        .expect("clinic created")
    }

    /// Adds a staff member with [`PASSWORD`] and `roles`.
    pub async fn member(&self, admin: &Actor, email: &str, roles: Vec<RoleGrant>) -> StaffMember {
        self.create_staff(
            admin,
            NewStaff {
                email: email.into(),
                name: format!("Member {email}"),
                password: PASSWORD.into(),
                roles,
            },
            None,
        )
        .await
        .expect("staff member created")
    }

    /// Creates an API client acting with `roles`; the answer carries its secret.
    pub async fn integration(&self, admin: &Actor, name: &str, roles: Vec<RoleGrant>) -> ApiClient {
        self.create_api_client(
            admin,
            NewApiClient {
                name: name.into(),
                roles,
            },
        )
        .await
        .expect("API client created")
    }

    /// Every clinic the caller sees.
    pub async fn visible_clinics(&self, actor: &Actor) -> Vec<Uuid> {
        self.list_clinics(actor, &page_of(200))
            .await
            .expect("clinics listed")
            .items
            .into_iter()
            .map(|c| c.id)
            .collect()
    }

    /// The organisation's whole audit log, oldest first.
    pub async fn audit_log(&self, admin: &Actor) -> Vec<AuditEntry> {
        let mut events = Vec::new();
        let mut params = page_of(200);
        loop {
            let page = self
                .list_audit_events(admin, &AuditFilter::default(), &params)
                .await
                .expect("audit log listed");
            events.extend(page.items);
            match page.next_cursor {
                Some(cursor) => params.cursor = Some(cursor),
                None => return events,
            }
        }
    }
}

/// A page request of `limit` items from the start.
pub fn page_of(limit: u64) -> PageParams {
    PageParams {
        limit: Some(limit),
        cursor: None,
    }
}

/// An email address at the organisation's domain.
pub fn email(org: &str, local: &str) -> String {
    format!("{local}@{org}.test")
}

/// A role held at a clinic.
pub fn at(role: Role, clinic: Uuid) -> RoleGrant {
    RoleGrant {
        role,
        clinic_id: Some(clinic),
    }
}

/// The organisation-wide administrator role.
pub fn org_admin() -> RoleGrant {
    RoleGrant {
        role: Role::OrgAdmin,
        clinic_id: None,
    }
}

/// Asserts that `result` failed with the stable error `code`, and gives the error back.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T>, code: &str) -> Error {
    match result {
        Ok(value) => panic!("expected `{code}`, got {value:?}"),
        Err(err) => {
            assert_eq!(err.code(), code, "unexpected error {err:?}");
            err
        }
    }
}

/// Asserts that `result` is a 401 with `code`.
#[track_caller]
pub fn expect_unauthenticated<T: std::fmt::Debug>(result: Result<T>, code: &str) {
    let err = expect_code(result, code);
    assert!(
        matches!(err, Error::Unauthenticated { .. }),
        "expected a 401, got {err:?}"
    );
}

/// Asserts that `result` is a 404.
#[track_caller]
pub fn expect_not_found<T: std::fmt::Debug>(result: Result<T>) {
    let err = expect_code(result, "not_found");
    assert!(
        matches!(err, Error::NotFound(_)),
        "expected a 404, got {err:?}"
    );
}

/// Asserts that `result` is a 403 `forbidden`.
#[track_caller]
pub fn expect_forbidden<T: std::fmt::Debug>(result: Result<T>) {
    let err = expect_code(result, "forbidden");
    assert!(
        matches!(err, Error::Forbidden { .. }),
        "expected a 403, got {err:?}"
    );
}

/// The fields a 422 names, or a panic when `result` is not a 422.
#[track_caller]
pub fn invalid_fields<T: std::fmt::Debug>(result: Result<T>) -> Vec<String> {
    match result {
        Err(Error::Invalid(errors)) => errors.0.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a 422, got {other:?}"),
    }
}
