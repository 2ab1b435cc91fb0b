//! Another organisation's ids and bad requests answer operation outcomes.

use fhir_model::r4b::codes::IssueType;
use skinledger_e2e::{Backend, e2e_on_both_backends};
use uuid::Uuid;

use crate::{issue_codes, outcome, record, start};

e2e_on_both_backends!(another_organisation_s_ids_and_bad_requests_answer_operation_outcomes);

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
