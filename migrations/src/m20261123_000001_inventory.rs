//! Inventory of single-use devices: products and their per-clinic reorder points, lots, the
//! stock balance per clinic and lot, serialised units, the movement ledger, transfers between
//! clinics, and the units each treatment consumed.
//!
//! There are no CHECK constraints: the app changes balances only with conditional updates
//! (`... WHERE on_hand >= n`), which hold on both backends and across replicas. The unique
//! indexes are part of the rules: a lot number once per product, a GTIN once per organisation,
//! and a serial consumed at most once (`ux_treatment_consumables_serial`).

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
enum Treatments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    OrganizationId,
    Kind,
    Name,
    Maker,
    Gtin,
    NeedleLengthHundredths,
    NeedleCount,
    MaxDepthHundredths,
    SingleUse,
    ReorderPoint,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClinicReorderPoints {
    Table,
    OrganizationId,
    ClinicId,
    ProductId,
    ReorderPoint,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Lots {
    Table,
    Id,
    OrganizationId,
    ProductId,
    LotNumber,
    Expiry,
    Status,
    RecalledAt,
    RecalledBy,
    RecallReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Stock {
    Table,
    OrganizationId,
    ClinicId,
    LotId,
    OnHand,
    Quarantined,
    InTransitOut,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    OrganizationId,
    ProductId,
    LotId,
    Serial,
    ClinicId,
    Status,
    TreatmentId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Transfers {
    Table,
    Id,
    OrganizationId,
    FromClinicId,
    ToClinicId,
    Status,
    Note,
    CreatedBy,
    CreatedAt,
    ReceivedBy,
    ReceivedAt,
    CancelledBy,
    CancelledAt,
}

#[derive(DeriveIden)]
enum TransferLines {
    Table,
    Id,
    OrganizationId,
    TransferId,
    LotId,
    Quantity,
}

#[derive(DeriveIden)]
enum Movements {
    Table,
    Id,
    OrganizationId,
    ClinicId,
    LotId,
    Kind,
    Quantity,
    QuarantinedDelta,
    InTransitDelta,
    Reason,
    Note,
    ActorKind,
    ActorId,
    TreatmentId,
    TransferId,
    Reference,
    CreatedAt,
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
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(pk_uuid(Products::Id))
                    .col(uuid(Products::OrganizationId))
                    .col(string_len(Products::Kind, 16))
                    .col(string_len(Products::Name, 200))
                    .col(string_len(Products::Maker, 200))
                    .col(string_len_null(Products::Gtin, 14))
                    .col(integer_null(Products::NeedleLengthHundredths))
                    .col(integer_null(Products::NeedleCount))
                    .col(integer_null(Products::MaxDepthHundredths))
                    .col(boolean(Products::SingleUse))
                    .col(integer(Products::ReorderPoint))
                    .col(integer(Products::Version))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_products_organization",
                        (Products::Table, Products::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .take(),
            )
            .await?;
        // A GTIN names one product of the organisation; products without one are not limited
        // (NULLs are distinct in a unique index on both backends).
        index(
            manager,
            "ux_products_org_gtin",
            Products::Table,
            vec![
                Products::OrganizationId.into_iden(),
                Products::Gtin.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "ix_products_org_id",
            Products::Table,
            vec![
                Products::OrganizationId.into_iden(),
                Products::Id.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClinicReorderPoints::Table)
                    .col(uuid(ClinicReorderPoints::OrganizationId))
                    .col(uuid(ClinicReorderPoints::ClinicId))
                    .col(uuid(ClinicReorderPoints::ProductId))
                    .col(integer(ClinicReorderPoints::ReorderPoint))
                    .col(timestamp_with_time_zone(ClinicReorderPoints::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ClinicReorderPoints::ClinicId)
                            .col(ClinicReorderPoints::ProductId),
                    )
                    .foreign_key(&mut fk(
                        "fk_clinic_reorder_points_clinic",
                        (ClinicReorderPoints::Table, ClinicReorderPoints::ClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_clinic_reorder_points_product",
                        (ClinicReorderPoints::Table, ClinicReorderPoints::ProductId),
                        (Products::Table, Products::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_clinic_reorder_points_org_product",
            ClinicReorderPoints::Table,
            vec![
                ClinicReorderPoints::OrganizationId.into_iden(),
                ClinicReorderPoints::ProductId.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Lots::Table)
                    .col(pk_uuid(Lots::Id))
                    .col(uuid(Lots::OrganizationId))
                    .col(uuid(Lots::ProductId))
                    .col(string_len(Lots::LotNumber, 20))
                    .col(date(Lots::Expiry))
                    .col(string_len(Lots::Status, 16))
                    .col(timestamp_with_time_zone_null(Lots::RecalledAt))
                    .col(uuid_null(Lots::RecalledBy))
                    .col(text_null(Lots::RecallReason))
                    .col(timestamp_with_time_zone(Lots::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_lots_product",
                        (Lots::Table, Lots::ProductId),
                        (Products::Table, Products::Id),
                    ))
                    .take(),
            )
            .await?;
        // One lot per lot number of a product: concurrent receipts of a new lot find one row.
        index(
            manager,
            "ux_lots_org_product_number",
            Lots::Table,
            vec![
                Lots::OrganizationId.into_iden(),
                Lots::ProductId.into_iden(),
                Lots::LotNumber.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "ix_lots_org_expiry",
            Lots::Table,
            vec![Lots::OrganizationId.into_iden(), Lots::Expiry.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Stock::Table)
                    .col(uuid(Stock::OrganizationId))
                    .col(uuid(Stock::ClinicId))
                    .col(uuid(Stock::LotId))
                    .col(integer(Stock::OnHand))
                    .col(integer(Stock::Quarantined))
                    .col(integer(Stock::InTransitOut))
                    .col(integer(Stock::Version))
                    .col(timestamp_with_time_zone(Stock::UpdatedAt))
                    .primary_key(Index::create().col(Stock::ClinicId).col(Stock::LotId))
                    .foreign_key(&mut fk(
                        "fk_stock_clinic",
                        (Stock::Table, Stock::ClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_stock_lot",
                        (Stock::Table, Stock::LotId),
                        (Lots::Table, Lots::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_stock_org_clinic",
            Stock::Table,
            vec![
                Stock::OrganizationId.into_iden(),
                Stock::ClinicId.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "ix_stock_org_lot",
            Stock::Table,
            vec![Stock::OrganizationId.into_iden(), Stock::LotId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(pk_uuid(Units::Id))
                    .col(uuid(Units::OrganizationId))
                    .col(uuid(Units::ProductId))
                    .col(uuid(Units::LotId))
                    .col(string_len(Units::Serial, 20))
                    .col(uuid(Units::ClinicId))
                    .col(string_len(Units::Status, 16))
                    .col(uuid_null(Units::TreatmentId))
                    .col(timestamp_with_time_zone(Units::CreatedAt))
                    .col(timestamp_with_time_zone(Units::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_units_lot",
                        (Units::Table, Units::LotId),
                        (Lots::Table, Lots::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_units_clinic",
                        (Units::Table, Units::ClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_units_treatment",
                        (Units::Table, Units::TreatmentId),
                        (Treatments::Table, Treatments::Id),
                    ))
                    .take(),
            )
            .await?;
        // GS1 makes (01) GTIN + (21) serial unique, so a serial names one unit of a product.
        index(
            manager,
            "ux_units_org_product_serial",
            Units::Table,
            vec![
                Units::OrganizationId.into_iden(),
                Units::ProductId.into_iden(),
                Units::Serial.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "ix_units_org_lot",
            Units::Table,
            vec![Units::OrganizationId.into_iden(), Units::LotId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Transfers::Table)
                    .col(pk_uuid(Transfers::Id))
                    .col(uuid(Transfers::OrganizationId))
                    .col(uuid(Transfers::FromClinicId))
                    .col(uuid(Transfers::ToClinicId))
                    .col(string_len(Transfers::Status, 16))
                    .col(text_null(Transfers::Note))
                    .col(uuid(Transfers::CreatedBy))
                    .col(timestamp_with_time_zone(Transfers::CreatedAt))
                    .col(uuid_null(Transfers::ReceivedBy))
                    .col(timestamp_with_time_zone_null(Transfers::ReceivedAt))
                    .col(uuid_null(Transfers::CancelledBy))
                    .col(timestamp_with_time_zone_null(Transfers::CancelledAt))
                    .foreign_key(&mut fk(
                        "fk_transfers_from_clinic",
                        (Transfers::Table, Transfers::FromClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_transfers_to_clinic",
                        (Transfers::Table, Transfers::ToClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_transfers_org_id",
            Transfers::Table,
            vec![
                Transfers::OrganizationId.into_iden(),
                Transfers::Id.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TransferLines::Table)
                    .col(pk_uuid(TransferLines::Id))
                    .col(uuid(TransferLines::OrganizationId))
                    .col(uuid(TransferLines::TransferId))
                    .col(uuid(TransferLines::LotId))
                    .col(integer(TransferLines::Quantity))
                    .foreign_key(&mut fk(
                        "fk_transfer_lines_transfer",
                        (TransferLines::Table, TransferLines::TransferId),
                        (Transfers::Table, Transfers::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_transfer_lines_lot",
                        (TransferLines::Table, TransferLines::LotId),
                        (Lots::Table, Lots::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ux_transfer_lines_lot",
            TransferLines::Table,
            vec![
                TransferLines::TransferId.into_iden(),
                TransferLines::LotId.into_iden(),
            ],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Movements::Table)
                    .col(pk_uuid(Movements::Id))
                    .col(uuid(Movements::OrganizationId))
                    .col(uuid(Movements::ClinicId))
                    .col(uuid(Movements::LotId))
                    .col(string_len(Movements::Kind, 32))
                    .col(integer(Movements::Quantity))
                    .col(integer(Movements::QuarantinedDelta))
                    .col(integer(Movements::InTransitDelta))
                    .col(string_len_null(Movements::Reason, 32))
                    .col(text_null(Movements::Note))
                    .col(string_len(Movements::ActorKind, 16))
                    .col(uuid_null(Movements::ActorId))
                    .col(uuid_null(Movements::TreatmentId))
                    .col(uuid_null(Movements::TransferId))
                    .col(string_len_null(Movements::Reference, 100))
                    .col(timestamp_with_time_zone(Movements::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_movements_clinic",
                        (Movements::Table, Movements::ClinicId),
                        (Clinics::Table, Clinics::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_movements_lot",
                        (Movements::Table, Movements::LotId),
                        (Lots::Table, Lots::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_movements_treatment",
                        (Movements::Table, Movements::TreatmentId),
                        (Treatments::Table, Treatments::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_movements_transfer",
                        (Movements::Table, Movements::TransferId),
                        (Transfers::Table, Transfers::Id),
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "ix_movements_org_clinic_id",
            Movements::Table,
            vec![
                Movements::OrganizationId.into_iden(),
                Movements::ClinicId.into_iden(),
                Movements::Id.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "ix_movements_org_lot",
            Movements::Table,
            vec![
                Movements::OrganizationId.into_iden(),
                Movements::LotId.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TreatmentConsumables::Table)
                    .col(pk_uuid(TreatmentConsumables::Id))
                    .col(uuid(TreatmentConsumables::OrganizationId))
                    .col(uuid(TreatmentConsumables::TreatmentId))
                    .col(uuid(TreatmentConsumables::ClinicId))
                    .col(date(TreatmentConsumables::PerformedOn))
                    .col(uuid(TreatmentConsumables::ProductId))
                    .col(uuid(TreatmentConsumables::LotId))
                    .col(string_len_null(TreatmentConsumables::Serial, 20))
                    .col(integer(TreatmentConsumables::Quantity))
                    .col(timestamp_with_time_zone(TreatmentConsumables::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_treatment_consumables_treatment",
                        (
                            TreatmentConsumables::Table,
                            TreatmentConsumables::TreatmentId,
                        ),
                        (Treatments::Table, Treatments::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_treatment_consumables_product",
                        (TreatmentConsumables::Table, TreatmentConsumables::ProductId),
                        (Products::Table, Products::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_treatment_consumables_lot",
                        (TreatmentConsumables::Table, TreatmentConsumables::LotId),
                        (Lots::Table, Lots::Id),
                    ))
                    .take(),
            )
            .await?;
        // The rule "a serial is never consumed twice", held by the database whatever races:
        // rows without a serial are NULL there and never collide.
        index(
            manager,
            "ux_treatment_consumables_serial",
            TreatmentConsumables::Table,
            vec![
                TreatmentConsumables::OrganizationId.into_iden(),
                TreatmentConsumables::ProductId.into_iden(),
                TreatmentConsumables::Serial.into_iden(),
            ],
            true,
        )
        .await?;
        for (name, col) in [
            (
                "ix_treatment_consumables_treatment",
                TreatmentConsumables::TreatmentId,
            ),
            ("ix_treatment_consumables_lot", TreatmentConsumables::LotId),
            (
                "ix_treatment_consumables_performed_on",
                TreatmentConsumables::PerformedOn,
            ),
        ] {
            index(
                manager,
                name,
                TreatmentConsumables::Table,
                vec![
                    TreatmentConsumables::OrganizationId.into_iden(),
                    col.into_iden(),
                ],
                false,
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TreatmentConsumables::Table.into_iden(),
            Movements::Table.into_iden(),
            TransferLines::Table.into_iden(),
            Transfers::Table.into_iden(),
            Units::Table.into_iden(),
            Stock::Table.into_iden(),
            Lots::Table.into_iden(),
            ClinicReorderPoints::Table.into_iden(),
            Products::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
