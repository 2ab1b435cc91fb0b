//! The audit log: what happened, by whom, to what, with which outcome.
//!
//! Events of a write are inserted in that write's own transaction. Events of reads (and
//! refusals, whose transaction rolls back) go to a background writer (`read_audit`) that
//! inserts them in batches, so that reads stay reads.

use chrono::{SubsecRound as _, Utc};
use sea_orm::Set;
use serde::Serialize;
use skinledger_domain::audit_chain::Link;
use skinledger_store::audit;
use skinledger_store::entities::audit_event;
use uuid::Uuid;

use crate::actor::Actor;
use crate::error::{Error, Result};

pub use crate::actor::ActorKind;

skinledger_domain::wire_enum! {
    /// How an audited attempt ended.
    pub enum AuditOutcome ("audit outcome") {
        /// Done.
        Success => "success",
        /// Credentials that did not hold.
        Failure => "failure",
        /// Refused by permission (403).
        Denied => "denied",
        /// Refused by a business rule or invalid input (409, 412, 422).
        Refused => "refused",
        /// Refused by login throttling (429).
        Throttled => "throttled",
    }
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// The organisation it happened in.
    pub org_id: Uuid,
    /// Who did it.
    pub actor_kind: ActorKind,
    /// The staff member or API client, when known.
    pub actor_id: Option<Uuid>,
    /// What was done, e.g. `clinic.create`, `auth.login`.
    pub action: &'static str,
    /// The kind of thing it was done to.
    pub entity_kind: &'static str,
    /// The thing, when it has an id.
    pub entity_id: Option<Uuid>,
    /// The client whose data it concerns, for health data.
    pub client_id: Option<Uuid>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// Extra facts as JSON (never secrets or health data).
    pub detail: Option<serde_json::Value>,
    /// The request it happened in.
    pub request_id: Option<String>,
}

impl AuditEvent {
    /// A successful action by `actor` on an entity.
    pub fn by(
        actor: &Actor,
        action: &'static str,
        entity_kind: &'static str,
        entity_id: Option<Uuid>,
    ) -> Self {
        Self {
            org_id: actor.org_id,
            actor_kind: actor.principal.kind(),
            actor_id: Some(actor.principal.id()),
            action,
            entity_kind,
            entity_id,
            client_id: None,
            outcome: AuditOutcome::Success,
            detail: None,
            request_id: actor.request_id.clone(),
        }
    }

    /// Names the client whose data the event concerns.
    pub fn client(mut self, client_id: Uuid) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Attaches extra facts.
    pub fn detail(mut self, detail: impl Serialize) -> Self {
        self.detail = serde_json::to_value(detail).ok();
        self
    }

    /// The event as it is stored, with its id and time fixed now.
    pub(crate) fn stamp(self) -> Stamped {
        Stamped {
            id: Uuid::now_v7(),
            organization_id: self.org_id,
            actor_kind: self.actor_kind.as_str().to_owned(),
            actor_id: self.actor_id,
            action: self.action.to_owned(),
            entity_kind: self.entity_kind.to_owned(),
            entity_id: self.entity_id,
            client_id: self.client_id,
            outcome: self.outcome.as_str().to_owned(),
            detail: self.detail.map(|d| d.to_string()),
            request_id: self.request_id,
            // Databases keep microseconds; the hash covers the time as stored.
            occurred_at: Utc::now().trunc_subsecs(6),
        }
    }
}

/// An event with its id and time fixed, as queued, retried and spooled to disk.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Stamped {
    id: Uuid,
    organization_id: Uuid,
    actor_kind: String,
    actor_id: Option<Uuid>,
    action: String,
    entity_kind: String,
    entity_id: Option<Uuid>,
    client_id: Option<Uuid>,
    outcome: String,
    detail: Option<String>,
    request_id: Option<String>,
    occurred_at: chrono::DateTime<Utc>,
}

impl Stamped {
    /// The event's id.
    pub(crate) fn id(&self) -> Uuid {
        self.id
    }

    /// The organisation whose chain it joins.
    pub(crate) fn org(&self) -> Uuid {
        self.organization_id
    }

    /// What its hash covers, numbered `seq` after the event hashed `prev_hash`.
    pub(crate) fn link<'a>(&'a self, seq: i64, prev_hash: &'a str) -> Link<'a> {
        Link {
            seq,
            prev_hash,
            id: self.id,
            organization_id: self.organization_id,
            occurred_at: self.occurred_at,
            actor_kind: &self.actor_kind,
            actor_id: self.actor_id,
            action: &self.action,
            entity_kind: &self.entity_kind,
            entity_id: self.entity_id,
            client_id: self.client_id,
            outcome: &self.outcome,
            detail: self.detail.as_deref(),
            request_id: self.request_id.as_deref(),
        }
    }

    /// The row to insert, numbered and hashed.
    pub(crate) fn row(&self, seq: i64, prev_hash: &str, hash: &str) -> audit_event::ActiveModel {
        audit_event::ActiveModel {
            id: Set(self.id),
            organization_id: Set(self.organization_id),
            actor_kind: Set(self.actor_kind.clone()),
            actor_id: Set(self.actor_id),
            action: Set(self.action.clone()),
            entity_kind: Set(self.entity_kind.clone()),
            entity_id: Set(self.entity_id),
            client_id: Set(self.client_id),
            outcome: Set(self.outcome.clone()),
            detail: Set(self.detail.clone()),
            request_id: Set(self.request_id.clone()),
            occurred_at: Set(self.occurred_at),
            seq: Set(seq),
            prev_hash: Set(prev_hash.to_owned()),
            hash: Set(hash.to_owned()),
        }
    }
}

/// What a write concerns, as far as it is known before the write runs: recorded with a
/// refusal, so that an inspector sees who tried what, on whom, where.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject {
    kind: &'static str,
    id: Option<Uuid>,
    client_id: Option<Uuid>,
    clinic_id: Option<Uuid>,
}

impl Subject {
    /// A thing of `kind`, with its id when it has one yet.
    pub(crate) fn new(kind: &'static str, id: Option<Uuid>) -> Self {
        Self {
            kind,
            id,
            client_id: None,
            clinic_id: None,
        }
    }

    /// Names the client concerned.
    pub(crate) fn client(mut self, id: Uuid) -> Self {
        self.client_id = Some(id);
        self
    }

    /// Names the clinic concerned, when there is one.
    pub(crate) fn clinic(mut self, id: impl Into<Option<Uuid>>) -> Self {
        self.clinic_id = id.into();
        self
    }
}

/// The audit outcome of a refused write, or `None` for errors that are not refusals (not
/// found, unavailable, internal).
fn refusal_outcome(err: &Error) -> Option<AuditOutcome> {
    match err {
        Error::Forbidden { .. } => Some(AuditOutcome::Denied),
        Error::Conflict { .. }
        | Error::Invalid(_)
        | Error::PreconditionFailed
        | Error::IdempotencyKeyReused => Some(AuditOutcome::Refused),
        _ => None,
    }
}

/// The facts of a refusal: its code, the clinic, and for 422 the fields named (never the
/// values sent).
fn refusal_detail(err: &Error, clinic_id: Option<Uuid>) -> serde_json::Value {
    let mut detail = serde_json::json!({ "code": err.code() });
    if let Some(clinic) = clinic_id {
        detail["clinic_id"] = serde_json::json!(clinic);
    }
    if let Error::Invalid(errors) = err {
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        detail["fields"] = serde_json::json!(fields);
    }
    detail
}

impl crate::App {
    /// Runs a write and, when it is refused (403, 409, 412, 422), appends an audit event with
    /// outcome `denied` or `refused`, its code, the actor, the client and clinic where known,
    /// and the request id. The event goes through the background writer, so it stays on the
    /// record although the refused transaction rolled back.
    pub(crate) async fn audited<T>(
        &self,
        actor: &Actor,
        action: &'static str,
        subject: Subject,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let result = work.await;
        if let Err(err) = &result
            && let Some(outcome) = refusal_outcome(err)
        {
            let subject = self.known(actor, subject).await;
            let mut event = AuditEvent::by(actor, action, subject.kind, subject.id)
                .outcome(outcome)
                .detail(refusal_detail(err, subject.clinic_id));
            event.client_id = subject.client_id;
            self.read_audit().record(event).await;
        }
        result
    }

    /// Fills in the client and clinic of a treatment or screening named by id, for the record
    /// of a refusal. Best effort: a refusal is recorded even when the lookup fails.
    async fn known(&self, actor: &Actor, subject: Subject) -> Subject {
        let (Some(id), None) = (subject.id, subject.client_id) else {
            return subject;
        };
        let db = self.db().read();
        match subject.kind {
            "treatment" => match skinledger_store::treatments::get(db, actor.org_id, id).await {
                Ok(Some(row)) => subject.client(row.client_id).clinic(row.clinic_id),
                _ => subject,
            },
            "screening" => match skinledger_store::screenings::get(db, actor.org_id, id).await {
                Ok(Some(row)) => subject.client(row.client_id).clinic(row.clinic_id),
                _ => subject,
            },
            _ => subject,
        }
    }

    /// Records a request refused before any use case ran because a field was invalid (422),
    /// naming the fields and the route, never the values sent.
    pub async fn audit_invalid_request(&self, actor: &Actor, route: &str, err: &Error) {
        let mut detail = refusal_detail(err, None);
        detail["route"] = serde_json::json!(route);
        self.read_audit()
            .record(
                AuditEvent::by(actor, "request.invalid", "request", None)
                    .outcome(AuditOutcome::Refused)
                    .detail(detail),
            )
            .await;
    }
}

/// An audit event as the API shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Its id.
    pub id: Uuid,
    /// The organisation whose chain it belongs to (part of what its hash covers).
    pub organization_id: Uuid,
    /// Who did it.
    #[schema(value_type = ActorKind)]
    pub actor_kind: String,
    /// The staff member or API client.
    pub actor_id: Option<Uuid>,
    /// What was done.
    pub action: String,
    /// The kind of thing it was done to.
    pub entity_kind: String,
    /// The thing.
    pub entity_id: Option<Uuid>,
    /// The client whose data it concerns.
    pub client_id: Option<Uuid>,
    /// How it ended.
    #[schema(value_type = AuditOutcome)]
    pub outcome: String,
    /// Extra facts.
    pub detail: Option<AuditDetail>,
    /// The request it happened in.
    pub request_id: Option<String>,
    /// When.
    pub occurred_at: chrono::DateTime<Utc>,
    /// Its number in the organisation's audit chain, from 1.
    pub seq: i64,
    /// The hash of the event numbered `seq - 1` (64 zeros for the first).
    pub prev_hash: String,
    /// The SHA-256 of its canonical form: see "The audit chain" in the API documentation.
    pub hash: String,
}

/// Facts of an audit event beyond who, what and when, as a JSON object whose members depend on
/// the action; never secrets or health data.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct AuditDetail(pub serde_json::Value);

impl utoipa::PartialSchema for AuditDetail {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let text = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Facts of the event that depend on its action; never secrets or health data. The members below are the common ones; an action may add its own (for example the fields it changed).",
            ))
            .property("code", text().description(Some("A refusal's error code.")))
            .property(
                "clinic_id",
                text()
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .description(Some("The clinic a refused write concerned.")),
            )
            .property(
                "fields",
                ArrayBuilder::new()
                    .items(text())
                    .description(Some("Names of the fields refused or changed (never their values).")),
            )
            .property(
                "route",
                text().description(Some("The route or gRPC method of an unreadable request.")),
            )
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl utoipa::ToSchema for AuditDetail {}

impl std::ops::Deref for AuditDetail {
    type Target = serde_json::Value;

    fn deref(&self) -> &serde_json::Value {
        &self.0
    }
}

impl From<audit_event::Model> for AuditEntry {
    fn from(m: audit_event::Model) -> Self {
        Self {
            id: m.id,
            organization_id: m.organization_id,
            actor_kind: m.actor_kind,
            actor_id: m.actor_id,
            action: m.action,
            entity_kind: m.entity_kind,
            entity_id: m.entity_id,
            client_id: m.client_id,
            outcome: m.outcome,
            detail: m
                .detail
                .and_then(|d| serde_json::from_str(&d).ok())
                .map(AuditDetail),
            request_id: m.request_id,
            occurred_at: m.occurred_at,
            seq: m.seq,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

impl crate::App {
    /// The organisation's audit log, oldest first (`org_admin`).
    pub async fn list_audit_events(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        page: &crate::paging::PageParams,
    ) -> Result<crate::paging::Page<AuditEntry>> {
        actor.require(
            skinledger_domain::permission::Action::AuditRead,
            skinledger_domain::permission::Scope::Anywhere,
        )?;
        let rows = audit::list(self.db().read(), actor.org_id, filter, page.parse()?).await?;
        Ok(crate::paging::Page::from_store(rows, AuditEntry::from))
    }
}
pub use skinledger_store::audit::AuditFilter;
