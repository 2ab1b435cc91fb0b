//! `skinledger.v1.ReportService`: low stock, expiring lots, usage and disposals.

use skinledger_app::disposals::DisposalLine;
use skinledger_app::reports::{ExpiringLine, LowStockLine, ReportPeriod, UsageLine};
use skinledger_app::{App, Error};
use skinledger_domain::ValidationErrors;
use tonic::{Request, Response, Status};

use super::pb::report_service_server::ReportService;
use super::pb::*;
use super::{caller, date, field_id, invalid, parse_date, pb, status};

/// The report service.
#[derive(Debug, Clone)]
pub struct ReportGrpc(pub App);

fn low_stock_line(l: LowStockLine) -> pb::LowStockLine {
    pb::LowStockLine {
        clinic_id: l.clinic_id.to_string(),
        clinic_name: l.clinic_name,
        product_id: l.product_id.to_string(),
        product_name: l.product_name,
        kind: l.kind.as_str().to_owned(),
        on_hand: l.on_hand,
        reorder_point: l.reorder_point,
    }
}

fn expiring_line(l: ExpiringLine) -> pb::ExpiringLine {
    pb::ExpiringLine {
        clinic_id: l.clinic_id.to_string(),
        clinic_name: l.clinic_name,
        product_id: l.product_id.to_string(),
        product_name: l.product_name,
        lot_id: l.lot_id.to_string(),
        lot_number: l.lot_number,
        expiry: date(l.expiry),
        days_left: l.days_left,
        on_hand: l.on_hand,
    }
}

fn usage_line(l: UsageLine) -> pb::UsageLine {
    pb::UsageLine {
        clinic_id: l.clinic_id.to_string(),
        clinic_name: l.clinic_name,
        product_id: l.product_id.to_string(),
        product_name: l.product_name,
        units: l.units,
    }
}

fn disposal_line(l: DisposalLine) -> pb::DisposalLine {
    pb::DisposalLine {
        clinic_id: l.clinic_id.to_string(),
        clinic_name: l.clinic_name,
        day: date(l.day),
        actor_kind: l.actor_kind,
        actor_id: l.actor_id.to_string(),
        actor_name: l.actor_name,
        disposals: l.disposals,
        reasons: Some(DisposalCounts {
            dropped: l.reasons.dropped,
            contaminated: l.reasons.contaminated,
            packaging_damaged: l.reasons.packaging_damaged,
        }),
    }
}

/// The period of a report, every malformed field named.
fn period(from: &str, to: &str, clinic_id: Option<&str>) -> Result<ReportPeriod, Status> {
    let mut errors = ValidationErrors::new();
    let from = parse_date(&mut errors, "from", from);
    let to = parse_date(&mut errors, "to", to);
    let clinic_id = clinic_id.and_then(|c| field_id(&mut errors, "clinic_id", c));
    invalid(errors)?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(status(Error::Internal(
            "validated report period missing".into(),
        )));
    };
    Ok(ReportPeriod {
        from,
        to,
        clinic_id,
    })
}

#[tonic::async_trait]
impl ReportService for ReportGrpc {
    async fn low_stock(
        &self,
        request: Request<LowStockRequest>,
    ) -> Result<Response<LowStockResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let lines = self.0.low_stock_report(&actor).await.map_err(status)?;
        Ok(Response::new(LowStockResponse {
            items: lines.into_iter().map(low_stock_line).collect(),
        }))
    }

    async fn expiring(
        &self,
        request: Request<ExpiringRequest>,
    ) -> Result<Response<ExpiringResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let days = request.get_ref().within_days;
        let lines = self.0.expiring_report(&actor, days).await.map_err(status)?;
        Ok(Response::new(ExpiringResponse {
            items: lines.into_iter().map(expiring_line).collect(),
        }))
    }

    async fn usage(
        &self,
        request: Request<UsageRequest>,
    ) -> Result<Response<UsageResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let query = period(&r.from, &r.to, r.clinic_id.as_deref())?;
        let lines = self.0.usage_report(&actor, &query).await.map_err(status)?;
        Ok(Response::new(UsageResponse {
            items: lines.into_iter().map(usage_line).collect(),
        }))
    }

    async fn disposals(
        &self,
        request: Request<DisposalsRequest>,
    ) -> Result<Response<DisposalsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let query = period(&r.from, &r.to, r.clinic_id.as_deref())?;
        let lines = self
            .0
            .disposal_report(&actor, &query)
            .await
            .map_err(status)?;
        Ok(Response::new(DisposalsResponse {
            items: lines.into_iter().map(disposal_line).collect(),
        }))
    }
}
