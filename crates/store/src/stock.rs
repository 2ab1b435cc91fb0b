//! Balances of each lot at each clinic: on hand, quarantined, in transit out.
//!
//! Balances change only through [`apply`], one conditional `UPDATE` that refuses to take any
//! count below zero. The database decides, so the rule holds across replicas and races: of two
//! requests for the last unit, the second finds no row to update.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use skinledger_domain::inventory::{StockBalance, StockChange};
use uuid::Uuid;

use crate::entities::stock;

fn to_i32(value: i64) -> Result<i32, DbErr> {
    i32::try_from(value).map_err(|_| DbErr::Custom(format!("stock quantity {value} out of range")))
}

/// The balance a row holds.
pub fn balance(row: &stock::Model) -> StockBalance {
    StockBalance {
        on_hand: i64::from(row.on_hand),
        quarantined: i64::from(row.quarantined),
        in_transit_out: i64::from(row.in_transit_out),
    }
}

/// Creates the empty balance of a lot at a clinic unless it exists.
pub async fn ensure(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Uuid,
) -> Result<(), DbErr> {
    stock::Entity::insert(stock::ActiveModel {
        organization_id: Set(org),
        clinic_id: Set(clinic),
        lot_id: Set(lot),
        on_hand: Set(0),
        quarantined: Set(0),
        in_transit_out: Set(0),
        version: Set(0),
        updated_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([stock::Column::ClinicId, stock::Column::LotId])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Adds `change` to the balance of a lot at a clinic, only if no count goes below zero and,
/// with `expected`, only if the balance is still exactly that. Answers whether it was applied.
pub async fn apply(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Uuid,
    change: StockChange,
    expected: Option<StockBalance>,
) -> Result<bool, DbErr> {
    let buckets = [
        (stock::Column::OnHand, change.on_hand),
        (stock::Column::Quarantined, change.quarantined),
        (stock::Column::InTransitOut, change.in_transit_out),
    ];
    let mut update = stock::Entity::update_many()
        .col_expr(
            stock::Column::Version,
            Expr::col(stock::Column::Version).add(1),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(stock::Column::OrganizationId.eq(org))
        .filter(stock::Column::ClinicId.eq(clinic))
        .filter(stock::Column::LotId.eq(lot));
    for (column, delta) in buckets {
        if delta == 0 {
            continue;
        }
        let delta = to_i32(delta)?;
        update = update.col_expr(column, Expr::col(column).add(delta));
        if delta < 0 {
            update = update.filter(column.gte(-delta));
        }
    }
    if let Some(expected) = expected {
        update = update
            .filter(stock::Column::OnHand.eq(to_i32(expected.on_hand)?))
            .filter(stock::Column::Quarantined.eq(to_i32(expected.quarantined)?))
            .filter(stock::Column::InTransitOut.eq(to_i32(expected.in_transit_out)?));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// The balance of one lot at one clinic.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Uuid,
) -> Result<Option<stock::Model>, DbErr> {
    stock::Entity::find()
        .filter(stock::Column::OrganizationId.eq(org))
        .filter(stock::Column::ClinicId.eq(clinic))
        .filter(stock::Column::LotId.eq(lot))
        .one(db)
        .await
}

/// Every balance at a clinic.
pub async fn at_clinic(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
) -> Result<Vec<stock::Model>, DbErr> {
    stock::Entity::find()
        .filter(stock::Column::OrganizationId.eq(org))
        .filter(stock::Column::ClinicId.eq(clinic))
        .order_by_asc(stock::Column::LotId)
        .all(db)
        .await
}

/// The balances at a clinic of the given lots.
pub async fn of_lots_at(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lots: &[Uuid],
) -> Result<Vec<stock::Model>, DbErr> {
    if lots.is_empty() {
        return Ok(Vec::new());
    }
    stock::Entity::find()
        .filter(stock::Column::OrganizationId.eq(org))
        .filter(stock::Column::ClinicId.eq(clinic))
        .filter(stock::Column::LotId.is_in(lots.iter().copied()))
        .order_by_asc(stock::Column::LotId)
        .all(db)
        .await
}

/// The balances of one lot at every clinic, in clinic order (the order recalls lock them in).
pub async fn of_lot(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
) -> Result<Vec<stock::Model>, DbErr> {
    stock::Entity::find()
        .filter(stock::Column::OrganizationId.eq(org))
        .filter(stock::Column::LotId.eq(lot))
        .order_by_asc(stock::Column::ClinicId)
        .all(db)
        .await
}

/// Every balance of the organisation with units on hand, optionally only at `clinics`.
pub async fn on_hand(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinics: Option<&[Uuid]>,
) -> Result<Vec<stock::Model>, DbErr> {
    let mut query = stock::Entity::find()
        .filter(stock::Column::OrganizationId.eq(org))
        .filter(stock::Column::OnHand.gt(0));
    if let Some(clinics) = clinics {
        query = query.filter(stock::Column::ClinicId.is_in(clinics.iter().copied()));
    }
    query
        .order_by_asc(stock::Column::ClinicId)
        .order_by_asc(stock::Column::LotId)
        .all(db)
        .await
}
