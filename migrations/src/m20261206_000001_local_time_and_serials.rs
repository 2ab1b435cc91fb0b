//! Clinics keep local time, and lots remember whether they arrived with serials.
//!
//! A clinic's IANA time zone decides which day a session falls on, from which intervals,
//! aftercare, screening validity and expiry are counted. A lot received with serials accepts
//! only the serials it was received with; a lot received by quantity registers serials at use.
//! A serialised unit travels with its transfer, and its clinic follows it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clinics {
    Table,
    Timezone,
}

#[derive(DeriveIden)]
enum Lots {
    Table,
    SerialTracked,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    OrganizationId,
    LotId,
    Status,
    TransferId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clinics::Table)
                    .add_column(
                        ColumnDef::new(Clinics::Timezone)
                            .string_len(64)
                            .not_null()
                            .default("UTC"),
                    )
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Lots::Table)
                    .add_column(
                        ColumnDef::new(Lots::SerialTracked)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .take(),
            )
            .await?;
        // The transfer a unit travels with, while it is in transit.
        manager
            .alter_table(
                Table::alter()
                    .table(Units::Table)
                    .add_column(ColumnDef::new(Units::TransferId).uuid().null())
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_units_org_lot_status")
                    .table(Units::Table)
                    .col(Units::OrganizationId)
                    .col(Units::LotId)
                    .col(Units::Status)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_units_org_lot_status")
                    .table(Units::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Units::Table)
                    .drop_column(Units::TransferId)
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Lots::Table)
                    .drop_column(Lots::SerialTracked)
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clinics::Table)
                    .drop_column(Clinics::Timezone)
                    .take(),
            )
            .await
    }
}
