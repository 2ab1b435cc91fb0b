//! `skinledger.v1.TreatmentService`: eligibility, treatment records, addenda, adverse events
//! and aftercare.

use skinledger_app::consumption::{ConsumableRequest, ConsumedUnit};
use skinledger_app::eligibility::{EligibilityAnswer, EligibilityRequest};
use skinledger_app::treatments::{
    Addendum, AdverseEvent, NewAddendum, NewAdverseEvent, NewTreatment, Treatment,
    TreatmentAftercare, TreatmentChanges, count_errors,
};
use skinledger_app::{App, Error};
use skinledger_domain::ValidationErrors;
use skinledger_domain::aftercare::{Aftercare, AftercareItem};
use skinledger_domain::clinical::Endpoint;
use skinledger_domain::eligibility::Blocker;
use skinledger_domain::inventory::Serial;
use tonic::{Request, Response, Status};

use super::pb::treatment_service_server::TreatmentService;
use super::pb::*;
use super::{
    Write, caller, date, field_id, idempotency_key, page, parse_all, parse_date, parse_depth,
    parse_time, pb, resource_id, status, time,
};

/// The treatment service.
#[derive(Debug, Clone)]
pub struct TreatmentGrpc(pub App);

fn blocker(b: Blocker) -> pb::Blocker {
    let mut out = pb::Blocker {
        code: b.code().to_string(),
        ..Default::default()
    };
    match b {
        Blocker::NoValidScreening | Blocker::NotAssignedToClinic => {}
        Blocker::Contraindicated { factor } | Blocker::RequiresClearance { factor } => {
            out.factor = Some(factor.as_str().to_owned());
        }
        Blocker::Deferred { factor, until } => {
            out.factor = Some(factor.as_str().to_owned());
            out.until = until.map(date);
        }
        Blocker::TooSoon { next_eligible_on } => {
            out.next_eligible_on = Some(date(next_eligible_on))
        }
        Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm,
            endpoint,
        } => {
            out.max_needle_depth_mm = max_needle_depth_mm.map(|d| d.mm());
            out.endpoint = endpoint.map(|e| e.as_str().to_owned());
        }
    }
    out
}

fn eligibility(a: EligibilityAnswer) -> pb::EligibilityAnswer {
    pb::EligibilityAnswer {
        client_id: a.client_id.to_string(),
        clinic_id: a.clinic_id.to_string(),
        practitioner_id: a.practitioner_id.to_string(),
        needle_depth_mm: a.needle_depth_mm.mm(),
        date: date(a.date),
        eligible: a.eligible,
        // Empty and unset for callers who may not read clinical content.
        blockers: a
            .blockers
            .unwrap_or_default()
            .into_iter()
            .map(blocker)
            .collect(),
        earliest_eligible_on: a.earliest_eligible_on.map(date),
        screening_id: a.screening_id.flatten().map(|s| s.to_string()),
        policy_version: a.policy_version,
    }
}

fn addendum(a: Addendum) -> pb::Addendum {
    pb::Addendum {
        id: a.id.to_string(),
        treatment_id: a.treatment_id.to_string(),
        author_id: a.author_id.to_string(),
        text: a.text,
        created_at: time(a.created_at),
    }
}

fn adverse_event(e: AdverseEvent) -> pb::AdverseEvent {
    pb::AdverseEvent {
        id: e.id.to_string(),
        treatment_id: e.treatment_id.to_string(),
        kind: e.kind.as_str().to_owned(),
        severity: e.severity.as_str().to_owned(),
        onset_on: date(e.onset_on),
        notes: e.notes,
        recorded_by: e.recorded_by.to_string(),
        created_at: time(e.created_at),
    }
}

fn instructions(items: Vec<AftercareItem>) -> Vec<pb::AftercareItem> {
    items
        .into_iter()
        .map(|i| pb::AftercareItem {
            code: i.code,
            instruction: i.instruction,
            days: i.days,
            until: date(i.until),
        })
        .collect()
}

fn aftercare(a: Aftercare) -> pb::Aftercare {
    pb::Aftercare {
        instructions: instructions(a.instructions),
        next_eligible_on: date(a.next_eligible_on),
        results_expected_from: date(a.results_expected_from),
    }
}

fn strings<T: std::fmt::Display>(values: Option<Vec<T>>) -> Vec<String> {
    values
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn consumed_unit(u: ConsumedUnit) -> pb::ConsumedUnit {
    pb::ConsumedUnit {
        product_id: u.product_id.to_string(),
        lot_id: u.lot_id.to_string(),
        lot_number: u.lot_number,
        expiry: date(u.expiry),
        serial: u.serial,
        quantity: u.quantity,
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
            let field = |name: &str| format!("consumables[{i}].{name}");
            let product_id = field_id(errors, &field("product_id"), &c.product_id);
            let lot_id = c
                .lot_id
                .and_then(|l| field_id(errors, &field("lot_id"), &l));
            let serial = c
                .serial
                .and_then(|s| errors.check(&field("serial"), Serial::parse(&s)));
            Some(ConsumableRequest {
                product_id: product_id?,
                serial,
                lot_id,
                quantity: c.quantity.unwrap_or(1),
            })
        })
        .collect()
}

/// The record as the app answered it: every field it left out stays unset here too.
fn treatment(t: Treatment) -> pb::Treatment {
    pb::Treatment {
        id: t.id.to_string(),
        client_id: t.client_id.to_string(),
        clinic_id: t.clinic_id.to_string(),
        practitioner_id: t.practitioner_id.to_string(),
        performed_at: time(t.performed_at),
        status: t.status.as_str().to_owned(),
        performed_on: t.performed_on.map(date),
        indications: strings(t.indications),
        areas: strings(t.areas),
        device_kind: t.device_kind.map(|k| k.as_str().to_owned()),
        needle_depth_mm: t.needle_depth_mm.map(|d| d.mm()),
        passes: t.passes,
        anaesthetic_product: t.anaesthetic_product,
        anaesthetic_minutes: t.anaesthetic_minutes,
        topicals: t.topicals.unwrap_or_default(),
        endpoint: t.endpoint.map(|e| e.as_str().to_owned()),
        duration_minutes: t.duration_minutes,
        notes: t.notes,
        interval_override_reason: t.interval_override_reason,
        policy_version: t.policy_version,
        course_id: t.course_id.map(|c| c.to_string()),
        version: t.version,
        signed_at: t.signed_at.map(time),
        signed_by: t.signed_by.map(|s| s.to_string()),
        addenda: t
            .addenda
            .unwrap_or_default()
            .into_iter()
            .map(addendum)
            .collect(),
        adverse_events: t
            .adverse_events
            .unwrap_or_default()
            .into_iter()
            .map(adverse_event)
            .collect(),
        aftercare: t.aftercare.map(aftercare),
        created_at: t.created_at.map(time),
        updated_at: t.updated_at.map(time),
        consumables: t
            .consumables
            .unwrap_or_default()
            .into_iter()
            .map(consumed_unit)
            .collect(),
    }
}

fn treatment_aftercare(a: TreatmentAftercare) -> pb::TreatmentAftercare {
    pb::TreatmentAftercare {
        treatment_id: a.treatment_id.to_string(),
        client_id: a.client_id.to_string(),
        performed_on: date(a.performed_on),
        policy_version: a.policy_version,
        instructions: instructions(a.aftercare.instructions),
        next_eligible_on: date(a.aftercare.next_eligible_on),
        results_expected_from: date(a.aftercare.results_expected_from),
    }
}

/// A validated-fields-missing guard: unreachable once `invalid` passed, but never a panic.
fn missing() -> Status {
    status(Error::Internal("validated request fields missing".into()))
}

/// The new record as sent, every field named when it does not parse.
fn new_treatment(r: CreateTreatmentRequest, at: &Write<'_>) -> Result<NewTreatment, Status> {
    let mut errors = ValidationErrors::new();
    let clinic_id = field_id(&mut errors, "clinic_id", &r.clinic_id);
    let client_id = field_id(&mut errors, "client_id", &r.client_id);
    let performed_at = r
        .performed_at
        .and_then(|t| parse_time(&mut errors, "performed_at", &t));
    let indications = parse_all(&mut errors, "indications", &r.indications);
    let areas = parse_all(&mut errors, "areas", &r.areas);
    let device_kind = errors.check("device_kind", r.device_kind.parse());
    let needle_depth_mm = parse_depth(&mut errors, "needle_depth_mm", r.needle_depth_mm);
    let endpoint = errors.check("endpoint", r.endpoint.parse());
    let course_id = r
        .course_id
        .and_then(|c| field_id(&mut errors, "course_id", &c));
    let consumables = consumables(&mut errors, r.consumables);
    if !errors.is_empty() {
        // One answer names every invalid field, the counts included.
        count_errors(&mut errors, r.passes, r.duration_minutes);
    }
    at.check(errors)?;
    Ok(NewTreatment {
        clinic_id: clinic_id.ok_or_else(missing)?,
        client_id: client_id.ok_or_else(missing)?,
        performed_at,
        indications,
        areas,
        device_kind: device_kind.ok_or_else(missing)?,
        needle_depth_mm: needle_depth_mm.ok_or_else(missing)?,
        passes: r.passes,
        anaesthetic_product: r.anaesthetic_product,
        anaesthetic_minutes: r.anaesthetic_minutes,
        topicals: r.topicals,
        endpoint: endpoint.ok_or_else(missing)?,
        duration_minutes: r.duration_minutes,
        notes: r.notes,
        interval_override_reason: r.interval_override_reason,
        course_id,
        consumables,
    })
}

/// The changes as sent; a list is replaced only when its message is set.
fn treatment_changes(
    r: UpdateTreatmentRequest,
    at: &Write<'_>,
) -> Result<TreatmentChanges, Status> {
    let mut errors = ValidationErrors::new();
    let indications = r
        .indications
        .map(|l| parse_all(&mut errors, "indications", &l.values));
    let areas = r.areas.map(|l| parse_all(&mut errors, "areas", &l.values));
    let device_kind = r
        .device_kind
        .and_then(|k| errors.check("device_kind", k.parse()));
    let needle_depth_mm = r
        .needle_depth_mm
        .and_then(|mm| parse_depth(&mut errors, "needle_depth_mm", mm));
    let endpoint = r.endpoint.and_then(|e| errors.check("endpoint", e.parse()));
    at.check(errors)?;
    Ok(TreatmentChanges {
        indications,
        areas,
        device_kind,
        needle_depth_mm,
        passes: r.passes,
        anaesthetic_product: r.anaesthetic_product,
        anaesthetic_minutes: r.anaesthetic_minutes,
        topicals: r.topicals.map(|l| l.values),
        endpoint,
        duration_minutes: r.duration_minutes,
        notes: r.notes,
    })
}

#[tonic::async_trait]
impl TreatmentService for TreatmentGrpc {
    async fn check_eligibility(
        &self,
        request: Request<CheckEligibilityRequest>,
    ) -> Result<Response<pb::EligibilityAnswer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let mut errors = ValidationErrors::new();
        let client_id = field_id(&mut errors, "client_id", &r.client_id);
        let clinic_id = field_id(&mut errors, "clinic_id", &r.clinic_id);
        let practitioner_id = r
            .practitioner_id
            .and_then(|p| field_id(&mut errors, "practitioner_id", &p));
        let needle_depth_mm = parse_depth(&mut errors, "needle_depth_mm", r.needle_depth_mm);
        let on = r.date.and_then(|d| parse_date(&mut errors, "date", &d));
        let endpoint = r
            .endpoint
            .and_then(|e| errors.check("endpoint", e.parse::<Endpoint>()));
        Write::new(&self.0, &actor, "TreatmentService/CheckEligibility").check(errors)?;
        let check = EligibilityRequest {
            client_id: client_id.ok_or_else(missing)?,
            clinic_id: clinic_id.ok_or_else(missing)?,
            practitioner_id,
            needle_depth_mm: needle_depth_mm.ok_or_else(missing)?,
            date: on,
            endpoint,
        };
        Ok(Response::new(eligibility(
            self.0
                .check_eligibility(&actor, check)
                .await
                .map_err(status)?,
        )))
    }

    async fn create_treatment(
        &self,
        request: Request<CreateTreatmentRequest>,
    ) -> Result<Response<pb::Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = new_treatment(
            request.into_inner(),
            &Write::new(&self.0, &actor, "TreatmentService/CreateTreatment"),
        )?;
        Ok(Response::new(treatment(
            self.0
                .create_treatment(&actor, new, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn get_treatment(
        &self,
        request: Request<GetTreatmentRequest>,
    ) -> Result<Response<pb::Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(treatment(
            self.0.get_treatment(&actor, id).await.map_err(status)?,
        )))
    }

    async fn list_client_treatments(
        &self,
        request: Request<ListClientTreatmentsRequest>,
    ) -> Result<Response<ListTreatmentsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let client_id = resource_id(&r.client_id)?;
        let answer = self
            .0
            .list_client_treatments(&actor, client_id, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListTreatmentsResponse {
            items: answer.items.into_iter().map(treatment).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn update_treatment(
        &self,
        request: Request<UpdateTreatmentRequest>,
    ) -> Result<Response<pb::Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let if_match = r.if_match;
        let changes = treatment_changes(
            r,
            &Write::new(&self.0, &actor, "TreatmentService/UpdateTreatment"),
        )?;
        Ok(Response::new(treatment(
            self.0
                .update_treatment(&actor, id, changes, if_match)
                .await
                .map_err(status)?,
        )))
    }

    async fn sign_treatment(
        &self,
        request: Request<SignTreatmentRequest>,
    ) -> Result<Response<pb::Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        Ok(Response::new(treatment(
            self.0
                .sign_treatment(&actor, id, r.if_match, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn add_addendum(
        &self,
        request: Request<AddAddendumRequest>,
    ) -> Result<Response<pb::Addendum>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.treatment_id)?;
        Ok(Response::new(addendum(
            self.0
                .add_treatment_addendum(&actor, id, NewAddendum { text: r.text }, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn record_adverse_event(
        &self,
        request: Request<RecordAdverseEventRequest>,
    ) -> Result<Response<pb::AdverseEvent>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.treatment_id)?;
        let mut errors = ValidationErrors::new();
        let kind = errors.check("kind", r.kind.parse());
        let severity = errors.check("severity", r.severity.parse());
        let onset_on = parse_date(&mut errors, "onset_on", &r.onset_on);
        Write::new(&self.0, &actor, "TreatmentService/RecordAdverseEvent").check(errors)?;
        let new = NewAdverseEvent {
            kind: kind.ok_or_else(missing)?,
            severity: severity.ok_or_else(missing)?,
            onset_on: onset_on.ok_or_else(missing)?,
            notes: r.notes,
        };
        Ok(Response::new(adverse_event(
            self.0
                .record_adverse_event(&actor, id, new, key.as_ref())
                .await
                .map_err(status)?,
        )))
    }

    async fn get_aftercare(
        &self,
        request: Request<GetAftercareRequest>,
    ) -> Result<Response<pb::TreatmentAftercare>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().treatment_id)?;
        Ok(Response::new(treatment_aftercare(
            self.0
                .get_treatment_aftercare(&actor, id)
                .await
                .map_err(status)?,
        )))
    }
}
