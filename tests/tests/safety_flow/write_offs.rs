//! A unit dropped at the chair is written off and reported, over REST and gRPC.

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;

use crate::flow_support;
use crate::flow_support::{
    Chain, Counts, Rest, assert_grpc_refused, assert_refused, create_roller, gtin,
    inventory_service, receive, today, uuid_at,
};

e2e_on_both_backends!(a_unit_dropped_at_the_chair_is_written_off_and_reported_over_rest_and_grpc);

async fn a_unit_dropped_at_the_chair_is_written_off_and_reported_over_rest_and_grpc(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, nurse, manager) = (
        chain.clinic_a,
        chain.nurse_a.token.as_str(),
        chain.manager_a.token.as_str(),
    );
    let roller = create_roller(&api, &chain.admin, &gtin(901)).await;
    let lot = uuid_at(
        &receive(&api, manager, a, roller, "DROP-1", 5).await["lot"],
        "id",
    );
    let path = format!("/v1/clinics/{a}/disposals");
    let dropped = json!({ "lot_id": lot, "reason": "dropped", "note": "fell off the tray" });

    let first = api
        .post(&path, nurse, &dropped)
        .await
        .expect_status(201)
        .json();
    assert_eq!(first["reason"], "dropped");
    assert_eq!(first["balance"]["on_hand"], 4);
    assert_eq!(first["actor_id"], json!(chain.nurse_a.id));
    // Not the manager's to do at the chair, nor front desk's; a made-up reason is named.
    assert_refused(&api.post(&path, manager, &dropped).await, 403, "forbidden");
    assert_refused(
        &api.post(&path, &chain.front_desk.token, &dropped).await,
        403,
        "forbidden",
    );
    let answer = api
        .post(&path, nurse, &json!({ "lot_id": lot, "reason": "bored" }))
        .await;
    assert_refused(&answer, 422, "validation_failed");
    assert_eq!(answer.invalid_fields(), vec!["reason"]);

    // The same over gRPC.
    let mut inventory = inventory_service(&server.channel);
    let second = inventory
        .record_disposal(authorized(
            pb::RecordDisposalRequest {
                clinic_id: a.to_string(),
                lot_id: lot.to_string(),
                serial: None,
                reason: "contaminated".into(),
                note: None,
            },
            nurse,
        ))
        .await
        .expect("written off over gRPC")
        .into_inner();
    assert_eq!(second.balance.map(|b| b.on_hand), Some(3));
    assert_grpc_refused(
        inventory
            .record_disposal(authorized(
                pb::RecordDisposalRequest {
                    clinic_id: a.to_string(),
                    lot_id: lot.to_string(),
                    serial: None,
                    reason: "dropped".into(),
                    note: None,
                },
                manager,
            ))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );

    // Two in a day: the nurse shows in the report, over REST and gRPC, for managers only.
    let report = api
        .get(
            &format!("/v1/reports/disposals?from={}&to={}", today(), today()),
            manager,
        )
        .await
        .expect_status(200)
        .json();
    let lines = report["items"].as_array().expect("items");
    assert_eq!(lines.len(), 1, "{report}");
    assert_eq!(lines[0]["actor_id"], json!(chain.nurse_a.id));
    assert_eq!(lines[0]["disposals"], 2);
    assert_eq!(
        lines[0]["reasons"],
        json!({ "dropped": 1, "contaminated": 1, "packaging_damaged": 0 })
    );
    assert_refused(
        &api.get(
            &format!("/v1/reports/disposals?from={}&to={}", today(), today()),
            nurse,
        )
        .await,
        403,
        "forbidden",
    );
    assert_refused(
        &api.get("/v1/reports/disposals?from=yesterday", manager)
            .await,
        422,
        "validation_failed",
    );
    let mut reports = pb::report_service_client::ReportServiceClient::new(server.channel.clone());
    let lines = reports
        .disposals(authorized(
            pb::DisposalsRequest {
                from: today().to_string(),
                to: today().to_string(),
                clinic_id: Some(a.to_string()),
            },
            manager,
        ))
        .await
        .expect("report over gRPC")
        .into_inner()
        .items;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].disposals, 2);
    assert_eq!(lines[0].actor_id, chain.nurse_a.id.to_string());

    // Both write-offs are ledger movements, and the ledger still adds up to the stock.
    let ledger = api
        .get(&format!("/v1/clinics/{a}/movements?lot_id={lot}"), manager)
        .await
        .expect_status(200)
        .json();
    let kinds: Vec<&str> = ledger["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["receipt", "disposal", "disposal"]);
    assert_eq!(
        flow_support::assert_ledger_matches_stock(&api, &chain.admin, a, lot).await,
        Counts {
            on_hand: 3,
            quarantined: 0,
            in_transit_out: 0
        }
    );
}
