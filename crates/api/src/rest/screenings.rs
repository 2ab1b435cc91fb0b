//! Screenings: `/v1/clients/{id}/screenings` and `/v1/screenings/{id}`.

use axum::extract::State;
use skinledger_app::screenings::{NewClearance, NewScreening, Screening};
use skinledger_app::{App, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::extract::{Caller, Id, Idempotency, Json, PageQuery, Query};
use crate::error::{ApiResult, Problem};

/// The screening routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_screenings, record_screening))
        .routes(routes!(get_screening))
        .routes(routes!(clear_screening_factor))
}

/// Record a contraindication screening, evaluated under the current policy.
///
/// Every yes/no answer must be sent. With `clinic_id` the caller needs a screening role
/// there; without, anywhere in the organisation.
#[utoipa::path(post, path = "/v1/clients/{id}/screenings", tag = "screenings", request_body = NewScreening,
    params(("id" = uuid::Uuid, Path, description = "The client"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = Screening), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn record_screening(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(client_id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<NewScreening>,
) -> ApiResult<Created<axum::Json<Screening>>> {
    let screening = app
        .record_screening(&actor, client_id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/screenings/{}", screening.id),
        axum::Json(screening),
    ))
}

/// A client's screenings, oldest first (roles that read clinical content).
#[utoipa::path(get, path = "/v1/clients/{id}/screenings", tag = "screenings",
    params(("id" = uuid::Uuid, Path, description = "The client"), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Screening>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_screenings(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(client_id): Id,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Screening>>> {
    Ok(axum::Json(
        app.list_client_screenings(&actor, client_id, &page.into())
            .await?,
    ))
}

/// One screening (roles that read clinical content).
#[utoipa::path(get, path = "/v1/screenings/{id}", tag = "screenings", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Screening), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_screening(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<Screening>> {
    Ok(axum::Json(app.get_screening(&actor, id).await?))
}

/// A physician clears a factor that requires clearance, giving a reason.
///
/// Anyone else gets 403; a contraindicated factor answers 409 `contraindicated`; a factor
/// cleared already 409 `already_exists`. Answers the screening with its clearances.
#[utoipa::path(post, path = "/v1/screenings/{id}/clearance", tag = "screenings", request_body = NewClearance,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 200, body = Screening), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn clear_screening_factor(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<NewClearance>,
) -> ApiResult<axum::Json<Screening>> {
    Ok(axum::Json(
        app.clear_screening_factor(&actor, id, body, key.as_ref())
            .await?,
    ))
}
