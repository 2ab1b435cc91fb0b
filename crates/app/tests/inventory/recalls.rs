//! Recalls quarantine a lot at every clinic; its trace names every client treated with it.

use std::collections::BTreeSet;

use chrono::Days;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::recalls::trace_csv;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_domain::inventory::LotStatus;
use skinledger_domain::role::Role;
use skinledger_store::Db;
use uuid::Uuid;

use crate::clinical_support::{World, failure, new_client, today};
use crate::inventory_support::{
    add_product, assert_ledger_holds, balance_of, conflict_code, eligible_client, lot_no, one_of,
    receive, roller, treatment_using,
};
use crate::{balance, recall, transfer};

skinledger_store::on_both_backends!(
    a_recall_quarantines_every_clinics_stock_and_the_trace_names_every_client,
    consumptions_recorded_before_they_carried_who_and_when_are_filled_in_and_traced_alike,
);

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
