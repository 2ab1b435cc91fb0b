//! `/v1/lots`: a lot with its stock, its recall, and its trace as JSON or CSV.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use skinledger_app::App;
use skinledger_app::lots::LotDetail;
use skinledger_app::recalls::{LotTrace, Recall, RecallRequest, trace_csv};
use skinledger_app::signals::{LotSignal, Release, ReleaseRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accept::{TEXT_CSV, prefers_csv};
use super::extract::{Caller, Id, Idempotency, Json, Query};
use crate::common::trace_filename;
use crate::error::{ApiResult, Problem};

/// How the CSV trace is written.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TraceQuery {
    /// With CSV, start with a UTF-8 byte order mark, for spreadsheets that otherwise guess the
    /// encoding (default `false`).
    bom: Option<bool>,
}

/// The lot routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(get_lot))
        .routes(routes!(recall_lot))
        .routes(routes!(trace_lot))
        .routes(routes!(lot_signal))
        .routes(routes!(release_lot))
}

/// One lot with its product and its units at every clinic the caller may see (any role).
#[utoipa::path(get, path = "/v1/lots/{id}", tag = "lots", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = LotDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_lot(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<LotDetail>> {
    Ok(axum::Json(app.get_lot(&actor, id).await?))
}

/// Recall a lot (`org_admin`), giving a reason.
///
/// Every unit left on a shelf at any clinic moves into quarantine at once, and the lot is
/// never consumed, received or sent again. A lot recalled before answers 409 `lot_recalled`.
#[utoipa::path(post, path = "/v1/lots/{id}/recall", tag = "lots", request_body = RecallRequest,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 200, body = Recall), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn recall_lot(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<RecallRequest>,
) -> ApiResult<axum::Json<Recall>> {
    Ok(axum::Json(
        app.recall_lot(&actor, id, body, key.as_ref()).await?,
    ))
}

/// A lot's adverse-event signal (clinic managers, `org_admin`): the policy's rule, what it
/// finds today (counted events in the window, treatments, the rate, whether it is crossed) and
/// the counted adverse events at the clinics the caller may trace.
///
/// When an adverse event recorded on a treatment crosses the signal of a lot the treatment
/// used, the lot goes on hold at every clinic in that same write: status `held`, every unit on a
/// shelf into quarantine, a `lot.signal` event.
#[utoipa::path(get, path = "/v1/lots/{id}/signal", tag = "lots", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = LotSignal), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn lot_signal(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<LotSignal>> {
    Ok(axum::Json(app.lot_signal(&actor, id).await?))
}

/// Release a lot on hold (`org_admin`), giving a reason.
///
/// The lot is active again, and the units that went into quarantine while it was on hold go
/// back on their shelves. A lot not on hold answers 409 `lot_not_on_hold`; to withdraw a held
/// lot for good, recall it instead.
#[utoipa::path(post, path = "/v1/lots/{id}/release", tag = "lots", request_body = ReleaseRequest,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 200, body = Release), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn release_lot(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<ReleaseRequest>,
) -> ApiResult<axum::Json<Release>> {
    Ok(axum::Json(
        app.release_lot(&actor, id, body, key.as_ref()).await?,
    ))
}

/// Every treatment that consumed a lot: client with contact details, clinic, date and
/// practitioner (clinic managers for their clinics, `org_admin` for all).
///
/// JSON by default; CSV (one line per treatment, with a header line) when `Accept` asks for
/// `text/csv` at least as much as for JSON.
#[utoipa::path(get, path = "/v1/lots/{id}/trace", tag = "lots",
    params(("id" = uuid::Uuid, Path), TraceQuery, ("Accept" = Option<String>, Header, description = "`text/csv` for CSV: every cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is written with a leading `'`")),
    security(("bearer" = [])),
    responses((status = 200, description = "The trace", content((LotTrace = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn trace_lot(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Query(query): Query<TraceQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let trace = app.trace_lot(&actor, id).await?;
    let mut response = if prefers_csv(&headers) {
        let disposition = format!("attachment; filename=\"{}\"", trace_filename(&trace));
        let mut csv = trace_csv(&trace, query.bom.unwrap_or(false))?.into_response();
        let headers = csv.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_CSV));
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(CONTENT_DISPOSITION, value);
        }
        csv
    } else {
        axum::Json(trace).into_response()
    };
    // The answer depends on Accept, so caches must keep the formats apart.
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("accept"));
    Ok(response)
}
