//! A scanned lot transferred, used, recalled and traced over REST.

use std::collections::BTreeMap;

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, e2e_on_both_backends};
use uuid::Uuid;

use crate::counts;
use crate::flow_support::{
    Chain, Rest, assert_ledger_matches_stock, assert_refused, create_roller, date_at,
    eligible_client, gtin, id_of, items, new_client, next_year, plus_days, screen, stock_of, today,
    treatment, uuid_at, yymmdd,
};

e2e_on_both_backends!(a_scanned_lot_is_transferred_used_recalled_and_traced_over_rest);

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
