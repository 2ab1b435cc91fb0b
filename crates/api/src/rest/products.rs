//! `/v1/products`: the catalogue of devices and other stock.

use axum::extract::State;
use serde::Deserialize;
use skinledger_app::products::{NewProduct, Product, ProductChanges, ProductQuery};
use skinledger_app::{App, Error, Page, PageParams};
use skinledger_domain::ValidationErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::etag::{IfMatch, Tagged};
use super::extract::{Caller, Id, Idempotency, Json, Query};
use crate::error::{ApiResult, Problem};

/// The product routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product))
}

/// Filters and paging of the catalogue.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ProductListQuery {
    /// Only products of this kind: `roller`, `pen_cartridge` or `other`.
    kind: Option<String>,
    /// Only the product with this GTIN (8 to 14 digits).
    gtin: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Add a product to the catalogue (clinic managers and `org_admin`).
///
/// Rollers and pen cartridges need `needle_length_mm` and are always single use; a GTIN
/// already in the catalogue answers 409 `already_exists`.
#[utoipa::path(post, path = "/v1/products", tag = "products", request_body = NewProduct, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Product, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_product(
    State(app): State<App>,
    Caller(actor): Caller,
    Idempotency(key): Idempotency,
    Json(body): Json<NewProduct>,
) -> ApiResult<Tagged<Created<axum::Json<Product>>>> {
    let product = app.create_product(&actor, body, key.as_ref()).await?;
    Ok(Tagged::new(
        Some(product.version),
        Created(format!("/v1/products/{}", product.id), axum::Json(product)),
    ))
}

/// The catalogue, oldest first (any role).
#[utoipa::path(get, path = "/v1/products", tag = "products", params(ProductListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Product>), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_products(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<ProductListQuery>,
) -> ApiResult<axum::Json<Page<Product>>> {
    let mut errors = ValidationErrors::new();
    let filter = ProductQuery {
        kind: q.kind.and_then(|k| errors.check("kind", k.parse())),
        gtin: q.gtin.and_then(|g| errors.check("gtin", g.parse())),
    };
    errors.into_result().map_err(Error::from)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(axum::Json(app.list_products(&actor, &filter, &page).await?))
}

/// One product, with its version as `ETag` (any role).
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Product, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_product(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<Tagged<axum::Json<Product>>> {
    let product = app.get_product(&actor, id).await?;
    Ok(Tagged::new(Some(product.version), axum::Json(product)))
}

/// Change a product (clinic managers and `org_admin`); absent fields stay, the kind is fixed.
///
/// `clinic_reorder_points` sets a clinic's own reorder point, or removes it with `null`; the
/// clinics not listed keep theirs. Send the `ETag` as `If-Match` to refuse the change with 412
/// when the product changed since.
#[utoipa::path(patch, path = "/v1/products/{id}", tag = "products", request_body = ProductChanges,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses((status = 200, body = Product, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn update_product(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    IfMatch(if_match): IfMatch,
    Json(body): Json<ProductChanges>,
) -> ApiResult<Tagged<axum::Json<Product>>> {
    let product = app.update_product(&actor, id, body, if_match).await?;
    Ok(Tagged::new(Some(product.version), axum::Json(product)))
}
