//! Eligibility, treatment records, addenda, adverse events, aftercare and the devices consumed.

use skinledger_app::Page;
use skinledger_app::consumption::{ConsumableRequest, ConsumedUnit};
use skinledger_app::eligibility::{EligibilityAnswer, EligibilityRequest};
use skinledger_app::treatments::{
    Addendum, AdverseEvent, ClinicalRecord, NewAddendum, NewAdverseEvent, NewTreatment, Treatment,
    TreatmentAftercare, TreatmentChanges, count_errors,
};
use skinledger_domain::ValidationErrors;
use skinledger_domain::aftercare::{Aftercare, AftercareItem};
use skinledger_domain::clinical::Endpoint;
use skinledger_domain::eligibility::Blocker;
use skinledger_domain::inventory::Serial;

use crate::grpc::{date, field_id, parse_all, parse_date, parse_depth, parse_time, pb, time};

impl From<Blocker> for pb::Blocker {
    fn from(b: Blocker) -> Self {
        let code = b.code().to_string();
        let (factor, until, next_eligible_on, max_needle_depth_mm, endpoint) = match b {
            Blocker::NoValidScreening | Blocker::NotAssignedToClinic => {
                (None, None, None, None, None)
            }
            Blocker::Contraindicated { factor } | Blocker::RequiresClearance { factor } => {
                (Some(factor), None, None, None, None)
            }
            Blocker::Deferred { factor, until } => (Some(factor), until, None, None, None),
            Blocker::TooSoon { next_eligible_on } => {
                (None, None, Some(next_eligible_on), None, None)
            }
            Blocker::OutsideScopeOfPractice {
                max_needle_depth_mm,
                endpoint,
            } => (None, None, None, max_needle_depth_mm, endpoint),
        };
        pb::Blocker {
            code,
            factor: factor.map(|f| f.as_str().to_owned()),
            until: until.map(date),
            next_eligible_on: next_eligible_on.map(date),
            max_needle_depth_mm: max_needle_depth_mm.map(|d| d.mm()),
            endpoint: endpoint.map(|e| e.as_str().to_owned()),
        }
    }
}

impl From<EligibilityAnswer> for pb::EligibilityAnswer {
    fn from(a: EligibilityAnswer) -> Self {
        let EligibilityAnswer {
            client_id,
            clinic_id,
            practitioner_id,
            needle_depth_mm,
            date: on,
            eligible,
            earliest_eligible_on,
            blockers,
            screening_id,
            policy_version,
        } = a;
        pb::EligibilityAnswer {
            client_id: client_id.to_string(),
            clinic_id: clinic_id.to_string(),
            practitioner_id: practitioner_id.to_string(),
            needle_depth_mm: needle_depth_mm.mm(),
            date: date(on),
            eligible,
            // Empty and unset for callers who may not read clinical content.
            blockers: blockers
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            earliest_eligible_on: earliest_eligible_on.map(date),
            screening_id: screening_id.flatten().map(|s| s.to_string()),
            policy_version,
        }
    }
}

impl TryFrom<pb::CheckEligibilityRequest> for EligibilityRequest {
    type Error = ValidationErrors;

    fn try_from(r: pb::CheckEligibilityRequest) -> Result<Self, ValidationErrors> {
        let pb::CheckEligibilityRequest {
            client_id,
            clinic_id,
            practitioner_id,
            needle_depth_mm,
            date,
            endpoint,
        } = r;
        let mut errors = ValidationErrors::new();
        let client_id = field_id(&mut errors, "client_id", &client_id);
        let clinic_id = field_id(&mut errors, "clinic_id", &clinic_id);
        let practitioner_id =
            practitioner_id.and_then(|p| field_id(&mut errors, "practitioner_id", &p));
        let needle_depth_mm = parse_depth(&mut errors, "needle_depth_mm", needle_depth_mm);
        let date = date.and_then(|d| parse_date(&mut errors, "date", &d));
        let endpoint = endpoint.and_then(|e| errors.check("endpoint", e.parse::<Endpoint>()));
        let (Some(client_id), Some(clinic_id), Some(needle_depth_mm), true) =
            (client_id, clinic_id, needle_depth_mm, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(EligibilityRequest {
            client_id,
            clinic_id,
            practitioner_id,
            needle_depth_mm,
            date,
            endpoint,
        })
    }
}

impl From<Addendum> for pb::Addendum {
    fn from(a: Addendum) -> Self {
        let Addendum {
            id,
            treatment_id,
            author_id,
            text,
            created_at,
        } = a;
        pb::Addendum {
            id: id.to_string(),
            treatment_id: treatment_id.to_string(),
            author_id: author_id.to_string(),
            text,
            created_at: time(created_at),
        }
    }
}

impl From<pb::AddAddendumRequest> for NewAddendum {
    fn from(r: pb::AddAddendumRequest) -> Self {
        let pb::AddAddendumRequest {
            // The treatment corrected: the handler reads it first.
            treatment_id: _,
            text,
        } = r;
        NewAddendum { text }
    }
}

impl From<AdverseEvent> for pb::AdverseEvent {
    fn from(e: AdverseEvent) -> Self {
        let AdverseEvent {
            id,
            treatment_id,
            kind,
            severity,
            onset_on,
            notes,
            recorded_by,
            created_at,
        } = e;
        pb::AdverseEvent {
            id: id.to_string(),
            treatment_id: treatment_id.to_string(),
            kind: kind.as_str().to_owned(),
            severity: severity.as_str().to_owned(),
            onset_on: date(onset_on),
            notes,
            recorded_by: recorded_by.to_string(),
            created_at: time(created_at),
        }
    }
}

impl TryFrom<pb::RecordAdverseEventRequest> for NewAdverseEvent {
    type Error = ValidationErrors;

    fn try_from(r: pb::RecordAdverseEventRequest) -> Result<Self, ValidationErrors> {
        let pb::RecordAdverseEventRequest {
            // The treatment it followed: the handler reads it first.
            treatment_id: _,
            kind,
            severity,
            onset_on,
            notes,
        } = r;
        let mut errors = ValidationErrors::new();
        let kind = errors.check("kind", kind.parse());
        let severity = errors.check("severity", severity.parse());
        let onset_on = parse_date(&mut errors, "onset_on", &onset_on);
        let (Some(kind), Some(severity), Some(onset_on), true) =
            (kind, severity, onset_on, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(NewAdverseEvent {
            kind,
            severity,
            onset_on,
            notes,
        })
    }
}

impl From<AftercareItem> for pb::AftercareItem {
    fn from(i: AftercareItem) -> Self {
        let AftercareItem {
            code,
            instruction,
            days,
            until,
        } = i;
        pb::AftercareItem {
            code,
            instruction,
            days,
            until: date(until),
        }
    }
}

impl From<Aftercare> for pb::Aftercare {
    fn from(a: Aftercare) -> Self {
        let Aftercare {
            instructions,
            next_eligible_on,
            results_expected_from,
        } = a;
        pb::Aftercare {
            instructions: instructions.into_iter().map(Into::into).collect(),
            next_eligible_on: date(next_eligible_on),
            results_expected_from: date(results_expected_from),
        }
    }
}

/// The aftercare flattened into the treatment's facts, as in REST.
impl From<TreatmentAftercare> for pb::TreatmentAftercare {
    fn from(a: TreatmentAftercare) -> Self {
        let TreatmentAftercare {
            treatment_id,
            client_id,
            performed_on,
            policy_version,
            aftercare:
                Aftercare {
                    instructions,
                    next_eligible_on,
                    results_expected_from,
                },
        } = a;
        pb::TreatmentAftercare {
            treatment_id: treatment_id.to_string(),
            client_id: client_id.to_string(),
            performed_on: date(performed_on),
            policy_version,
            instructions: instructions.into_iter().map(Into::into).collect(),
            next_eligible_on: date(next_eligible_on),
            results_expected_from: date(results_expected_from),
        }
    }
}

impl From<ConsumedUnit> for pb::ConsumedUnit {
    fn from(u: ConsumedUnit) -> Self {
        let ConsumedUnit {
            product_id,
            lot_id,
            lot_number,
            expiry,
            serial,
            quantity,
        } = u;
        pb::ConsumedUnit {
            product_id: product_id.to_string(),
            lot_id: lot_id.to_string(),
            lot_number,
            expiry: date(expiry),
            serial,
            quantity,
        }
    }
}

/// The devices as sent, each field named `consumables[i].…` when it does not parse.
fn consumables(
    errors: &mut ValidationErrors,
    sent: Vec<pb::ConsumableRequest>,
) -> Vec<ConsumableRequest> {
    sent.into_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let pb::ConsumableRequest {
                product_id,
                serial,
                lot_id,
                quantity,
            } = c;
            let field = |name: &str| format!("consumables[{i}].{name}");
            let product_id = field_id(errors, &field("product_id"), &product_id);
            let lot_id = lot_id.and_then(|l| field_id(errors, &field("lot_id"), &l));
            let serial = serial.and_then(|s| errors.check(&field("serial"), Serial::parse(&s)));
            Some(ConsumableRequest {
                product_id: product_id?,
                serial,
                lot_id,
                quantity: quantity.unwrap_or(1),
            })
        })
        .collect()
}

/// The record as the app answered it: without its clinical record (for callers who may not
/// read clinical content), every clinical field stays unset.
impl From<Treatment> for pb::Treatment {
    fn from(t: Treatment) -> Self {
        let Treatment {
            id,
            client_id,
            clinic_id,
            practitioner_id,
            performed_at,
            status,
            clinical,
        } = t;
        let shown = pb::Treatment {
            id: id.to_string(),
            client_id: client_id.to_string(),
            clinic_id: clinic_id.to_string(),
            practitioner_id: practitioner_id.to_string(),
            performed_at: time(performed_at),
            status: status.as_str().to_owned(),
            ..Default::default()
        };
        match clinical {
            Some(clinical) => with_clinical(shown, clinical),
            None => shown,
        }
    }
}

/// `shown` with the clinical record's fields.
fn with_clinical(shown: pb::Treatment, clinical: ClinicalRecord) -> pb::Treatment {
    let ClinicalRecord {
        performed_on,
        indications,
        areas,
        device_kind,
        needle_depth_mm,
        passes,
        anaesthetic_product,
        anaesthetic_minutes,
        topicals,
        endpoint,
        duration_minutes,
        notes,
        interval_override_reason,
        policy_version,
        course_id,
        version,
        signed_at,
        signed_by,
        addenda,
        adverse_events,
        consumables,
        aftercare,
        created_at,
        updated_at,
    } = clinical;
    pb::Treatment {
        performed_on: Some(date(performed_on)),
        indications: indications.iter().map(ToString::to_string).collect(),
        areas: areas.iter().map(ToString::to_string).collect(),
        device_kind: Some(device_kind.as_str().to_owned()),
        needle_depth_mm: Some(needle_depth_mm.mm()),
        passes: Some(passes),
        anaesthetic_product,
        anaesthetic_minutes,
        topicals,
        endpoint: Some(endpoint.as_str().to_owned()),
        duration_minutes: Some(duration_minutes),
        notes,
        interval_override_reason,
        policy_version: Some(policy_version),
        course_id: course_id.map(|c| c.to_string()),
        version: Some(version),
        signed_at: signed_at.map(time),
        signed_by: signed_by.map(|s| s.to_string()),
        addenda: addenda.into_iter().map(Into::into).collect(),
        adverse_events: adverse_events.into_iter().map(Into::into).collect(),
        aftercare: Some(aftercare.into()),
        created_at: Some(time(created_at)),
        updated_at: Some(time(updated_at)),
        consumables: consumables.into_iter().map(Into::into).collect(),
        ..shown
    }
}

impl From<Page<Treatment>> for pb::ListTreatmentsResponse {
    fn from(page: Page<Treatment>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListTreatmentsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::CreateTreatmentRequest> for NewTreatment {
    type Error = ValidationErrors;

    /// The new record as sent, every field named when it does not parse.
    fn try_from(r: pb::CreateTreatmentRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateTreatmentRequest {
            clinic_id,
            client_id,
            performed_at,
            indications,
            areas,
            device_kind,
            needle_depth_mm,
            passes,
            anaesthetic_product,
            anaesthetic_minutes,
            topicals,
            endpoint,
            duration_minutes,
            notes,
            interval_override_reason,
            course_id,
            consumables: sent,
        } = r;
        let mut errors = ValidationErrors::new();
        let clinic_id = field_id(&mut errors, "clinic_id", &clinic_id);
        let client_id = field_id(&mut errors, "client_id", &client_id);
        let performed_at = performed_at.and_then(|t| parse_time(&mut errors, "performed_at", &t));
        let indications = parse_all(&mut errors, "indications", &indications);
        let areas = parse_all(&mut errors, "areas", &areas);
        let device_kind = errors.check("device_kind", device_kind.parse());
        let needle_depth_mm = parse_depth(&mut errors, "needle_depth_mm", needle_depth_mm);
        let endpoint = errors.check("endpoint", endpoint.parse());
        let course_id = course_id.and_then(|c| field_id(&mut errors, "course_id", &c));
        let consumables = consumables(&mut errors, sent);
        if !errors.is_empty() {
            // One answer names every invalid field, the counts included.
            count_errors(&mut errors, passes, duration_minutes);
        }
        let (
            Some(clinic_id),
            Some(client_id),
            Some(device_kind),
            Some(needle_depth_mm),
            Some(endpoint),
            true,
        ) = (
            clinic_id,
            client_id,
            device_kind,
            needle_depth_mm,
            endpoint,
            errors.is_empty(),
        )
        else {
            return Err(errors);
        };
        Ok(NewTreatment {
            clinic_id,
            client_id,
            performed_at,
            indications,
            areas,
            device_kind,
            needle_depth_mm,
            passes,
            anaesthetic_product,
            anaesthetic_minutes,
            topicals,
            endpoint,
            duration_minutes,
            notes,
            interval_override_reason,
            course_id,
            consumables,
        })
    }
}

impl TryFrom<pb::UpdateTreatmentRequest> for TreatmentChanges {
    type Error = ValidationErrors;

    /// The changes as sent; a list is replaced only when its message is set.
    fn try_from(r: pb::UpdateTreatmentRequest) -> Result<Self, ValidationErrors> {
        let pb::UpdateTreatmentRequest {
            // The record changed and the version last read: the handler reads them first.
            id: _,
            if_match: _,
            indications,
            areas,
            device_kind,
            needle_depth_mm,
            passes,
            anaesthetic_product,
            anaesthetic_minutes,
            topicals,
            endpoint,
            duration_minutes,
            notes,
        } = r;
        let mut errors = ValidationErrors::new();
        let indications = indications
            .map(|pb::StringList { values }| parse_all(&mut errors, "indications", &values));
        let areas = areas.map(|pb::StringList { values }| parse_all(&mut errors, "areas", &values));
        let device_kind = device_kind.and_then(|k| errors.check("device_kind", k.parse()));
        let needle_depth_mm =
            needle_depth_mm.and_then(|mm| parse_depth(&mut errors, "needle_depth_mm", mm));
        let endpoint = endpoint.and_then(|e| errors.check("endpoint", e.parse()));
        errors.into_result()?;
        Ok(TreatmentChanges {
            indications,
            areas,
            device_kind,
            needle_depth_mm,
            passes,
            anaesthetic_product,
            anaesthetic_minutes,
            topicals: topicals.map(|pb::StringList { values }| values),
            endpoint,
            duration_minutes,
            notes,
        })
    }
}
