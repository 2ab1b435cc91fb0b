//! skinledger's use cases, shared by REST and gRPC.
//!
//! Each use case takes the caller ([`Actor`]) and a command, checks permission against the
//! matrix in `skinledger-domain`, opens one transaction, loads what it needs through
//! `skinledger-store`, applies the domain rules, writes, appends the audit event, commits, and
//! returns a plain result or an [`Error`].

pub mod actor;
pub mod api_clients;
pub mod audit;
pub mod audit_chain;
pub mod auth;
pub(crate) mod bounded;
pub(crate) mod callers;
pub(crate) mod changes;
pub mod clients;
pub mod clinics;
pub mod consumption;
pub mod courses;
pub mod disposals;
pub mod eligibility;
pub mod error;
pub mod events;
pub(crate) mod grants;
pub mod health_record;
pub mod idempotency;
pub(crate) mod ledger;
pub mod lots;
pub mod orgs;
pub mod paging;
pub mod policy;
pub mod products;
pub mod read_audit;
pub mod recalls;
pub mod receipts;
pub mod reports;
pub mod screenings;
pub mod secrets;
pub mod signals;
pub mod staff;
pub mod stock;
pub(crate) mod text;
pub mod throttle;
pub mod tokens;
pub mod transfers;
pub mod treatments;
pub mod txn;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use skinledger_store::Db;

pub use actor::{Actor, Principal};
pub use error::{Error, ErrorCode, Result};
pub use idempotency::IdempotencyKey;
pub use paging::{Page, PageParams};
pub use tokens::SigningKey;

/// What the app needs to know beyond the database.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The `iss` of access tokens.
    pub issuer: String,
    /// The `aud` of access tokens.
    pub audience: String,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
    /// The key access tokens are signed with.
    pub signing_key: SigningKey,
    /// The time zone of a clinic opened without one, and of screenings taken at no clinic.
    pub default_timezone: skinledger_domain::local_time::TimeZone,
    /// Where audit events of reads wait while the database cannot take them (and across a
    /// restart); in memory only when `None`.
    pub audit_spool: Option<std::path::PathBuf>,
    /// Failed logins (and client-credential requests) from one address in
    /// [`throttle::WINDOW`] before further attempts from it are slowed.
    pub login_failures_per_source: u64,
    /// How long integration events are kept in the feed.
    pub event_retention: Duration,
    /// How long a resolved caller (a staff member's status, session and roles, or an API
    /// client's grants) is used again without asking the database: the longest a change made
    /// through another replica takes to apply here. Zero asks on every request.
    pub caller_cache: Duration,
    /// How webhooks are delivered.
    pub webhooks: webhooks::WebhookSettings,
}

/// The application: every use case is a method of it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    settings: AppSettings,
    tokens: tokens::TokenService,
    read_audit: read_audit::ReadAuditWriter,
    callers: callers::Callers,
    /// Sends webhook deliveries.
    outbound: Arc<webhooks::outbound::Outbound>,
    /// Set when the server is shutting down: it still serves, but is no longer ready.
    draining: std::sync::atomic::AtomicBool,
}

impl App {
    /// Builds the app over a migrated database, starting the background writer of read audits.
    pub fn new(db: Db, settings: AppSettings) -> (Self, read_audit::ReadAuditTask) {
        let tokens = tokens::TokenService::new(
            &settings.signing_key,
            &settings.issuer,
            &settings.audience,
            settings.access_ttl,
        );
        let (read_audit, task) =
            read_audit::ReadAuditWriter::start(db.clone(), settings.audit_spool.clone());
        let callers = callers::Callers::new(settings.caller_cache);
        let outbound = webhooks::delivery::outbound(&settings.webhooks);
        let app = Self {
            inner: Arc::new(Inner {
                db,
                settings,
                tokens,
                read_audit,
                callers,
                outbound,
                draining: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        (app, task)
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The settings.
    pub fn settings(&self) -> &AppSettings {
        &self.inner.settings
    }

    pub(crate) fn tokens(&self) -> &tokens::TokenService {
        &self.inner.tokens
    }

    pub(crate) fn callers(&self) -> &callers::Callers {
        &self.inner.callers
    }

    /// Forgets what this process knows of a caller whose status, roles or password just
    /// changed (called after the change commits), so that the change applies here at once.
    pub(crate) fn forget_caller(&self, org_id: uuid::Uuid, principal: Principal) {
        self.inner.callers.forget(org_id, principal);
    }

    /// The background writer of audit events of reads.
    pub fn read_audit(&self) -> &read_audit::ReadAuditWriter {
        &self.inner.read_audit
    }

    /// Whether requests should be sent here: not shutting down, and the database answers and
    /// takes writes.
    pub async fn ready(&self) -> bool {
        !self.is_draining() && self.inner.db.ready().await.is_ok()
    }

    /// Marks the server as shutting down: from now on it is not ready, so that load balancers
    /// send no new requests while those under way finish.
    pub fn start_draining(&self) {
        self.inner
            .draining
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether the server is shutting down.
    pub fn is_draining(&self) -> bool {
        self.inner
            .draining
            .load(std::sync::atomic::Ordering::Acquire)
    }
}
