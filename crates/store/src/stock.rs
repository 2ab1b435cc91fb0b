//! Balances of each lot at each clinic: on hand, quarantined, in transit out.
//!
//! Balances change only through [`apply`], one conditional `UPDATE` that refuses to take any
//! count below zero. The database decides, so the rule holds across replicas and races: of two
//! requests for the last unit, the second finds no row to update.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set, UpdateMany,
};
use skinledger_domain::inventory::{LotStatus, StockBalance, StockChange};
use uuid::Uuid;

use crate::codec::Text;
use crate::entities::stock;
use crate::scoped::within_org;

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
    let update = conditional_update(org, clinic, lot, change, expected)?;
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// [`apply`], answering the balance as it stands after the change, or `None` when the change
/// was not applied: one statement (`UPDATE ... RETURNING`) where a read would otherwise follow.
pub async fn apply_returning(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Uuid,
    change: StockChange,
    expected: Option<StockBalance>,
) -> Result<Option<stock::Model>, DbErr> {
    let update = conditional_update(org, clinic, lot, change, expected)?;
    Ok(update.exec_with_returning(db).await?.into_iter().next())
}

fn conditional_update(
    org: Uuid,
    clinic: Uuid,
    lot: Uuid,
    change: StockChange,
    expected: Option<StockBalance>,
) -> Result<UpdateMany<stock::Entity>, DbErr> {
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
    Ok(update)
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

/// What decides whether a clinic runs low on a product: the product's reorder point and the
/// clinic's own, and every lot of the product with its status, expiry and units on hand at the
/// clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shelf {
    /// The product.
    pub product_id: Uuid,
    /// The product's reorder point.
    pub product_reorder_point: i32,
    /// The clinic's own reorder point of the product, when it has one.
    pub clinic_reorder_point: Option<i32>,
    /// Each lot of the product, with what the clinic holds of it (0 when nothing).
    pub lots: Vec<ShelfLot>,
}

/// A lot of a product on a clinic's [`Shelf`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShelfLot {
    /// Active, recalled or on hold.
    pub status: LotStatus,
    /// Its expiry date.
    pub expiry: NaiveDate,
    /// Units on hand at the clinic.
    pub on_hand: i64,
}

/// The [`Shelf`] of each of `products` at a clinic, in product order; products of another
/// organisation are left out. One statement for any number of products.
pub async fn shelves(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    products: &[Uuid],
) -> Result<Vec<Shelf>, DbErr> {
    use crate::entities::{clinic_reorder_point as point, lot, product};
    if products.is_empty() {
        return Ok(Vec::new());
    }
    let statement = Query::select()
        .column((product::Entity, product::Column::Id))
        .expr_as(
            Expr::col((product::Entity, product::Column::ReorderPoint)),
            "product_point",
        )
        .expr_as(
            Expr::col((point::Entity, point::Column::ReorderPoint)),
            "clinic_point",
        )
        .column((lot::Entity, lot::Column::Status))
        .column((lot::Entity, lot::Column::Expiry))
        .column((stock::Entity, stock::Column::OnHand))
        .from(product::Entity)
        .join(
            JoinType::LeftJoin,
            point::Entity,
            within_org(
                (point::Entity, point::Column::OrganizationId),
                (point::Entity, point::Column::ProductId),
                (product::Entity, product::Column::OrganizationId),
                (product::Entity, product::Column::Id),
            )
            .add(Expr::col((point::Entity, point::Column::ClinicId)).eq(clinic)),
        )
        .join(
            JoinType::LeftJoin,
            lot::Entity,
            within_org(
                (lot::Entity, lot::Column::OrganizationId),
                (lot::Entity, lot::Column::ProductId),
                (product::Entity, product::Column::OrganizationId),
                (product::Entity, product::Column::Id),
            ),
        )
        .join(
            JoinType::LeftJoin,
            stock::Entity,
            within_org(
                (stock::Entity, stock::Column::OrganizationId),
                (stock::Entity, stock::Column::LotId),
                (lot::Entity, lot::Column::OrganizationId),
                (lot::Entity, lot::Column::Id),
            )
            .add(Expr::col((stock::Entity, stock::Column::ClinicId)).eq(clinic)),
        )
        .and_where(Expr::col((product::Entity, product::Column::OrganizationId)).eq(org))
        .and_where(
            Expr::col((product::Entity, product::Column::Id)).is_in(products.iter().copied()),
        )
        .order_by((product::Entity, product::Column::Id), Order::Asc)
        .to_owned();
    let mut shelves: Vec<Shelf> = Vec::new();
    for row in db.query_all(&statement).await? {
        let product_id: Uuid = row.try_get("", "id")?;
        let product_point: i32 = row.try_get("", "product_point")?;
        let clinic_point: Option<i32> = row.try_get("", "clinic_point")?;
        let status: Option<Text<LotStatus>> = row.try_get("", "status")?;
        let expiry: Option<NaiveDate> = row.try_get("", "expiry")?;
        let on_hand: Option<i32> = row.try_get("", "on_hand")?;
        if shelves.last().is_none_or(|s| s.product_id != product_id) {
            shelves.push(Shelf {
                product_id,
                product_reorder_point: product_point,
                clinic_reorder_point: clinic_point,
                lots: Vec::new(),
            });
        }
        if let (Some(shelf), Some(status), Some(expiry)) = (shelves.last_mut(), status, expiry) {
            shelf.lots.push(ShelfLot {
                status: *status,
                expiry,
                on_hand: on_hand.map_or(0, i64::from),
            });
        }
    }
    Ok(shelves)
}
