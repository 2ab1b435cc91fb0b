//! The `treatments` table.

use sea_orm::entity::prelude::*;
use skinledger_domain::clinical::{Area, DeviceKind, Endpoint, Indication, TreatmentStatus};

use crate::codec::{Json, Text};

/// One row of `treatments`; `indications`, `areas` and `topicals` are JSON arrays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "treatments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub clinic_id: Uuid,
    pub client_id: Uuid,
    pub practitioner_id: Uuid,
    pub performed_at: DateTimeUtc,
    pub performed_on: Date,
    pub status: Text<TreatmentStatus>,
    pub indications: Json<Vec<Indication>>,
    pub areas: Json<Vec<Area>>,
    pub device_kind: Text<DeviceKind>,
    pub needle_depth_hundredths: i32,
    pub passes: i32,
    pub anaesthetic_product: Option<String>,
    pub anaesthetic_minutes: Option<i32>,
    pub topicals: Json<Vec<String>>,
    pub endpoint: Text<Endpoint>,
    pub duration_minutes: i32,
    pub notes: Option<String>,
    pub interval_override_reason: Option<String>,
    pub policy_version: i32,
    pub course_id: Option<Uuid>,
    pub version: i32,
    pub signed_at: Option<DateTimeUtc>,
    pub signed_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
