//! Consumption by treatments: first expiry first out, never below zero, a serial once, by depth.

use chrono::Days;
use futures::future::join_all;
use skinledger_app::PageParams;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::products::NewProduct;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::reports::ReportPeriod;
use skinledger_app::stock::{AdjustmentRequest, MovementQuery};
use skinledger_app::treatments::TreatmentChanges;
use skinledger_domain::inventory::{AdjustmentReason, MovementKind, ProductKind};
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support;
use crate::clinical_support::{World, days_ago, failure, invalid_fields, today};
use crate::inventory_support::{
    add_product, assert_ledger_holds, balance_of, conflict_code, eligible_client, lot_no, one_of,
    receive, roller, serial, set_expiry, treatment_using,
};
use crate::{balance, page, recall};

skinledger_store::on_both_backends!(
    fefo_takes_the_earliest_usable_lot_and_never_an_expired_or_recalled_one,
    fifty_units_and_two_hundred_concurrent_treatments_end_at_zero_without_overselling,
    a_serial_is_consumed_once_even_by_concurrent_treatments,
    a_treatment_needs_a_needle_device_labelled_for_its_depth_and_consumes_nothing_when_refused,
);

async fn fefo_takes_the_earliest_usable_lot_and_never_an_expired_or_recalled_one(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let p = add_product(app, admin, roller("FEFO roller 0.5 mm", 0.5)).await;
    let late = receive(
        app,
        admin,
        clinic,
        p.id,
        "LATE",
        today() + Days::new(200),
        5,
    )
    .await;
    let soon = receive(
        app,
        admin,
        clinic,
        p.id,
        "SOON",
        today() + Days::new(100),
        5,
    )
    .await;
    let recalled = receive(
        app,
        admin,
        clinic,
        p.id,
        "RECALLED",
        today() + Days::new(50),
        5,
    )
    .await;
    let expired = receive(
        app,
        admin,
        clinic,
        p.id,
        "EXPIRED",
        today() + Days::new(30),
        5,
    )
    .await;
    set_expiry(app, expired.lot.id, days_ago(1)).await;
    app.recall_lot(admin, recalled.lot.id, recall("maker notice"), None)
        .await
        .expect("recalled");

    let client = eligible_client(&w, &nurse, "Fay", "Fefo").await;
    let t = w
        .treat(&nurse, treatment_using(clinic, client, vec![one_of(p.id)]))
        .await;
    let used = t.clinical.clone().expect("consumables shown").consumables;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].lot_id, soon.lot.id);
    assert_eq!(used[0].lot_number, "SOON");
    assert_eq!(used[0].expiry, soon.lot.expiry);
    assert_eq!(used[0].product_id, p.id);
    assert_eq!(used[0].serial, None);
    assert_eq!(used[0].quantity, 1);
    assert_eq!(
        balance_of(app, admin, clinic, soon.lot.id).await,
        balance(4, 0, 0)
    );
    let read = app.get_treatment(&nurse, t.id).await.expect("readable");
    assert_eq!(read, t, "the answer to the write is what a read answers");
    assert_eq!(read.clinical.map(|c| c.consumables), Some(used));

    // Naming the expired or the recalled lot is refused, and no treatment is left behind.
    for (lot, code) in [
        (expired.lot.id, "lot_expired"),
        (recalled.lot.id, "lot_recalled"),
    ] {
        let client = eligible_client(&w, &nurse, "Named", "Lot").await;
        let named = ConsumableRequest {
            lot_id: Some(lot),
            ..one_of(p.id)
        };
        let e = failure(
            app.create_treatment(&nurse, treatment_using(clinic, client, vec![named]), None)
                .await,
        );
        assert_eq!(conflict_code(&e), code);
        let theirs = app
            .list_client_treatments(&nurse, client, &PageParams::default())
            .await
            .expect("listed");
        assert!(theirs.items.is_empty());
    }

    // Nine units span the two usable lots, first expiry first.
    let client = eligible_client(&w, &nurse, "Nina", "Units").await;
    let nine = ConsumableRequest {
        quantity: 9,
        ..one_of(p.id)
    };
    let t = w
        .treat(&nurse, treatment_using(clinic, client, vec![nine]))
        .await;
    let read = app.get_treatment(&nurse, t.id).await.expect("readable");
    assert_eq!(read, t, "the answer to the write is what a read answers");
    let taken: Vec<(String, i64)> = t
        .clinical
        .expect("consumables shown")
        .consumables
        .into_iter()
        .map(|u| (u.lot_number, u.quantity))
        .collect();
    assert_eq!(taken, vec![("SOON".to_owned(), 4), ("LATE".to_owned(), 5)]);
    assert_eq!(
        balance_of(app, admin, clinic, late.lot.id).await,
        balance(0, 0, 0)
    );

    // Only expired units are left on the shelf: that is what the refusal says.
    let client = eligible_client(&w, &nurse, "Ex", "Pired").await;
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(clinic, client, vec![one_of(p.id)]),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_expired");
    app.adjust_stock(
        admin,
        clinic,
        AdjustmentRequest {
            lot_id: expired.lot.id,
            quantity: -5,
            reason: AdjustmentReason::Expired,
            note: None,
        },
        None,
    )
    .await
    .expect("expired units disposed");
    // Only recalled units are left (in quarantine): the answer says so.
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(clinic, client, vec![one_of(p.id)]),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_recalled");
    assert_ledger_holds(app, admin, clinic).await;
}

async fn fifty_units_and_two_hundred_concurrent_treatments_end_at_zero_without_overselling(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let p = add_product(app, admin, roller("Race roller 0.5 mm", 0.5)).await;
    let r = receive(
        app,
        admin,
        clinic,
        p.id,
        "RACE",
        today() + Days::new(90),
        50,
    )
    .await;
    let mut clients = Vec::new();
    for i in 0..200 {
        clients.push(eligible_client(&w, &nurse, "Racer", &format!("No{i}")).await);
    }

    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let (app, nurse) = (app.clone(), nurse.clone());
            let new = treatment_using(clinic, *client, vec![one_of(p.id)]);
            tokio::spawn(async move { app.create_treatment(&nurse, new, None).await })
        })
        .collect();
    let (mut treated, mut refused) = (0, 0);
    for result in join_all(tasks).await {
        match result.expect("task ran") {
            Ok(_) => treated += 1,
            Err(e) => {
                assert_eq!(e.code(), "out_of_stock", "{e:?}");
                refused += 1;
            }
        }
    }
    assert_eq!((treated, refused), (50, 150));
    assert_eq!(
        balance_of(app, admin, clinic, r.lot.id).await,
        balance(0, 0, 0)
    );
    assert_ledger_holds(app, admin, clinic).await;
    let movements = app
        .list_movements(
            admin,
            clinic,
            &MovementQuery {
                lot_id: Some(r.lot.id),
            },
            &page(200),
        )
        .await
        .expect("movements listed");
    let consumptions = movements
        .items
        .iter()
        .filter(|m| m.kind == MovementKind::Consumption)
        .count();
    assert_eq!(consumptions, 50);
    let usage = app
        .usage_report(
            admin,
            &ReportPeriod {
                from: today(),
                to: today(),
                clinic_id: Some(clinic),
            },
        )
        .await
        .expect("usage");
    let ours: Vec<i64> = usage
        .iter()
        .filter(|l| l.product_id == p.id)
        .map(|l| l.units)
        .collect();
    assert_eq!(ours, vec![50]);
}

async fn a_serial_is_consumed_once_even_by_concurrent_treatments(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let p = add_product(app, admin, roller("Serial roller 0.5 mm", 0.5)).await;
    let r = app
        .receive_stock(
            admin,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(lot_no("SER-1")),
                expiry: Some(today() + Days::new(90)),
                serials: vec![serial("SN-0001"), serial("SN-0002"), serial("SN-0003")],
                ..ReceiptRequest::default()
            },
            None,
        )
        .await
        .expect("serials received");
    assert_eq!(r.quantity, 3);
    let with_serial = |s: &str| ConsumableRequest {
        serial: Some(serial(s)),
        ..one_of(p.id)
    };

    let mut clients = Vec::new();
    for i in 0..10 {
        clients.push(eligible_client(&w, &nurse, "Twin", &format!("No{i}")).await);
    }
    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let (app, nurse) = (app.clone(), nurse.clone());
            let new = treatment_using(clinic, *client, vec![with_serial("SN-0001")]);
            tokio::spawn(async move { app.create_treatment(&nurse, new, None).await })
        })
        .collect();
    let mut treated = Vec::new();
    for result in join_all(tasks).await {
        match result.expect("task ran") {
            Ok(t) => treated.push(t),
            Err(e) => assert_eq!(e.code(), "serial_already_used", "{e:?}"),
        }
    }
    assert_eq!(treated.len(), 1);
    let used = treated[0]
        .clinical
        .clone()
        .expect("consumables shown")
        .consumables;
    assert_eq!(used[0].serial.as_deref(), Some("SN-0001"));
    assert_eq!(used[0].lot_id, r.lot.id);
    assert_eq!(
        balance_of(app, admin, clinic, r.lot.id).await,
        balance(2, 0, 0)
    );

    // Later, and under another lot id, it is still used.
    let client = eligible_client(&w, &nurse, "Late", "Comer").await;
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(clinic, client, vec![with_serial("SN-0001")]),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "serial_already_used");

    // A serial never received, for a lot received with serials, is refused and consumes
    // nothing, also when twenty requests name it at once.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, nurse) = (app.clone(), nurse.clone());
            let new = treatment_using(clinic, client, vec![with_serial("SN-9999")]);
            tokio::spawn(async move { app.create_treatment(&nurse, new, None).await })
        })
        .collect();
    for result in join_all(tasks).await {
        let e = failure(result.expect("task ran"));
        assert_eq!(conflict_code(&e), "unknown_serial");
    }
    assert_eq!(
        balance_of(app, admin, clinic, r.lot.id).await,
        balance(2, 0, 0)
    );
    let again = eligible_client(&w, &nurse, "Again", "Nine").await;

    // One serial twice in one request is a mistake in the request.
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(
                clinic,
                again,
                vec![with_serial("SN-0002"), with_serial("SN-0002")],
            ),
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["consumables[1].serial"]);

    // Receiving a known serial again is refused.
    let e = failure(
        app.receive_stock(
            admin,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(lot_no("SER-1")),
                expiry: Some(today() + Days::new(90)),
                serials: vec![serial("SN-0003")],
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "already_exists");
    assert_ledger_holds(app, admin, clinic).await;
}

async fn a_treatment_needs_a_needle_device_labelled_for_its_depth_and_consumes_nothing_when_refused(
    db: Db,
) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let shallow = add_product(app, admin, roller("Shallow roller 0.5 mm", 0.5)).await;
    let cream = add_product(
        app,
        admin,
        NewProduct {
            kind: ProductKind::Other,
            needle_length_mm: None,
            needle_count: None,
            ..roller("Numbing cream", 0.5)
        },
    )
    .await;
    assert!(!cream.single_use);
    let lot = receive(
        app,
        admin,
        clinic,
        shallow.id,
        "SH-1",
        today() + Days::new(90),
        5,
    )
    .await
    .lot
    .id;
    receive(
        app,
        admin,
        clinic,
        cream.id,
        "CR-1",
        today() + Days::new(90),
        5,
    )
    .await;
    let client = eligible_client(&w, &nurse, "Dee", "Pth").await;

    let e = failure(
        app.create_treatment(&nurse, treatment_using(clinic, client, Vec::new()), None)
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["consumables"]);
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(clinic, client, vec![one_of(cream.id)]),
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["consumables"]);
    let deeper = skinledger_app::treatments::NewTreatment {
        needle_depth_mm: clinical_support::mm(1.0),
        ..treatment_using(clinic, client, vec![one_of(cream.id), one_of(shallow.id)])
    };
    let e = failure(app.create_treatment(&nurse, deeper, None).await);
    assert_eq!(
        invalid_fields(&e),
        vec!["needle_depth_mm", "consumables[1]"]
    );
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(
                clinic,
                client,
                vec![ConsumableRequest {
                    quantity: 0,
                    ..one_of(shallow.id)
                }],
            ),
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["consumables[0].quantity"]);
    let none = app
        .list_client_treatments(&nurse, client, &PageParams::default())
        .await
        .expect("listed");
    assert!(none.items.is_empty());
    assert_eq!(balance_of(app, admin, clinic, lot).await, balance(5, 0, 0));

    // Refused for another reason after the units were taken: they are not gone either.
    let unscreened = w.client(&nurse, "Un", "Screened").await;
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(clinic, unscreened.id, vec![one_of(shallow.id)]),
            None,
        )
        .await,
    );
    assert_eq!(e.code(), "no_valid_screening");
    let t = w
        .treat(
            &nurse,
            treatment_using(clinic, client, vec![one_of(cream.id), one_of(shallow.id)]),
        )
        .await;
    assert_eq!(t.clinical.expect("consumables shown").consumables.len(), 2);
    assert_eq!(balance_of(app, admin, clinic, lot).await, balance(4, 0, 0));

    // A draft's depth is never corrected beyond the device used.
    let e = failure(
        app.update_treatment(
            &nurse,
            t.id,
            TreatmentChanges {
                needle_depth_mm: Some(clinical_support::mm(0.75)),
                ..TreatmentChanges::default()
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["needle_depth_mm"]);
    assert_ledger_holds(app, admin, clinic).await;
}
