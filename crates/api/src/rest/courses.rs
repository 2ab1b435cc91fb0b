//! Courses: `/v1/clients/{id}/courses` and `/v1/courses/{id}`.

use axum::extract::State;
use skinledger_app::courses::{Course, NewCourse};
use skinledger_app::{App, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Created;
use super::extract::{Caller, Id, Idempotency, Json, PageQuery, Query};
use crate::error::{ApiResult, Problem};

/// The course routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_courses, create_course))
        .routes(routes!(get_course))
}

/// Put a client on a course: a policy `template` (`rejuvenation`, `acne_scarring`,
/// `maintenance`) or a custom plan (`name`, `sessions`, `min_interval_days`,
/// `max_interval_days`).
#[utoipa::path(post, path = "/v1/clients/{id}/courses", tag = "courses", request_body = NewCourse,
    params(("id" = uuid::Uuid, Path, description = "The client"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    security(("bearer" = [])),
    responses((status = 201, body = Course), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn create_course(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(client_id): Id,
    Idempotency(key): Idempotency,
    Json(body): Json<NewCourse>,
) -> ApiResult<Created<axum::Json<Course>>> {
    let course = app
        .create_course(&actor, client_id, body, key.as_ref())
        .await?;
    Ok(Created(
        format!("/v1/courses/{}", course.id),
        axum::Json(course),
    ))
}

/// A client's courses, oldest first, each with its progress (any role).
#[utoipa::path(get, path = "/v1/clients/{id}/courses", tag = "courses",
    params(("id" = uuid::Uuid, Path, description = "The client"), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Course>), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_courses(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(client_id): Id,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Course>>> {
    Ok(axum::Json(
        app.list_client_courses(&actor, client_id, &page.into())
            .await?,
    ))
}

/// One course: sessions done and remaining, and the next due window (any role).
#[utoipa::path(get, path = "/v1/courses/{id}", tag = "courses", params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Course), (status = 404, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn get_course(
    State(app): State<App>,
    Caller(actor): Caller,
    Id(id): Id,
) -> ApiResult<axum::Json<Course>> {
    Ok(axum::Json(app.get_course(&actor, id).await?))
}
