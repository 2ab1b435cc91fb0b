//! The `lots` table: a maker's batch of one product, with its expiry date.

use sea_orm::entity::prelude::*;
use skinledger_domain::inventory::LotStatus;

use crate::codec::Text;

/// One row of `lots`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub product_id: Uuid,
    pub lot_number: String,
    pub expiry: Date,
    pub status: Text<LotStatus>,
    pub recalled_at: Option<DateTimeUtc>,
    pub recalled_by: Option<Uuid>,
    pub recall_reason: Option<String>,
    pub serial_tracked: bool,
    pub created_at: DateTimeUtc,
    /// When an adverse-event signal put the lot on hold, while it is.
    pub held_at: Option<DateTimeUtc>,
    /// Why (`adverse_event_signal`), while it is on hold.
    pub hold_reason: Option<String>,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
