//! Lots: a maker's batches of a product, each with its expiry date and status.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use skinledger_domain::inventory::LotStatus;

use crate::entities::lot;
use crate::scoped;

/// One lot of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<lot::Model>, DbErr> {
    scoped::get::<lot::Entity>(db, org, id).await
}

/// One lot, read with a shared lock until the transaction ends (PostgreSQL; SQLite has a
/// single writer anyway): a recall, which updates the row, waits for changes of the lot's stock
/// that are under way, and those begun after it see the lot recalled.
pub async fn get_shared(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<lot::Model>, DbErr> {
    lot::Entity::find_by_id(id)
        .filter(lot::Column::OrganizationId.eq(org))
        .lock_shared()
        .one(db)
        .await
}

/// The lot of a product with this lot number.
pub async fn by_number(
    db: &impl ConnectionTrait,
    org: Uuid,
    product: Uuid,
    lot_number: &str,
) -> Result<Option<lot::Model>, DbErr> {
    lot::Entity::find()
        .filter(lot::Column::OrganizationId.eq(org))
        .filter(lot::Column::ProductId.eq(product))
        .filter(lot::Column::LotNumber.eq(lot_number))
        .one(db)
        .await
}

/// Inserts a lot unless the product already has one with its lot number (a concurrent
/// receipt may have created it). Answers whether this call inserted it.
pub async fn insert_if_absent(
    db: &impl ConnectionTrait,
    row: lot::ActiveModel,
) -> Result<bool, DbErr> {
    let inserted = lot::Entity::insert(row)
        .on_conflict_do_nothing_on([
            lot::Column::OrganizationId,
            lot::Column::ProductId,
            lot::Column::LotNumber,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

/// The organisation's lots among `ids`.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> Result<Vec<lot::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    lot::Entity::find()
        .filter(lot::Column::OrganizationId.eq(org))
        .filter(lot::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Every lot of a product, first expiry first.
pub async fn of_product(
    db: &impl ConnectionTrait,
    org: Uuid,
    product: Uuid,
) -> Result<Vec<lot::Model>, DbErr> {
    lot::Entity::find()
        .filter(lot::Column::OrganizationId.eq(org))
        .filter(lot::Column::ProductId.eq(product))
        .order_by_asc(lot::Column::Expiry)
        .order_by_asc(lot::Column::Id)
        .all(db)
        .await
}

/// Marks a lot as received with serials: from now on a serial named for it must be known.
pub async fn mark_serial_tracked(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<(), DbErr> {
    lot::Entity::update_many()
        .col_expr(lot::Column::SerialTracked, Expr::value(true))
        .filter(lot::Column::OrganizationId.eq(org))
        .filter(lot::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks an active lot recalled. Answers whether it was active (and is now recalled).
pub async fn mark_recalled(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    by: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = lot::Entity::update_many()
        .col_expr(
            lot::Column::Status,
            Expr::value(LotStatus::Recalled.as_str()),
        )
        .col_expr(lot::Column::RecalledAt, Expr::value(at))
        .col_expr(lot::Column::RecalledBy, Expr::value(by))
        .col_expr(lot::Column::RecallReason, Expr::value(reason))
        .filter(lot::Column::OrganizationId.eq(org))
        .filter(lot::Column::Id.eq(id))
        .filter(lot::Column::Status.is_in([LotStatus::Active.as_str(), LotStatus::Held.as_str()]))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// One lot, locked until the transaction ends (PostgreSQL; SQLite has a single writer): the
/// adverse events recorded on its treatments are counted by one writer at a time.
pub async fn get_exclusive(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<lot::Model>, DbErr> {
    lot::Entity::find_by_id(id)
        .filter(lot::Column::OrganizationId.eq(org))
        .lock_exclusive()
        .one(db)
        .await
}

/// Puts an active lot on hold. Answers whether it was active (and is now held).
pub async fn mark_held(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = lot::Entity::update_many()
        .col_expr(lot::Column::Status, Expr::value(LotStatus::Held.as_str()))
        .col_expr(lot::Column::HeldAt, Expr::value(at))
        .col_expr(lot::Column::HoldReason, Expr::value(reason))
        .filter(lot::Column::OrganizationId.eq(org))
        .filter(lot::Column::Id.eq(id))
        .filter(lot::Column::Status.eq(LotStatus::Active.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Makes a held lot active again. Answers whether it was held (and is now active).
pub async fn release(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let result = lot::Entity::update_many()
        .col_expr(lot::Column::Status, Expr::value(LotStatus::Active.as_str()))
        .col_expr(
            lot::Column::HeldAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(lot::Column::HoldReason, Expr::value(Option::<String>::None))
        .filter(lot::Column::OrganizationId.eq(org))
        .filter(lot::Column::Id.eq(id))
        .filter(lot::Column::Status.eq(LotStatus::Held.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
