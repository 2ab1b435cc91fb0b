//! `skinledger.v1.ReportService`: low stock, expiring lots, usage and disposals.

use skinledger_app::App;
use skinledger_app::reports::ReportPeriod;
use tonic::{Request, Response, Status};

use super::pb::report_service_server::ReportService;
use super::pb::*;
use super::{caller, checked, status};

/// The report service.
#[derive(Debug, Clone)]
pub struct ReportGrpc(pub App);

#[tonic::async_trait]
impl ReportService for ReportGrpc {
    async fn low_stock(
        &self,
        request: Request<LowStockRequest>,
    ) -> Result<Response<LowStockResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let LowStockRequest {} = request.get_ref();
        let lines = self.0.low_stock_report(&actor).await.map_err(status)?;
        Ok(Response::new(lines.into()))
    }

    async fn expiring(
        &self,
        request: Request<ExpiringRequest>,
    ) -> Result<Response<ExpiringResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ExpiringRequest { within_days } = request.get_ref();
        let lines = self
            .0
            .expiring_report(&actor, *within_days)
            .await
            .map_err(status)?;
        Ok(Response::new(lines.into()))
    }

    async fn usage(
        &self,
        request: Request<UsageRequest>,
    ) -> Result<Response<UsageResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let query = checked(ReportPeriod::try_from(request.into_inner()))?;
        let lines = self.0.usage_report(&actor, &query).await.map_err(status)?;
        Ok(Response::new(lines.into()))
    }

    async fn disposals(
        &self,
        request: Request<DisposalsRequest>,
    ) -> Result<Response<DisposalsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let query = checked(ReportPeriod::try_from(request.into_inner()))?;
        let lines = self
            .0
            .disposal_report(&actor, &query)
            .await
            .map_err(status)?;
        Ok(Response::new(lines.into()))
    }
}
