//! The `screening_clearances` table.

use sea_orm::entity::prelude::*;
use skinledger_domain::contraindication::Contraindication;

use crate::codec::Text;

/// One row of `screening_clearances`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "screening_clearances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub screening_id: Uuid,
    pub factor: Text<Contraindication>,
    pub reason: String,
    pub cleared_by: Uuid,
    pub cleared_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
