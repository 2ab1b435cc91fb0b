//! The `adverse_events` table.

use sea_orm::entity::prelude::*;
use skinledger_domain::clinical::{AdverseEventKind, Severity};

use crate::codec::Text;

/// One row of `adverse_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "adverse_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub treatment_id: Uuid,
    pub kind: Text<AdverseEventKind>,
    pub severity: Text<Severity>,
    pub onset_on: Date,
    pub notes: Option<String>,
    pub recorded_by: Uuid,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
