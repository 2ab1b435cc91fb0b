//! `skinledger.v1.AuditService`.

use skinledger_app::App;
use tonic::{Request, Response, Status};

use super::pb::audit_service_server::AuditService;
use super::pb::{
    AuditHead, AuditVerification, GetAuditHeadRequest, ListAuditEventsRequest,
    ListAuditEventsResponse, VerifyAuditChainRequest,
};
use super::wire::audit::{anchor, audit_query};
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

    async fn get_audit_head(
        &self,
        request: Request<GetAuditHeadRequest>,
    ) -> Result<Response<AuditHead>, Status> {
        let actor = caller(&self.0, &request).await?;
        let head = self.0.audit_head(&actor).await.map_err(status)?;
        Ok(Response::new(head.into()))
    }

    async fn verify_audit_chain(
        &self,
        request: Request<VerifyAuditChainRequest>,
    ) -> Result<Response<AuditVerification>, Status> {
        let actor = caller(&self.0, &request).await?;
        let anchor = checked(anchor(request.into_inner()))?;
        let verdict = self
            .0
            .verify_audit_chain(&actor, anchor)
            .await
            .map_err(status)?;
        Ok(Response::new(verdict.into()))
    }
}
