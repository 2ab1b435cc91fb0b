//! `/v1/clients`: register, find, read and change clients.

use axum::extract::State;
use serde::Deserialize;
use skinledger_app::clients::{Client, ClientChanges, NewClient};
use skinledger_app::{App, Page, PageParams};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::etag::{IfMatch, Tagged};
use super::extract::{Caller, Id, Idempotency, Json, Query};
use crate::error::{ApiResult, Problem};

/// The client routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, update_client))
}

/// Search and paging of clients.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ClientQuery {
    /// Clients whose first name, last name, `first last`, email or phone digits start with
    /// this, ignoring case.
    q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Register a client (any role; `notes` for clinical roles only).
#[utoipa::path(post, path = "/v1/clients", tag = "clients", request_body = NewClient, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Client, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_client(
    State(app): State<App>,
    Caller(actor): Caller,
    Idempotency(key): Idempotency,
    Json(body): Json<NewClient>,
) -> ApiResult<Tagged<Created<axum::Json<Client>>>> {
    let client = app.create_client(&actor, body, key.as_ref()).await?;
    Ok(Tagged::new(
        Some(client.version),
        Created(format!("/v1/clients/{}", client.id), axum::Json(client)),
    ))
}

/// The organisation's clients, oldest first; `q` searches names, email and phone.
#[utoipa::path(get, path = "/v1/clients", tag = "clients", params(ClientQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Client>), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_clients(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(query): Query<ClientQuery>,
) -> ApiResult<axum::Json<Page<Client>>> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    Ok(axum::Json(
        app.list_clients(&actor, query.q.as_deref(), &page).await?,
    ))
}

/// One client, with its version as `ETag` (clinical `notes` for clinical roles only).
#[utoipa::path(get, path = "/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Client, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_client(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<Tagged<axum::Json<Client>>> {
    let client = app.get_client(&actor, id).await?;
    Ok(Tagged::new(Some(client.version), axum::Json(client)))
}

/// Change a client; absent fields stay, an empty text clears phone, email or notes.
///
/// Send the `ETag` of GET as `If-Match` (`"3"` or `3`) to refuse the change with 412 when the
/// client changed since; an unreadable `If-Match` answers 400.
#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "clients", request_body = ClientChanges,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses((status = 200, body = Client, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn update_client(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    IfMatch(if_match): IfMatch,
    Json(body): Json<ClientChanges>,
) -> ApiResult<Tagged<axum::Json<Client>>> {
    let client = app.update_client(&actor, id, body, if_match).await?;
    Ok(Tagged::new(Some(client.version), axum::Json(client)))
}
