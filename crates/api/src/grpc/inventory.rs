//! `skinledger.v1.InventoryService`: products, clinic stock, receipts, adjustments, disposals,
//! stocktakes, movements, transfers, lots, recalls and traces.

use skinledger_app::App;
use skinledger_app::disposals::DisposalRequest;
use skinledger_app::products::{NewProduct, ProductChanges};
use skinledger_app::recalls::{RecallRequest, trace_csv};
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::signals::ReleaseRequest;
use skinledger_app::stock::{AdjustmentRequest, StocktakeRequest};
use skinledger_app::transfers::NewTransfer;
use tonic::{Request, Response, Status};

use super::pb::inventory_service_server::InventoryService;
use super::pb::*;
use super::wire::products::product_query;
use super::wire::stock::movement_query;
use super::wire::transfers::transfer_query;
use super::{Write, caller, checked, idempotency_key, resource_id, status};
use crate::common::trace_filename;

/// The inventory service.
#[derive(Debug, Clone)]
pub struct InventoryGrpc(pub App);

#[tonic::async_trait]
impl InventoryService for InventoryGrpc {
    async fn create_product(
        &self,
        request: Request<CreateProductRequest>,
    ) -> Result<Response<Product>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = Write::new(&self.0, &actor, "InventoryService/CreateProduct")
            .accept(NewProduct::try_from(request.into_inner()))
            .await?;
        Ok(Response::new(
            self.0
                .create_product(&actor, new, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn get_product(
        &self,
        request: Request<GetProductRequest>,
    ) -> Result<Response<Product>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetProductRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.get_product(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn list_products(
        &self,
        request: Request<ListProductsRequest>,
    ) -> Result<Response<ListProductsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let (query, page) = checked(product_query(request.into_inner()))?;
        let answer = self
            .0
            .list_products(&actor, &query, &page)
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn update_product(
        &self,
        request: Request<UpdateProductRequest>,
    ) -> Result<Response<Product>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let if_match = r.if_match;
        let changes = Write::new(&self.0, &actor, "InventoryService/UpdateProduct")
            .accept(ProductChanges::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .update_product(&actor, id, changes, if_match)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn get_clinic_stock(
        &self,
        request: Request<GetClinicStockRequest>,
    ) -> Result<Response<ClinicStock>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetClinicStockRequest { clinic_id } = request.get_ref();
        let clinic_id = resource_id(clinic_id)?;
        Ok(Response::new(
            self.0
                .get_clinic_stock(&actor, clinic_id)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn receive_stock(
        &self,
        request: Request<ReceiveStockRequest>,
    ) -> Result<Response<Receipt>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = Write::new(&self.0, &actor, "InventoryService/ReceiveStock")
            .accept(ReceiptRequest::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .receive_stock(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn adjust_stock(
        &self,
        request: Request<AdjustStockRequest>,
    ) -> Result<Response<Adjustment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = Write::new(&self.0, &actor, "InventoryService/AdjustStock")
            .accept(AdjustmentRequest::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .adjust_stock(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn record_disposal(
        &self,
        request: Request<RecordDisposalRequest>,
    ) -> Result<Response<Disposal>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = Write::new(&self.0, &actor, "InventoryService/RecordDisposal")
            .accept(DisposalRequest::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .record_disposal(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn record_stocktake(
        &self,
        request: Request<RecordStocktakeRequest>,
    ) -> Result<Response<Stocktake>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let sent = Write::new(&self.0, &actor, "InventoryService/RecordStocktake")
            .accept(StocktakeRequest::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .record_stocktake(&actor, clinic_id, sent, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn list_movements(
        &self,
        request: Request<ListMovementsRequest>,
    ) -> Result<Response<ListMovementsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let clinic_id = resource_id(&r.clinic_id)?;
        let (query, page) = checked(movement_query(r))?;
        let answer = self
            .0
            .list_movements(&actor, clinic_id, &query, &page)
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn send_transfer(
        &self,
        request: Request<SendTransferRequest>,
    ) -> Result<Response<Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = Write::new(&self.0, &actor, "InventoryService/SendTransfer")
            .accept(NewTransfer::try_from(request.into_inner()))
            .await?;
        Ok(Response::new(
            self.0
                .send_transfer(&actor, new, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn receive_transfer(
        &self,
        request: Request<ReceiveTransferRequest>,
    ) -> Result<Response<Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let ReceiveTransferRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0
                .receive_transfer(&actor, id, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn cancel_transfer(
        &self,
        request: Request<CancelTransferRequest>,
    ) -> Result<Response<Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let CancelTransferRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0
                .cancel_transfer(&actor, id, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn get_transfer(
        &self,
        request: Request<GetTransferRequest>,
    ) -> Result<Response<Transfer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetTransferRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0
                .get_transfer(&actor, id)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn list_transfers(
        &self,
        request: Request<ListTransfersRequest>,
    ) -> Result<Response<ListTransfersResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let (query, page) = checked(transfer_query(request.into_inner()))?;
        let answer = self
            .0
            .list_transfers(&actor, &query, &page)
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn get_lot(
        &self,
        request: Request<GetLotRequest>,
    ) -> Result<Response<LotDetail>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetLotRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.get_lot(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn recall_lot(
        &self,
        request: Request<RecallLotRequest>,
    ) -> Result<Response<Recall>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        Ok(Response::new(
            self.0
                .recall_lot(&actor, id, RecallRequest::from(r), key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn trace_lot(
        &self,
        request: Request<TraceLotRequest>,
    ) -> Result<Response<LotTrace>, Status> {
        let actor = caller(&self.0, &request).await?;
        let TraceLotRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.trace_lot(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn trace_lot_csv(
        &self,
        request: Request<TraceLotCsvRequest>,
    ) -> Result<Response<LotTraceCsv>, Status> {
        let actor = caller(&self.0, &request).await?;
        let TraceLotCsvRequest { id, bom } = request.get_ref();
        let id = resource_id(id)?;
        let trace = self.0.trace_lot(&actor, id).await.map_err(status)?;
        Ok(Response::new(LotTraceCsv {
            filename: trace_filename(&trace),
            csv: trace_csv(&trace, *bom).map_err(status)?,
        }))
    }

    async fn get_lot_signal(
        &self,
        request: Request<GetLotSignalRequest>,
    ) -> Result<Response<LotSignal>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetLotSignalRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.lot_signal(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn release_lot(
        &self,
        request: Request<ReleaseLotRequest>,
    ) -> Result<Response<Release>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        Ok(Response::new(
            self.0
                .release_lot(&actor, id, ReleaseRequest::from(r), key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }
}
