//! `skinledger.v1.AuditService`.

use skinledger_app::App;
use tonic::{Request, Response, Status};

use super::pb::audit_service_server::AuditService;
use super::pb::{ListAuditEventsRequest, ListAuditEventsResponse};
use super::wire::audit::audit_query;
use super::{caller, checked, status};

/// The audit service.
#[derive(Debug, Clone)]
pub struct AuditGrpc(pub App);

#[tonic::async_trait]
impl AuditService for AuditGrpc {
    async fn list_audit_events(
        &self,
        request: Request<ListAuditEventsRequest>,
    ) -> Result<Response<ListAuditEventsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let (filter, page) = checked(audit_query(request.into_inner()))?;
        let answer = self
            .0
            .list_audit_events(&actor, &filter, &page)
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }
}
