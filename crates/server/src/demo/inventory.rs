//! The demo's stock: products, lots at both clinics, and reorder points.

use chrono::{Duration, Utc};
use skinledger_app::products::{ClinicReorderPointChange, NewProduct};
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::{Actor, App};
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::gtin::Gtin;
use skinledger_domain::inventory::{LotNumber, ProductKind};
use uuid::Uuid;

/// The products demo sessions consume.
pub(super) struct Devices {
    pub(super) roller: Uuid,
    pub(super) cartridge: Uuid,
}

/// A demo needle device: single use, labelled for its needle length.
pub(super) fn needle_device(
    kind: ProductKind,
    name: &str,
    gtin: &str,
    length_hundredths: u16,
    needles: u32,
    reorder_point: u32,
) -> anyhow::Result<NewProduct> {
    Ok(NewProduct {
        kind,
        name: name.into(),
        maker: "Demo Medical Devices GmbH".into(),
        gtin: Some(Gtin::parse(gtin)?),
        needle_length_mm: Some(NeedleDepth::from_hundredths(length_hundredths)?),
        needle_count: Some(needles),
        max_depth_mm: None,
        single_use: None,
        reorder_point: Some(reorder_point),
        clinic_reorder_points: Vec::new(),
    })
}

/// Products, lots and stock at both clinics: one lot expiring within 30 days, one product
/// below its reorder point.
pub(super) async fn seed_inventory(
    app: &App,
    admin: &Actor,
    mitte: Uuid,
    nord: Uuid,
) -> anyhow::Result<Devices> {
    let roller = app
        .create_product(
            admin,
            needle_device(
                ProductKind::Roller,
                "Dermaroller 0.5 mm, 192 needles",
                "04012345000016",
                50,
                192,
                20,
            )?,
            None,
        )
        .await?;
    let cartridge = app
        .create_product(
            admin,
            NewProduct {
                clinic_reorder_points: vec![ClinicReorderPointChange {
                    clinic_id: nord,
                    reorder_point: Some(10),
                }],
                ..needle_device(
                    ProductKind::PenCartridge,
                    "Pen cartridge 12-pin, 2.5 mm",
                    "04012345000023",
                    250,
                    12,
                    30,
                )?
            },
            None,
        )
        .await?;
    let deep_roller = app
        .create_product(
            admin,
            needle_device(
                ProductKind::Roller,
                "Dermaroller 1.0 mm, 540 needles",
                "04012345000030",
                100,
                540,
                10,
            )?,
            None,
        )
        .await?;
    let today = Utc::now().date_naive();
    let deliveries = [
        (mitte, roller.id, "DR05-2407", 20, 12),
        (mitte, roller.id, "DR05-2501", 400, 40),
        (nord, roller.id, "DR05-2501", 400, 25),
        (mitte, cartridge.id, "PC12-2502", 300, 60),
        (nord, cartridge.id, "PC12-2502", 300, 20),
        (nord, deep_roller.id, "DR10-2409", 250, 4),
    ];
    for (clinic, product, lot, expires_in_days, quantity) in deliveries {
        app.receive_stock(
            admin,
            clinic,
            ReceiptRequest {
                product_id: Some(product),
                lot_number: Some(LotNumber::parse(lot)?),
                expiry: Some(today + Duration::days(expires_in_days)),
                quantity: Some(quantity),
                reference: Some(format!("DEMO-{lot}")),
                // Delivered three weeks ago, before the demo's sessions.
                received_at: Some(Utc::now() - Duration::days(21)),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await?;
    }
    Ok(Devices {
        roller: roller.id,
        cartridge: cartridge.id,
    })
}
