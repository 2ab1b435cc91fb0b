//! Rows of the foundation and clinical tables fetched by lists of ids, for reports, recall
//! traces and signals that name clinics, practitioners and treatments.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entities::{clinic, staff, treatment};

/// Every clinic of the organisation, oldest first.
pub async fn clinics(db: &impl ConnectionTrait, org: Uuid) -> Result<Vec<clinic::Model>, DbErr> {
    clinic::Entity::find()
        .filter(clinic::Column::OrganizationId.eq(org))
        .order_by_asc(clinic::Column::Id)
        .all(db)
        .await
}

/// The organisation's treatments among `ids`, oldest first.
pub async fn treatments(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> Result<Vec<treatment::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    treatment::Entity::find()
        .filter(treatment::Column::OrganizationId.eq(org))
        .filter(treatment::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(treatment::Column::PerformedAt)
        .order_by_asc(treatment::Column::Id)
        .all(db)
        .await
}

/// The organisation's staff members among `ids`.
pub async fn staff(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> Result<Vec<staff::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    staff::Entity::find()
        .filter(staff::Column::OrganizationId.eq(org))
        .filter(staff::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}
