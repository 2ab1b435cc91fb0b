//! The `webhook_deliveries` table: one event queued for one webhook endpoint.

use sea_orm::entity::prelude::*;
use skinledger_domain::events::EventType;
use skinledger_domain::webhook::DeliveryStatus;

use crate::codec::Text;

/// One row of `webhook_deliveries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub seq: i64,
    pub event_type: Text<EventType>,
    pub payload: String,
    pub status: Text<DeliveryStatus>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub first_attempt_at: Option<DateTimeUtc>,
    pub leased_until: Option<DateTimeUtc>,
    pub lease_token: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
