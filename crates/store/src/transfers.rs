//! Transfers of stock between two clinics of an organisation, and their lines.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use skinledger_domain::inventory::TransferStatus;
use uuid::Uuid;

use crate::entities::{transfer, transfer_line};
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Filters of the transfer list.
#[derive(Debug, Clone, Default)]
pub struct TransferFilter {
    /// Only transfers from or to this clinic.
    pub clinic_id: Option<Uuid>,
    /// Only transfers in this status.
    pub status: Option<TransferStatus>,
}

/// Inserts a transfer.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: transfer::ActiveModel,
) -> Result<transfer::Model, DbErr> {
    row.insert(db).await
}

/// Inserts the lines of a transfer.
pub async fn insert_lines(
    db: &impl ConnectionTrait,
    rows: Vec<transfer_line::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    transfer_line::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One transfer of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<transfer::Model>, DbErr> {
    scoped::get::<transfer::Entity>(db, org, id).await
}

/// The lines of the given transfers, in lot order.
pub async fn lines_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    transfer_ids: &[Uuid],
) -> Result<Vec<transfer_line::Model>, DbErr> {
    if transfer_ids.is_empty() {
        return Ok(Vec::new());
    }
    transfer_line::Entity::find()
        .filter(transfer_line::Column::OrganizationId.eq(org))
        .filter(transfer_line::Column::TransferId.is_in(transfer_ids.iter().copied()))
        .order_by_asc(transfer_line::Column::LotId)
        .all(db)
        .await
}

/// Moves a transfer still in transit to `received` or `cancelled`, by `by` at `at`. Answers
/// whether it was in transit: of two concurrent attempts, exactly one gets `true`.
pub async fn close(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
    status: TransferStatus,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let (by_column, at_column) = match status {
        TransferStatus::Cancelled => (transfer::Column::CancelledBy, transfer::Column::CancelledAt),
        TransferStatus::Received | TransferStatus::InTransit => {
            (transfer::Column::ReceivedBy, transfer::Column::ReceivedAt)
        }
    };
    let result = transfer::Entity::update_many()
        .col_expr(transfer::Column::Status, Expr::value(status.as_str()))
        .col_expr(by_column, Expr::value(by))
        .col_expr(at_column, Expr::value(at))
        .filter(transfer::Column::OrganizationId.eq(org))
        .filter(transfer::Column::Id.eq(id))
        .filter(transfer::Column::Status.eq(TransferStatus::InTransit.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A page of the organisation's transfers, oldest first; with `visible`, only those from or
/// to one of those clinics.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    visible: Option<&[Uuid]>,
    filter: &TransferFilter,
    page: PageRequest,
) -> Result<Page<transfer::Model>, DbErr> {
    let mut query = transfer::Entity::find().filter(transfer::Column::OrganizationId.eq(org));
    if let Some(clinics) = visible {
        query = query.filter(
            Condition::any()
                .add(transfer::Column::FromClinicId.is_in(clinics.iter().copied()))
                .add(transfer::Column::ToClinicId.is_in(clinics.iter().copied())),
        );
    }
    if let Some(clinic) = filter.clinic_id {
        query = query.filter(
            Condition::any()
                .add(transfer::Column::FromClinicId.eq(clinic))
                .add(transfer::Column::ToClinicId.eq(clinic)),
        );
    }
    if let Some(status) = filter.status {
        query = query.filter(transfer::Column::Status.eq(status.as_str()));
    }
    scoped::page(db, query, page).await
}
