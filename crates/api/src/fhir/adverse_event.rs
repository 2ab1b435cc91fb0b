//! Adverse events after treatments as FHIR `AdverseEvent`s.
//!
//! Each carries what happened (skinledger's kind), the severity in HL7's own code system (the
//! same three grades), the day it began as `date`, when it was recorded, the client as subject,
//! the clinic as location, and as suspects the treatment (`Procedure`) and the lot of every
//! device it consumed (`Device`). The practitioner's notes travel as the narrative.

use std::collections::BTreeSet;

use fhir_model::BuilderError;
use fhir_model::r4b::codes::{AdverseEventActuality, NarrativeStatus};
use fhir_model::r4b::resources::{AdverseEvent as FhirAdverseEvent, AdverseEventSuspectEntity};
use fhir_model::r4b::types::{Meta, Narrative};
use skinledger_app::treatments::{AdverseEvent, Treatment};

use super::codes::{
    ADVERSE_EVENT_IDS, ADVERSE_EVENT_KIND, ADVERSE_EVENT_SEVERITY, CLINIC_IDS, concept, date_time,
    day, identifier, instant, logical_reference, narrative_div, reference, wire_concept, words,
};

/// One adverse event after `treatment` as an `AdverseEvent`.
pub fn adverse_event(
    event: &AdverseEvent,
    treatment: &Treatment,
) -> Result<FhirAdverseEvent, BuilderError> {
    let mut suspects = vec![Some(
        AdverseEventSuspectEntity::builder()
            .instance(reference(&format!("Procedure/{}", treatment.id))?)
            .build()?,
    )];
    let lots: BTreeSet<_> = treatment
        .clinical
        .iter()
        .flat_map(|c| c.consumables.iter())
        .map(|u| u.lot_id)
        .collect();
    for lot in lots {
        suspects.push(Some(
            AdverseEventSuspectEntity::builder()
                .instance(reference(&format!("Device/{lot}"))?)
                .build()?,
        ));
    }
    let builder = FhirAdverseEvent::builder()
        .id(event.id.to_string())
        .meta(
            Meta::builder()
                .last_updated(instant(event.created_at))
                .build()?,
        )
        .identifier(identifier(ADVERSE_EVENT_IDS, &event.id.to_string())?)
        .actuality(AdverseEventActuality::Actual)
        .event(wire_concept(ADVERSE_EVENT_KIND, event.kind.as_str())?)
        .subject(reference(&format!("Patient/{}", treatment.client_id))?)
        .date(day(event.onset_on))
        .recorded_date(date_time(event.created_at))
        .location(logical_reference(
            "Location",
            CLINIC_IDS,
            &treatment.clinic_id.to_string(),
        )?)
        .severity(concept(
            ADVERSE_EVENT_SEVERITY,
            event.severity.as_str(),
            &words(event.severity.as_str()),
        )?)
        .suspect_entity(suspects);
    match &event.notes {
        Some(notes) => builder
            .text(
                Narrative::builder()
                    .status(NarrativeStatus::Additional)
                    .div(narrative_div(notes))
                    .build()?,
            )
            .build(),
        None => builder.build(),
    }
}

/// Every adverse event of `treatments`, in their order.
pub fn adverse_events(treatments: &[Treatment]) -> Result<Vec<FhirAdverseEvent>, BuilderError> {
    treatments
        .iter()
        .flat_map(|t| {
            t.clinical
                .iter()
                .flat_map(|c| c.adverse_events.iter())
                .map(move |e| (e, t))
        })
        .map(|(e, t)| adverse_event(e, t))
        .collect()
}
