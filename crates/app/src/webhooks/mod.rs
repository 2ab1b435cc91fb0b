//! Webhooks: an organisation's endpoints, to which every integration event of the kinds they
//! ask for is POSTed, signed as the Standard Webhooks specification says, at least once, in the
//! order of the organisation's sequence, retried with backoff for a day, and the endpoint
//! disabled (with a `webhook.disabled` event) when it failed all that time.
//!
//! Managing endpoints is for `org_admin`. The secret is shown once, in the answer to the
//! creation, and stored sealed ([`signing`]). Deliveries are made by [`WebhookWorker`]s, one in
//! every replica, which share the queue through the database ([`delivery`]).

pub mod delivery;
mod history;
pub mod outbound;
pub mod signing;

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::events::EventType;
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::webhook;
use skinledger_store::events as event_store;
use skinledger_store::webhooks as store;
use uuid::Uuid;

pub use delivery::WebhookWorker;
pub use history::{DeliveryQuery, DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookReplay};
pub use outbound::{AddressPolicy, AttemptOutcome};

use crate::App;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::paging::{Page, PageParams};
use crate::txn::Txn;

/// The longest description.
const MAX_DESCRIPTION: usize = 500;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether deliveries may go to private, loopback, link-local and other non-public
    /// addresses (for endpoints inside the operator's own network).
    pub allow_private_addresses: bool,
    /// Non-public addresses deliveries may reach although private ones are not allowed.
    pub allowed_addresses: Vec<IpAddr>,
    /// How long one request may take, connection included.
    pub timeout: Duration,
    /// The first retry's delay; later ones are 6, 24, 120, 360 and then 720 times it (5 s,
    /// 30 s, 2 min, 10 min, 30 min, then hourly), each with ±20 % jitter.
    pub retry_base: Duration,
    /// How long a delivery is retried after its first attempt before it is given up and its
    /// endpoint disabled.
    pub retry_window: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_addresses: false,
            allowed_addresses: Vec::new(),
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            retry_window: Duration::from_secs(24 * 3600),
        }
    }
}

impl WebhookSettings {
    /// Where deliveries may go.
    pub fn policy(&self) -> AddressPolicy {
        AddressPolicy {
            allow_private: self.allow_private_addresses,
            allowed: self.allowed_addresses.clone(),
        }
    }
}

/// A webhook endpoint as the API shows it; the secret only once, in the answer to its creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Its id.
    pub id: Uuid,
    /// Where deliveries are POSTed.
    pub url: String,
    /// What it is for.
    pub description: Option<String>,
    /// The kinds of event sent; every kind when empty.
    pub event_types: Vec<EventType>,
    /// Whether deliveries are made. An endpoint that failed for the whole retry window is
    /// disabled; enabling it again resumes where it stopped.
    pub enabled: bool,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// The feed cursor up to which events have been queued for it: events after it are still
    /// to be queued.
    pub cursor: String,
    /// The signing secret (`whsec_...`): present only in the answer that created it.
    pub secret: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new webhook endpoint, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed: an http or https URL, at a public address unless the
    /// server allows private ones.
    pub url: String,
    /// The kinds of event to send; every kind when empty or left out.
    #[serde(default)]
    pub event_types: Vec<EventType>,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
}

/// Changes to a webhook endpoint; fields left out stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChanges {
    /// A new URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The kinds of event to send from now on; every kind when empty.
    #[serde(default)]
    pub event_types: Option<Vec<EventType>>,
    /// A new description; an empty text clears it.
    #[serde(default)]
    pub description: Option<String>,
    /// `false` stops deliveries; `true` resumes them where they stopped.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// The event types as stored: sorted, each once (empty for every type).
fn stored_types(types: &[EventType]) -> Vec<EventType> {
    let mut types = types.to_vec();
    types.sort();
    types.dedup();
    types
}

fn from_row(m: webhook::Model, secret: Option<String>) -> Webhook {
    Webhook {
        id: m.id,
        event_types: m.event_types.into_inner(),
        url: m.url,
        description: m.description,
        enabled: m.enabled,
        disabled_at: m.disabled_at,
        disabled_reason: m.disabled_reason,
        cursor: m.cursor.to_string(),
        secret,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The host of a URL, for the audit log (a URL's path or query may hold a token).
fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

impl App {
    /// Checks a URL for a webhook: its form, and every address of its host.
    async fn checked_url(
        &self,
        errors: &mut ValidationErrors,
        field: &str,
        raw: &str,
    ) -> Option<String> {
        let url = match outbound::parse_url(raw) {
            Ok(url) => url,
            Err(refusal) => {
                errors.add(field, refusal.to_string());
                return None;
            }
        };
        match self.outbound().check(&url).await {
            Ok(()) => Some(url.to_string()),
            Err(refusal) => {
                errors.add(field, refusal.to_string());
                None
            }
        }
    }

    /// Registers a webhook endpoint (`org_admin`); events from now on are delivered to it. The
    /// secret is in this answer and nowhere else.
    pub async fn create_webhook(&self, actor: &Actor, new: NewWebhook) -> Result<Webhook> {
        let subject = Subject::new("webhook", None);
        self.audited(actor, "webhook.create", subject, async move {
            actor.require(Action::WebhookManage, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let description = check_description(&mut errors, new.description.as_deref());
            let url = self.checked_url(&mut errors, "url", &new.url).await;
            errors.into_result()?;
            let url = url.ok_or_else(|| Error::invalid("url", "is required"))?;
            let types = stored_types(&new.event_types);
            let (secret, bytes) = signing::new_secret();
            let sealed = signing::seal(&bytes, &self.settings().signing_key);
            let now = Utc::now();
            let txn = Txn::begin(self.db()).await?;
            let cursor = event_store::sequence(&txn, actor.org_id)
                .await?
                .map_or(0, |s| s.last_seq);
            let row = store::insert(
                &txn,
                webhook::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(actor.org_id),
                    url: Set(url.clone()),
                    description: Set(description.flatten()),
                    event_types: Set(types.into()),
                    enabled: Set(true),
                    disabled_at: Set(None),
                    disabled_reason: Set(None),
                    secret_sealed: Set(sealed),
                    cursor: Set(cursor),
                    created_by: Set(Some(actor.principal.id())),
                    created_at: Set(now),
                    updated_at: Set(now),
                },
            )
            .await?;
            txn.audit(
                AuditEvent::by(actor, "webhook.create", "webhook", Some(row.id)).detail(
                    serde_json::json!({ "host": host_of(&url), "event_types": &new.event_types }),
                ),
            );
            txn.commit().await?;
            Ok(from_row(row, Some(secret)))
        })
        .await
    }

    /// The organisation's webhook endpoints (`org_admin`), without secrets.
    pub async fn list_webhooks(&self, actor: &Actor, page: &PageParams) -> Result<Page<Webhook>> {
        actor.require(Action::WebhookManage, Scope::Anywhere)?;
        let rows = store::list(self.db().read(), actor.org_id, page.parse()?).await?;
        Ok(Page::from_store(rows, |m| from_row(m, None)))
    }

    /// One webhook endpoint (`org_admin`), without its secret.
    pub async fn get_webhook(&self, actor: &Actor, id: Uuid) -> Result<Webhook> {
        let row = store::get(self.db().read(), actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("webhook"))?;
        actor.require(Action::WebhookManage, Scope::Anywhere)?;
        Ok(from_row(row, None))
    }

    /// Changes a webhook endpoint (`org_admin`). Enabling a disabled one resumes its
    /// deliveries where they stopped.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: WebhookChanges,
    ) -> Result<Webhook> {
        let subject = Subject::new("webhook", Some(id));
        self.audited(actor, "webhook.update", subject, async move {
            store::get(self.db().read(), actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            actor.require(Action::WebhookManage, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let description = check_description(&mut errors, changes.description.as_deref());
            let url = match &changes.url {
                Some(raw) => self.checked_url(&mut errors, "url", raw).await,
                None => None,
            };
            errors.into_result()?;
            let txn = Txn::begin(self.db()).await?;
            let row = store::get_for_update(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            let now = Utc::now();
            let mut active: webhook::ActiveModel = row.clone().into();
            let mut changed = Vec::new();
            if let Some(url) = url
                && url != row.url
            {
                active.url = Set(url);
                changed.push("url");
            }
            if let Some(types) = &changes.event_types {
                let types = stored_types(types);
                if *row.event_types != types {
                    active.event_types = Set(types.into());
                    changed.push("event_types");
                }
            }
            if let Some(description) = description
                && description != row.description
            {
                active.description = Set(description);
                changed.push("description");
            }
            match changes.enabled {
                Some(true) if !row.enabled => {
                    active.enabled = Set(true);
                    active.disabled_at = Set(None);
                    active.disabled_reason = Set(None);
                    changed.push("enabled");
                }
                Some(false) if row.enabled => {
                    active.enabled = Set(false);
                    active.disabled_at = Set(Some(now));
                    active.disabled_reason = Set(Some("disabled through the API".into()));
                    changed.push("enabled");
                }
                _ => {}
            }
            let row = if changed.is_empty() {
                row
            } else {
                active.updated_at = Set(now);
                let row = store::update(&txn, active).await?;
                txn.audit(AuditEvent::by(actor, "webhook.update", "webhook", Some(id)).detail(
                        serde_json::json!({ "changed": changed, "host": host_of(&row.url), "enabled": row.enabled }),
                    ));
                row
            };
            txn.commit().await?;
            Ok(from_row(row, None))
        })
        .await
    }

    /// Removes a webhook endpoint (`org_admin`) with its deliveries: nothing more is sent to it.
    pub async fn delete_webhook(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let subject = Subject::new("webhook", Some(id));
        self.audited(actor, "webhook.delete", subject, async move {
            store::get(self.db().read(), actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            actor.require(Action::WebhookManage, Scope::Anywhere)?;
            let txn = Txn::begin(self.db()).await?;
            let row = store::get_for_update(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            store::delete(&txn, actor.org_id, id).await?;
            txn.audit(
                AuditEvent::by(actor, "webhook.delete", "webhook", Some(id))
                    .detail(serde_json::json!({ "host": host_of(&row.url) })),
            );
            txn.commit().await?;
            Ok(())
        })
        .await
    }
}

/// A description: at most [`MAX_DESCRIPTION`] characters; an empty one clears it. `None` when
/// none was sent.
fn check_description(errors: &mut ValidationErrors, raw: Option<&str>) -> Option<Option<String>> {
    let raw = raw?;
    let trimmed = raw.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION {
        errors.add("description", "must be at most 500 characters");
        return None;
    }
    Some((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}
