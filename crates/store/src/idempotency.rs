//! Stored answers to writes sent with an `Idempotency-Key`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::entities::idempotency_key;

/// The stored answer for a key of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    key: &str,
) -> Result<Option<idempotency_key::Model>, DbErr> {
    idempotency_key::Entity::find_by_id((org, key.to_owned()))
        .one(db)
        .await
}

/// Stores the answer for a key; fails with a unique violation when the key was taken first.
pub async fn insert(
    db: &impl ConnectionTrait,
    org: Uuid,
    key: &str,
    operation: &str,
    request_hash: &str,
    response: String,
) -> Result<(), DbErr> {
    idempotency_key::ActiveModel {
        organization_id: Set(org),
        key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        response: Set(response),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Forgets keys stored before `before`.
pub async fn purge_before(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Fills in the answer of a claimed key.
pub async fn set_response(
    db: &impl ConnectionTrait,
    org: Uuid,
    key: &str,
    response: String,
) -> Result<(), DbErr> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Response,
            sea_orm::sea_query::Expr::value(response),
        )
        .filter(idempotency_key::Column::OrganizationId.eq(org))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Releases a claim that has no answer (the request failed and changed nothing).
pub async fn release_claim(db: &impl ConnectionTrait, org: Uuid, key: &str) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::OrganizationId.eq(org))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Response.eq(""))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes over an abandoned claim, unless another request took it over first.
pub async fn take_over_claim(
    db: &impl ConnectionTrait,
    org: Uuid,
    key: &str,
    claimed_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(idempotency_key::Column::OrganizationId.eq(org))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Response.eq(""))
        .filter(idempotency_key::Column::CreatedAt.eq(claimed_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
