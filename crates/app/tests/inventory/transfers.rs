//! Transfers between clinics: sent, received only by the receiving clinic, or cancelled.

use chrono::Days;
use futures::future::join_all;
use skinledger_app::PageParams;
use skinledger_app::stock::MovementQuery;
use skinledger_app::transfers::TransferQuery;
use skinledger_domain::inventory::{MovementKind, TransferStatus};
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support::{World, failure, invalid_fields, today};
use crate::inventory_support::{
    add_product, assert_ledger_holds, balance_of, conflict_code, eligible_client, one_of, receive,
    roller, treatment_using,
};
use crate::{balance, page, transfer};

skinledger_store::on_both_backends!(
    transfers_move_stock_in_two_steps_and_only_the_receiving_clinic_receives,
);

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
