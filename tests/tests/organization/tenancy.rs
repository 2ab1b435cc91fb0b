//! Another organisation's ids answer not found on every route, and lists never show its rows.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{
    Backend, Org, PASSWORD, TestServer, authorized, e2e_on_both_backends, grant, pb,
};
use tonic::Code;
use uuid::Uuid;

use crate::ids;

e2e_on_both_backends!(
    another_organisation_s_ids_answer_not_found_on_every_route,
    lists_never_show_another_organisation_s_rows,
    another_organisation_s_ids_answer_not_found_over_grpc,
);

/// Another organisation with one of each: a clinic, a staff member, an API client.
struct Victim {
    org: Org,
    clinic: Uuid,
    staff: Uuid,
    api_client: Uuid,
}

async fn victim(server: &TestServer) -> Victim {
    let org = server.create_org("victim").await;
    let clinic = server
        .create_clinic(&org.admin_token, "Victim Clinic")
        .await;
    let staff = server
        .create_staff(
            &org.admin_token,
            "vera@victim.test",
            &[grant(Role::Nurse, Some(clinic))],
        )
        .await;
    let (api_client, _, _) = server
        .create_api_client(&org.admin_token, &[grant(Role::FrontDesk, Some(clinic))])
        .await;
    Victim {
        org,
        clinic,
        staff,
        api_client,
    }
}

async fn another_organisation_s_ids_answer_not_found_on_every_route(backend: Backend) {
    let server = TestServer::start(backend).await;
    let v = victim(&server).await;
    let intruder = server.create_org("intruder").await;
    let own_clinic = server.create_clinic(&intruder.admin_token, "Mine").await;
    server
        .create_staff(
            &intruder.admin_token,
            "manager@intruder.test",
            &[grant(Role::ClinicManager, Some(own_clinic))],
        )
        .await;
    let manager = server
        .login("intruder", "manager@intruder.test", PASSWORD)
        .await
        .access;

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/v1/clinics/{}", v.clinic), None),
        (
            Method::PATCH,
            format!("/v1/clinics/{}", v.clinic),
            Some(json!({ "name": "Taken" })),
        ),
        (Method::GET, format!("/v1/staff/{}", v.staff), None),
        (Method::GET, format!("/v1/staff/{}", v.org.admin_id), None),
        (
            Method::PATCH,
            format!("/v1/staff/{}", v.staff),
            Some(json!({ "name": "Taken" })),
        ),
        (
            Method::PUT,
            format!("/v1/staff/{}/roles", v.staff),
            Some(json!({ "roles": [] })),
        ),
        (
            Method::POST,
            format!("/v1/staff/{}/deactivate", v.staff),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("/v1/api-clients/{}", v.api_client),
            None,
        ),
    ];
    let mut wrong = Vec::new();
    for (who, token) in [
        ("org_admin", &intruder.admin_token),
        ("clinic_manager", &manager),
    ] {
        for (method, path, body) in &routes {
            let request = server
                .http
                .request(method.clone(), server.url(path))
                .bearer_auth(token);
            let request = match body {
                Some(body) => request.json(body),
                None => request,
            };
            let answer = server.send(request).await;
            if answer.status != 404 || answer.code().as_deref() != Some("not_found") {
                wrong.push(format!(
                    "{who} {method} {path}: {} {}",
                    answer.status,
                    answer.text()
                ));
            }
        }
    }
    // Granting a role at another organisation's clinic names the field.
    let foreign_grant = server
        .post(
            "/v1/staff",
            Some(&intruder.admin_token),
            &json!({ "email": "spy@intruder.test", "name": "Spy", "password": PASSWORD,
                     "roles": [grant(Role::Nurse, Some(v.clinic))] }),
        )
        .await;
    if foreign_grant.status != 422
        || foreign_grant.invalid_fields() != vec!["roles[0].clinic_id".to_owned()]
    {
        wrong.push(format!(
            "POST /v1/staff with a role at another organisation's clinic: {} {}",
            foreign_grant.status,
            foreign_grant.text()
        ));
    }
    assert!(wrong.is_empty(), "not 404:\n{}", wrong.join("\n"));

    // Nothing changed there.
    let owner = Some(v.org.admin_token.as_str());
    let clinic = server
        .get(&format!("/v1/clinics/{}", v.clinic), owner)
        .await
        .expect_status(200)
        .json();
    assert_eq!(clinic["name"], "Victim Clinic");
    let staff = server
        .get(&format!("/v1/staff/{}", v.staff), owner)
        .await
        .expect_status(200)
        .json();
    assert_eq!(staff["name"], "vera");
    assert_eq!(staff["active"], true);
    assert_eq!(staff["roles"].as_array().map(Vec::len), Some(1));
    let clients = server
        .get("/v1/api-clients", owner)
        .await
        .expect_status(200)
        .json();
    assert!(clients["items"][0]["revoked_at"].is_null(), "{clients}");
}

async fn lists_never_show_another_organisation_s_rows(backend: Backend) {
    let server = TestServer::start(backend).await;
    let v = victim(&server).await;
    let other = server.create_org("other").await;
    let own_clinic = server.create_clinic(&other.admin_token, "Mine").await;
    let own_staff = server
        .create_staff(
            &other.admin_token,
            "otto@other.test",
            &[grant(Role::Nurse, Some(own_clinic))],
        )
        .await;
    let (own_client, _, _) = server
        .create_api_client(
            &other.admin_token,
            &[grant(Role::FrontDesk, Some(own_clinic))],
        )
        .await;
    let token = Some(other.admin_token.as_str());

    let victims: BTreeSet<String> = [v.clinic, v.staff, v.api_client, v.org.admin_id]
        .iter()
        .map(Uuid::to_string)
        .collect();
    for (path, own) in [
        ("/v1/clinics?limit=200", own_clinic),
        ("/v1/staff?limit=200", own_staff),
        ("/v1/api-clients?limit=200", own_client),
    ] {
        let listed = ids(&server.get(path, token).await.expect_status(200));
        assert!(
            listed.contains(&own.to_string()),
            "{path} misses its own row"
        );
        assert!(
            listed.is_disjoint(&victims),
            "{path} shows another organisation's rows"
        );
    }
    let audit = server
        .get("/v1/audit-events?limit=200", token)
        .await
        .expect_status(200)
        .json();
    let items = audit["items"].as_array().expect("items");
    assert!(!items.is_empty());
    for event in items {
        for field in ["actor_id", "entity_id"] {
            if let Some(id) = event[field].as_str() {
                assert!(!victims.contains(id), "audit shows {event}");
            }
        }
    }
    // A cursor made from another organisation's id leaks nothing either.
    let page = server
        .get("/v1/clinics?limit=1", Some(&v.org.admin_token))
        .await
        .expect_status(200);
    assert_eq!(ids(&page), BTreeSet::from([v.clinic.to_string()]));

    // gRPC lists too.
    let mut grpc = server.org_grpc();
    let clinics = grpc
        .list_clinics(authorized(
            pb::ListClinicsRequest::default(),
            &other.admin_token,
        ))
        .await
        .expect("ListClinics")
        .into_inner();
    assert!(clinics.items.iter().all(|c| !victims.contains(&c.id)));
    let staff = grpc
        .list_staff(authorized(
            pb::ListStaffRequest::default(),
            &other.admin_token,
        ))
        .await
        .expect("ListStaff")
        .into_inner();
    assert!(staff.items.iter().all(|s| !victims.contains(&s.id)));
    let clients = grpc
        .list_api_clients(authorized(
            pb::ListApiClientsRequest::default(),
            &other.admin_token,
        ))
        .await
        .expect("ListApiClients")
        .into_inner();
    assert!(clients.items.iter().all(|c| !victims.contains(&c.id)));
}

async fn another_organisation_s_ids_answer_not_found_over_grpc(backend: Backend) {
    let server = TestServer::start(backend).await;
    let v = victim(&server).await;
    let intruder = server.create_org("intruder").await;
    let token = intruder.admin_token.as_str();
    let mut grpc = server.org_grpc();

    let results = [
        (
            "GetClinic",
            grpc.get_clinic(authorized(
                pb::GetClinicRequest {
                    id: v.clinic.to_string(),
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
        (
            "UpdateClinic",
            grpc.update_clinic(authorized(
                pb::UpdateClinicRequest {
                    id: v.clinic.to_string(),
                    name: Some("Taken".into()),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
        (
            "GetStaff",
            grpc.get_staff(authorized(
                pb::GetStaffRequest {
                    id: v.staff.to_string(),
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
        (
            "UpdateStaff",
            grpc.update_staff(authorized(
                pb::UpdateStaffRequest {
                    id: v.staff.to_string(),
                    name: Some("Taken".into()),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
        (
            "SetStaffRoles",
            grpc.set_staff_roles(authorized(
                pb::SetStaffRolesRequest {
                    id: v.staff.to_string(),
                    roles: vec![],
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
        (
            "DeactivateStaff",
            grpc.deactivate_staff(authorized(
                pb::DeactivateStaffRequest {
                    id: v.staff.to_string(),
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
        (
            "RevokeApiClient",
            grpc.revoke_api_client(authorized(
                pb::RevokeApiClientRequest {
                    id: v.api_client.to_string(),
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
        (
            "GetClinic with a malformed id",
            grpc.get_clinic(authorized(
                pb::GetClinicRequest {
                    id: "not-a-uuid".into(),
                },
                token,
            ))
            .await
            .map(|_| ()),
        ),
    ];
    let wrong: Vec<String> = results
        .iter()
        .filter(|(_, r)| {
            !matches!(r, Err(s) if s.code() == Code::NotFound && s.message().starts_with("not_found"))
        })
        .map(|(what, r)| format!("{what}: {r:?}"))
        .collect();
    assert!(wrong.is_empty(), "not NOT_FOUND:\n{}", wrong.join("\n"));

    let staff = server
        .get(&format!("/v1/staff/{}", v.staff), Some(&v.org.admin_token))
        .await
        .expect_status(200)
        .json();
    assert_eq!(staff["active"], true);
    assert_eq!(staff["name"], "vera");
}
