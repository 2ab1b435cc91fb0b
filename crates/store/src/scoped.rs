//! Rows that belong to one organisation: found by organisation and id, and listed a keyset page
//! at a time (after the last id seen, in id order, never by `OFFSET`). Every tenant table's
//! lookup and list goes through these two, so a query can neither forget the organisation nor
//! page differently from the others.

use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::entities;
use crate::paging::{Page, PageRequest};

/// An entity with an organisation column and a UUIDv7 id (so id order is creation order).
pub trait Scoped: EntityTrait {
    /// The organisation the row belongs to.
    const ORGANIZATION: Self::Column;
    /// The row's id.
    const ID: Self::Column;

    /// The id of a row.
    fn id_of(row: &Self::Model) -> Uuid;
}

/// One row of the organisation by id; none when it does not exist or belongs to another
/// organisation.
pub async fn get<E: Scoped>(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<E::Model>, DbErr> {
    E::find()
        .filter(E::ID.eq(id))
        .filter(E::ORGANIZATION.eq(org))
        .one(db)
        .await
}

/// One keyset page of `query` (already filtered by organisation and whatever else): the rows
/// after `page.after`, in id order.
pub async fn page<E: Scoped>(
    db: &impl ConnectionTrait,
    mut query: Select<E>,
    page: PageRequest,
) -> Result<Page<E::Model>, DbErr> {
    if let Some(after) = page.after {
        query = query.filter(E::ID.gt(after));
    }
    let rows = query
        .order_by_asc(E::ID)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page.limit, E::id_of))
}

macro_rules! scoped {
    ($($entity:ident),+ $(,)?) => {$(
        impl Scoped for entities::$entity::Entity {
            const ORGANIZATION: Self::Column = entities::$entity::Column::OrganizationId;
            const ID: Self::Column = entities::$entity::Column::Id;

            fn id_of(row: &Self::Model) -> Uuid {
                row.id
            }
        }
    )+};
}

scoped!(
    api_client,
    audit_event,
    client,
    clinic,
    course,
    lot,
    movement,
    product,
    screening,
    staff,
    transfer,
    treatment,
    webhook,
    webhook_delivery,
);

/// The join of a row to the row its `key` names, within one organisation: the two organisation
/// columns equal, and `key` equal to `id`.
pub(crate) fn within_org(
    org: impl IntoColumnRef,
    key: impl IntoColumnRef,
    target_org: impl IntoColumnRef,
    id: impl IntoColumnRef,
) -> Condition {
    Condition::all()
        .add(Expr::col(org).equals(target_org))
        .add(Expr::col(key).equals(id))
}
