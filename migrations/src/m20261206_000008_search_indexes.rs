//! Indexes for organisations with hundreds of thousands of clients.
//!
//! - The prefix search of clients (`LIKE 'prefix%'` on the lowercased name, reversed name, email
//!   and phone digits) uses an index on PostgreSQL whatever the database's collation: an index
//!   in the database's collation serves `LIKE` only when that collation is `C`, so each search
//!   key is indexed with `varchar_pattern_ops` instead.
//! - The trace of a lot reads the lot's consumptions from one index holding every column it
//!   needs, in the order it lists them; so does the usage report over a period.
//! - The audit events about one client (who read their record, and when) are found by index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    OrganizationId,
    NameSearch,
    ReverseNameSearch,
    EmailSearch,
    PhoneSearch,
}

#[derive(DeriveIden)]
enum TreatmentConsumables {
    Table,
    Id,
    OrganizationId,
    TreatmentId,
    ClinicId,
    PerformedOn,
    ProductId,
    LotId,
    Serial,
    Quantity,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OrganizationId,
    ClientId,
}

/// The search keys of clients: (index in the database's collation, pattern index, column).
const SEARCH_KEYS: [(&str, &str, &str); 4] = [
    (
        "ix_clients_org_name",
        "ix_clients_org_name_prefix",
        "name_search",
    ),
    (
        "ix_clients_org_reverse_name",
        "ix_clients_org_reverse_name_prefix",
        "reverse_name_search",
    ),
    (
        "ix_clients_org_email",
        "ix_clients_org_email_prefix",
        "email_search",
    ),
    (
        "ix_clients_org_phone",
        "ix_clients_org_phone_prefix",
        "phone_search",
    ),
];

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt.take()).await
}

async fn drop_index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(table).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for (collated, pattern, column) in SEARCH_KEYS {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        "CREATE INDEX {pattern} ON clients (organization_id, {column} varchar_pattern_ops)"
                    ))
                    .await?;
                drop_index(manager, collated, Clients::Table).await?;
            }
        }

        // The trace of a lot: its consumptions in recorded order, with what the trace shows.
        index(
            manager,
            "ix_treatment_consumables_lot_trace",
            TreatmentConsumables::Table,
            vec![
                TreatmentConsumables::OrganizationId.into_iden(),
                TreatmentConsumables::LotId.into_iden(),
                TreatmentConsumables::Id.into_iden(),
                TreatmentConsumables::TreatmentId.into_iden(),
                TreatmentConsumables::ClinicId.into_iden(),
                TreatmentConsumables::Quantity.into_iden(),
                TreatmentConsumables::Serial.into_iden(),
            ],
        )
        .await?;
        drop_index(
            manager,
            "ix_treatment_consumables_lot",
            TreatmentConsumables::Table,
        )
        .await?;
        // The usage report: units per clinic and product over a period of days.
        index(
            manager,
            "ix_treatment_consumables_usage",
            TreatmentConsumables::Table,
            vec![
                TreatmentConsumables::OrganizationId.into_iden(),
                TreatmentConsumables::PerformedOn.into_iden(),
                TreatmentConsumables::ClinicId.into_iden(),
                TreatmentConsumables::ProductId.into_iden(),
                TreatmentConsumables::Quantity.into_iden(),
            ],
        )
        .await?;
        drop_index(
            manager,
            "ix_treatment_consumables_performed_on",
            TreatmentConsumables::Table,
        )
        .await?;

        index(
            manager,
            "ix_audit_events_org_client",
            AuditEvents::Table,
            vec![
                AuditEvents::OrganizationId.into_iden(),
                AuditEvents::ClientId.into_iden(),
                AuditEvents::Id.into_iden(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, "ix_audit_events_org_client", AuditEvents::Table).await?;
        index(
            manager,
            "ix_treatment_consumables_performed_on",
            TreatmentConsumables::Table,
            vec![
                TreatmentConsumables::OrganizationId.into_iden(),
                TreatmentConsumables::PerformedOn.into_iden(),
            ],
        )
        .await?;
        drop_index(
            manager,
            "ix_treatment_consumables_usage",
            TreatmentConsumables::Table,
        )
        .await?;
        index(
            manager,
            "ix_treatment_consumables_lot",
            TreatmentConsumables::Table,
            vec![
                TreatmentConsumables::OrganizationId.into_iden(),
                TreatmentConsumables::LotId.into_iden(),
            ],
        )
        .await?;
        drop_index(
            manager,
            "ix_treatment_consumables_lot_trace",
            TreatmentConsumables::Table,
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            for ((collated, pattern, _), column) in SEARCH_KEYS.into_iter().zip([
                Clients::NameSearch,
                Clients::ReverseNameSearch,
                Clients::EmailSearch,
                Clients::PhoneSearch,
            ]) {
                index(
                    manager,
                    collated,
                    Clients::Table,
                    vec![Clients::OrganizationId.into_iden(), column.into_iden()],
                )
                .await?;
                drop_index(manager, pattern, Clients::Table).await?;
            }
        }
        Ok(())
    }
}
