//! Clinics of an organisation.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::clinic;
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Inserts a clinic.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: clinic::ActiveModel,
) -> Result<clinic::Model, DbErr> {
    row.insert(db).await
}

/// Saves changes to a clinic.
pub async fn update(
    db: &impl ConnectionTrait,
    row: clinic::ActiveModel,
) -> Result<clinic::Model, DbErr> {
    row.update(db).await
}

/// One clinic of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<clinic::Model>, DbErr> {
    scoped::get::<clinic::Entity>(db, org, id).await
}

/// A page of the organisation's clinics, optionally only those in `only`.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    only: Option<&[Uuid]>,
    page: PageRequest,
) -> Result<Page<clinic::Model>, DbErr> {
    let mut query = clinic::Entity::find().filter(clinic::Column::OrganizationId.eq(org));
    if let Some(ids) = only {
        query = query.filter(clinic::Column::Id.is_in(ids.iter().copied()));
    }
    scoped::page(db, query, page).await
}

/// Which of `ids` are clinics of the organisation.
pub async fn existing(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    Ok(clinic::Entity::find()
        .filter(clinic::Column::OrganizationId.eq(org))
        .filter(clinic::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}
