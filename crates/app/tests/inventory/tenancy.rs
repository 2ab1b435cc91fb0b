//! Another organisation's products, lots, stock and transfers are not found.

use chrono::Days;
use skinledger_app::Error;
use skinledger_app::products::ProductChanges;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::stock::{AdjustmentRequest, MovementQuery, StockCount, StocktakeRequest};
use skinledger_app::transfers::TransferQuery;
use skinledger_domain::inventory::AdjustmentReason;
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support::{World, failure, today};
use crate::inventory_support::{
    add_product, balance_of, eligible_client, lot_no, one_of, receive, roller, treatment_using,
};
use crate::{balance, page, recall, transfer};

skinledger_store::on_both_backends!(
    another_organisations_products_lots_stock_and_transfers_are_not_found,
);

async fn another_organisations_products_lots_stock_and_transfers_are_not_found(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let p = add_product(app, admin, roller("Home roller 0.5 mm", 0.5)).await;
    let r = receive(
        app,
        admin,
        clinic,
        p.id,
        "HOME-1",
        today() + Days::new(90),
        5,
    )
    .await;
    let lot = r.lot.id;
    let t = app
        .send_transfer(admin, transfer(clinic, w.org.other_clinic, lot, 1), None)
        .await
        .expect("sent");

    let other = w.other_org("elsewhere").await;
    let manager = w
        .staff(&other, "manager", Role::ClinicManager, other.clinic)
        .await;
    for actor in [&other.admin, &manager] {
        let errors = vec![
            failure(app.get_product(actor, p.id).await),
            failure(
                app.update_product(actor, p.id, ProductChanges::default(), None)
                    .await,
            ),
            failure(app.get_lot(actor, lot).await),
            failure(app.get_clinic_stock(actor, clinic).await),
            failure(
                app.list_movements(actor, clinic, &MovementQuery::default(), &page(10))
                    .await,
            ),
            failure(
                app.receive_stock(
                    actor,
                    clinic,
                    ReceiptRequest {
                        product_id: Some(p.id),
                        lot_number: Some(lot_no("X")),
                        expiry: Some(today() + Days::new(9)),
                        ..ReceiptRequest::default()
                    },
                    None,
                )
                .await,
            ),
            failure(
                app.receive_stock(
                    actor,
                    other.clinic,
                    ReceiptRequest {
                        product_id: Some(p.id),
                        lot_number: Some(lot_no("X")),
                        expiry: Some(today() + Days::new(9)),
                        ..ReceiptRequest::default()
                    },
                    None,
                )
                .await,
            ),
            failure(
                app.adjust_stock(
                    actor,
                    other.clinic,
                    AdjustmentRequest {
                        lot_id: lot,
                        quantity: -1,
                        reason: AdjustmentReason::Lost,
                        note: None,
                    },
                    None,
                )
                .await,
            ),
            failure(
                app.record_stocktake(
                    actor,
                    other.clinic,
                    StocktakeRequest {
                        counts: vec![StockCount {
                            lot_id: lot,
                            counted: 0,
                        }],
                        note: None,
                    },
                    None,
                )
                .await,
            ),
            failure(
                app.send_transfer(
                    actor,
                    transfer(other.clinic, other.other_clinic, lot, 1),
                    None,
                )
                .await,
            ),
            failure(app.get_transfer(actor, t.id).await),
            failure(app.receive_transfer(actor, t.id, None).await),
            failure(app.cancel_transfer(actor, t.id, None).await),
            failure(app.recall_lot(actor, lot, recall("not ours"), None).await),
            failure(app.trace_lot(actor, lot).await),
        ];
        for (i, e) in errors.into_iter().enumerate() {
            assert!(matches!(e, Error::NotFound(_)), "call {i}: {e:?}");
        }
    }
    // Their practitioner cannot consume our product either.
    let nurse = w.staff(&other, "nurse", Role::Nurse, other.clinic).await;
    let client = eligible_client(&w, &nurse, "Their", "Client").await;
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(other.clinic, client, vec![one_of(p.id)]),
            None,
        )
        .await,
    );
    assert!(matches!(e, Error::NotFound("product")), "{e:?}");

    let products = app
        .list_products(&other.admin, &Default::default(), &page(200))
        .await
        .expect("listed");
    assert!(products.items.iter().all(|item| item.id != p.id));
    let transfers = app
        .list_transfers(&other.admin, &TransferQuery::default(), &page(200))
        .await
        .expect("listed");
    assert!(transfers.items.is_empty());
    let expiring = app
        .expiring_report(&other.admin, Some(3650))
        .await
        .expect("report");
    assert!(expiring.iter().all(|l| l.lot_id != lot));
    // Our stock is untouched.
    assert_eq!(balance_of(app, admin, clinic, lot).await, balance(4, 0, 1));
}
