//! The `courses` table.

use sea_orm::entity::prelude::*;

/// One row of `courses`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "courses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub client_id: Uuid,
    pub template: Option<String>,
    pub name: String,
    pub sessions: i32,
    pub min_interval_days: i32,
    pub max_interval_days: i32,
    pub started_on: Date,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
