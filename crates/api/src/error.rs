//! One error type for both transports: RFC 9457 problem+json for REST, `tonic::Status` for
//! gRPC, with the same machine-readable `code` in both.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use skinledger_app::{Error, ErrorCode};
use skinledger_domain::FieldError;

/// An error on its way to a client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        Self(err)
    }
}

/// The problem document of RFC 9457, with our `code` and, for 422, the invalid fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// The stable machine-readable code (see the error catalogue).
    pub code: ErrorCode,
    /// Each invalid field, for 422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// Structured facts about a refusal (blockers, dates), when any.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RefusalFacts>)]
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Structured facts a 409 may carry beside `code`, as members of the problem document; which
/// ones depend on the code (see the error catalogue). Documentation only: the answers are built
/// where each refusal is decided.
#[derive(Debug, utoipa::ToSchema)]
#[expect(dead_code, reason = "describes members that refusals write as JSON")]
pub struct RefusalFacts {
    /// Every reason a treatment cannot go ahead (eligibility codes).
    blockers: Option<Vec<skinledger_domain::eligibility::Blocker>>,
    /// The first day time alone lifts every blocker, or `null`.
    earliest_eligible_on: Option<chrono::NaiveDate>,
    /// The index in `consumables` of the device refused.
    consumable: Option<u32>,
    /// The product of the device refused.
    product_id: Option<uuid::Uuid>,
    /// The clinic concerned.
    clinic_id: Option<uuid::Uuid>,
    /// The lot concerned.
    lot_id: Option<uuid::Uuid>,
    /// Units available when an adjustment asked for more.
    available: Option<i64>,
}

/// One invalid field.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// The field's name as sent.
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

impl From<&FieldError> for ProblemField {
    fn from(e: &FieldError) -> Self {
        Self {
            field: e.field.clone(),
            message: e.message.clone(),
        }
    }
}

impl ApiError {
    /// The HTTP status of this error: the one its code has.
    pub fn status(&self) -> StatusCode {
        http_status(self.0.code())
    }

    /// What a client may be told; internal details stay in the log.
    fn detail(&self) -> String {
        match &self.0 {
            Error::Internal(_) => "an internal error occurred; it has been logged".into(),
            Error::Unavailable(_) => "the service is unavailable; try again shortly".into(),
            Error::InsufficientStorage(_) => {
                "the database's storage is full; nothing was saved. Try again once space is freed"
                    .into()
            }
            other => other.to_string(),
        }
    }

    /// Writes what a client is not told (internal errors, an unavailable database) to the log.
    pub(crate) fn log(&self) {
        match &self.0 {
            Error::Internal(msg) => tracing::error!(error = %msg, "internal error"),
            Error::Unavailable(msg) => tracing::warn!(error = %msg, "database unavailable"),
            Error::InsufficientStorage(msg) => {
                tracing::error!(error = %msg, "database storage full: a write was refused");
            }
            _ => {}
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let code = self.0.code();
        let errors = match &self.0 {
            Error::Invalid(e) => e.0.iter().map(ProblemField::from).collect(),
            _ => Vec::new(),
        };
        let extra = match &self.0 {
            Error::Conflict {
                extra: Some(serde_json::Value::Object(map)),
                ..
            } => Some(map.clone()),
            Error::Conflict {
                extra: Some(value), ..
            } => {
                let mut map = serde_json::Map::new();
                map.insert("blockers".into(), value.clone());
                Some(map)
            }
            _ => None,
        };
        Problem {
            type_: format!("https://skinledger.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code,
            errors,
            extra,
        }
    }

    /// The gRPC status: the code that fits (`ALREADY_EXISTS` for a taken value, `ABORTED` for
    /// a stale version or a lost race, `FAILED_PRECONDITION` for clinical and stock refusals,
    /// ...), our `code` at the start of the message, and the standard details any gRPC client
    /// can read: `google.rpc.ErrorInfo` (reason = our `code`, domain `skinledger`, metadata =
    /// the refusal's facts), `BadRequest` naming every invalid field, `RetryInfo` when throttled.
    pub fn into_status(self) -> tonic::Status {
        use tonic_types::{ErrorDetails, StatusExt};
        self.log();
        let grpc = grpc_code(self.0.code());
        let mut message = format!("{}: {}", self.0.code(), self.detail());
        let mut details = ErrorDetails::new();
        let mut facts = std::collections::HashMap::new();
        if let Error::Conflict {
            extra: Some(extra), ..
        } = &self.0
        {
            for (key, value) in extra.as_object().into_iter().flatten() {
                let text = match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                facts.insert(key.clone(), text);
            }
        }
        details.set_error_info(self.0.code().as_str(), "skinledger", facts);
        if let Error::Invalid(errors) = &self.0 {
            let fields: Vec<String> = errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            message = format!("{}: {}", self.0.code(), fields.join("; "));
            for e in &errors.0 {
                details.add_bad_request_violation(e.field.clone(), e.message.clone());
            }
        }
        if let Error::Throttled { retry_after_secs } = &self.0 {
            details.set_retry_info(Some(std::time::Duration::from_secs(*retry_after_secs)));
        }
        let mut status = tonic::Status::with_error_details(grpc, message, details);
        if let Error::Throttled { retry_after_secs } = &self.0
            && let Ok(value) = retry_after_secs.to_string().parse()
        {
            status.metadata_mut().insert("retry-after", value);
        }
        if let Error::Conflict {
            extra: Some(extra), ..
        } = &self.0
            && let Ok(value) = extra.to_string().parse()
        {
            status.metadata_mut().insert("skinledger-detail", value);
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Error::Throttled { retry_after_secs } = &self.0
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if let Error::TooLarge { .. } | Error::BodyTimeout = &self.0 {
            // The rest of the body is not read: the connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Error::Unauthenticated { .. } = &self.0 {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The HTTP status of each code of the catalogue: every code has exactly one.
pub fn http_status(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::BadRequest => StatusCode::BAD_REQUEST,
        C::Unauthenticated | C::InvalidCredentials | C::InvalidGrant => StatusCode::UNAUTHORIZED,
        C::Forbidden
        | C::ReauthenticationRequired
        | C::NotAssignedToClinic
        | C::OutsideScopeOfPractice => StatusCode::FORBIDDEN,
        C::NotFound => StatusCode::NOT_FOUND,
        C::AlreadyExists
        | C::AlreadyReceived
        | C::AlreadyCancelled
        | C::CannotDeactivateSelf
        | C::ClinicInactive
        | C::Contraindicated
        | C::Deferred
        | C::IdempotencyKeyInFlight
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
        | C::StockChanged
        | C::TooSoon
        | C::UnknownSerial => StatusCode::CONFLICT,
        C::CursorExpired => StatusCode::GONE,
        C::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        C::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        C::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::ValidationFailed | C::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        C::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        C::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        C::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        C::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
    }
}

/// The gRPC code of each code of the catalogue: `ALREADY_EXISTS` for a taken value, `ABORTED`
/// for a stale version or a lost race (trying again may well succeed), `FAILED_PRECONDITION`
/// for clinical and stock refusals, `RESOURCE_EXHAUSTED` for throttling and full storage.
pub fn grpc_code(code: ErrorCode) -> tonic::Code {
    use ErrorCode as C;
    use tonic::Code;
    match code {
        C::BadRequest | C::UnsupportedMediaType | C::ValidationFailed | C::IdempotencyKeyReused => {
            Code::InvalidArgument
        }
        C::Unauthenticated | C::InvalidCredentials | C::InvalidGrant => Code::Unauthenticated,
        C::Forbidden
        | C::ReauthenticationRequired
        | C::NotAssignedToClinic
        | C::OutsideScopeOfPractice => Code::PermissionDenied,
        C::NotFound => Code::NotFound,
        C::AlreadyExists => Code::AlreadyExists,
        C::IdempotencyKeyInFlight | C::StockChanged | C::PreconditionFailed => Code::Aborted,
        C::AlreadyReceived
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
        | C::UnknownSerial => Code::FailedPrecondition,
        C::CursorExpired => Code::OutOfRange,
        C::MethodNotAllowed => Code::Unimplemented,
        C::RequestTimeout => Code::DeadlineExceeded,
        C::PayloadTooLarge | C::TooManyAttempts | C::InsufficientStorage => Code::ResourceExhausted,
        C::Internal => Code::Internal,
        C::Unavailable => Code::Unavailable,
    }
}

/// The gRPC specification's name of a status code (`NOT_FOUND`).
pub fn grpc_code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

impl From<ApiError> for tonic::Status {
    fn from(err: ApiError) -> Self {
        err.into_status()
    }
}

/// The result of a REST handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    #[test]
    fn a_refusal_s_facts_and_a_throttle_s_wait_travel_as_standard_grpc_details() {
        let facts =
            serde_json::json!({ "lot_id": "0190f0f0-0000-7000-8000-000000000001", "available": 2 });
        let status = ApiError(Error::Conflict {
            code: ErrorCode::OutOfStock,
            detail: "not enough units".into(),
            extra: Some(facts),
        })
        .into_status();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let details = status.get_error_details();
        let info = details.error_info();
        assert_eq!(info.map(|i| i.reason.as_str()), Some("out_of_stock"));
        let fact = |key: &str| info.and_then(|i| i.metadata.get(key)).map(String::as_str);
        assert_eq!(fact("lot_id"), Some("0190f0f0-0000-7000-8000-000000000001"));
        assert_eq!(fact("available"), Some("2"));

        let throttled = ApiError(Error::Throttled {
            retry_after_secs: 30,
        })
        .into_status();
        let retry = throttled.get_error_details().retry_info().cloned();
        assert_eq!(
            retry.and_then(|r| r.retry_delay),
            Some(std::time::Duration::from_secs(30))
        );
    }
}
