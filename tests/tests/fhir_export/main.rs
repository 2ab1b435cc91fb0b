//! The FHIR R4 export over real sockets, with real tokens: every resource the server answers
//! parses with the FHIR models' own deserializer, `$everything` holds every treatment with the
//! lot and expiry of its device, front desk gets no clinical detail, another organisation's ids
//! do not exist, refusals are `OperationOutcome`s, and the reads reach the audit log.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

#[path = "../flow_support/mod.rs"]
mod flow_support;
mod front_desk;
mod refusals;
mod resources;

use fhir_model::r4b::codes::IssueType;
use fhir_model::r4b::resources::{Bundle, OperationOutcome, Procedure, Resource};
use flow_support::{
    Chain, Rest, create_roller, eligible_client, gtin, id_of, next_year, today, treatment, uuid_at,
};
use serde_json::{Value, json};
use skinledger_e2e::{Answer, Backend, TestServer};
use uuid::Uuid;

/// A client with two treatments on two lots (the second lot received with serials), and an
/// adverse event after the first.
struct Record {
    chain: Chain,
    client: Uuid,
    product: Uuid,
    lot_a: Uuid,
    lot_b: Uuid,
    first: Uuid,
    second: Uuid,
    adverse_event: Uuid,
}

async fn record(api: &Rest, chain: Chain) -> Record {
    let (a, manager) = (chain.clinic_a, chain.manager_a.token.clone());
    let product = create_roller(api, &chain.admin, &gtin(801)).await;
    let receive = |body: Value| {
        let manager = manager.clone();
        async move {
            let answer = api
                .post(&format!("/v1/clinics/{a}/receipts"), &manager, &body)
                .await
                .expect_status(201)
                .json();
            uuid_at(&answer["lot"], "id")
        }
    };
    let lot_a = receive(json!({ "product_id": product, "lot_number": "FHIR-A",
                                "expiry": next_year(), "quantity": 3 }))
    .await;
    let lot_b = receive(json!({ "product_id": product, "lot_number": "FHIR-B",
                                "expiry": next_year(), "serials": ["SN-9001", "SN-9002"] }))
    .await;
    let client = eligible_client(api, &chain.nurse_a.token, a, "Ada", "Fhir").await;

    let mut body = treatment(a, client, product);
    body["consumables"] = json!([{ "product_id": product, "lot_id": lot_a }]);
    let first = id_of(
        &api.post("/v1/treatments", &chain.nurse_a.token, &body)
            .await
            .expect_status(201)
            .json(),
    );
    // The second session is too soon after the first: a physician overrides the interval.
    let mut body = treatment(a, client, product);
    body["consumables"] = json!([{ "product_id": product, "lot_id": lot_b, "serial": "SN-9001" }]);
    body["interval_override_reason"] = json!("scar revision follow-up agreed with the client");
    let second = id_of(
        &api.post("/v1/treatments", &chain.physician.token, &body)
            .await
            .expect_status(201)
            .json(),
    );
    let adverse_event = id_of(
        &api.post(
            &format!("/v1/treatments/{first}/adverse-events"),
            &chain.nurse_a.token,
            &json!({ "kind": "bruising", "severity": "moderate", "onset_on": today(),
                     "notes": "Bruise <2 cm> on the left cheek" }),
        )
        .await
        .expect_status(201)
        .json(),
    );
    Record {
        chain,
        client,
        product,
        lot_a,
        lot_b,
        first,
        second,
        adverse_event,
    }
}

async fn start(backend: Backend, slug: &str) -> (TestServer, Rest, Chain) {
    let server = TestServer::start(backend).await;
    let api = Rest::of(&server);
    let org = server.create_org(slug).await;
    let chain = Chain::open(&api, &org).await;
    (server, api, chain)
}

/// The answer as a FHIR resource, read by the FHIR models; checks the media type.
#[track_caller]
fn resource(answer: &Answer) -> Resource {
    let media = answer.header("content-type").unwrap_or_default();
    assert!(
        media.starts_with("application/fhir+json"),
        "{media}: {}",
        answer.text()
    );
    serde_json::from_slice(&answer.body)
        .unwrap_or_else(|e| panic!("not a FHIR resource ({e}): {}", answer.text()))
}

#[track_caller]
fn bundle(answer: &Answer) -> Bundle {
    match resource(answer) {
        Resource::Bundle(bundle) => bundle,
        other => panic!("not a Bundle: {other:?}"),
    }
}

#[track_caller]
fn outcome(answer: &Answer, status: u16) -> OperationOutcome {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.text());
    match resource(answer) {
        Resource::OperationOutcome(outcome) => outcome,
        other => panic!("not an OperationOutcome: {other:?}"),
    }
}

fn issue_codes(outcome: &OperationOutcome) -> Vec<IssueType> {
    outcome.issue.iter().flatten().map(|i| i.code).collect()
}

/// The resources of a bundle, in order.
fn entries(bundle: &Bundle) -> Vec<Resource> {
    bundle
        .entry
        .iter()
        .flatten()
        .filter_map(|e| e.resource.clone())
        .collect()
}

fn procedures(resources: &[Resource]) -> Vec<Procedure> {
    resources
        .iter()
        .filter_map(|r| match r {
            Resource::Procedure(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

fn count(resources: &[Resource], kind: &str) -> usize {
    resources
        .iter()
        .filter(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v["resourceType"].as_str().map(str::to_owned))
                .as_deref()
                == Some(kind)
        })
        .count()
}
