//! Clinical records: policy versions, clients, screenings and their clearances, courses,
//! treatments with their addenda and adverse events.
//!
//! Structured values (the policy document, screening answers and reasons, a treatment's
//! indications, areas and topicals) are stored as JSON in text columns: both backends read them
//! alike, and the app parses them into domain types. Columns used for search are stored
//! lowercased beside the originals, so that case-insensitive prefix search is a plain
//! `LIKE 'prefix%'` on both backends.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clinics {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    OrganizationId,
    Version,
    Document,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    OrganizationId,
    FirstName,
    LastName,
    DateOfBirth,
    Phone,
    Email,
    FitzpatrickType,
    ConsentVersion,
    ConsentSignedAt,
    PhotoConsent,
    Notes,
    NameSearch,
    ReverseNameSearch,
    EmailSearch,
    PhoneSearch,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Screenings {
    Table,
    Id,
    OrganizationId,
    ClientId,
    ClinicId,
    ScreenedBy,
    ScreenedOn,
    Answers,
    Outcome,
    Reasons,
    ValidUntil,
    PolicyVersion,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScreeningClearances {
    Table,
    Id,
    OrganizationId,
    ScreeningId,
    Factor,
    Reason,
    ClearedBy,
    ClearedAt,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    OrganizationId,
    ClientId,
    Template,
    Name,
    Sessions,
    MinIntervalDays,
    MaxIntervalDays,
    StartedOn,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Treatments {
    Table,
    Id,
    OrganizationId,
    ClinicId,
    ClientId,
    PractitionerId,
    PerformedAt,
    PerformedOn,
    Status,
    Indications,
    Areas,
    DeviceKind,
    NeedleDepthHundredths,
    Passes,
    AnaestheticProduct,
    AnaestheticMinutes,
    Topicals,
    Endpoint,
    DurationMinutes,
    Notes,
    IntervalOverrideReason,
    PolicyVersion,
    CourseId,
    Version,
    SignedAt,
    SignedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TreatmentAddenda {
    Table,
    Id,
    OrganizationId,
    TreatmentId,
    AuthorId,
    Text,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AdverseEvents {
    Table,
    Id,
    OrganizationId,
    TreatmentId,
    Kind,
    Severity,
    OnsetOn,
    Notes,
    RecordedBy,
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

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.take()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per version; the current policy is the highest version. An organisation
        // without a row works under the DOMAIN.md defaults, known as version 0.
        manager
            .create_table(
                Table::create()
                    .table(Policies::Table)
                    .col(uuid(Policies::OrganizationId))
                    .col(integer(Policies::Version))
                    .col(text(Policies::Document))
                    .col(uuid_null(Policies::CreatedBy))
                    .col(timestamp_with_time_zone(Policies::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Policies::OrganizationId)
                            .col(Policies::Version),
                    )
                    .foreign_key(&mut fk(
                        "fk_policies_organization",
                        (Policies::Table, Policies::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(pk_uuid(Clients::Id))
                    .col(uuid(Clients::OrganizationId))
                    .col(string_len(Clients::FirstName, 200))
                    .col(string_len(Clients::LastName, 200))
                    .col(date(Clients::DateOfBirth))
                    .col(string_len_null(Clients::Phone, 40))
                    .col(string_len_null(Clients::Email, 254))
                    .col(string_len_null(Clients::FitzpatrickType, 8))
                    .col(string_len_null(Clients::ConsentVersion, 64))
                    .col(timestamp_with_time_zone_null(Clients::ConsentSignedAt))
                    .col(boolean(Clients::PhotoConsent))
                    .col(text_null(Clients::Notes))
                    .col(string_len(Clients::NameSearch, 401))
                    .col(string_len(Clients::ReverseNameSearch, 401))
                    .col(string_len_null(Clients::EmailSearch, 254))
                    .col(string_len_null(Clients::PhoneSearch, 40))
                    .col(integer(Clients::Version))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone(Clients::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_clients_organization",
                        (Clients::Table, Clients::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;
        for (name, col) in [
            ("ix_clients_org_name", Clients::NameSearch),
            ("ix_clients_org_reverse_name", Clients::ReverseNameSearch),
            ("ix_clients_org_email", Clients::EmailSearch),
            ("ix_clients_org_phone", Clients::PhoneSearch),
            ("ix_clients_org_id", Clients::Id),
        ] {
            index(
                manager,
                name,
                Clients::Table,
                vec![Clients::OrganizationId.into_iden(), col.into_iden()],
                false,
            )
            .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Screenings::Table)
                    .col(pk_uuid(Screenings::Id))
                    .col(uuid(Screenings::OrganizationId))
                    .col(uuid(Screenings::ClientId))
                    .col(uuid_null(Screenings::ClinicId))
                    .col(uuid(Screenings::ScreenedBy))
                    .col(date(Screenings::ScreenedOn))
                    .col(text(Screenings::Answers))
                    .col(string_len(Screenings::Outcome, 32))
                    .col(text(Screenings::Reasons))
                    .col(date(Screenings::ValidUntil))
                    .col(integer(Screenings::PolicyVersion))
                    .col(timestamp_with_time_zone(Screenings::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_screenings_client",
                        (Screenings::Table, Screenings::ClientId),
                        (Clients::Table, Clients::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_screenings_clinic",
                        (Screenings::Table, Screenings::ClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_screenings_org_client_on",
            Screenings::Table,
            vec![
                Screenings::OrganizationId.into_iden(),
                Screenings::ClientId.into_iden(),
                Screenings::ScreenedOn.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScreeningClearances::Table)
                    .col(pk_uuid(ScreeningClearances::Id))
                    .col(uuid(ScreeningClearances::OrganizationId))
                    .col(uuid(ScreeningClearances::ScreeningId))
                    .col(string_len(ScreeningClearances::Factor, 64))
                    .col(text(ScreeningClearances::Reason))
                    .col(uuid(ScreeningClearances::ClearedBy))
                    .col(timestamp_with_time_zone(ScreeningClearances::ClearedAt))
                    .foreign_key(&mut fk(
                        "fk_screening_clearances_screening",
                        (ScreeningClearances::Table, ScreeningClearances::ScreeningId),
                        (Screenings::Table, Screenings::Id),
                    ))
                    .take(),
            )
            .await?;
        // One clearance per factor of a screening: the database refuses a second one.
        index(
            manager,
            "ux_screening_clearances_factor",
            ScreeningClearances::Table,
            vec![
                ScreeningClearances::ScreeningId.into_iden(),
                ScreeningClearances::Factor.into_iden(),
            ],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Courses::Table)
                    .col(pk_uuid(Courses::Id))
                    .col(uuid(Courses::OrganizationId))
                    .col(uuid(Courses::ClientId))
                    .col(string_len_null(Courses::Template, 64))
                    .col(string_len(Courses::Name, 200))
                    .col(integer(Courses::Sessions))
                    .col(integer(Courses::MinIntervalDays))
                    .col(integer(Courses::MaxIntervalDays))
                    .col(date(Courses::StartedOn))
                    .col(uuid(Courses::CreatedBy))
                    .col(timestamp_with_time_zone(Courses::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_courses_client",
                        (Courses::Table, Courses::ClientId),
                        (Clients::Table, Clients::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_courses_org_client",
            Courses::Table,
            vec![
                Courses::OrganizationId.into_iden(),
                Courses::ClientId.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Treatments::Table)
                    .col(pk_uuid(Treatments::Id))
                    .col(uuid(Treatments::OrganizationId))
                    .col(uuid(Treatments::ClinicId))
                    .col(uuid(Treatments::ClientId))
                    .col(uuid(Treatments::PractitionerId))
                    .col(timestamp_with_time_zone(Treatments::PerformedAt))
                    .col(date(Treatments::PerformedOn))
                    .col(string_len(Treatments::Status, 16))
                    .col(text(Treatments::Indications))
                    .col(text(Treatments::Areas))
                    .col(string_len(Treatments::DeviceKind, 16))
                    .col(integer(Treatments::NeedleDepthHundredths))
                    .col(integer(Treatments::Passes))
                    .col(string_len_null(Treatments::AnaestheticProduct, 200))
                    .col(integer_null(Treatments::AnaestheticMinutes))
                    .col(text(Treatments::Topicals))
                    .col(string_len(Treatments::Endpoint, 32))
                    .col(integer(Treatments::DurationMinutes))
                    .col(text_null(Treatments::Notes))
                    .col(text_null(Treatments::IntervalOverrideReason))
                    .col(integer(Treatments::PolicyVersion))
                    .col(uuid_null(Treatments::CourseId))
                    .col(integer(Treatments::Version))
                    .col(timestamp_with_time_zone_null(Treatments::SignedAt))
                    .col(uuid_null(Treatments::SignedBy))
                    .col(timestamp_with_time_zone(Treatments::CreatedAt))
                    .col(timestamp_with_time_zone(Treatments::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_treatments_clinic",
                        (Treatments::Table, Treatments::ClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_treatments_client",
                        (Treatments::Table, Treatments::ClientId),
                        (Clients::Table, Clients::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_treatments_practitioner",
                        (Treatments::Table, Treatments::PractitionerId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_treatments_course",
                        (Treatments::Table, Treatments::CourseId),
                        (Courses::Table, Courses::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_treatments_org_client_on",
            Treatments::Table,
            vec![
                Treatments::OrganizationId.into_iden(),
                Treatments::ClientId.into_iden(),
                Treatments::PerformedOn.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "ix_treatments_org_course",
            Treatments::Table,
            vec![
                Treatments::OrganizationId.into_iden(),
                Treatments::CourseId.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TreatmentAddenda::Table)
                    .col(pk_uuid(TreatmentAddenda::Id))
                    .col(uuid(TreatmentAddenda::OrganizationId))
                    .col(uuid(TreatmentAddenda::TreatmentId))
                    .col(uuid(TreatmentAddenda::AuthorId))
                    .col(text(TreatmentAddenda::Text))
                    .col(timestamp_with_time_zone(TreatmentAddenda::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_treatment_addenda_treatment",
                        (TreatmentAddenda::Table, TreatmentAddenda::TreatmentId),
                        (Treatments::Table, Treatments::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_treatment_addenda_treatment",
            TreatmentAddenda::Table,
            vec![
                TreatmentAddenda::OrganizationId.into_iden(),
                TreatmentAddenda::TreatmentId.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AdverseEvents::Table)
                    .col(pk_uuid(AdverseEvents::Id))
                    .col(uuid(AdverseEvents::OrganizationId))
                    .col(uuid(AdverseEvents::TreatmentId))
                    .col(string_len(AdverseEvents::Kind, 32))
                    .col(string_len(AdverseEvents::Severity, 16))
                    .col(date(AdverseEvents::OnsetOn))
                    .col(text_null(AdverseEvents::Notes))
                    .col(uuid(AdverseEvents::RecordedBy))
                    .col(timestamp_with_time_zone(AdverseEvents::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_adverse_events_treatment",
                        (AdverseEvents::Table, AdverseEvents::TreatmentId),
                        (Treatments::Table, Treatments::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_adverse_events_treatment",
            AdverseEvents::Table,
            vec![
                AdverseEvents::OrganizationId.into_iden(),
                AdverseEvents::TreatmentId.into_iden(),
            ],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AdverseEvents::Table.into_iden(),
            TreatmentAddenda::Table.into_iden(),
            Treatments::Table.into_iden(),
            Courses::Table.into_iden(),
            ScreeningClearances::Table.into_iden(),
            Screenings::Table.into_iden(),
            Clients::Table.into_iden(),
            Policies::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
