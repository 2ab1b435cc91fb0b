//! The gRPC adapter: tonic services over the same app use cases as REST.

pub mod audit;
pub mod auth;
pub mod clients;
pub mod codec;
pub mod events;
pub mod inventory;
pub mod limits;
pub mod organization;
pub mod reports;
pub mod treatments;
pub mod webhooks;
pub mod wire;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use skinledger_app::{Actor, App, Error, IdempotencyKey, PageParams};
use skinledger_domain::ValidationErrors;
use skinledger_domain::depth::NeedleDepth;
use tonic::{Request, Status};
use uuid::Uuid;

pub use crate::common::{field_id, parse_date, parse_time};
use crate::error::ApiError;

/// The generated protobuf types and service traits of `skinledger.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
pub mod pb {
    tonic::include_proto!("skinledger.v1");

    /// The encoded descriptors of every service, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("skinledger_descriptor");
}

/// Maps an app error to a gRPC status.
pub fn status(err: Error) -> Status {
    ApiError(err).into_status()
}

/// The authenticated caller, from the `authorization` metadata.
pub async fn caller<T>(app: &App, request: &Request<T>) -> Result<Actor, Status> {
    if request.metadata().get_all("authorization").iter().count() > 1 {
        return Err(status(Error::BadRequest(
            "more than one authorization entry".into(),
        )));
    }
    let token = request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(crate::common::bearer)
        .ok_or_else(|| status(Error::unauthenticated()))?;
    app.authenticate(token, request_id(request))
        .await
        .map_err(status)
}

/// The request id, from the `x-request-id` metadata (set by the server when absent).
pub fn request_id<T>(request: &Request<T>) -> Option<String> {
    request
        .metadata()
        .get(crate::common::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The optional `idempotency-key` metadata.
pub fn idempotency_key<T>(request: &Request<T>) -> Result<Option<IdempotencyKey>, Status> {
    match request.metadata().get("idempotency-key") {
        None => Ok(None),
        Some(value) => {
            let raw = value
                .to_str()
                .map_err(|_| status(Error::invalid("idempotency-key", "must be visible ASCII")))?;
            IdempotencyKey::parse(raw).map(Some).map_err(status)
        }
    }
}

/// An id naming a resource: anything but a UUID cannot name one, so it is not found.
pub fn resource_id(raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw).map_err(|_| status(Error::NotFound("resource")))
}

/// Paging fields of a list request.
pub fn page(limit: Option<u64>, cursor: Option<String>) -> PageParams {
    PageParams { limit, cursor }
}

/// A time as it travels in protobuf: RFC 3339, UTC.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A date as it travels in protobuf: `YYYY-MM-DD`.
pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A needle depth in millimetres, checked as REST checks it.
pub fn parse_depth(errors: &mut ValidationErrors, field: &str, mm: f64) -> Option<NeedleDepth> {
    errors.check(field, NeedleDepth::from_mm(mm))
}

/// Each value of a repeated enum field, named `field[i]` when it is refused.
pub fn parse_all<T: std::str::FromStr>(
    errors: &mut ValidationErrors,
    field: &str,
    raw: &[String],
) -> Vec<T>
where
    T::Err: std::fmt::Display,
{
    raw.iter()
        .enumerate()
        .filter_map(|(i, v)| errors.check(&format!("{field}[{i}]"), v.parse()))
        .collect()
}

/// A read request as its use case takes it, or `INVALID_ARGUMENT` naming every field refused
/// while mapping it (reads are not audited).
pub fn checked<T>(mapped: Result<T, ValidationErrors>) -> Result<T, Status> {
    mapped.map_err(|e| status(Error::Invalid(e)))
}

/// A write request being mapped for its use case. Fields refused while mapping (422) are
/// audited as `request.invalid`, naming the method and the fields but never the values, as REST
/// audits a body it could not read; the use case audits its own refusals.
pub struct Write<'a> {
    app: &'a App,
    actor: &'a Actor,
    method: &'static str,
}

impl<'a> Write<'a> {
    /// The write `method` (`Service/Method`) by `actor`.
    pub fn new(app: &'a App, actor: &'a Actor, method: &'static str) -> Self {
        Self { app, actor, method }
    }

    /// The request as its use case takes it, or `INVALID_ARGUMENT` naming every field refused
    /// while mapping it, audited.
    pub async fn accept<T>(&self, mapped: Result<T, ValidationErrors>) -> Result<T, Status> {
        match mapped {
            Ok(request) => Ok(request),
            Err(errors) => {
                let err = Error::Invalid(errors);
                let route = format!("/skinledger.v1.{}", self.method);
                self.app
                    .audit_invalid_request(self.actor, &route, &err)
                    .await;
                Err(status(err))
            }
        }
    }
}
