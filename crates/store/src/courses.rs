//! Courses of treatments a client is put on.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::course;
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Inserts a course.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: course::ActiveModel,
) -> Result<course::Model, DbErr> {
    row.insert(db).await
}

/// One course of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<course::Model>, DbErr> {
    scoped::get::<course::Entity>(db, org, id).await
}

/// A page of one client's courses, oldest first.
pub async fn list_for_client(
    db: &impl ConnectionTrait,
    org: Uuid,
    client: Uuid,
    page: PageRequest,
) -> Result<Page<course::Model>, DbErr> {
    let query = course::Entity::find()
        .filter(course::Column::OrganizationId.eq(org))
        .filter(course::Column::ClientId.eq(client));
    scoped::page(db, query, page).await
}
