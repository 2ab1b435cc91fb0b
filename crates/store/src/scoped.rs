//! Rows that belong to one organisation: found by organisation and id, and listed a keyset page
//! at a time (after the last id seen, in id order, never by `OFFSET`). Every tenant table's
//! lookup and list goes through these two, so a query can neither forget the organisation nor
//! page differently from the others.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef, Value, Values};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement,
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
///
/// The most frequent statement of all (every read by id): its text is built once per entity
/// and backend, and each call only binds its id and organisation.
pub async fn get<E: Scoped>(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<Option<E::Model>, DbErr> {
    let statement = by_id::<E>(db.get_database_backend(), org, id);
    E::find().from_raw_sql(statement).one(db).await
}

/// The statement of [`get`]: `SELECT <every column> ... WHERE id = ? AND organization_id = ?
/// LIMIT ?`, as the query builder writes it, its text built on first use and kept.
fn by_id<E: Scoped>(backend: DbBackend, org: Uuid, id: Uuid) -> Statement {
    // Built once with these two stand-ins, whose places in the values are then given the
    // call's own id and organisation.
    const ID: Uuid = Uuid::from_u128(1);
    const ORG: Uuid = Uuid::from_u128(2);
    type Built = HashMap<TypeId, Vec<Statement>>;
    static BUILT: LazyLock<RwLock<Built>> = LazyLock::new(RwLock::default);

    let bind = |template: &Statement| {
        let values = template.values.as_ref().map(|Values(values)| {
            Values(
                values
                    .iter()
                    .map(|value| match value {
                        Value::Uuid(Some(v)) if *v == ID => Value::from(id),
                        Value::Uuid(Some(v)) if *v == ORG => Value::from(org),
                        other => other.clone(),
                    })
                    .collect(),
            )
        });
        Statement {
            sql: template.sql.clone(),
            values,
            db_backend: template.db_backend,
        }
    };
    let entity = TypeId::of::<E>();
    let find = |built: &Built| {
        built
            .get(&entity)?
            .iter()
            .find(|template| template.db_backend == backend)
            .map(bind)
    };
    if let Some(statement) = find(&BUILT.read().unwrap_or_else(PoisonError::into_inner)) {
        return statement;
    }
    let template = E::find()
        .filter(E::ID.eq(ID))
        .filter(E::ORGANIZATION.eq(ORG))
        .limit(1)
        .build(backend);
    let statement = bind(&template);
    let mut built = BUILT.write().unwrap_or_else(PoisonError::into_inner);
    let templates = built.entry(entity).or_default();
    if !templates.iter().any(|t| t.db_backend == backend) {
        templates.push(template);
    }
    statement
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::{client, lot};

    /// What the query builder writes for a read by id of `E`, built afresh.
    fn fresh<E: Scoped>(backend: DbBackend, org: Uuid, id: Uuid) -> Statement {
        E::find()
            .filter(E::ID.eq(id))
            .filter(E::ORGANIZATION.eq(org))
            .limit(1)
            .build(backend)
    }

    #[test]
    fn a_read_by_id_is_the_built_statement_with_the_calls_id_and_organisation() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for _ in 0..3 {
                let (org, id) = (Uuid::now_v7(), Uuid::now_v7());
                assert_eq!(
                    by_id::<client::Entity>(backend, org, id),
                    fresh::<client::Entity>(backend, org, id)
                );
                assert_eq!(
                    by_id::<lot::Entity>(backend, org, id),
                    fresh::<lot::Entity>(backend, org, id)
                );
            }
            // The stand-ins themselves, asked for, are bound where the call puts them.
            let (org, id) = (Uuid::from_u128(1), Uuid::from_u128(2));
            assert_eq!(
                by_id::<client::Entity>(backend, org, id),
                fresh::<client::Entity>(backend, org, id)
            );
        }
    }
}
