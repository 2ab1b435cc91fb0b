//! The outbox of integration events: one row per change an integrator cares about, written in
//! the transaction of the change, numbered per organisation without gaps. `event_sequences`
//! holds each organisation's last number (its row is the lock that serialises appends, across
//! replicas) and how far retention has deleted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    OrganizationId,
    Seq,
    EventType,
    OccurredAt,
    ClinicId,
    OtherClinicId,
    ClientId,
    TreatmentId,
    LotId,
    SubjectId,
    Payload,
}

#[derive(DeriveIden)]
enum EventSequences {
    Table,
    OrganizationId,
    LastSeq,
    PurgedThrough,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventSequences::Table)
                    .col(pk_uuid(EventSequences::OrganizationId))
                    .col(big_integer(EventSequences::LastSeq))
                    .col(big_integer(EventSequences::PurgedThrough).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EventSequences::Table, EventSequences::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(pk_uuid(Events::Id))
                    .col(uuid(Events::OrganizationId))
                    .col(big_integer(Events::Seq))
                    .col(string(Events::EventType))
                    .col(timestamp_with_time_zone(Events::OccurredAt))
                    .col(uuid_null(Events::ClinicId))
                    .col(uuid_null(Events::OtherClinicId))
                    .col(uuid_null(Events::ClientId))
                    .col(uuid_null(Events::TreatmentId))
                    .col(uuid_null(Events::LotId))
                    .col(uuid_null(Events::SubjectId))
                    .col(text(Events::Payload))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Events::Table, Events::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_events_org_seq")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::Seq)
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_occurred")
                    .table(Events::Table)
                    .col(Events::OccurredAt)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EventSequences::Table).to_owned())
            .await
    }
}
