//! The `audit_events` table.

use sea_orm::entity::prelude::*;

/// One row of `audit_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub outcome: String,
    pub detail: Option<String>,
    pub request_id: Option<String>,
    pub occurred_at: DateTimeUtc,
    /// Its number in the organisation's audit chain, from 1.
    pub seq: i64,
    /// The hash of the event numbered `seq - 1`.
    pub prev_hash: String,
    /// The SHA-256 of its canonical form (`skinledger_domain::audit_chain`).
    pub hash: String,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
