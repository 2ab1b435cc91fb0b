//! The clinical flow against the running server, as a clinic's staff go through it: a client, a
//! screening that needs a physician's clearance, eligibility before and after, a roller taken
//! from stock, the treatment, signing, corrections, an adverse event and the aftercare - over
//! REST and over gRPC. Also what front desk never sees, idempotent creation (concurrent, and
//! across a restart), and that another organisation's records do not exist for a caller.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod flow_support;

use flow_support::{
    Chain, Rest, answers, assert_grpc_refused, assert_refused, client_service, create_roller, date,
    date_at, eligible_client, gtin, id_of, inventory_service, items, keys, new_client, pb_answers,
    pb_new_client, pb_treatment, plus_days, receive, register_client, screen, stock_of, treatment,
    treatment_service, uuid_at, with_key, yymmdd,
};
use futures::future::join_all;
use serde_json::{Value, json};
use skinledger_app::orgs::NewOrganization;
use skinledger_e2e::{Backend, PASSWORD, TestServer, authorized, e2e_on_both_backends, pb};
use skinledger_store::testing::TestDb;
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(
    a_client_is_screened_cleared_treated_and_given_aftercare_over_rest,
    a_client_is_screened_cleared_treated_and_given_aftercare_over_grpc,
    front_desk_never_receives_clinical_fields_over_rest_or_grpc,
    ten_concurrent_posts_with_one_idempotency_key_create_one_record,
    an_idempotency_key_still_answers_after_the_server_restarts,
    another_organisation_s_clients_screenings_and_treatments_answer_not_found,
);

/// The default aftercare of DOMAIN.md: each instruction's code and its days.
const AFTERCARE: [(&str, i64); 8] = [
    ("avoid_sun", 14),
    ("no_anti_inflammatories", 7),
    ("no_make_up", 3),
    ("avoid_heat", 15),
    ("no_exfoliation", 14),
    ("no_ice_arnica_bromelain", 7),
    ("avoid_smoking_alcohol_exercise", 7),
    ("moisturise", 7),
];

/// Checks aftercare dated from `performed_on` under the default policy, for a 0.5 mm session.
#[track_caller]
fn assert_default_aftercare(aftercare: &Value, performed_on: chrono::NaiveDate) {
    let instructions = aftercare["instructions"]
        .as_array()
        .unwrap_or_else(|| panic!("no instructions in {aftercare}"));
    let ends: Vec<(String, i64, chrono::NaiveDate)> = instructions
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap_or_default().to_owned(),
                i["days"].as_i64().unwrap_or_default(),
                date_at(i, "until"),
            )
        })
        .collect();
    let expected: Vec<(String, i64, chrono::NaiveDate)> = AFTERCARE
        .iter()
        .map(|(code, days)| ((*code).to_owned(), *days, plus_days(performed_on, *days)))
        .collect();
    assert_eq!(ends, expected, "aftercare end dates: {aftercare}");
    // 0.5 mm waits 14 days; results show from six weeks.
    assert_eq!(
        date_at(aftercare, "next_eligible_on"),
        plus_days(performed_on, 14)
    );
    assert_eq!(
        date_at(aftercare, "results_expected_from"),
        plus_days(performed_on, 42)
    );
}

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

async fn a_client_is_screened_cleared_treated_and_given_aftercare_over_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (clinic, nurse, physician) = (chain.clinic_a, &chain.nurse_a, &chain.physician);
    let mut clients = client_service(&server.channel);
    let mut treatments = treatment_service(&server.channel);
    let mut inventory = inventory_service(&server.channel);

    // A retried creation with its key answers the first client.
    let created = clients
        .create_client(with_key(
            authorized(pb_new_client("Ines", "Berg"), &nurse.token),
            "grpc-client-1",
        ))
        .await
        .expect("the client is registered")
        .into_inner();
    let retried = clients
        .create_client(with_key(
            authorized(pb_new_client("Ines", "Berg"), &nurse.token),
            "grpc-client-1",
        ))
        .await
        .expect("the retry answers")
        .into_inner();
    assert_eq!(retried.id, created.id);
    assert_grpc_refused(
        clients
            .create_client(with_key(
                authorized(pb_new_client("Ines", "Bergmann"), &nurse.token),
                "grpc-client-1",
            ))
            .await,
        Code::InvalidArgument,
        "idempotency_key_reused",
    );
    let client_id = created.id.clone();

    let screening = clients
        .record_screening(authorized(
            pb::RecordScreeningRequest {
                client_id: client_id.clone(),
                clinic_id: Some(clinic.to_string()),
                screened_on: None,
                answers: Some(pb_answers(&["herpes_history"])),
            },
            &nurse.token,
        ))
        .await
        .expect("the screening is recorded")
        .into_inner();
    assert_eq!(screening.outcome, "requires_clearance");
    assert_eq!(screening.reasons.len(), 1);
    assert_eq!(screening.reasons[0].factor, "herpes_history");

    let planned = || pb::CheckEligibilityRequest {
        client_id: client_id.clone(),
        clinic_id: clinic.to_string(),
        practitioner_id: None,
        needle_depth_mm: 0.5,
        date: None,
        endpoint: None,
    };
    let blocked = treatments
        .check_eligibility(authorized(planned(), &nurse.token))
        .await
        .expect("eligibility answers")
        .into_inner();
    assert!(!blocked.eligible);
    assert_eq!(blocked.blockers.len(), 1, "{blocked:?}");
    assert_eq!(blocked.blockers[0].code, "requires_clearance");
    assert_eq!(
        blocked.blockers[0].factor.as_deref(),
        Some("herpes_history")
    );
    assert_eq!(blocked.earliest_eligible_on, None);

    let clearance = |token: &str| {
        authorized(
            pb::ClearScreeningFactorRequest {
                id: screening.id.clone(),
                factor: "herpes_history".into(),
                reason: "Cold sores only as a child; no outbreak since.".into(),
            },
            token,
        )
    };
    assert_grpc_refused(
        clients
            .clear_screening_factor(clearance(&nurse.token))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
    let cleared = clients
        .clear_screening_factor(clearance(&physician.token))
        .await
        .expect("the physician clears")
        .into_inner();
    assert_eq!(cleared.outcome, "eligible");
    assert_eq!(cleared.clearances[0].cleared_by, physician.id.to_string());

    let clean = treatments
        .check_eligibility(authorized(planned(), &nurse.token))
        .await
        .expect("eligibility answers")
        .into_inner();
    assert!(clean.eligible, "{clean:?}");
    assert!(clean.blockers.is_empty());
    assert_eq!(
        clean.earliest_eligible_on.as_deref(),
        Some(clean.date.as_str())
    );

    // A roller on the shelf, scanned in over gRPC.
    let product = inventory
        .create_product(authorized(
            pb::CreateProductRequest {
                kind: "roller".into(),
                name: "Roller 0.5 mm".into(),
                maker: "Dermaroll GmbH".into(),
                gtin: Some(gtin(202)),
                needle_length_mm: Some(0.5),
                needle_count: Some(192),
                max_depth_mm: None,
                single_use: None,
                reorder_point: None,
                clinic_reorder_points: Vec::new(),
            },
            &chain.admin,
        ))
        .await
        .expect("the product is created")
        .into_inner();
    assert!(product.single_use);
    let expiry = plus_days(date(&clean.date), 300);
    let receipt = inventory
        .receive_stock(authorized(
            pb::ReceiveStockRequest {
                clinic_id: clinic.to_string(),
                gs1: Some(format!("(01){}(17){}(10)G-77", gtin(202), yymmdd(expiry))),
                quantity: Some(3),
                ..Default::default()
            },
            &chain.manager_a.token,
        ))
        .await
        .expect("the delivery is received")
        .into_inner();
    let lot = receipt.lot.expect("the receipt names its lot");
    assert_eq!(lot.lot_number, "G-77");
    assert_eq!(lot.expiry, expiry.to_string());

    let record = treatments
        .create_treatment(authorized(
            pb_treatment(clinic, &client_id, &product.id),
            &nurse.token,
        ))
        .await
        .expect("the treatment is recorded")
        .into_inner();
    assert_eq!(record.status, "draft");
    assert_eq!(record.needle_depth_mm, Some(0.5));
    assert_eq!(record.consumables.len(), 1);
    assert_eq!(record.consumables[0].lot_id, lot.id);
    let performed_on = record
        .performed_on
        .clone()
        .expect("the record's day is shown to its practitioner");
    let stock = inventory
        .get_clinic_stock(authorized(
            pb::GetClinicStockRequest {
                clinic_id: clinic.to_string(),
            },
            &chain.admin,
        ))
        .await
        .expect("the stock answers")
        .into_inner();
    assert_eq!(stock.products[0].on_hand, 2);

    let signed = treatments
        .sign_treatment(authorized(
            pb::SignTreatmentRequest {
                id: record.id.clone(),
                if_match: record.version,
            },
            &nurse.token,
        ))
        .await
        .expect("the record is signed")
        .into_inner();
    assert_eq!(signed.status, "signed");
    assert_grpc_refused(
        treatments
            .update_treatment(authorized(
                pb::UpdateTreatmentRequest {
                    id: record.id.clone(),
                    notes: Some("changed my mind".into()),
                    ..Default::default()
                },
                &nurse.token,
            ))
            .await,
        Code::FailedPrecondition,
        "record_signed",
    );

    let addendum = treatments
        .add_addendum(authorized(
            pb::AddAddendumRequest {
                treatment_id: record.id.clone(),
                text: "Correction: eight passes, not six.".into(),
            },
            &nurse.token,
        ))
        .await
        .expect("the addendum is added")
        .into_inner();
    assert_eq!(addendum.author_id, nurse.id.to_string());
    let event = treatments
        .record_adverse_event(authorized(
            pb::RecordAdverseEventRequest {
                treatment_id: record.id.clone(),
                kind: "scabbing".into(),
                severity: "mild".into(),
                onset_on: performed_on.clone(),
                notes: Some("Tiny scabs on the left cheek.".into()),
            },
            &nurse.token,
        ))
        .await
        .expect("the adverse event is recorded")
        .into_inner();
    assert_eq!(event.severity, "mild");

    let reread = treatments
        .get_treatment(authorized(
            pb::GetTreatmentRequest {
                id: record.id.clone(),
            },
            &physician.token,
        ))
        .await
        .expect("the record answers")
        .into_inner();
    assert_eq!(reread.status, "signed");
    assert_eq!(reread.addenda.len(), 1);
    assert_eq!(reread.adverse_events.len(), 1);
    assert_eq!(reread.adverse_events[0].kind, "scabbing");

    let aftercare = treatments
        .get_aftercare(authorized(
            pb::GetAftercareRequest {
                treatment_id: record.id.clone(),
            },
            &nurse.token,
        ))
        .await
        .expect("the aftercare answers")
        .into_inner();
    assert_eq!(aftercare.performed_on, performed_on);
    let as_json = json!({
        "instructions": aftercare.instructions.iter().map(|i| json!({
            "code": i.code, "days": i.days, "until": i.until,
        })).collect::<Vec<_>>(),
        "next_eligible_on": aftercare.next_eligible_on,
        "results_expected_from": aftercare.results_expected_from,
    });
    assert_default_aftercare(&as_json, date(&performed_on));

    let next = treatments
        .check_eligibility(authorized(planned(), &nurse.token))
        .await
        .expect("eligibility answers")
        .into_inner();
    assert_eq!(next.blockers.len(), 1);
    assert_eq!(next.blockers[0].code, "too_soon");
    assert_eq!(
        next.blockers[0].next_eligible_on.as_deref(),
        Some(aftercare.next_eligible_on.as_str())
    );
}

async fn front_desk_never_receives_clinical_fields_over_rest_or_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (clinic, nurse, desk) = (chain.clinic_a, &chain.nurse_a, &chain.front_desk);

    let mut body = new_client("Lena", "Vogt");
    body["notes"] = json!("Keloid scarring on the chest; avoid décolletage.");
    let client_id = api
        .post("/v1/clients", &nurse.token, &body)
        .await
        .expect_status(201)
        .id();
    let screening_id = id_of(&screen(&api, &nurse.token, client_id, clinic, &[]).await);
    let product = create_roller(&api, &chain.admin, &gtin(303)).await;
    receive(&api, &chain.manager_a.token, clinic, product, "FD-1", 2).await;
    let treatment_id = api
        .post(
            "/v1/treatments",
            &nurse.token,
            &treatment(clinic, client_id, product),
        )
        .await
        .expect_status(201)
        .id();
    api.post(
        &format!("/v1/treatments/{treatment_id}/adverse-events"),
        &nurse.token,
        &json!({ "kind": "bruising", "severity": "moderate", "onset_on": flow_support::today() }),
    )
    .await
    .expect_status(201);

    // The nurse sees the clinical notes; front desk sees the contact details only.
    let seen_by_nurse = api
        .get(&format!("/v1/clients/{client_id}"), &nurse.token)
        .await
        .expect_status(200)
        .json();
    assert_eq!(seen_by_nurse["notes"], body["notes"]);
    let seen_by_desk = api
        .get(&format!("/v1/clients/{client_id}"), &desk.token)
        .await
        .expect_status(200)
        .json();
    assert!(!keys(&seen_by_desk).contains("notes"), "{seen_by_desk}");
    assert_eq!(seen_by_desk["phone"], body["phone"]);
    assert_eq!(seen_by_desk["email"], body["email"]);
    let found = api
        .get("/v1/clients?q=vogt", &desk.token)
        .await
        .expect_status(200);
    let found = items(&found);
    assert_eq!(found.len(), 1);
    assert!(!keys(&found[0]).contains("notes"), "{}", found[0]);

    // Treatments: who, where, when and status - nothing clinical, not even empty.
    let reduced: std::collections::BTreeSet<String> = [
        "id",
        "client_id",
        "clinic_id",
        "practitioner_id",
        "performed_at",
        "status",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let record = api
        .get(&format!("/v1/treatments/{treatment_id}"), &desk.token)
        .await
        .expect_status(200);
    assert_eq!(record.header("etag"), None);
    assert_eq!(keys(&record.json()), reduced, "{}", record.text());
    let history = api
        .get(&format!("/v1/clients/{client_id}/treatments"), &desk.token)
        .await
        .expect_status(200);
    let history = items(&history);
    assert_eq!(history.len(), 1);
    assert_eq!(keys(&history[0]), reduced, "{}", history[0]);
    let full = api
        .get(&format!("/v1/treatments/{treatment_id}"), &nurse.token)
        .await
        .expect_status(200)
        .json();
    assert!(full["notes"].is_string() && full["adverse_events"][0].is_object());

    // Screenings and aftercare are clinical through and through.
    for path in [
        format!("/v1/clients/{client_id}/screenings"),
        format!("/v1/screenings/{screening_id}"),
        format!("/v1/treatments/{treatment_id}/aftercare"),
    ] {
        assert_refused(&api.get(&path, &desk.token).await, 403, "forbidden");
    }
    // Nor may front desk write notes it cannot read.
    let mut with_notes = new_client("Otto", "Fink");
    with_notes["notes"] = json!("anything");
    assert_refused(
        &api.post("/v1/clients", &desk.token, &with_notes).await,
        403,
        "forbidden",
    );

    // The same over gRPC: the optional clinical fields are unset.
    let mut clients = client_service(&server.channel);
    let mut treatments = treatment_service(&server.channel);
    let client = clients
        .get_client(authorized(
            pb::GetClientRequest {
                id: client_id.to_string(),
            },
            &desk.token,
        ))
        .await
        .expect("the client answers")
        .into_inner();
    assert_eq!(client.notes, None);
    assert_eq!(client.email.as_deref(), body["email"].as_str());
    let listed = clients
        .list_clients(authorized(
            pb::ListClientsRequest {
                q: Some("Lena".into()),
                limit: None,
                cursor: None,
            },
            &desk.token,
        ))
        .await
        .expect("the list answers")
        .into_inner();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].notes, None);
    let nurse_view = clients
        .get_client(authorized(
            pb::GetClientRequest {
                id: client_id.to_string(),
            },
            &nurse.token,
        ))
        .await
        .expect("the client answers")
        .into_inner();
    assert!(nurse_view.notes.is_some());

    let desk_treatment = |t: &pb::Treatment| {
        assert_eq!(t.id, treatment_id.to_string());
        assert_eq!(t.status, "draft");
        assert!(!t.performed_at.is_empty());
        assert_eq!(t.performed_on, None);
        assert!(t.indications.is_empty() && t.areas.is_empty() && t.topicals.is_empty());
        assert_eq!(t.device_kind, None);
        assert_eq!(t.needle_depth_mm, None);
        assert_eq!(t.passes, None);
        assert_eq!(t.anaesthetic_product, None);
        assert_eq!(t.endpoint, None);
        assert_eq!(t.duration_minutes, None);
        assert_eq!(t.notes, None);
        assert_eq!(t.policy_version, None);
        assert_eq!(t.version, None);
        assert!(t.addenda.is_empty() && t.adverse_events.is_empty() && t.consumables.is_empty());
        assert_eq!(t.aftercare, None);
        assert_eq!((t.signed_at.as_ref(), t.created_at.as_ref()), (None, None));
    };
    let seen = treatments
        .get_treatment(authorized(
            pb::GetTreatmentRequest {
                id: treatment_id.to_string(),
            },
            &desk.token,
        ))
        .await
        .expect("the treatment answers")
        .into_inner();
    desk_treatment(&seen);
    let history = treatments
        .list_client_treatments(authorized(
            pb::ListClientTreatmentsRequest {
                client_id: client_id.to_string(),
                limit: None,
                cursor: None,
            },
            &desk.token,
        ))
        .await
        .expect("the history answers")
        .into_inner();
    assert_eq!(history.items.len(), 1);
    desk_treatment(&history.items[0]);
    let nurse_seen = treatments
        .get_treatment(authorized(
            pb::GetTreatmentRequest {
                id: treatment_id.to_string(),
            },
            &nurse.token,
        ))
        .await
        .expect("the treatment answers")
        .into_inner();
    assert!(nurse_seen.notes.is_some() && nurse_seen.adverse_events.len() == 1);

    assert_grpc_refused(
        clients
            .get_screening(authorized(
                pb::GetScreeningRequest {
                    id: screening_id.to_string(),
                },
                &desk.token,
            ))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
    assert_grpc_refused(
        clients
            .list_screenings(authorized(
                pb::ListScreeningsRequest {
                    client_id: client_id.to_string(),
                    limit: None,
                    cursor: None,
                },
                &desk.token,
            ))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
    assert_grpc_refused(
        treatments
            .get_aftercare(authorized(
                pb::GetAftercareRequest {
                    treatment_id: treatment_id.to_string(),
                },
                &desk.token,
            ))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
}

/// Sends `body` to `path` ten times at once with one key; checks that every answer is the same
/// record (or, at most, "still in flight"), and answers its id.
async fn ten_at_once(api: &Rest, token: &str, path: &str, key: &str, body: &Value) -> Uuid {
    let answers = join_all((0..10).map(|_| api.post_with_key(path, token, key, body))).await;
    let mut ids = std::collections::BTreeSet::new();
    for answer in &answers {
        match answer.status.as_u16() {
            201 => {
                ids.insert(answer.id());
            }
            // API.md allows a key still in flight to answer 409, but never a business conflict.
            409 => assert!(
                !matches!(
                    answer.code().as_deref(),
                    Some("out_of_stock" | "already_exists" | "too_soon")
                ),
                "{}",
                answer.text()
            ),
            other => panic!("a retry answered {other}: {}", answer.text()),
        }
    }
    assert_eq!(ids.len(), 1, "one key, several records: {ids:?}");
    let id = ids.pop_first().expect("one id");
    // Once settled, a retry answers the record, and another body is refused.
    let again = api.post_with_key(path, token, key, body).await;
    assert_eq!(again.expect_status(201).id(), id);
    id
}

async fn ten_concurrent_posts_with_one_idempotency_key_create_one_record(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (clinic, nurse) = (chain.clinic_a, &chain.nurse_a);

    let body = new_client("Nora", "Quist");
    let client_id = ten_at_once(&api, &nurse.token, "/v1/clients", "client-nora", &body).await;
    let found = api
        .get("/v1/clients?q=quist", &nurse.token)
        .await
        .expect_status(200);
    assert_eq!(items(&found).len(), 1, "{}", found.text());
    let other = api
        .post_with_key(
            "/v1/clients",
            &nurse.token,
            "client-nora",
            &new_client("Nora", "Quistorp"),
        )
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");

    let screening = json!({ "clinic_id": clinic, "answers": answers(&[]) });
    let path = format!("/v1/clients/{client_id}/screenings");
    ten_at_once(&api, &nurse.token, &path, "screening-nora", &screening).await;
    let screenings = api.get(&path, &nurse.token).await.expect_status(200);
    assert_eq!(items(&screenings).len(), 1, "{}", screenings.text());
    let other = api
        .post_with_key(
            &path,
            &nurse.token,
            "screening-nora",
            &json!({ "clinic_id": clinic, "answers": answers(&["pregnant"]) }),
        )
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");

    // A treatment retried ten times at once is recorded once and takes one roller.
    let product = create_roller(&api, &chain.admin, &gtin(404)).await;
    let lot = uuid_at(
        &receive(&api, &chain.manager_a.token, clinic, product, "IK-1", 5).await["lot"],
        "id",
    );
    let session = treatment(clinic, client_id, product);
    ten_at_once(
        &api,
        &nurse.token,
        "/v1/treatments",
        "treatment-nora",
        &session,
    )
    .await;
    let history = api
        .get(&format!("/v1/clients/{client_id}/treatments"), &nurse.token)
        .await
        .expect_status(200);
    assert_eq!(items(&history).len(), 1, "{}", history.text());
    assert_eq!(stock_of(&api, &chain.admin, clinic, lot).await.0.on_hand, 4);
    let mut changed = session.clone();
    changed["passes"] = json!(10);
    let other = api
        .post_with_key("/v1/treatments", &nurse.token, "treatment-nora", &changed)
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");
}

async fn an_idempotency_key_still_answers_after_the_server_restarts(backend: Backend) {
    // One database outlives both servers.
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres()
            .await
            .expect("SKINLEDGER_TEST_POSTGRES_URL is set"),
    };
    let url = db.url.clone();
    let first = TestServer::start_with(backend, |c| c.database_url = url.clone()).await;
    // The harness's own `app` is over its own fresh database, so the organisation is created
    // (as the CLI would) over the shared one.
    let (app, audit) =
        skinledger::app(&first.config, db.db.clone()).expect("the app over the shared database");
    app.create_organization(NewOrganization {
        slug: "glow".into(),
        name: "Glow clinics".into(),
        admin_email: "admin@glow.test".into(),
        admin_password: PASSWORD.into(),
    })
    .await
    .expect("the organisation is created");
    audit.finish().await;

    let api = Rest::of(&first);
    let token = api.login("glow", "admin@glow.test").await;
    let body = new_client("Rosa", "Lind");
    let created = api
        .post_with_key("/v1/clients", &token, "restart-key-1", &body)
        .await
        .expect_status(201)
        .id();
    first.stop().await;

    let second = TestServer::start_with(backend, |c| c.database_url = url.clone()).await;
    let api = Rest::of(&second);
    // The access token is still good: same key, same database.
    let replayed = api
        .post_with_key("/v1/clients", &token, "restart-key-1", &body)
        .await
        .expect_status(201);
    assert_eq!(replayed.id(), created);
    let other = api
        .post_with_key(
            "/v1/clients",
            &token,
            "restart-key-1",
            &new_client("Rosa", "Lindqvist"),
        )
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");
    let found = api
        .get("/v1/clients?q=lind", &token)
        .await
        .expect_status(200);
    assert_eq!(items(&found).len(), 1, "{}", found.text());
    second.stop().await;
    drop(db);
}

async fn another_organisation_s_clients_screenings_and_treatments_answer_not_found(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (clinic, nurse) = (chain.clinic_a, &chain.nurse_a);
    let client_id = eligible_client(&api, &nurse.token, clinic, "Tara", "Holm").await;
    let screening_id = id_of(
        &screen(
            &api,
            &nurse.token,
            client_id,
            clinic,
            &["very_sensitive_skin"],
        )
        .await,
    );
    let product = create_roller(&api, &chain.admin, &gtin(505)).await;
    receive(&api, &chain.manager_a.token, clinic, product, "ISO-1", 2).await;
    // The second screening needs clearance before the treatment.
    api.post(
        &format!("/v1/screenings/{screening_id}/clearance"),
        &chain.physician.token,
        &json!({ "factor": "very_sensitive_skin", "reason": "Patch test fine." }),
    )
    .await
    .expect_status(200);
    let treatment_id = api
        .post(
            "/v1/treatments",
            &nurse.token,
            &treatment(clinic, client_id, product),
        )
        .await
        .expect_status(201)
        .id();

    // A physician of another organisation, who may do everything clinical at home.
    let other = server.create_org("lumen").await;
    let home = api
        .post(
            "/v1/clinics",
            &other.admin_token,
            &json!({ "name": "Lumen Ost" }),
        )
        .await
        .expect_status(201)
        .id();
    let stranger = flow_support::add_staff(
        &api,
        "lumen",
        &other.admin_token,
        "physician@lumen.test",
        &[skinledger_e2e::grant(
            skinledger_domain::role::Role::Physician,
            Some(home),
        )],
    )
    .await;
    let home_product = create_roller(&api, &other.admin_token, &gtin(606)).await;

    let client = format!("/v1/clients/{client_id}");
    let record = format!("/v1/treatments/{treatment_id}");
    for token in [&stranger.token, &other.admin_token] {
        for path in [
            client.clone(),
            format!("{client}/screenings"),
            format!("{client}/treatments"),
            format!("/v1/screenings/{screening_id}"),
            record.clone(),
            format!("{record}/aftercare"),
        ] {
            let answer = api.get(&path, token).await;
            assert_refused(&answer, 404, "not_found");
        }
        let writes = [
            (
                reqwest::Method::PATCH,
                client.clone(),
                json!({ "phone": "+49 30 000000" }),
            ),
            (
                reqwest::Method::POST,
                format!("{client}/screenings"),
                json!({ "answers": answers(&[]) }),
            ),
            (
                reqwest::Method::POST,
                format!("/v1/screenings/{screening_id}/clearance"),
                json!({ "factor": "very_sensitive_skin", "reason": "again" }),
            ),
            (
                reqwest::Method::PATCH,
                record.clone(),
                json!({ "notes": "mine now" }),
            ),
            (reqwest::Method::POST, format!("{record}/sign"), json!({})),
            (
                reqwest::Method::POST,
                format!("{record}/addenda"),
                json!({ "text": "mine now" }),
            ),
            (
                reqwest::Method::POST,
                format!("{record}/adverse-events"),
                json!({ "kind": "other", "severity": "mild", "onset_on": flow_support::today() }),
            ),
            (
                reqwest::Method::POST,
                "/v1/eligibility".to_owned(),
                json!({ "client_id": client_id, "clinic_id": home, "needle_depth_mm": 0.5 }),
            ),
            (
                reqwest::Method::POST,
                "/v1/treatments".to_owned(),
                treatment(home, client_id, home_product),
            ),
        ];
        for (method, path, body) in writes {
            let answer = api
                .send(api.request(method.clone(), &path, token).json(&body))
                .await;
            assert_refused(&answer, 404, "not_found");
        }
        let searched = api
            .get("/v1/clients?q=holm", token)
            .await
            .expect_status(200);
        assert!(items(&searched).is_empty(), "{}", searched.text());
    }

    let mut clients = client_service(&server.channel);
    let mut treatments = treatment_service(&server.channel);
    let token = &stranger.token;
    assert_grpc_refused(
        clients
            .get_client(authorized(
                pb::GetClientRequest {
                    id: client_id.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        clients
            .get_screening(authorized(
                pb::GetScreeningRequest {
                    id: screening_id.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        treatments
            .get_treatment(authorized(
                pb::GetTreatmentRequest {
                    id: treatment_id.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        treatments
            .add_addendum(authorized(
                pb::AddAddendumRequest {
                    treatment_id: treatment_id.to_string(),
                    text: "mine now".into(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );

    // At home, everything is where it was.
    let record = api
        .get(&format!("/v1/treatments/{treatment_id}"), &nurse.token)
        .await
        .expect_status(200)
        .json();
    assert_eq!(record["status"], "draft");
    assert_eq!(record["addenda"], json!([]));
}
