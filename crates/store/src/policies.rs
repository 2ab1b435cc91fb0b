//! Versions of an organisation's clinical policy. The current one is the highest version.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::entities::policy;

/// The organisation's current policy, or `None` while it works under the defaults.
pub async fn current(db: &impl ConnectionTrait, org: Uuid) -> Result<Option<policy::Model>, DbErr> {
    policy::Entity::find()
        .filter(policy::Column::OrganizationId.eq(org))
        .order_by_desc(policy::Column::Version)
        .one(db)
        .await
}

/// One version of the organisation's policy.
pub async fn get_version(
    db: &impl ConnectionTrait,
    org: Uuid,
    version: i32,
) -> Result<Option<policy::Model>, DbErr> {
    policy::Entity::find_by_id((org, version)).one(db).await
}

/// Inserts a new version; fails with a unique violation when that version exists already.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: policy::ActiveModel,
) -> Result<policy::Model, DbErr> {
    row.insert(db).await
}
