//! A treatment as a caller sees it: who, where, when and the status for any role of the
//! organisation, and the clinical record only for roles that read clinical content at the
//! treatment's clinic (and `org_admin`).
//!
//! The clinical record is one type, [`ClinicalRecord`], present or absent as a whole: a
//! clinical field added to it can never reach a caller who may not read clinical content.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use skinledger_domain::aftercare::{Aftercare, aftercare_for};
use skinledger_domain::clinical::{
    AdverseEventKind, Area, DeviceKind, Endpoint, Indication, Severity, TreatmentStatus,
};
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::permission::{Action, Scope};
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_store::entities::{
    adverse_event as adverse_row, treatment as treatment_row, treatment_addendum as addendum_row,
};
use skinledger_store::treatments;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use uuid::Uuid;

use crate::actor::Actor;
use crate::consumption::{self, ConsumedUnit};
use crate::eligibility::depth_of;
use crate::error::{Error, Result};
use crate::policy;

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

impl From<adverse_row::Model> for AdverseEvent {
    fn from(m: adverse_row::Model) -> Self {
        Self {
            id: m.id,
            treatment_id: m.treatment_id,
            kind: *m.kind,
            severity: *m.severity,
            onset_on: m.onset_on,
            notes: m.notes,
            recorded_by: m.recorded_by,
            created_at: m.created_at,
        }
    }
}

/// A treatment record as the API shows it: who, where, when and the status, and the clinical
/// record for callers who may read clinical content at the clinic (its fields are absent, not
/// empty, for anyone else).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// The clinical record, its fields beside the ones above; absent for a caller who may not
    /// read clinical content at the clinic.
    #[serde(flatten)]
    pub clinical: Option<ClinicalRecord>,
}

/// What a treatment record holds beyond who, where, when and the status: the session, its
/// corrections, adverse events, devices and aftercare.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ClinicalRecord {
    /// The day of the session on the clinic's calendar, from which intervals and aftercare
    /// count.
    pub performed_on: NaiveDate,
    /// What it was meant to improve.
    pub indications: Vec<Indication>,
    /// Areas treated.
    pub areas: Vec<Area>,
    /// Roller or pen.
    pub device_kind: DeviceKind,
    /// Needle depth in millimetres.
    pub needle_depth_mm: NeedleDepth,
    /// Passes over the area.
    pub passes: u32,
    /// The topical anaesthetic applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anaesthetic_product: Option<String>,
    /// Minutes it was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anaesthetic_minutes: Option<u32>,
    /// Serums and creams applied during or after.
    pub topicals: Vec<String>,
    /// Where needling stopped.
    pub endpoint: Endpoint,
    /// Length of the session in minutes.
    pub duration_minutes: u32,
    /// The practitioner's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// A physician's reason for treating sooner than the minimum interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_override_reason: Option<String>,
    /// The policy version the treatment was checked under.
    pub policy_version: i64,
    /// The course it counts towards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<Uuid>,
    /// Incremented by every edit and by signing; the `ETag`.
    pub version: i64,
    /// When it was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<DateTime<Utc>>,
    /// Who signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<Uuid>,
    /// Corrections, oldest first.
    pub addenda: Vec<Addendum>,
    /// Adverse events, oldest first.
    pub adverse_events: Vec<AdverseEvent>,
    /// The devices consumed: each lot and serial, so that a recall finds the client.
    pub consumables: Vec<ConsumedUnit>,
    /// The client's aftercare, dated from the session.
    pub aftercare: Aftercare,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
}

impl Treatment {
    /// The version of a full record (its `ETag`); none for a record shown without its clinical
    /// content.
    pub fn version(&self) -> Option<i64> {
        self.clinical.as_ref().map(|c| c.version)
    }

    /// Who, where, when and the status: what any role of the organisation may see.
    fn shown(row: &treatment_row::Model) -> Self {
        Self {
            id: row.id,
            client_id: row.client_id,
            clinic_id: row.clinic_id,
            practitioner_id: row.practitioner_id,
            performed_at: row.performed_at,
            status: *row.status,
            clinical: None,
        }
    }

    /// Everything, the clinical record included: what clinical roles at its clinic see.
    fn in_full(
        row: treatment_row::Model,
        addenda: Vec<Addendum>,
        adverse_events: Vec<AdverseEvent>,
        consumables: Vec<ConsumedUnit>,
        policy: &ClinicalPolicy,
    ) -> Result<Self> {
        let mut answer = Self::shown(&row);
        answer.clinical = Some(ClinicalRecord::of(
            row,
            addenda,
            adverse_events,
            consumables,
            policy,
        )?);
        Ok(answer)
    }
}

impl ClinicalRecord {
    /// The clinical record of `row`.
    fn of(
        row: treatment_row::Model,
        addenda: Vec<Addendum>,
        adverse_events: Vec<AdverseEvent>,
        consumables: Vec<ConsumedUnit>,
        policy: &ClinicalPolicy,
    ) -> Result<Self> {
        let depth = depth_of(row.needle_depth_hundredths)?;
        Ok(Self {
            performed_on: row.performed_on,
            indications: row.indications.into_inner(),
            areas: row.areas.into_inner(),
            device_kind: *row.device_kind,
            needle_depth_mm: depth,
            passes: to_u32(row.passes)?,
            anaesthetic_product: row.anaesthetic_product,
            anaesthetic_minutes: row.anaesthetic_minutes.map(to_u32).transpose()?,
            topicals: row.topicals.into_inner(),
            endpoint: *row.endpoint,
            duration_minutes: to_u32(row.duration_minutes)?,
            notes: row.notes,
            interval_override_reason: row.interval_override_reason,
            policy_version: i64::from(row.policy_version),
            course_id: row.course_id,
            version: i64::from(row.version),
            signed_at: row.signed_at,
            signed_by: row.signed_by,
            addenda,
            adverse_events,
            consumables,
            aftercare: aftercare_for(policy, row.performed_on, depth),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// How the contract describes a treatment record.
const DESCRIPTION: &str = "A treatment record as the API shows it: who, where, when and the \
    status, and the clinical record for callers who may read clinical content at the clinic \
    (its fields are absent, not empty, for anyone else).";

/// The schema of the fields every caller sees; [`Treatment`]'s schema adds the clinical ones.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Shown {
    /// Its id.
    id: Uuid,
    /// The client treated.
    client_id: Uuid,
    /// Where.
    clinic_id: Uuid,
    /// By whom.
    practitioner_id: Uuid,
    /// When.
    performed_at: DateTime<Utc>,
    /// `draft` or `signed`.
    status: TreatmentStatus,
}

impl utoipa::PartialSchema for Treatment {
    /// One object: the fields every caller sees, required, and every field of
    /// [`ClinicalRecord`], optional, since a caller who may not read clinical content gets none.
    fn schema() -> RefOr<Schema> {
        let mut shown = <Shown as utoipa::PartialSchema>::schema();
        if let (RefOr::T(Schema::Object(object)), RefOr::T(Schema::Object(clinical))) = (
            &mut shown,
            <ClinicalRecord as utoipa::PartialSchema>::schema(),
        ) {
            object.description = Some(DESCRIPTION.to_owned());
            object.properties.extend(clinical.properties);
        }
        shown
    }
}

impl utoipa::ToSchema for Treatment {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <Shown as utoipa::ToSchema>::schemas(schemas);
        <ClinicalRecord as utoipa::ToSchema>::schemas(schemas);
    }
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

/// A stored count, which is never negative.
pub(super) fn to_u32(value: i32) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Internal(format!("stored count {value} is negative")))
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
            answers.push(Treatment::shown(&row));
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
            .map(AdverseEvent::from)
            .collect();
        let used = consumed.remove(&row.id).unwrap_or_default();
        answers.push(Treatment::in_full(row, mine, theirs, used, policy)?);
    }
    Ok(answers)
}

/// The answer for a treatment just recorded, from what the write already holds: no addenda or
/// adverse events yet, the consumables just taken (in the order they were recorded), and the
/// policy it was judged under. It is the answer a read gives, without reading the row back.
pub(super) fn recorded(
    actor: &Actor,
    row: treatment_row::Model,
    consumables: Vec<ConsumedUnit>,
    policy: &ClinicalPolicy,
) -> Result<Treatment> {
    if actor.may(Action::ClinicalRead, Scope::Clinic(row.clinic_id)) {
        Treatment::in_full(row, Vec::new(), Vec::new(), consumables, policy)
    } else {
        Ok(Treatment::shown(&row))
    }
}

/// The answer for one row, as `actor` may see it.
pub(super) async fn view(
    db: &impl ConnectionTrait,
    actor: &Actor,
    row: treatment_row::Model,
) -> Result<Treatment> {
    views(db, actor, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("treatment view missing".into()))
}
