//! Webhooks.

use skinledger_app::Page;
use skinledger_app::webhooks::{
    DeliveryQuery, NewWebhook, Webhook, WebhookAttempt, WebhookChanges, WebhookDelivery,
};
use skinledger_domain::ValidationErrors;
use skinledger_domain::events::EventType;

use crate::grpc::{page, parse_all, pb, time};

fn type_names(types: Vec<EventType>) -> Vec<String> {
    types.into_iter().map(|t| t.as_str().to_owned()).collect()
}

impl From<Webhook> for pb::Webhook {
    fn from(w: Webhook) -> Self {
        let Webhook {
            id,
            url,
            description,
            event_types,
            enabled,
            disabled_at,
            disabled_reason,
            cursor,
            secret,
            created_at,
            updated_at,
        } = w;
        pb::Webhook {
            id: id.to_string(),
            url,
            description,
            event_types: type_names(event_types),
            enabled,
            disabled_at: disabled_at.map(time),
            disabled_reason,
            cursor,
            secret,
            created_at: time(created_at),
            updated_at: time(updated_at),
        }
    }
}

impl From<Page<Webhook>> for pb::ListWebhooksResponse {
    fn from(page: Page<Webhook>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListWebhooksResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl From<WebhookAttempt> for pb::WebhookAttempt {
    fn from(a: WebhookAttempt) -> Self {
        let WebhookAttempt {
            attempted_at,
            outcome,
            status_code,
            latency_ms,
            error,
        } = a;
        pb::WebhookAttempt {
            attempted_at: time(attempted_at),
            outcome: outcome.as_str().to_owned(),
            status_code: status_code.map(u32::from),
            latency_ms,
            error,
        }
    }
}

impl From<WebhookDelivery> for pb::WebhookDelivery {
    fn from(d: WebhookDelivery) -> Self {
        let WebhookDelivery {
            id,
            webhook_id,
            event_id,
            event_type,
            seq,
            status,
            created_at,
            next_attempt_at,
            finished_at,
            attempts,
        } = d;
        pb::WebhookDelivery {
            id: id.to_string(),
            webhook_id: webhook_id.to_string(),
            event_id: event_id.to_string(),
            event_type: event_type.as_str().to_owned(),
            seq,
            status: status.as_str().to_owned(),
            created_at: time(created_at),
            next_attempt_at: next_attempt_at.map(time),
            finished_at: finished_at.map(time),
            attempts: attempts.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Page<WebhookDelivery>> for pb::ListWebhookDeliveriesResponse {
    fn from(page: Page<WebhookDelivery>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListWebhookDeliveriesResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::CreateWebhookRequest> for NewWebhook {
    type Error = ValidationErrors;

    fn try_from(r: pb::CreateWebhookRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateWebhookRequest {
            url,
            event_types,
            description,
        } = r;
        let mut errors = ValidationErrors::new();
        let event_types = parse_all(&mut errors, "event_types", &event_types);
        errors.into_result()?;
        Ok(NewWebhook {
            url,
            event_types,
            description,
        })
    }
}

/// The changes of an update request (its `id` is read by the service).
pub fn webhook_changes(r: pb::UpdateWebhookRequest) -> Result<WebhookChanges, ValidationErrors> {
    let pb::UpdateWebhookRequest {
        id: _,
        url,
        event_types,
        description,
        enabled,
    } = r;
    let mut errors = ValidationErrors::new();
    let event_types = event_types.map(|list| parse_all(&mut errors, "event_types", &list.values));
    errors.into_result()?;
    Ok(WebhookChanges {
        url,
        event_types,
        description,
        enabled,
    })
}

/// The query of a deliveries request (its `webhook_id` is read by the service).
pub fn delivery_query(
    r: pb::ListWebhookDeliveriesRequest,
) -> Result<DeliveryQuery, ValidationErrors> {
    let pb::ListWebhookDeliveriesRequest {
        webhook_id: _,
        status,
        limit,
        cursor,
    } = r;
    let mut errors = ValidationErrors::new();
    let status = status.and_then(|s| errors.check("status", s.parse()));
    errors.into_result()?;
    Ok(DeliveryQuery {
        status,
        page: page(limit, cursor),
    })
}
