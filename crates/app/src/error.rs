//! The one error type of the app layer. Each error has a stable [`ErrorCode`]; the api layer
//! maps the code once to HTTP and once to gRPC.

use serde_json::Value;
pub use skinledger_domain::ErrorCode;
use skinledger_domain::ValidationErrors;

/// Why a use case did not complete.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credentials, or credentials that do not hold (401).
    #[error("{detail}")]
    Unauthenticated {
        /// `unauthenticated` or `invalid_credentials`, `invalid_grant`.
        code: ErrorCode,
        /// What a client may be told.
        detail: &'static str,
    },
    /// Authenticated, but not allowed to do this (403).
    #[error("{detail}")]
    Forbidden {
        /// `forbidden` or a more precise refusal such as `outside_scope_of_practice`.
        code: ErrorCode,
        /// What a client may be told.
        detail: String,
    },
    /// Nothing of that kind with that id in the caller's organisation (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A business rule refuses the change (409).
    #[error("{detail}")]
    Conflict {
        /// The rule, e.g. `already_exists`, `record_signed`, `out_of_stock`.
        code: ErrorCode,
        /// What a client may be told.
        detail: String,
        /// Structured facts about the refusal (blockers, dates), when any.
        extra: Option<Value>,
    },
    /// What was asked for is no longer kept (410), e.g. a feed cursor older than retention.
    #[error("{detail}")]
    Gone {
        /// `cursor_expired`.
        code: ErrorCode,
        /// What a client may be told.
        detail: String,
    },
    /// The `If-Match` version is not the current one (412).
    #[error("the resource changed since it was read")]
    PreconditionFailed,
    /// Field values that are not acceptable, each named (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// A request that could not be understood (400).
    #[error("{0}")]
    BadRequest(String),
    /// A request body over the configured limit (413).
    #[error("the request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not in a media type the operation reads (415).
    #[error("expected a body with Content-Type: application/json")]
    UnsupportedMediaType,
    /// The path exists, but not with this method (405).
    #[error("this method is not allowed here; see the Allow header")]
    MethodNotAllowed,
    /// The request body stopped arriving (408).
    #[error("the request body stopped arriving; send it again")]
    BodyTimeout,
    /// Too many attempts; try again later (429).
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled {
        /// Seconds until attempts are accepted again.
        retry_after_secs: u64,
    },
    /// The same `Idempotency-Key` came with another request (422).
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// Something failed inside; details are in the log, never in the answer (500).
    #[error("internal error")]
    Internal(String),
    /// The database cannot be reached or cannot write now (503).
    #[error("service unavailable")]
    Unavailable(String),
    /// The database's disk is full: the write was not saved (507).
    #[error("insufficient storage")]
    InsufficientStorage(String),
}

impl Error {
    /// The stable, machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Unauthenticated { code, .. }
            | Error::Forbidden { code, .. }
            | Error::Conflict { code, .. }
            | Error::Gone { code, .. } => *code,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::PreconditionFailed => ErrorCode::PreconditionFailed,
            Error::Invalid(_) => ErrorCode::ValidationFailed,
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            Error::BodyTimeout => ErrorCode::RequestTimeout,
            Error::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Error::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Error::Throttled { .. } => ErrorCode::TooManyAttempts,
            Error::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            Error::Internal(_) => ErrorCode::Internal,
            Error::Unavailable(_) => ErrorCode::Unavailable,
            Error::InsufficientStorage(_) => ErrorCode::InsufficientStorage,
        }
    }

    /// 403 `forbidden`.
    pub fn forbidden() -> Self {
        Error::Forbidden {
            code: ErrorCode::Forbidden,
            detail: "your roles do not allow this".into(),
        }
    }

    /// 401 for a missing or unusable access token.
    pub fn unauthenticated() -> Self {
        Error::Unauthenticated {
            code: ErrorCode::Unauthenticated,
            detail: "a valid access token is required",
        }
    }

    /// 409 with a code and a message.
    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            detail: detail.into(),
            extra: None,
        }
    }

    /// 422 for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid(ValidationErrors::single(field, message))
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        match skinledger_store::failure(&err) {
            skinledger_store::Failure::StorageFull => Error::InsufficientStorage(err.to_string()),
            skinledger_store::Failure::Unavailable => Error::Unavailable(err.to_string()),
            skinledger_store::Failure::Other => Error::Internal(err.to_string()),
        }
    }
}

/// The result of a use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;
