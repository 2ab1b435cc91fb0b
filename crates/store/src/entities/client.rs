//! The `clients` table.

use sea_orm::entity::prelude::*;
use skinledger_domain::clinical::FitzpatrickType;

use crate::codec::Text;

/// One row of `clients`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: Date,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub fitzpatrick_type: Option<Text<FitzpatrickType>>,
    pub consent_version: Option<String>,
    pub consent_signed_at: Option<DateTimeUtc>,
    pub photo_consent: bool,
    pub notes: Option<String>,
    /// `first last`, lowercased, for prefix search.
    pub name_search: String,
    /// `last first`, lowercased, for prefix search by last name.
    pub reverse_name_search: String,
    /// The email, lowercased.
    pub email_search: Option<String>,
    /// The phone number's digits only.
    pub phone_search: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
