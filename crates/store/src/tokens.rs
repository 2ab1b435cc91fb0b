//! Refresh tokens (stored by hash, in families) and failed logins (for throttling).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};
use uuid::Uuid;

use crate::entities::{login_failure, refresh_token};

/// Inserts a refresh token.
pub async fn insert_refresh(
    db: &impl ConnectionTrait,
    row: refresh_token::ActiveModel,
) -> Result<refresh_token::Model, DbErr> {
    row.insert(db).await
}

/// Finds a refresh token by the hash of its secret.
pub async fn refresh_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<refresh_token::Model>, DbErr> {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(db)
        .await
}

/// Marks a live token as rotated; answers false when another request rotated or revoked it first.
pub async fn mark_rotated(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(at))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of a family.
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    org: Uuid,
    family: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(at))
        .filter(refresh_token::Column::OrganizationId.eq(org))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Revokes every token of a staff member (on deactivation).
pub async fn revoke_all_of_staff(
    db: &impl ConnectionTrait,
    org: Uuid,
    staff_id: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(at))
        .filter(refresh_token::Column::OrganizationId.eq(org))
        .filter(refresh_token::Column::StaffId.eq(staff_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Records a login attempt for an account; it stays as a failure unless removed.
pub async fn record_login_failure(
    db: &impl ConnectionTrait,
    account_key: &str,
    at: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    login_failure::ActiveModel {
        id: Set(id),
        account_key: Set(account_key.to_owned()),
        failed_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Removes one recorded attempt.
pub async fn forget_login_attempt(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    login_failure::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Failed logins for an account since `since`.
pub async fn login_failures_since(
    db: &impl ConnectionTrait,
    account_key: &str,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    login_failure::Entity::find()
        .filter(login_failure::Column::AccountKey.eq(account_key))
        .filter(login_failure::Column::FailedAt.gte(since))
        .count(db)
        .await
}

/// Forgets an account's failed logins (after a success), and every failure older than `before`.
pub async fn clear_login_failures(
    db: &impl ConnectionTrait,
    account_key: &str,
    before: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_failure::Entity::delete_many()
        .filter(
            Condition::any()
                .add(login_failure::Column::AccountKey.eq(account_key))
                .add(login_failure::Column::FailedAt.lt(before)),
        )
        .exec(db)
        .await?;
    Ok(())
}
