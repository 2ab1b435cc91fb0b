//! Adjustments and stocktakes: never below zero, each difference corrected once.

use chrono::Days;
use skinledger_app::stock::{AdjustmentRequest, MovementQuery, StockCount, StocktakeRequest};
use skinledger_domain::inventory::AdjustmentReason;
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support::{World, failure, invalid_fields, today};
use crate::inventory_support::{
    add_product, assert_ledger_holds, balance_of, conflict_code, receive, roller,
};
use crate::{balance, page, recall};

skinledger_store::on_both_backends!(
    adjustments_and_stocktakes_never_go_below_zero_and_correct_each_difference_once,
);

async fn adjustments_and_stocktakes_never_go_below_zero_and_correct_each_difference_once(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let manager = w
        .staff(&w.org, "manager", Role::ClinicManager, clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let p = add_product(app, admin, roller("Counted roller 0.5 mm", 0.5)).await;
    let one = receive(
        app,
        admin,
        clinic,
        p.id,
        "CNT-1",
        today() + Days::new(90),
        10,
    )
    .await
    .lot
    .id;
    let two = receive(
        app,
        admin,
        clinic,
        p.id,
        "CNT-2",
        today() + Days::new(120),
        4,
    )
    .await
    .lot
    .id;
    let adjust = |lot, quantity, reason| AdjustmentRequest {
        lot_id: lot,
        quantity,
        reason,
        note: Some("dropped on the floor".into()),
    };

    let damaged = app
        .adjust_stock(
            &manager,
            clinic,
            adjust(one, -3, AdjustmentReason::Damaged),
            None,
        )
        .await
        .expect("adjusted");
    assert_eq!(damaged.balance, balance(7, 0, 0));
    assert_eq!(damaged.bucket, "on_hand");
    let e = failure(
        app.adjust_stock(
            &manager,
            clinic,
            adjust(one, -8, AdjustmentReason::Lost),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "out_of_stock");
    let e = failure(
        app.adjust_stock(
            &manager,
            clinic,
            adjust(one, 2, AdjustmentReason::Damaged),
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["quantity"]);
    let e = failure(
        app.adjust_stock(
            &manager,
            clinic,
            adjust(one, 0, AdjustmentReason::Lost),
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["quantity"]);
    let e = failure(
        app.adjust_stock(
            &nurse,
            clinic,
            adjust(one, -1, AdjustmentReason::Lost),
            None,
        )
        .await,
    );
    assert_eq!(e.code(), "forbidden");
    app.adjust_stock(
        &manager,
        clinic,
        adjust(one, 1, AdjustmentReason::CountCorrection),
        None,
    )
    .await
    .expect("found one");
    assert_eq!(balance_of(app, admin, clinic, one).await, balance(8, 0, 0));

    // A stocktake: lot one matches, lot two is short by one; one correction results.
    let take = app
        .record_stocktake(
            &manager,
            clinic,
            StocktakeRequest {
                counts: vec![
                    StockCount {
                        lot_id: one,
                        counted: 8,
                    },
                    StockCount {
                        lot_id: two,
                        counted: 3,
                    },
                ],
                note: Some("monthly count".into()),
            },
            None,
        )
        .await
        .expect("counted");
    assert_eq!(take.lots_counted, 2);
    assert_eq!(take.adjustments.len(), 1);
    assert_eq!(take.adjustments[0].lot_id, two);
    assert_eq!(take.adjustments[0].quantity, -1);
    assert_eq!(
        take.adjustments[0].reason,
        AdjustmentReason::CountCorrection
    );
    assert_eq!(balance_of(app, admin, clinic, two).await, balance(3, 0, 0));
    let e = failure(
        app.record_stocktake(
            &manager,
            clinic,
            StocktakeRequest {
                counts: vec![
                    StockCount {
                        lot_id: one,
                        counted: 1,
                    },
                    StockCount {
                        lot_id: one,
                        counted: 2,
                    },
                ],
                note: None,
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["counts[1].lot_id"]);

    // A recalled lot's units are counted and disposed of in quarantine.
    app.recall_lot(admin, two, recall("maker notice"), None)
        .await
        .expect("recalled");
    let disposed = app
        .adjust_stock(
            &manager,
            clinic,
            adjust(two, -3, AdjustmentReason::Disposed),
            None,
        )
        .await
        .expect("disposed");
    assert_eq!(disposed.bucket, "quarantined");
    assert_eq!(disposed.balance, balance(0, 0, 0));

    let reasons: Vec<Option<String>> = app
        .list_movements(
            &nurse,
            clinic,
            &MovementQuery { lot_id: Some(one) },
            &page(50),
        )
        .await
        .expect("listed")
        .items
        .iter()
        .map(|m| m.reason.clone())
        .collect();
    assert_eq!(
        reasons,
        vec![
            None,
            Some(AdjustmentReason::Damaged.to_string()),
            Some(AdjustmentReason::CountCorrection.to_string())
        ]
    );
    assert_ledger_holds(app, admin, clinic).await;
}
