//! The `CapabilityStatement` at `/fhir/R4/metadata`: what the export serves.

use chrono::Utc;
use fhir_model::BuilderError;
use fhir_model::r4b::codes::{
    CapabilityStatementKind, FHIRVersion, PublicationStatus, ResourceType, RestfulCapabilityMode,
    SearchParamType,
};
use fhir_model::r4b::resources::{
    CapabilityStatement, CapabilityStatementImplementation, CapabilityStatementRest,
    CapabilityStatementRestResource, CapabilityStatementRestResourceInteraction,
    CapabilityStatementRestResourceOperation, CapabilityStatementRestResourceSearchParam,
    CapabilityStatementRestSecurity, CapabilityStatementSoftware,
};
use fhir_model::r4b::types::CodeableConcept;

use super::codes::{coding, date_time};

/// One resource type: read by id, or searched by one reference parameter.
fn resource(
    kind: ResourceType,
    read: bool,
    search: Option<(&str, &str)>,
    documentation: &str,
) -> Result<Option<CapabilityStatementRestResource>, BuilderError> {
    let mut interactions = Vec::new();
    if read {
        interactions.push(Some(
            CapabilityStatementRestResourceInteraction::builder()
                .code("read".to_owned())
                .build()?,
        ));
    }
    let mut params = Vec::new();
    if let Some((name, about)) = search {
        interactions.push(Some(
            CapabilityStatementRestResourceInteraction::builder()
                .code("search-type".to_owned())
                .build()?,
        ));
        params.push(Some(
            CapabilityStatementRestResourceSearchParam::builder()
                .name(name.to_owned())
                .r#type(SearchParamType::Reference)
                .documentation(about.to_owned())
                .build()?,
        ));
    }
    Ok(Some(
        CapabilityStatementRestResource::builder()
            .r#type(kind)
            .documentation(documentation.to_owned())
            .interaction(interactions)
            .search_param(params)
            .build()?,
    ))
}

/// The capability statement of this server.
pub fn capability_statement() -> Result<CapabilityStatement, BuilderError> {
    let mut patient = resource(
        ResourceType::Patient,
        true,
        None,
        "A client: name, date of birth, phone and email",
    )?;
    if let Some(patient) = patient.as_mut() {
        patient.operation = vec![Some(
            CapabilityStatementRestResourceOperation::builder()
                .name("everything".to_owned())
                .definition("http://hl7.org/fhir/OperationDefinition/Patient-everything".to_owned())
                .documentation(
                    "The client with every treatment, device, adverse event and consent the caller may see"
                        .to_owned(),
                )
                .build()?,
        )];
    }
    let resources = vec![
        patient,
        resource(
            ResourceType::Procedure,
            false,
            Some(("patient", "The client treated: `{id}` or `Patient/{id}`")),
            "Treatments; clinical details only for roles that read clinical content at the treatment's clinic",
        )?,
        resource(
            ResourceType::Device,
            true,
            None,
            "A lot of single-use devices: the id is the lot's",
        )?,
        resource(
            ResourceType::AdverseEvent,
            false,
            Some(("subject", "The client: `{id}` or `Patient/{id}`")),
            "Adverse events after treatments; roles that read clinical content",
        )?,
        resource(
            ResourceType::Consent,
            false,
            Some(("patient", "The client: `{id}` or `Patient/{id}`")),
            "The client's consent to treatment and answer about photographs",
        )?,
    ];
    let security = CapabilityStatementRestSecurity::builder()
        .service(vec![Some(
            CodeableConcept::builder()
                .coding(vec![Some(coding(
                    "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "OAuth",
                    Some("OAuth"),
                )?)])
                .build()?,
        )])
        .description(
            "`Authorization: Bearer <access token>` from `POST /v1/auth/token` (password or client credentials grant), as for the REST API"
                .to_owned(),
        )
        .build()?;
    CapabilityStatement::builder()
        .status(PublicationStatus::Active)
        .date(date_time(Utc::now()))
        .publisher("skinledger".to_owned())
        .kind(CapabilityStatementKind::Instance)
        .software(
            CapabilityStatementSoftware::builder()
                .name("skinledger".to_owned())
                .version(env!("CARGO_PKG_VERSION").to_owned())
                .build()?,
        )
        .implementation(
            CapabilityStatementImplementation::builder()
                .description("skinledger's read-only FHIR R4 export".to_owned())
                .build()?,
        )
        .fhir_version(FHIRVersion::N401)
        .format(vec![Some("json".to_owned())])
        .rest(vec![Some(
            CapabilityStatementRest::builder()
                .mode(RestfulCapabilityMode::Server)
                .security(security)
                .resource(resources)
                .build()?,
        )])
        .build()
}
