//! Treatment records: create (with every eligibility rule in the same transaction), read, edit
//! a draft, sign, and add addenda, adverse events and aftercare.
//!
//! Who sees what: roles that read clinical content at the treatment's clinic (and `org_admin`)
//! get the full record; any other role of the organisation gets only who, where, when and the
//! status, with every clinical field absent from the answer.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::aftercare::{Aftercare, aftercare_for};
use skinledger_domain::clinical::{
    AdverseEventKind, Area, DeviceKind, Endpoint, Indication, Severity, TreatmentStatus,
};
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::eligibility::{Blocker, Eligibility};
use skinledger_domain::permission::{Action, Scope};
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_store::entities::{
    adverse_event as adverse_row, treatment as treatment_row, treatment_addendum as addendum_row,
};
use skinledger_store::{clients, clinics, courses, treatments};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::clients::{MAX_TEXT_LEN, optional_text, required_text};
use crate::clinics::{active_clinic, timezone_of};
use crate::consumption::{self, ConsumableRequest, ConsumedUnit};
use crate::eligibility::{Facts, depth_of};
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};
use crate::policy;
use crate::txn::Txn;
use skinledger_domain::events::EventType;

/// Most passes recorded for one session.
const MAX_PASSES: u32 = 50;
/// Longest session recorded, in minutes.
const MAX_DURATION_MINUTES: u32 = 480;
/// Longest anaesthetic application recorded, in minutes.
const MAX_ANAESTHETIC_MINUTES: u32 = 240;
/// Most topicals recorded for one session.
const MAX_TOPICALS: usize = 20;
/// How far in the future `performed_at` may lie, for clocks that are slightly off.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// A correction to a treatment record, appended after the fact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Addendum {
    /// Its id.
    pub id: Uuid,
    /// The treatment it corrects.
    pub treatment_id: Uuid,
    /// Who wrote it (staff member or API client).
    pub author_id: Uuid,
    /// The correction.
    pub text: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl From<addendum_row::Model> for Addendum {
    fn from(m: addendum_row::Model) -> Self {
        Self {
            id: m.id,
            treatment_id: m.treatment_id,
            author_id: m.author_id,
            text: m.text,
            created_at: m.created_at,
        }
    }
}

/// An adverse event after a treatment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AdverseEvent {
    /// Its id.
    pub id: Uuid,
    /// The treatment it followed.
    pub treatment_id: Uuid,
    /// What happened.
    pub kind: AdverseEventKind,
    /// How bad it was.
    pub severity: Severity,
    /// The day it began.
    pub onset_on: NaiveDate,
    /// Details.
    pub notes: Option<String>,
    /// Who recorded it.
    pub recorded_by: Uuid,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl AdverseEvent {
    fn from_row(m: adverse_row::Model) -> Result<Self> {
        Ok(Self {
            id: m.id,
            treatment_id: m.treatment_id,
            kind: *m.kind,
            severity: *m.severity,
            onset_on: m.onset_on,
            notes: m.notes,
            recorded_by: m.recorded_by,
            created_at: m.created_at,
        })
    }
}

/// A treatment record as the API shows it. Every field after `status` is clinical: it is
/// absent (not empty) for callers who may not read clinical content at the clinic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Treatment {
    /// Its id.
    pub id: Uuid,
    /// The client treated.
    pub client_id: Uuid,
    /// Where.
    pub clinic_id: Uuid,
    /// By whom.
    pub practitioner_id: Uuid,
    /// When.
    pub performed_at: DateTime<Utc>,
    /// `draft` or `signed`.
    pub status: TreatmentStatus,
    /// The day of the session (UTC), from which intervals and aftercare count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_on: Option<NaiveDate>,
    /// What it was meant to improve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indications: Option<Vec<Indication>>,
    /// Areas treated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub areas: Option<Vec<Area>>,
    /// Roller or pen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_kind: Option<DeviceKind>,
    /// Needle depth in millimetres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needle_depth_mm: Option<NeedleDepth>,
    /// Passes over the area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passes: Option<u32>,
    /// The topical anaesthetic applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anaesthetic_product: Option<String>,
    /// Minutes it was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anaesthetic_minutes: Option<u32>,
    /// Serums and creams applied during or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topicals: Option<Vec<String>>,
    /// Where needling stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
    /// Length of the session in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    /// The practitioner's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// A physician's reason for treating sooner than the minimum interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_override_reason: Option<String>,
    /// The policy version the treatment was checked under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<i64>,
    /// The course it counts towards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<Uuid>,
    /// Incremented by every edit and by signing; the `ETag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// When it was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<DateTime<Utc>>,
    /// Who signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<Uuid>,
    /// Corrections, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addenda: Option<Vec<Addendum>>,
    /// Adverse events, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adverse_events: Option<Vec<AdverseEvent>>,
    /// The devices consumed: each lot and serial, so that a recall finds the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumables: Option<Vec<ConsumedUnit>>,
    /// The client's aftercare, dated from the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aftercare: Option<Aftercare>,
    /// When the record was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When the record last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Treatment {
    /// Who, where, when and the status: what any role of the organisation may see.
    fn reduced(row: &treatment_row::Model) -> Result<Self> {
        Ok(Self {
            id: row.id,
            client_id: row.client_id,
            clinic_id: row.clinic_id,
            practitioner_id: row.practitioner_id,
            performed_at: row.performed_at,
            status: *row.status,
            performed_on: None,
            indications: None,
            areas: None,
            device_kind: None,
            needle_depth_mm: None,
            passes: None,
            anaesthetic_product: None,
            anaesthetic_minutes: None,
            topicals: None,
            endpoint: None,
            duration_minutes: None,
            notes: None,
            interval_override_reason: None,
            policy_version: None,
            course_id: None,
            version: None,
            signed_at: None,
            signed_by: None,
            addenda: None,
            adverse_events: None,
            consumables: None,
            aftercare: None,
            created_at: None,
            updated_at: None,
        })
    }

    /// The whole record.
    fn full(
        row: treatment_row::Model,
        addenda: Vec<Addendum>,
        adverse_events: Vec<AdverseEvent>,
        consumables: Vec<ConsumedUnit>,
        policy: &ClinicalPolicy,
    ) -> Result<Self> {
        let depth = depth_of(row.needle_depth_hundredths)?;
        let reduced = Self::reduced(&row)?;
        Ok(Self {
            performed_on: Some(row.performed_on),
            indications: Some(row.indications.into_inner()),
            areas: Some(row.areas.into_inner()),
            device_kind: Some(*row.device_kind),
            needle_depth_mm: Some(depth),
            passes: Some(to_u32(row.passes)?),
            anaesthetic_product: row.anaesthetic_product,
            anaesthetic_minutes: row.anaesthetic_minutes.map(to_u32).transpose()?,
            topicals: Some(row.topicals.into_inner()),
            endpoint: Some(*row.endpoint),
            duration_minutes: Some(to_u32(row.duration_minutes)?),
            notes: row.notes,
            interval_override_reason: row.interval_override_reason,
            policy_version: Some(i64::from(row.policy_version)),
            course_id: row.course_id,
            version: Some(i64::from(row.version)),
            signed_at: row.signed_at,
            signed_by: row.signed_by,
            addenda: Some(addenda),
            adverse_events: Some(adverse_events),
            consumables: Some(consumables),
            aftercare: Some(aftercare_for(policy, row.performed_on, depth)),
            created_at: Some(row.created_at),
            updated_at: Some(row.updated_at),
            ..reduced
        })
    }
}

fn to_u32(value: i32) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Internal(format!("stored count {value} is negative")))
}

fn to_i32(value: u32) -> i32 {
    // Every count is validated far below i32::MAX before it gets here.
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A treatment record, as sent. The practitioner is the caller.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTreatment {
    /// Where.
    pub clinic_id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// When; now when absent.
    #[serde(default)]
    pub performed_at: Option<DateTime<Utc>>,
    /// What it is meant to improve; at least one.
    pub indications: Vec<Indication>,
    /// Areas treated; at least one.
    pub areas: Vec<Area>,
    /// Roller or pen.
    pub device_kind: DeviceKind,
    /// Needle depth in millimetres.
    pub needle_depth_mm: NeedleDepth,
    /// Passes over the area (1 to 50).
    #[serde(deserialize_with = "passes")]
    #[schema(minimum = 1, maximum = 50)]
    pub passes: u32,
    /// The topical anaesthetic applied, if any.
    #[serde(default)]
    pub anaesthetic_product: Option<String>,
    /// Minutes it was applied; only with `anaesthetic_product`.
    #[serde(default)]
    pub anaesthetic_minutes: Option<u32>,
    /// Serums and creams applied.
    #[serde(default)]
    pub topicals: Vec<String>,
    /// Where needling stopped.
    pub endpoint: Endpoint,
    /// Length of the session in minutes (1 to 480).
    #[serde(deserialize_with = "duration_minutes")]
    #[schema(minimum = 1, maximum = 480)]
    pub duration_minutes: u32,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// A physician's reason for treating sooner than the minimum interval.
    #[serde(default)]
    pub interval_override_reason: Option<String>,
    /// The client's course this session counts towards.
    #[serde(default)]
    pub course_id: Option<Uuid>,
    /// The devices used, taken from the clinic's stock: at least one single-use needle device
    /// (a roller or a pen cartridge).
    #[serde(default)]
    pub consumables: Vec<ConsumableRequest>,
}

/// Changes to a draft; absent fields stay as they are, and an empty text clears a field
/// (an empty `anaesthetic_product` clears the minutes too). The clinic, client, practitioner
/// and time of a record are fixed; a mistake there is corrected with an addendum.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentChanges {
    /// New indications.
    #[serde(default)]
    pub indications: Option<Vec<Indication>>,
    /// New areas.
    #[serde(default)]
    pub areas: Option<Vec<Area>>,
    /// New device kind.
    #[serde(default)]
    pub device_kind: Option<DeviceKind>,
    /// New needle depth; checked again against scope of practice and the interval.
    #[serde(default)]
    pub needle_depth_mm: Option<NeedleDepth>,
    /// New number of passes.
    #[serde(default)]
    pub passes: Option<u32>,
    /// New anaesthetic; empty clears it with its minutes.
    #[serde(default)]
    pub anaesthetic_product: Option<String>,
    /// New anaesthetic minutes.
    #[serde(default)]
    pub anaesthetic_minutes: Option<u32>,
    /// New topicals.
    #[serde(default)]
    pub topicals: Option<Vec<String>>,
    /// New endpoint.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// New duration.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// New notes; empty clears them.
    #[serde(default)]
    pub notes: Option<String>,
}

impl TreatmentChanges {
    /// The names of the fields sent, for the audit log.
    fn field_names(&self) -> Vec<&'static str> {
        [
            ("indications", self.indications.is_some()),
            ("areas", self.areas.is_some()),
            ("device_kind", self.device_kind.is_some()),
            ("needle_depth_mm", self.needle_depth_mm.is_some()),
            ("passes", self.passes.is_some()),
            ("anaesthetic_product", self.anaesthetic_product.is_some()),
            ("anaesthetic_minutes", self.anaesthetic_minutes.is_some()),
            ("topicals", self.topicals.is_some()),
            ("endpoint", self.endpoint.is_some()),
            ("duration_minutes", self.duration_minutes.is_some()),
            ("notes", self.notes.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, sent)| sent.then_some(name))
        .collect()
    }
}

/// An addendum, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddendum {
    /// The correction.
    pub text: String,
}

/// An adverse event, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdverseEvent {
    /// What happened.
    pub kind: AdverseEventKind,
    /// How bad it was.
    pub severity: Severity,
    /// The day it began: not before the treatment, not after today.
    pub onset_on: NaiveDate,
    /// Details.
    #[serde(default)]
    pub notes: Option<String>,
}

/// A treatment's aftercare, as the mobile app shows it to the client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TreatmentAftercare {
    /// The treatment.
    pub treatment_id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The day of the session, from which every end date counts.
    pub performed_on: NaiveDate,
    /// The policy version the aftercare comes from: the treatment's.
    pub policy_version: i64,
    /// The instructions with their end dates, the next eligible day and when results show.
    #[serde(flatten)]
    pub aftercare: Aftercare,
}

/// A new treatment, validated.
pub(crate) struct TreatmentPlan {
    clinic_id: Uuid,
    client_id: Uuid,
    performed_at: DateTime<Utc>,
    indications: Vec<Indication>,
    areas: Vec<Area>,
    device_kind: DeviceKind,
    depth: NeedleDepth,
    passes: u32,
    anaesthetic: Option<(String, Option<u32>)>,
    topicals: Vec<String>,
    endpoint: Endpoint,
    duration_minutes: u32,
    notes: Option<String>,
    override_reason: Option<String>,
    course_id: Option<Uuid>,
}

fn non_empty_unique<T: PartialEq>(errors: &mut ValidationErrors, field: &str, values: &[T]) {
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

/// Reads a count, refusing one outside `min..=max` while the document is read, so that a
/// request with other invalid fields names this one too.
fn bounded<'de, D: serde::Deserializer<'de>>(d: D, min: u32, max: u32) -> Result<u32, D::Error> {
    let value = u32::deserialize(d)?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "must be between {min} and {max}"
        )))
    }
}

fn passes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    bounded(d, 1, MAX_PASSES)
}

fn duration_minutes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    bounded(d, 1, MAX_DURATION_MINUTES)
}

fn count(errors: &mut ValidationErrors, field: &str, value: u32, min: u32, max: u32) {
    if !(min..=max).contains(&value) {
        errors.add(field, format!("must be between {min} and {max}"));
    }
}

fn topicals(errors: &mut ValidationErrors, values: &[String]) -> Vec<String> {
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
fn anaesthetic(
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
    fn parse(new: &NewTreatment, now: DateTime<Utc>) -> Result<Self> {
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

/// What a client may be told about one blocker.
fn describe(blocker: &Blocker) -> String {
    match blocker {
        Blocker::NoValidScreening => {
            "the client has no valid screening for that day; screen them first".into()
        }
        Blocker::Contraindicated { factor } => format!("`{factor}` is a contraindication"),
        Blocker::RequiresClearance { factor } => {
            format!("`{factor}` requires a physician's clearance")
        }
        Blocker::Deferred {
            factor,
            until: Some(until),
        } => format!("`{factor}` defers treatment until {until}"),
        Blocker::Deferred {
            factor,
            until: None,
        } => format!("`{factor}` defers treatment until the client is rescreened"),
        Blocker::TooSoon { next_eligible_on } => format!(
            "too soon after the client's last treatment; next eligible on {next_eligible_on}"
        ),
        Blocker::OutsideScopeOfPractice {
            endpoint: Some(endpoint),
            ..
        } => format!("your roles at this clinic do not take a session to `{endpoint}`"),
        Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(max),
            endpoint: None,
        } => format!("your roles at this clinic allow needles up to {max}"),
        Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: None,
            endpoint: None,
        } => "your roles at this clinic do not perform treatments".into(),
        Blocker::NotAssignedToClinic => "the practitioner holds no role at this clinic".into(),
    }
}

/// Turns blockers into the refusal: 403 `outside_scope_of_practice` whenever the session is
/// beyond the practitioner's scope, and 403 `not_assigned_to_clinic` when they hold no role at
/// the clinic (both are about who treats, not about the client); otherwise 409 with the first
/// blocker's code and every blocker in `extra`.
fn refuse(result: &Eligibility) -> Result<()> {
    let who_treats = [
        |b: &Blocker| matches!(b, Blocker::OutsideScopeOfPractice { .. }),
        |b: &Blocker| matches!(b, Blocker::NotAssignedToClinic),
    ];
    if let Some(scope) = who_treats
        .iter()
        .find_map(|is| result.blockers.iter().find(|b| is(b)))
    {
        return Err(Error::Forbidden {
            code: scope.code(),
            detail: describe(scope),
        });
    }
    match result.blockers.first() {
        None => Ok(()),
        Some(first) => Err(Error::Conflict {
            code: first.code(),
            detail: describe(first),
            extra: Some(serde_json::json!({
                "blockers": result.blockers,
                "earliest_eligible_on": result.earliest_eligible_on,
            })),
        }),
    }
}

/// Only the treatment's practitioner, still recording at its clinic, edits or signs it.
fn require_practitioner(actor: &Actor, row: &treatment_row::Model) -> Result<()> {
    if actor.staff_id() == Some(row.practitioner_id)
        && actor.may(Action::TreatmentRecord, Scope::Clinic(row.clinic_id))
    {
        Ok(())
    } else {
        Err(Error::Forbidden {
            code: ErrorCode::Forbidden,
            detail: "only the treatment's practitioner may change or sign it".into(),
        })
    }
}

/// An event about a treatment: its client, clinic and version.
pub(crate) fn treatment_change(kind: EventType, row: &treatment_row::Model) -> Change {
    Change::new(kind)
        .treatment(row.id)
        .client(row.client_id)
        .clinic(row.clinic_id)
        .data(EventData {
            version: Some(i64::from(row.version)),
            ..EventData::default()
        })
}

fn record_signed() -> Error {
    Error::conflict(
        ErrorCode::RecordSigned,
        "the treatment is signed; add an addendum instead",
    )
}

async fn load(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<treatment_row::Model> {
    treatments::get(db, org, id)
        .await?
        .ok_or(Error::NotFound("treatment"))
}

/// After a conditional update touched nothing: signed in the meantime, or changed.
async fn lost_race(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Error {
    match treatments::get(db, org, id).await {
        Ok(Some(row)) if row.status == TreatmentStatus::Signed => record_signed(),
        Ok(_) => Error::PreconditionFailed,
        Err(e) => e.into(),
    }
}

/// Builds the answers for `rows` as `actor` may see them, loading addenda, adverse events and
/// the policies of the full records in one go.
pub(crate) async fn views(
    db: &impl ConnectionTrait,
    actor: &Actor,
    rows: Vec<treatment_row::Model>,
) -> Result<Vec<Treatment>> {
    let org = actor.org_id;
    let full_ids: Vec<Uuid> = rows
        .iter()
        .filter(|r| actor.may(Action::ClinicalRead, Scope::Clinic(r.clinic_id)))
        .map(|r| r.id)
        .collect();
    let addenda = treatments::addenda_of(db, org, &full_ids).await?;
    let events = treatments::adverse_events_of(db, org, &full_ids).await?;
    let mut consumed = consumption::consumed_by(db, org, &full_ids).await?;
    let mut policies: HashMap<i32, ClinicalPolicy> = HashMap::new();
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        if !full_ids.contains(&row.id) {
            answers.push(Treatment::reduced(&row)?);
            continue;
        }
        let policy = match policies.entry(row.policy_version) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                slot.insert(policy::at_version(db, org, row.policy_version).await?)
            }
        };
        let mine: Vec<Addendum> = addenda
            .iter()
            .filter(|a| a.treatment_id == row.id)
            .cloned()
            .map(Addendum::from)
            .collect();
        let theirs = events
            .iter()
            .filter(|e| e.treatment_id == row.id)
            .cloned()
            .map(AdverseEvent::from_row)
            .collect::<Result<Vec<_>>>()?;
        let used = consumed.remove(&row.id).unwrap_or_default();
        answers.push(Treatment::full(row, mine, theirs, used, policy)?);
    }
    Ok(answers)
}

async fn view(
    db: &impl ConnectionTrait,
    actor: &Actor,
    row: treatment_row::Model,
) -> Result<Treatment> {
    views(db, actor, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("treatment view missing".into()))
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
) -> Result<(treatment_row::Model, NaiveDate)> {
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
    Ok((row, zone.today()))
}

impl App {
    /// Records a treatment by the caller, checking every eligibility rule in the same
    /// transaction as the write.
    ///
    /// Refuses with 403 `outside_scope_of_practice` for a depth beyond the caller's limit at
    /// the clinic, else with 409 and the first blocker's code (`no_valid_screening`,
    /// `contraindicated`, `requires_clearance`, `deferred`, `too_soon`,
    /// `not_assigned_to_clinic`), every blocker listed in the error's `extra`. A physician at
    /// the clinic may send `interval_override_reason` to treat despite `too_soon`.
    ///
    /// Consumes the devices in `consumables` from the clinic's stock in the same transaction
    /// (see [`consumption`]): 422 on `consumables` without a single-use needle device, 422 on
    /// `needle_depth_mm` and `consumables[i]` beyond a device's labelled maximum, 409
    /// `out_of_stock`, `lot_expired`, `lot_recalled` or `serial_already_used`.
    pub async fn create_treatment(
        &self,
        actor: &Actor,
        new: NewTreatment,
        key: Option<&IdempotencyKey>,
    ) -> Result<Treatment> {
        let subject = Subject::new("treatment", None)
            .client(new.client_id)
            .clinic(new.clinic_id);
        self.audited(actor, "treatment.create", subject, async move {
            let plan = TreatmentPlan::parse(&new, Utc::now());
            let db = self.db().read();
            let org = actor.org_id;
            clients::get(db, org, new.client_id)
                .await?
                .ok_or(Error::NotFound("client"))?;
            clinics::get(db, org, new.clinic_id)
                .await?
                .ok_or(Error::NotFound("clinic"))?;
            if let Some(course_id) = new.course_id {
                courses::get(db, org, course_id)
                    .await?
                    .ok_or(Error::NotFound("course"))?;
            }
            actor.require(Action::TreatmentRecord, Scope::Anywhere)?;
            let practitioner = actor.staff_id().ok_or_else(|| Error::Forbidden {
                code: ErrorCode::Forbidden,
                detail: "treatments are recorded by the practitioner who performed them".into(),
            })?;
            let plan = plan?;
            let devices =
                consumption::plan(db, org, &new.consumables, plan.depth, plan.device_kind).await?;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.create",
                &new,
                |txn| async move {
                    let (row, today) = record_treatment(&txn, actor, practitioner, &plan).await?;
                    // Same transaction, before the commit: a refused consumption leaves no
                    // treatment behind, and a rolled-back treatment consumed nothing.
                    let used = consumption::consume(&txn, actor, &row, &devices, today).await?;
                    let mut changes = vec![treatment_change(EventType::TreatmentCreated, &row)];
                    changes.extend(
                        events::low_stock(
                            &txn,
                            org,
                            row.clinic_id,
                            used.iter().map(|u| (u.product_id, u.quantity)),
                        )
                        .await?,
                    );
                    txn.publish(org, changes);
                    let answer = view(&txn, actor, row).await?;
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }

    /// One treatment: the full record for roles that read clinical content at its clinic, who,
    /// where, when and status for any other role.
    pub async fn get_treatment(&self, actor: &Actor, id: Uuid) -> Result<Treatment> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        if !actor.may(Action::ClinicalRead, Scope::Clinic(row.clinic_id)) {
            actor.require(Action::ClientRead, Scope::Anywhere)?;
        }
        self.read_audit().record(
            AuditEvent::by(actor, "treatment.read", "treatment", Some(id)).client(row.client_id),
        );
        view(db, actor, row).await
    }

    /// A client's treatments, oldest recorded first, each as the caller may see it.
    pub async fn list_client_treatments(
        &self,
        actor: &Actor,
        client_id: Uuid,
        page: &PageParams,
    ) -> Result<Page<Treatment>> {
        let db = self.db().read();
        clients::get(db, actor.org_id, client_id)
            .await?
            .ok_or(Error::NotFound("client"))?;
        actor.require(Action::ClientRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let rows = treatments::list_for_client(db, actor.org_id, client_id, page).await?;
        self.read_audit().record(
            AuditEvent::by(actor, "treatment.list", "client", Some(client_id)).client(client_id),
        );
        let next_after = rows.next_after;
        let items = views(db, actor, rows.items).await?;
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |t| t,
        ))
    }

    /// Edits a draft (its practitioner only). A signed record answers 409 `record_signed`;
    /// with `if_match`, a stale version answers 412. A new depth is checked again against the
    /// practitioner's scope and the client's interval (unless an override was recorded).
    pub async fn update_treatment(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: TreatmentChanges,
        if_match: Option<i64>,
    ) -> Result<Treatment> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.update", subject, async move {
            let org = actor.org_id;
            let txn = Txn::begin(self.db()).await?;
            let row = load(&txn, org, id).await?;
            require_practitioner(actor, &row)?;
            if row.status == TreatmentStatus::Signed {
                return Err(record_signed());
            }
            if if_match.is_some_and(|v| v != i64::from(row.version)) {
                return Err(Error::PreconditionFailed);
            }

            let mut errors = ValidationErrors::new();
            let mut active = treatment_row::ActiveModel {
                updated_at: Set(Utc::now()),
                ..Default::default()
            };
            if let Some(values) = &changes.indications {
                non_empty_unique(&mut errors, "indications", values);
                active.indications = Set(values.clone().into());
            }
            if let Some(values) = &changes.areas {
                non_empty_unique(&mut errors, "areas", values);
                active.areas = Set(values.clone().into());
            }
            if let Some(kind) = changes.device_kind {
                active.device_kind = Set(kind.into());
            }
            if let Some(passes) = changes.passes {
                count(&mut errors, "passes", passes, 1, MAX_PASSES);
                active.passes = Set(to_i32(passes));
            }
            if changes.anaesthetic_product.is_some() || changes.anaesthetic_minutes.is_some() {
                let product = changes
                    .anaesthetic_product
                    .as_deref()
                    .or(row.anaesthetic_product.as_deref());
                let cleared = changes
                    .anaesthetic_product
                    .as_deref()
                    .is_some_and(|p| p.trim().is_empty());
                let minutes = match changes.anaesthetic_minutes {
                    Some(m) => Some(m),
                    None if cleared => None,
                    None => row.anaesthetic_minutes.map(to_u32).transpose()?,
                };
                let (product, minutes) = anaesthetic(&mut errors, product, minutes).unzip();
                active.anaesthetic_product = Set(product);
                active.anaesthetic_minutes = Set(minutes.flatten().map(to_i32));
            }
            if let Some(values) = &changes.topicals {
                active.topicals = Set(topicals(&mut errors, values).into());
            }
            if let Some(endpoint) = changes.endpoint {
                active.endpoint = Set(endpoint.into());
            }
            if let Some(minutes) = changes.duration_minutes {
                count(
                    &mut errors,
                    "duration_minutes",
                    minutes,
                    1,
                    MAX_DURATION_MINUTES,
                );
                active.duration_minutes = Set(to_i32(minutes));
            }
            if changes.notes.is_some() {
                active.notes = Set(optional_text(
                    &mut errors,
                    "notes",
                    changes.notes.as_deref(),
                    MAX_TEXT_LEN,
                ));
            }
            errors.into_result()?;

            if changes.needle_depth_mm.is_some() || changes.endpoint.is_some() {
                let depth = match changes.needle_depth_mm {
                    Some(depth) => depth,
                    None => depth_of(row.needle_depth_hundredths)?,
                };
                let endpoint = match changes.endpoint {
                    Some(endpoint) => endpoint,
                    None => *row.endpoint,
                };
                let facts = Facts::gather(
                    &txn,
                    org,
                    row.client_id,
                    row.clinic_id,
                    row.practitioner_id,
                    row.performed_on,
                    Some(id),
                )
                .await?;
                let mut result = facts.check(row.performed_on, depth, Some(endpoint));
                // The screening was checked when the session was recorded; a correction of depth
                // or endpoint concerns only the practitioner's scope and the interval.
                result.blockers.retain(|b| match b {
                    Blocker::OutsideScopeOfPractice { .. } => true,
                    Blocker::TooSoon { .. } => {
                        changes.needle_depth_mm.is_some() && row.interval_override_reason.is_none()
                    }
                    _ => false,
                });
                refuse(&result)?;
                if let Some(depth) = changes.needle_depth_mm {
                    consumption::check_depth_of_treatment(&txn, org, id, depth).await?;
                    active.needle_depth_hundredths = Set(i32::from(depth.hundredths()));
                }
            }
            if let Some(kind) = changes.device_kind {
                consumption::check_device_kind_of_treatment(&txn, org, id, kind).await?;
            }

            if !treatments::update_draft_if_version(&txn, org, id, row.version, active).await? {
                return Err(lost_race(&txn, org, id).await);
            }
            let row = load(&txn, org, id).await?;
            txn.audit(
                AuditEvent::by(actor, "treatment.update", "treatment", Some(id))
                    .client(row.client_id)
                    .detail(serde_json::json!({ "fields": changes.field_names() })),
            );
            let answer = view(&txn, actor, row).await?;
            txn.commit().await?;
            Ok(answer)
        })
        .await
    }

    /// Signs a draft (its practitioner only), making it immutable; corrections are addenda
    /// from then on. Signing again answers 409 `record_signed`.
    pub async fn sign_treatment(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        key: Option<&IdempotencyKey>,
    ) -> Result<Treatment> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.sign", subject, async move {
            let org = actor.org_id;
            let row = load(self.db().read(), org, id).await?;
            require_practitioner(actor, &row)?;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.sign",
                &(id, if_match),
                |txn| async move {
                    let row = load(&txn, org, id).await?;
                    if row.status == TreatmentStatus::Signed {
                        return Err(record_signed());
                    }
                    if if_match.is_some_and(|v| v != i64::from(row.version)) {
                        return Err(Error::PreconditionFailed);
                    }
                    let now = Utc::now();
                    let active = treatment_row::ActiveModel {
                        status: Set(TreatmentStatus::Signed.into()),
                        signed_at: Set(Some(now)),
                        signed_by: Set(Some(actor.principal.id())),
                        updated_at: Set(now),
                        ..Default::default()
                    };
                    if !treatments::update_draft_if_version(&txn, org, id, row.version, active)
                        .await?
                    {
                        return Err(lost_race(&txn, org, id).await);
                    }
                    let row = load(&txn, org, id).await?;
                    txn.audit(
                        AuditEvent::by(actor, "treatment.sign", "treatment", Some(id))
                            .client(row.client_id),
                    );
                    txn.publish(
                        org,
                        vec![treatment_change(EventType::TreatmentSigned, &row)],
                    );
                    let answer = view(&txn, actor, row).await?;
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }

    /// Appends an addendum to a treatment, signed or not (clinical roles at its clinic).
    pub async fn add_treatment_addendum(
        &self,
        actor: &Actor,
        id: Uuid,
        new: NewAddendum,
        key: Option<&IdempotencyKey>,
    ) -> Result<Addendum> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.addendum", subject, async move {
            let row = load(self.db().read(), actor.org_id, id).await?;
            actor.require(Action::TreatmentAmend, Scope::Clinic(row.clinic_id))?;
            let mut errors = ValidationErrors::new();
            let text = required_text(&mut errors, "text", &new.text, MAX_TEXT_LEN);
            errors.into_result()?;
            let text = text.ok_or_else(|| Error::invalid("text", "must not be empty"))?;
            let client_id = row.client_id;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.addendum",
                &(id, &new),
                |txn| async move {
                    let added = treatments::insert_addendum(
                        &txn,
                        addendum_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            treatment_id: Set(id),
                            author_id: Set(actor.principal.id()),
                            text: Set(text),
                            created_at: Set(Utc::now()),
                        },
                    )
                    .await?;
                    txn.audit(
                        AuditEvent::by(actor, "treatment.addendum", "treatment", Some(id))
                            .client(client_id),
                    );
                    txn.publish(
                        actor.org_id,
                        vec![
                            treatment_change(EventType::TreatmentAddendumAdded, &row)
                                .subject(added.id),
                        ],
                    );
                    Ok((Addendum::from(added), txn))
                },
            )
            .await
        })
        .await
    }

    /// Records an adverse event after a treatment, signed or not (clinical roles at its clinic).
    /// When it crosses the adverse-event signal of a lot the treatment used, that lot goes on
    /// hold at every clinic in the same transaction (see `signals`).
    pub async fn record_adverse_event(
        &self,
        actor: &Actor,
        id: Uuid,
        new: NewAdverseEvent,
        key: Option<&IdempotencyKey>,
    ) -> Result<AdverseEvent> {
        let subject = Subject::new("treatment", Some(id));
        self.audited(actor, "treatment.adverse_event", subject, async move {
            let row = load(self.db().read(), actor.org_id, id).await?;
            actor.require(Action::TreatmentAmend, Scope::Clinic(row.clinic_id))?;
            let mut errors = ValidationErrors::new();
            if new.onset_on < row.performed_on {
                errors.add("onset_on", "must not be before the treatment");
            }
            if new.onset_on > Utc::now().date_naive() {
                errors.add("onset_on", "must not be in the future");
            }
            let notes = optional_text(&mut errors, "notes", new.notes.as_deref(), MAX_TEXT_LEN);
            errors.into_result()?;
            let client_id = row.client_id;
            idempotency::run(
                self.db(),
                actor,
                key,
                "treatment.adverse_event",
                &(id, &new),
                |txn| async move {
                    let added = treatments::insert_adverse_event(
                        &txn,
                        adverse_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            treatment_id: Set(id),
                            kind: Set(new.kind.into()),
                            severity: Set(new.severity.into()),
                            onset_on: Set(new.onset_on),
                            notes: Set(notes),
                            recorded_by: Set(actor.principal.id()),
                            created_at: Set(Utc::now()),
                        },
                    )
                    .await?;
                    txn.audit(
                        AuditEvent::by(actor, "treatment.adverse_event", "treatment", Some(id))
                            .client(client_id),
                    );
                    let mut changes = vec![
                        treatment_change(EventType::AdverseEventRecorded, &row).subject(added.id),
                    ];
                    changes.extend(
                        crate::signals::check_after_adverse_event(
                            &txn,
                            actor,
                            id,
                            new.severity,
                            Utc::now().date_naive(),
                        )
                        .await?,
                    );
                    txn.publish(actor.org_id, changes);
                    Ok((AdverseEvent::from_row(added)?, txn))
                },
            )
            .await
        })
        .await
    }

    /// A treatment's aftercare under the policy version it was recorded with (clinical roles
    /// at its clinic).
    pub async fn get_treatment_aftercare(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<TreatmentAftercare> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        actor.require(Action::ClinicalRead, Scope::Clinic(row.clinic_id))?;
        let policy = policy::at_version(db, actor.org_id, row.policy_version).await?;
        let depth = depth_of(row.needle_depth_hundredths)?;
        self.read_audit().record(
            AuditEvent::by(actor, "treatment.aftercare", "treatment", Some(id))
                .client(row.client_id),
        );
        Ok(TreatmentAftercare {
            treatment_id: row.id,
            client_id: row.client_id,
            performed_on: row.performed_on,
            policy_version: i64::from(row.policy_version),
            aftercare: aftercare_for(&policy, row.performed_on, depth),
        })
    }
}
