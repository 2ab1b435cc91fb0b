//! Every FHIR resource parses, and the bundle holds each treatment with its lot.

use std::time::{Duration, Instant};

use fhir_model::r4b::codes::FHIRVersion;
use fhir_model::r4b::resources::{Device, Patient, Procedure, ProcedurePerformed, Resource};
use serde_json::{Value, json};
use skinledger_e2e::{Backend, e2e_on_both_backends};

use crate::flow_support::{gtin, next_year};
use crate::{bundle, count, entries, procedures, record, resource, start};

e2e_on_both_backends!(
    every_fhir_resource_parses_with_the_fhir_models_and_everything_holds_each_treatment_with_its_lot,
);

fn devices(resources: &[Resource]) -> Vec<Device> {
    resources
        .iter()
        .filter_map(|r| match r {
            Resource::Device(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
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
