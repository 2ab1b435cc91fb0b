//! The read-only FHIR R4 export under `/fhir/R4`, for a client's other care providers and the
//! chain's data warehouse: `Patient`, `Procedure`, `Device`, `AdverseEvent`, `Consent`,
//! `Patient/{id}/$everything` and the `CapabilityStatement`, as `application/fhir+json`.
//!
//! The handlers authenticate as the REST API does and call the same use cases, so tenancy
//! (another organisation's id is 404), the role rules (a treatment in full only for roles that
//! read clinical content at its clinic) and the audit of reads are the API's own. This module
//! only maps the app's answers to the FHIR models of `fhir-model` (R4B, whose `Patient`,
//! `Procedure`, `Device`, `AdverseEvent`, `Consent`, `Bundle`, `CapabilityStatement` and
//! `OperationOutcome` are those of R4), and refusals to `OperationOutcome`s.

pub mod adverse_event;
pub mod capability;
pub mod codes;
pub mod device;
pub mod handlers;
pub mod outcome;
pub mod patient;
pub mod procedure;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fhir_model::BuilderError;
use fhir_model::r4b::codes::{BundleType, SearchEntryMode};
use fhir_model::r4b::resources::{Bundle, BundleEntry, BundleEntrySearch, Resource};
use fhir_model::r4b::types::Meta;
use serde::Serialize;
use skinledger_app::App;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The media type of every FHIR answer, refusals included: FHIR JSON, version 4.0 (R4).
pub const FHIR_JSON: &str = "application/fhir+json; fhirVersion=4.0";

/// A FHIR resource, answered as `application/fhir+json`.
#[derive(Debug)]
pub struct FhirJson<T>(pub T);

impl<T: Serialize> IntoResponse for FhirJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => {
                let mut response = body.into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
                response
            }
            Err(e) => outcome::FhirError(skinledger_app::Error::Internal(format!(
                "a FHIR resource could not be written: {e}"
            )))
            .into_response(),
        }
    }
}

/// A `searchset` bundle of `resources`, every one a match, with their count as `total`.
pub fn searchset(resources: Vec<Resource>) -> Result<Bundle, BuilderError> {
    let total = u32::try_from(resources.len()).unwrap_or(u32::MAX);
    let now = codes::instant(chrono::Utc::now());
    let entries = resources
        .into_iter()
        .map(|resource| {
            BundleEntry::builder()
                .resource(resource)
                .search(
                    BundleEntrySearch::builder()
                        .mode(SearchEntryMode::Match)
                        .build()?,
                )
                .build()
                .map(Some)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Bundle::builder()
        .meta(Meta::builder().last_updated(now.clone()).build()?)
        .r#type(BundleType::Searchset)
        .timestamp(now)
        .total(total)
        .entry(entries)
        .build()
}

/// Every FHIR route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(handlers::metadata))
        .routes(routes!(handlers::read_patient))
        .routes(routes!(handlers::patient_everything))
        .routes(routes!(handlers::search_procedures))
        .routes(routes!(handlers::read_device))
        .routes(routes!(handlers::search_adverse_events))
        .routes(routes!(handlers::search_consents))
}

/// How the OpenAPI document describes a FHIR resource: its type and id; the members are those
/// of the FHIR R4 specification (<https://hl7.org/fhir/R4/resourcelist.html>).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FhirResource)]
pub struct FhirResourceDoc {
    /// The resource type (`Patient`, `Procedure`, `Device`, `AdverseEvent`, `Consent`,
    /// `Bundle`, `CapabilityStatement`).
    #[serde(rename = "resourceType")]
    resource_type: String,
    /// The logical id.
    id: Option<String>,
}

/// How the OpenAPI document describes a FHIR `OperationOutcome`: the refusal of a FHIR route
/// (<https://hl7.org/fhir/R4/operationoutcome.html>).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OperationOutcome)]
pub struct OperationOutcomeDoc {
    /// Always `OperationOutcome`.
    #[serde(rename = "resourceType")]
    resource_type: String,
    /// What went wrong: `severity`, `code` (FHIR issue type), `details` (skinledger's error
    /// code, system `https://skinledger.dev/problems`), `diagnostics`, and for a refused field
    /// `expression`.
    issue: Vec<OutcomeIssueDoc>,
}

/// One issue of an `OperationOutcome`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OperationOutcomeIssue)]
pub struct OutcomeIssueDoc {
    /// The FHIR issue type (`not-found`, `login`, `forbidden`, `invalid`, ...).
    code: String,
    /// What happened, for people.
    diagnostics: Option<String>,
}
