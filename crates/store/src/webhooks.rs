//! Webhook endpoints, the deliveries queued for them and the attempts made.
//!
//! Delivery workers of every replica share the queue through the database: a delivery is
//! claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer, which serialises
//! claims anyway) and leased until a time, so two workers never attempt it at once and a
//! claim left by a replica that died is taken over when its lease ends.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use skinledger_domain::webhook::DeliveryStatus;
use uuid::Uuid;

use crate::entities::{webhook, webhook_attempt, webhook_delivery};
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// A delivery waiting for its (next) attempt, as stored.
const PENDING: &str = DeliveryStatus::Pending.as_str();

/// Inserts a webhook.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: webhook::ActiveModel,
) -> Result<webhook::Model, DbErr> {
    row.insert(db).await
}

/// Saves changes to a webhook.
pub async fn update(
    db: &impl ConnectionTrait,
    row: webhook::ActiveModel,
) -> Result<webhook::Model, DbErr> {
    row.update(db).await
}

/// One webhook of the organisation.
pub async fn get(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<webhook::Model>, DbErr> {
    scoped::get::<webhook::Entity>(db, org, id).await
}

/// One webhook of the organisation, locked until the transaction ends (PostgreSQL; SQLite's
/// one writer serialises anyway): its queue changes one writer at a time.
pub async fn get_for_update(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<webhook::Model>, DbErr> {
    webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrganizationId.eq(org))
        .lock_exclusive()
        .one(db)
        .await
}

/// A page of the organisation's webhooks.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    page: PageRequest,
) -> Result<Page<webhook::Model>, DbErr> {
    let query = webhook::Entity::find().filter(webhook::Column::OrganizationId.eq(org));
    scoped::page(db, query, page).await
}

/// The organisation's webhooks sending to `url`.
pub async fn by_url(
    db: &impl ConnectionTrait,
    org: Uuid,
    url: &str,
) -> Result<Vec<webhook::Model>, DbErr> {
    webhook::Entity::find()
        .filter(webhook::Column::OrganizationId.eq(org))
        .filter(webhook::Column::Url.eq(url))
        .all(db)
        .await
}

/// Every webhook, of every organisation.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<webhook::Model>, DbErr> {
    webhook::Entity::find()
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await
}

/// Every enabled webhook, of every organisation.
pub async fn enabled(db: &impl ConnectionTrait) -> Result<Vec<webhook::Model>, DbErr> {
    webhook::Entity::find()
        .filter(webhook::Column::Enabled.eq(true))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await
}

/// An enabled webhook, locked for this transaction unless another holds it (then `None`: that
/// one is queuing its events now).
pub async fn lock_enabled_unless_busy(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<webhook::Model>, DbErr> {
    webhook::Entity::find_by_id(id)
        .filter(webhook::Column::Enabled.eq(true))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(db)
        .await
}

/// Moves a webhook's cursor.
pub async fn set_cursor(db: &impl ConnectionTrait, id: Uuid, cursor: i64) -> Result<(), DbErr> {
    webhook::Entity::update_many()
        .col_expr(webhook::Column::Cursor, Expr::value(cursor))
        .filter(webhook::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a webhook with its deliveries and their attempts.
pub async fn delete(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<(), DbErr> {
    let deliveries = Query::select()
        .column(webhook_delivery::Column::Id)
        .from(webhook_delivery::Entity)
        .and_where(webhook_delivery::Column::WebhookId.eq(id))
        .to_owned();
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::OrganizationId.eq(org))
        .filter(webhook_attempt::Column::DeliveryId.in_subquery(deliveries))
        .exec(db)
        .await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::OrganizationId.eq(org))
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(db)
        .await?;
    webhook::Entity::delete_many()
        .filter(webhook::Column::OrganizationId.eq(org))
        .filter(webhook::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Queues deliveries.
pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    rows: Vec<webhook_delivery::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    webhook_delivery::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Which of `events` have a delivery pending for the webhook.
pub async fn pending_events(
    db: &impl ConnectionTrait,
    webhook: Uuid,
    events: &[Uuid],
) -> Result<HashSet<Uuid>, DbErr> {
    if events.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<Uuid> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::EventId)
        .filter(webhook_delivery::Column::WebhookId.eq(webhook))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .filter(webhook_delivery::Column::EventId.is_in(events.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Claims up to `limit` deliveries due at `now` for this transaction, skipping those another
/// worker is claiming. Only the head of each enabled webhook's queue is due: the pending
/// delivery of the lowest `seq`, and only while no lease on it runs, so an endpoint's events
/// are attempted one at a time, in order.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    use webhook_delivery::{Column, Entity};
    let earlier = Alias::new("earlier");
    let before_it = Query::select()
        .expr(Expr::val(1))
        .from_as(Entity, earlier.clone())
        .and_where(
            Expr::col((earlier.clone(), Column::WebhookId)).equals((Entity, Column::WebhookId)),
        )
        .and_where(Expr::col((earlier.clone(), Column::Status)).eq(PENDING))
        .and_where(Expr::col((earlier, Column::Seq)).lt(Expr::col((Entity, Column::Seq))))
        .to_owned();
    let enabled = Query::select()
        .column(webhook::Column::Id)
        .from(webhook::Entity)
        .and_where(webhook::Column::Enabled.eq(true))
        .to_owned();
    Entity::find()
        .filter(Column::Status.eq(PENDING))
        .filter(Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(Column::LeasedUntil.is_null())
                .add(Column::LeasedUntil.lt(now)),
        )
        .filter(Column::WebhookId.in_subquery(enabled))
        .filter(Expr::exists(before_it).not())
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

/// Leases claimed deliveries to one worker until `until`, under `token`.
pub async fn lease(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    until: DateTime<Utc>,
    token: Uuid,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::LeasedUntil, Expr::value(until))
        .col_expr(webhook_delivery::Column::LeaseToken, Expr::value(token))
        .filter(webhook_delivery::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// A delivery still leased under `token`, locked for this transaction; `None` when the lease
/// was lost (it ran out and another worker took the delivery over).
pub async fn leased(
    db: &impl ConnectionTrait,
    id: Uuid,
    token: Uuid,
) -> Result<Option<webhook_delivery::Model>, DbErr> {
    webhook_delivery::Entity::find_by_id(id)
        .filter(webhook_delivery::Column::LeaseToken.eq(token))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .lock_exclusive()
        .one(db)
        .await
}

/// Saves changes to a delivery.
pub async fn update_delivery(
    db: &impl ConnectionTrait,
    row: webhook_delivery::ActiveModel,
) -> Result<webhook_delivery::Model, DbErr> {
    row.update(db).await
}

/// One delivery of a webhook of the organisation.
pub async fn get_delivery(
    db: &impl ConnectionTrait,
    org: Uuid,
    webhook: Uuid,
    id: Uuid,
) -> Result<Option<webhook_delivery::Model>, DbErr> {
    webhook_delivery::Entity::find_by_id(id)
        .filter(webhook_delivery::Column::OrganizationId.eq(org))
        .filter(webhook_delivery::Column::WebhookId.eq(webhook))
        .one(db)
        .await
}

/// The delivery of an event to a webhook that is pending, if one is.
pub async fn pending_delivery_of(
    db: &impl ConnectionTrait,
    webhook: Uuid,
    event: Uuid,
) -> Result<Option<webhook_delivery::Model>, DbErr> {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook))
        .filter(webhook_delivery::Column::EventId.eq(event))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .one(db)
        .await
}

/// A page of a webhook's deliveries, oldest first, of one status when given.
pub async fn list_deliveries(
    db: &impl ConnectionTrait,
    org: Uuid,
    webhook: Uuid,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> Result<Page<webhook_delivery::Model>, DbErr> {
    let mut query = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::OrganizationId.eq(org))
        .filter(webhook_delivery::Column::WebhookId.eq(webhook));
    if let Some(status) = status {
        query = query.filter(webhook_delivery::Column::Status.eq(status.as_str()));
    }
    scoped::page(db, query, page).await
}

/// The attempts of some deliveries, in the order they were made.
pub async fn attempts_of(
    db: &impl ConnectionTrait,
    deliveries: &[Uuid],
) -> Result<Vec<webhook_attempt::Model>, DbErr> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(deliveries.iter().copied()))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db)
        .await
}

/// Records an attempt.
pub async fn insert_attempt(
    db: &impl ConnectionTrait,
    row: webhook_attempt::ActiveModel,
) -> Result<(), DbErr> {
    webhook_attempt::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// For each webhook with a delivery pending, when the oldest was queued.
pub async fn oldest_pending(
    db: &impl ConnectionTrait,
) -> Result<Vec<(Uuid, Option<DateTime<Utc>>)>, DbErr> {
    webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::WebhookId)
        .column_as(webhook_delivery::Column::CreatedAt.min(), "oldest")
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .group_by(webhook_delivery::Column::WebhookId)
        .into_tuple()
        .all(db)
        .await
}

/// Deletes deliveries that finished before `before`, with their attempts; answers how many
/// deliveries were deleted.
pub async fn purge_finished(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let finished = Query::select()
        .column(webhook_delivery::Column::Id)
        .from(webhook_delivery::Entity)
        .and_where(webhook_delivery::Column::Status.ne(PENDING))
        .and_where(webhook_delivery::Column::FinishedAt.lt(before))
        .to_owned();
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::DeliveryId.in_subquery(finished))
        .exec(db)
        .await?;
    Ok(webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Status.ne(PENDING))
        .filter(webhook_delivery::Column::FinishedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
