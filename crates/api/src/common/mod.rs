//! What both transports read the same way: headers and metadata, JSON documents, fields.
//! REST (`rest`) and gRPC (`grpc`) import from here, never from each other.

mod json;

use chrono::{DateTime, NaiveDate, Utc};
use skinledger_app::recalls::LotTrace;
use skinledger_domain::ValidationErrors;
use uuid::Uuid;

pub use json::parse_json;

/// The request id header (gRPC metadata key), set by the server when the client sent none.
pub const REQUEST_ID: &str = "x-request-id";

/// The token of an `Authorization: Bearer <token>` value.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// An id inside a request: a malformed one is an invalid field.
pub fn field_id(errors: &mut ValidationErrors, field: &str, raw: &str) -> Option<Uuid> {
    errors.check(field, Uuid::parse_str(raw).map_err(|_| "must be a UUID"))
}

/// A `YYYY-MM-DD` field; a malformed one is an invalid field.
pub fn parse_date(errors: &mut ValidationErrors, field: &str, raw: &str) -> Option<NaiveDate> {
    errors.check(
        field,
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD"),
    )
}

/// An RFC 3339 time field, converted to UTC; a malformed one is an invalid field.
pub fn parse_time(errors: &mut ValidationErrors, field: &str, raw: &str) -> Option<DateTime<Utc>> {
    errors.check(
        field,
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| "must be an RFC 3339 time"),
    )
}

/// The file name a CSV trace is saved under: the lot number, with anything a file system or a
/// header might trip on replaced.
pub fn trace_filename(trace: &LotTrace) -> String {
    let lot: String = trace
        .lot
        .lot_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("trace-lot-{lot}.csv")
}
