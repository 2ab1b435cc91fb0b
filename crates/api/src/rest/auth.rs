//! `/v1/auth/*` and `/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use skinledger_app::App;
use skinledger_app::auth::{Me, TokenAnswer, TokenRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Caller, Json, RequestId};
use crate::edge::CallerAddr;
use crate::error::{ApiResult, Problem};

/// The auth routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(revoke))
        .routes(routes!(me))
}

/// Issue tokens: `password`, `refresh_token` or `client_credentials`.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenAnswer), (status = 401, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
#[tracing::instrument(skip_all, fields(grant_type))]
async fn token(
    State(app): State<App>,
    RequestId(request_id): RequestId,
    source: Option<axum::Extension<CallerAddr>>,
    Json(request): Json<TokenRequest>,
) -> ApiResult<axum::Json<TokenAnswer>> {
    tracing::Span::current().record("grant_type", request.grant_type.as_str());
    let grant = request.into_grant()?;
    let source = source.map(|axum::Extension(CallerAddr(addr))| addr);
    Ok(axum::Json(app.token_from(grant, request_id, source).await?))
}

/// A refresh token to revoke.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    /// The refresh token; its whole family ends.
    refresh_token: String,
}

/// Log out: revoke a refresh token and its family. Unknown tokens are accepted silently.
#[utoipa::path(post, path = "/v1/auth/revoke", tag = "auth", request_body = RevokeRequest,
    responses((status = 204), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn revoke(
    State(app): State<App>,
    RequestId(request_id): RequestId,
    Json(request): Json<RevokeRequest>,
) -> ApiResult<StatusCode> {
    app.revoke(&request.refresh_token, request_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the access token belongs to: organisation and roles.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn me(State(app): State<App>, Caller(actor): Caller) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(app.me(&actor).await?))
}
