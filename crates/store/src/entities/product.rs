//! The `products` table: the organisation's catalogue of devices.

use sea_orm::entity::prelude::*;
use skinledger_domain::inventory::ProductKind;

use crate::codec::Text;

/// One row of `products`; depths and lengths are in hundredths of a millimetre.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: Text<ProductKind>,
    pub name: String,
    pub maker: String,
    pub gtin: Option<String>,
    pub needle_length_hundredths: Option<i32>,
    pub needle_count: Option<i32>,
    pub max_depth_hundredths: Option<i32>,
    pub single_use: bool,
    pub reorder_point: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
