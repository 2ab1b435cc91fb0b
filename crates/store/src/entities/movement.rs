//! The `movements` table: the stock ledger, one row per change of a balance.

use sea_orm::entity::prelude::*;
use skinledger_domain::inventory::MovementKind;

use crate::codec::Text;

/// One row of `movements`: signed changes to `on_hand` (`quantity`), `quarantined` and
/// `in_transit_out` of one lot at one clinic.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub clinic_id: Uuid,
    pub lot_id: Uuid,
    pub kind: Text<MovementKind>,
    pub quantity: i32,
    pub quarantined_delta: i32,
    pub in_transit_delta: i32,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub treatment_id: Option<Uuid>,
    pub transfer_id: Option<Uuid>,
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
