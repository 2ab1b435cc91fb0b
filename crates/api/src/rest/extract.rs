//! Extractors: JSON bodies with precise errors, the authenticated caller, the request id,
//! `Idempotency-Key` and paging parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use skinledger_app::{Actor, App, Error, IdempotencyKey, PageParams};

use crate::BodyLimit;
use crate::common::{REQUEST_ID, bearer, parse_json};
use crate::error::ApiError;

/// The request id of the current request.
pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whether a body could not be read because it stopped arriving (the edge's body read timeout).
fn timed_out(rejection: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(rejection);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// A JSON body: 415 when it is not declared JSON, 400 when it is not JSON, 422 naming the field when a value is wrong or a field
/// is unknown, 413 over the body limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T> FromRequest<App> for Json<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || v.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Error::UnsupportedMediaType.into());
        }
        let limit = req.extensions().get::<BodyLimit>().map_or(0, |l| l.0);
        // The caller, when the route authenticated one, and the route, for the record of an
        // invalid request.
        let caller = req.extensions().get::<Caller>().cloned();
        let route = format!(
            "{} {}",
            req.method(),
            req.extensions()
                .get::<MatchedPath>()
                .map_or("", MatchedPath::as_str)
        );
        let bytes = Bytes::from_request(req, app).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(Error::TooLarge { limit })
            } else if timed_out(&rejection) {
                ApiError(Error::BodyTimeout)
            } else {
                ApiError(Error::BadRequest(rejection.body_text()))
            }
        })?;
        let err = match parse_json(&bytes) {
            Ok(value) => return Ok(Json(value)),
            Err(ApiError(err)) => err,
        };
        if let (Error::Invalid(_), Some(Caller(actor))) = (&err, caller) {
            app.audit_invalid_request(&actor, &route, &err).await;
        }
        Err(ApiError(err))
    }
}

/// The authenticated caller, from `Authorization: Bearer ...`.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if parts.headers.get_all(AUTHORIZATION).iter().count() > 1 {
            return Err(ApiError(Error::BadRequest(
                "more than one Authorization header".into(),
            )));
        }
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| ApiError(Error::unauthenticated()))?;
        let actor = app.authenticate(token, request_id(parts)).await?;
        // Kept for the body extractor, which records an invalid request under its caller.
        parts.extensions.insert(Caller(actor.clone()));
        Ok(Caller(actor))
    }
}

/// The request id, for use cases that run before authentication.
#[derive(Debug, Clone)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(request_id(parts)))
    }
}

/// The optional `Idempotency-Key` header.
#[derive(Debug, Clone)]
pub struct Idempotency(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Idempotency(None)),
            Some(value) => {
                let raw = value.to_str().map_err(|_| {
                    ApiError(Error::invalid("Idempotency-Key", "must be visible ASCII"))
                })?;
                Ok(Idempotency(Some(IdempotencyKey::parse(raw)?)))
            }
        }
    }
}

/// `?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl From<PageQuery> for PageParams {
    fn from(q: PageQuery) -> Self {
        PageParams {
            limit: q.limit,
            cursor: q.cursor,
        }
    }
}

/// Query strings with errors in our format.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|e| ApiError(Error::BadRequest(format!("invalid query string: {e}"))))
    }
}

/// A path id that must be a UUID: anything else cannot name a resource, so it answers 404.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub uuid::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError(Error::NotFound("resource")))?;
        uuid::Uuid::parse_str(&raw)
            .map(Id)
            .map_err(|_| ApiError(Error::NotFound("resource")))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use skinledger_app::Error;

    use super::parse_json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Outer {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Inner {
        flag: bool,
    }

    fn refused_field(body: &str) -> Option<String> {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(err) => match err.0 {
                Error::Invalid(errors) => errors.0.first().map(|e| e.field.clone()),
                _ => None,
            },
            Ok(_) => None,
        }
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        assert_eq!(
            refused_field(r#"{"inner": {"flag": true}}"#).as_deref(),
            Some("name")
        );
        assert_eq!(
            refused_field(r#"{"name": "x", "inner": {}}"#).as_deref(),
            Some("inner.flag")
        );
    }

    #[test]
    fn an_unknown_field_is_named_with_its_path() {
        assert_eq!(
            refused_field(r#"{"name": "x", "inner": {"flag": true}, "extra": 1}"#).as_deref(),
            Some("extra")
        );
        assert_eq!(
            refused_field(r#"{"name": "x", "inner": {"flag": true, "extra": 1}}"#).as_deref(),
            Some("inner.extra")
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Questionnaire {
        id: uuid::Uuid,
        answers: Answers,
        count: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Answers {
        pregnant: bool,
        active_acne: bool,
        since: chrono::NaiveDate,
        kind: Kind,
        medications: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Roller,
    }

    fn refused_fields(body: &str) -> Vec<String> {
        match parse_json::<Questionnaire>(body.as_bytes()).map_err(|e| e.0) {
            Err(Error::Invalid(errors)) => errors.0.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn every_missing_answer_of_a_nested_questionnaire_is_named() {
        assert_eq!(
            refused_fields(r#"{"answers": {"kind": "roller"}}"#),
            vec![
                "answers.pregnant",
                "answers.active_acne",
                "answers.since",
                "id",
                "count"
            ]
        );
    }

    #[test]
    fn wrong_and_missing_values_are_named_together() {
        assert_eq!(
            refused_fields(
                r#"{"id": "nope", "answers": {"pregnant": "yes", "since": "2020-01-01"}, "count": -1}"#
            ),
            vec!["answers.pregnant", "count", "id"]
        );
        // A missing field no stand-in fits ends the search, keeping what was found.
        assert_eq!(
            refused_fields(
                r#"{"answers": {"pregnant": true, "active_acne": false, "since": "2020-01-01"}, "count": 1}"#
            ),
            vec!["answers.kind"]
        );
    }

    #[test]
    fn a_malformed_document_is_a_bad_request() {
        assert!(matches!(
            parse_json::<Outer>(b"{oops").map_err(|e| e.0),
            Err(Error::BadRequest(_))
        ));
    }
}
