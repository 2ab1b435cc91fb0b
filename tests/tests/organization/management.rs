//! An org admin manages clinics, staff and API clients over REST and over gRPC.

use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{
    Backend, PASSWORD, TestServer, authorized, e2e_on_both_backends, grant, pb, pb_grant,
};
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(
    an_org_admin_manages_clinics_staff_and_api_clients_over_rest,
    the_organization_service_manages_clinics_staff_and_api_clients_over_grpc,
);

async fn an_org_admin_manages_clinics_staff_and_api_clients_over_rest(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = Some(org.admin_token.as_str());

    // Clinics.
    let created = server
        .post(
            "/v1/clinics",
            admin,
            &json!({ "name": "Glow Mitte", "address": "Torstrasse 1", "phone": "+49 30 1" }),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(created["name"], "Glow Mitte");
    assert_eq!(created["active"], true);
    let clinic = created["id"].as_str().expect("an id").to_owned();
    let changed = server
        .patch(
            &format!("/v1/clinics/{clinic}"),
            admin,
            &json!({ "name": "Glow Berlin Mitte", "active": false }),
        )
        .await
        .expect_status(200)
        .json();
    assert_eq!(changed["name"], "Glow Berlin Mitte");
    assert_eq!(changed["active"], false);
    assert_eq!(changed["address"], "Torstrasse 1", "untouched fields stay");
    let read = server
        .get(&format!("/v1/clinics/{clinic}"), admin)
        .await
        .expect_status(200)
        .json();
    assert_eq!(read, changed);

    // Staff.
    let clinic_id = Uuid::parse_str(&clinic).expect("a uuid");
    let member = server
        .post(
            "/v1/staff",
            admin,
            &json!({ "email": "Nina@Glow.test", "name": "Nina", "password": PASSWORD,
                     "roles": [grant(Role::Nurse, Some(clinic_id))] }),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(member["email"], "nina@glow.test");
    assert_eq!(member["active"], true);
    assert!(member.get("password").is_none() && member.get("password_hash").is_none());
    let nina = member["id"].as_str().expect("an id").to_owned();
    let duplicate = server
        .post(
            "/v1/staff",
            admin,
            &json!({ "email": "nina@glow.test", "name": "Nina Two", "password": PASSWORD }),
        )
        .await
        .expect_status(409);
    assert_eq!(duplicate.code().as_deref(), Some("already_exists"));

    let renamed = server
        .patch(
            &format!("/v1/staff/{nina}"),
            admin,
            &json!({ "name": "Nina N." }),
        )
        .await
        .expect_status(200)
        .json();
    assert_eq!(renamed["name"], "Nina N.");
    let roles = json!({ "roles": [grant(Role::Nurse, Some(clinic_id)), grant(Role::Esthetician, Some(clinic_id))] });
    let with_roles = server
        .put(&format!("/v1/staff/{nina}/roles"), admin, &roles)
        .await
        .expect_status(200)
        .json();
    assert_eq!(with_roles["roles"].as_array().map(Vec::len), Some(2));
    let bad_grant = server
        .put(
            &format!("/v1/staff/{nina}/roles"),
            admin,
            &json!({ "roles": [grant(Role::Nurse, None)] }),
        )
        .await
        .expect_status(422);
    assert_eq!(
        bad_grant.invalid_fields(),
        vec!["roles[0].clinic_id".to_owned()]
    );

    // A staff member changes their own password and logs in with it.
    let nina_token = server
        .login("glow", "nina@glow.test", PASSWORD)
        .await
        .access;
    // Only with the current one: a stolen access token alone cannot lock her out.
    let refused = server
        .patch(
            &format!("/v1/staff/{nina}"),
            Some(&nina_token),
            &json!({ "password": "a-thiefs-new-password" }),
        )
        .await
        .expect_status(403);
    assert_eq!(refused.code().as_deref(), Some("reauthentication_required"));
    server
        .patch(
            &format!("/v1/staff/{nina}"),
            Some(&nina_token),
            &json!({ "password": "a-brand-new-password", "current_password": PASSWORD }),
        )
        .await
        .expect_status(200);
    // Every token of the old password stops working, the access token included.
    server
        .get("/v1/me", Some(&nina_token))
        .await
        .expect_status(401);
    server
        .login("glow", "nina@glow.test", "a-brand-new-password")
        .await;

    let deactivated = server
        .post(&format!("/v1/staff/{nina}/deactivate"), admin, &json!({}))
        .await
        .expect_status(200)
        .json();
    assert_eq!(deactivated["active"], false);
    let myself = server
        .post(
            &format!("/v1/staff/{}/deactivate", org.admin_id),
            admin,
            &json!({}),
        )
        .await
        .expect_status(409);
    assert_eq!(myself.code().as_deref(), Some("cannot_deactivate_self"));

    // API clients: the secret is shown once.
    let (client, client_id, secret) = server
        .create_api_client(&org.admin_token, &[grant(Role::FrontDesk, Some(clinic_id))])
        .await;
    assert!(!secret.is_empty());
    let listed = server
        .get("/v1/api-clients", admin)
        .await
        .expect_status(200)
        .json();
    let item = &listed["items"][0];
    assert_eq!(item["client_id"], client_id);
    assert!(
        item.get("client_secret").is_none_or(Value::is_null),
        "a listed API client shows its secret: {item}"
    );
    let revoked = server
        .delete(&format!("/v1/api-clients/{client}"), admin)
        .await
        .expect_status(200)
        .json();
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let no_roles = server
        .post(
            "/v1/api-clients",
            admin,
            &json!({ "name": "Empty", "roles": [] }),
        )
        .await
        .expect_status(422);
    assert_eq!(no_roles.invalid_fields(), vec!["roles".to_owned()]);
}

async fn the_organization_service_manages_clinics_staff_and_api_clients_over_grpc(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let token = org.admin_token.as_str();
    let mut grpc = server.org_grpc();

    let clinic = grpc
        .create_clinic(authorized(
            pb::CreateClinicRequest {
                name: "Glow Mitte".into(),
                address: Some("Torstrasse 1".into()),
                phone: None,
                timezone: None,
            },
            token,
        ))
        .await
        .expect("CreateClinic")
        .into_inner();
    assert!(clinic.active);
    let updated = grpc
        .update_clinic(authorized(
            pb::UpdateClinicRequest {
                id: clinic.id.clone(),
                name: Some("Glow Berlin".into()),
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("UpdateClinic")
        .into_inner();
    assert_eq!(updated.name, "Glow Berlin");
    assert_eq!(updated.address.as_deref(), Some("Torstrasse 1"));
    let read = grpc
        .get_clinic(authorized(
            pb::GetClinicRequest {
                id: clinic.id.clone(),
            },
            token,
        ))
        .await
        .expect("GetClinic")
        .into_inner();
    assert_eq!(read, updated);
    let listed = grpc
        .list_clinics(authorized(pb::ListClinicsRequest::default(), token))
        .await
        .expect("ListClinics")
        .into_inner();
    assert_eq!(listed.items, vec![updated.clone()]);
    assert_eq!(listed.next_cursor, None);

    let clinic_id = Uuid::parse_str(&clinic.id).expect("a uuid");
    let member = grpc
        .create_staff(authorized(
            pb::CreateStaffRequest {
                email: "nina@glow.test".into(),
                name: "Nina".into(),
                password: PASSWORD.into(),
                roles: vec![pb_grant(Role::Nurse, Some(clinic_id))],
            },
            token,
        ))
        .await
        .expect("CreateStaff")
        .into_inner();
    assert_eq!(member.roles, vec![pb_grant(Role::Nurse, Some(clinic_id))]);
    // What gRPC wrote, REST reads.
    server
        .get(&format!("/v1/staff/{}", member.id), Some(token))
        .await
        .expect_status(200);
    let roles = grpc
        .set_staff_roles(authorized(
            pb::SetStaffRolesRequest {
                id: member.id.clone(),
                roles: vec![
                    pb_grant(Role::Nurse, Some(clinic_id)),
                    pb_grant(Role::Physician, Some(clinic_id)),
                ],
            },
            token,
        ))
        .await
        .expect("SetStaffRoles")
        .into_inner();
    assert_eq!(roles.roles.len(), 2);
    let renamed = grpc
        .update_staff(authorized(
            pb::UpdateStaffRequest {
                id: member.id.clone(),
                name: Some("Nina N.".into()),
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("UpdateStaff")
        .into_inner();
    assert_eq!(renamed.name, "Nina N.");
    let got = grpc
        .get_staff(authorized(
            pb::GetStaffRequest {
                id: member.id.clone(),
            },
            token,
        ))
        .await
        .expect("GetStaff")
        .into_inner();
    assert_eq!(got.name, "Nina N.");
    let staff = grpc
        .list_staff(authorized(pb::ListStaffRequest::default(), token))
        .await
        .expect("ListStaff")
        .into_inner();
    assert_eq!(staff.items.len(), 2, "the admin and Nina");
    let bad_role = grpc
        .set_staff_roles(authorized(
            pb::SetStaffRolesRequest {
                id: member.id.clone(),
                roles: vec![pb::RoleGrant {
                    role: "wizard".into(),
                    clinic_id: None,
                }],
            },
            token,
        ))
        .await
        .expect_err("an unknown role");
    assert_eq!(bad_role.code(), Code::InvalidArgument);
    assert!(bad_role.message().contains("roles[0].role"), "{bad_role:?}");
    let deactivated = grpc
        .deactivate_staff(authorized(
            pb::DeactivateStaffRequest {
                id: member.id.clone(),
            },
            token,
        ))
        .await
        .expect("DeactivateStaff")
        .into_inner();
    assert!(!deactivated.active);

    let api_client = grpc
        .create_api_client(authorized(
            pb::CreateApiClientRequest {
                name: "Booking".into(),
                roles: vec![pb_grant(Role::FrontDesk, Some(clinic_id))],
            },
            token,
        ))
        .await
        .expect("CreateApiClient")
        .into_inner();
    assert!(api_client.client_secret.is_some());
    let clients = grpc
        .list_api_clients(authorized(pb::ListApiClientsRequest::default(), token))
        .await
        .expect("ListApiClients")
        .into_inner();
    assert_eq!(clients.items.len(), 1);
    assert_eq!(clients.items[0].client_secret, None, "secret shown twice");
    let revoked = grpc
        .revoke_api_client(authorized(
            pb::RevokeApiClientRequest {
                id: api_client.id.clone(),
            },
            token,
        ))
        .await
        .expect("RevokeApiClient")
        .into_inner();
    assert!(revoked.revoked_at.is_some());

    // Not org_admin: forbidden, as over REST.
    grpc.create_staff(authorized(
        pb::CreateStaffRequest {
            email: "nora@glow.test".into(),
            name: "Nora".into(),
            password: PASSWORD.into(),
            roles: vec![pb_grant(Role::Nurse, Some(clinic_id))],
        },
        token,
    ))
    .await
    .expect("CreateStaff");
    let nurse_token = server
        .login("glow", "nora@glow.test", PASSWORD)
        .await
        .access;
    let denied = grpc
        .create_clinic(authorized(
            pb::CreateClinicRequest {
                name: "Rogue".into(),
                ..Default::default()
            },
            &nurse_token,
        ))
        .await
        .expect_err("a nurse opens no clinic");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().starts_with("forbidden"), "{denied:?}");
}
