//! A new treatment validated ([`TreatmentPlan`]) and recorded under every eligibility rule
//! ([`record_treatment`]), with the checks of the fields a draft may change.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::Set;
use skinledger_domain::ValidationErrors;
use skinledger_domain::clinical::{Area, DeviceKind, Endpoint, Indication, TreatmentStatus};
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::eligibility::Blocker;
use skinledger_domain::permission::{Action, Scope};
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_store::entities::treatment as treatment_row;
use skinledger_store::{clients, courses, treatments};
use uuid::Uuid;

use super::refusal::refuse;
use super::wire::{
    MAX_ANAESTHETIC_MINUTES, MAX_DURATION_MINUTES, MAX_PASSES, MAX_TOPICALS, NewTreatment,
};
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::clinics::{active_clinic, timezone_of};
use crate::eligibility::Facts;
use crate::error::{Error, Result};
use crate::text::{MAX_TEXT_LEN, optional_text, required_text};
use crate::txn::Txn;

/// How far in the future `performed_at` may lie, for clocks that are slightly off.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// A new treatment, validated.
pub(crate) struct TreatmentPlan {
    pub(super) clinic_id: Uuid,
    pub(super) client_id: Uuid,
    pub(super) performed_at: DateTime<Utc>,
    pub(super) indications: Vec<Indication>,
    pub(super) areas: Vec<Area>,
    pub(super) device_kind: DeviceKind,
    pub(super) depth: NeedleDepth,
    pub(super) passes: u32,
    pub(super) anaesthetic: Option<(String, Option<u32>)>,
    pub(super) topicals: Vec<String>,
    pub(super) endpoint: Endpoint,
    pub(super) duration_minutes: u32,
    pub(super) notes: Option<String>,
    pub(super) override_reason: Option<String>,
    pub(super) course_id: Option<Uuid>,
}

pub(super) fn non_empty_unique<T: PartialEq>(
    errors: &mut ValidationErrors,
    field: &str,
    values: &[T],
) {
    if values.is_empty() {
        errors.add(field, "must name at least one");
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            errors.add(format!("{field}[{i}]"), "is listed twice");
        }
    }
}

/// Checks the counts of a new treatment, naming each out of bounds; a transport that refuses
/// other fields of the same request calls it too, so that one answer names every field.
pub fn count_errors(errors: &mut ValidationErrors, passes: u32, duration_minutes: u32) {
    count(errors, "passes", passes, 1, MAX_PASSES);
    count(
        errors,
        "duration_minutes",
        duration_minutes,
        1,
        MAX_DURATION_MINUTES,
    );
}

pub(super) fn count(errors: &mut ValidationErrors, field: &str, value: u32, min: u32, max: u32) {
    if !(min..=max).contains(&value) {
        errors.add(field, format!("must be between {min} and {max}"));
    }
}

pub(super) fn topicals(errors: &mut ValidationErrors, values: &[String]) -> Vec<String> {
    if values.len() > MAX_TOPICALS {
        errors.add("topicals", format!("must list at most {MAX_TOPICALS}"));
    }
    values
        .iter()
        .enumerate()
        .filter_map(|(i, t)| required_text(errors, &format!("topicals[{i}]"), t, 200))
        .collect()
}

/// The anaesthetic pair: minutes only with a product.
pub(super) fn anaesthetic(
    errors: &mut ValidationErrors,
    product: Option<&str>,
    minutes: Option<u32>,
) -> Option<(String, Option<u32>)> {
    if let Some(m) = minutes {
        count(errors, "anaesthetic_minutes", m, 0, MAX_ANAESTHETIC_MINUTES);
    }
    match optional_text(errors, "anaesthetic_product", product, 200) {
        Some(product) => Some((product, minutes)),
        None => {
            if minutes.is_some() {
                errors.add("anaesthetic_minutes", "requires anaesthetic_product");
            }
            None
        }
    }
}

impl TreatmentPlan {
    pub(super) fn parse(new: &NewTreatment, now: DateTime<Utc>) -> Result<Self> {
        let mut errors = ValidationErrors::new();
        let performed_at = new.performed_at.unwrap_or(now);
        if performed_at > now + CLOCK_SKEW {
            errors.add("performed_at", "must not be in the future");
        }
        non_empty_unique(&mut errors, "indications", &new.indications);
        non_empty_unique(&mut errors, "areas", &new.areas);
        count_errors(&mut errors, new.passes, new.duration_minutes);
        let anaesthetic = anaesthetic(
            &mut errors,
            new.anaesthetic_product.as_deref(),
            new.anaesthetic_minutes,
        );
        let topicals = topicals(&mut errors, &new.topicals);
        let notes = optional_text(&mut errors, "notes", new.notes.as_deref(), MAX_TEXT_LEN);
        let override_reason = match new.interval_override_reason.as_deref() {
            Some(reason) => required_text(
                &mut errors,
                "interval_override_reason",
                reason,
                MAX_TEXT_LEN,
            ),
            None => None,
        };
        errors.into_result()?;
        Ok(Self {
            clinic_id: new.clinic_id,
            client_id: new.client_id,
            performed_at,
            indications: new.indications.clone(),
            areas: new.areas.clone(),
            device_kind: new.device_kind,
            depth: new.needle_depth_mm,
            passes: new.passes,
            anaesthetic,
            topicals,
            endpoint: new.endpoint,
            duration_minutes: new.duration_minutes,
            notes,
            override_reason,
            course_id: new.course_id,
        })
    }
}

/// Checks and inserts a treatment inside `txn`, appending its audit event, and returns the row
/// with today's date on the clinic's calendar.
///
/// Loads the client (locking it, so that two sessions for one client take turns), the clinic,
/// the course, and the facts of eligibility; refuses on any blocker (a physician's override
/// lifts `too_soon`). The caller commits, and may add work of its own to the same transaction
/// first, such as consuming the device used.
pub(crate) async fn record_treatment(
    txn: &Txn,
    actor: &Actor,
    practitioner: Uuid,
    plan: &TreatmentPlan,
) -> Result<Recorded> {
    let org = actor.org_id;
    clients::get_for_update(txn, org, plan.client_id)
        .await?
        .ok_or(Error::NotFound("client"))?;
    let clinic = active_clinic(txn, org, plan.clinic_id).await?;
    if let Some(course_id) = plan.course_id {
        let course = courses::get(txn, org, course_id)
            .await?
            .ok_or(Error::NotFound("course"))?;
        if course.client_id != plan.client_id {
            return Err(Error::invalid("course_id", "is a course of another client"));
        }
    }
    // The day of the session is the day on the clinic's calendar.
    let zone = timezone_of(&clinic);
    let on = zone.local_date(plan.performed_at);
    let facts = Facts::gather(
        txn,
        org,
        plan.client_id,
        plan.clinic_id,
        practitioner,
        on,
        None,
    )
    .await?;
    let backdate = facts.policy.max_backdate_days;
    if plan.performed_at < Utc::now() - chrono::Duration::days(i64::from(backdate)) {
        return Err(Error::invalid(
            "performed_at",
            format!("must not lie more than {backdate} days in the past"),
        ));
    }
    let mut result = facts.check(on, plan.depth, Some(plan.endpoint));
    let mut override_reason = None;
    if let Some(reason) = &plan.override_reason {
        if !actor.may(Action::IntervalOverride, Scope::Clinic(plan.clinic_id)) {
            return Err(Error::Forbidden {
                code: ErrorCode::Forbidden,
                detail: "only a physician at this clinic may override the interval".into(),
            });
        }
        let before = result.blockers.len();
        result
            .blockers
            .retain(|b| !matches!(b, Blocker::TooSoon { .. }));
        // Recorded only when it overrode something, so the column means "overridden".
        if result.blockers.len() < before {
            override_reason = Some(reason.clone());
        }
    }
    refuse(&result)?;

    let now = Utc::now();
    let (anaesthetic_product, anaesthetic_minutes) = match &plan.anaesthetic {
        Some((product, minutes)) => (Some(product.clone()), minutes.map(to_i32)),
        None => (None, None),
    };
    let row = treatments::insert(
        txn,
        treatment_row::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            clinic_id: Set(plan.clinic_id),
            client_id: Set(plan.client_id),
            practitioner_id: Set(practitioner),
            performed_at: Set(plan.performed_at),
            performed_on: Set(on),
            status: Set(TreatmentStatus::Draft.into()),
            indications: Set(plan.indications.clone().into()),
            areas: Set(plan.areas.clone().into()),
            device_kind: Set(plan.device_kind.into()),
            needle_depth_hundredths: Set(i32::from(plan.depth.hundredths())),
            passes: Set(to_i32(plan.passes)),
            anaesthetic_product: Set(anaesthetic_product),
            anaesthetic_minutes: Set(anaesthetic_minutes),
            topicals: Set(plan.topicals.clone().into()),
            endpoint: Set(plan.endpoint.into()),
            duration_minutes: Set(to_i32(plan.duration_minutes)),
            notes: Set(plan.notes.clone()),
            interval_override_reason: Set(override_reason.clone()),
            policy_version: Set(facts.policy_version),
            course_id: Set(plan.course_id),
            version: Set(1),
            signed_at: Set(None),
            signed_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    txn.audit(
        AuditEvent::by(actor, "treatment.create", "treatment", Some(row.id))
            .client(row.client_id)
            .detail(serde_json::json!({
                "policy_version": facts.policy_version,
                "interval_overridden": override_reason.is_some(),
            })),
    );
    Ok(Recorded {
        row,
        today: zone.today(),
        policy: facts.policy,
    })
}

/// A treatment just recorded, with what its answer and its consumption need.
pub(crate) struct Recorded {
    /// The row inserted.
    pub(crate) row: treatment_row::Model,
    /// Today on the clinic's calendar.
    pub(crate) today: NaiveDate,
    /// The clinical policy it was judged under.
    pub(crate) policy: ClinicalPolicy,
}

/// A validated count as stored.
pub(super) fn to_i32(value: u32) -> i32 {
    // Every count is validated far below i32::MAX before it gets here.
    i32::try_from(value).unwrap_or(i32::MAX)
}
