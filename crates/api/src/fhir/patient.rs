//! A client as a FHIR `Patient`, and the consents on their record as `Consent`s.
//!
//! The `Patient` carries who the client is and how to reach them; clinical notes and the
//! Fitzpatrick type stay out. The client record holds two consents: to treatment (the version
//! of the consent form and when it was signed) and to being photographed (yes or no); each
//! becomes one `Consent`, with an id made from the client's (`{id}-treatment`, `{id}-photo`).

use fhir_model::BuilderError;
use fhir_model::r4b::codes::{ConsentProvisionType, ConsentState, ContactPointSystem, NameUse};
use fhir_model::r4b::resources::{Consent, ConsentProvision, Patient};
use fhir_model::r4b::types::{CodeableConcept, ContactPoint, HumanName, Meta};
use skinledger_app::clients::Client;

use super::codes::{
    ACT_CODE, CLIENT_IDS, CONSENT_ACTION, CONSENT_SCOPE, LOINC, coding, concept, date, identifier,
    instant, reference,
};

/// The client as a `Patient`.
pub fn patient(client: &Client) -> Result<Patient, BuilderError> {
    let mut telecom = Vec::new();
    if let Some(phone) = &client.phone {
        telecom.push(Some(
            ContactPoint::builder()
                .system(ContactPointSystem::Phone)
                .value(phone.clone())
                .build()?,
        ));
    }
    if let Some(email) = &client.email {
        telecom.push(Some(
            ContactPoint::builder()
                .system(ContactPointSystem::Email)
                .value(email.clone())
                .build()?,
        ));
    }
    Patient::builder()
        .id(client.id.to_string())
        .meta(
            Meta::builder()
                .version_id(client.version.to_string())
                .last_updated(instant(client.updated_at))
                .build()?,
        )
        .identifier(vec![Some(identifier(CLIENT_IDS, &client.id.to_string())?)])
        .active(true)
        .name(vec![Some(
            HumanName::builder()
                .r#use(NameUse::Official)
                .family(client.last_name.clone())
                .given(vec![Some(client.first_name.clone())])
                .build()?,
        )])
        .telecom(telecom)
        .birth_date(date(client.date_of_birth))
        .build()
}

/// The id of the client's consent to treatment.
pub fn treatment_consent_id(client: &Client) -> String {
    format!("{}-treatment", client.id)
}

/// The id of the client's answer about photographs.
pub fn photo_consent_id(client: &Client) -> String {
    format!("{}-photo", client.id)
}

/// LOINC 59284-0, "Patient Consent": the category of both.
fn patient_consent() -> Result<CodeableConcept, BuilderError> {
    concept(LOINC, "59284-0", "Patient Consent")
}

/// The client's consents: to treatment, when a form was signed, and about photographs (a
/// permit when they agreed, a deny when they did not).
pub fn consents(client: &Client) -> Result<Vec<Consent>, BuilderError> {
    let subject = reference(&format!("Patient/{}", client.id))?;
    let mut consents = Vec::new();
    if let (Some(version), Some(signed_at)) = (&client.consent_version, client.consent_signed_at) {
        consents.push(
            Consent::builder()
                .id(treatment_consent_id(client))
                .status(ConsentState::Active)
                .scope(concept(CONSENT_SCOPE, "treatment", "Treatment")?)
                .category(vec![Some(patient_consent()?)])
                .patient(subject.clone())
                .date_time(super::codes::date_time(signed_at))
                .policy_rule(
                    CodeableConcept::builder()
                        .coding(vec![Some(coding(ACT_CODE, "OPTIN", Some("opt-in"))?)])
                        .text(format!("Treatment consent form, version {version}"))
                        .build()?,
                )
                .provision(
                    ConsentProvision::builder()
                        .r#type(ConsentProvisionType::Permit)
                        .build()?,
                )
                .build()?,
        );
    }
    let (rule, provision) = if client.photo_consent {
        ("OPTIN", ConsentProvisionType::Permit)
    } else {
        ("OPTOUT", ConsentProvisionType::Deny)
    };
    consents.push(
        Consent::builder()
            .id(photo_consent_id(client))
            .status(ConsentState::Active)
            .scope(concept(
                CONSENT_SCOPE,
                "patient-privacy",
                "Privacy Consent",
            )?)
            .category(vec![Some(patient_consent()?)])
            .patient(subject)
            .policy_rule(
                CodeableConcept::builder()
                    .coding(vec![Some(coding(ACT_CODE, rule, None)?)])
                    .text("Photographs of the client during and after treatment".to_owned())
                    .build()?,
            )
            .provision(
                ConsentProvision::builder()
                    .r#type(provision)
                    .action(vec![Some(concept(CONSENT_ACTION, "collect", "Collect")?)])
                    .build()?,
            )
            .build()?,
    );
    Ok(consents)
}
