//! The `events` table: the outbox of integration events.

use sea_orm::entity::prelude::*;
use skinledger_domain::events::{EventData, EventType};

use crate::codec::{Json, Text};

/// One row of `events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub seq: i64,
    pub event_type: Text<EventType>,
    pub occurred_at: DateTimeUtc,
    pub clinic_id: Option<Uuid>,
    pub other_clinic_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub treatment_id: Option<Uuid>,
    pub lot_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub payload: Json<EventData>,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
