//! Treatments as FHIR `Procedure`s.
//!
//! A full record carries the procedure (microneedling), the indications as `reasonCode`, the
//! treated areas as `bodySite`, each device consumed as a `focalDevice` (the lot's `Device`, or a
//! contained `Device` for a unit with a serial), the anaesthetic and topicals as `usedCode`, the
//! notes and addenda as `note`, and what FHIR has no element for (device kind, needle depth,
//! passes, endpoint, duration, an interval override) as skinledger extensions.
//!
//! A caller who may not read clinical content at the treatment's clinic gets what the REST API
//! gives them: who (performer), where (location), when (performed) and the status; the
//! resource is labelled `REDACTED` in `meta.security`.

use std::collections::HashMap;

use fhir_model::BuilderError;
use fhir_model::r4b::codes::EventStatus;
use fhir_model::r4b::resources::{
    Procedure, ProcedureFocalDevice, ProcedurePerformed, ProcedurePerformer, Resource,
};
use fhir_model::r4b::types::{Annotation, Extension, ExtensionValue, Meta, Quantity};
use skinledger_app::lots::LotDetail;
use skinledger_app::products::Product;
use skinledger_app::treatments::{ClinicalRecord, Treatment};
use uuid::Uuid;

use super::codes::{
    AREA, CLINIC_IDS, INDICATION, OBSERVATION_VALUE, PROCEDURE, RECORD_STATUS, STAFF_IDS,
    TREATMENT_IDS, UCUM, coding, concept, date_time, described_reference, extension, identifier,
    instant, logical_reference, reference, text_concept, wire_concept,
};
use super::device::DeviceFacts;

/// The lots (with their products) of the devices the treatments consumed, by lot id.
pub type Lots = HashMap<Uuid, (LotDetail, Product)>;

/// The treatment as a `Procedure`: in full when the caller reads it in full.
pub fn procedure(treatment: &Treatment, lots: &Lots) -> Result<Procedure, BuilderError> {
    let status_tag = coding(
        RECORD_STATUS,
        treatment.status.as_str(),
        Some(&super::codes::words(treatment.status.as_str())),
    )?;
    let mut meta = Meta::builder().tag(vec![Some(status_tag)]);
    if let Some(clinical) = &treatment.clinical {
        meta = meta
            .version_id(clinical.version.to_string())
            .last_updated(instant(clinical.updated_at));
    } else {
        meta = meta.security(vec![Some(coding(
            OBSERVATION_VALUE,
            "REDACTED",
            Some("redacted"),
        )?)]);
    }
    let base = Procedure::builder()
        .id(treatment.id.to_string())
        .meta(meta.build()?)
        .identifier(vec![Some(identifier(
            TREATMENT_IDS,
            &treatment.id.to_string(),
        )?)])
        // Every record is of a session that took place; a draft is a record still being
        // written, which `meta.tag` says.
        .status(EventStatus::Completed)
        .subject(reference(&format!("Patient/{}", treatment.client_id))?)
        .performed(ProcedurePerformed::DateTime(date_time(
            treatment.performed_at,
        )))
        .performer(vec![Some(
            ProcedurePerformer::builder()
                .actor(logical_reference(
                    "Practitioner",
                    STAFF_IDS,
                    &treatment.practitioner_id.to_string(),
                )?)
                .build()?,
        )])
        .location(logical_reference(
            "Location",
            CLINIC_IDS,
            &treatment.clinic_id.to_string(),
        )?);
    let Some(clinical) = &treatment.clinical else {
        return base.build();
    };
    let (contained, focal_devices) = devices(clinical, lots)?;
    base.contained(contained)
        .code(concept(
            PROCEDURE,
            "microneedling",
            "Microneedling (collagen induction therapy)",
        )?)
        .reason_code(
            clinical
                .indications
                .iter()
                .map(|i| wire_concept(INDICATION, i.as_str()).map(Some))
                .collect::<Result<_, _>>()?,
        )
        .body_site(
            clinical
                .areas
                .iter()
                .map(|a| wire_concept(AREA, a.as_str()).map(Some))
                .collect::<Result<_, _>>()?,
        )
        .note(notes(clinical)?)
        .focal_device(focal_devices)
        .used_code(used(clinical)?)
        .extension(extensions(clinical)?)
        .build()
}

/// What a procedure holds of its devices: the contained ones, and every `focalDevice`.
type Devices = (Vec<Resource>, Vec<Option<ProcedureFocalDevice>>);

/// The devices consumed: a contained `Device` for each unit with a serial, and one
/// `focalDevice` per unit or lot.
fn devices(clinical: &ClinicalRecord, lots: &Lots) -> Result<Devices, BuilderError> {
    let mut contained = Vec::new();
    let mut focal = Vec::new();
    for unit in &clinical.consumables {
        let facts = lots
            .get(&unit.lot_id)
            .map(|(lot, product)| DeviceFacts { lot, product });
        let display = match &facts {
            Some(f) => format!("{}, lot {}", f.lot.product_name, unit.lot_number),
            None => format!("lot {}", unit.lot_number),
        };
        let manipulated = match (&unit.serial, &facts) {
            (Some(serial), Some(facts)) => {
                let local = format!("unit-{}", contained.len() + 1);
                contained.push(Resource::Device(facts.unit_device(&local, unit)?));
                described_reference(&format!("#{local}"), &format!("{display}, serial {serial}"))?
            }
            _ => described_reference(&format!("Device/{}", unit.lot_id), &display)?,
        };
        focal.push(Some(
            ProcedureFocalDevice::builder()
                .manipulated(manipulated)
                .build()?,
        ));
    }
    Ok((contained, focal))
}

/// The practitioner's notes, then each addendum.
fn notes(clinical: &ClinicalRecord) -> Result<Vec<Option<Annotation>>, BuilderError> {
    let mut notes = Vec::new();
    if let Some(text) = &clinical.notes {
        let note = Annotation::builder()
            .text(text.clone())
            .time(date_time(clinical.created_at));
        notes.push(Some(note.build()?));
    }
    for addendum in &clinical.addenda {
        notes.push(Some(
            Annotation::builder()
                .time(date_time(addendum.created_at))
                .text(format!("Addendum: {}", addendum.text))
                .build()?,
        ));
    }
    Ok(notes)
}

/// The anaesthetic and topicals applied, by name.
fn used(
    clinical: &ClinicalRecord,
) -> Result<Vec<Option<fhir_model::r4b::types::CodeableConcept>>, BuilderError> {
    let mut used = Vec::new();
    if let Some(product) = &clinical.anaesthetic_product {
        let text = match clinical.anaesthetic_minutes {
            Some(minutes) => format!("{product} (topical anaesthetic, {minutes} min)"),
            None => format!("{product} (topical anaesthetic)"),
        };
        used.push(Some(text_concept(&text)?));
    }
    for topical in &clinical.topicals {
        used.push(Some(text_concept(topical)?));
    }
    Ok(used)
}

/// A quantity in a UCUM unit.
fn quantity(value: f64, unit: &str) -> Result<Quantity, BuilderError> {
    Quantity::builder()
        .value(value)
        .unit(unit.to_owned())
        .system(UCUM.to_owned())
        .code(unit.to_owned())
        .build()
}

/// What FHIR's `Procedure` has no element for.
fn extensions(clinical: &ClinicalRecord) -> Result<Vec<Extension>, BuilderError> {
    let mut extensions = vec![
        extension(
            "device-kind",
            ExtensionValue::Code(clinical.device_kind.as_str().to_owned()),
        )?,
        extension(
            "needle-depth",
            ExtensionValue::Quantity(quantity(clinical.needle_depth_mm.mm(), "mm")?),
        )?,
        extension(
            "passes",
            ExtensionValue::Integer(i32::try_from(clinical.passes).unwrap_or(i32::MAX)),
        )?,
        extension(
            "endpoint",
            ExtensionValue::Code(clinical.endpoint.as_str().to_owned()),
        )?,
        extension(
            "duration",
            ExtensionValue::Quantity(quantity(f64::from(clinical.duration_minutes), "min")?),
        )?,
    ];
    if let Some(reason) = &clinical.interval_override_reason {
        extensions.push(extension(
            "interval-override-reason",
            ExtensionValue::String(reason.clone()),
        )?);
    }
    Ok(extensions)
}
