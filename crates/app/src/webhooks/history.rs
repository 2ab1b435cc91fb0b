//! What was delivered to a webhook: its deliveries with every attempt, a failed delivery
//! retried, and deliveries replayed from a feed cursor.

use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use skinledger_domain::events::EventType;
use skinledger_domain::permission::{Action, Scope};
pub use skinledger_domain::webhook::DeliveryStatus;
use skinledger_store::entities::{webhook_attempt, webhook_delivery};
use skinledger_store::events as event_store;
use skinledger_store::webhooks as store;
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, ErrorCode, Result};
use crate::paging::{Page, PageParams};
use crate::txn::Txn;

use super::{AttemptOutcome, Webhook, from_row};

/// Where a webhook's deliveries resume: every event after this feed cursor is delivered again.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookReplay {
    /// A feed cursor (`0` for the oldest event kept), not after the webhook's own `cursor`.
    pub after: String,
}

/// One request made for a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookAttempt {
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The endpoint's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// From the start of the request to the answer (or the failure), in milliseconds.
    pub latency_ms: i64,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// One event's delivery to one webhook endpoint, with every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookDelivery {
    /// Its id.
    pub id: Uuid,
    /// The webhook.
    pub webhook_id: Uuid,
    /// The event delivered: also the `webhook-id` header of every attempt.
    pub event_id: Uuid,
    /// The event's kind.
    pub event_type: EventType,
    /// The event's number in the organisation's sequence.
    pub seq: i64,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it is attempted next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered or given up.
    pub finished_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    pub attempts: Vec<WebhookAttempt>,
}

/// What a list of deliveries asks for.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// The page.
    pub page: PageParams,
}

fn attempt_from_row(a: webhook_attempt::Model) -> WebhookAttempt {
    WebhookAttempt {
        attempted_at: a.attempted_at,
        outcome: *a.outcome,
        status_code: a.status_code.and_then(|s| u16::try_from(s).ok()),
        latency_ms: a.latency_ms,
        error: a.error,
    }
}

fn delivery_from_row(
    d: webhook_delivery::Model,
    attempts: &mut Vec<webhook_attempt::Model>,
) -> WebhookDelivery {
    let status = *d.status;
    let mine: Vec<WebhookAttempt> = attempts
        .extract_if(.., |a| a.delivery_id == d.id)
        .map(attempt_from_row)
        .collect();
    WebhookDelivery {
        id: d.id,
        webhook_id: d.webhook_id,
        event_id: d.event_id,
        event_type: *d.event_type,
        seq: d.seq,
        status,
        created_at: d.created_at,
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
        finished_at: d.finished_at,
        attempts: mine,
    }
}

impl App {
    /// A webhook's deliveries, oldest first, each with its attempts (`org_admin`).
    pub async fn list_webhook_deliveries(
        &self,
        actor: &Actor,
        webhook: Uuid,
        query: &DeliveryQuery,
    ) -> Result<Page<WebhookDelivery>> {
        let db = self.db().read();
        store::get(db, actor.org_id, webhook)
            .await?
            .ok_or(Error::NotFound("webhook"))?;
        actor.require(Action::WebhookManage, Scope::Anywhere)?;
        let rows =
            store::list_deliveries(db, actor.org_id, webhook, query.status, query.page.parse()?)
                .await?;
        let ids: Vec<Uuid> = rows.items.iter().map(|d| d.id).collect();
        let mut attempts = store::attempts_of(db, &ids).await?;
        let next_cursor = rows.next_after;
        let items = rows
            .items
            .into_iter()
            .map(|d| delivery_from_row(d, &mut attempts))
            .collect();
        Ok(Page::from_store(
            skinledger_store::Page {
                items,
                next_after: next_cursor,
            },
            |d| d,
        ))
    }

    /// Attempts a delivery again now (`org_admin`): a delivered or given-up one is queued
    /// again, with a new retry window, in its place in the endpoint's order; a pending one is
    /// attempted without waiting for its backoff.
    pub async fn retry_webhook_delivery(
        &self,
        actor: &Actor,
        webhook: Uuid,
        delivery: Uuid,
    ) -> Result<WebhookDelivery> {
        let subject = Subject::new("webhook", Some(webhook));
        self.audited(actor, "webhook.retry", subject, async move {
            store::get(self.db().read(), actor.org_id, webhook)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            actor.require(Action::WebhookManage, Scope::Anywhere)?;
            let txn = Txn::begin(self.db()).await?;
            store::get_for_update(&txn, actor.org_id, webhook)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            let row = store::get_delivery(&txn, actor.org_id, webhook, delivery)
                .await?
                .ok_or(Error::NotFound("delivery"))?;
            let now = Utc::now();
            // One pending delivery per event and endpoint: a retry of an event already queued
            // again brings that one forward.
            let target = if row.status == DeliveryStatus::Pending {
                row
            } else {
                match store::pending_delivery_of(&txn, webhook, row.event_id).await? {
                    Some(pending) => pending,
                    None => row,
                }
            };
            let mut active: webhook_delivery::ActiveModel = target.clone().into();
            active.next_attempt_at = Set(now);
            if target.status != DeliveryStatus::Pending {
                active.status = Set(DeliveryStatus::Pending.into());
                active.first_attempt_at = Set(None);
                active.finished_at = Set(None);
                active.leased_until = Set(None);
                active.lease_token = Set(None);
            }
            let updated = store::update_delivery(&txn, active).await?;
            txn.audit(
                AuditEvent::by(actor, "webhook.retry", "webhook", Some(webhook)).detail(
                    serde_json::json!({ "delivery_id": updated.id, "event_id": updated.event_id }),
                ),
            );
            let mut attempts = store::attempts_of(&txn, &[updated.id]).await?;
            txn.commit().await?;
            Ok(delivery_from_row(updated, &mut attempts))
        })
        .await
    }

    /// Delivers again, in order, every event after a feed cursor (`org_admin`): the webhook's
    /// cursor moves back there, and its events are queued again (those still pending are not
    /// queued twice). Each carries its event's id as `webhook-id`, as the first time. A cursor
    /// older than the events kept answers 410 `cursor_expired`.
    pub async fn replay_webhook(
        &self,
        actor: &Actor,
        webhook: Uuid,
        replay: WebhookReplay,
    ) -> Result<Webhook> {
        let subject = Subject::new("webhook", Some(webhook));
        self.audited(actor, "webhook.replay", subject, async move {
            store::get(self.db().read(), actor.org_id, webhook)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            actor.require(Action::WebhookManage, Scope::Anywhere)?;
            let after = crate::events::parse_cursor(Some(&replay.after))?;
            let txn = Txn::begin(self.db()).await?;
            let row = store::get_for_update(&txn, actor.org_id, webhook)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            if after > row.cursor {
                return Err(Error::invalid(
                    "after",
                    format!(
                        "is after the webhook's cursor {}: nothing there was queued yet",
                        row.cursor
                    ),
                ));
            }
            if let Some(sequence) = event_store::sequence(&txn, actor.org_id).await?
                && after < sequence.purged_through
            {
                return Err(Error::Gone {
                    code: ErrorCode::CursorExpired,
                    detail: "events after this cursor are no longer kept; replay from a newer \
                             cursor"
                        .into(),
                });
            }
            let previous = row.cursor;
            store::set_cursor(&txn, webhook, after).await?;
            txn.audit(
                AuditEvent::by(actor, "webhook.replay", "webhook", Some(webhook))
                    .detail(serde_json::json!({ "after": after, "cursor_was": previous })),
            );
            let row = store::get(&txn, actor.org_id, webhook)
                .await?
                .ok_or(Error::NotFound("webhook"))?;
            txn.commit().await?;
            Ok(from_row(row, None))
        })
        .await
    }
}
