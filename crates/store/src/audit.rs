//! The append-only audit log.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::audit_event;
use crate::paging::{Page, PageRequest};

/// Appends events that may have been appended before (a retry after a lost answer): an event
/// whose id is already in the log is skipped.
pub async fn append_once(
    db: &impl ConnectionTrait,
    rows: Vec<audit_event::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    audit_event::Entity::insert_many(rows)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(audit_event::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Appends events. There is no update or delete.
pub async fn append(
    db: &impl ConnectionTrait,
    rows: Vec<audit_event::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    audit_event::Entity::insert_many(rows).exec(db).await?;
    Ok(())
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
    if let Some(after) = page.after {
        query = query.filter(audit_event::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(audit_event::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page.limit, |e| e.id))
}
