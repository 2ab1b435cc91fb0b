//! The REST adapter: axum handlers under `/v1`, documented by utoipa from the handlers
//! themselves, so the OpenAPI document cannot drift from the routes.

pub mod accept;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod courses;
pub mod eligibility;
pub mod etag;
pub mod events;
pub mod extract;
pub mod lots;
pub mod organization;
pub mod policy;
pub mod products;
pub mod reports;
pub mod screenings;
pub mod stock;
pub mod transfers;
pub mod treatments;
pub mod webhooks;

use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use skinledger_app::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "skinledger", description = "Practice management for chains of microneedling clinics: organisations, clinics, staff, clients, treatments and single-use device inventory."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Tokens and the current caller"),
        (name = "clinics", description = "An organisation's clinics"),
        (name = "staff", description = "Staff members and their roles"),
        (name = "api-clients", description = "Credentials for an organisation's own systems"),
        (name = "policy", description = "The organisation's clinical policy, versioned"),
        (name = "clients", description = "Clients: contact details, consent, search"),
        (name = "screenings", description = "Contraindication screenings and physicians' clearances"),
        (name = "eligibility", description = "Dry runs of a treatment: every blocker at once"),
        (name = "treatments", description = "Treatment records, signing, addenda, adverse events and aftercare"),
        (name = "courses", description = "Courses of sessions and a client's progress through them"),
        (name = "products", description = "The catalogue of rollers, pen cartridges and other stock, with reorder points"),
        (name = "stock", description = "Each clinic's stock by lot: receipts (typed or scanned GS1), adjustments, stocktakes and the movement ledger"),
        (name = "transfers", description = "Units sent between clinics, in transit until received"),
        (name = "lots", description = "Lots, their recall into quarantine, and the trace of every client they touched"),
        (name = "reports", description = "Low stock, expiring lots and usage per clinic and product"),
        (name = "audit", description = "The append-only audit log"),
        (name = "events", description = "What changed, in order: the feed of integration events"),
        (name = "webhooks", description = "Endpoints that receive the events as they happen, signed as Standard Webhooks specify, with every delivery and attempt"),
        (name = "fhir", description = "The read-only FHIR R4 export (application/fhir+json): Patient, Procedure, Device, AdverseEvent, Consent, Patient/$everything and the CapabilityStatement; refusals are OperationOutcomes"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every `/v1` route and the FHIR export under `/fhir/R4`, with their OpenAPI description.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(organization::routes())
        .merge(policy::routes())
        .merge(clients::routes())
        .merge(screenings::routes())
        .merge(eligibility::routes())
        .merge(treatments::routes())
        .merge(courses::routes())
        .merge(products::routes())
        .merge(stock::routes())
        .merge(transfers::routes())
        .merge(lots::routes())
        .merge(reports::routes())
        .merge(audit::routes())
        .merge(events::routes())
        .merge(webhooks::routes())
        .merge(crate::fhir::routes())
}

/// A `201 Created` answer whose `Location` names what was created (or, for an entry with no URL
/// of its own, such as a ledger movement or an addendum, the resource it belongs to).
#[derive(Debug)]
pub struct Created<T>(pub String, pub T);

impl<T: IntoResponse> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::CREATED, self.1).into_response();
        if let Ok(location) = HeaderValue::from_str(&self.0) {
            response.headers_mut().insert(LOCATION, location);
        }
        response
    }
}
