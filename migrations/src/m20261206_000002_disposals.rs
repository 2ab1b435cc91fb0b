//! Units written off at the chair are ledger movements of kind `disposal`; the disposal report
//! reads them by organisation, kind and time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Movements {
    Table,
    OrganizationId,
    Kind,
    CreatedAt,
}

const INDEX: &str = "ix_movements_org_kind_created";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Movements::Table)
                    .col(Movements::OrganizationId)
                    .col(Movements::Kind)
                    .col(Movements::CreatedAt)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Movements::Table).to_owned())
            .await
    }
}
