//! Refusals as FHIR `OperationOutcome`s, with the HTTP status the REST API gives the same
//! refusal, and the extractors of the FHIR routes (caller, path id, search parameters), which
//! refuse in that form too.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fhir_model::BuilderError;
use fhir_model::r4b::codes::{IssueSeverity, IssueType};
use fhir_model::r4b::resources::{OperationOutcome, OperationOutcomeIssue};
use fhir_model::r4b::types::CodeableConcept;
use skinledger_app::{Actor, App, Error, ErrorCode};

use super::codes::{ERROR_CODES, coding};
use super::{FHIR_JSON, FhirJson};
use crate::error::ApiError;
use crate::rest::extract::Caller;

/// An error of a FHIR route, answered as an `OperationOutcome`.
#[derive(Debug)]
pub struct FhirError(pub Error);

impl From<Error> for FhirError {
    fn from(err: Error) -> Self {
        Self(err)
    }
}

impl From<ApiError> for FhirError {
    fn from(err: ApiError) -> Self {
        Self(err.0)
    }
}

impl From<BuilderError> for FhirError {
    fn from(err: BuilderError) -> Self {
        Self(Error::Internal(format!(
            "a FHIR resource could not be built: {err}"
        )))
    }
}

/// The result of a FHIR handler.
pub type FhirResult<T> = Result<T, FhirError>;

/// The FHIR issue type of each code of the catalogue.
fn issue_type(code: ErrorCode) -> IssueType {
    use ErrorCode as C;
    match code {
        C::NotFound => IssueType::NotFound,
        C::Unauthenticated | C::InvalidCredentials | C::InvalidGrant => IssueType::Login,
        C::Forbidden
        | C::ReauthenticationRequired
        | C::NotAssignedToClinic
        | C::OutsideScopeOfPractice => IssueType::Forbidden,
        C::BadRequest | C::ValidationFailed | C::IdempotencyKeyReused => IssueType::Invalid,
        C::MethodNotAllowed | C::UnsupportedMediaType => IssueType::NotSupported,
        C::PayloadTooLarge => IssueType::TooLong,
        C::RequestTimeout => IssueType::Timeout,
        C::TooManyAttempts => IssueType::Throttled,
        C::PreconditionFailed | C::IdempotencyKeyInFlight | C::StockChanged => IssueType::Conflict,
        C::CursorExpired => IssueType::Expired,
        C::Unavailable | C::InsufficientStorage => IssueType::Transient,
        C::Internal => IssueType::Exception,
        C::AlreadyExists
        | C::AlreadyReceived
        | C::AlreadyCancelled
        | C::CannotDeactivateSelf
        | C::ClinicInactive
        | C::Contraindicated
        | C::Deferred
        | C::LastOrgAdmin
        | C::LotExpired
        | C::LotRecalled
        | C::LotOnHold
        | C::LotNotOnHold
        | C::NoValidScreening
        | C::OutOfStock
        | C::RecordSigned
        | C::RequiresClearance
        | C::SerialAlreadyUsed
        | C::TooSoon
        | C::UnknownSerial => IssueType::BusinessRule,
    }
}

impl FhirError {
    /// The outcome document: one issue, or one per invalid field for a 422 or a bad search.
    fn outcome(&self, detail: &str) -> Result<OperationOutcome, BuilderError> {
        let code = self.0.code();
        let details = |text: &str| {
            CodeableConcept::builder()
                .coding(vec![Some(coding(ERROR_CODES, code.as_str(), None)?)])
                .text(text.to_owned())
                .build()
        };
        let issue = |text: &str, field: Option<&str>| {
            let builder = OperationOutcomeIssue::builder()
                .severity(IssueSeverity::Error)
                .code(issue_type(code))
                .details(details(text)?)
                .diagnostics(text.to_owned());
            match field {
                Some(field) => builder.expression(vec![Some(field.to_owned())]).build(),
                None => builder.build(),
            }
        };
        let issues = match &self.0 {
            Error::Invalid(errors) if !errors.0.is_empty() => errors
                .0
                .iter()
                .map(|e| issue(&format!("{}: {}", e.field, e.message), Some(&e.field)).map(Some))
                .collect::<Result<Vec<_>, _>>()?,
            _ => vec![Some(issue(detail, None)?)],
        };
        OperationOutcome::builder().issue(issues).build()
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let api = ApiError(self.0);
        api.log();
        let status = api.status();
        // The problem document says what a client may be told; internal details stay in the
        // log.
        let problem = api.problem();
        let error = FhirError(api.0);
        let retry_after = match &error.0 {
            Error::Throttled { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = match error.outcome(&problem.detail) {
            Ok(outcome) => FhirJson(outcome).into_response(),
            Err(_) => return ApiError(error.0).into_response(),
        };
        *response.status_mut() = status;
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        response
    }
}

/// The authenticated caller of a FHIR route, as the REST API resolves it.
#[derive(Debug, Clone)]
pub struct FhirCaller(pub Actor);

impl FromRequestParts<App> for FhirCaller {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Caller(actor) = Caller::from_request_parts(parts, app).await?;
        Ok(FhirCaller(actor))
    }
}

/// A resource id in the path. skinledger's ids are UUIDs: anything else names nothing, 404.
#[derive(Debug, Clone, Copy)]
pub struct FhirId(pub uuid::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for FhirId {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| FhirError(Error::NotFound("resource")))?;
        uuid::Uuid::parse_str(&raw)
            .map(FhirId)
            .map_err(|_| FhirError(Error::NotFound("resource")))
    }
}

/// The parameters of a search, as sent: every name with its value, in order.
#[derive(Debug, Clone)]
pub struct SearchParams(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for SearchParams {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(SearchParams)
            .map_err(|e| FhirError(Error::BadRequest(format!("invalid query string: {e}"))))
    }
}

impl SearchParams {
    /// The id of the patient named by the one parameter `name` (`{id}` or `Patient/{id}`) of a
    /// search that takes no other (`_format=json` aside). Refuses with 400 a search without
    /// it, with it twice, or with any other parameter: the server does not silently ignore a
    /// filter the client asked for. A value that names no patient of the organisation is a
    /// patient that does not exist: 404.
    pub fn patient(&self, name: &str) -> FhirResult<uuid::Uuid> {
        let mut found = None;
        for (key, value) in &self.0 {
            if key == name {
                if found.is_some() {
                    return Err(bad_search(format!("`{name}` is given twice")));
                }
                found = Some(value.as_str());
            } else if key == "_format" {
                if !matches!(
                    value.as_str(),
                    "json" | "application/json" | "application/fhir+json"
                ) {
                    return Err(bad_search(
                        "`_format` must be `json`: the server answers JSON only".into(),
                    ));
                }
            } else {
                return Err(bad_search(format!(
                    "the search parameter `{key}` is not supported; search by `{name}`"
                )));
            }
        }
        let value = found
            .ok_or_else(|| bad_search(format!("the search parameter `{name}` is required")))?;
        let id = value.strip_prefix("Patient/").unwrap_or(value);
        uuid::Uuid::parse_str(id).map_err(|_| FhirError(Error::NotFound("client")))
    }
}

fn bad_search(detail: String) -> FhirError {
    FhirError(Error::BadRequest(detail))
}
