//! `/v1/policy`: the organisation's clinical policy, versioned.

use axum::extract::State;
use skinledger_app::App;
use skinledger_app::policy::PolicyVersion;
use skinledger_domain::policy::ClinicalPolicy;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::etag::{IfMatch, Tagged};
use super::extract::{Caller, Json};
use crate::error::{ApiResult, Problem};

/// The policy routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get_policy, put_policy))
}

/// The clinical policy in force, with its version (anyone in the organisation). Version 0 is
/// the DOMAIN.md defaults.
#[utoipa::path(get, path = "/v1/policy", tag = "policy", security(("bearer" = [])),
    responses((status = 200, body = PolicyVersion, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 401, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_policy(
    State(app): State<App>,
    Caller(actor): Caller,
) -> ApiResult<Tagged<axum::Json<PolicyVersion>>> {
    let policy = app.get_policy(&actor).await?;
    Ok(Tagged::new(Some(policy.version), axum::Json(policy)))
}

/// Replace the clinical policy (`org_admin`), making a new version.
///
/// The body is the policy document, the `document` of GET; fields left out take their
/// defaults. Sending the policy in force unchanged makes no new version.
#[utoipa::path(put, path = "/v1/policy", tag = "policy", security(("bearer" = [])),
    request_body(content = ClinicalPolicy, description = "The policy document, as `document` in the answer of GET"),
    params(("If-Match" = Option<String>, Header, description = "The ETag last read; 412 when the policy changed since")),
    responses((status = 200, body = PolicyVersion, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 403, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn put_policy(
    State(app): State<App>,
    Caller(actor): Caller,
    IfMatch(if_match): IfMatch,
    Json(document): Json<ClinicalPolicy>,
) -> ApiResult<Tagged<axum::Json<PolicyVersion>>> {
    let policy = app.put_policy(&actor, document, if_match).await?;
    Ok(Tagged::new(Some(policy.version), axum::Json(policy)))
}
