//! Receipts by fields and by GS1 string, refusing unknown GTINs and expired lots.

use chrono::Days;
use skinledger_app::products::NewProduct;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::{Error, IdempotencyKey};
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::balance;
use crate::clinical_support::{World, days_ago, failure, invalid_fields, today};
use crate::inventory_support::{
    add_product, assert_ledger_holds, balance_of, conflict_code, gtin, lot_no, roller,
};

skinledger_store::on_both_backends!(
    receipts_read_gs1_in_both_forms_and_refuse_unknown_gtins_and_expired_lots,
);

async fn receipts_read_gs1_in_both_forms_and_refuse_unknown_gtins_and_expired_lots(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let manager = w
        .staff(&w.org, "manager", Role::ClinicManager, clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let p = add_product(
        app,
        admin,
        NewProduct {
            gtin: Some(gtin("09506000134352")),
            ..roller("GS1 roller 1.0 mm", 1.0)
        },
    )
    .await;
    let expiry = today() + Days::new(400);
    let yymmdd = expiry.format("%y%m%d").to_string();
    let scan = |gs1: String| ReceiptRequest {
        gs1: Some(gs1),
        ..ReceiptRequest::default()
    };

    let bracketed = app
        .receive_stock(
            &manager,
            clinic,
            scan(format!("(01)09506000134352(17){yymmdd}(10)LOT-GS1(21)SN-1")),
            None,
        )
        .await
        .expect("bracketed form received");
    assert_eq!(bracketed.product_id, p.id);
    assert_eq!(bracketed.lot.lot_number, "LOT-GS1");
    assert_eq!(bracketed.lot.expiry, expiry);
    assert_eq!(bracketed.quantity, 1);
    assert_eq!(bracketed.serials, vec!["SN-1".to_owned()]);

    let raw = app
        .receive_stock(
            &manager,
            clinic,
            scan(format!(
                "]d2010950600013435217{yymmdd}10LOT-GS1\u{1d}21SN-2"
            )),
            None,
        )
        .await
        .expect("raw form received");
    assert_eq!(raw.lot.id, bracketed.lot.id);
    assert_eq!(raw.serials, vec!["SN-2".to_owned()]);
    assert_eq!(raw.balance, balance(2, 0, 0));

    // A carton: the box's string and a count; and the same lot typed in with a GTIN-13.
    let carton = app
        .receive_stock(
            &manager,
            clinic,
            ReceiptRequest {
                quantity: Some(5),
                ..scan(format!("\u{1d}0109506000134352\u{1d}17{yymmdd}10LOT-GS1"))
            },
            None,
        )
        .await
        .expect("carton received");
    assert_eq!(carton.balance, balance(7, 0, 0));
    let typed = app
        .receive_stock(
            &manager,
            clinic,
            ReceiptRequest {
                gtin: Some(gtin("9506000134352")),
                lot_number: Some(lot_no("LOT-GS1")),
                expiry: Some(expiry),
                quantity: Some(3),
                reference: Some("DN-2026-0042".into()),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await
        .expect("typed in");
    assert_eq!(typed.balance, balance(10, 0, 0));

    // An unknown GTIN is named, in the field it came in.
    let e = failure(
        app.receive_stock(
            &manager,
            clinic,
            scan(format!("(01)04006381333931(17){yymmdd}(10)X1")),
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["gs1"]);
    assert!(e.to_string().contains("gs1"), "{e}");
    match &e {
        Error::Invalid(errors) => assert!(errors.0[0].message.contains("04006381333931")),
        other => panic!("expected 422, got {other:?}"),
    }
    let e = failure(
        app.receive_stock(
            &manager,
            clinic,
            ReceiptRequest {
                gtin: Some(gtin("4006381333931")),
                lot_number: Some(lot_no("X1")),
                expiry: Some(expiry),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["gtin"]);
    // A mistyped check digit, and a string cut short.
    for bad in [
        format!("(01)09506000134353(17){yymmdd}(10)X1"),
        "(01)0950600013".to_owned(),
    ] {
        let e = failure(app.receive_stock(&manager, clinic, scan(bad), None).await);
        assert_eq!(invalid_fields(&e), vec!["gs1"]);
    }

    // An expired lot is refused in either form.
    let yesterday = days_ago(1);
    let e = failure(
        app.receive_stock(
            &manager,
            clinic,
            scan(format!(
                "(01)09506000134352(17){}(10)OLD",
                yesterday.format("%y%m%d")
            )),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_expired");
    let e = failure(
        app.receive_stock(
            &manager,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(lot_no("OLD")),
                expiry: Some(yesterday),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_expired");

    // A known lot number with another expiry, and fields beside a scan, are mistakes.
    let e = failure(
        app.receive_stock(
            &manager,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(lot_no("LOT-GS1")),
                expiry: Some(expiry + Days::new(1)),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["expiry"]);
    let e = failure(
        app.receive_stock(
            &manager,
            clinic,
            ReceiptRequest {
                lot_number: Some(lot_no("LOT-GS1")),
                ..scan(format!("(01)09506000134352(17){yymmdd}(10)LOT-GS1"))
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["lot_number"]);
    let e = failure(
        app.receive_stock(
            &manager,
            clinic,
            scan(format!("(01)09506000134352(17){yymmdd}(10)LOT-GS1(21)SN-1")),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "already_exists");

    // A retried scan with its Idempotency-Key is received once.
    let key = IdempotencyKey::parse("scan-7781").expect("a key");
    let request = scan(format!("(01)09506000134352(17){yymmdd}(10)LOT-GS1"));
    let first = app
        .receive_stock(&manager, clinic, request.clone(), Some(&key))
        .await
        .expect("received");
    let second = app
        .receive_stock(&manager, clinic, request, Some(&key))
        .await
        .expect("answered again");
    assert_eq!(first, second);
    assert_eq!(
        balance_of(app, admin, clinic, first.lot.id).await,
        balance(11, 0, 0)
    );

    // Every role sees stock; only managers receive.
    let e = failure(
        app.receive_stock(
            &nurse,
            clinic,
            scan(format!("(01)09506000134352(17){yymmdd}(10)LOT-GS1")),
            None,
        )
        .await,
    );
    assert_eq!(e.code(), "forbidden");
    let stock = app
        .get_clinic_stock(&nurse, clinic)
        .await
        .expect("stock readable");
    let line = stock
        .products
        .iter()
        .find(|l| l.product_id == p.id)
        .expect("product listed");
    assert_eq!(line.gtin.as_deref(), Some("09506000134352"));
    assert_eq!(line.total.on_hand, 11);
    assert_ledger_holds(app, admin, clinic).await;
}
