//! The `stock` table: the balance of one lot at one clinic.

use sea_orm::entity::prelude::*;

/// One row of `stock`; no count is ever below zero.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock")]
pub struct Model {
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub clinic_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub lot_id: Uuid,
    pub on_hand: i32,
    pub quarantined: i32,
    pub in_transit_out: i32,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
