//! Lots put on hold by an adverse-event signal: when and why, until released or recalled.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Lots {
    Table,
    HeldAt,
    HoldReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Lots::Table)
                    .add_column(
                        ColumnDef::new(Lots::HeldAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Lots::Table)
                    .add_column(ColumnDef::new(Lots::HoldReason).string_len(64).null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Lots::Table)
                    .drop_column(Lots::HoldReason)
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Lots::Table)
                    .drop_column(Lots::HeldAt)
                    .take(),
            )
            .await
    }
}
