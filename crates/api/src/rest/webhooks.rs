//! `/v1/webhooks`: endpoints that receive the organisation's events, signed, as they happen.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use skinledger_app::webhooks::{
    DeliveryQuery, NewWebhook, Webhook, WebhookChanges, WebhookDelivery, WebhookReplay,
};
use skinledger_app::{App, Error, Page, PageParams};
use skinledger_domain::ValidationErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::extract::{Caller, Id, Json, PageQuery, Query};
use crate::error::{ApiError, ApiResult, Problem};

/// The webhook routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(retry_webhook_delivery))
        .routes(routes!(replay_webhook))
}

/// Register a webhook endpoint (`org_admin`): every event from now on of the kinds asked for
/// is POSTed to it, signed. The `secret` is in this answer only.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewWebhook, security(("bearer" = [])),
    responses((status = 201, body = Webhook), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_webhook(
    State(app): State<App>,
    Caller(actor): Caller,
    Json(body): Json<NewWebhook>,
) -> ApiResult<Created<axum::Json<Webhook>>> {
    let hook = app.create_webhook(&actor, body).await?;
    Ok(Created(
        format!("/v1/webhooks/{}", hook.id),
        axum::Json(hook),
    ))
}

/// The organisation's webhook endpoints (`org_admin`), without secrets.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Webhook>), (status = 403, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_webhooks(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Webhook>>> {
    Ok(axum::Json(app.list_webhooks(&actor, &page.into()).await?))
}

/// One webhook endpoint (`org_admin`), without its secret.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Webhook), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_webhook(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(app.get_webhook(&actor, id).await?))
}

/// Change a webhook endpoint (`org_admin`): its URL, event types, description; `enabled`
/// stops its deliveries or resumes them where they stopped.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    request_body = WebhookChanges, security(("bearer" = [])),
    responses((status = 200, body = Webhook), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn update_webhook(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Json(body): Json<WebhookChanges>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(app.update_webhook(&actor, id, body).await?))
}

/// Remove a webhook endpoint (`org_admin`) with its deliveries.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn delete_webhook(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    app.delete_webhook(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters and paging of deliveries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveryListQuery {
    /// Only deliveries in this state.
    #[param(value_type = Option<skinledger_app::webhooks::DeliveryStatus>)]
    status: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A webhook's deliveries, oldest first, each with every attempt: when, how it ended, the
/// endpoint's HTTP status and the latency (`org_admin`).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = uuid::Uuid, Path), DeliveryListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<WebhookDelivery>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_webhook_deliveries(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Query(q): Query<DeliveryListQuery>,
) -> ApiResult<axum::Json<Page<WebhookDelivery>>> {
    let mut errors = ValidationErrors::new();
    let status = q.status.and_then(|s| errors.check("status", s.parse()));
    if !errors.is_empty() {
        return Err(Error::Invalid(errors).into());
    }
    let query = DeliveryQuery {
        status,
        page: PageParams {
            limit: q.limit,
            cursor: q.cursor,
        },
    };
    Ok(axum::Json(
        app.list_webhook_deliveries(&actor, id, &query).await?,
    ))
}

/// The webhook and delivery ids of a delivery's path.
#[derive(Debug, Deserialize)]
struct DeliveryPath {
    id: String,
    delivery_id: String,
}

/// Attempt a delivery again now (`org_admin`): a delivered or given-up one is queued again,
/// with a new retry window; a pending one is attempted without waiting for its backoff.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("id" = uuid::Uuid, Path), ("delivery_id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookDelivery), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn retry_webhook_delivery(
    State(app): State<App>,
    Caller(actor): Caller,
    axum::extract::Path(path): axum::extract::Path<DeliveryPath>,
) -> ApiResult<axum::Json<WebhookDelivery>> {
    let not_found = || ApiError(Error::NotFound("delivery"));
    let webhook = uuid::Uuid::parse_str(&path.id).map_err(|_| not_found())?;
    let delivery = uuid::Uuid::parse_str(&path.delivery_id).map_err(|_| not_found())?;
    Ok(axum::Json(
        app.retry_webhook_delivery(&actor, webhook, delivery)
            .await?,
    ))
}

/// Deliver again, in order, every event after a feed cursor (`org_admin`): the webhook's
/// `cursor` moves back there. Each delivery carries its event's id as `webhook-id`, as the
/// first time. A cursor older than the events kept answers 410 `cursor_expired`.
#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    request_body = WebhookReplay, security(("bearer" = [])),
    responses((status = 200, body = Webhook), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 410, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn replay_webhook(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Json(body): Json<WebhookReplay>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(app.replay_webhook(&actor, id, body).await?))
}
