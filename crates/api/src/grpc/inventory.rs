//! `skinledger.v1.InventoryService`: products, clinic stock, receipts, adjustments, disposals,
//! stocktakes, movements, transfers, lots, recalls and traces.

use skinledger_app::disposals::{Disposal, DisposalRequest};
use skinledger_app::lots::{Balance, ClinicBalance, Lot, LotDetail};
use skinledger_app::products::{
    ClinicReorderPoint, ClinicReorderPointChange, NewProduct, Product, ProductChanges, ProductQuery,
};
use skinledger_app::recalls::{LotTrace, Recall, RecallRequest, TraceEntry, trace_csv};
use skinledger_app::receipts::{Receipt, ReceiptRequest};
use skinledger_app::stock::{
    Adjustment, AdjustmentRequest, ClinicStock, LotStock, Movement, MovementQuery, ProductStock,
    StockCount, Stocktake, StocktakeRequest,
};
use skinledger_app::transfers::{
    NewTransfer, Transfer, TransferLine, TransferLineRequest, TransferQuery,
};
use skinledger_app::{App, Error};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::{LotNumber, Serial};
use tonic::{Request, Response, Status};

use super::pb::inventory_service_server::InventoryService;
use super::pb::*;
use super::{
    Write, caller, date, field_id, idempotency_key, invalid, page, parse_date, parse_depth,
    parse_time, pb, resource_id, status, time,
};
use crate::rest::lots::trace_filename;

/// The inventory service.
#[derive(Debug, Clone)]
pub struct InventoryGrpc(pub App);

/// A validated-fields-missing guard: unreachable once `invalid` passed, but never a panic.
fn missing() -> Status {
    status(Error::Internal("validated request fields missing".into()))
}

fn reorder_point(p: ClinicReorderPoint) -> pb::ClinicReorderPoint {
    pb::ClinicReorderPoint {
        clinic_id: p.clinic_id.to_string(),
        reorder_point: p.reorder_point,
    }
}

fn product(p: Product) -> pb::Product {
    pb::Product {
        id: p.id.to_string(),
        kind: p.kind.as_str().to_owned(),
        name: p.name,
        maker: p.maker,
        gtin: p.gtin,
        needle_length_mm: p.needle_length_mm.map(|d| d.mm()),
        needle_count: p.needle_count,
        max_depth_mm: p.max_depth_mm.map(|d| d.mm()),
        single_use: p.single_use,
        reorder_point: p.reorder_point,
        clinic_reorder_points: p
            .clinic_reorder_points
            .into_iter()
            .map(reorder_point)
            .collect(),
        version: p.version,
        created_at: time(p.created_at),
        updated_at: time(p.updated_at),
    }
}

fn balance(b: Balance) -> pb::Balance {
    pb::Balance {
        on_hand: b.on_hand,
        quarantined: b.quarantined,
        in_transit_out: b.in_transit_out,
    }
}

fn lot(l: Lot) -> pb::Lot {
    pb::Lot {
        id: l.id.to_string(),
        product_id: l.product_id.to_string(),
        lot_number: l.lot_number,
        expiry: date(l.expiry),
        status: l.status.as_str().to_owned(),
        recalled_at: l.recalled_at.map(time),
        recall_reason: l.recall_reason,
        created_at: time(l.created_at),
    }
}

fn lot_stock(l: LotStock) -> pb::LotStock {
    pb::LotStock {
        lot_id: l.lot_id.to_string(),
        lot_number: l.lot_number,
        expiry: date(l.expiry),
        status: l.status.as_str().to_owned(),
        expired: l.expired,
        on_hand: l.balance.on_hand,
        quarantined: l.balance.quarantined,
        in_transit_out: l.balance.in_transit_out,
    }
}

fn product_stock(p: ProductStock) -> pb::ProductStock {
    pb::ProductStock {
        product_id: p.product_id.to_string(),
        name: p.name,
        kind: p.kind.as_str().to_owned(),
        gtin: p.gtin,
        reorder_point: p.reorder_point,
        on_hand: p.total.on_hand,
        quarantined: p.total.quarantined,
        in_transit_out: p.total.in_transit_out,
        lots: p.lots.into_iter().map(lot_stock).collect(),
    }
}

fn clinic_stock(s: ClinicStock) -> pb::ClinicStock {
    pb::ClinicStock {
        clinic_id: s.clinic_id.to_string(),
        products: s.products.into_iter().map(product_stock).collect(),
    }
}

fn receipt(r: Receipt) -> pb::Receipt {
    pb::Receipt {
        movement_id: r.movement_id.to_string(),
        clinic_id: r.clinic_id.to_string(),
        product_id: r.product_id.to_string(),
        lot: Some(lot(r.lot)),
        quantity: r.quantity,
        serials: r.serials,
        reference: r.reference,
        balance: Some(balance(r.balance)),
        received_at: time(r.received_at),
    }
}

fn adjustment(a: Adjustment) -> pb::Adjustment {
    pb::Adjustment {
        movement_id: a.movement_id.to_string(),
        clinic_id: a.clinic_id.to_string(),
        lot_id: a.lot_id.to_string(),
        quantity: a.quantity,
        bucket: a.bucket,
        reason: a.reason.as_str().to_owned(),
        note: a.note,
        balance: Some(balance(a.balance)),
        created_at: time(a.created_at),
    }
}

fn disposal(d: Disposal) -> pb::Disposal {
    pb::Disposal {
        movement_id: d.movement_id.to_string(),
        clinic_id: d.clinic_id.to_string(),
        product_id: d.product_id.to_string(),
        lot_id: d.lot_id.to_string(),
        serial: d.serial,
        reason: d.reason.as_str().to_owned(),
        note: d.note,
        actor_kind: d.actor_kind,
        actor_id: d.actor_id.to_string(),
        balance: Some(balance(d.balance)),
        created_at: time(d.created_at),
    }
}

fn stocktake(s: Stocktake) -> pb::Stocktake {
    pb::Stocktake {
        clinic_id: s.clinic_id.to_string(),
        lots_counted: u64::try_from(s.lots_counted).unwrap_or(u64::MAX),
        adjustments: s.adjustments.into_iter().map(adjustment).collect(),
    }
}

fn movement(m: Movement) -> pb::Movement {
    pb::Movement {
        id: m.id.to_string(),
        clinic_id: m.clinic_id.to_string(),
        lot_id: m.lot_id.to_string(),
        kind: m.kind.as_str().to_owned(),
        quantity: m.quantity,
        quarantined_delta: m.quarantined_delta,
        in_transit_delta: m.in_transit_delta,
        reason: m.reason,
        note: m.note,
        actor_kind: m.actor_kind,
        actor_id: m.actor_id.map(|a| a.to_string()),
        treatment_id: m.treatment_id.map(|t| t.to_string()),
        transfer_id: m.transfer_id.map(|t| t.to_string()),
        reference: m.reference,
        created_at: time(m.created_at),
    }
}

fn transfer_line(l: TransferLine) -> pb::TransferLine {
    pb::TransferLine {
        lot_id: l.lot_id.to_string(),
        product_id: l.product_id.to_string(),
        lot_number: l.lot_number,
        expiry: date(l.expiry),
        quantity: l.quantity,
        serials: l.serials,
    }
}

fn transfer(t: Transfer) -> pb::Transfer {
    pb::Transfer {
        id: t.id.to_string(),
        from_clinic_id: t.from_clinic_id.to_string(),
        to_clinic_id: t.to_clinic_id.to_string(),
        status: t.status.as_str().to_owned(),
        lines: t.lines.into_iter().map(transfer_line).collect(),
        note: t.note,
        created_by: t.created_by.to_string(),
        created_at: time(t.created_at),
        received_by: t.received_by.map(|r| r.to_string()),
        received_at: t.received_at.map(time),
        cancelled_by: t.cancelled_by.map(|c| c.to_string()),
        cancelled_at: t.cancelled_at.map(time),
    }
}

fn clinic_balance(b: ClinicBalance) -> pb::ClinicBalance {
    pb::ClinicBalance {
        clinic_id: b.clinic_id.to_string(),
        on_hand: b.balance.on_hand,
        quarantined: b.balance.quarantined,
        in_transit_out: b.balance.in_transit_out,
    }
}

fn lot_detail(d: LotDetail) -> pb::LotDetail {
    pb::LotDetail {
        lot: Some(lot(d.lot)),
        product_name: d.product_name,
        gtin: d.gtin,
        stock: d.stock.into_iter().map(clinic_balance).collect(),
    }
}

fn recall(r: Recall) -> pb::Recall {
    pb::Recall {
        lot: Some(lot_detail(r.lot)),
        quarantined: r
            .quarantined
            .into_iter()
            .map(|q| QuarantinedUnits {
                clinic_id: q.clinic_id.to_string(),
                quantity: q.quantity,
            })
            .collect(),
    }
}

fn trace_entry(e: TraceEntry) -> pb::TraceEntry {
    pb::TraceEntry {
        treatment_id: e.treatment_id.to_string(),
        performed_at: time(e.performed_at),
        clinic_id: e.clinic_id.to_string(),
        clinic_name: e.clinic_name,
        client_id: e.client_id.to_string(),
        client_name: e.client_name,
        phone: e.phone,
        email: e.email,
        practitioner_id: e.practitioner_id.to_string(),
        practitioner_name: e.practitioner_name,
        serial: e.serial,
        quantity: e.quantity,
    }
}

fn lot_trace(t: LotTrace) -> pb::LotTrace {
    pb::LotTrace {
        lot: Some(lot(t.lot)),
        product_name: t.product_name,
        gtin: t.gtin,
        treatments: t.treatments.into_iter().map(trace_entry).collect(),
    }
}

/// Clinic reorder points as sent, each clinic id named `clinic_reorder_points[i].clinic_id`
/// when it is not a UUID.
fn reorder_point_changes(
    errors: &mut ValidationErrors,
    sent: Vec<pb::ClinicReorderPointChange>,
) -> Vec<ClinicReorderPointChange> {
    sent.into_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let field = format!("clinic_reorder_points[{i}].clinic_id");
            Some(ClinicReorderPointChange {
                clinic_id: field_id(errors, &field, &c.clinic_id)?,
                reorder_point: c.reorder_point,
            })
        })
        .collect()
}

fn new_product(r: CreateProductRequest, at: &Write<'_>) -> Result<NewProduct, Status> {
    let mut errors = ValidationErrors::new();
    let kind = errors.check("kind", r.kind.parse());
    let gtin = r.gtin.and_then(|g| errors.check("gtin", g.parse()));
    let needle_length_mm = r
        .needle_length_mm
        .and_then(|mm| parse_depth(&mut errors, "needle_length_mm", mm));
    let max_depth_mm = r
        .max_depth_mm
        .and_then(|mm| parse_depth(&mut errors, "max_depth_mm", mm));
    let clinic_reorder_points = reorder_point_changes(&mut errors, r.clinic_reorder_points);
    at.check(errors)?;
    Ok(NewProduct {
        kind: kind.ok_or_else(missing)?,
        name: r.name,
        maker: r.maker,
        gtin,
        needle_length_mm,
        needle_count: r.needle_count,
        max_depth_mm,
        single_use: r.single_use,
        reorder_point: r.reorder_point,
        clinic_reorder_points,
    })
}

fn product_changes(r: UpdateProductRequest, at: &Write<'_>) -> Result<ProductChanges, Status> {
    let mut errors = ValidationErrors::new();
    let gtin = r.gtin.and_then(|g| errors.check("gtin", g.parse()));
    let needle_length_mm = r
        .needle_length_mm
        .and_then(|mm| parse_depth(&mut errors, "needle_length_mm", mm));
    let max_depth_mm = r
        .max_depth_mm
        .and_then(|mm| parse_depth(&mut errors, "max_depth_mm", mm));
    let points = reorder_point_changes(&mut errors, r.clinic_reorder_points);
    at.check(errors)?;
    Ok(ProductChanges {
        name: r.name,
        maker: r.maker,
        gtin,
        needle_length_mm,
        needle_count: r.needle_count,
        max_depth_mm,
        single_use: r.single_use,
        reorder_point: r.reorder_point,
        // Repeated fields cannot be unset; an empty list changes no clinic, as `null` does.
        clinic_reorder_points: (!points.is_empty()).then_some(points),
    })
}

fn receipt_request(r: ReceiveStockRequest, at: &Write<'_>) -> Result<ReceiptRequest, Status> {
    let mut errors = ValidationErrors::new();
    let product_id = r
        .product_id
        .and_then(|p| field_id(&mut errors, "product_id", &p));
    let gtin = r.gtin.and_then(|g| errors.check("gtin", g.parse()));
    let lot_number = r
        .lot_number
        .and_then(|l| errors.check("lot_number", LotNumber::parse(&l)));
    let expiry = r.expiry.and_then(|d| parse_date(&mut errors, "expiry", &d));
    let serials = r
        .serials
        .iter()
        .enumerate()
        .filter_map(|(i, s)| errors.check(&format!("serials[{i}]"), Serial::parse(s)))
        .collect();
    let received_at = r
        .received_at
        .and_then(|t| parse_time(&mut errors, "received_at", &t));
    at.check(errors)?;
    Ok(ReceiptRequest {
        product_id,
        gtin,
        lot_number,
        expiry,
        quantity: r.quantity,
        serials,
        gs1: r.gs1,
        reference: r.reference,
        received_at,
    })
}

fn adjustment_request(r: AdjustStockRequest, at: &Write<'_>) -> Result<AdjustmentRequest, Status> {
    let mut errors = ValidationErrors::new();
    let lot_id = field_id(&mut errors, "lot_id", &r.lot_id);
    let reason = errors.check("reason", r.reason.parse());
    at.check(errors)?;
    Ok(AdjustmentRequest {
        lot_id: lot_id.ok_or_else(missing)?,
        quantity: r.quantity,
        reason: reason.ok_or_else(missing)?,
        note: r.note,
    })
}

fn disposal_request(r: RecordDisposalRequest, at: &Write<'_>) -> Result<DisposalRequest, Status> {
    let mut errors = ValidationErrors::new();
    let lot_id = field_id(&mut errors, "lot_id", &r.lot_id);
    let serial = r
        .serial
        .and_then(|s| errors.check("serial", Serial::parse(&s)));
    let reason = errors.check("reason", r.reason.parse());
    at.check(errors)?;
    Ok(DisposalRequest {
        lot_id: lot_id.ok_or_else(missing)?,
        serial,
        reason: reason.ok_or_else(missing)?,
        note: r.note,
    })
}

fn stocktake_request(
    r: RecordStocktakeRequest,
    at: &Write<'_>,
) -> Result<StocktakeRequest, Status> {
    let mut errors = ValidationErrors::new();
    let counts = r
        .counts
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            Some(StockCount {
                lot_id: field_id(&mut errors, &format!("counts[{i}].lot_id"), &c.lot_id)?,
                counted: c.counted,
            })
        })
        .collect();
    at.check(errors)?;
    Ok(StocktakeRequest {
        counts,
        note: r.note,
    })
}

fn new_transfer(r: SendTransferRequest, at: &Write<'_>) -> Result<NewTransfer, Status> {
    let mut errors = ValidationErrors::new();
    let from_clinic_id = field_id(&mut errors, "from_clinic_id", &r.from_clinic_id);
    let to_clinic_id = field_id(&mut errors, "to_clinic_id", &r.to_clinic_id);
    let lines = r
        .lines
        .into_iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let serials = l
                .serials
                .iter()
                .enumerate()
                .filter_map(|(j, s)| {
                    errors.check(&format!("lines[{i}].serials[{j}]"), Serial::parse(s))
                })
                .collect();
            Some(TransferLineRequest {
                lot_id: field_id(&mut errors, &format!("lines[{i}].lot_id"), &l.lot_id)?,
                quantity: l.quantity,
                serials,
            })
        })
        .collect();
    at.check(errors)?;
    Ok(NewTransfer {
        from_clinic_id: from_clinic_id.ok_or_else(missing)?,
        to_clinic_id: to_clinic_id.ok_or_else(missing)?,
        lines,
        note: r.note,
    })
}

#[tonic::async_trait]
impl InventoryService for InventoryGrpc {
    async fn create_product(
        &self,
        request: Request<CreateProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = new_product(
            request.into_inner(),
            &Write::new(&self.0, &actor, "InventoryService/CreateProduct"),
        )?;
        Ok(Response::new(product(
            self.0
                .create_product(&actor, new, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn get_product(
        &self,
        request: Request<GetProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(product(
            self.0.get_product(&actor, id).await.map_err(status)?,
        )))
    }

    async fn list_products(
        &self,
        request: Request<ListProductsRequest>,
    ) -> Result<Response<ListProductsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let mut errors = ValidationErrors::new();
        let query = ProductQuery {
            kind: r.kind.and_then(|k| errors.check("kind", k.parse())),
            gtin: r.gtin.and_then(|g| errors.check("gtin", g.parse())),
        };
        invalid(errors)?;
        let answer = self
            .0
            .list_products(&actor, &query, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListProductsResponse {
            items: answer.items.into_iter().map(product).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn update_product(
        &self,
        request: Request<UpdateProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let if_match = r.if_match;
        let changes = product_changes(
            r,
            &Write::new(&self.0, &actor, "InventoryService/UpdateProduct"),
        )?;
        Ok(Response::new(product(
            self.0
                .update_product(&actor, id, changes, if_match)
                .await
                .map_err(status)?,
        )))
    }

    async fn get_clinic_stock(
        &self,
        request: Request<GetClinicStockRequest>,
    ) -> Result<Response<pb::ClinicStock>, Status> {
        let actor = caller(&self.0, &request).await?;
        let clinic_id = resource_id(&request.get_ref().clinic_id)?;
        Ok(Response::new(clinic_stock(
            self.0
                .get_clinic_stock(&actor, clinic_id)
                .await
                .map_err(status)?,
        )))
    }

    async fn receive_stock(
        &self,
        request: Request<ReceiveStockRequest>,
    ) -> Result<Response<pb::Receipt>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = receipt_request(
            r,
            &Write::new(&self.0, &actor, "InventoryService/ReceiveStock"),
        )?;
        Ok(Response::new(receipt(
            self.0
                .receive_stock(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn adjust_stock(
        &self,
        request: Request<AdjustStockRequest>,
    ) -> Result<Response<pb::Adjustment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = adjustment_request(
            r,
            &Write::new(&self.0, &actor, "InventoryService/AdjustStock"),
        )?;
        Ok(Response::new(adjustment(
            self.0
                .adjust_stock(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn record_disposal(
        &self,
        request: Request<RecordDisposalRequest>,
    ) -> Result<Response<pb::Disposal>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = disposal_request(
            r,
            &Write::new(&self.0, &actor, "InventoryService/RecordDisposal"),
        )?;
        Ok(Response::new(disposal(
            self.0
                .record_disposal(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn record_stocktake(
        &self,
        request: Request<RecordStocktakeRequest>,
    ) -> Result<Response<pb::Stocktake>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = stocktake_request(
            r,
            &Write::new(&self.0, &actor, "InventoryService/RecordStocktake"),
        )?;
        Ok(Response::new(stocktake(
            self.0
                .record_stocktake(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn list_movements(
        &self,
        request: Request<ListMovementsRequest>,
    ) -> Result<Response<ListMovementsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let mut errors = ValidationErrors::new();
        let query = MovementQuery {
            lot_id: r.lot_id.and_then(|l| field_id(&mut errors, "lot_id", &l)),
        };
        invalid(errors)?;
        let answer = self
            .0
            .list_movements(&actor, clinic_id, &query, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListMovementsResponse {
            items: answer.items.into_iter().map(movement).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn send_transfer(
        &self,
        request: Request<SendTransferRequest>,
    ) -> Result<Response<pb::Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = new_transfer(
            request.into_inner(),
            &Write::new(&self.0, &actor, "InventoryService/SendTransfer"),
        )?;
        Ok(Response::new(transfer(
            self.0
                .send_transfer(&actor, new, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn receive_transfer(
        &self,
        request: Request<ReceiveTransferRequest>,
    ) -> Result<Response<pb::Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(transfer(
            self.0
                .receive_transfer(&actor, id, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn cancel_transfer(
        &self,
        request: Request<CancelTransferRequest>,
    ) -> Result<Response<pb::Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(transfer(
            self.0
                .cancel_transfer(&actor, id, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn get_transfer(
        &self,
        request: Request<GetTransferRequest>,
    ) -> Result<Response<pb::Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(transfer(
            self.0.get_transfer(&actor, id).await.map_err(status)?,
        )))
    }

    async fn list_transfers(
        &self,
        request: Request<ListTransfersRequest>,
    ) -> Result<Response<ListTransfersResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let mut errors = ValidationErrors::new();
        let query = TransferQuery {
            clinic_id: r
                .clinic_id
                .and_then(|c| field_id(&mut errors, "clinic_id", &c)),
            status: r.status.and_then(|s| errors.check("status", s.parse())),
        };
        invalid(errors)?;
        let answer = self
            .0
            .list_transfers(&actor, &query, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListTransfersResponse {
            items: answer.items.into_iter().map(transfer).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn get_lot(
        &self,
        request: Request<GetLotRequest>,
    ) -> Result<Response<pb::LotDetail>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(lot_detail(
            self.0.get_lot(&actor, id).await.map_err(status)?,
        )))
    }

    async fn recall_lot(
        &self,
        request: Request<RecallLotRequest>,
    ) -> Result<Response<pb::Recall>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        Ok(Response::new(recall(
            self.0
                .recall_lot(&actor, id, RecallRequest { reason: r.reason }, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn trace_lot(
        &self,
        request: Request<TraceLotRequest>,
    ) -> Result<Response<pb::LotTrace>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(lot_trace(
            self.0.trace_lot(&actor, id).await.map_err(status)?,
        )))
    }

    async fn trace_lot_csv(
        &self,
        request: Request<TraceLotCsvRequest>,
    ) -> Result<Response<LotTraceCsv>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        let bom = request.get_ref().bom;
        let trace = self.0.trace_lot(&actor, id).await.map_err(status)?;
        Ok(Response::new(LotTraceCsv {
            filename: trace_filename(&trace),
            csv: trace_csv(&trace, bom).map_err(status)?,
        }))
    }
}
