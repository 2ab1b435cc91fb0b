//! `/v1/events`: the ordered feed of integration events.

use std::time::Duration;

use axum::extract::State;
use serde::Deserialize;
use skinledger_app::events::{EventPage, FeedQuery};
use skinledger_app::{App, Error};
use skinledger_domain::ValidationErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Caller, Query};
use crate::error::{ApiResult, Problem};

/// The event routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// Where to resume the feed, what to see of it, and how long to wait.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// The `next_cursor` of the last page; from the oldest event kept when absent.
    after: Option<String>,
    /// Only these types, comma-separated (`treatment.created,treatment.signed`).
    types: Option<String>,
    /// Only events at this clinic (either side of a transfer).
    clinic_id: Option<uuid::Uuid>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
    /// Seconds to wait for a newer event when there is none yet, up to 30 (`30` or `30s`).
    #[param(pattern = "^[0-9]{1,2}s?$")]
    wait: Option<String>,
}

/// The organisation's events after a cursor, oldest first, as far as the caller's roles let
/// them see (a clinic's staff, their clinics' events; an API client, its grants). With `wait`,
/// the answer is held until an event arrives or the wait ends (long polling). A cursor older
/// than the retention answers 410 `cursor_expired`: resynchronise, then follow from a new
/// cursor.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsQuery), security(("bearer" = [])),
    responses((status = 200, body = EventPage), (status = 410, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_events(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<EventPage>> {
    let mut errors = ValidationErrors::new();
    let types = q
        .types
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .filter_map(|t| match t.parse() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add("types", format!("`{t}` is not an event type"));
                None
            }
        })
        .collect();
    let wait = match q.wait.as_deref() {
        None => None,
        Some(raw) => match raw.strip_suffix('s').unwrap_or(raw).parse::<u64>() {
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => {
                errors.add("wait", "must be a number of seconds, up to 30");
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors).into());
    }
    let query = FeedQuery {
        after: q.after,
        types,
        clinic_id: q.clinic_id,
        limit: q.limit,
        wait,
    };
    Ok(axum::Json(app.list_events(&actor, &query).await?))
}
