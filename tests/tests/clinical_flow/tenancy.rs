//! Another organisation's clients, screenings and treatments answer not found.

use serde_json::json;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;

use crate::flow_support;
use crate::flow_support::{
    Chain, Rest, answers, assert_grpc_refused, assert_refused, client_service, create_roller,
    eligible_client, gtin, id_of, items, receive, screen, treatment, treatment_service,
};

e2e_on_both_backends!(another_organisation_s_clients_screenings_and_treatments_answer_not_found);

async fn another_organisation_s_clients_screenings_and_treatments_answer_not_found(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (clinic, nurse) = (chain.clinic_a, &chain.nurse_a);
    let client_id = eligible_client(&api, &nurse.token, clinic, "Tara", "Holm").await;
    let screening_id = id_of(
        &screen(
            &api,
            &nurse.token,
            client_id,
            clinic,
            &["very_sensitive_skin"],
        )
        .await,
    );
    let product = create_roller(&api, &chain.admin, &gtin(505)).await;
    receive(&api, &chain.manager_a.token, clinic, product, "ISO-1", 2).await;
    // The second screening needs clearance before the treatment.
    api.post(
        &format!("/v1/screenings/{screening_id}/clearance"),
        &chain.physician.token,
        &json!({ "factor": "very_sensitive_skin", "reason": "Patch test fine." }),
    )
    .await
    .expect_status(200);
    let treatment_id = api
        .post(
            "/v1/treatments",
            &nurse.token,
            &treatment(clinic, client_id, product),
        )
        .await
        .expect_status(201)
        .id();

    // A physician of another organisation, who may do everything clinical at home.
    let other = server.create_org("lumen").await;
    let home = api
        .post(
            "/v1/clinics",
            &other.admin_token,
            &json!({ "name": "Lumen Ost" }),
        )
        .await
        .expect_status(201)
        .id();
    let stranger = flow_support::add_staff(
        &api,
        "lumen",
        &other.admin_token,
        "physician@lumen.test",
        &[skinledger_e2e::grant(
            skinledger_domain::role::Role::Physician,
            Some(home),
        )],
    )
    .await;
    let home_product = create_roller(&api, &other.admin_token, &gtin(606)).await;

    let client = format!("/v1/clients/{client_id}");
    let record = format!("/v1/treatments/{treatment_id}");
    for token in [&stranger.token, &other.admin_token] {
        for path in [
            client.clone(),
            format!("{client}/screenings"),
            format!("{client}/treatments"),
            format!("/v1/screenings/{screening_id}"),
            record.clone(),
            format!("{record}/aftercare"),
        ] {
            let answer = api.get(&path, token).await;
            assert_refused(&answer, 404, "not_found");
        }
        let writes = [
            (
                reqwest::Method::PATCH,
                client.clone(),
                json!({ "phone": "+49 30 000000" }),
            ),
            (
                reqwest::Method::POST,
                format!("{client}/screenings"),
                json!({ "answers": answers(&[]) }),
            ),
            (
                reqwest::Method::POST,
                format!("/v1/screenings/{screening_id}/clearance"),
                json!({ "factor": "very_sensitive_skin", "reason": "again" }),
            ),
            (
                reqwest::Method::PATCH,
                record.clone(),
                json!({ "notes": "mine now" }),
            ),
            (reqwest::Method::POST, format!("{record}/sign"), json!({})),
            (
                reqwest::Method::POST,
                format!("{record}/addenda"),
                json!({ "text": "mine now" }),
            ),
            (
                reqwest::Method::POST,
                format!("{record}/adverse-events"),
                json!({ "kind": "other", "severity": "mild", "onset_on": flow_support::today() }),
            ),
            (
                reqwest::Method::POST,
                "/v1/eligibility".to_owned(),
                json!({ "client_id": client_id, "clinic_id": home, "needle_depth_mm": 0.5 }),
            ),
            (
                reqwest::Method::POST,
                "/v1/treatments".to_owned(),
                treatment(home, client_id, home_product),
            ),
        ];
        for (method, path, body) in writes {
            let answer = api
                .send(api.request(method.clone(), &path, token).json(&body))
                .await;
            assert_refused(&answer, 404, "not_found");
        }
        let searched = api
            .get("/v1/clients?q=holm", token)
            .await
            .expect_status(200);
        assert!(items(&searched).is_empty(), "{}", searched.text());
    }

    let mut clients = client_service(&server.channel);
    let mut treatments = treatment_service(&server.channel);
    let token = &stranger.token;
    assert_grpc_refused(
        clients
            .get_client(authorized(
                pb::GetClientRequest {
                    id: client_id.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        clients
            .get_screening(authorized(
                pb::GetScreeningRequest {
                    id: screening_id.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        treatments
            .get_treatment(authorized(
                pb::GetTreatmentRequest {
                    id: treatment_id.to_string(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );
    assert_grpc_refused(
        treatments
            .add_addendum(authorized(
                pb::AddAddendumRequest {
                    treatment_id: treatment_id.to_string(),
                    text: "mine now".into(),
                },
                token,
            ))
            .await,
        Code::NotFound,
        "not_found",
    );

    // At home, everything is where it was.
    let record = api
        .get(&format!("/v1/treatments/{treatment_id}"), &nurse.token)
        .await
        .expect_status(200)
        .json();
    assert_eq!(record["status"], "draft");
    assert_eq!(record["addenda"], json!([]));
}
