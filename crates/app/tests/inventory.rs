//! The inventory of single-use devices through the app layer: products, receipts by fields and
//! by GS1 string, consumption by treatments (first expiry first out, never expired, recalled,
//! below zero or a serial twice), transfers, adjustments and stocktakes, recalls with their
//! trace, reports, tenant isolation, and the ledger that every balance is the sum of. Every
//! scenario runs on SQLite and on PostgreSQL; the property test runs on SQLite.

#![expect(clippy::expect_used, reason = "tests")]

pub mod clinical_support;
pub mod inventory_support;

use std::collections::BTreeSet;

use chrono::Days;
use clinical_support::{World, days_ago, failure, invalid_fields, new_client, today};
use futures::future::join_all;
use inventory_support::{
    add_product, assert_ledger_holds, balance_of, conflict_code, eligible_client, gtin, lot_no,
    one_of, receive, roller, serial, set_expiry, treatment_using,
};
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::lots::Balance;
use skinledger_app::products::{
    ClinicReorderPoint, ClinicReorderPointChange, NewProduct, ProductChanges,
};
use skinledger_app::recalls::{RecallRequest, trace_csv};
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::reports::ReportPeriod;
use skinledger_app::stock::{AdjustmentRequest, MovementQuery, StockCount, StocktakeRequest};
use skinledger_app::transfers::{NewTransfer, TransferLineRequest, TransferQuery};
use skinledger_app::treatments::TreatmentChanges;
use skinledger_app::{Error, IdempotencyKey, PageParams};
use skinledger_domain::inventory::{
    AdjustmentReason, LotStatus, MovementKind, ProductKind, TransferStatus,
};
use skinledger_domain::role::Role;
use skinledger_store::Db;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    fefo_takes_the_earliest_usable_lot_and_never_an_expired_or_recalled_one,
    fifty_units_and_two_hundred_concurrent_treatments_end_at_zero_without_overselling,
    a_serial_is_consumed_once_even_by_concurrent_treatments,
    a_recall_quarantines_every_clinics_stock_and_the_trace_names_every_client,
    another_organisations_products_lots_stock_and_transfers_are_not_found,
    receipts_read_gs1_in_both_forms_and_refuse_unknown_gtins_and_expired_lots,
    transfers_move_stock_in_two_steps_and_only_the_receiving_clinic_receives,
    adjustments_and_stocktakes_never_go_below_zero_and_correct_each_difference_once,
    a_treatment_needs_a_needle_device_labelled_for_its_depth_and_consumes_nothing_when_refused,
    products_are_validated_and_reports_show_low_stock_expiring_lots_and_usage,
    consumptions_recorded_before_they_carried_who_and_when_are_filled_in_and_traced_alike,
);

fn recall(reason: &str) -> RecallRequest {
    RecallRequest {
        reason: reason.into(),
    }
}

fn page(limit: u64) -> PageParams {
    PageParams {
        limit: Some(limit),
        cursor: None,
    }
}

fn transfer(from: Uuid, to: Uuid, lot: Uuid, quantity: u32) -> NewTransfer {
    NewTransfer {
        from_clinic_id: from,
        to_clinic_id: to,
        lines: vec![TransferLineRequest {
            lot_id: lot,
            quantity,
            serials: vec![],
        }],
        note: None,
    }
}

fn balance(on_hand: i64, quarantined: i64, in_transit_out: i64) -> Balance {
    Balance {
        on_hand,
        quarantined,
        in_transit_out,
    }
}

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

async fn a_recall_quarantines_every_clinics_stock_and_the_trace_names_every_client(db: Db) {
    let mut w = World::new(db).await;
    let app = w.app.clone();
    let admin = w.org.admin.clone();
    let (a, b) = (w.org.clinic, w.org.other_clinic);
    let nurse_a = w.staff(&w.org, "nora", Role::Nurse, a).await;
    let nurse_b = w.staff(&w.org, "nils", Role::Nurse, b).await;
    let manager_a = w.staff(&w.org, "mia", Role::ClinicManager, a).await;
    let p = add_product(&app, &admin, roller("Recall roller 1.0 mm", 1.0)).await;
    let bad_a = receive(&app, &admin, a, p.id, "R-BAD", today() + Days::new(120), 10).await;
    let bad_b = receive(&app, &admin, b, p.id, "R-BAD", today() + Days::new(120), 6).await;
    assert_eq!(bad_a.lot.id, bad_b.lot.id, "one lot number is one lot");
    let lot = bad_a.lot.id;
    let good = receive(&app, &admin, a, p.id, "R-GOOD", today() + Days::new(200), 5).await;

    let mut clients = Vec::new();
    for (first, last, clinic, nurse) in [
        ("Anna", "Berg", a, &nurse_a),
        ("Ben", "Smith, Jr.", a, &nurse_a),
        ("Cleo", "Nord", b, &nurse_b),
    ] {
        let client = app
            .create_client(
                nurse,
                skinledger_app::clients::NewClient {
                    phone: Some(format!("+49 30 {}", 1000 + clients.len())),
                    email: Some(format!("{}@example.test", first.to_lowercase())),
                    ..new_client(first, last)
                },
                None,
            )
            .await
            .expect("client registered");
        w.screening(
            nurse,
            client.id,
            today(),
            skinledger_domain::screening::ScreeningAnswers::default(),
        )
        .await;
        let t = w
            .treat(
                nurse,
                treatment_using(clinic, client.id, vec![one_of(p.id)]),
            )
            .await;
        assert_eq!(
            t.clinical.expect("consumables shown").consumables[0].lot_id,
            lot
        );
        clients.push((client.id, t.id, clinic));
    }
    let in_transit = app
        .send_transfer(&manager_a, transfer(a, b, lot, 2), None)
        .await
        .expect("sent");

    let e = failure(
        app.recall_lot(&manager_a, lot, recall("sterility"), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let done = app
        .recall_lot(&admin, lot, recall("maker notice 2026-17: sterility"), None)
        .await
        .expect("recalled");
    assert_eq!(done.lot.lot.status, LotStatus::Recalled);
    let quarantined: BTreeSet<(Uuid, i64)> = done
        .quarantined
        .iter()
        .map(|q| (q.clinic_id, q.quantity))
        .collect();
    assert_eq!(quarantined, BTreeSet::from([(a, 6), (b, 5)]));
    assert_eq!(balance_of(&app, &admin, a, lot).await, balance(0, 6, 2));
    assert_eq!(balance_of(&app, &admin, b, lot).await, balance(0, 5, 0));
    assert_eq!(
        balance_of(&app, &admin, a, good.lot.id).await,
        balance(5, 0, 0)
    );

    // Units in transit arrive in quarantine.
    app.receive_transfer(&admin, in_transit.id, None)
        .await
        .expect("received");
    assert_eq!(balance_of(&app, &admin, a, lot).await, balance(0, 6, 0));
    assert_eq!(balance_of(&app, &admin, b, lot).await, balance(0, 7, 0));

    // The lot is never consumed, received or recalled again.
    let client = eligible_client(&w, &nurse_a, "After", "Recall").await;
    let named = ConsumableRequest {
        lot_id: Some(lot),
        ..one_of(p.id)
    };
    let e = failure(
        app.create_treatment(&nurse_a, treatment_using(a, client, vec![named]), None)
            .await,
    );
    assert_eq!(conflict_code(&e), "lot_recalled");
    let t = w
        .treat(&nurse_a, treatment_using(a, client, vec![one_of(p.id)]))
        .await;
    assert_eq!(
        t.clinical.expect("consumables shown").consumables[0].lot_id,
        good.lot.id
    );
    let e = failure(
        app.receive_stock(
            &admin,
            a,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(lot_no("R-BAD")),
                expiry: Some(today() + Days::new(120)),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_recalled");
    let e = failure(app.recall_lot(&admin, lot, recall("again"), None).await);
    assert_eq!(conflict_code(&e), "lot_recalled");

    // The trace names every client the lot touched.
    let trace = app.trace_lot(&admin, lot).await.expect("traced");
    assert_eq!(trace.lot.status, LotStatus::Recalled);
    assert_eq!(trace.treatments.len(), 3);
    let named: BTreeSet<(Uuid, Uuid, Uuid)> = trace
        .treatments
        .iter()
        .map(|t| (t.client_id, t.treatment_id, t.clinic_id))
        .collect();
    assert_eq!(named, clients.iter().copied().collect());
    let anna = &trace.treatments[0];
    assert_eq!(anna.client_name, "Anna Berg");
    assert_eq!(anna.email.as_deref(), Some("anna@example.test"));
    assert_eq!(anna.phone.as_deref(), Some("+49 30 1000"));
    assert_eq!(anna.clinic_name, "Mitte");
    assert_eq!(anna.practitioner_name, "nora");
    assert_eq!(trace.treatments[2].clinic_name, "Nord");
    assert_eq!(trace.treatments[2].practitioner_name, "nils");

    let csv = trace_csv(&trace, false).expect("written");
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        "treatment_id,performed_at,clinic_id,clinic_name,client_id,client_name,phone,email,\
         practitioner_id,practitioner_name,lot_number,serial,quantity"
    );
    assert!(lines[1].contains(",Anna Berg,'+49 30 1000,anna@example.test,"));
    assert!(lines[2].contains(",\"Ben Smith, Jr.\","));
    assert!(lines[3].ends_with(",R-BAD,,1"));

    // A clinic manager traces their own clinic's treatments; a nurse does not trace.
    let theirs = app.trace_lot(&manager_a, lot).await.expect("traced");
    assert_eq!(theirs.treatments.len(), 2);
    assert!(theirs.treatments.iter().all(|t| t.clinic_id == a));
    let e = failure(app.trace_lot(&nurse_a, lot).await);
    assert_eq!(e.code(), "forbidden");

    assert_ledger_holds(&app, &admin, a).await;
    assert_ledger_holds(&app, &admin, b).await;
    let log = w.audit_log().await;
    assert!(
        log.iter()
            .any(|e| e.action == "lot.recall" && e.entity_id == Some(lot))
    );
    assert!(
        log.iter()
            .any(|e| e.action == "lot.trace" && e.client_id == Some(clients[2].0))
    );
}

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

async fn transfers_move_stock_in_two_steps_and_only_the_receiving_clinic_receives(db: Db) {
    let w = World::new(db).await;
    let (app, admin) = (&w.app, &w.org.admin);
    let (a, b) = (w.org.clinic, w.org.other_clinic);
    let manager_a = w.staff(&w.org, "manager_a", Role::ClinicManager, a).await;
    let manager_b = w.staff(&w.org, "manager_b", Role::ClinicManager, b).await;
    let nurse_b = w.staff(&w.org, "nurse_b", Role::Nurse, b).await;
    let p = add_product(app, admin, roller("Travel roller 0.5 mm", 0.5)).await;
    let lot = receive(app, admin, a, p.id, "TRAVEL", today() + Days::new(90), 10)
        .await
        .lot
        .id;

    let e = failure(
        app.send_transfer(&manager_b, transfer(a, b, lot, 1), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let e = failure(
        app.send_transfer(&manager_a, transfer(a, a, lot, 1), None)
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["to_clinic_id"]);
    let e = failure(
        app.send_transfer(&manager_a, transfer(a, b, lot, 11), None)
            .await,
    );
    assert_eq!(conflict_code(&e), "out_of_stock");

    let first = app
        .send_transfer(&manager_a, transfer(a, b, lot, 4), None)
        .await
        .expect("sent");
    assert_eq!(first.status, TransferStatus::InTransit);
    assert_eq!(first.lines[0].lot_number, "TRAVEL");
    assert_eq!(balance_of(app, admin, a, lot).await, balance(6, 0, 4));

    // Only the receiving clinic's managers (or org_admin) confirm receipt.
    for actor in [&manager_a, &nurse_b] {
        let e = failure(app.receive_transfer(actor, first.id, None).await);
        assert_eq!(e.code(), "forbidden");
    }
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (app, manager) = (app.clone(), manager_b.clone());
            tokio::spawn(async move { app.receive_transfer(&manager, first.id, None).await })
        })
        .collect();
    let mut received = 0;
    for result in join_all(tasks).await {
        match result.expect("task ran") {
            Ok(t) => {
                assert_eq!(t.status, TransferStatus::Received);
                assert!(t.received_at.is_some());
                received += 1;
            }
            Err(e) => assert_eq!(conflict_code(&e), "already_received"),
        }
    }
    assert_eq!(received, 1);
    assert_eq!(balance_of(app, admin, a, lot).await, balance(6, 0, 0));
    assert_eq!(balance_of(app, admin, b, lot).await, balance(4, 0, 0));
    let e = failure(app.cancel_transfer(&manager_a, first.id, None).await);
    assert_eq!(conflict_code(&e), "already_received");

    // Cancelled before receipt, the units return; a cancelled transfer stays cancelled.
    let second = app
        .send_transfer(&manager_a, transfer(a, b, lot, 3), None)
        .await
        .expect("sent");
    assert_eq!(balance_of(app, admin, a, lot).await, balance(3, 0, 3));
    let e = failure(app.cancel_transfer(&manager_b, second.id, None).await);
    assert_eq!(e.code(), "forbidden");
    let cancelled = app
        .cancel_transfer(&manager_a, second.id, None)
        .await
        .expect("cancelled");
    assert_eq!(cancelled.status, TransferStatus::Cancelled);
    assert_eq!(balance_of(app, admin, a, lot).await, balance(6, 0, 0));
    let e = failure(app.cancel_transfer(&manager_a, second.id, None).await);
    assert_eq!(conflict_code(&e), "already_cancelled");
    let e = failure(app.receive_transfer(&manager_b, second.id, None).await);
    assert_eq!(conflict_code(&e), "already_cancelled");

    // The receiving clinic may use what it received.
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, b).await;
    let client = eligible_client(&w, &nurse, "Bea", "Nord").await;
    let t = w
        .treat(&nurse, treatment_using(b, client, vec![one_of(p.id)]))
        .await;
    assert_eq!(
        t.clinical.expect("consumables shown").consumables[0].lot_id,
        lot
    );

    let listed = app
        .list_transfers(&nurse_b, &TransferQuery::default(), &page(1))
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].id, first.id);
    let rest = app
        .list_transfers(
            &nurse_b,
            &TransferQuery::default(),
            &PageParams {
                limit: Some(1),
                cursor: listed.next_cursor.clone(),
            },
        )
        .await
        .expect("listed");
    assert_eq!(rest.items[0].id, second.id);
    let only_cancelled = app
        .list_transfers(
            &manager_a,
            &TransferQuery {
                clinic_id: Some(a),
                status: Some(TransferStatus::Cancelled),
            },
            &page(50),
        )
        .await
        .expect("listed");
    assert_eq!(only_cancelled.items.len(), 1);
    assert_eq!(
        app.get_transfer(&nurse_b, second.id)
            .await
            .expect("readable")
            .cancelled_by,
        manager_a.staff_id()
    );

    let kinds: Vec<MovementKind> = app
        .list_movements(&manager_a, a, &MovementQuery::default(), &page(50))
        .await
        .expect("listed")
        .items
        .iter()
        .filter(|m| m.lot_id == lot)
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            MovementKind::Receipt,
            MovementKind::TransferOut,
            MovementKind::TransferIn,
            MovementKind::TransferOut,
            MovementKind::TransferCancel,
        ]
    );
    assert_ledger_holds(app, admin, a).await;
    assert_ledger_holds(app, admin, b).await;
}

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

async fn products_are_validated_and_reports_show_low_stock_expiring_lots_and_usage(db: Db) {
    let w = World::new(db).await;
    let (app, admin) = (&w.app, &w.org.admin);
    let (a, b) = (w.org.clinic, w.org.other_clinic);
    let manager_a = w.staff(&w.org, "manager", Role::ClinicManager, a).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, a).await;

    let e = failure(
        app.create_product(
            admin,
            NewProduct {
                needle_length_mm: None,
                single_use: Some(false),
                gtin: None,
                ..roller("Half a roller", 0.5)
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["needle_length_mm", "single_use"]);
    let e = failure(
        app.create_product(
            admin,
            NewProduct {
                max_depth_mm: Some(clinical_support::mm(1.0)),
                ..roller("Overlabelled", 0.5)
            },
            None,
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["max_depth_mm"]);
    let e = failure(
        app.create_product(&nurse, roller("Nurse's", 0.5), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    let e = failure(
        app.create_product(&manager_a, roller("Manager's", 0.5), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let low = add_product(
        app,
        admin,
        NewProduct {
            gtin: Some(gtin("4006381333931")),
            reorder_point: Some(10),
            ..roller("Low roller 0.5 mm", 0.5)
        },
    )
    .await;
    let e = failure(
        app.create_product(
            admin,
            NewProduct {
                gtin: Some(gtin("04006381333931")),
                ..roller("Same GTIN", 0.5)
            },
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "already_exists");
    // A manager sets their own clinic's reorder point, never another clinic's.
    let override_at = |clinic, point| ProductChanges {
        clinic_reorder_points: Some(vec![ClinicReorderPointChange {
            clinic_id: clinic,
            reorder_point: point,
        }]),
        ..ProductChanges::default()
    };
    let e = failure(
        app.update_product(&manager_a, low.id, override_at(b, Some(2)), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    // What is safe at every clinic is the organisation's to say: a manager changes neither the
    // labelled maximum depth nor anything else of the catalogue, even with their own point.
    for changes in [
        ProductChanges {
            max_depth_mm: Some(clinical_support::mm(0.25)),
            ..ProductChanges::default()
        },
        ProductChanges {
            needle_length_mm: Some(clinical_support::mm(2.0)),
            ..override_at(a, Some(4))
        },
        ProductChanges {
            reorder_point: Some(1),
            ..ProductChanges::default()
        },
    ] {
        let e = failure(app.update_product(&manager_a, low.id, changes, None).await);
        assert_eq!(e.code(), "forbidden");
    }
    let mine = app
        .update_product(&manager_a, low.id, override_at(a, Some(4)), None)
        .await
        .expect("a manager sets their own clinic's reorder point");
    assert_eq!(
        mine.clinic_reorder_points,
        vec![ClinicReorderPoint {
            clinic_id: a,
            reorder_point: 4
        }]
    );
    assert_eq!(mine.max_depth_mm, low.max_depth_mm);
    let low = app
        .update_product(admin, low.id, override_at(a, None), None)
        .await
        .expect("back to the organisation's point");
    let changed = app
        .update_product(admin, low.id, override_at(b, Some(2)), Some(low.version))
        .await
        .expect("changed");
    assert_eq!(changed.clinic_reorder_points.len(), 1);
    assert_eq!(changed.version, low.version + 1);
    let e = failure(
        app.update_product(admin, low.id, ProductChanges::default(), Some(low.version))
            .await,
    );
    assert!(matches!(e, Error::PreconditionFailed));
    let fine = add_product(
        app,
        admin,
        NewProduct {
            reorder_point: Some(3),
            ..roller("Fine roller 1.0 mm", 1.0)
        },
    )
    .await;

    receive(app, admin, a, low.id, "LOW-A", today() + Days::new(10), 5).await;
    receive(app, admin, b, low.id, "LOW-B", today() + Days::new(100), 5).await;
    receive(
        app,
        admin,
        a,
        fine.id,
        "FINE-A",
        today() + Days::new(200),
        20,
    )
    .await;
    let stale = receive(
        app,
        admin,
        a,
        fine.id,
        "FINE-OLD",
        today() + Days::new(5),
        2,
    )
    .await;
    set_expiry(app, stale.lot.id, days_ago(2)).await;

    let report = app.low_stock_report(admin).await.expect("report");
    let lines: BTreeSet<(Uuid, Uuid, i64, u32)> = report
        .iter()
        .filter(|l| l.product_id == low.id || l.product_id == fine.id)
        .map(|l| (l.clinic_id, l.product_id, l.on_hand, l.reorder_point))
        .collect();
    assert_eq!(
        lines,
        BTreeSet::from([(a, low.id, 5, 10), (b, fine.id, 0, 3)])
    );
    let theirs = app.low_stock_report(&manager_a).await.expect("report");
    assert!(theirs.iter().all(|l| l.clinic_id == a));
    let e = failure(app.low_stock_report(&nurse).await);
    assert_eq!(e.code(), "forbidden");

    let expiring = app.expiring_report(admin, Some(30)).await.expect("report");
    let soon: Vec<(String, i64)> = expiring
        .iter()
        .map(|l| (l.lot_number.clone(), l.days_left))
        .collect();
    assert_eq!(
        soon,
        vec![("FINE-OLD".to_owned(), -2), ("LOW-A".to_owned(), 10)]
    );
    let e = failure(app.expiring_report(admin, Some(100_000)).await);
    assert_eq!(invalid_fields(&e), vec!["within_days"]);

    for name in ["Una", "Duo"] {
        let client = eligible_client(&w, &nurse, name, "Usage").await;
        w.treat(&nurse, treatment_using(a, client, vec![one_of(low.id)]))
            .await;
    }
    let usage = app
        .usage_report(
            &manager_a,
            &ReportPeriod {
                from: today() - Days::new(7),
                to: today(),
                clinic_id: None,
            },
        )
        .await
        .expect("usage");
    let ours: Vec<(Uuid, Uuid, i64)> = usage
        .iter()
        .filter(|l| l.product_id == low.id)
        .map(|l| (l.clinic_id, l.product_id, l.units))
        .collect();
    assert_eq!(ours, vec![(a, low.id, 2)]);
    assert_eq!(usage[0].clinic_name, "Mitte");
    let yesterday = app
        .usage_report(
            admin,
            &ReportPeriod {
                from: days_ago(1),
                to: days_ago(1),
                clinic_id: Some(a),
            },
        )
        .await
        .expect("usage");
    assert!(yesterday.is_empty());
    let e = failure(
        app.usage_report(
            admin,
            &ReportPeriod {
                from: today(),
                to: days_ago(1),
                clinic_id: None,
            },
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["to"]);
    let e = failure(
        app.usage_report(
            &manager_a,
            &ReportPeriod {
                from: today(),
                to: today(),
                clinic_id: Some(b),
            },
        )
        .await,
    );
    assert_eq!(e.code(), "forbidden");
}

mod property {
    //! Random sequences of stock operations against a real SQLite database.

    use proptest::prelude::*;
    use skinledger_app::Actor;
    use skinledger_store::testing::TestDb;

    use super::*;

    /// One operation; indexes pick among the clinics, lots and transfers of the case.
    #[derive(Debug, Clone)]
    enum Op {
        Deliver {
            clinic: usize,
            lot: usize,
            quantity: u32,
        },
        Consume {
            clinic: usize,
            quantity: u32,
        },
        Send {
            from: usize,
            lot: usize,
            quantity: u32,
        },
        Arrive {
            transfer: usize,
        },
        Cancel {
            transfer: usize,
        },
        Adjust {
            clinic: usize,
            lot: usize,
            quantity: i64,
        },
        Recall {
            lot: usize,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..2usize, 0..3usize, 1..8u32)
                .prop_map(|(clinic, lot, quantity)| Op::Deliver { clinic, lot, quantity }),
            3 => (0..2usize, 1..4u32).prop_map(|(clinic, quantity)| Op::Consume { clinic, quantity }),
            2 => (0..2usize, 0..3usize, 1..6u32)
                .prop_map(|(from, lot, quantity)| Op::Send { from, lot, quantity }),
            2 => (0..4usize).prop_map(|transfer| Op::Arrive { transfer }),
            1 => (0..4usize).prop_map(|transfer| Op::Cancel { transfer }),
            2 => (0..2usize, 0..3usize, -6..3i64)
                .prop_map(|(clinic, lot, quantity)| Op::Adjust { clinic, lot, quantity }),
            1 => (0..3usize).prop_map(|lot| Op::Recall { lot }),
        ]
    }

    /// Refusals the rules allow; anything else fails the case.
    fn refused(result: Result<(), Error>) {
        if let Err(e) = result {
            assert!(
                matches!(e, Error::Conflict { .. } | Error::Invalid(_)),
                "unexpected {e:?}"
            );
        }
    }

    async fn run(ops: Vec<Op>) {
        let test_db = TestDb::sqlite().await;
        let w = World::new(test_db.db.clone()).await;
        let (app, admin) = (&w.app, &w.org.admin);
        let clinics = [w.org.clinic, w.org.other_clinic];
        let nurse: Actor = w
            .staff_with(
                &w.org,
                "nurse",
                clinics
                    .iter()
                    .map(|c| skinledger_app::auth::RoleGrant {
                        role: Role::Nurse,
                        clinic_id: Some(*c),
                    })
                    .collect(),
            )
            .await;
        let p = add_product(app, admin, roller("Property roller", 0.5)).await;
        let lots = ["P-30", "P-60", "P-90"];
        let mut lot_ids: Vec<Option<Uuid>> = vec![None; lots.len()];
        let mut transfers: Vec<Uuid> = Vec::new();
        let mut patients = 0;
        for op in ops {
            match op {
                Op::Deliver {
                    clinic,
                    lot,
                    quantity,
                } => {
                    let days = 30 * (lot as u64 + 1);
                    let result = app
                        .receive_stock(
                            admin,
                            clinics[clinic],
                            ReceiptRequest {
                                product_id: Some(p.id),
                                lot_number: Some(lot_no(lots[lot])),
                                expiry: Some(today() + Days::new(days)),
                                quantity: Some(quantity),
                                ..ReceiptRequest::default()
                            },
                            None,
                        )
                        .await;
                    if let Ok(r) = &result {
                        lot_ids[lot] = Some(r.lot.id);
                    }
                    refused(result.map(|_| ()));
                }
                Op::Consume { clinic, quantity } => {
                    patients += 1;
                    let client =
                        eligible_client(&w, &nurse, "Prop", &format!("No{patients}")).await;
                    let used = ConsumableRequest {
                        quantity,
                        ..one_of(p.id)
                    };
                    let result = app
                        .create_treatment(
                            &nurse,
                            treatment_using(clinics[clinic], client, vec![used]),
                            None,
                        )
                        .await;
                    refused(result.map(|_| ()));
                }
                Op::Send {
                    from,
                    lot,
                    quantity,
                } => {
                    let Some(lot) = lot_ids[lot] else { continue };
                    let result = app
                        .send_transfer(
                            admin,
                            transfer(clinics[from], clinics[1 - from], lot, quantity),
                            None,
                        )
                        .await;
                    if let Ok(t) = &result {
                        transfers.push(t.id);
                    }
                    refused(result.map(|_| ()));
                }
                Op::Arrive { transfer } => {
                    let Some(id) = pick(&transfers, transfer) else {
                        continue;
                    };
                    refused(app.receive_transfer(admin, id, None).await.map(|_| ()));
                }
                Op::Cancel { transfer } => {
                    let Some(id) = pick(&transfers, transfer) else {
                        continue;
                    };
                    refused(app.cancel_transfer(admin, id, None).await.map(|_| ()));
                }
                Op::Adjust {
                    clinic,
                    lot,
                    quantity,
                } => {
                    let Some(lot) = lot_ids[lot] else { continue };
                    let reason = if quantity > 0 {
                        AdjustmentReason::CountCorrection
                    } else {
                        AdjustmentReason::Damaged
                    };
                    let result = app
                        .adjust_stock(
                            admin,
                            clinics[clinic],
                            AdjustmentRequest {
                                lot_id: lot,
                                quantity,
                                reason,
                                note: None,
                            },
                            None,
                        )
                        .await;
                    refused(result.map(|_| ()));
                }
                Op::Recall { lot } => {
                    let Some(lot) = lot_ids[lot] else { continue };
                    refused(
                        app.recall_lot(admin, lot, recall("property"), None)
                            .await
                            .map(|_| ()),
                    );
                }
            }
        }
        for clinic in clinics {
            assert_ledger_holds(app, admin, clinic).await;
        }
        drop(w);
        drop(test_db);
    }

    fn pick(transfers: &[Uuid], index: usize) -> Option<Uuid> {
        (!transfers.is_empty()).then(|| transfers[index % transfers.len()])
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 16,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn random_stock_operations_keep_every_balance_equal_to_its_movements_and_never_negative(
            ops in proptest::collection::vec(op(), 1..=12)
        ) {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(run(ops));
        }
    }
}

async fn consumptions_recorded_before_they_carried_who_and_when_are_filled_in_and_traced_alike(
    db: Db,
) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use skinledger_store::entities::{treatment as treatment_row, treatment_consumable};
    use skinledger_store::testing::{migrate_all, migrate_down_to_before};

    let w = World::new(db.clone()).await;
    let app = w.app.clone();
    let admin = w.org.admin.clone();
    let a = w.org.clinic;
    let nurse = w.staff(&w.org, "nora", Role::Nurse, a).await;
    let p = add_product(&app, &admin, roller("Trace roller 0.5 mm", 0.5)).await;
    let lot = receive(&app, &admin, a, p.id, "T-1", today() + Days::new(120), 5)
        .await
        .lot
        .id;
    for (first, last) in [("Anna", "Berg"), ("Ben", "Kohl")] {
        let client = eligible_client(&w, &nurse, first, last).await;
        w.treat(&nurse, treatment_using(a, client, vec![one_of(p.id)]))
            .await;
    }
    let before = app.trace_lot(&admin, lot).await.expect("traced");
    assert_eq!(before.treatments.len(), 2);

    // The consumptions as they were written before they carried their treatment's client,
    // practitioner and instant, then the migration that fills them in.
    migrate_down_to_before(&db, "m20261206_000012_trace_columns").await;
    migrate_all(&db).await;

    let used = treatment_consumable::Entity::find()
        .filter(treatment_consumable::Column::LotId.eq(lot))
        .all(db.read())
        .await
        .expect("the consumptions");
    assert_eq!(used.len(), 2);
    for row in used {
        let treatment = treatment_row::Entity::find_by_id(row.treatment_id)
            .one(db.read())
            .await
            .expect("a read")
            .expect("its treatment");
        assert_eq!(row.client_id, treatment.client_id);
        assert_eq!(row.practitioner_id, treatment.practitioner_id);
        assert_eq!(row.performed_at, treatment.performed_at);
    }
    assert_eq!(app.trace_lot(&admin, lot).await.expect("traced"), before);
}
