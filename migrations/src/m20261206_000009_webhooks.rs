//! Webhooks: each organisation's endpoints (the URL, the kinds of event sent there, the secret
//! sealed with a key only the server holds, whether it is enabled, and how far its events have
//! been queued), the deliveries queued for them (one per endpoint and event, with its state,
//! schedule and lease), and every attempt of a delivery (outcome, HTTP status, latency).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    OrganizationId,
    Url,
    Description,
    EventTypes,
    Enabled,
    DisabledAt,
    DisabledReason,
    SecretSealed,
    Cursor,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    OrganizationId,
    WebhookId,
    EventId,
    Seq,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    FirstAttemptAt,
    LeasedUntil,
    LeaseToken,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    OrganizationId,
    DeliveryId,
    AttemptedAt,
    Outcome,
    StatusCode,
    LatencyMs,
    Error,
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
                    .table(Webhooks::Table)
                    .col(pk_uuid(Webhooks::Id))
                    .col(uuid(Webhooks::OrganizationId))
                    // Where deliveries are sent: an http or https URL.
                    .col(text(Webhooks::Url))
                    .col(text_null(Webhooks::Description))
                    // The kinds of event sent, as a JSON array of wire names; `[]` for all.
                    .col(text(Webhooks::EventTypes))
                    .col(boolean(Webhooks::Enabled))
                    .col(timestamp_with_time_zone_null(Webhooks::DisabledAt))
                    .col(text_null(Webhooks::DisabledReason))
                    // The signing secret, sealed with a key derived from the server's token
                    // signing key: the database alone does not reveal it.
                    .col(text(Webhooks::SecretSealed))
                    // The `seq` of the organisation's last event queued for this endpoint.
                    .col(big_integer(Webhooks::Cursor))
                    .col(uuid_null(Webhooks::CreatedBy))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .col(timestamp_with_time_zone(Webhooks::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Webhooks::Table, Webhooks::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhooks_org")
                    .table(Webhooks::Table)
                    .col(Webhooks::OrganizationId)
                    .col(Webhooks::Id)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(pk_uuid(WebhookDeliveries::Id))
                    .col(uuid(WebhookDeliveries::OrganizationId))
                    .col(uuid(WebhookDeliveries::WebhookId))
                    // The event delivered: its id is the `webhook-id` header.
                    .col(uuid(WebhookDeliveries::EventId))
                    .col(big_integer(WebhookDeliveries::Seq))
                    .col(string(WebhookDeliveries::EventType))
                    // The body sent, the same at every attempt.
                    .col(text(WebhookDeliveries::Payload))
                    // `pending`, `delivered` or `failed` (given up).
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(integer(WebhookDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::FirstAttemptAt,
                    ))
                    // While an attempt is under way: until when the replica that claimed it
                    // holds it, and the claim's token. A claim that outlives its lease (the
                    // replica died) is taken over.
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::LeasedUntil,
                    ))
                    .col(uuid_null(WebhookDeliveries::LeaseToken))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        for (name, cols) in [
            (
                "ix_webhook_deliveries_due",
                vec![WebhookDeliveries::Status, WebhookDeliveries::NextAttemptAt],
            ),
            (
                "ix_webhook_deliveries_queue",
                vec![
                    WebhookDeliveries::WebhookId,
                    WebhookDeliveries::Status,
                    WebhookDeliveries::Seq,
                ],
            ),
            (
                "ix_webhook_deliveries_list",
                vec![WebhookDeliveries::WebhookId, WebhookDeliveries::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WebhookDeliveries::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.take()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(pk_uuid(WebhookAttempts::Id))
                    .col(uuid(WebhookAttempts::OrganizationId))
                    .col(uuid(WebhookAttempts::DeliveryId))
                    .col(timestamp_with_time_zone(WebhookAttempts::AttemptedAt))
                    // `success`, `http_error`, `timeout`, `connection_error` or
                    // `address_refused`.
                    .col(string_len(WebhookAttempts::Outcome, 32))
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(big_integer(WebhookAttempts::LatencyMs))
                    .col(text_null(WebhookAttempts::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .col(WebhookAttempts::Id)
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            Webhooks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
