//! The inventory flow against the running server, as a clinic chain lives it: a delivery scanned
//! in by its GS1 barcode (bracketed, and raw with group separators) at one clinic, part of it
//! sent to another clinic and received there, a roller used on a client, the lot recalled into
//! quarantine everywhere, and the trace naming the client - over REST and over gRPC. Also that
//! another organisation's products, lots, stock and transfers do not exist for a caller.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod flow_support;

use std::collections::BTreeMap;

use flow_support::{
    Chain, Counts, Rest, assert_grpc_refused, assert_ledger_matches_stock, assert_refused,
    client_service, create_roller, date_at, eligible_client, gtin, id_of, inventory_service, items,
    movements, new_client, next_year, pb_answers, pb_new_client, pb_treatment, plus_days, receive,
    screen, stock_of, sums_by_lot, today, treatment, treatment_service, uuid_at, yymmdd,
};
use serde_json::{Value, json};
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(
    a_scanned_lot_is_transferred_used_recalled_and_traced_over_rest,
    a_scanned_lot_is_transferred_used_recalled_and_traced_over_grpc,
    another_organisation_s_products_lots_stock_and_transfers_answer_not_found,
);

/// Counts as the stock answers them.
fn counts(on_hand: i64, quarantined: i64, in_transit_out: i64) -> Counts {
    Counts {
        on_hand,
        quarantined,
        in_transit_out,
    }
}

async fn a_scanned_lot_is_transferred_used_recalled_and_traced_over_rest(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, b) = (chain.clinic_a, chain.clinic_b);
    let code = gtin(707);
    let product = create_roller(&api, &chain.admin, &code).await;
    let expiry = next_year();
    let receipts = |clinic: Uuid| format!("/v1/clinics/{clinic}/receipts");

    // A carton scanned as the label reads: (01) GTIN, (17) expiry, (10) lot.
    let bracketed = format!("(01){code}(17){}(10)RX-24", yymmdd(expiry));
    let first = api
        .post(
            &receipts(a),
            &chain.manager_a.token,
            &json!({ "gs1": bracketed, "quantity": 4, "reference": "DN-1001" }),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(first["product_id"], product.to_string());
    assert_eq!(first["lot"]["lot_number"], "RX-24");
    assert_eq!(date_at(&first["lot"], "expiry"), expiry);
    assert_eq!(first["lot"]["status"], "active");
    assert_eq!(first["quantity"], 4);
    assert_eq!(first["balance"]["on_hand"], 4);
    let lot = uuid_at(&first["lot"], "id");

    // One more unit, as a scanner sends it: no brackets, a group separator after the lot, a
    // production date and a serial number.
    let raw = format!(
        "01{code}11{}17{}10RX-24\u{1d}21SN-0001",
        yymmdd(plus_days(today(), -30)),
        yymmdd(expiry)
    );
    let second = api
        .post(&receipts(a), &chain.manager_a.token, &json!({ "gs1": raw }))
        .await
        .expect_status(201)
        .json();
    assert_eq!(uuid_at(&second["lot"], "id"), lot, "the same lot: {second}");
    assert_eq!(second["serials"], json!(["SN-0001"]));
    assert_eq!(second["quantity"], 1);
    assert_eq!(second["balance"]["on_hand"], 5);

    // A GTIN the catalogue does not know is named.
    let unknown = api
        .post(
            &receipts(a),
            &chain.manager_a.token,
            &json!({ "gs1": format!("(01){}(17){}(10)X1", gtin(708), yymmdd(expiry)) }),
        )
        .await;
    assert_refused(&unknown, 422, "validation_failed");
    assert!(unknown.invalid_fields().contains(&"gs1".to_owned()));
    let stock = api
        .get(&format!("/v1/clinics/{a}/stock"), &chain.nurse_a.token)
        .await
        .expect_status(200)
        .json();
    assert_eq!(stock["products"][0]["product_id"], product.to_string());
    assert_eq!(stock["products"][0]["on_hand"], 5);
    assert_eq!(stock["products"][0]["lots"][0]["lot_number"], "RX-24");

    // Three units travel to the other clinic; only its staff may take them in.
    let transfer = api
        .post(
            "/v1/transfers",
            &chain.manager_a.token,
            &json!({ "from_clinic_id": a, "to_clinic_id": b,
                     "lines": [{ "lot_id": lot, "quantity": 3 }], "note": "for Nord" }),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(transfer["status"], "in_transit");
    let transfer_id = id_of(&transfer);
    assert_eq!(
        stock_of(&api, &chain.admin, a, lot).await.0,
        counts(2, 0, 3)
    );
    let receive_path = format!("/v1/transfers/{transfer_id}/receive");
    assert_refused(
        &api.post(&receive_path, &chain.manager_a.token, &json!({}))
            .await,
        403,
        "forbidden",
    );
    let received = api
        .post(&receive_path, &chain.manager_b.token, &json!({}))
        .await
        .expect_status(200)
        .json();
    assert_eq!(received["status"], "received");
    assert_eq!(received["received_by"], chain.manager_b.id.to_string());
    assert_eq!(
        stock_of(&api, &chain.admin, a, lot).await.0,
        counts(2, 0, 0)
    );
    assert_eq!(
        stock_of(&api, &chain.admin, b, lot).await.0,
        counts(3, 0, 0)
    );

    // A client is treated at the second clinic with one of those rollers.
    let nurse = &chain.nurse_b;
    // A name a spreadsheet would run as a formula, as a prankster at the front desk types it.
    let mut registration = new_client("Hanna", "Roth");
    registration["first_name"] = json!("=HYPERLINK(\"http://x\",\"Hanna\")");
    let client = id_of(
        &api.post("/v1/clients", &nurse.token, &registration)
            .await
            .expect_status(201)
            .json(),
    );
    let screening = screen(&api, &nurse.token, client, b, &[]).await;
    assert_eq!(screening["outcome"], "eligible", "{screening}");
    let record = api
        .post(
            "/v1/treatments",
            &nurse.token,
            &treatment(b, client, product),
        )
        .await
        .expect_status(201)
        .json();
    let treatment_id = id_of(&record);
    assert_eq!(record["consumables"][0]["lot_id"], lot.to_string());
    assert_eq!(
        stock_of(&api, &chain.admin, b, lot).await.0,
        counts(2, 0, 0)
    );

    // The maker recalls the lot: only an org_admin may, and every clinic's units go to quarantine.
    let recall_path = format!("/v1/lots/{lot}/recall");
    let reason = json!({ "reason": "Maker's notice 2025-17: needles may be blunt." });
    assert_refused(
        &api.post(&recall_path, &chain.manager_a.token, &reason)
            .await,
        403,
        "forbidden",
    );
    let recall = api
        .post(&recall_path, &chain.admin, &reason)
        .await
        .expect_status(200)
        .json();
    assert_eq!(recall["lot"]["lot"]["status"], "recalled");
    let quarantined: BTreeMap<String, i64> = recall["quarantined"]
        .as_array()
        .expect("quarantined units per clinic")
        .iter()
        .map(|q| {
            (
                q["clinic_id"].as_str().unwrap_or_default().to_owned(),
                q["quantity"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        quarantined,
        BTreeMap::from([(a.to_string(), 2), (b.to_string(), 2)])
    );
    for clinic in [a, b] {
        let (counts_now, status) = stock_of(&api, &chain.admin, clinic, lot).await;
        assert_eq!(counts_now, counts(0, 2, 0));
        assert_eq!(status.as_deref(), Some("recalled"));
    }

    // Nobody can use it any more.
    let next = eligible_client(&api, &nurse.token, b, "Ivo", "Sand").await;
    let mut named = treatment(b, next, product);
    named["consumables"] = json!([{ "product_id": product, "lot_id": lot }]);
    assert_refused(
        &api.post("/v1/treatments", &nurse.token, &named).await,
        409,
        "lot_recalled",
    );
    assert_refused(
        &api.post("/v1/treatments", &nurse.token, &treatment(b, next, product))
            .await,
        409,
        // Only recalled units are left, in quarantine: the answer says why.
        "lot_recalled",
    );

    // The trace names the client and how to reach her.
    let trace = api
        .get(&format!("/v1/lots/{lot}/trace"), &chain.admin)
        .await
        .expect_status(200)
        .json();
    let entries = trace["treatments"].as_array().expect("treatments");
    assert_eq!(entries.len(), 1, "{trace}");
    let entry = &entries[0];
    assert_eq!(entry["treatment_id"], treatment_id.to_string());
    assert_eq!(entry["client_id"], client.to_string());
    let name = entry["client_name"].as_str().unwrap_or_default();
    assert!(name.contains("Hanna") && name.contains("Roth"), "{entry}");
    assert_eq!(entry["phone"], "+49 30 5550 1234");
    assert_eq!(entry["email"], "hanna.roth@example.com");
    assert_eq!(entry["clinic_id"], b.to_string());
    assert_eq!(entry["practitioner_id"], nurse.id.to_string());
    assert_eq!(entry["quantity"], 1);

    let csv = api
        .send(
            api.request(
                reqwest::Method::GET,
                &format!("/v1/lots/{lot}/trace"),
                &chain.admin,
            )
            .header("Accept", "text/csv"),
        )
        .await
        .expect_status(200);
    assert!(
        csv.header("content-type")
            .is_some_and(|t| t.starts_with("text/csv")),
        "{:?}",
        csv.header("content-type")
    );
    let text = csv.text();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("treatment_id,"), "{text}");
    for expected in [
        treatment_id.to_string().as_str(),
        client.to_string().as_str(),
        "hanna.roth@example.com",
        "+49 30 5550 1234",
        "RX-24",
    ] {
        assert!(
            lines[1].contains(expected),
            "{expected} not in {}",
            lines[1]
        );
    }
    // Cells a spreadsheet would run start with `'`: the name, and the phone number's `+`.
    assert!(lines[1].contains(",'+49 30 5550 1234,"), "{}", lines[1]);
    assert!(
        !lines[1].contains(",=") && !lines[1].contains(",\"="),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("\"'=HYPERLINK("), "{}", lines[1]);
    assert!(!text.starts_with('\u{feff}'));
    let with_bom = api
        .send(
            api.request(
                reqwest::Method::GET,
                &format!("/v1/lots/{lot}/trace?bom=true"),
                &chain.admin,
            )
            .header("Accept", "text/csv"),
        )
        .await
        .expect_status(200)
        .text();
    assert!(with_bom.starts_with('\u{feff}'), "a byte order mark");
    assert_eq!(with_bom.trim_start_matches('\u{feff}'), text);

    // Every change left a movement, and the movements add up at both clinics.
    for clinic in [a, b] {
        assert_eq!(
            assert_ledger_matches_stock(&api, &chain.admin, clinic, lot).await,
            counts(0, 2, 0)
        );
    }
    let listed = api
        .get(
            &format!("/v1/transfers?clinic_id={b}"),
            &chain.manager_b.token,
        )
        .await
        .expect_status(200);
    assert_eq!(items(&listed).len(), 1, "{}", listed.text());
}

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

async fn another_organisation_s_products_lots_stock_and_transfers_answer_not_found(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, b) = (chain.clinic_a, chain.clinic_b);
    let code = gtin(909);
    let product = create_roller(&api, &chain.admin, &code).await;
    let lot = uuid_at(
        &receive(&api, &chain.manager_a.token, a, product, "ISO-7", 6).await["lot"],
        "id",
    );
    let transfer = api
        .post(
            "/v1/transfers",
            &chain.manager_a.token,
            &json!({ "from_clinic_id": a, "to_clinic_id": b,
                     "lines": [{ "lot_id": lot, "quantity": 2 }] }),
        )
        .await
        .expect_status(201)
        .id();

    // Another organisation's admin, who may do everything with stock at home.
    let other = server.create_org("lumen").await;
    let token = other.admin_token.as_str();
    let home = api
        .post("/v1/clinics", token, &json!({ "name": "Lumen Ost" }))
        .await
        .expect_status(201)
        .id();
    let home_product = create_roller(&api, token, &gtin(910)).await;
    let home_lot = uuid_at(
        &receive(&api, token, home, home_product, "HOME-1", 2).await["lot"],
        "id",
    );

    for path in [
        format!("/v1/products/{product}"),
        format!("/v1/lots/{lot}"),
        format!("/v1/lots/{lot}/trace"),
        format!("/v1/clinics/{a}/stock"),
        format!("/v1/clinics/{a}/movements"),
        format!("/v1/transfers/{transfer}"),
    ] {
        assert_refused(&api.get(&path, token).await, 404, "not_found");
    }
    let csv = api
        .send(
            api.request(
                reqwest::Method::GET,
                &format!("/v1/lots/{lot}/trace"),
                token,
            )
            .header("Accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.status.as_u16(), 404, "{}", csv.text());
    let writes: Vec<(reqwest::Method, String, Value)> = vec![
        (
            reqwest::Method::PATCH,
            format!("/v1/products/{product}"),
            json!({ "name": "mine now" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/lots/{lot}/recall"),
            json!({ "reason": "mine now" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{a}/receipts"),
            json!({ "product_id": home_product, "lot_number": "X", "expiry": next_year(), "quantity": 1 }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{home}/receipts"),
            json!({ "product_id": product, "lot_number": "X", "expiry": next_year(), "quantity": 1 }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{a}/adjustments"),
            json!({ "lot_id": lot, "quantity": -1, "reason": "lost" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{home}/adjustments"),
            json!({ "lot_id": lot, "quantity": -1, "reason": "lost" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/clinics/{a}/stocktakes"),
            json!({ "counts": [{ "lot_id": lot, "counted": 0 }] }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/transfers/{transfer}/receive"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/transfers/{transfer}/cancel"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            "/v1/transfers".to_owned(),
            json!({ "from_clinic_id": a, "to_clinic_id": home,
                    "lines": [{ "lot_id": lot, "quantity": 1 }] }),
        ),
        (
            reqwest::Method::POST,
            "/v1/transfers".to_owned(),
            json!({ "from_clinic_id": home, "to_clinic_id": b,
                    "lines": [{ "lot_id": home_lot, "quantity": 1 }] }),
        ),
    ];
    for (method, path, body) in writes {
        let answer = api
            .send(api.request(method.clone(), &path, token).json(&body))
            .await;
        assert_refused(&answer, 404, "not_found");
    }
    // Their GTIN is not in this catalogue, which says no more than that.
    let scanned = api
        .post(
            &format!("/v1/clinics/{home}/receipts"),
            token,
            &json!({ "gs1": format!("(01){code}(17){}(10)ISO-7", yymmdd(next_year())) }),
        )
        .await;
    assert_refused(&scanned, 422, "validation_failed");
    // Their products and transfers are not in this organisation's lists.
    let products = api.get("/v1/products", token).await.expect_status(200);
    let listed: Vec<Uuid> = items(&products).iter().map(id_of).collect();
    assert_eq!(listed, vec![home_product]);
    let transfers = api.get("/v1/transfers", token).await.expect_status(200);
    assert!(items(&transfers).is_empty(), "{}", transfers.text());

    let mut inventory = inventory_service(&server.channel);
    assert_grpc_refused(
        inventory
            .get_product(authorized(
                pb::GetProductRequest {
                    id: product.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        inventory
            .get_lot(authorized(
                pb::GetLotRequest {
                    id: lot.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        inventory
            .get_clinic_stock(authorized(
                pb::GetClinicStockRequest {
                    clinic_id: a.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        inventory
            .get_transfer(authorized(
                pb::GetTransferRequest {
                    id: transfer.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );

    // At home nothing moved.
    assert_eq!(
        stock_of(&api, &chain.admin, a, lot).await.0,
        counts(4, 0, 2)
    );
    let ledger = sums_by_lot(&movements(&api, &chain.admin, a, 50).await);
    assert_eq!(ledger.get(&lot).copied(), Some(counts(4, 0, 2)));
}
