//! Contraindication screenings of clients, and physicians' clearances of their factors.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::entities::{screening, screening_clearance};
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Inserts a screening.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: screening::ActiveModel,
) -> Result<screening::Model, DbErr> {
    row.insert(db).await
}

/// One screening of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<screening::Model>, DbErr> {
    scoped::get::<screening::Entity>(db, org, id).await
}

/// A page of one client's screenings, oldest first.
pub async fn list_for_client(
    db: &impl ConnectionTrait,
    org: Uuid,
    client: Uuid,
    page: PageRequest,
) -> Result<Page<screening::Model>, DbErr> {
    let query = screening::Entity::find()
        .filter(screening::Column::OrganizationId.eq(org))
        .filter(screening::Column::ClientId.eq(client));
    scoped::page(db, query, page).await
}

/// The client's latest screening taken on or before `on` (the last recorded that day wins).
pub async fn latest_on_or_before(
    db: &impl ConnectionTrait,
    org: Uuid,
    client: Uuid,
    on: NaiveDate,
) -> Result<Option<screening::Model>, DbErr> {
    screening::Entity::find()
        .filter(screening::Column::OrganizationId.eq(org))
        .filter(screening::Column::ClientId.eq(client))
        .filter(screening::Column::ScreenedOn.lte(on))
        .order_by_desc(screening::Column::ScreenedOn)
        .order_by_desc(screening::Column::Id)
        .one(db)
        .await
}

/// Inserts a clearance; fails with a unique violation when the factor was cleared already.
pub async fn insert_clearance(
    db: &impl ConnectionTrait,
    row: screening_clearance::ActiveModel,
) -> Result<screening_clearance::Model, DbErr> {
    row.insert(db).await
}

/// Every clearance of the given screenings, oldest first.
pub async fn clearances_of(
    db: &impl ConnectionTrait,
    org: Uuid,
    screening_ids: &[Uuid],
) -> Result<Vec<screening_clearance::Model>, DbErr> {
    if screening_ids.is_empty() {
        return Ok(Vec::new());
    }
    screening_clearance::Entity::find()
        .filter(screening_clearance::Column::OrganizationId.eq(org))
        .filter(screening_clearance::Column::ScreeningId.is_in(screening_ids.iter().copied()))
        .order_by_asc(screening_clearance::Column::Id)
        .all(db)
        .await
}
