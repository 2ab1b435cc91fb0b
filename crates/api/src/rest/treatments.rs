//! Treatment records: `/v1/treatments`, their signing, addenda, adverse events and aftercare,
//! and `/v1/clients/{id}/treatments`.

use axum::extract::State;
use skinledger_app::treatments::{
    Addendum, AdverseEvent, NewAddendum, NewAdverseEvent, NewTreatment, Treatment,
    TreatmentAftercare, TreatmentChanges,
};
use skinledger_app::{App, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::etag::{IfMatch, Tagged};
use super::extract::{Caller, Id, Idempotency, Json, PageQuery, Query};
use crate::error::{ApiResult, Problem};

/// The treatment routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_treatment))
        .routes(routes!(get_treatment, update_treatment))
        .routes(routes!(sign_treatment))
        .routes(routes!(add_addendum))
        .routes(routes!(record_adverse_event))
        .routes(routes!(get_aftercare))
        .routes(routes!(list_client_treatments))
}

/// Record a treatment performed by the caller, as a draft.
///
/// Every eligibility rule is checked in the same transaction as the write. A depth beyond the
/// caller's limit answers 403 `outside_scope_of_practice`; any other blocker 409 with the
/// first blocker's `code` and every blocker in `blockers`. A physician may send
/// `interval_override_reason` to treat despite `too_soon`.
#[utoipa::path(post, path = "/v1/treatments", tag = "treatments", request_body = NewTreatment, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Treatment, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_treatment(
    State(app): State<App>,
    Caller(actor): Caller,
    Idempotency(key): Idempotency,
    Json(body): Json<NewTreatment>,
) -> ApiResult<Tagged<Created<axum::Json<Treatment>>>> {
    let treatment = app.create_treatment(&actor, body, key.as_ref()).await?;
    Ok(Tagged::new(
        treatment.version(),
        Created(
            format!("/v1/treatments/{}", treatment.id),
            axum::Json(treatment),
        ),
    ))
}

/// One treatment: the full record for clinical roles at its clinic, only who, where, when and
/// status for anyone else (the clinical fields are absent, and so is the `ETag`).
#[utoipa::path(get, path = "/v1/treatments/{id}", tag = "treatments", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Treatment, headers(("ETag" = String, description = "The version, quoted; full records only"))),
        (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_treatment(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<Tagged<axum::Json<Treatment>>> {
    let treatment = app.get_treatment(&actor, id).await?;
    Ok(Tagged::new(treatment.version(), axum::Json(treatment)))
}

/// Edit a draft (its practitioner only); a signed record answers 409 `record_signed`.
///
/// Send the `ETag` as `If-Match` to refuse the edit with 412 when the record changed since.
#[utoipa::path(patch, path = "/v1/treatments/{id}", tag = "treatments", request_body = TreatmentChanges,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])),
    responses((status = 200, body = Treatment, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn update_treatment(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    IfMatch(if_match): IfMatch,
    Json(body): Json<TreatmentChanges>,
) -> ApiResult<Tagged<axum::Json<Treatment>>> {
    let treatment = app.update_treatment(&actor, id, body, if_match).await?;
    Ok(Tagged::new(treatment.version(), axum::Json(treatment)))
}

/// Sign a draft (its practitioner only), making it immutable; signing again answers 409
/// `record_signed`.
#[utoipa::path(post, path = "/v1/treatments/{id}/sign", tag = "treatments",
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 200, body = Treatment, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn sign_treatment(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    IfMatch(if_match): IfMatch,
    Idempotency(key): Idempotency,
) -> ApiResult<Tagged<axum::Json<Treatment>>> {
    let treatment = app
        .sign_treatment(&actor, id, if_match, key.as_ref())
        .await?;
    Ok(Tagged::new(treatment.version(), axum::Json(treatment)))
}

/// Append a correction to a treatment, signed or not (clinical roles at its clinic).
#[utoipa::path(post, path = "/v1/treatments/{id}/addenda", tag = "treatments", request_body = NewAddendum,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = Addendum), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn add_addendum(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<NewAddendum>,
) -> ApiResult<Created<axum::Json<Addendum>>> {
    let addendum = app
        .add_treatment_addendum(&actor, id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/treatments/{}", addendum.treatment_id),
        axum::Json(addendum),
    ))
}

/// Record an adverse event after a treatment, signed or not (clinical roles at its clinic).
#[utoipa::path(post, path = "/v1/treatments/{id}/adverse-events", tag = "treatments", request_body = NewAdverseEvent,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = AdverseEvent), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn record_adverse_event(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<NewAdverseEvent>,
) -> ApiResult<Created<axum::Json<AdverseEvent>>> {
    let event = app
        .record_adverse_event(&actor, id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/treatments/{}", event.treatment_id),
        axum::Json(event),
    ))
}

/// A treatment's aftercare for the client: each instruction with its end date, the next
/// eligible day and when results show (clinical roles at its clinic).
#[utoipa::path(get, path = "/v1/treatments/{id}/aftercare", tag = "treatments", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = TreatmentAftercare), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_aftercare(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<TreatmentAftercare>> {
    Ok(axum::Json(app.get_treatment_aftercare(&actor, id).await?))
}

/// A client's treatments, oldest first, each as the caller may see it.
#[utoipa::path(get, path = "/v1/clients/{id}/treatments", tag = "treatments",
    params(("id" = uuid::Uuid, Path, description = "The client"), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Treatment>), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_client_treatments(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(client_id): Id,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Treatment>>> {
    Ok(axum::Json(
        app.list_client_treatments(&actor, client_id, &page.into())
            .await?,
    ))
}
