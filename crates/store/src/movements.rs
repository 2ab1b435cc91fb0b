//! The stock ledger: one movement per change of a balance, written in the same transaction.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entities::movement;
use crate::paging::{Page, PageRequest};

/// Appends a movement. There is no update or delete.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: movement::ActiveModel,
) -> Result<movement::Model, DbErr> {
    row.insert(db).await
}

/// A page of a clinic's movements, oldest first, optionally of one lot only.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<movement::Model>, DbErr> {
    let mut query = movement::Entity::find()
        .filter(movement::Column::OrganizationId.eq(org))
        .filter(movement::Column::ClinicId.eq(clinic));
    if let Some(lot) = lot {
        query = query.filter(movement::Column::LotId.eq(lot));
    }
    if let Some(after) = page.after {
        query = query.filter(movement::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(movement::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page.limit, |m| m.id))
}
