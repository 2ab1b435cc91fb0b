//! Extractors: JSON bodies with precise errors, the authenticated caller, the request id,
//! `Idempotency-Key` and paging parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use skinledger_app::{Actor, App, Error, IdempotencyKey, PageParams};
use skinledger_domain::ValidationErrors;

use crate::BodyLimit;
use crate::error::ApiError;

/// The request id header, set by the server when the client sent none.
pub const REQUEST_ID: &str = "x-request-id";

/// The request id of the current request.
pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A JSON body: 400 when it is not JSON, 422 naming the field when a value is wrong or a field
/// is unknown, 413 over the body limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
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
            return Err(Error::BadRequest(
                "expected a body with Content-Type: application/json".into(),
            )
            .into());
        }
        let limit = req.extensions().get::<BodyLimit>().map_or(0, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(Error::TooLarge { limit })
            } else {
                ApiError(Error::BadRequest(rejection.body_text()))
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON, telling malformed documents (400) from wrong values (422, naming the field).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => value,
        Err(err) => {
            let inner = err.inner();
            if matches!(
                inner.classify(),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof
            ) {
                return Err(Error::BadRequest(format!("malformed JSON: {inner}")).into());
            }
            let message = inner.to_string();
            let path = err.path().to_string();
            // For an unknown field the path already ends with its name; for a missing one it
            // names the object the field is missing from.
            let field = match (path.as_str(), named_field(&message, "unknown field `")) {
                (".", Some(name)) => name,
                _ => match (path.as_str(), named_field(&message, "missing field `")) {
                    (".", Some(name)) => name,
                    (_, Some(name)) => format!("{path}.{name}"),
                    (".", None) => "body".into(),
                    _ => path,
                },
            };
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            return Err(Error::Invalid(ValidationErrors::single(field, message)).into());
        }
    };
    deserializer
        .end()
        .map_err(|e| ApiError(Error::BadRequest(format!("malformed JSON: {e}"))))?;
    Ok(value)
}

/// The field named in a serde message starting with `prefix` (`unknown field \``).
fn named_field(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    Some(rest.split('`').next()?.to_owned())
}

/// The authenticated caller, from `Authorization: Bearer ...`.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| ApiError(Error::unauthenticated()))?;
        let actor = app.authenticate(token, request_id(parts)).await?;
        Ok(Caller(actor))
    }
}

/// The token of an `Authorization: Bearer <token>` value.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
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

    #[test]
    fn a_malformed_document_is_a_bad_request() {
        assert!(matches!(
            parse_json::<Outer>(b"{oops").map_err(|e| e.0),
            Err(Error::BadRequest(_))
        ));
    }
}
