//! Delivering webhooks: queuing each new event for the endpoints that want it, and attempting
//! due deliveries, from every replica at once.
//!
//! - **Queuing.** Each enabled webhook has a cursor on its organisation's event sequence. A
//!   worker locks the webhook (skipping one another worker holds), reads the events after the
//!   cursor, queues a delivery for each of the kinds the webhook wants, and moves the cursor, in
//!   one transaction: an event is queued once, and none is skipped.
//! - **Claiming.** A delivery is due when it is pending, its time has come, no lease on it
//!   runs, and it is the oldest pending delivery of its webhook: so an endpoint's events are
//!   attempted one at a time, in sequence order (the next is not attempted before the previous
//!   one was delivered or given up). A worker claims due deliveries with `FOR UPDATE SKIP
//!   LOCKED` (PostgreSQL; SQLite's one writer serialises claims) and leases them under a token
//!   for longer than a request may take. A replica that dies leaves its leases to run out;
//!   then its deliveries are due again.
//! - **Recording.** The attempt is recorded under the lease's token (a worker whose lease ran
//!   out records nothing). A failure is retried after a growing, jittered delay until the
//!   retry window after the first attempt has passed; then the delivery is given up, and its
//!   webhook disabled with a `webhook.disabled` event.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use rand::Rng;
use sea_orm::Set;
use serde::Serialize;
use skinledger_domain::events::EventType;
use skinledger_store::entities::{webhook, webhook_attempt, webhook_delivery};
use skinledger_store::events as event_store;
use skinledger_store::webhooks as store;
use uuid::Uuid;

use super::outbound::{AttemptOutcome, Outbound, Sent};
use super::{DeliveryStatus, signing};
use crate::audit::{ActorKind, AuditEvent, AuditOutcome};
use crate::events::{Change, Event};
use crate::txn::Txn;
use crate::{App, Error, Result};

/// Deliveries made, by how they ended: `delivered` or `given_up`.
pub const DELIVERIES: &str = "skinledger_webhook_deliveries_total";
/// Requests made, by outcome.
pub const ATTEMPTS: &str = "skinledger_webhook_attempts_total";
/// From an event to its delivery, in seconds.
pub const DELIVERY_LAG: &str = "skinledger_webhook_delivery_lag_seconds";
/// The age of each webhook's oldest undelivered event, in seconds.
pub const OLDEST_UNDELIVERED: &str = "skinledger_webhook_oldest_undelivered_seconds";

/// Gives the webhook metrics their `# HELP` (once a recorder is installed).
pub fn describe_metrics() {
    metrics::describe_counter!(
        DELIVERIES,
        "Webhook deliveries finished, by outcome: delivered, or given_up after the retry window"
    );
    metrics::describe_counter!(
        ATTEMPTS,
        "Webhook requests made, by outcome: success, http_error, timeout, connection_error, \
         address_refused, not_sent"
    );
    metrics::describe_histogram!(
        DELIVERY_LAG,
        metrics::Unit::Seconds,
        "Time from an event to its successful webhook delivery"
    );
    metrics::describe_gauge!(
        OLDEST_UNDELIVERED,
        metrics::Unit::Seconds,
        "Age of the oldest delivery still pending, by webhook (0 when none is)"
    );
}

/// How often an idle worker looks for work.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// Events read per look when queuing.
const QUEUE_BATCH: u64 = 500;
/// Deliveries claimed per look (each of another webhook).
const CLAIM_BATCH: u64 = 16;

/// The retry delays, as multiples of the base: 5 s, 30 s, 2 min, 10 min, 30 min, then hourly
/// with the default base of 5 s.
const BACKOFF: [u32; 6] = [1, 6, 24, 120, 360, 720];

/// The body of a delivery, as the Standard Webhooks specification recommends: the event's
/// type, its time, and the event itself as the feed shows it.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    event_type: EventType,
    timestamp: DateTime<Utc>,
    data: &'a Event,
}

/// The body sent for an event.
pub(crate) fn payload(event: &Event) -> Result<String> {
    serde_json::to_string(&Payload {
        event_type: event.event_type,
        timestamp: event.occurred_at,
        data: event,
    })
    .map_err(|e| Error::Internal(format!("webhook payload: {e}")))
}

/// The delay before attempt `made + 1`, `made` attempts having failed, with ±20 % jitter.
fn backoff(base: Duration, made: i32) -> Duration {
    let step = usize::try_from(made.max(1) - 1)
        .unwrap_or(0)
        .min(BACKOFF.len() - 1);
    let jitter: f64 = rand::rng().random_range(0.8..1.2);
    base.mul_f64(f64::from(BACKOFF[step]) * jitter)
}

/// Delivers webhooks until told to stop. Run one in every replica.
#[derive(Debug, Clone)]
pub struct WebhookWorker {
    app: App,
}

impl App {
    /// A worker delivering this server's webhooks.
    pub fn webhook_worker(&self) -> WebhookWorker {
        WebhookWorker { app: self.clone() }
    }

    pub(crate) fn outbound(&self) -> &Outbound {
        &self.inner.outbound
    }
}

impl WebhookWorker {
    /// Queues and delivers until `shutdown` completes; an attempt under way is finished first.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut failing = false;
        loop {
            let busy = match self.pass().await {
                Ok(n) => {
                    if failing {
                        tracing::info!("webhook deliveries resumed");
                    }
                    failing = false;
                    n > 0
                }
                Err(e) => {
                    // Once per spell of failures, with what the database said.
                    if !failing {
                        tracing::warn!(error = ?e, "webhook deliveries failed; trying again");
                    }
                    failing = true;
                    false
                }
            };
            let pause = if busy { Duration::ZERO } else { POLL_EVERY };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One round: queues new events, then claims due deliveries and attempts them together.
    /// Answers how many were attempted.
    pub async fn pass(&self) -> Result<usize> {
        self.queue_new_events().await?;
        let token = Uuid::now_v7();
        let claimed = self.claim(token).await?;
        let count = claimed.len();
        let attempts = claimed.into_iter().map(|d| self.attempt(d, token));
        for result in join_all(attempts).await {
            if let Err(e) = result {
                tracing::warn!(error = %e, "a webhook delivery could not be recorded");
            }
        }
        Ok(count)
    }

    /// Queues a delivery of each event after each enabled webhook's cursor; answers how many.
    pub async fn queue_new_events(&self) -> Result<usize> {
        let app = &self.app;
        let hooks = store::enabled(app.db().read()).await?;
        let mut last_seq = std::collections::HashMap::new();
        let mut queued = 0;
        for hook in hooks {
            let last = match last_seq.get(&hook.organization_id) {
                Some(last) => *last,
                None => {
                    let last = event_store::sequence(app.db().read(), hook.organization_id)
                        .await?
                        .map_or(0, |s| s.last_seq);
                    last_seq.insert(hook.organization_id, last);
                    last
                }
            };
            if hook.cursor >= last {
                continue;
            }
            queued += self.queue_for(hook.id).await?;
        }
        Ok(queued)
    }

    /// Queues the events after one webhook's cursor, a batch at a time.
    async fn queue_for(&self, id: Uuid) -> Result<usize> {
        let mut queued = 0;
        loop {
            let txn = Txn::begin(self.app.db()).await?;
            let Some(hook) = store::lock_enabled_unless_busy(&txn, id).await? else {
                return Ok(queued);
            };
            let events =
                event_store::after(&txn, hook.organization_id, hook.cursor, QUEUE_BATCH).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(queued);
            };
            let full = events.len() as u64 == QUEUE_BATCH;
            let wanted = &hook.event_types;
            let events: Vec<Event> = events
                .into_iter()
                .map(Event::from_row)
                .filter(|e| wanted.is_empty() || wanted.contains(&e.event_type))
                .collect();
            let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
            let pending = store::pending_events(&txn, hook.id, &ids).await?;
            let now = Utc::now();
            let mut rows = Vec::new();
            for event in events.iter().filter(|e| !pending.contains(&e.id)) {
                rows.push(webhook_delivery::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(hook.organization_id),
                    webhook_id: Set(hook.id),
                    event_id: Set(event.id),
                    seq: Set(event.seq),
                    event_type: Set(event.event_type.into()),
                    payload: Set(payload(event)?),
                    status: Set(DeliveryStatus::Pending.into()),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    first_attempt_at: Set(None),
                    leased_until: Set(None),
                    lease_token: Set(None),
                    created_at: Set(now),
                    finished_at: Set(None),
                });
            }
            queued += rows.len();
            store::insert_deliveries(&txn, rows).await?;
            store::set_cursor(&txn, hook.id, last).await?;
            txn.commit().await?;
            if !full {
                return Ok(queued);
            }
        }
    }

    /// How long a claim holds: past the request timeout, with room to record the outcome.
    fn lease(&self) -> Duration {
        self.app.settings().webhooks.timeout * 2 + Duration::from_secs(5)
    }

    /// Claims due deliveries under `token`.
    async fn claim(&self, token: Uuid) -> Result<Vec<webhook_delivery::Model>> {
        let txn = Txn::begin(self.app.db()).await?;
        let now = Utc::now();
        let due = store::claim_due(&txn, now, CLAIM_BATCH).await?;
        if due.is_empty() {
            txn.commit().await?;
            return Ok(due);
        }
        let until = now
            + chrono::Duration::from_std(self.lease())
                .map_err(|e| Error::Internal(format!("lease: {e}")))?;
        let ids: Vec<Uuid> = due.iter().map(|d| d.id).collect();
        store::lease(&txn, &ids, until, token).await?;
        txn.commit().await?;
        Ok(due)
    }

    /// Makes one attempt of a claimed delivery and records it.
    async fn attempt(&self, delivery: webhook_delivery::Model, token: Uuid) -> Result<()> {
        let app = &self.app;
        let Some(hook) = store::get(
            app.db().read(),
            delivery.organization_id,
            delivery.webhook_id,
        )
        .await?
        else {
            return Ok(());
        };
        let attempted_at = Utc::now();
        let sent = match signing::unseal(&hook.secret_sealed, &app.settings().signing_key) {
            None => Sent::failed(
                AttemptOutcome::NotSent,
                "the webhook's secret cannot be read with this server's signing key; create the \
                 webhook again",
            ),
            Some(secret) => match super::outbound::parse_url(&hook.url) {
                Err(refusal) => Sent::failed(AttemptOutcome::NotSent, refusal),
                Ok(url) => {
                    let id = delivery.event_id.to_string();
                    let timestamp = attempted_at.timestamp();
                    let signature =
                        signing::signature(&secret, &id, timestamp, delivery.payload.as_bytes());
                    let headers = vec![
                        ("webhook-id", id),
                        ("webhook-timestamp", timestamp.to_string()),
                        ("webhook-signature", signature),
                    ];
                    app.outbound()
                        .post(&url, headers, delivery.payload.clone())
                        .await
                }
            },
        };
        metrics::counter!(ATTEMPTS, "outcome" => sent.outcome.as_str()).increment(1);
        if sent.outcome != AttemptOutcome::Success {
            tracing::info!(
                webhook = %hook.id,
                delivery = %delivery.id,
                outcome = sent.outcome.as_str(),
                status = sent.status,
                error = sent.error.as_deref().unwrap_or_default(),
                "webhook attempt failed"
            );
        }
        self.record(hook, delivery, token, attempted_at, sent).await
    }

    /// Records an attempt, and what follows from it, while the lease still holds.
    async fn record(
        &self,
        hook: webhook::Model,
        delivery: webhook_delivery::Model,
        token: Uuid,
        attempted_at: DateTime<Utc>,
        sent: Sent,
    ) -> Result<()> {
        let settings = &self.app.settings().webhooks;
        let txn = Txn::begin(self.app.db()).await?;
        // The webhook first, as every writer of its queue locks it.
        let Some(hook) = store::get_for_update(&txn, hook.organization_id, hook.id).await? else {
            return Ok(());
        };
        let Some(row) = store::leased(&txn, delivery.id, token).await? else {
            // The lease ran out and another worker took the delivery over.
            return Ok(());
        };
        let now = Utc::now();
        store::insert_attempt(
            &txn,
            webhook_attempt::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(row.organization_id),
                delivery_id: Set(row.id),
                attempted_at: Set(attempted_at),
                outcome: Set(sent.outcome.into()),
                status_code: Set(sent.status.map(i32::from)),
                latency_ms: Set(i64::try_from(sent.latency.as_millis()).unwrap_or(i64::MAX)),
                error: Set(sent.error.clone()),
            },
        )
        .await?;
        let first = row.first_attempt_at.unwrap_or(attempted_at);
        let made = row.attempts.saturating_add(1);
        let mut active: webhook_delivery::ActiveModel = row.clone().into();
        active.attempts = Set(made);
        active.first_attempt_at = Set(Some(first));
        active.leased_until = Set(None);
        active.lease_token = Set(None);
        let window = chrono::Duration::from_std(settings.retry_window)
            .map_err(|e| Error::Internal(format!("retry window: {e}")))?;
        let mut disabled = false;
        if sent.outcome == AttemptOutcome::Success {
            active.status = Set(DeliveryStatus::Delivered.into());
            active.finished_at = Set(Some(now));
            metrics::counter!(DELIVERIES, "outcome" => "delivered").increment(1);
            if let Some(occurred) = occurred_at(&row.payload) {
                metrics::histogram!(DELIVERY_LAG)
                    .record((now - occurred).to_std().unwrap_or_default().as_secs_f64());
            }
        } else if now - first >= window {
            active.status = Set(DeliveryStatus::Failed.into());
            active.finished_at = Set(Some(now));
            metrics::counter!(DELIVERIES, "outcome" => "given_up").increment(1);
            disabled = hook.enabled;
        } else {
            let delay = chrono::Duration::from_std(backoff(settings.retry_base, made))
                .map_err(|e| Error::Internal(format!("backoff: {e}")))?;
            active.next_attempt_at = Set((now + delay).min(first + window));
        }
        store::update_delivery(&txn, active).await?;
        if disabled {
            let reason = format!(
                "every attempt to deliver event {} failed for {} since {}; last: {}",
                row.event_id,
                humanised(settings.retry_window),
                first.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                sent.error
                    .clone()
                    .or_else(|| sent.status.map(|s| format!("HTTP {s}")))
                    .unwrap_or_else(|| sent.outcome.as_str().to_owned()),
            );
            let mut active: webhook::ActiveModel = hook.clone().into();
            active.enabled = Set(false);
            active.disabled_at = Set(Some(now));
            active.disabled_reason = Set(Some(reason));
            active.updated_at = Set(now);
            store::update(&txn, active).await?;
            txn.audit(AuditEvent {
                org_id: hook.organization_id,
                actor_kind: ActorKind::System,
                actor_id: None,
                action: "webhook.disable",
                entity_kind: "webhook",
                entity_id: Some(hook.id),
                client_id: None,
                outcome: AuditOutcome::Success,
                detail: Some(serde_json::json!({
                    "delivery_id": row.id,
                    "event_id": row.event_id,
                    "attempts": made,
                })),
                request_id: None,
            });
            txn.publish(
                hook.organization_id,
                vec![Change::new(EventType::WebhookDisabled).subject(hook.id)],
            );
            tracing::warn!(webhook = %hook.id, "webhook disabled after failing for the whole retry window");
        }
        txn.commit().await?;
        Ok(())
    }
}

/// The event's time, from a delivery's body.
fn occurred_at(payload: &str) -> Option<DateTime<Utc>> {
    #[derive(serde::Deserialize)]
    struct Stamp {
        timestamp: DateTime<Utc>,
    }
    serde_json::from_str::<Stamp>(payload)
        .ok()
        .map(|s| s.timestamp)
}

/// A duration as people say it: `24 h`, `90 s`.
fn humanised(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 && secs.is_multiple_of(3600) {
        format!("{} h", secs / 3600)
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl App {
    /// Sets the gauge of each webhook's oldest undelivered event (0 when none is pending), and
    /// zeroes the gauges of webhooks gone since the last call.
    pub async fn observe_webhook_backlog(&self) -> Result<()> {
        use std::collections::BTreeSet;
        use std::sync::Mutex;
        static SEEN: Mutex<BTreeSet<Uuid>> = Mutex::new(BTreeSet::new());
        let db = self.db().read();
        let hooks = store::all(db).await?;
        let oldest: std::collections::HashMap<Uuid, Option<DateTime<Utc>>> =
            store::oldest_pending(db).await?.into_iter().collect();
        let now = Utc::now();
        let mut present = BTreeSet::new();
        for hook in &hooks {
            let age = oldest.get(&hook.id).copied().flatten().map_or(0.0, |t| {
                (now - t).to_std().unwrap_or_default().as_secs_f64()
            });
            metrics::gauge!(OLDEST_UNDELIVERED, "webhook" => hook.id.to_string()).set(age);
            present.insert(hook.id);
        }
        if let Ok(mut seen) = SEEN.lock() {
            for gone in seen.difference(&present) {
                metrics::gauge!(OLDEST_UNDELIVERED, "webhook" => gone.to_string()).set(0.0);
            }
            *seen = present;
        }
        Ok(())
    }

    /// Deletes finished deliveries older than the event retention, with their attempts;
    /// answers how many.
    pub async fn purge_webhook_deliveries(&self) -> Result<u64> {
        let retention = chrono::Duration::from_std(self.settings().event_retention)
            .map_err(|e| Error::Internal(format!("event retention: {e}")))?;
        let txn = Txn::begin(self.db()).await?;
        let purged = store::purge_finished(&txn, Utc::now() - retention).await?;
        txn.commit().await?;
        Ok(purged)
    }
}

/// Shared outbound sender, built once per app.
pub(crate) fn outbound(settings: &super::WebhookSettings) -> Arc<Outbound> {
    Arc::new(Outbound::new(settings.policy(), settings.timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_with_jitter() {
        let base = Duration::from_secs(5);
        for (made, nominal) in [
            (1, 5),
            (2, 30),
            (3, 120),
            (4, 600),
            (5, 1800),
            (6, 3600),
            (9, 3600),
        ] {
            let delay = backoff(base, made).as_secs_f64();
            let nominal = f64::from(nominal);
            assert!(
                (nominal * 0.8..=nominal * 1.2).contains(&delay),
                "after {made} attempts: {delay} s, expected about {nominal} s"
            );
        }
    }
}
