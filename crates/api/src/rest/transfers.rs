//! `/v1/transfers`: units sent from one clinic to another, received or cancelled.

use axum::extract::State;
use serde::Deserialize;
use skinledger_app::transfers::{NewTransfer, Transfer, TransferQuery};
use skinledger_app::{App, Error, Page, PageParams};
use skinledger_domain::ValidationErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::extract::{Caller, Id, Idempotency, Json, Query};
use crate::common::field_id;
use crate::error::{ApiResult, Problem};

/// The transfer routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_transfers, send_transfer))
        .routes(routes!(get_transfer))
        .routes(routes!(receive_transfer))
        .routes(routes!(cancel_transfer))
}

/// Filters and paging of transfers.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TransferListQuery {
    /// Only transfers from or to this clinic.
    #[param(value_type = Option<uuid::Uuid>)]
    clinic_id: Option<String>,
    /// Only transfers in this status: `in_transit`, `received` or `cancelled`.
    status: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Send units of one or more lots to another clinic (managers of the sending clinic and
/// `org_admin`).
///
/// The units leave the sender's shelf and are in transit until the receiving clinic confirms.
/// Not enough units answers 409 `out_of_stock`; a recalled lot 409 `lot_recalled`.
#[utoipa::path(post, path = "/v1/transfers", tag = "transfers", request_body = NewTransfer, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Transfer), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn send_transfer(
    State(app): State<App>,
    Caller(actor): Caller,
    Idempotency(key): Idempotency,
    Json(body): Json<NewTransfer>,
) -> ApiResult<Created<axum::Json<Transfer>>> {
    let transfer = app.send_transfer(&actor, body, key.as_ref()).await?;
    Ok(Created(
        format!("/v1/transfers/{}", transfer.id),
        axum::Json(transfer),
    ))
}

/// Confirm that a transfer arrived (managers of the receiving clinic and `org_admin`).
///
/// The units join the receiving clinic's shelf (its quarantine, for a lot recalled on the
/// way). A transfer no longer in transit answers 409 `already_received` or
/// `already_cancelled`.
#[utoipa::path(post, path = "/v1/transfers/{id}/receive", tag = "transfers",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 200, body = Transfer), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn receive_transfer(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Idempotency(key): Idempotency,
) -> ApiResult<axum::Json<Transfer>> {
    Ok(axum::Json(
        app.receive_transfer(&actor, id, key.as_ref()).await?,
    ))
}

/// Call a transfer off before it is received (managers of the sending clinic and
/// `org_admin`); the units return to the sender.
#[utoipa::path(post, path = "/v1/transfers/{id}/cancel", tag = "transfers",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 200, body = Transfer), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn cancel_transfer(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Idempotency(key): Idempotency,
) -> ApiResult<axum::Json<Transfer>> {
    Ok(axum::Json(
        app.cancel_transfer(&actor, id, key.as_ref()).await?,
    ))
}

/// One transfer (anyone at the sending or the receiving clinic).
#[utoipa::path(get, path = "/v1/transfers/{id}", tag = "transfers", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Transfer), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_transfer(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<Transfer>> {
    Ok(axum::Json(app.get_transfer(&actor, id).await?))
}

/// Transfers from or to the clinics the caller may see, oldest first.
#[utoipa::path(get, path = "/v1/transfers", tag = "transfers", params(TransferListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Transfer>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_transfers(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<TransferListQuery>,
) -> ApiResult<axum::Json<Page<Transfer>>> {
    let mut errors = ValidationErrors::new();
    let filter = TransferQuery {
        clinic_id: q
            .clinic_id
            .and_then(|c| field_id(&mut errors, "clinic_id", &c)),
        status: q.status.and_then(|s| errors.check("status", s.parse())),
    };
    errors.into_result().map_err(Error::from)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(axum::Json(
        app.list_transfers(&actor, &filter, &page).await?,
    ))
}
