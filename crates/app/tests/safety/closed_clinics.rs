//! A closed clinic refuses every write with clinic_inactive and still answers reads.

use chrono::Days;
use skinledger_app::clinics::ClinicChanges;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support::{World, failure, today, treatment};
use crate::dropped;
use crate::inventory_support;
use crate::inventory_support::{eligible_client, receive, roller};

skinledger_store::on_both_backends!(
    every_write_at_a_closed_clinic_answers_clinic_inactive_and_reads_still_work,
);

async fn every_write_at_a_closed_clinic_answers_clinic_inactive_and_reads_still_work(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let client = eligible_client(&w, &nurse, "Closed", "Door").await;
    let p = inventory_support::add_product(app, admin, roller("Door roller 0.5 mm", 0.5)).await;
    let r = receive(
        app,
        admin,
        clinic,
        p.id,
        "DOOR-1",
        today() + Days::new(90),
        5,
    )
    .await;
    app.update_clinic(
        admin,
        clinic,
        ClinicChanges {
            active: Some(false),
            ..ClinicChanges::default()
        },
    )
    .await
    .expect("clinic closed");

    let treat = failure(
        app.create_treatment(&nurse, treatment(clinic, client, 0.5, today()), None)
            .await,
    );
    let receipt = failure(
        app.receive_stock(
            admin,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(inventory_support::lot_no("DOOR-2")),
                expiry: Some(today() + Days::new(90)),
                quantity: Some(1),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    let adjust = failure(
        app.adjust_stock(
            admin,
            clinic,
            skinledger_app::stock::AdjustmentRequest {
                lot_id: r.lot.id,
                quantity: -1,
                reason: skinledger_domain::inventory::AdjustmentReason::Damaged,
                note: None,
            },
            None,
        )
        .await,
    );
    let stocktake = failure(
        app.record_stocktake(
            admin,
            clinic,
            skinledger_app::stock::StocktakeRequest {
                counts: vec![skinledger_app::stock::StockCount {
                    lot_id: r.lot.id,
                    counted: 4,
                }],
                note: None,
            },
            None,
        )
        .await,
    );
    let transfer_in = failure(
        app.send_transfer(
            admin,
            skinledger_app::transfers::NewTransfer {
                from_clinic_id: w.org.other_clinic,
                to_clinic_id: clinic,
                lines: vec![skinledger_app::transfers::TransferLineRequest {
                    lot_id: r.lot.id,
                    quantity: 1,
                    serials: vec![],
                }],
                note: None,
            },
            None,
        )
        .await,
    );
    let disposal = failure(
        app.record_disposal(&nurse, clinic, dropped(r.lot.id, None), None)
            .await,
    );
    for (what, e) in [
        ("treatment", treat),
        ("receipt", receipt),
        ("adjustment", adjust),
        ("stocktake", stocktake),
        ("transfer in", transfer_in),
        ("disposal", disposal),
    ] {
        assert_eq!(e.code(), "clinic_inactive", "{what}");
    }
    // Reads still work.
    app.get_clinic_stock(admin, clinic)
        .await
        .expect("stock readable");
    let seen = app
        .get_clinic(admin, clinic)
        .await
        .expect("clinic readable");
    assert!(!seen.active);
    inventory_support::assert_ledger_holds(app, admin, clinic).await;
}
