//! Courses of treatments a client is put on.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entities::course;
use crate::paging::{Page, PageRequest};

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
    course::Entity::find_by_id(id)
        .filter(course::Column::OrganizationId.eq(org))
        .one(db)
        .await
}

/// A page of one client's courses, oldest first.
pub async fn list_for_client(
    db: &impl ConnectionTrait,
    org: Uuid,
    client: Uuid,
    page: PageRequest,
) -> Result<Page<course::Model>, DbErr> {
    let mut query = course::Entity::find()
        .filter(course::Column::OrganizationId.eq(org))
        .filter(course::Column::ClientId.eq(client));
    if let Some(after) = page.after {
        query = query.filter(course::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(course::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page.limit, |c| c.id))
}
