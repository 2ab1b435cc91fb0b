//! Units written off at the chair, and more than one a day shown in the report.

use chrono::Days;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::disposals::DisposalRequest;
use skinledger_app::recalls::RecallRequest;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::reports::ReportPeriod;
use skinledger_domain::inventory::{DisposalReason, MovementKind};
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support::{World, days_ago, failure, invalid_fields, today};
use crate::dropped;
use crate::inventory_support;
use crate::inventory_support::{conflict_code, eligible_client, receive, roller, treatment_using};

skinledger_store::on_both_backends!(
    the_chair_writes_off_a_unit_and_more_than_one_a_day_shows_in_the_report,
);

async fn the_chair_writes_off_a_unit_and_more_than_one_a_day_shows_in_the_report(db: Db) {
    let mut w = World::new(db).await;
    let (admin, clinic, other) = (w.org.admin.clone(), w.org.clinic, w.org.other_clinic);
    let app = w.app.clone();
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let esthetician = w
        .staff(&w.org, "esthetician", Role::Esthetician, clinic)
        .await;
    let manager = w
        .staff(&w.org, "manager", Role::ClinicManager, clinic)
        .await;
    let manager_b = w
        .staff(&w.org, "manager-b", Role::ClinicManager, other)
        .await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, clinic).await;
    let nurse_b = w.staff(&w.org, "nurse-b", Role::Nurse, other).await;
    let p = inventory_support::add_product(&app, &admin, roller("Tray roller 0.5 mm", 0.5)).await;
    let by_count = receive(
        &app,
        &admin,
        clinic,
        p.id,
        "TRAY-1",
        today() + Days::new(90),
        3,
    )
    .await;
    let by_serial = app
        .receive_stock(
            &admin,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(inventory_support::lot_no("TRAY-SN")),
                expiry: Some(today() + Days::new(120)),
                serials: vec![
                    inventory_support::serial("SN-A"),
                    inventory_support::serial("SN-B"),
                ],
                ..ReceiptRequest::default()
            },
            None,
        )
        .await
        .expect("serialised delivery");

    // A practitioner of the clinic writes a unit off: one movement, one unit fewer.
    let first = app
        .record_disposal(&nurse, clinic, dropped(by_count.lot.id, None), None)
        .await
        .expect("written off");
    assert_eq!(first.balance.on_hand, 2);
    assert_eq!(first.reason, DisposalReason::Dropped);
    assert_eq!(Some(first.actor_id), nurse.staff_id());
    let ledger = app
        .list_movements(
            &admin,
            clinic,
            &skinledger_app::stock::MovementQuery {
                lot_id: Some(by_count.lot.id),
            },
            &skinledger_app::PageParams::default(),
        )
        .await
        .expect("ledger");
    let last = ledger.items.last().expect("a movement");
    assert_eq!(
        (last.kind, last.quantity, last.reason.as_deref()),
        (MovementKind::Disposal, -1, Some("dropped"))
    );

    // Only clinical roles of that clinic write units off.
    for who in [&desk, &manager, &nurse_b, &admin] {
        let e = failure(
            app.record_disposal(who, clinic, dropped(by_count.lot.id, None), None)
                .await,
        );
        assert_eq!(e.code(), "forbidden");
    }

    // A lot received with serials: the unit is named, and only a unit on this shelf.
    let e = failure(
        app.record_disposal(&nurse, clinic, dropped(by_serial.lot.id, None), None)
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["serial"]);
    let e = failure(
        app.record_disposal(
            &nurse,
            clinic,
            dropped(by_serial.lot.id, Some("SN-Z")),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "unknown_serial");
    let sn_a = app
        .record_disposal(
            &esthetician,
            clinic,
            DisposalRequest {
                reason: DisposalReason::PackagingDamaged,
                ..dropped(by_serial.lot.id, Some("SN-A"))
            },
            None,
        )
        .await
        .expect("named unit written off");
    assert_eq!(sn_a.serial.as_deref(), Some("SN-A"));
    let e = failure(
        app.record_disposal(
            &nurse,
            clinic,
            dropped(by_serial.lot.id, Some("SN-A")),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "serial_already_used");
    // A unit written off can never be used in a treatment afterwards.
    let client = eligible_client(&w, &nurse, "Never", "Twice").await;
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(
                clinic,
                client,
                vec![ConsumableRequest {
                    product_id: p.id,
                    serial: Some(inventory_support::serial("SN-A")),
                    lot_id: None,
                    quantity: 1,
                }],
            ),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "serial_already_used");
    // A serial named for stock received by quantity is registered, so it is gone too.
    app.record_disposal(
        &nurse,
        clinic,
        dropped(by_count.lot.id, Some("LOOSE-1")),
        None,
    )
    .await
    .expect("a unit received by quantity, named at disposal");
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(
                clinic,
                client,
                vec![ConsumableRequest {
                    product_id: p.id,
                    serial: Some(inventory_support::serial("LOOSE-1")),
                    lot_id: None,
                    quantity: 1,
                }],
            ),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "serial_already_used");

    // The shelf can run empty, and a recalled lot is in quarantine, not on a tray.
    app.record_disposal(&nurse, clinic, dropped(by_count.lot.id, None), None)
        .await
        .expect("the last unit");
    let e = failure(
        app.record_disposal(&nurse, clinic, dropped(by_count.lot.id, None), None)
            .await,
    );
    assert_eq!(conflict_code(&e), "out_of_stock");
    app.recall_lot(
        &admin,
        by_serial.lot.id,
        RecallRequest {
            reason: "maker's notice".into(),
        },
        None,
    )
    .await
    .expect("recalled");
    let e = failure(
        app.record_disposal(
            &nurse,
            clinic,
            dropped(by_serial.lot.id, Some("SN-B")),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_recalled");
    inventory_support::assert_ledger_holds(&app, &admin, clinic).await;

    // The nurse wrote off three units today, the esthetician one: only the nurse shows.
    let period = ReportPeriod {
        from: days_ago(1),
        to: today(),
        clinic_id: None,
    };
    let lines = app
        .disposal_report(&manager, &period)
        .await
        .expect("report");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(Some(line.actor_id), nurse.staff_id());
    assert_eq!(line.actor_name.as_deref(), Some("nurse"));
    assert_eq!(
        (line.day, line.clinic_id, line.disposals),
        (today(), clinic, 3)
    );
    assert_eq!(line.reasons.dropped, 3);
    assert_eq!(
        app.disposal_report(&admin, &period).await.expect("report"),
        lines
    );
    // Another clinic's manager sees none of it, and asking for this clinic is refused.
    assert!(
        app.disposal_report(&manager_b, &period)
            .await
            .expect("report")
            .is_empty()
    );
    let e = failure(
        app.disposal_report(
            &manager_b,
            &ReportPeriod {
                clinic_id: Some(clinic),
                ..period.clone()
            },
        )
        .await,
    );
    assert_eq!(e.code(), "forbidden");
    let e = failure(app.disposal_report(&nurse, &period).await);
    assert_eq!(e.code(), "forbidden");
    let e = failure(
        app.disposal_report(
            &manager,
            &ReportPeriod {
                from: today(),
                to: days_ago(1),
                clinic_id: None,
            },
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["to"]);

    // Every refused write-off is on the record, as the nurse's successes are.
    let log = w.audit_log().await;
    let codes: Vec<_> = log
        .iter()
        .filter(|e| e.action == "unit.dispose" && e.outcome != "success")
        .filter_map(|e| e.detail.as_ref()?["code"].as_str().map(str::to_owned))
        .collect();
    for code in [
        "forbidden",
        "validation_failed",
        "unknown_serial",
        "serial_already_used",
        "out_of_stock",
        "lot_recalled",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} in {codes:?}");
    }
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "unit.dispose" && e.outcome == "success")
            .count(),
        4
    );
}
