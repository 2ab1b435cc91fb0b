//! A clinic's stock: `/v1/clinics/{id}/stock`, receipts, adjustments, disposals at the chair,
//! stocktakes and the movement ledger.

use axum::extract::State;
use serde::Deserialize;
use skinledger_app::disposals::{Disposal, DisposalRequest};
use skinledger_app::receipts::{Receipt, ReceiptRequest};
use skinledger_app::stock::{
    Adjustment, AdjustmentRequest, ClinicStock, Movement, MovementQuery, Stocktake,
    StocktakeRequest,
};
use skinledger_app::{App, Error, Page, PageParams};
use skinledger_domain::ValidationErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::extract::{Caller, Id, Idempotency, Json, Query};
use crate::common::field_id;
use crate::error::{ApiResult, Problem};

/// The stock routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(get_clinic_stock))
        .routes(routes!(receive_stock))
        .routes(routes!(adjust_stock))
        .routes(routes!(record_disposal))
        .routes(routes!(record_stocktake))
        .routes(routes!(list_movements))
}

/// Filters and paging of the ledger.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MovementListQuery {
    /// Only movements of this lot.
    #[param(value_type = Option<uuid::Uuid>)]
    lot_id: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A clinic's stock by product, each product's lots first expiry first (anyone at the clinic).
///
/// Lots with no units left in any count are left out.
#[utoipa::path(get, path = "/v1/clinics/{id}/stock", tag = "stock", params(("id" = uuid::Uuid, Path, description = "The clinic")),
    security(("bearer" = [])),
    responses((status = 200, body = ClinicStock), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_clinic_stock(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(clinic_id): Id,
) -> ApiResult<axum::Json<ClinicStock>> {
    Ok(axum::Json(app.get_clinic_stock(&actor, clinic_id).await?))
}

/// Receive a delivery at a clinic (its managers and `org_admin`).
///
/// Send either `gs1`, the element string as the scanner reads it - bracketed
/// (`(01)…(17)YYMMDD(10)…(21)…`) or raw with the group separator (ASCII 29) - or `product_id`
/// or `gtin` with `lot_number` and `expiry`. A GTIN not in the catalogue answers 422 naming
/// `gtin` or `gs1`; a lot past its expiry 409 `lot_expired`, a recalled one 409
/// `lot_recalled`, a serial received before 409 `already_exists`.
#[utoipa::path(post, path = "/v1/clinics/{id}/receipts", tag = "stock", request_body = ReceiptRequest,
    params(("id" = uuid::Uuid, Path, description = "The clinic"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = Receipt), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn receive_stock(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(clinic_id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<ReceiptRequest>,
) -> ApiResult<Created<axum::Json<Receipt>>> {
    let receipt = app
        .receive_stock(&actor, clinic_id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/lots/{}", receipt.lot.id),
        axum::Json(receipt),
    ))
}

/// Adjust a clinic's stock of a lot by hand, with a reason (its managers and `org_admin`).
///
/// A negative `quantity` takes units away; only a `count_correction` adds them. Units of a
/// recalled lot are changed in quarantine. Never below zero: 409 `out_of_stock`.
#[utoipa::path(post, path = "/v1/clinics/{id}/adjustments", tag = "stock", request_body = AdjustmentRequest,
    params(("id" = uuid::Uuid, Path, description = "The clinic"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = Adjustment), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn adjust_stock(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(clinic_id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<AdjustmentRequest>,
) -> ApiResult<Created<axum::Json<Adjustment>>> {
    let adjustment = app
        .adjust_stock(&actor, clinic_id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/lots/{}", adjustment.lot_id),
        axum::Json(adjustment),
    ))
}

/// Write off one unit at the chair: dropped, contaminated, or its packaging damaged
/// (physicians, nurses and estheticians of the clinic).
///
/// The unit leaves the stock on hand as a `disposal` movement. A lot received with serials
/// needs the unit's `serial`. A recalled lot answers 409 `lot_recalled`, an empty shelf
/// `out_of_stock`, a closed clinic `clinic_inactive`. Practitioners who write off more than
/// one unit a day show in `GET /v1/reports/disposals`.
#[utoipa::path(post, path = "/v1/clinics/{id}/disposals", tag = "stock", request_body = DisposalRequest,
    params(("id" = uuid::Uuid, Path, description = "The clinic"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = Disposal), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn record_disposal(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(clinic_id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<DisposalRequest>,
) -> ApiResult<Created<axum::Json<Disposal>>> {
    let disposal = app
        .record_disposal(&actor, clinic_id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/lots/{}", disposal.lot_id),
        axum::Json(disposal),
    ))
}

/// Record a stocktake at a clinic (its managers and `org_admin`).
///
/// Each lot counted whose count differs from the balance gets one `count_correction`, all in
/// one transaction; a count that matches changes nothing.
#[utoipa::path(post, path = "/v1/clinics/{id}/stocktakes", tag = "stock", request_body = StocktakeRequest,
    params(("id" = uuid::Uuid, Path, description = "The clinic"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = Stocktake), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn record_stocktake(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(clinic_id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<StocktakeRequest>,
) -> ApiResult<Created<axum::Json<Stocktake>>> {
    let stocktake = app
        .record_stocktake(&actor, clinic_id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/clinics/{}/stock", stocktake.clinic_id),
        axum::Json(stocktake),
    ))
}

/// A page of a clinic's ledger, oldest first (anyone at the clinic); `lot_id` narrows it to
/// one lot.
#[utoipa::path(get, path = "/v1/clinics/{id}/movements", tag = "stock",
    params(("id" = uuid::Uuid, Path, description = "The clinic"), MovementListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Movement>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_movements(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(clinic_id): Id,
    Query(q): Query<MovementListQuery>,
) -> ApiResult<axum::Json<Page<Movement>>> {
    let mut errors = ValidationErrors::new();
    let filter = MovementQuery {
        lot_id: q.lot_id.and_then(|l| field_id(&mut errors, "lot_id", &l)),
    };
    errors.into_result().map_err(Error::from)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(axum::Json(
        app.list_movements(&actor, clinic_id, &filter, &page)
            .await?,
    ))
}
