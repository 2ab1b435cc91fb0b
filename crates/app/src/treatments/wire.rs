//! Treatment requests as they are sent: a new record, changes to a draft, an addendum and an
//! adverse event. Counts out of bounds are refused while the document is read, so that one
//! answer names them with every other invalid field.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use skinledger_domain::clinical::{
    AdverseEventKind, Area, DeviceKind, Endpoint, Indication, Severity,
};
use skinledger_domain::depth::NeedleDepth;
use uuid::Uuid;

use crate::consumption::ConsumableRequest;

/// Most passes recorded for one session.
pub(super) const MAX_PASSES: u32 = 50;
/// Longest session recorded, in minutes.
pub(super) const MAX_DURATION_MINUTES: u32 = 480;
/// Longest anaesthetic application recorded, in minutes.
pub(super) const MAX_ANAESTHETIC_MINUTES: u32 = 240;
/// Most topicals recorded for one session.
pub(super) const MAX_TOPICALS: usize = 20;

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
    pub(super) fn field_names(&self) -> Vec<&'static str> {
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
