//! Random stock operations on SQLite keep every balance the sum of its movements, never negative.

use chrono::Days;
use proptest::prelude::*;
use skinledger_app::Actor;
use skinledger_app::Error;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::stock::AdjustmentRequest;
use skinledger_domain::inventory::AdjustmentReason;
use skinledger_domain::role::Role;
use skinledger_store::testing::TestDb;
use uuid::Uuid;

use crate::clinical_support::{World, today};
use crate::inventory_support::{
    add_product, assert_ledger_holds, eligible_client, lot_no, one_of, roller, treatment_using,
};
use crate::{recall, transfer};

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
                let client = eligible_client(&w, &nurse, "Prop", &format!("No{patients}")).await;
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
