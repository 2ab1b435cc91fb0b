//! A consumption carries who was treated, by whom and when, as its treatment says (none of the
//! three changes once a treatment is recorded), so that the trace of a lot reads the lot's
//! consumptions from one index in the order performed and joins only the clients, instead of
//! looking up each treatment in a table many times larger.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::Uuid;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TreatmentConsumables {
    Table,
    Id,
    OrganizationId,
    TreatmentId,
    ClinicId,
    ClientId,
    PractitionerId,
    PerformedAt,
    LotId,
    Serial,
    Quantity,
}

const TRACE: &str = "ix_treatment_consumables_lot_trace";

/// The trace index: the lot's consumptions in the order performed, with every column the trace
/// shows but the client's contact details.
const TRACE_COLUMNS: [TreatmentConsumables; 10] = [
    TreatmentConsumables::OrganizationId,
    TreatmentConsumables::LotId,
    TreatmentConsumables::PerformedAt,
    TreatmentConsumables::TreatmentId,
    TreatmentConsumables::Id,
    TreatmentConsumables::ClinicId,
    TreatmentConsumables::ClientId,
    TreatmentConsumables::PractitionerId,
    TreatmentConsumables::Quantity,
    TreatmentConsumables::Serial,
];

/// The trace index as it was: in the order recorded, without who and when.
const EARLIER_TRACE_COLUMNS: [TreatmentConsumables; 7] = [
    TreatmentConsumables::OrganizationId,
    TreatmentConsumables::LotId,
    TreatmentConsumables::Id,
    TreatmentConsumables::TreatmentId,
    TreatmentConsumables::ClinicId,
    TreatmentConsumables::Quantity,
    TreatmentConsumables::Serial,
];

async fn trace_index<const N: usize>(
    manager: &SchemaManager<'_>,
    columns: [TreatmentConsumables; N],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(TRACE).table(TreatmentConsumables::Table);
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.take()).await
}

async fn drop_trace_index(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(TRACE)
                .table(TreatmentConsumables::Table)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Added with a placeholder (SQLite adds a column that refuses NULL only with a
        // default), then filled from each consumption's treatment.
        for column in [
            ColumnDef::new(TreatmentConsumables::ClientId)
                .uuid()
                .not_null()
                .default(Uuid::nil())
                .take(),
            ColumnDef::new(TreatmentConsumables::PractitionerId)
                .uuid()
                .not_null()
                .default(Uuid::nil())
                .take(),
            ColumnDef::new(TreatmentConsumables::PerformedAt)
                .timestamp_with_time_zone()
                .not_null()
                .default("1970-01-01 00:00:00+00:00")
                .take(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TreatmentConsumables::Table)
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE treatment_consumables SET client_id = t.client_id, \
             practitioner_id = t.practitioner_id, performed_at = t.performed_at \
             FROM treatments t WHERE t.id = treatment_consumables.treatment_id",
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE treatment_consumables ALTER COLUMN client_id DROP DEFAULT, \
                 ALTER COLUMN practitioner_id DROP DEFAULT, ALTER COLUMN performed_at DROP DEFAULT",
            )
            .await?;
        }
        drop_trace_index(manager).await?;
        trace_index(manager, TRACE_COLUMNS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_trace_index(manager).await?;
        trace_index(manager, EARLIER_TRACE_COLUMNS).await?;
        for column in [
            TreatmentConsumables::PerformedAt,
            TreatmentConsumables::PractitionerId,
            TreatmentConsumables::ClientId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TreatmentConsumables::Table)
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
