//! `/v1/audit-events`.

use axum::extract::State;
use serde::Deserialize;
use skinledger_app::audit::AuditEntry;
use skinledger_app::{App, Page, PageParams};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Caller, Query};
use crate::error::{ApiResult, Problem};

/// The audit routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

/// Filters and paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Page size, 1 to 200.
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only events about this entity.
    entity_id: Option<uuid::Uuid>,
    /// Only events naming this client.
    client_id: Option<uuid::Uuid>,
    /// Only events of this action, e.g. `auth.login`.
    action: Option<String>,
    /// Only events with this outcome: `success`, `failure`, `denied` (refused by
    /// permission), `refused` (refused by a rule or invalid input), `throttled`.
    outcome: Option<String>,
}

/// The organisation's audit log, oldest first (`org_admin`).
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_audit_events(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Page<AuditEntry>>> {
    let filter = skinledger_app::audit::AuditFilter {
        entity_id: q.entity_id,
        client_id: q.client_id,
        action: q.action,
        outcome: q.outcome,
    };
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(axum::Json(
        app.list_audit_events(&actor, &filter, &page).await?,
    ))
}
