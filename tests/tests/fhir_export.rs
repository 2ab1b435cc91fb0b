//! The FHIR R4 export over real sockets, with real tokens: every resource the server answers
//! parses with the FHIR models' own deserializer, `$everything` holds every treatment with the
//! lot and expiry of its device, front desk gets no clinical detail, another organisation's ids
//! do not exist, refusals are `OperationOutcome`s, and the reads reach the audit log.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod flow_support;

use std::time::{Duration, Instant};

use fhir_model::r4b::codes::{FHIRVersion, IssueType};
use fhir_model::r4b::resources::{
    Bundle, Device, OperationOutcome, Patient, Procedure, ProcedurePerformed, Resource,
};
use flow_support::{
    Chain, Rest, create_roller, eligible_client, gtin, id_of, next_year, today, treatment, uuid_at,
};
use serde_json::{Value, json};
use skinledger_e2e::{Answer, Backend, TestServer, e2e_on_both_backends};
use uuid::Uuid;

e2e_on_both_backends!(
    every_fhir_resource_parses_with_the_fhir_models_and_everything_holds_each_treatment_with_its_lot,
    front_desk_gets_procedures_without_clinical_details_and_no_adverse_events,
    another_organisation_s_ids_and_bad_requests_answer_operation_outcomes,
);

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

fn devices(resources: &[Resource]) -> Vec<Device> {
    resources
        .iter()
        .filter_map(|r| match r {
            Resource::Device(d) => Some(d.clone()),
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

/// The extension URLs of a procedure.
fn extension_urls(procedure: &Procedure) -> Vec<String> {
    procedure.extension.iter().map(|e| e.url.clone()).collect()
}

async fn every_fhir_resource_parses_with_the_fhir_models_and_everything_holds_each_treatment_with_its_lot(
    backend: Backend,
) {
    let (server, api, chain) = start(backend, "fhir-round-trip").await;
    let r = record(&api, chain).await;
    let physician = r.chain.physician.token.clone();

    // The capability statement needs no token and says R4.
    let metadata = server
        .get("/fhir/R4/metadata", None)
        .await
        .expect_status(200);
    match resource(&metadata) {
        Resource::CapabilityStatement(statement) => {
            assert_eq!(statement.fhir_version, FHIRVersion::N401);
        }
        other => panic!("not a CapabilityStatement: {other:?}"),
    }

    let answer = api
        .get(&format!("/fhir/R4/Patient/{}", r.client), &physician)
        .await
        .expect_status(200);
    assert_eq!(answer.header("cache-control").as_deref(), Some("no-store"));
    let patient: Patient = match resource(&answer) {
        Resource::Patient(p) => p,
        other => panic!("not a Patient: {other:?}"),
    };
    assert_eq!(patient.id.as_deref(), Some(r.client.to_string().as_str()));
    let name = patient.name.iter().flatten().next().expect("a name");
    assert_eq!(name.family.as_deref(), Some("Fhir"));
    assert_eq!(
        serde_json::to_value(&patient.birth_date).ok(),
        Some(json!("1988-04-12"))
    );

    // Procedures: both treatments in full, each with its device.
    let search = bundle(
        &api.get(
            &format!("/fhir/R4/Procedure?patient=Patient/{}", r.client),
            &physician,
        )
        .await
        .expect_status(200),
    );
    assert_eq!(search.total, Some(2));
    let found = procedures(&entries(&search));
    let ids: Vec<String> = found.iter().filter_map(|p| p.id.clone()).collect();
    assert_eq!(ids, vec![r.first.to_string(), r.second.to_string()]);
    for procedure in &found {
        assert!(procedure.code.is_some(), "{procedure:?}");
        assert!(matches!(
            procedure.performed,
            Some(ProcedurePerformed::DateTime(_))
        ));
        assert_eq!(
            procedure.subject.reference.as_deref(),
            Some(format!("Patient/{}", r.client).as_str())
        );
        let performer = procedure
            .performer
            .iter()
            .flatten()
            .next()
            .expect("a performer");
        assert_eq!(performer.actor.r#type.as_deref(), Some("Practitioner"));
        let location = procedure.location.as_ref().expect("a location");
        assert_eq!(
            location.identifier.as_ref().and_then(|i| i.value.clone()),
            Some(r.chain.clinic_a.to_string())
        );
        let sites: Vec<String> = procedure
            .body_site
            .iter()
            .flatten()
            .flat_map(|c| c.coding.iter().flatten().filter_map(|c| c.code.clone()))
            .collect();
        assert_eq!(sites, vec!["full_face".to_owned()]);
        assert!(
            extension_urls(procedure)
                .iter()
                .any(|u| u.ends_with("/needle-depth"))
        );
        assert_eq!(procedure.focal_device.len(), 1, "{procedure:?}");
    }
    let first_device = found[0].focal_device[0].as_ref().expect("a device");
    assert_eq!(
        first_device.manipulated.reference.as_deref(),
        Some(format!("Device/{}", r.lot_a).as_str())
    );
    // The serialised unit is contained, with its serial, and points to its lot.
    let second_device = found[1].focal_device[0].as_ref().expect("a device");
    assert_eq!(
        second_device.manipulated.reference.as_deref(),
        Some("#unit-1")
    );
    let unit = match found[1].contained.first() {
        Some(Resource::Device(d)) => d.clone(),
        other => panic!("no contained device: {other:?}"),
    };
    assert_eq!(unit.serial_number.as_deref(), Some("SN-9001"));
    assert_eq!(unit.lot_number.as_deref(), Some("FHIR-B"));
    assert_eq!(
        unit.parent.as_ref().and_then(|p| p.reference.clone()),
        Some(format!("Device/{}", r.lot_b))
    );
    let hrf = unit
        .udi_carrier
        .iter()
        .flatten()
        .next()
        .and_then(|u| u.carrier_hrf.clone());
    assert!(
        hrf.as_deref()
            .is_some_and(|h| h.contains("(21)SN-9001") && h.contains("(10)FHIR-B")),
        "{hrf:?}"
    );

    // The lot as a Device.
    let device = match resource(
        &api.get(&format!("/fhir/R4/Device/{}", r.lot_a), &physician)
            .await
            .expect_status(200),
    ) {
        Resource::Device(d) => d,
        other => panic!("not a Device: {other:?}"),
    };
    assert_eq!(device.lot_number.as_deref(), Some("FHIR-A"));
    assert_eq!(
        serde_json::to_value(&device.expiration_date).ok(),
        Some(json!(next_year()))
    );
    assert_eq!(device.manufacturer.as_deref(), Some("Dermaroll GmbH"));
    let udi = device
        .udi_carrier
        .iter()
        .flatten()
        .next()
        .expect("a UDI carrier");
    assert_eq!(udi.device_identifier.as_deref(), Some(gtin(801).as_str()));
    assert_eq!(
        udi.issuer.as_deref(),
        Some("http://hl7.org/fhir/NamingSystem/gs1-di")
    );

    // The adverse event, with its severity in HL7's codes and its suspects.
    let events = entries(&bundle(
        &api.get(
            &format!("/fhir/R4/AdverseEvent?subject={}", r.client),
            &physician,
        )
        .await
        .expect_status(200),
    ));
    let event = match events.as_slice() {
        [Resource::AdverseEvent(e)] => e.clone(),
        other => panic!("expected one AdverseEvent: {other:?}"),
    };
    assert_eq!(
        event.id.as_deref(),
        Some(r.adverse_event.to_string().as_str())
    );
    let severity = event
        .severity
        .as_ref()
        .and_then(|s| s.coding.iter().flatten().next().cloned())
        .expect("a severity");
    assert_eq!(severity.code.as_deref(), Some("moderate"));
    let suspects: Vec<Option<String>> = event
        .suspect_entity
        .iter()
        .flatten()
        .map(|s| s.instance.reference.clone())
        .collect();
    assert_eq!(
        suspects,
        vec![
            Some(format!("Procedure/{}", r.first)),
            Some(format!("Device/{}", r.lot_a))
        ]
    );
    let narrative = event
        .text
        .as_ref()
        .map(|t| t.div.clone())
        .unwrap_or_default();
    assert!(narrative.contains("Bruise &lt;2 cm&gt;"), "{narrative}");

    // Consents: to treatment, and to photographs.
    let consents = entries(&bundle(
        &api.get(
            &format!("/fhir/R4/Consent?patient={}", r.client),
            &physician,
        )
        .await
        .expect_status(200),
    ));
    assert_eq!(count(&consents, "Consent"), 2, "{consents:?}");

    // $everything: the patient, both procedures, both lots with number and expiry, the adverse
    // event and the consents.
    let everything = entries(&bundle(
        &api.get(
            &format!("/fhir/R4/Patient/{}/$everything", r.client),
            &physician,
        )
        .await
        .expect_status(200),
    ));
    assert_eq!(count(&everything, "Patient"), 1);
    let held: Vec<String> = procedures(&everything)
        .iter()
        .filter_map(|p| p.id.clone())
        .collect();
    assert_eq!(held, vec![r.first.to_string(), r.second.to_string()]);
    let mut lots: Vec<(String, Option<String>, Option<Value>)> = devices(&everything)
        .iter()
        .map(|d| {
            (
                d.id.clone().unwrap_or_default(),
                d.lot_number.clone(),
                serde_json::to_value(&d.expiration_date).ok(),
            )
        })
        .collect();
    lots.sort_by(|x, y| x.0.cmp(&y.0));
    let mut expected = vec![
        (
            r.lot_a.to_string(),
            Some("FHIR-A".to_owned()),
            Some(json!(next_year())),
        ),
        (
            r.lot_b.to_string(),
            Some("FHIR-B".to_owned()),
            Some(json!(next_year())),
        ),
    ];
    expected.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(lots, expected);
    assert_eq!(count(&everything, "AdverseEvent"), 1);
    assert_eq!(count(&everything, "Consent"), 2);
    let _ = r.product;

    // The reads are in the audit log, under the physician, about the client.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = api
            .get(
                &format!("/v1/audit-events?client_id={}&limit=200", r.client),
                &r.chain.admin,
            )
            .await
            .expect_status(200)
            .json();
        let actions: Vec<String> = log["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["actor_id"] == json!(r.chain.physician.id))
            .filter_map(|e| e["action"].as_str().map(str::to_owned))
            .collect();
        let has = |action: &str| actions.iter().filter(|a| *a == action).count();
        // Patient, Consent and $everything read the client; Procedure and $everything list
        // the treatments.
        if has("client.read") >= 3 && has("treatment.list") >= 2 && has("adverse_event.list") >= 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the FHIR reads never reached the audit log: {actions:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
}

async fn front_desk_gets_procedures_without_clinical_details_and_no_adverse_events(
    backend: Backend,
) {
    let (server, api, chain) = start(backend, "fhir-front-desk").await;
    let r = record(&api, chain).await;
    let desk = r.chain.front_desk.token.clone();

    let search = api
        .get(&format!("/fhir/R4/Procedure?patient={}", r.client), &desk)
        .await
        .expect_status(200);
    // Not a field of clinical content anywhere in the answer.
    let text = search.text();
    for clinical in [
        "needle-depth",
        "passes",
        "bodySite",
        "focalDevice",
        "reasonCode",
        "note",
        "usedCode",
        "EMLA",
        "full_face",
    ] {
        assert!(
            !text.contains(clinical),
            "front desk received `{clinical}`: {text}"
        );
    }
    let found = procedures(&entries(&bundle(&search)));
    assert_eq!(found.len(), 2);
    for procedure in &found {
        assert!(procedure.code.is_none());
        assert!(procedure.body_site.is_empty() && procedure.focal_device.is_empty());
        assert!(procedure.extension.is_empty() && procedure.note.is_empty());
        assert!(procedure.performed.is_some() && procedure.location.is_some());
        let labels: Vec<Option<String>> = procedure
            .meta
            .iter()
            .flat_map(|m| m.security.iter().flatten().map(|c| c.code.clone()))
            .collect();
        assert_eq!(labels, vec![Some("REDACTED".to_owned())]);
    }

    // Adverse events are clinical content: refused.
    let refused = outcome(
        &api.get(
            &format!("/fhir/R4/AdverseEvent?subject={}", r.client),
            &desk,
        )
        .await,
        403,
    );
    assert_eq!(issue_codes(&refused), vec![IssueType::Forbidden]);

    // $everything holds what front desk may see: no devices, no adverse events, no details.
    let everything = api
        .get(&format!("/fhir/R4/Patient/{}/$everything", r.client), &desk)
        .await
        .expect_status(200);
    assert!(
        !everything.text().contains("needle-depth"),
        "{}",
        everything.text()
    );
    let everything = entries(&bundle(&everything));
    assert_eq!(count(&everything, "Procedure"), 2);
    assert_eq!(count(&everything, "Device"), 0);
    assert_eq!(count(&everything, "AdverseEvent"), 0);
    assert_eq!(count(&everything, "Patient"), 1);

    // A nurse of the other clinic reads these treatments as front desk does.
    let nurse_b = procedures(&entries(&bundle(
        &api.get(
            &format!("/fhir/R4/Procedure?patient={}", r.client),
            &r.chain.nurse_b.token,
        )
        .await
        .expect_status(200),
    )));
    assert!(
        nurse_b
            .iter()
            .all(|p| p.code.is_none() && p.focal_device.is_empty())
    );
    let _ = (
        r.lot_a,
        r.lot_b,
        r.first,
        r.second,
        r.adverse_event,
        r.product,
    );
    server.stop().await;
}

async fn another_organisation_s_ids_and_bad_requests_answer_operation_outcomes(backend: Backend) {
    let (server, api, chain) = start(backend, "fhir-tenancy").await;
    let r = record(&api, chain).await;
    let stranger = server.create_org("fhir-strangers").await;
    let token = stranger.admin_token.as_str();

    for path in [
        format!("/fhir/R4/Patient/{}", r.client),
        format!("/fhir/R4/Patient/{}/$everything", r.client),
        format!("/fhir/R4/Procedure?patient={}", r.client),
        format!("/fhir/R4/AdverseEvent?subject={}", r.client),
        format!("/fhir/R4/Consent?patient={}", r.client),
        format!("/fhir/R4/Device/{}", r.lot_a),
        "/fhir/R4/Patient/not-a-uuid".to_owned(),
        format!("/fhir/R4/Procedure?patient={}", Uuid::now_v7()),
        "/fhir/R4/Observation".to_owned(),
    ] {
        let refused = outcome(&api.get(&path, token).await, 404);
        assert_eq!(issue_codes(&refused), vec![IssueType::NotFound], "{path}");
    }

    // No token, or a forged one: 401, with the challenge.
    let path = format!("/fhir/R4/Patient/{}", r.client);
    let anonymous = server.get(&path, None).await;
    assert_eq!(
        anonymous.header("www-authenticate").as_deref(),
        Some("Bearer")
    );
    assert_eq!(
        issue_codes(&outcome(&anonymous, 401)),
        vec![IssueType::Login]
    );
    outcome(&server.get(&path, Some("not.a.token")).await, 401);

    // Searches the server cannot run are refused, not answered with everything.
    let admin = r.chain.admin.as_str();
    for path in [
        "/fhir/R4/Procedure".to_owned(),
        format!("/fhir/R4/Procedure?patient={0}&patient={0}", r.client),
        format!("/fhir/R4/Procedure?patient={}&date=ge2020-01-01", r.client),
        format!("/fhir/R4/Consent?patient={}&_format=xml", r.client),
        "/fhir/R4/AdverseEvent?patient=x".to_owned(),
    ] {
        let refused = outcome(&api.get(&path, admin).await, 400);
        assert_eq!(issue_codes(&refused), vec![IssueType::Invalid], "{path}");
    }
    // The answers are the organisation's own once the ids are theirs.
    api.get(
        &format!("/fhir/R4/Procedure?patient={}&_format=json", r.client),
        admin,
    )
    .await
    .expect_status(200);
    let _ = (r.lot_b, r.first, r.second, r.adverse_event, r.product);
    server.stop().await;
}
