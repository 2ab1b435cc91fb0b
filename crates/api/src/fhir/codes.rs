//! The code systems and identifier systems the FHIR export uses, and small constructors of the
//! FHIR data types every resource needs (codings, references, dates).
//!
//! skinledger's own vocabularies (areas, indications, adverse-event kinds, product kinds) are
//! published under `https://skinledger.dev/fhir/CodeSystem/...` with their wire names as codes;
//! standard systems are used where HL7 defines the concept (adverse-event severity, consent scope
//! and category, GS1 device identifiers).

use chrono::{DateTime, NaiveDate, Utc};
use fhir_model::r4b::types::{
    CodeableConcept, Coding, Extension, ExtensionValue, Identifier, Reference,
};
use fhir_model::time::{self, OffsetDateTime};
use fhir_model::{BuilderError, Date, Instant};

/// Where skinledger's code systems, identifier systems and extensions live.
const BASE: &str = "https://skinledger.dev/fhir";

/// Identifier system of clients (a `Patient`'s identifier is the client's id).
pub const CLIENT_IDS: &str = "https://skinledger.dev/fhir/sid/client";
/// Identifier system of staff members (a `Procedure`'s performer).
pub const STAFF_IDS: &str = "https://skinledger.dev/fhir/sid/staff";
/// Identifier system of clinics (a `Procedure`'s location).
pub const CLINIC_IDS: &str = "https://skinledger.dev/fhir/sid/clinic";
/// Identifier system of lots (a `Device`'s identifier).
pub const LOT_IDS: &str = "https://skinledger.dev/fhir/sid/lot";
/// Identifier system of treatments (a `Procedure`'s identifier).
pub const TREATMENT_IDS: &str = "https://skinledger.dev/fhir/sid/treatment";
/// Identifier system of adverse events.
pub const ADVERSE_EVENT_IDS: &str = "https://skinledger.dev/fhir/sid/adverse-event";

/// The procedure every treatment is: microneedling.
pub const PROCEDURE: &str = "https://skinledger.dev/fhir/CodeSystem/procedure";
/// Treated areas (`Procedure.bodySite`).
pub const AREA: &str = "https://skinledger.dev/fhir/CodeSystem/area";
/// What a treatment is meant to improve (`Procedure.reasonCode`).
pub const INDICATION: &str = "https://skinledger.dev/fhir/CodeSystem/indication";
/// Kinds of adverse event (`AdverseEvent.event`).
pub const ADVERSE_EVENT_KIND: &str = "https://skinledger.dev/fhir/CodeSystem/adverse-event-kind";
/// Kinds of product (`Device.type`).
pub const PRODUCT_KIND: &str = "https://skinledger.dev/fhir/CodeSystem/product-kind";
/// Whether a treatment record is a draft or signed (`meta.tag`).
pub const RECORD_STATUS: &str = "https://skinledger.dev/fhir/CodeSystem/record-status";
/// skinledger's error codes (`OperationOutcome.issue.details`).
pub const ERROR_CODES: &str = "https://skinledger.dev/problems";

/// HL7's adverse-event severity: `mild`, `moderate`, `severe`.
pub const ADVERSE_EVENT_SEVERITY: &str =
    "http://terminology.hl7.org/CodeSystem/adverse-event-severity";
/// HL7's consent scopes (`treatment`, `patient-privacy`).
pub const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// HL7's consent actions (`collect`).
pub const CONSENT_ACTION: &str = "http://terminology.hl7.org/CodeSystem/consentaction";
/// HL7's v3 act codes (`OPTIN`, `OPTOUT`).
pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// HL7's observation values, for the `REDACTED` security label.
pub const OBSERVATION_VALUE: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// The UDI issuer of GS1 device identifiers (GTINs).
pub const GS1_DI: &str = "http://hl7.org/fhir/NamingSystem/gs1-di";
/// UCUM, for needle depths and durations.
pub const UCUM: &str = "http://unitsofmeasure.org";

/// The URL of one of skinledger's extensions.
pub fn extension_url(name: &str) -> String {
    format!("{BASE}/StructureDefinition/{name}")
}

/// A coding of `system`.
pub fn coding(system: &str, code: &str, display: Option<&str>) -> Result<Coding, BuilderError> {
    let builder = Coding::builder()
        .system(system.to_owned())
        .code(code.to_owned());
    match display {
        Some(display) => builder.display(display.to_owned()).build(),
        None => builder.build(),
    }
}

/// A concept of one coding, with its display as text.
pub fn concept(system: &str, code: &str, display: &str) -> Result<CodeableConcept, BuilderError> {
    CodeableConcept::builder()
        .coding(vec![Some(coding(system, code, Some(display))?)])
        .text(display.to_owned())
        .build()
}

/// A concept of one of skinledger's wire values (`full_face`), displayed as words
/// (`Full face`).
pub fn wire_concept(system: &str, code: &str) -> Result<CodeableConcept, BuilderError> {
    concept(system, code, &words(code))
}

/// A concept known only by its text (a product named by the practitioner).
pub fn text_concept(text: &str) -> Result<CodeableConcept, BuilderError> {
    CodeableConcept::builder().text(text.to_owned()).build()
}

/// `full_face` as `Full face`.
pub fn words(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// An identifier of `system`.
pub fn identifier(system: &str, value: &str) -> Result<Identifier, BuilderError> {
    Identifier::builder()
        .system(system.to_owned())
        .value(value.to_owned())
        .build()
}

/// A literal reference to a resource this server serves (`Patient/{id}`).
pub fn reference(target: &str) -> Result<Reference, BuilderError> {
    Reference::builder().reference(target.to_owned()).build()
}

/// A reference to a resource this server serves, with what it is in words.
pub fn described_reference(target: &str, display: &str) -> Result<Reference, BuilderError> {
    Reference::builder()
        .reference(target.to_owned())
        .display(display.to_owned())
        .build()
}

/// A logical reference, by identifier, to something the export does not serve as a resource
/// of its own (a staff member as `Practitioner`, a clinic as `Location`).
pub fn logical_reference(
    resource_type: &str,
    system: &str,
    value: &str,
) -> Result<Reference, BuilderError> {
    Reference::builder()
        .r#type(resource_type.to_owned())
        .identifier(identifier(system, value)?)
        .build()
}

/// An extension of skinledger's holding `value`.
pub fn extension(name: &str, value: ExtensionValue) -> Result<Extension, BuilderError> {
    Extension::builder()
        .url(extension_url(name))
        .value(value)
        .build()
}

/// A FHIR instant from a UTC time.
pub fn instant(at: DateTime<Utc>) -> Instant {
    let seconds =
        OffsetDateTime::from_unix_timestamp(at.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Instant(
        seconds
            .replace_nanosecond(at.timestamp_subsec_nanos())
            .unwrap_or(seconds),
    )
}

/// A FHIR dateTime from a UTC time.
pub fn date_time(at: DateTime<Utc>) -> fhir_model::DateTime {
    fhir_model::DateTime::DateTime(instant(at))
}

/// A FHIR date from a calendar day.
pub fn date(day: NaiveDate) -> Date {
    use chrono::Datelike;
    let month = u8::try_from(day.month())
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .unwrap_or(time::Month::January);
    let day_of_month = u8::try_from(day.day()).unwrap_or(1);
    time::Date::from_calendar_date(day.year(), month, day_of_month)
        .map_or(Date::Year(day.year()), Date::Date)
}

/// A FHIR dateTime holding only a calendar day.
pub fn day(day: NaiveDate) -> fhir_model::DateTime {
    fhir_model::DateTime::Date(date(day))
}

/// Escapes text for a narrative's XHTML.
pub fn xhtml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A narrative `div` holding `text` as one paragraph.
pub fn narrative_div(text: &str) -> String {
    format!(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p></div>",
        xhtml_text(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_read_as_words() {
        assert_eq!(words("full_face"), "Full face");
        assert_eq!(words("acne_scarring"), "Acne scarring");
        assert_eq!(words(""), "");
    }

    #[test]
    fn narrative_text_cannot_open_markup() {
        assert_eq!(
            narrative_div("<script>&'\""),
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>&lt;script&gt;&amp;&#39;&quot;</p></div>"
        );
    }

    #[test]
    fn days_and_instants_keep_their_values() {
        let on = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap_or_default();
        assert_eq!(
            serde_json::to_value(day(on)).ok(),
            Some(serde_json::json!("2026-02-28"))
        );
        let at = DateTime::parse_from_rfc3339("2026-02-28T09:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let written = serde_json::to_value(instant(at)).ok();
        assert_eq!(written, Some(serde_json::json!("2026-02-28T09:30:00Z")));
    }
}
