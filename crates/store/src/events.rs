//! The outbox of integration events: appended in the writer's transaction, read in sequence.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use skinledger_domain::events::{EventData, EventType};
use uuid::Uuid;

use crate::entities::{event, event_sequence};

/// Appends events whose `seq` the caller reserved (`journal::reserve`).
pub async fn insert(db: &impl ConnectionTrait, rows: Vec<event::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    // In a few fixed sizes: see `batches`.
    for chunk in crate::batches::chunks(rows) {
        event::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The organisation's events after number `after`, in sequence order, at most `limit`.
pub async fn after(
    db: &impl ConnectionTrait,
    org: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<event::Model>, DbErr> {
    event::Entity::find()
        .filter(event::Column::OrganizationId.eq(org))
        .filter(event::Column::Seq.gt(after))
        .order_by_asc(event::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// The organisation's events of one type since a time.
pub async fn of_type_since(
    db: &impl ConnectionTrait,
    org: Uuid,
    event_type: &str,
    since: DateTime<Utc>,
) -> Result<Vec<event::Model>, DbErr> {
    event::Entity::find()
        .filter(event::Column::OrganizationId.eq(org))
        .filter(event::Column::EventType.eq(event_type))
        .filter(event::Column::OccurredAt.gte(since))
        .all(db)
        .await
}

/// How far the organisation's events have been numbered and deleted by retention.
pub async fn sequence(
    db: &impl ConnectionTrait,
    org: Uuid,
) -> Result<Option<event_sequence::Model>, DbErr> {
    event_sequence::Entity::find_by_id(org).one(db).await
}

/// Deletes every organisation's events older than `before`, remembering per organisation the
/// highest number deleted, so that a cursor older than that can be told it expired. Answers
/// how many were deleted.
pub async fn purge(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let horizons: Vec<(Uuid, Option<i64>)> = event::Entity::find()
        .select_only()
        .column(event::Column::OrganizationId)
        .column_as(event::Column::Seq.max(), "max_seq")
        .filter(event::Column::OccurredAt.lt(before))
        .group_by(event::Column::OrganizationId)
        .into_tuple()
        .all(db)
        .await?;
    let mut deleted = 0;
    for (org, through) in horizons {
        let Some(through) = through else { continue };
        deleted += event::Entity::delete_many()
            .filter(event::Column::OrganizationId.eq(org))
            .filter(event::Column::Seq.lte(through))
            .exec(db)
            .await?
            .rows_affected;
        event_sequence::Entity::update_many()
            .col_expr(event_sequence::Column::PurgedThrough, Expr::value(through))
            .filter(event_sequence::Column::OrganizationId.eq(org))
            .filter(event_sequence::Column::PurgedThrough.lt(through))
            .exec(db)
            .await?;
    }
    Ok(deleted)
}

/// A row ready to insert.
pub fn row(
    id: Uuid,
    org: Uuid,
    seq: i64,
    event_type: EventType,
    occurred_at: DateTime<Utc>,
    ids: EventIds,
    payload: EventData,
) -> event::ActiveModel {
    event::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        seq: Set(seq),
        event_type: Set(event_type.into()),
        occurred_at: Set(occurred_at),
        clinic_id: Set(ids.clinic_id),
        other_clinic_id: Set(ids.other_clinic_id),
        client_id: Set(ids.client_id),
        treatment_id: Set(ids.treatment_id),
        lot_id: Set(ids.lot_id),
        subject_id: Set(ids.subject_id),
        payload: Set(payload.into()),
    }
}

/// The ids an event concerns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventIds {
    /// The clinic where it happened.
    pub clinic_id: Option<Uuid>,
    /// The other clinic of a transfer.
    pub other_clinic_id: Option<Uuid>,
    /// The client concerned.
    pub client_id: Option<Uuid>,
    /// The treatment concerned.
    pub treatment_id: Option<Uuid>,
    /// The lot concerned.
    pub lot_id: Option<Uuid>,
    /// The thing the event is about when none of the above is (a screening, a transfer, a
    /// staff member, a product, a webhook).
    pub subject_id: Option<Uuid>,
}
