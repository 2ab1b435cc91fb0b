//! The `event_sequences` table: each organisation's last event number and the head of its
//! audit chain. Its row is the lock that serialises the organisation's appends.

use sea_orm::entity::prelude::*;

/// One row of `event_sequences`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_sequences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub last_seq: i64,
    pub purged_through: i64,
    /// The number of the organisation's last audit event.
    pub audit_seq: i64,
    /// The hash of the organisation's last audit event.
    pub audit_hash: String,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
