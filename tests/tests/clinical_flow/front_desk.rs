//! The front desk never receives clinical fields, over REST or gRPC.

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;

use crate::flow_support;
use crate::flow_support::{
    Chain, Rest, assert_grpc_refused, assert_refused, client_service, create_roller, gtin, id_of,
    items, keys, new_client, receive, screen, treatment, treatment_service,
};

e2e_on_both_backends!(front_desk_never_receives_clinical_fields_over_rest_or_grpc);

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
