//! The units each treatment consumed: by lot, and by serial when one was given.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::treatment_consumable;
use crate::scoped::within_org;

/// Records units consumed; fails with a unique violation when the serial was consumed before.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: treatment_consumable::ActiveModel,
) -> Result<treatment_consumable::Model, DbErr> {
    row.insert(db).await
}

/// What the given treatments consumed, in the order recorded.
pub async fn of_treatments(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment_ids: &[Uuid],
) -> Result<Vec<treatment_consumable::Model>, DbErr> {
    if treatment_ids.is_empty() {
        return Ok(Vec::new());
    }
    treatment_consumable::Entity::find()
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::TreatmentId.is_in(treatment_ids.iter().copied()))
        .order_by_asc(treatment_consumable::Column::Id)
        .all(db)
        .await
}

/// One consumption of a lot, with the treatment and the client its trace names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedUse {
    /// The treatment that consumed it.
    pub treatment_id: Uuid,
    /// When the treatment was performed.
    pub performed_at: DateTime<Utc>,
    /// Where.
    pub clinic_id: Uuid,
    /// Who treated.
    pub practitioner_id: Uuid,
    /// The client treated.
    pub client_id: Uuid,
    /// The client's first name.
    pub first_name: String,
    /// The client's last name.
    pub last_name: String,
    /// The client's phone number.
    pub phone: Option<String>,
    /// The client's email address.
    pub email: Option<String>,
    /// Units consumed.
    pub quantity: i32,
    /// The unit's serial, when one was given.
    pub serial: Option<String>,
}

/// Every consumption of a lot with its treatment and client, in the order the treatments were
/// performed (then as recorded), in one statement. The consumptions come, in that order, from
/// an index that holds every column the trace shows but the client's contact details
/// (`ix_treatment_consumables_lot_trace`); each one's client is found by key. On PostgreSQL the
/// client is joined laterally, one row each, so that the plan stays a walk of the lot's
/// consumptions whatever the statistics say (with a lot used by 1% of the treatments, the
/// planner would otherwise read the whole client table to hash it).
pub async fn trace(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
) -> Result<Vec<TracedUse>, DbErr> {
    use crate::entities::client;
    use treatment_consumable as used;
    /// What the trace shows of a client.
    const CLIENT_COLUMNS: [client::Column; 4] = [
        client::Column::FirstName,
        client::Column::LastName,
        client::Column::Phone,
        client::Column::Email,
    ];
    let c = Alias::new("c");
    let client_columns = || CLIENT_COLUMNS.map(|column| (c.clone(), column));
    let client_of_use = within_org(
        (c.clone(), client::Column::OrganizationId),
        (c.clone(), client::Column::Id),
        (used::Entity, used::Column::OrganizationId),
        (used::Entity, used::Column::ClientId),
    );
    let mut statement = Query::select();
    statement
        .columns(
            [
                used::Column::TreatmentId,
                used::Column::PerformedAt,
                used::Column::ClinicId,
                used::Column::PractitionerId,
                used::Column::ClientId,
            ]
            .map(|column| (used::Entity, column)),
        )
        .columns(client_columns())
        .columns(
            [used::Column::Quantity, used::Column::Serial].map(|column| (used::Entity, column)),
        )
        .from(used::Entity);
    if db.get_database_backend() == DbBackend::Postgres {
        let the_client = Query::select()
            .columns(client_columns())
            .from_as(client::Entity, c.clone())
            .cond_where(client_of_use)
            .limit(1)
            .to_owned();
        statement.join_lateral(JoinType::InnerJoin, the_client, c, Expr::value(true));
    } else {
        statement.join_as(JoinType::InnerJoin, client::Entity, c, client_of_use);
    }
    statement
        .and_where(Expr::col((used::Entity, used::Column::OrganizationId)).eq(org))
        .and_where(Expr::col((used::Entity, used::Column::LotId)).eq(lot))
        .order_by((used::Entity, used::Column::PerformedAt), Order::Asc)
        .order_by((used::Entity, used::Column::TreatmentId), Order::Asc)
        .order_by((used::Entity, used::Column::Id), Order::Asc);
    db.query_all(&statement)
        .await?
        .into_iter()
        .map(|row| {
            Ok(TracedUse {
                treatment_id: row.try_get("", "treatment_id")?,
                performed_at: row.try_get("", "performed_at")?,
                clinic_id: row.try_get("", "clinic_id")?,
                practitioner_id: row.try_get("", "practitioner_id")?,
                client_id: row.try_get("", "client_id")?,
                first_name: row.try_get("", "first_name")?,
                last_name: row.try_get("", "last_name")?,
                phone: row.try_get("", "phone")?,
                email: row.try_get("", "email")?,
                quantity: row.try_get("", "quantity")?,
                serial: row.try_get("", "serial")?,
            })
        })
        .collect()
}

/// Units consumed per (clinic, product) by treatments performed from `from` to `to`
/// inclusive, optionally only at `clinics`: read from one index that holds these columns
/// (`ix_treatment_consumables_usage`).
pub async fn usage(
    db: &impl ConnectionTrait,
    org: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    clinics: Option<&[Uuid]>,
) -> Result<Vec<(Uuid, Uuid, i64)>, DbErr> {
    let mut query = treatment_consumable::Entity::find()
        .select_only()
        .column(treatment_consumable::Column::ClinicId)
        .column(treatment_consumable::Column::ProductId)
        // SUM of an integer column is a bigint on PostgreSQL and an integer on SQLite; the cast
        // makes both decode as i64.
        .column_as(
            Expr::col(treatment_consumable::Column::Quantity)
                .sum()
                .cast_as("bigint"),
            "units",
        )
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::PerformedOn.gte(from))
        .filter(treatment_consumable::Column::PerformedOn.lte(to));
    if let Some(clinics) = clinics {
        query = query.filter(treatment_consumable::Column::ClinicId.is_in(clinics.iter().copied()));
    }
    query
        .group_by(treatment_consumable::Column::ClinicId)
        .group_by(treatment_consumable::Column::ProductId)
        .order_by_asc(treatment_consumable::Column::ClinicId)
        .order_by_asc(treatment_consumable::Column::ProductId)
        .into_tuple()
        .all(db)
        .await
}

/// How many treatments used a lot.
pub async fn treatments_using(
    db: &impl ConnectionTrait,
    org: Uuid,
    lot: Uuid,
) -> Result<u64, DbErr> {
    let count: Option<i64> = treatment_consumable::Entity::find()
        .select_only()
        .column_as(
            Expr::col(treatment_consumable::Column::TreatmentId).count_distinct(),
            "treatments",
        )
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::LotId.eq(lot))
        .into_tuple()
        .one(db)
        .await?;
    Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// The distinct lots a treatment used.
pub async fn lots_of_treatment(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    treatment_consumable::Entity::find()
        .select_only()
        .column(treatment_consumable::Column::LotId)
        .distinct()
        .filter(treatment_consumable::Column::OrganizationId.eq(org))
        .filter(treatment_consumable::Column::TreatmentId.eq(treatment))
        .order_by_asc(treatment_consumable::Column::LotId)
        .into_tuple()
        .all(db)
        .await
}
