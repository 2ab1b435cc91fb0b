//! The stock ledger: one movement per change of a balance, written in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect,
};
use skinledger_domain::inventory::{DisposalReason, MovementKind};
use uuid::Uuid;

use crate::codec::Text;
use crate::entities::movement;
use crate::paging::{Page, PageRequest};
use crate::scoped;

/// Appends a movement. There is no update or delete.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: movement::ActiveModel,
) -> Result<movement::Model, DbErr> {
    row.insert(db).await
}

/// The on-hand changes of a lot at a clinic recorded after `after`, oldest first.
pub async fn on_hand_changes_after(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Uuid,
    after: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    let rows: Vec<i32> = movement::Entity::find()
        .select_only()
        .column(movement::Column::Quantity)
        .filter(movement::Column::OrganizationId.eq(org))
        .filter(movement::Column::LotId.eq(lot))
        .filter(movement::Column::ClinicId.eq(clinic))
        .filter(movement::Column::CreatedAt.gt(after))
        .order_by_asc(movement::Column::CreatedAt)
        .order_by_asc(movement::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(i64::from).collect())
}

/// A disposal as the disposal report reads it: the movement's clinic, who disposed of the
/// units and why.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct Disposal {
    /// The clinic whose units were written off.
    pub clinic_id: Uuid,
    /// `staff` or `api_client`.
    pub actor_kind: String,
    /// Who wrote them off.
    pub actor_id: Option<Uuid>,
    /// Why: a disposal's `reason` is always a disposal reason.
    pub reason: Option<Text<DisposalReason>>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The organisation's disposals written from `from` (inclusive) to `to` (exclusive),
/// optionally at some clinics only, oldest first.
pub async fn disposals_between(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinics: Option<&[Uuid]>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Disposal>, DbErr> {
    let mut query = movement::Entity::find()
        .select_only()
        .columns([
            movement::Column::ClinicId,
            movement::Column::ActorKind,
            movement::Column::ActorId,
            movement::Column::Reason,
            movement::Column::CreatedAt,
        ])
        .filter(movement::Column::OrganizationId.eq(org))
        .filter(movement::Column::Kind.eq(MovementKind::Disposal.as_str()))
        .filter(movement::Column::CreatedAt.gte(from))
        .filter(movement::Column::CreatedAt.lt(to));
    if let Some(clinics) = clinics {
        query = query.filter(movement::Column::ClinicId.is_in(clinics.iter().copied()));
    }
    query
        .order_by_asc(movement::Column::CreatedAt)
        .order_by_asc(movement::Column::Id)
        .into_model::<Disposal>()
        .all(db)
        .await
}

/// A page of a clinic's movements, oldest first, optionally of one lot only.
pub async fn list(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<movement::Model>, DbErr> {
    let mut query = movement::Entity::find()
        .filter(movement::Column::OrganizationId.eq(org))
        .filter(movement::Column::ClinicId.eq(clinic));
    if let Some(lot) = lot {
        query = query.filter(movement::Column::LotId.eq(lot));
    }
    scoped::page(db, query, page).await
}

/// Per clinic, the net change to the quarantine of a lot by movements at or after `since`:
/// what went into quarantine while the lot was on hold (held, arrived, less written off).
pub async fn quarantined_since(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    let rows: Vec<(Uuid, Option<i64>)> = movement::Entity::find()
        .select_only()
        .column(movement::Column::ClinicId)
        .column_as(movement::Column::QuarantinedDelta.sum(), "quarantined")
        .filter(movement::Column::OrganizationId.eq(org))
        .filter(movement::Column::LotId.eq(lot))
        .filter(movement::Column::CreatedAt.gte(since))
        .group_by(movement::Column::ClinicId)
        .order_by_asc(movement::Column::ClinicId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(clinic, n)| (clinic, n.unwrap_or(0)))
        .collect())
}
