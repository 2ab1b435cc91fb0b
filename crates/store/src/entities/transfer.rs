//! The `transfers` table: units sent from one clinic to another.

use sea_orm::entity::prelude::*;
use skinledger_domain::inventory::TransferStatus;

use crate::codec::Text;

/// One row of `transfers`; `status` is `in_transit`, `received` or `cancelled`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub from_clinic_id: Uuid,
    pub to_clinic_id: Uuid,
    pub status: Text<TransferStatus>,
    pub note: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<Uuid>,
    pub cancelled_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
