//! The front desk books from eligibility without a clinical word.

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use uuid::Uuid;

use crate::flow_support;
use crate::flow_support::{
    Chain, Rest, create_roller, eligible_client, gtin, id_of, keys, receive, register_client,
    screen, today, treatment, treatment_service,
};

e2e_on_both_backends!(front_desk_books_from_eligibility_without_a_clinical_word);

async fn front_desk_books_from_eligibility_without_a_clinical_word(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (a, nurse, desk) = (
        chain.clinic_a,
        chain.nurse_a.token.as_str(),
        chain.front_desk.token.as_str(),
    );
    let roller = create_roller(&api, &chain.admin, &gtin(801)).await;
    receive(&api, &chain.manager_a.token, a, roller, "DESK-1", 5).await;
    // Treated today: the next session is 14 days away; and one pregnant client.
    let client = eligible_client(&api, nurse, a, "Bea", "Booked").await;
    api.post("/v1/treatments", nurse, &treatment(a, client, roller))
        .await
        .expect_status(201);
    let pregnant = id_of(&register_client(&api, nurse, "Petra", "Preg").await);
    screen(&api, nurse, pregnant, a, &["pregnant"]).await;

    let ask = |client: Uuid| {
        json!({ "client_id": client, "clinic_id": a, "practitioner_id": chain.nurse_a.id,
                "needle_depth_mm": 0.5 })
    };
    let booked = api
        .post("/v1/eligibility", desk, &ask(client))
        .await
        .expect_status(200)
        .json();
    let allowed: std::collections::BTreeSet<String> = [
        "client_id",
        "clinic_id",
        "practitioner_id",
        "needle_depth_mm",
        "date",
        "eligible",
        "earliest_eligible_on",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(keys(&booked), allowed, "{booked}");
    assert_eq!(booked["eligible"], false);
    assert_eq!(
        booked["earliest_eligible_on"],
        json!(flow_support::plus_days(today(), 14))
    );
    let refused = api
        .post("/v1/eligibility", desk, &ask(pregnant))
        .await
        .expect_status(200)
        .json();
    assert!(keys(&refused).is_subset(&allowed), "{refused}");
    assert!(!refused.to_string().contains("pregnan"), "{refused}");
    assert_eq!(refused["eligible"], false);
    // The nurse sees why.
    let why = api
        .post("/v1/eligibility", nurse, &ask(pregnant))
        .await
        .expect_status(200)
        .json();
    assert_eq!(why["blockers"][0]["code"], "contraindicated", "{why}");

    let mut treatments = treatment_service(&server.channel);
    let check = |client: Uuid| pb::CheckEligibilityRequest {
        client_id: client.to_string(),
        clinic_id: a.to_string(),
        practitioner_id: Some(chain.nurse_a.id.to_string()),
        needle_depth_mm: 0.5,
        date: None,
        endpoint: None,
    };
    for (client, earliest) in [
        (
            client,
            Some(flow_support::plus_days(today(), 14).to_string()),
        ),
        (pregnant, None),
    ] {
        let answer = treatments
            .check_eligibility(authorized(check(client), desk))
            .await
            .expect("front desk asks")
            .into_inner();
        assert!(!answer.eligible);
        assert!(answer.blockers.is_empty(), "{answer:?}");
        assert_eq!(answer.screening_id, None);
        assert_eq!(answer.policy_version, None);
        assert_eq!(answer.earliest_eligible_on, earliest);
    }
    let why = treatments
        .check_eligibility(authorized(check(pregnant), nurse))
        .await
        .expect("the nurse asks")
        .into_inner();
    assert_eq!(why.blockers[0].code, "contraindicated");
    assert!(why.policy_version.is_some() && why.screening_id.is_some());
}
