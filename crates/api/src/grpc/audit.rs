//! `skinledger.v1.AuditService`.

use skinledger_app::App;
use skinledger_app::audit::{AuditEntry, AuditFilter};
use skinledger_domain::ValidationErrors;
use tonic::{Request, Response, Status};

use super::pb::audit_service_server::AuditService;
use super::pb::{ListAuditEventsRequest, ListAuditEventsResponse};
use super::{caller, field_id, page, pb, status, time};

/// The audit service.
#[derive(Debug, Clone)]
pub struct AuditGrpc(pub App);

fn event(e: AuditEntry) -> pb::AuditEvent {
    pb::AuditEvent {
        id: e.id.to_string(),
        actor_kind: e.actor_kind,
        actor_id: e.actor_id.map(|i| i.to_string()),
        action: e.action,
        entity_kind: e.entity_kind,
        entity_id: e.entity_id.map(|i| i.to_string()),
        client_id: e.client_id.map(|i| i.to_string()),
        outcome: e.outcome,
        detail: e.detail.map(|d| d.0.to_string()),
        request_id: e.request_id,
        occurred_at: time(e.occurred_at),
    }
}

#[tonic::async_trait]
impl AuditService for AuditGrpc {
    async fn list_audit_events(
        &self,
        request: Request<ListAuditEventsRequest>,
    ) -> Result<Response<ListAuditEventsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let mut errors = ValidationErrors::new();
        let entity_id = r
            .entity_id
            .as_deref()
            .and_then(|id| field_id(&mut errors, "entity_id", id));
        let client_id = r
            .client_id
            .as_deref()
            .and_then(|id| field_id(&mut errors, "client_id", id));
        errors.into_result().map_err(|e| status(e.into()))?;
        let filter = AuditFilter {
            entity_id,
            client_id,
            action: r.action,
            outcome: r.outcome,
        };
        let answer = self
            .0
            .list_audit_events(&actor, &filter, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListAuditEventsResponse {
            items: answer.items.into_iter().map(event).collect(),
            next_cursor: answer.next_cursor,
        }))
    }
}
