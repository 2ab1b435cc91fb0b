//! The front desk gets procedures without clinical details and no adverse events.

use fhir_model::r4b::codes::IssueType;
use skinledger_e2e::{Backend, e2e_on_both_backends};

use crate::{bundle, count, entries, issue_codes, outcome, procedures, record, start};

e2e_on_both_backends!(front_desk_gets_procedures_without_clinical_details_and_no_adverse_events);

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
