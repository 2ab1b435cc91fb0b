//! The `policies` table: every version of each organisation's clinical policy.

use sea_orm::entity::prelude::*;
use skinledger_domain::policy::ClinicalPolicy;

use crate::codec::Json;

/// One row of `policies`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    pub document: Json<ClinicalPolicy>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
