//! `/v1/audit-events` and the audit chain (`/v1/audit/head`, `/v1/audit/verify`).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use skinledger_app::audit::{AuditEntry, AuditFilter};
use skinledger_app::audit_chain::{Anchor, AuditHead, AuditVerification};
use skinledger_app::{Actor, App, Page, PageParams};
use skinledger_domain::ValidationErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accept::{APPLICATION_JSONL, prefers_jsonl};
use super::extract::{Caller, Query};
use crate::common::{field_id, parse_time};
use crate::error::{ApiResult, Problem};

/// The audit routes.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_audit_events))
        .routes(routes!(audit_head))
        .routes(routes!(verify_audit_chain))
}

/// Filters and paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Page size, 1 to 200 (JSON only: JSON Lines answers every event that matches).
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only events about this entity.
    entity_id: Option<String>,
    /// Only events naming this client.
    client_id: Option<String>,
    /// Only events of this action, e.g. `auth.login`.
    action: Option<String>,
    /// Only events with this outcome: `success`, `failure`, `denied` (refused by
    /// permission), `refused` (refused by a rule or invalid input), `throttled`.
    outcome: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. `2026-12-01T00:00:00Z`).
    from: Option<String>,
    /// Only events before this time (RFC 3339).
    to: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let id = |errors: &mut ValidationErrors, field, raw: &Option<String>| {
            raw.as_deref().and_then(|r| field_id(errors, field, r))
        };
        let time = |errors: &mut ValidationErrors, field, raw: &Option<String>| {
            raw.as_deref().and_then(|r| parse_time(errors, field, r))
        };
        let filter = AuditFilter {
            entity_id: id(&mut errors, "entity_id", &self.entity_id),
            client_id: id(&mut errors, "client_id", &self.client_id),
            action: self.action.clone(),
            outcome: self.outcome.clone(),
            from: time(&mut errors, "from", &self.from),
            to: time(&mut errors, "to", &self.to),
        };
        errors.into_result()?;
        Ok(filter)
    }
}

/// The organisation's audit log, oldest first (`org_admin`).
///
/// With `Accept: application/jsonl` (or `application/x-ndjson`) every event that matches the
/// filters is answered as JSON Lines, one event per line, without paging: with `from` and `to`,
/// the export of a period. Each event carries its chain number and hashes, so an export can be
/// verified on its own (see "The audit chain" in the API documentation).
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events; or JSON Lines when asked for", content(
            (Page<AuditEntry> = "application/json"),
            (String = "application/jsonl"),
        )),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn list_audit_events(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<AuditQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let filter = q.filter().map_err(skinledger_app::Error::from)?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    };
    let mut response = if prefers_jsonl(&headers) {
        export(app, actor, filter).await?
    } else {
        axum::Json(app.list_audit_events(&actor, &filter, &page).await?).into_response()
    };
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// Every event that matches, as JSON Lines, read a page at a time while the answer streams.
/// The first page is read before answering, so that a refusal is an error status.
async fn export(app: App, actor: Actor, filter: AuditFilter) -> ApiResult<Response> {
    const PAGE: u64 = 200;
    let params = |cursor| PageParams {
        limit: Some(PAGE),
        cursor,
    };
    let first = app
        .list_audit_events(&actor, &filter, &params(None))
        .await?;
    let pages = futures::stream::unfold(Some(first), move |page| {
        let (app, actor, filter) = (app.clone(), actor.clone(), filter.clone());
        async move {
            let page = page?;
            let mut lines = Vec::new();
            for entry in &page.items {
                if serde_json::to_writer(&mut lines, entry).is_err() {
                    return Some((Err(std::io::Error::other("unserialisable event")), None));
                }
                lines.push(b'\n');
            }
            let next = match page.next_cursor {
                Some(cursor) => {
                    match app
                        .list_audit_events(&actor, &filter, &params(Some(cursor)))
                        .await
                    {
                        Ok(next) => Some(next),
                        // The answer has begun: end it early; the client sees a short body.
                        Err(e) => {
                            return Some((Err(std::io::Error::other(e.to_string())), None));
                        }
                    }
                }
                None => None,
            };
            Some((Ok(bytes::Bytes::from(lines)), next))
        }
    });
    let mut response = Body::from_stream(pages).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSONL));
    Ok(response)
}

/// The head of the organisation's audit chain: the number and hash of its last event
/// (`org_admin`). Keep it somewhere else (a ticket, an email, a notary); a later
/// verification with it as the anchor proves that nothing up to it was rewritten.
#[utoipa::path(get, path = "/v1/audit/head", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditHead), (status = 403, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn audit_head(
    State(app): State<App>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<AuditHead>> {
    Ok(axum::Json(app.audit_head(&actor).await?))
}

/// An earlier head to check the chain against.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct VerifyQuery {
    /// The number of an anchored head.
    anchor_seq: Option<i64>,
    /// Its hash; with `anchor_seq`.
    anchor_hash: Option<String>,
}

/// Walk the organisation's audit chain (`org_admin`).
///
/// Recomputes every event's hash from its content and the hash before it, in order, and
/// compares the end with the head recorded. Answers 200 either way: `verified` says whether the
/// chain holds, and `broken` names the first event where it does not and what is wrong there.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", params(VerifyQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditVerification), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(skip_all)]
async fn verify_audit_chain(
    State(app): State<App>,
    Caller(actor): Caller,
    Query(q): Query<VerifyQuery>,
) -> ApiResult<axum::Json<AuditVerification>> {
    let anchor = Anchor::parse(q.anchor_seq, q.anchor_hash).map_err(skinledger_app::Error::from)?;
    Ok(axum::Json(app.verify_audit_chain(&actor, anchor).await?))
}
