//! The `staff_roles` table.

use sea_orm::entity::prelude::*;
use skinledger_domain::role::Role;

use crate::codec::Text;

/// One row of `staff_roles`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub staff_id: Uuid,
    pub clinic_id: Option<Uuid>,
    pub role: Text<Role>,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
