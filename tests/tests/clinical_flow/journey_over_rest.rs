//! A client screened, cleared, treated and given aftercare over REST.

use serde_json::{Value, json};
use skinledger_e2e::{Backend, TestServer, e2e_on_both_backends};

use crate::assert_default_aftercare;
use crate::flow_support::{
    Chain, Rest, assert_refused, create_roller, date_at, gtin, id_of, items, plus_days, receive,
    register_client, screen, stock_of, treatment, uuid_at,
};

e2e_on_both_backends!(a_client_is_screened_cleared_treated_and_given_aftercare_over_rest);

async fn a_client_is_screened_cleared_treated_and_given_aftercare_over_rest(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (clinic, nurse, physician) = (chain.clinic_a, &chain.nurse_a, &chain.physician);

    let client = register_client(&api, &nurse.token, "Mara", "Olsen").await;
    let client_id = id_of(&client);
    assert_eq!(client["email"], "mara.olsen@example.com");
    assert_eq!(client["consent_version"], "2025-01");

    // The client has had cold sores: a physician must clear her first.
    let screening = screen(&api, &nurse.token, client_id, clinic, &["herpes_history"]).await;
    let screening_id = id_of(&screening);
    assert_eq!(screening["outcome"], "requires_clearance", "{screening}");
    assert_eq!(screening["reasons"][0]["factor"], "herpes_history");
    assert_eq!(screening["reasons"][0]["outcome"], "requires_clearance");
    assert_eq!(screening["answers"]["herpes_history"], true);
    assert_eq!(screening["screened_by"], nurse.id.to_string());
    let today = date_at(&screening, "screened_on");
    assert_eq!(date_at(&screening, "valid_until"), plus_days(today, 30));

    let planned = json!({ "client_id": client_id, "clinic_id": clinic, "needle_depth_mm": 0.5 });
    let blocked = api
        .post("/v1/eligibility", &nurse.token, &planned)
        .await
        .expect_status(200)
        .json();
    assert_eq!(blocked["eligible"], false, "{blocked}");
    assert_eq!(
        blocked["blockers"],
        json!([{ "code": "requires_clearance", "factor": "herpes_history" }])
    );
    assert_eq!(blocked["earliest_eligible_on"], Value::Null);
    assert_eq!(blocked["practitioner_id"], nurse.id.to_string());

    // Creating the record runs the same rules.
    let product = create_roller(&api, &chain.admin, &gtin(101)).await;
    let too_early = api
        .post(
            "/v1/treatments",
            &nurse.token,
            &treatment(clinic, client_id, product),
        )
        .await;
    assert_refused(&too_early, 409, "requires_clearance");

    // Only a physician clears.
    let clearance = json!({ "factor": "herpes_history", "reason": "No outbreak in 5 years; prophylactic aciclovir prescribed." });
    let path = format!("/v1/screenings/{screening_id}/clearance");
    assert_refused(
        &api.post(&path, &nurse.token, &clearance).await,
        403,
        "forbidden",
    );
    let cleared = api
        .post(&path, &physician.token, &clearance)
        .await
        .expect_status(200)
        .json();
    assert_eq!(cleared["outcome"], "eligible", "{cleared}");
    assert_eq!(cleared["outcome_at_screening"], "requires_clearance");
    assert_eq!(cleared["clearances"][0]["factor"], "herpes_history");
    assert_eq!(
        cleared["clearances"][0]["cleared_by"],
        physician.id.to_string()
    );

    let clean = api
        .post("/v1/eligibility", &nurse.token, &planned)
        .await
        .expect_status(200)
        .json();
    assert_eq!(clean["eligible"], true, "{clean}");
    assert_eq!(clean["blockers"], json!([]));
    assert_eq!(date_at(&clean, "earliest_eligible_on"), today);
    assert_eq!(clean["screening_id"], screening_id.to_string());

    // Eligible, but no roller on the shelf yet.
    let no_roller = api
        .post(
            "/v1/treatments",
            &nurse.token,
            &treatment(clinic, client_id, product),
        )
        .await;
    assert_refused(&no_roller, 409, "out_of_stock");

    let receipt = receive(&api, &chain.manager_a.token, clinic, product, "L2507A", 5).await;
    let lot = uuid_at(&receipt["lot"], "id");
    assert_eq!(receipt["balance"]["on_hand"], 5);

    let created = api
        .post(
            "/v1/treatments",
            &nurse.token,
            &treatment(clinic, client_id, product),
        )
        .await
        .expect_status(201);
    let etag = created.header("etag").expect("an ETag");
    let record = created.json();
    let treatment_id = id_of(&record);
    assert_eq!(record["status"], "draft");
    assert_eq!(record["practitioner_id"], nurse.id.to_string());
    assert_eq!(record["needle_depth_mm"], 0.5);
    assert_eq!(record["consumables"][0]["lot_id"], lot.to_string());
    assert_eq!(record["consumables"][0]["lot_number"], "L2507A");
    assert_eq!(record["consumables"][0]["quantity"], 1);
    let performed_on = date_at(&record, "performed_on");
    assert_eq!(performed_on, today);
    assert_eq!(stock_of(&api, &chain.admin, clinic, lot).await.0.on_hand, 4);

    // A draft may be edited by its practitioner...
    let path = format!("/v1/treatments/{treatment_id}");
    let edited = api
        .send(
            api.request(reqwest::Method::PATCH, &path, &nurse.token)
                .header("If-Match", &etag)
                .json(&json!({ "passes": 8, "notes": "Eight passes in the end." })),
        )
        .await
        .expect_status(200);
    let etag = edited.header("etag").expect("a new ETag");
    assert_eq!(edited.json()["passes"], 8);
    // ...and signing makes it immutable.
    let signed = api
        .send(
            api.request(reqwest::Method::POST, &format!("{path}/sign"), &nurse.token)
                .header("If-Match", &etag),
        )
        .await
        .expect_status(200)
        .json();
    assert_eq!(signed["status"], "signed");
    assert_eq!(signed["signed_by"], nurse.id.to_string());
    let late_edit = api
        .patch(&path, &nurse.token, &json!({ "notes": "changed my mind" }))
        .await;
    assert_refused(&late_edit, 409, "record_signed");
    let resign = api
        .post(&format!("{path}/sign"), &nurse.token, &json!({}))
        .await;
    assert_refused(&resign, 409, "record_signed");

    // Corrections and adverse events are appended after signing.
    let addendum = api
        .post(
            &format!("{path}/addenda"),
            &nurse.token,
            &json!({ "text": "Correction: the anaesthetic was applied for 40 minutes." }),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(addendum["author_id"], nurse.id.to_string());
    let event = api
        .post(
            &format!("{path}/adverse-events"),
            &physician.token,
            &json!({ "kind": "prolonged_erythema", "severity": "mild",
                     "onset_on": performed_on, "notes": "Redness still visible at 72 h." }),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(event["kind"], "prolonged_erythema");
    assert_eq!(event["recorded_by"], physician.id.to_string());

    let record = api.get(&path, &nurse.token).await.expect_status(200).json();
    assert_eq!(record["status"], "signed");
    assert_eq!(record["notes"], "Eight passes in the end.");
    assert_eq!(record["addenda"][0]["text"], addendum["text"]);
    assert_eq!(record["adverse_events"][0]["id"], event["id"]);

    let aftercare = api
        .get(&format!("{path}/aftercare"), &nurse.token)
        .await
        .expect_status(200)
        .json();
    assert_eq!(aftercare["treatment_id"], treatment_id.to_string());
    assert_eq!(date_at(&aftercare, "performed_on"), performed_on);
    assert_default_aftercare(&aftercare, performed_on);
    assert_default_aftercare(&record["aftercare"], performed_on);

    // The next session waits for the interval, and says until when.
    let next = api
        .post("/v1/eligibility", &nurse.token, &planned)
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        next["blockers"],
        json!([{ "code": "too_soon", "next_eligible_on": aftercare["next_eligible_on"] }])
    );
    assert_eq!(next["earliest_eligible_on"], aftercare["next_eligible_on"]);

    let history = api
        .get(&format!("/v1/clients/{client_id}/treatments"), &nurse.token)
        .await
        .expect_status(200);
    let history = items(&history);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["id"], treatment_id.to_string());
}
