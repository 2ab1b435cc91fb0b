//! Operations endpoints outside `/v1`: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use skinledger_app::App;

/// Alive: the process answers.
pub async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// Ready: the database answers; 503 while it does not.
pub async fn readyz(State(app): State<App>) -> impl IntoResponse {
    // Probes give up after a second or two: answer 503 before they do.
    let ready = tokio::time::timeout(std::time::Duration::from_secs(1), app.ready())
        .await
        .unwrap_or(false);
    if ready {
        (StatusCode::OK, axum::Json(json!({ "status": "ready" })))
    } else if app.is_draining() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "unavailable", "reason": "shutting down" })),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({ "status": "unavailable", "reason": "database unreachable or not writable" }),
            ),
        )
    }
}
