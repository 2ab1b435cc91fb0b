//! Clinics, staff and API clients.

use axum::extract::State;
use serde::Deserialize;
use skinledger_app::api_clients::{ApiClient, NewApiClient};
use skinledger_app::auth::RoleGrant;
use skinledger_app::clinics::{Clinic, ClinicChanges, NewClinic};
use skinledger_app::staff::{NewStaff, StaffChanges, StaffMember};
use skinledger_app::{App, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::extract::{Caller, Id, Idempotency, Json, PageQuery, Query};
use crate::error::{ApiResult, Problem};

/// The organisation routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_clinics, create_clinic))
        .routes(routes!(get_clinic, update_clinic))
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(get_staff, update_staff))
        .routes(routes!(set_staff_roles))
        .routes(routes!(deactivate_staff))
        .routes(routes!(list_api_clients, create_api_client))
        .routes(routes!(revoke_api_client))
}

/// Open a clinic (`org_admin`).
#[utoipa::path(post, path = "/v1/clinics", tag = "clinics", request_body = NewClinic, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = Clinic), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_clinic(
    State(app): State<App>,
    Caller(actor): Caller,
    Idempotency(key): Idempotency,
    Json(body): Json<NewClinic>,
) -> ApiResult<Created<axum::Json<Clinic>>> {
    let clinic = app.create_clinic(&actor, body, key.as_ref()).await?;
    Ok(Created(
        format!("/v1/clinics/{}", clinic.id),
        axum::Json(clinic),
    ))
}

/// The clinics the caller may see.
#[utoipa::path(get, path = "/v1/clinics", tag = "clinics", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Clinic>)))]
#[tracing::instrument(skip_all)]
async fn list_clinics(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Clinic>>> {
    Ok(axum::Json(app.list_clinics(&actor, &page.into()).await?))
}

/// One clinic.
#[utoipa::path(get, path = "/v1/clinics/{id}", tag = "clinics", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Clinic), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_clinic(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<Clinic>> {
    Ok(axum::Json(app.get_clinic(&actor, id).await?))
}

/// Change a clinic (`org_admin`).
#[utoipa::path(patch, path = "/v1/clinics/{id}", tag = "clinics", params(("id" = uuid::Uuid, Path)), request_body = ClinicChanges,
    security(("bearer" = [])), responses((status = 200, body = Clinic), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn update_clinic(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Json(body): Json<ClinicChanges>,
) -> ApiResult<axum::Json<Clinic>> {
    Ok(axum::Json(app.update_clinic(&actor, id, body).await?))
}

/// Add a staff member (`org_admin`).
#[utoipa::path(post, path = "/v1/staff", tag = "staff", request_body = NewStaff, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = StaffMember), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_staff(
    State(app): State<App>,
    Caller(actor): Caller,
    Idempotency(key): Idempotency,
    Json(body): Json<NewStaff>,
) -> ApiResult<Created<axum::Json<StaffMember>>> {
    let member = app.create_staff(&actor, body, key.as_ref()).await?;
    Ok(Created(
        format!("/v1/staff/{}", member.id),
        axum::Json(member),
    ))
}

/// Staff the caller may see.
#[utoipa::path(get, path = "/v1/staff", tag = "staff", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<StaffMember>)))]
#[tracing::instrument(skip_all)]
async fn list_staff(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<StaffMember>>> {
    Ok(axum::Json(app.list_staff(&actor, &page.into()).await?))
}

/// One staff member.
#[utoipa::path(get, path = "/v1/staff/{id}", tag = "staff", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = StaffMember), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_staff(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<StaffMember>> {
    Ok(axum::Json(app.get_staff(&actor, id).await?))
}

/// Change a staff member's email, name or password.
#[utoipa::path(patch, path = "/v1/staff/{id}", tag = "staff", params(("id" = uuid::Uuid, Path)), request_body = StaffChanges,
    security(("bearer" = [])), responses((status = 200, body = StaffMember), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn update_staff(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Json(body): Json<StaffChanges>,
) -> ApiResult<axum::Json<StaffMember>> {
    Ok(axum::Json(app.update_staff(&actor, id, body).await?))
}

/// The full set of roles a staff member should hold.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RolesBody {
    /// Roles per clinic, and `org_admin` without a clinic.
    roles: Vec<RoleGrant>,
}

/// Replace a staff member's roles.
#[utoipa::path(put, path = "/v1/staff/{id}/roles", tag = "staff", params(("id" = uuid::Uuid, Path)), request_body = RolesBody,
    security(("bearer" = [])), responses((status = 200, body = StaffMember), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn set_staff_roles(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
    Json(body): Json<RolesBody>,
) -> ApiResult<axum::Json<StaffMember>> {
    Ok(axum::Json(
        app.set_staff_roles(&actor, id, body.roles).await?,
    ))
}

/// Deactivate a staff member: no more logins or refreshes.
#[utoipa::path(post, path = "/v1/staff/{id}/deactivate", tag = "staff", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = StaffMember), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn deactivate_staff(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<StaffMember>> {
    Ok(axum::Json(app.deactivate_staff(&actor, id).await?))
}

/// Create an API client; the secret is in this answer only.
#[utoipa::path(post, path = "/v1/api-clients", tag = "api-clients", request_body = NewApiClient, security(("bearer" = [])),
    responses((status = 201, body = ApiClient), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_api_client(
    State(app): State<App>,
    Caller(actor): Caller,
    Json(body): Json<NewApiClient>,
) -> ApiResult<Created<axum::Json<ApiClient>>> {
    let client = app.create_api_client(&actor, body).await?;
    Ok(Created(
        format!("/v1/api-clients/{}", client.id),
        axum::Json(client),
    ))
}

/// The organisation's API clients.
#[utoipa::path(get, path = "/v1/api-clients", tag = "api-clients", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ApiClient>)))]
#[tracing::instrument(skip_all)]
async fn list_api_clients(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<ApiClient>>> {
    Ok(axum::Json(
        app.list_api_clients(&actor, &page.into()).await?,
    ))
}

/// Revoke an API client.
#[utoipa::path(delete, path = "/v1/api-clients/{id}", tag = "api-clients", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = ApiClient), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn revoke_api_client(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<ApiClient>> {
    Ok(axum::Json(app.revoke_api_client(&actor, id).await?))
}
