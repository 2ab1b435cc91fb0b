//! Serial numbers of single units: registered when received, marked when consumed, disposed of
//! or when their lot is recalled.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::entities::unit;

/// A unit on the shelf.
pub const IN_STOCK: &str = "in_stock";
/// A unit used in a treatment.
pub const CONSUMED: &str = "consumed";
/// A unit of a recalled lot, set aside.
pub const QUARANTINED: &str = "quarantined";
/// A unit on its way to another clinic with a transfer.
pub const IN_TRANSIT: &str = "in_transit";
/// A unit written off at the chair (dropped, contaminated, packaging damaged).
pub const DISPOSED: &str = "disposed";

/// Registers units; fails with a unique violation when a serial of the product is known.
pub async fn insert(db: &impl ConnectionTrait, rows: Vec<unit::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    unit::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Registers a unit named only when it left the shelf (stock received by quantity), with the
/// status it leaves with (`consumed` by `treatment`, or `disposed`). Fails with a unique
/// violation when the serial of the product is known.
pub async fn register_gone(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: &crate::entities::lot::Model,
    clinic: Uuid,
    serial: &str,
    status: &str,
    treatment: Option<Uuid>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    insert(
        db,
        vec![unit::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            product_id: Set(lot.product_id),
            lot_id: Set(lot.id),
            serial: Set(serial.to_owned()),
            clinic_id: Set(clinic),
            status: Set(status.to_owned()),
            treatment_id: Set(treatment),
            transfer_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }],
    )
    .await
}

/// The unit of a product with this serial.
pub async fn by_serial(
    db: &impl ConnectionTrait,
    org: Uuid,
    product: Uuid,
    serial: &str,
) -> Result<Option<unit::Model>, DbErr> {
    unit::Entity::find()
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::ProductId.eq(product))
        .filter(unit::Column::Serial.eq(serial))
        .one(db)
        .await
}

/// Marks a unit on the shelf consumed by a treatment at a clinic. Answers whether it was on
/// the shelf: of two concurrent attempts, exactly one gets `true`.
pub async fn consume(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    treatment: Uuid,
    clinic: Uuid,
) -> Result<bool, DbErr> {
    let result = unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::value(CONSUMED))
        .col_expr(unit::Column::TreatmentId, Expr::value(treatment))
        .col_expr(unit::Column::ClinicId, Expr::value(clinic))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::Id.eq(id))
        .filter(unit::Column::Status.eq(IN_STOCK))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks a unit on a clinic's shelf disposed of. Answers whether it was there: of two
/// concurrent attempts, exactly one gets `true`.
pub async fn dispose(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    clinic: Uuid,
) -> Result<bool, DbErr> {
    let result = unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::value(DISPOSED))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::Id.eq(id))
        .filter(unit::Column::ClinicId.eq(clinic))
        .filter(unit::Column::Status.eq(IN_STOCK))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Sets aside every unit of a lot still on a shelf. Answers how many.
pub async fn quarantine_lot(db: &impl ConnectionTrait, org: Uuid, lot: Uuid) -> Result<u64, DbErr> {
    Ok(unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::value(QUARANTINED))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::LotId.eq(lot))
        .filter(unit::Column::Status.eq(IN_STOCK))
        .exec(db)
        .await?
        .rows_affected)
}

/// Puts back on their shelf the units of a lot that went into quarantine at or after `since`
/// (when the lot was put on hold). Answers how many.
pub async fn release_lot(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
    since: chrono::DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::value(IN_STOCK))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::LotId.eq(lot))
        .filter(unit::Column::Status.eq(QUARANTINED))
        .filter(unit::Column::UpdatedAt.gte(since))
        .exec(db)
        .await?
        .rows_affected)
}

/// Puts the named units of a lot, on the shelf at `clinic`, in transit with `transfer`.
/// Answers how many were; fewer than named means some were not on that shelf.
pub async fn send(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
    serials: &[String],
    clinic: Uuid,
    transfer: Uuid,
) -> Result<u64, DbErr> {
    Ok(unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::value(IN_TRANSIT))
        .col_expr(unit::Column::TransferId, Expr::value(transfer))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::LotId.eq(lot))
        .filter(unit::Column::ClinicId.eq(clinic))
        .filter(unit::Column::Status.eq(IN_STOCK))
        .filter(unit::Column::Serial.is_in(serials.iter().map(String::as_str)))
        .exec(db)
        .await?
        .rows_affected)
}

/// Lands the units of a lot travelling with `transfer` at `clinic`, with `status` (on the
/// shelf, or quarantined when their lot was recalled on the way).
pub async fn land(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
    transfer: Uuid,
    clinic: Uuid,
    status: &str,
) -> Result<u64, DbErr> {
    Ok(unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::value(status))
        .col_expr(unit::Column::ClinicId, Expr::value(clinic))
        .col_expr(unit::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::LotId.eq(lot))
        .filter(unit::Column::TransferId.eq(transfer))
        .filter(unit::Column::Status.eq(IN_TRANSIT))
        .exec(db)
        .await?
        .rows_affected)
}

/// The units that travel, or last travelled, with `transfer`, in serial order.
pub async fn travelling(
    db: &impl ConnectionTrait,
    org: Uuid,
    transfer: Uuid,
) -> Result<Vec<unit::Model>, DbErr> {
    unit::Entity::find()
        .filter(unit::Column::OrganizationId.eq(org))
        .filter(unit::Column::TransferId.eq(transfer))
        .order_by_asc(unit::Column::Serial)
        .all(db)
        .await
}
