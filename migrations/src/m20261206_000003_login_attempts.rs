//! A login attempt is recorded before its password is checked and stays, as a failure, only
//! when the check fails: `pending` tells attempts under way from failures, so that logins with
//! the right password arriving together wait for each other instead of being throttled.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Pending,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LoginFailures::Table)
                    .add_column(
                        ColumnDef::new(LoginFailures::Pending)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LoginFailures::Table)
                    .drop_column(LoginFailures::Pending)
                    .take(),
            )
            .await
    }
}
