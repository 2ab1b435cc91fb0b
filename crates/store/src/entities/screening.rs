//! The `screenings` table.

use sea_orm::entity::prelude::*;
use skinledger_domain::screening::{Outcome, Reason, ScreeningAnswers};

use crate::codec::{Json, Text};

/// One row of `screenings`; `answers` and `reasons` are JSON.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "screenings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub client_id: Uuid,
    pub clinic_id: Option<Uuid>,
    pub screened_by: Uuid,
    pub screened_on: Date,
    pub answers: Json<ScreeningAnswers>,
    pub outcome: Text<Outcome>,
    pub reasons: Json<Vec<Reason>>,
    pub valid_until: Date,
    pub policy_version: i32,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
