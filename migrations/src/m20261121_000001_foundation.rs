//! Organisations, clinics, staff and their roles, API clients, refresh tokens, login attempts,
//! the audit log and idempotency keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Slug,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Clinics {
    Table,
    Id,
    OrganizationId,
    Name,
    Address,
    Phone,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
    OrganizationId,
    Email,
    Name,
    PasswordHash,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StaffRoles {
    Table,
    Id,
    OrganizationId,
    StaffId,
    ClinicId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    OrganizationId,
    Name,
    ClientId,
    SecretHash,
    Grants,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    OrganizationId,
    StaffId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    AccountKey,
    FailedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OrganizationId,
    ActorKind,
    ActorId,
    Action,
    EntityKind,
    EntityId,
    ClientId,
    Outcome,
    Detail,
    RequestId,
    OccurredAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    OrganizationId,
    Key,
    Operation,
    RequestHash,
    Response,
    CreatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(pk_uuid(Organizations::Id))
                    .col(string_len_uniq(Organizations::Slug, 63))
                    .col(string_len(Organizations::Name, 200))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Clinics::Table)
                    .col(pk_uuid(Clinics::Id))
                    .col(uuid(Clinics::OrganizationId))
                    .col(string_len(Clinics::Name, 200))
                    .col(string_len_null(Clinics::Address, 500))
                    .col(string_len_null(Clinics::Phone, 40))
                    .col(boolean(Clinics::Active))
                    .col(timestamp_with_time_zone(Clinics::CreatedAt))
                    .col(timestamp_with_time_zone(Clinics::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_clinics_organization",
                        (Clinics::Table, Clinics::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_clinics_org_id")
                    .table(Clinics::Table)
                    .col(Clinics::OrganizationId)
                    .col(Clinics::Id)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(pk_uuid(Staff::Id))
                    .col(uuid(Staff::OrganizationId))
                    .col(string_len(Staff::Email, 254))
                    .col(string_len(Staff::Name, 200))
                    .col(string_len(Staff::PasswordHash, 255))
                    .col(boolean(Staff::Active))
                    .col(timestamp_with_time_zone(Staff::CreatedAt))
                    .col(timestamp_with_time_zone(Staff::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_staff_organization",
                        (Staff::Table, Staff::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_staff_org_email")
                    .table(Staff::Table)
                    .col(Staff::OrganizationId)
                    .col(Staff::Email)
                    .unique()
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffRoles::Table)
                    .col(pk_uuid(StaffRoles::Id))
                    .col(uuid(StaffRoles::OrganizationId))
                    .col(uuid(StaffRoles::StaffId))
                    .col(uuid_null(StaffRoles::ClinicId))
                    .col(string_len(StaffRoles::Role, 32))
                    .col(timestamp_with_time_zone(StaffRoles::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_staff_roles_staff",
                        (StaffRoles::Table, StaffRoles::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_staff_roles_clinic",
                        (StaffRoles::Table, StaffRoles::ClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_staff_roles_staff")
                    .table(StaffRoles::Table)
                    .col(StaffRoles::StaffId)
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_staff_roles_org_clinic")
                    .table(StaffRoles::Table)
                    .col(StaffRoles::OrganizationId)
                    .col(StaffRoles::ClinicId)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiClients::Table)
                    .col(pk_uuid(ApiClients::Id))
                    .col(uuid(ApiClients::OrganizationId))
                    .col(string_len(ApiClients::Name, 200))
                    .col(string_len_uniq(ApiClients::ClientId, 64))
                    .col(string_len(ApiClients::SecretHash, 255))
                    .col(text(ApiClients::Grants))
                    .col(uuid_null(ApiClients::CreatedBy))
                    .col(timestamp_with_time_zone(ApiClients::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiClients::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiClients::RevokedAt))
                    .foreign_key(&mut fk(
                        "fk_api_clients_organization",
                        (ApiClients::Table, ApiClients::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::OrganizationId))
                    .col(uuid(RefreshTokens::StaffId))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .foreign_key(&mut fk(
                        "fk_refresh_tokens_staff",
                        (RefreshTokens::Table, RefreshTokens::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(pk_uuid(LoginFailures::Id))
                    .col(string_len(LoginFailures::AccountKey, 64))
                    .col(timestamp_with_time_zone(LoginFailures::FailedAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_login_failures_account")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::AccountKey)
                    .col(LoginFailures::FailedAt)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(uuid(AuditEvents::OrganizationId))
                    .col(string_len(AuditEvents::ActorKind, 16))
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(string_len(AuditEvents::Action, 64))
                    .col(string_len(AuditEvents::EntityKind, 32))
                    .col(uuid_null(AuditEvents::EntityId))
                    .col(uuid_null(AuditEvents::ClientId))
                    .col(string_len(AuditEvents::Outcome, 16))
                    .col(text_null(AuditEvents::Detail))
                    .col(string_len_null(AuditEvents::RequestId, 64))
                    .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_org_id")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::OrganizationId)
                    .col(AuditEvents::Id)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::OrganizationId))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::Operation, 64))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(text(IdempotencyKeys::Response))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::OrganizationId)
                            .col(IdempotencyKeys::Key),
                    )
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            LoginFailures::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            ApiClients::Table.into_iden(),
            StaffRoles::Table.into_iden(),
            Staff::Table.into_iden(),
            Clinics::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
