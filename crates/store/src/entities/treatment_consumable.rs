//! The `treatment_consumables` table: the units a treatment consumed, by lot and serial.

use sea_orm::entity::prelude::*;

/// One row of `treatment_consumables`; `clinic_id`, `client_id`, `practitioner_id`,
/// `performed_at` and `performed_on` repeat the treatment's (none of them changes once it is
/// recorded), so that usage reports need no join and a lot's trace joins only the clients.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "treatment_consumables")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub treatment_id: Uuid,
    pub clinic_id: Uuid,
    pub client_id: Uuid,
    pub practitioner_id: Uuid,
    pub performed_at: DateTimeUtc,
    pub performed_on: Date,
    pub product_id: Uuid,
    pub lot_id: Uuid,
    pub serial: Option<String>,
    pub quantity: i32,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
