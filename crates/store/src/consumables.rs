//! The units each treatment consumed: by lot, and by serial when one was given.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entities::treatment_consumable;

/// Records units consumed; fails with a unique violation when the serial was consumed before.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: treatment_consumable::ActiveModel,
) -> Result<treatment_consumable::Model, DbErr> {
    row.insert(db).await
}

/// What the given treatments consumed, in the order recorded.
pub async fn of_treatments(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment_ids: &[Uuid],
) -> Result<Vec<treatment_consumable::Model>, DbErr> {
    if treatment_ids.is_empty() {
        return Ok(Vec::new());
    }
    treatment_consumable::Entity::find()
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::TreatmentId.is_in(treatment_ids.iter().copied()))
        .order_by_asc(treatment_consumable::Column::Id)
        .all(db)
        .await
}

/// One consumption of a lot, as its trace shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotUse {
    /// The consumption row.
    pub id: Uuid,
    /// The treatment that consumed it.
    pub treatment_id: Uuid,
    /// Where.
    pub clinic_id: Uuid,
    /// Units consumed.
    pub quantity: i32,
    /// The unit's serial, when one was given.
    pub serial: Option<String>,
}

/// Every consumption of a lot, oldest first: read from one index that holds these columns in
/// this order (`ix_treatment_consumables_lot_trace`).
pub async fn of_lot(db: &impl ConnectionTrait, org: Uuid, lot: Uuid) -> Result<Vec<LotUse>, DbErr> {
    let rows: Vec<(Uuid, Uuid, Uuid, i32, Option<String>)> = treatment_consumable::Entity::find()
        .select_only()
        .columns([
            treatment_consumable::Column::Id,
            treatment_consumable::Column::TreatmentId,
            treatment_consumable::Column::ClinicId,
            treatment_consumable::Column::Quantity,
            treatment_consumable::Column::Serial,
        ])
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::LotId.eq(lot))
        .order_by_asc(treatment_consumable::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, treatment_id, clinic_id, quantity, serial)| LotUse {
            id,
            treatment_id,
            clinic_id,
            quantity,
            serial,
        })
        .collect())
}

/// Units consumed per (clinic, product) by treatments performed from `from` to `to`
/// inclusive, optionally only at `clinics`: read from one index that holds these columns
/// (`ix_treatment_consumables_usage`).
pub async fn usage(
    db: &impl ConnectionTrait,
    org: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    clinics: Option<&[Uuid]>,
) -> Result<Vec<(Uuid, Uuid, i64)>, DbErr> {
    let mut query = treatment_consumable::Entity::find()
        .select_only()
        .column(treatment_consumable::Column::ClinicId)
        .column(treatment_consumable::Column::ProductId)
        // SUM of an integer column is a bigint on PostgreSQL and an integer on SQLite; the cast
        // makes both decode as i64.
        .column_as(
            Expr::col(treatment_consumable::Column::Quantity)
                .sum()
                .cast_as("bigint"),
            "units",
        )
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::PerformedOn.gte(from))
        .filter(treatment_consumable::Column::PerformedOn.lte(to));
    if let Some(clinics) = clinics {
        query = query.filter(treatment_consumable::Column::ClinicId.is_in(clinics.iter().copied()));
    }
    query
        .group_by(treatment_consumable::Column::ClinicId)
        .group_by(treatment_consumable::Column::ProductId)
        .order_by_asc(treatment_consumable::Column::ClinicId)
        .order_by_asc(treatment_consumable::Column::ProductId)
        .into_tuple()
        .all(db)
        .await
}

/// How many treatments used a lot.
pub async fn treatments_using(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
) -> Result<u64, DbErr> {
    let count: Option<i64> = treatment_consumable::Entity::find()
        .select_only()
        .column_as(
            Expr::col(treatment_consumable::Column::TreatmentId).count_distinct(),
            "treatments",
        )
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::LotId.eq(lot))
        .into_tuple()
        .one(db)
        .await?;
    Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// The distinct lots a treatment used.
pub async fn lots_of_treatment(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    treatment_consumable::Entity::find()
        .select_only()
        .column(treatment_consumable::Column::LotId)
        .distinct()
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::TreatmentId.eq(treatment))
        .order_by_asc(treatment_consumable::Column::LotId)
        .into_tuple()
        .all(db)
        .await
}
