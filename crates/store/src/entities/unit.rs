//! The `units` table: serial numbers of single units, as received or consumed.

use sea_orm::entity::prelude::*;

/// One row of `units`; `status` is `in_stock`, `consumed` or `quarantined`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub product_id: Uuid,
    pub lot_id: Uuid,
    pub serial: String,
    pub clinic_id: Uuid,
    pub status: String,
    pub treatment_id: Option<Uuid>,
    pub transfer_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
