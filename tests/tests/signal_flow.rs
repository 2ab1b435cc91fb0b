//! The adverse-event signal of a lot over real sockets: three moderate adverse events recorded
//! over REST put the lot on hold at both clinics, the signal reads the same over REST and gRPC,
//! integrators see `lot.signal` and `lot.released` on the feed, and only an `org_admin`
//! releases the lot.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod flow_support;

use flow_support::{
    Chain, Rest, assert_grpc_refused, assert_refused, create_roller, eligible_client, gtin, id_of,
    inventory_service, items, receive, today, treatment, uuid_at,
};
use serde_json::{Value, json};
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(a_lot_held_by_its_signal_is_seen_over_rest_and_grpc_and_released_by_an_admin,);

async fn lot(api: &Rest, token: &str, lot: Uuid) -> Value {
    api.get(&format!("/v1/lots/{lot}"), token)
        .await
        .expect_status(200)
        .json()
}

/// The lot's units at a clinic: (on hand, quarantined).
fn units_at(detail: &Value, clinic: Uuid) -> (i64, i64) {
    detail["stock"]
        .as_array()
        .expect("stock")
        .iter()
        .find(|s| uuid_at(s, "clinic_id") == clinic)
        .map(|s| {
            (
                s["on_hand"].as_i64().expect("on_hand"),
                s["quarantined"].as_i64().expect("quarantined"),
            )
        })
        .expect("the clinic holds the lot")
}

async fn a_lot_held_by_its_signal_is_seen_over_rest_and_grpc_and_released_by_an_admin(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, b) = (chain.clinic_a, chain.clinic_b);
    let product = create_roller(&api, &chain.admin, &gtin(811)).await;
    let received = receive(&api, &chain.manager_a.token, a, product, "SIG-1", 5).await;
    let lot_id = uuid_at(&received["lot"], "id");
    receive(&api, &chain.manager_b.token, b, product, "SIG-1", 4).await;

    let mut treated = Vec::new();
    for last in ["One", "Two", "Three"] {
        let client = eligible_client(&api, &chain.nurse_a.token, a, "Sig", last).await;
        let answer = api
            .post(
                "/v1/treatments",
                &chain.nurse_a.token,
                &treatment(a, client, product),
            )
            .await
            .expect_status(201)
            .json();
        treated.push(id_of(&answer));
    }
    let adverse = |t: Uuid| {
        let (api, token) = (&api, chain.nurse_a.token.clone());
        async move {
            api.post(
                &format!("/v1/treatments/{t}/adverse-events"),
                &token,
                &json!({ "kind": "infection", "severity": "moderate", "onset_on": today() }),
            )
            .await
            .expect_status(201)
        }
    };
    adverse(treated[0]).await;
    adverse(treated[1]).await;
    assert_eq!(
        lot(&api, &chain.admin, lot_id).await["lot"]["status"],
        "active"
    );
    adverse(treated[2]).await;

    let held = lot(&api, &chain.admin, lot_id).await;
    assert_eq!(held["lot"]["status"], "held");
    assert_eq!(held["lot"]["hold_reason"], "adverse_event_signal");
    assert_eq!(units_at(&held, a), (0, 2));
    assert_eq!(units_at(&held, b), (0, 4));
    // A delivery of the held lot is refused.
    assert_refused(
        &api.post(
            &format!("/v1/clinics/{a}/receipts"),
            &chain.manager_a.token,
            &json!({ "product_id": product, "lot_number": "SIG-1",
                     "expiry": flow_support::next_year(), "quantity": 1 }),
        )
        .await,
        409,
        "lot_on_hold",
    );

    // The signal over REST ...
    let rest = api
        .get(&format!("/v1/lots/{lot_id}/signal"), &chain.admin)
        .await
        .expect_status(200)
        .json();
    assert_eq!(rest["status"], "held");
    assert_eq!(rest["in_window"], 3);
    assert_eq!(rest["treatments"], 3);
    assert_eq!(rest["crossed"], true);
    assert_eq!(rest["rule"]["count"], 3);
    assert_eq!(rest["rule"]["min_severity"], "moderate");
    let mut behind: Vec<Uuid> = rest["adverse_events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| uuid_at(e, "treatment_id"))
        .collect();
    behind.sort_unstable();
    let mut expected = treated.clone();
    expected.sort_unstable();
    assert_eq!(behind, expected);
    assert_refused(
        &api.get(&format!("/v1/lots/{lot_id}/signal"), &chain.nurse_a.token)
            .await,
        403,
        "forbidden",
    );

    // ... and over gRPC, the same.
    let mut inventory = inventory_service(&server.channel);
    let grpc = inventory
        .get_lot_signal(authorized(
            pb::GetLotSignalRequest {
                id: lot_id.to_string(),
            },
            &chain.admin,
        ))
        .await
        .expect("signal over gRPC")
        .into_inner();
    assert_eq!(grpc.status, "held");
    assert_eq!(grpc.in_window, 3);
    assert_eq!(grpc.treatments, 3);
    assert!(grpc.crossed);
    assert_eq!(grpc.adverse_events.len(), 3);
    assert_eq!(grpc.rule.expect("rule").count, Some(3));
    assert_grpc_refused(
        inventory
            .release_lot(authorized(
                pb::ReleaseLotRequest {
                    id: lot_id.to_string(),
                    reason: "looks fine".into(),
                },
                &chain.manager_a.token,
            ))
            .await,
        Code::PermissionDenied,
        "forbidden",
    );

    // An integrator sees the hold on the feed.
    let feed = api
        .get("/v1/events?limit=200", &chain.admin)
        .await
        .expect_status(200);
    let types: Vec<String> = items(&feed)
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_owned())
        .collect();
    assert!(types.iter().any(|t| t == "lot.signal"), "{types:?}");

    // The admin releases it over gRPC; the units are back on both shelves.
    let released = inventory
        .release_lot(authorized(
            pb::ReleaseLotRequest {
                id: lot_id.to_string(),
                reason: "maker's investigation found the lot sterile".into(),
            },
            &chain.admin,
        ))
        .await
        .expect("released")
        .into_inner();
    assert_eq!(
        released.lot.expect("lot").lot.expect("lot").status,
        "active"
    );
    let restored: i64 = released.restored.iter().map(|r| r.quantity).sum();
    assert_eq!(restored, 6);
    let after = lot(&api, &chain.admin, lot_id).await;
    assert_eq!(units_at(&after, a), (2, 0));
    assert_eq!(units_at(&after, b), (4, 0));
    assert_refused(
        &api.post(
            &format!("/v1/lots/{lot_id}/release"),
            &chain.admin,
            &json!({ "reason": "again" }),
        )
        .await,
        409,
        "lot_not_on_hold",
    );
    let feed = api
        .get("/v1/events?limit=200", &chain.admin)
        .await
        .expect_status(200);
    assert!(
        items(&feed)
            .iter()
            .any(|e| e["type"] == "lot.released" && uuid_at(e, "lot_id") == lot_id)
    );
}
