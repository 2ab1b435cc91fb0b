//! A scanned lot transferred, used, recalled and traced over gRPC.

use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;
use uuid::Uuid;

use crate::counts;
use crate::flow_support::{
    Chain, Counts, Rest, assert_grpc_refused, client_service, eligible_client, gtin,
    inventory_service, next_year, pb_answers, pb_new_client, pb_treatment, plus_days, today,
    treatment_service, yymmdd,
};

e2e_on_both_backends!(a_scanned_lot_is_transferred_used_recalled_and_traced_over_grpc);

async fn a_scanned_lot_is_transferred_used_recalled_and_traced_over_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, b) = (chain.clinic_a, chain.clinic_b);
    let mut inventory = inventory_service(&server.channel);
    let mut clients = client_service(&server.channel);
    let mut treatments = treatment_service(&server.channel);
    let code = gtin(808);
    let expiry = next_year();

    let new_product = pb::CreateProductRequest {
        kind: "roller".into(),
        name: "Roller 0.5 mm, 540 needles".into(),
        maker: "Dermaroll GmbH".into(),
        gtin: Some(code.clone()),
        needle_length_mm: Some(0.5),
        needle_count: Some(540),
        ..Default::default()
    };
    // The catalogue holds at every clinic, so it is the organisation's to write.
    assert_grpc_refused(
        inventory
            .create_product(authorized(new_product.clone(), &chain.manager_a.token))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
    let product = inventory
        .create_product(authorized(new_product, &chain.admin))
        .await
        .expect("the organisation adds a product")
        .into_inner();
    assert_grpc_refused(
        inventory
            .update_product(authorized(
                pb::UpdateProductRequest {
                    id: product.id.clone(),
                    max_depth_mm: Some(0.25),
                    ..Default::default()
                },
                &chain.manager_a.token,
            ))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
    let own_point = inventory
        .update_product(authorized(
            pb::UpdateProductRequest {
                id: product.id.clone(),
                clinic_reorder_points: vec![pb::ClinicReorderPointChange {
                    clinic_id: a.to_string(),
                    reorder_point: Some(2),
                }],
                ..Default::default()
            },
            &chain.manager_a.token,
        ))
        .await
        .expect("a manager sets their clinic's reorder point")
        .into_inner();
    assert_eq!(own_point.max_depth_mm, product.max_depth_mm);
    assert_eq!(own_point.clinic_reorder_points.len(), 1);
    let receive = |gs1: String, quantity: Option<u32>| {
        authorized(
            pb::ReceiveStockRequest {
                clinic_id: a.to_string(),
                gs1: Some(gs1),
                quantity,
                ..Default::default()
            },
            &chain.manager_a.token,
        )
    };
    let first = inventory
        .receive_stock(receive(
            format!("(01){code}(17){}(10)GR-9", yymmdd(expiry)),
            Some(3),
        ))
        .await
        .expect("the carton is received")
        .into_inner();
    let lot = first.lot.expect("a lot");
    assert_eq!(lot.lot_number, "GR-9");
    assert_eq!(lot.expiry, expiry.to_string());
    assert_eq!(first.product_id, product.id);
    let second = inventory
        .receive_stock(receive(
            format!(
                "01{code}17{}10GR-9\u{1d}21SN-77\u{1d}11{}",
                yymmdd(expiry),
                yymmdd(plus_days(today(), -10))
            ),
            None,
        ))
        .await
        .expect("the scanned unit is received")
        .into_inner();
    assert_eq!(second.lot.map(|l| l.id), Some(lot.id.clone()));
    assert_eq!(second.serials, vec!["SN-77".to_owned()]);
    assert_eq!(second.balance.map(|b| b.on_hand), Some(4));

    let transfer = inventory
        .send_transfer(authorized(
            pb::SendTransferRequest {
                from_clinic_id: a.to_string(),
                to_clinic_id: b.to_string(),
                lines: vec![pb::TransferLineRequest {
                    lot_id: lot.id.clone(),
                    quantity: 2,
                    serials: vec![],
                }],
                note: None,
            },
            &chain.manager_a.token,
        ))
        .await
        .expect("the transfer is sent")
        .into_inner();
    assert_eq!(transfer.status, "in_transit");
    let take_in = |token: &str| {
        authorized(
            pb::ReceiveTransferRequest {
                id: transfer.id.clone(),
            },
            token,
        )
    };
    assert_grpc_refused(
        inventory
            .receive_transfer(take_in(&chain.manager_a.token))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
    let received = inventory
        .receive_transfer(take_in(&chain.manager_b.token))
        .await
        .expect("the receiving clinic takes it in")
        .into_inner();
    assert_eq!(received.status, "received");

    let stock_at = |clinic: Uuid| {
        authorized(
            pb::GetClinicStockRequest {
                clinic_id: clinic.to_string(),
            },
            &chain.admin,
        )
    };
    let at_b = inventory
        .get_clinic_stock(stock_at(b))
        .await
        .expect("the stock answers")
        .into_inner();
    assert_eq!(at_b.products.len(), 1);
    assert_eq!(at_b.products[0].lots[0].lot_id, lot.id);
    assert_eq!(at_b.products[0].on_hand, 2);

    // A client registered and screened over gRPC is treated at B.
    let nurse = &chain.nurse_b;
    let client = clients
        .create_client(authorized(pb_new_client("Jana", "Kurz"), &nurse.token))
        .await
        .expect("the client is registered")
        .into_inner();
    let screening = clients
        .record_screening(authorized(
            pb::RecordScreeningRequest {
                client_id: client.id.clone(),
                clinic_id: Some(b.to_string()),
                screened_on: None,
                answers: Some(pb_answers(&[])),
            },
            &nurse.token,
        ))
        .await
        .expect("the screening is recorded")
        .into_inner();
    assert_eq!(screening.outcome, "eligible");
    let record = treatments
        .create_treatment(authorized(
            pb_treatment(b, &client.id, &product.id),
            &nurse.token,
        ))
        .await
        .expect("the treatment is recorded")
        .into_inner();
    assert_eq!(record.consumables[0].lot_id, lot.id);
    assert_eq!(record.consumables[0].lot_number, "GR-9");

    let recall = |token: &str| {
        authorized(
            pb::RecallLotRequest {
                id: lot.id.clone(),
                reason: "Sterility of the lot cannot be confirmed.".into(),
            },
            token,
        )
    };
    assert_grpc_refused(
        inventory.recall_lot(recall(&chain.manager_b.token)).await,
        Code::PermissionDenied,
        "forbidden",
    );
    let recalled = inventory
        .recall_lot(recall(&chain.admin))
        .await
        .expect("the admin recalls the lot")
        .into_inner();
    let mut quarantined: Vec<(String, i64)> = recalled
        .quarantined
        .iter()
        .map(|q| (q.clinic_id.clone(), q.quantity))
        .collect();
    quarantined.sort();
    let mut expected = vec![(a.to_string(), 2), (b.to_string(), 1)];
    expected.sort();
    assert_eq!(quarantined, expected);
    for (clinic, units) in [(a, 2), (b, 1)] {
        let stock = inventory
            .get_clinic_stock(stock_at(clinic))
            .await
            .expect("the stock answers")
            .into_inner();
        let line = &stock.products[0].lots[0];
        assert_eq!(
            (line.status.as_str(), line.on_hand, line.quarantined),
            ("recalled", 0, units)
        );
    }
    let next = eligible_client(&api, &nurse.token, b, "Kai", "Lenz").await;
    let mut again = pb_treatment(b, &next.to_string(), &product.id);
    again.consumables[0].lot_id = Some(lot.id.clone());
    assert_grpc_refused(
        treatments
            .create_treatment(authorized(again, &nurse.token))
            .await,
        Code::FailedPrecondition,
        "lot_recalled",
    );

    let trace = inventory
        .trace_lot(authorized(
            pb::TraceLotRequest { id: lot.id.clone() },
            &chain.admin,
        ))
        .await
        .expect("the trace answers")
        .into_inner();
    assert_eq!(trace.treatments.len(), 1);
    let entry = &trace.treatments[0];
    assert_eq!(entry.treatment_id, record.id);
    assert_eq!(entry.client_id, client.id);
    assert_eq!(entry.phone, client.phone);
    assert_eq!(entry.email, client.email);
    assert_eq!(entry.clinic_id, b.to_string());
    assert_eq!(entry.practitioner_id, nurse.id.to_string());
    let csv = inventory
        .trace_lot_csv(authorized(
            pb::TraceLotCsvRequest {
                id: lot.id.clone(),
                bom: false,
            },
            &chain.admin,
        ))
        .await
        .expect("the CSV trace answers")
        .into_inner();
    assert!(csv.filename.ends_with(".csv"), "{}", csv.filename);
    let lines: Vec<&str> = csv.csv.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{}", csv.csv);
    assert!(lines[1].contains(&record.id) && lines[1].contains("jana.kurz@example.com"));

    // The ledger over gRPC, page by page, adds up to the stock at both clinics.
    for (clinic, units) in [(a, 2), (b, 1)] {
        let mut sum = Counts::default();
        let mut cursor = None;
        loop {
            let page = inventory
                .list_movements(authorized(
                    pb::ListMovementsRequest {
                        clinic_id: clinic.to_string(),
                        lot_id: None,
                        limit: Some(2),
                        cursor: cursor.take(),
                    },
                    &chain.admin,
                ))
                .await
                .expect("the ledger answers")
                .into_inner();
            for m in &page.items {
                sum.on_hand += m.quantity;
                sum.quarantined += m.quarantined_delta;
                sum.in_transit_out += m.in_transit_delta;
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(sum, counts(0, units, 0), "ledger of {clinic}");
    }
}
