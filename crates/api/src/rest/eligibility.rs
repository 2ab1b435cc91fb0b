//! `/v1/eligibility`: the dry run of a treatment.

use axum::extract::State;
use skinledger_app::App;
use skinledger_app::eligibility::{EligibilityAnswer, EligibilityRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Caller, Json};
use crate::error::{ApiResult, Problem};

/// The eligibility route.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(check_eligibility))
}

/// Check a planned treatment without recording anything: every blocker at once, each with its
/// `code`, and the earliest day the client could be treated.
///
/// The practitioner is the caller unless `practitioner_id` is sent; the day is today unless
/// `date` is.
#[utoipa::path(post, path = "/v1/eligibility", tag = "eligibility", request_body = EligibilityRequest, security(("bearer" = [])),
    responses((status = 200, body = EligibilityAnswer), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn check_eligibility(
    State(app): State<App>,
    Caller(actor): Caller,
    Json(body): Json<EligibilityRequest>,
) -> ApiResult<axum::Json<EligibilityAnswer>> {
    Ok(axum::Json(app.check_eligibility(&actor, body).await?))
}
