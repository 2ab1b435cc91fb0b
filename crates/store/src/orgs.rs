//! Organisations.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::entities::organization;

/// Inserts an organisation.
pub async fn insert(
    db: &impl ConnectionTrait,
    id: Uuid,
    slug: &str,
    name: &str,
) -> Result<organization::Model, DbErr> {
    let now = Utc::now();
    organization::ActiveModel {
        id: Set(id),
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// Finds an organisation by its slug.
pub async fn by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// Finds an organisation by id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find_by_id(id).one(db).await
}

/// The id of every organisation.
pub async fn all_ids(db: &impl ConnectionTrait) -> Result<Vec<Uuid>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    organization::Entity::find()
        .select_only()
        .column(organization::Column::Id)
        .order_by_asc(organization::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

/// Every organisation, by slug.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<organization::Model>, DbErr> {
    use sea_orm::QueryOrder;
    organization::Entity::find()
        .order_by_asc(organization::Column::Slug)
        .all(db)
        .await
}
