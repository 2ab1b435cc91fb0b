//! Every refusal leaves exactly one audit event, over REST and over gRPC.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, grant, pb};
use skinledger_store::entities::lot;
use tonic::Code;
use uuid::Uuid;

use crate::flow_support;
use crate::flow_support::{
    Chain, Counts, Rest, add_staff, assert_grpc_refused, assert_refused, create_roller,
    eligible_client, gtin, id_of, inventory_service, next_year, pb_treatment, receive,
    register_client, screen, stock_of, today, treatment, treatment_service, uuid_at,
};

e2e_on_both_backends!(every_refusal_leaves_exactly_one_audit_event_over_rest_and_over_grpc);

/// The refusals of the audit log with `code`, oldest first, read over REST as the
/// organisation's admin.
async fn recorded(api: &Rest, admin: &str, code: &str, outcome: &str) -> Vec<Value> {
    let log = api
        .get(
            &format!("/v1/audit-events?outcome={outcome}&limit=200"),
            admin,
        )
        .await
        .expect_status(200)
        .json();
    log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["detail"]["code"] == code)
        .cloned()
        .collect()
}

/// Waits for the batched audit writer until `count` events with `code` and `outcome` are on
/// the record, and checks there are exactly that many.
async fn assert_recorded(api: &Rest, admin: &str, code: &str, outcome: &str, count: usize) {
    let mut events = Vec::new();
    for _ in 0..50 {
        events = recorded(api, admin, code, outcome).await;
        if events.len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events.len(), count, "{code}/{outcome}: {events:#?}");
    let last = events.last().expect("an event");
    assert_eq!(last["outcome"], outcome);
    assert!(
        last["request_id"].as_str().is_some_and(|r| !r.is_empty()),
        "{last}"
    );
    assert!(last["actor_id"].is_string(), "{last}");
}

/// A treatment body for a planned session at `clinic`, with a 0.5 mm roller of `product`.
fn session(clinic: Uuid, client: Uuid, product: Uuid) -> Value {
    treatment(clinic, client, product)
}

async fn every_refusal_leaves_exactly_one_audit_event_over_rest_and_over_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, b, admin) = (chain.clinic_a, chain.clinic_b, chain.admin.as_str());
    let nurse = chain.nurse_a.token.as_str();
    let esthetician = add_staff(
        &api,
        &chain.slug,
        admin,
        "esthetician.a@glow.test",
        &[grant(Role::Esthetician, Some(a))],
    )
    .await;
    let mut treatments = treatment_service(&server.channel);
    let mut inventory = inventory_service(&server.channel);

    // Stock: one product on the shelf, one never delivered, one recalled, one with serials.
    let roller = create_roller(&api, admin, &gtin(701)).await;
    receive(&api, &chain.manager_a.token, a, roller, "OK-1", 20).await;
    let never = create_roller(&api, admin, &gtin(702)).await;
    let recalled = create_roller(&api, admin, &gtin(703)).await;
    let bad = uuid_at(
        &receive(&api, &chain.manager_a.token, a, recalled, "BAD-1", 2).await["lot"],
        "id",
    );
    api.post(
        &format!("/v1/lots/{bad}/recall"),
        admin,
        &json!({ "reason": "maker's field notice" }),
    )
    .await
    .expect_status(200);
    // A lot whose expiry passes while it is on the shelf (none is ever received expired).
    let expired = create_roller(&api, admin, &gtin(705)).await;
    let old = uuid_at(
        &receive(&api, &chain.manager_a.token, a, expired, "OLD-1", 2).await["lot"],
        "id",
    );
    lot::Entity::update_many()
        .col_expr(
            lot::Column::Expiry,
            Expr::value(flow_support::plus_days(today(), -1)),
        )
        .filter(lot::Column::Id.eq(old))
        .exec(server.app.db().write())
        .await
        .expect("the lot's expiry passed");
    let serialised = create_roller(&api, admin, &gtin(704)).await;
    let sn_lot = uuid_at(
        &api.post(
            &format!("/v1/clinics/{a}/receipts"),
            &chain.manager_a.token,
            &json!({ "product_id": serialised, "lot_number": "SN-LOT", "expiry": next_year(),
                     "serials": ["SN-1", "SN-2"] }),
        )
        .await
        .expect_status(201)
        .json()["lot"],
        "id",
    );

    // Clients: one clear, one pregnant, one with a history of cold sores, one never screened,
    // one treated today already.
    let clear = eligible_client(&api, nurse, a, "Clara", "Clear").await;
    let pregnant = id_of(&register_client(&api, nurse, "Petra", "Preg").await);
    screen(&api, nurse, pregnant, a, &["pregnant"]).await;
    let herpes = id_of(&register_client(&api, nurse, "Hanna", "Herpes").await);
    screen(&api, nurse, herpes, a, &["herpes_history"]).await;
    let unscreened = id_of(&register_client(&api, nurse, "Ulla", "Unscreened").await);
    let waxed = id_of(&register_client(&api, nurse, "Wanda", "Waxed").await);
    let mut recent_waxing = flow_support::answers(&[]);
    recent_waxing["last_waxing_or_resurfacing_on"] = json!(today());
    api.post(
        &format!("/v1/clients/{waxed}/screenings"),
        nurse,
        &json!({ "clinic_id": a, "answers": recent_waxing }),
    )
    .await
    .expect_status(201);
    let treated = eligible_client(&api, nurse, a, "Tara", "Treated").await;
    let signed = api
        .post("/v1/treatments", nurse, &session(a, treated, roller))
        .await
        .expect_status(201)
        .id();
    api.post(&format!("/v1/treatments/{signed}/sign"), nurse, &json!({}))
        .await
        .expect_status(200);

    // Each refusal: over REST, then the same over gRPC; one event each time.
    let rest_treat = |token: &str, body: Value| {
        let api = &api;
        let token = token.to_owned();
        async move { api.post("/v1/treatments", &token, &body).await }
    };
    let grpc_session =
        |client: Uuid, product: Uuid| pb_treatment(a, &client.to_string(), &product.to_string());

    // 403 forbidden: front desk records no treatment.
    let desk = chain.front_desk.token.as_str();
    assert_refused(
        &rest_treat(desk, session(a, clear, roller)).await,
        403,
        "forbidden",
    );
    assert_recorded(&api, admin, "forbidden", "denied", 1).await;
    assert_grpc_refused(
        treatments
            .create_treatment(authorized(grpc_session(clear, roller), desk))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );
    assert_recorded(&api, admin, "forbidden", "denied", 2).await;

    // 403 not_assigned_to_clinic: a nurse of the other clinic.
    let nurse_b = chain.nurse_b.token.as_str();
    assert_refused(
        &rest_treat(nurse_b, session(a, clear, roller)).await,
        403,
        "not_assigned_to_clinic",
    );
    assert_recorded(&api, admin, "not_assigned_to_clinic", "denied", 1).await;
    assert_grpc_refused(
        treatments
            .create_treatment(authorized(grpc_session(clear, roller), nurse_b))
            .await,
        Code::PermissionDenied,
        "not_assigned_to_clinic",
    );
    assert_recorded(&api, admin, "not_assigned_to_clinic", "denied", 2).await;

    // 403 outside_scope_of_practice: an esthetician stops short of bleeding.
    let mut bleeding = session(a, clear, roller);
    bleeding["endpoint"] = json!("pinpoint_bleeding");
    assert_refused(
        &rest_treat(&esthetician.token, bleeding).await,
        403,
        "outside_scope_of_practice",
    );
    assert_recorded(&api, admin, "outside_scope_of_practice", "denied", 1).await;
    let mut pb_bleeding = grpc_session(clear, roller);
    pb_bleeding.endpoint = "pinpoint_bleeding".into();
    assert_grpc_refused(
        treatments
            .create_treatment(authorized(pb_bleeding, &esthetician.token))
            .await,
        Code::PermissionDenied,
        "outside_scope_of_practice",
    );
    assert_recorded(&api, admin, "outside_scope_of_practice", "denied", 2).await;

    // 409 refusals of the clinical rules and of the stock.
    let mut unknown_serial = session(a, clear, serialised);
    unknown_serial["consumables"] = json!([{ "product_id": serialised, "serial": "SN-9" }]);
    let mut pb_unknown_serial = grpc_session(clear, serialised);
    pb_unknown_serial.consumables[0].serial = Some("SN-9".into());
    let cases: Vec<(&str, Value, pb::CreateTreatmentRequest)> = vec![
        (
            "contraindicated",
            session(a, pregnant, roller),
            grpc_session(pregnant, roller),
        ),
        (
            "requires_clearance",
            session(a, herpes, roller),
            grpc_session(herpes, roller),
        ),
        (
            "deferred",
            session(a, waxed, roller),
            grpc_session(waxed, roller),
        ),
        (
            "lot_expired",
            session(a, clear, expired),
            grpc_session(clear, expired),
        ),
        (
            "no_valid_screening",
            session(a, unscreened, roller),
            grpc_session(unscreened, roller),
        ),
        (
            "too_soon",
            session(a, treated, roller),
            grpc_session(treated, roller),
        ),
        (
            "out_of_stock",
            session(a, clear, never),
            grpc_session(clear, never),
        ),
        (
            "lot_recalled",
            session(a, clear, recalled),
            grpc_session(clear, recalled),
        ),
        ("unknown_serial", unknown_serial, pb_unknown_serial),
    ];
    for (code, body, message) in cases {
        assert_refused(&rest_treat(nurse, body).await, 409, code);
        assert_recorded(&api, admin, code, "refused", 1).await;
        assert_grpc_refused(
            treatments
                .create_treatment(authorized(message, nurse))
                .await,
            Code::FailedPrecondition,
            code,
        );
        assert_recorded(&api, admin, code, "refused", 2).await;
    }
    // The unknown serial consumed nothing.
    assert_eq!(
        stock_of(&api, admin, a, sn_lot).await.0,
        Counts {
            on_hand: 2,
            quarantined: 0,
            in_transit_out: 0
        }
    );

    // 409 serial_already_used: a unit used once is never used again.
    let second = eligible_client(&api, nurse, a, "Sina", "Second").await;
    let mut with_sn1 = session(a, clear, serialised);
    with_sn1["consumables"] = json!([{ "product_id": serialised, "serial": "SN-1" }]);
    api.post("/v1/treatments", nurse, &with_sn1)
        .await
        .expect_status(201);
    with_sn1["client_id"] = json!(second);
    assert_refused(
        &rest_treat(nurse, with_sn1).await,
        409,
        "serial_already_used",
    );
    assert_recorded(&api, admin, "serial_already_used", "refused", 1).await;
    let mut pb_sn1 = grpc_session(second, serialised);
    pb_sn1.consumables[0].serial = Some("SN-1".into());
    assert_grpc_refused(
        treatments.create_treatment(authorized(pb_sn1, nurse)).await,
        Code::FailedPrecondition,
        "serial_already_used",
    );
    assert_recorded(&api, admin, "serial_already_used", "refused", 2).await;

    // 409 record_signed: a signed record is corrected by addendum only.
    assert_refused(
        &api.patch(
            &format!("/v1/treatments/{signed}"),
            nurse,
            &json!({ "passes": 4 }),
        )
        .await,
        409,
        "record_signed",
    );
    assert_recorded(&api, admin, "record_signed", "refused", 1).await;
    assert_grpc_refused(
        treatments
            .update_treatment(authorized(
                pb::UpdateTreatmentRequest {
                    id: signed.to_string(),
                    passes: Some(4),
                    ..Default::default()
                },
                nurse,
            ))
            .await,
        Code::FailedPrecondition,
        "record_signed",
    );
    assert_recorded(&api, admin, "record_signed", "refused", 2).await;

    // 409 clinic_inactive: a closed clinic takes no delivery.
    api.patch(
        &format!("/v1/clinics/{b}"),
        admin,
        &json!({ "active": false }),
    )
    .await
    .expect_status(200);
    assert_refused(
        &api.post(
            &format!("/v1/clinics/{b}/receipts"),
            admin,
            &json!({ "product_id": roller, "lot_number": "LATE-1", "expiry": next_year(),
                     "quantity": 1 }),
        )
        .await,
        409,
        "clinic_inactive",
    );
    assert_recorded(&api, admin, "clinic_inactive", "refused", 1).await;
    assert_grpc_refused(
        inventory
            .receive_stock(authorized(
                pb::ReceiveStockRequest {
                    clinic_id: b.to_string(),
                    product_id: Some(roller.to_string()),
                    lot_number: Some("LATE-1".into()),
                    expiry: Some(next_year().to_string()),
                    quantity: Some(1),
                    ..Default::default()
                },
                admin,
            ))
            .await,
        Code::FailedPrecondition,
        "clinic_inactive",
    );
    assert_recorded(&api, admin, "clinic_inactive", "refused", 2).await;

    // 422: one answer names the bad indication, the bad area and `passes: 0` at once, and the
    // refusal is on the record with the field names but not the values.
    let mut invalid = session(a, clear, roller);
    invalid["indications"] = json!(["wrinkles_everywhere"]);
    invalid["areas"] = json!(["elbow"]);
    invalid["passes"] = json!(0);
    let answer = rest_treat(nurse, invalid).await;
    assert_refused(&answer, 422, "validation_failed");
    let mut named = answer.invalid_fields();
    named.sort();
    assert_eq!(
        named,
        vec!["areas[0]", "indications[0]", "passes"],
        "{}",
        answer.text()
    );
    assert_recorded(&api, admin, "validation_failed", "refused", 1).await;
    let events = recorded(&api, admin, "validation_failed", "refused").await;
    let event = events.last().expect("an event");
    assert_eq!(
        event["detail"]["fields"],
        json!(["areas[0]", "indications[0]", "passes"])
    );
    assert!(
        !event.to_string().contains("wrinkles_everywhere"),
        "{event}"
    );
    let mut pb_invalid = grpc_session(clear, roller);
    pb_invalid.indications = vec!["wrinkles_everywhere".into()];
    pb_invalid.areas = vec!["elbow".into()];
    pb_invalid.passes = 0;
    let status = treatments
        .create_treatment(authorized(pb_invalid, nurse))
        .await
        .expect_err("three invalid fields");
    assert_eq!(status.code(), Code::InvalidArgument);
    for field in ["indications[0]", "areas[0]", "passes"] {
        assert!(
            status.message().contains(&format!("{field}: ")),
            "{field} in {}",
            status.message()
        );
    }
    assert_recorded(&api, admin, "validation_failed", "refused", 2).await;
    let events = recorded(&api, admin, "validation_failed", "refused").await;
    let event = events.last().expect("an event");
    assert_eq!(event["action"], "request.invalid");
    assert_eq!(
        event["detail"]["route"],
        "/skinledger.v1.TreatmentService/CreateTreatment"
    );
    let mut named: Vec<String> =
        serde_json::from_value(event["detail"]["fields"].clone()).expect("the fields named");
    named.sort();
    assert_eq!(named, vec!["areas[0]", "indications[0]", "passes"]);

    // The questionnaire too: every missing answer is named at once, on both transports.
    let mut partial = flow_support::answers(&[]);
    let answered = partial.as_object_mut().expect("answers");
    answered.remove("pregnant");
    answered.remove("herpes_history");
    let answer = api
        .post(
            &format!("/v1/clients/{clear}/screenings"),
            nurse,
            &json!({ "clinic_id": a, "answers": partial }),
        )
        .await;
    assert_refused(&answer, 422, "validation_failed");
    let mut named = answer.invalid_fields();
    named.sort();
    assert_eq!(named, vec!["answers.herpes_history", "answers.pregnant"]);
    let mut pb_partial = flow_support::pb_answers(&[]);
    pb_partial.pregnant = None;
    pb_partial.herpes_history = None;
    let status = flow_support::client_service(&server.channel)
        .record_screening(authorized(
            pb::RecordScreeningRequest {
                client_id: clear.to_string(),
                clinic_id: Some(a.to_string()),
                screened_on: None,
                answers: Some(pb_partial),
            },
            nurse,
        ))
        .await
        .expect_err("two answers missing");
    for field in ["answers.pregnant", "answers.herpes_history"] {
        assert!(
            status.message().contains(field),
            "{field} in {}",
            status.message()
        );
    }

    // The refusals wrote nothing: the one treatment of each client is still the only one.
    let history = api
        .get(&format!("/v1/clients/{clear}/treatments"), nurse)
        .await
        .expect_status(200)
        .json();
    assert_eq!(history["items"].as_array().map(Vec::len), Some(1));
}
