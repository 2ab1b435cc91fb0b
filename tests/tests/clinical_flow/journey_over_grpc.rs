//! A client screened, cleared, treated and given aftercare over gRPC.

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;

use crate::assert_default_aftercare;
use crate::flow_support::{
    Chain, Rest, assert_grpc_refused, client_service, date, gtin, inventory_service, pb_answers,
    pb_new_client, pb_treatment, plus_days, treatment_service, with_key, yymmdd,
};

e2e_on_both_backends!(a_client_is_screened_cleared_treated_and_given_aftercare_over_grpc);

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
