//! `/v1/reports`: low stock, expiring lots, usage and disposals, each answered as
//! `{"items": [...]}` like the lists.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use skinledger_app::disposals::DisposalLine;
use skinledger_app::reports::{ExpiringLine, LowStockLine, ReportPeriod, UsageLine};
use skinledger_app::{App, Error};
use skinledger_domain::ValidationErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Caller, Query};
use crate::common::{field_id, parse_date};
use crate::error::{ApiResult, Problem};

/// The report routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(low_stock_report))
        .routes(routes!(expiring_report))
        .routes(routes!(usage_report))
        .routes(routes!(disposal_report))
}

/// A report's lines, wrapped as list items are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Report<T> {
    /// The lines.
    pub items: Vec<T>,
}

/// `?within_days=`, read as text so that a malformed value is refused naming it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExpiringQuery {
    /// Days from today, 1 to 3650 (default 30).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    within_days: Option<String>,
}

/// `?from=&to=&clinic_id=`, read as text so that a malformed value is refused naming it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PeriodParams {
    /// The first day, inclusive (`YYYY-MM-DD`).
    #[param(value_type = chrono::NaiveDate, required = true)]
    from: Option<String>,
    /// The last day, inclusive (`YYYY-MM-DD`).
    #[param(value_type = chrono::NaiveDate, required = true)]
    to: Option<String>,
    /// Only this clinic.
    #[param(value_type = Option<uuid::Uuid>)]
    clinic_id: Option<String>,
}

/// Every product at or below its reorder point at each open clinic the caller reports on
/// (clinic managers and `org_admin`). Only usable units count: of active lots, not expired.
#[utoipa::path(get, path = "/v1/reports/low-stock", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = Report<LowStockLine>), (status = 403, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn low_stock_report(
    State(app): State<App>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Report<LowStockLine>>> {
    let items = app.low_stock_report(&actor).await?;
    Ok(axum::Json(Report { items }))
}

/// Units on hand whose lot expires within `within_days` days from today, or has expired,
/// first expiry first (clinic managers and `org_admin`).
#[utoipa::path(get, path = "/v1/reports/expiring", tag = "reports", params(ExpiringQuery), security(("bearer" = [])),
    responses((status = 200, body = Report<ExpiringLine>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn expiring_report(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<ExpiringQuery>,
) -> ApiResult<axum::Json<Report<ExpiringLine>>> {
    let days = q
        .within_days
        .map(|raw| {
            raw.trim()
                .parse::<u32>()
                .map_err(|_| skinledger_app::reports::within_days_refused())
        })
        .transpose()?;
    let items = app.expiring_report(&actor, days).await?;
    Ok(axum::Json(Report { items }))
}

/// Units consumed by treatments per clinic and product from `from` to `to`, both inclusive,
/// optionally at one clinic (clinic managers and `org_admin`).
#[utoipa::path(get, path = "/v1/reports/usage", tag = "reports", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = Report<UsageLine>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn usage_report(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<PeriodParams>,
) -> ApiResult<axum::Json<Report<UsageLine>>> {
    let items = app.usage_report(&actor, &period(q)?).await?;
    Ok(axum::Json(Report { items }))
}

/// Each practitioner who wrote off more than one unit at a clinic on one day from `from` to
/// `to`, both inclusive, days on each clinic's calendar, newest first, optionally at one clinic
/// (clinic managers and `org_admin`).
#[utoipa::path(get, path = "/v1/reports/disposals", tag = "reports", params(PeriodParams), security(("bearer" = [])),
    responses((status = 200, body = Report<DisposalLine>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn disposal_report(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<PeriodParams>,
) -> ApiResult<axum::Json<Report<DisposalLine>>> {
    let items = app.disposal_report(&actor, &period(q)?).await?;
    Ok(axum::Json(Report { items }))
}

/// The period of a report, every malformed or missing field named.
fn period(q: PeriodParams) -> Result<ReportPeriod, Error> {
    let mut errors = ValidationErrors::new();
    let mut day = |field: &str, raw: Option<String>| match raw {
        Some(raw) => parse_date(&mut errors, field, raw.trim()),
        None => {
            errors.add(field, "is required, as YYYY-MM-DD");
            None
        }
    };
    let (from, to) = (day("from", q.from), day("to", q.to));
    let clinic_id = q
        .clinic_id
        .and_then(|c| field_id(&mut errors, "clinic_id", c.trim()));
    errors.into_result().map_err(Error::from)?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(Error::Internal("validated report period missing".into()));
    };
    Ok(ReportPeriod {
        from,
        to,
        clinic_id,
    })
}
