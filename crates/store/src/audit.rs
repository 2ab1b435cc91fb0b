//! The append-only audit log.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entities::audit_event;
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Appends events numbered and hashed by the caller, under the organisation's journal lock
/// (`journal::reserve`). There is no update or delete.
pub async fn insert(
    db: &impl ConnectionTrait,
    rows: Vec<audit_event::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    // In a few fixed sizes: see `batches`.
    for chunk in crate::batches::chunks(rows) {
        audit_event::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Which of these event ids are already in the log (an append retried after a lost answer).
pub async fn existing(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashSet<Uuid>, DbErr> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<Uuid> = audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Id)
        .filter(audit_event::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// The organisation's chain in order of number, then id (a second event with one number,
/// which only tampering makes, comes right after the first), after the event `after` (number
/// and id), at most `limit` events.
pub async fn chain_after(
    db: &impl ConnectionTrait,
    org: Uuid,
    after: Option<(i64, Uuid)>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    use audit_event::Column;
    let mut query = audit_event::Entity::find().filter(Column::OrganizationId.eq(org));
    if let Some((seq, id)) = after {
        // `seq > n OR (seq = n AND id > i)`, written so that `seq >= n` bounds the scan of the
        // (organization, seq) index: as one disjunction it was only a filter, and each page
        // read the chain again from its first event.
        query = query.filter(Column::Seq.gte(seq)).filter(
            Condition::any()
                .add(Column::Seq.gt(seq))
                .add(Column::Id.gt(id)),
        );
    }
    query
        .order_by_asc(Column::Seq)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events about this entity.
    pub entity_id: Option<Uuid>,
    /// Only events naming this client.
    pub client_id: Option<Uuid>,
    /// Only events of this action.
    pub action: Option<String>,
    /// Only events with this outcome (`success`, `denied`, `refused`, ...).
    pub outcome: Option<String>,
    /// Only events at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub to: Option<DateTime<Utc>>,
}

/// A page of the organisation's audit events, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find().filter(audit_event::Column::OrganizationId.eq(org));
    if let Some(id) = filter.entity_id {
        query = query.filter(audit_event::Column::EntityId.eq(id));
    }
    if let Some(id) = filter.client_id {
        query = query.filter(audit_event::Column::ClientId.eq(id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_event::Column::Action.eq(action.as_str()));
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(audit_event::Column::Outcome.eq(outcome.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::OccurredAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::Column::OccurredAt.lt(to));
    }
    scoped::page(db, query, page).await
}
