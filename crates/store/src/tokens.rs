//! Refresh tokens (stored by hash, in families) and failed logins (for throttling).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    QueryFilter, Set, Statement,
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

/// A refresh token by id.
pub async fn refresh_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<refresh_token::Model>, DbErr> {
    refresh_token::Entity::find_by_id(id).one(db).await
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

/// Marks a live token as rotated into `successor` (its secret sealed); answers false when
/// another request rotated or revoked it first.
pub async fn mark_rotated(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
    successor: Uuid,
    sealed: &str,
) -> Result<bool, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(at))
        .col_expr(refresh_token::Column::SuccessorId, Expr::value(successor))
        .col_expr(refresh_token::Column::SuccessorSealed, Expr::value(sealed))
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

/// Records a login attempt on `account_key` from `source_key` (empty when unknown), under way;
/// it stays as a failure unless removed. Answers it with every attempt recorded before it on that
/// account or from that source since `since`.
///
/// Call it in a transaction and commit at once: attempts on one account or from one source are
/// recorded one at a time (on PostgreSQL under transaction-scoped advisory locks on both, taken in
/// one order; SQLite has a single writer), and each gets an id above every id recorded before it.
/// So the order of ids is the order in which attempts became visible, and of two parallel
/// attempts the later one always sees the earlier.
pub async fn record_login_attempt(
    db: &impl ConnectionTrait,
    account_key: &str,
    source_key: &str,
    at: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Result<(login_failure::Model, Vec<login_failure::Model>), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let mut keys: Vec<i64> = [account_key, source_key]
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| attempt_lock_key(k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [key.into()],
            ))
            .await?;
        }
    }
    let before = login_attempts(db, account_key, source_key, since).await?;
    let mut id = Uuid::now_v7();
    if let Some(last) = before.iter().map(|a| a.id).max()
        && id <= last
    {
        // Another replica's clock is ahead: stay after what is already recorded.
        id = Uuid::from_u128(last.as_u128() + 1);
    }
    let mine = login_failure::ActiveModel {
        id: Set(id),
        account_key: Set(account_key.to_owned()),
        source_key: Set(source_key.to_owned()),
        failed_at: Set(at),
        pending: Set(true),
    }
    .insert(db)
    .await?;
    Ok((mine, before))
}

/// The advisory lock serialising the attempts of one account or source: FNV-1a of the key,
/// tagged so it cannot meet another lock of the database.
fn attempt_lock_key(key: &str) -> i64 {
    let hash = format!("login-attempt:{key}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Login attempts since `since` of an account, or from a source (when one is given): failures
/// and those under way.
pub async fn login_attempts(
    db: &impl ConnectionTrait,
    account_key: &str,
    source_key: &str,
    since: DateTime<Utc>,
) -> Result<Vec<login_failure::Model>, DbErr> {
    let mut whose = Condition::any().add(login_failure::Column::AccountKey.eq(account_key));
    if !source_key.is_empty() {
        whose = whose.add(login_failure::Column::SourceKey.eq(source_key));
    }
    login_failure::Entity::find()
        .filter(whose)
        .filter(login_failure::Column::FailedAt.gte(since))
        .all(db)
        .await
}

/// Settles an attempt under way as a failure.
pub async fn settle_login_failure(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    login_failure::Entity::update_many()
        .col_expr(login_failure::Column::Pending, Expr::value(false))
        .filter(login_failure::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes one recorded attempt.
pub async fn forget_login_attempt(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    login_failure::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Forgets an account's failed logins and the attempt `own` (after a success), and every row
/// older than `before`; other attempts under way stay.
pub async fn clear_login_failures(
    db: &impl ConnectionTrait,
    account_key: &str,
    own: Uuid,
    before: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_failure::Entity::delete_many()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(login_failure::Column::AccountKey.eq(account_key))
                        .add(login_failure::Column::Pending.eq(false)),
                )
                .add(login_failure::Column::Id.eq(own))
                .add(login_failure::Column::FailedAt.lt(before)),
        )
        .exec(db)
        .await?;
    Ok(())
}
