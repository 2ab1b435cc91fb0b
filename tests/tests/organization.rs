//! Organisations, clinics, staff, roles and API clients over REST and gRPC: what each role may
//! do (read from the matrix in `skinledger-domain`), tenant isolation, paging and the audit log.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use skinledger_domain::permission::Action;
use skinledger_domain::role::Role;
use skinledger_e2e::{
    Answer, Backend, Org, PASSWORD, TestServer, authorized, e2e_on_both_backends, grant, pb,
    pb_grant,
};
use tonic::Code;
use uuid::Uuid;

e2e_on_both_backends!(
    an_org_admin_manages_clinics_staff_and_api_clients_over_rest,
    the_organization_service_manages_clinics_staff_and_api_clients_over_grpc,
    lists_page_with_a_cursor_and_check_their_limit,
    each_role_may_do_exactly_what_the_permission_matrix_allows,
    everyone_sees_their_own_profile_and_only_their_clinics,
    a_clinic_manager_sets_roles_only_at_their_clinic_and_never_grants_org_admin,
    another_organisation_s_ids_answer_not_found_on_every_route,
    lists_never_show_another_organisation_s_rows,
    another_organisation_s_ids_answer_not_found_over_grpc,
    writes_and_logins_appear_in_the_audit_log_with_their_request_id,
    a_create_retried_with_its_idempotency_key_happens_once,
    concurrent_requests_all_succeed,
);

fn ids(answer: &Answer) -> BTreeSet<String> {
    answer.json()["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", answer.text()))
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

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

async fn lists_page_with_a_cursor_and_check_their_limit(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = Some(org.admin_token.as_str());
    let mut created = BTreeSet::new();
    for name in ["A", "B", "C", "D", "E"] {
        created.insert(
            server
                .create_clinic(&org.admin_token, name)
                .await
                .to_string(),
        );
    }

    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/clinics?limit=2&cursor={c}"),
            None => "/v1/clinics?limit=2".to_owned(),
        };
        let page = server.get(&path, admin).await.expect_status(200);
        let items = ids(&page);
        assert!(items.len() <= 2);
        for id in &items {
            assert!(seen.insert(id.clone()), "{id} seen twice");
        }
        pages += 1;
        assert!(pages <= 5, "paging does not end");
        match page.json()["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);
    assert!(pages >= 3);

    // The same over gRPC.
    let mut grpc = server.org_grpc();
    let first = grpc
        .list_clinics(authorized(
            pb::ListClinicsRequest {
                limit: Some(3),
                cursor: None,
            },
            &org.admin_token,
        ))
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(first.items.len(), 3);
    let second = grpc
        .list_clinics(authorized(
            pb::ListClinicsRequest {
                limit: Some(3),
                cursor: first.next_cursor.clone(),
            },
            &org.admin_token,
        ))
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.next_cursor, None);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        let answer = server
            .get(&format!("/v1/clinics?{query}"), admin)
            .await
            .expect_status(422);
        assert_eq!(answer.invalid_fields(), vec![field.to_owned()], "{query}");
    }
    server
        .get("/v1/clinics?limit=200", admin)
        .await
        .expect_status(200);
}

/// The operations of this issue that the matrix governs, each with its action.
#[derive(Debug, Clone, Copy)]
enum Op {
    CreateClinic,
    ReadClinic,
    UpdateClinic,
    CreateStaff,
    ReadStaff,
    UpdateStaff,
    SetClinicRoles,
    GrantOrgAdmin,
    DeactivateStaff,
    CreateApiClient,
    ListApiClients,
    RevokeApiClient,
    ReadAuditLog,
}

impl Op {
    const ALL: [Op; 13] = [
        Op::CreateClinic,
        Op::ReadClinic,
        Op::UpdateClinic,
        Op::CreateStaff,
        Op::ReadStaff,
        Op::UpdateStaff,
        Op::SetClinicRoles,
        Op::GrantOrgAdmin,
        Op::CreateApiClient,
        Op::ListApiClients,
        Op::RevokeApiClient,
        Op::ReadAuditLog,
        // Last: it ends the target's account.
        Op::DeactivateStaff,
    ];

    fn action(self) -> Action {
        match self {
            Op::CreateClinic => Action::ClinicCreate,
            Op::ReadClinic => Action::ClinicRead,
            Op::UpdateClinic => Action::ClinicUpdate,
            Op::CreateStaff => Action::StaffCreate,
            Op::ReadStaff => Action::StaffRead,
            Op::UpdateStaff => Action::StaffUpdate,
            Op::SetClinicRoles => Action::StaffRolesManage,
            Op::GrantOrgAdmin => Action::OrgAdminGrant,
            Op::DeactivateStaff => Action::StaffDeactivate,
            Op::CreateApiClient | Op::ListApiClients | Op::RevokeApiClient => {
                Action::ApiClientManage
            }
            Op::ReadAuditLog => Action::AuditRead,
        }
    }
}

/// What one role's attempts act on: its clinic, a fresh staff member there and a fresh API
/// client, so that one role's success does not change what the next one meets.
struct Targets {
    clinic: Uuid,
    staff: Uuid,
    api_client: Uuid,
}

async fn attempt(server: &TestServer, token: &str, role: Role, op: Op, t: &Targets) -> Answer {
    let token = Some(token);
    let clinic = t.clinic;
    let staff = t.staff;
    match op {
        Op::CreateClinic => {
            server
                .post("/v1/clinics", token, &json!({ "name": format!("New by {role}") }))
                .await
        }
        Op::ReadClinic => server.get(&format!("/v1/clinics/{clinic}"), token).await,
        Op::UpdateClinic => {
            server
                .patch(
                    &format!("/v1/clinics/{clinic}"),
                    token,
                    &json!({ "phone": format!("+49 30 {}", role.as_str().len()) }),
                )
                .await
        }
        Op::CreateStaff => {
            server
                .post(
                    "/v1/staff",
                    token,
                    &json!({ "email": format!("hired-by-{role}@matrix.test"), "name": "Hire",
                             "password": PASSWORD, "roles": [grant(Role::Nurse, Some(clinic))] }),
                )
                .await
        }
        Op::ReadStaff => server.get(&format!("/v1/staff/{staff}"), token).await,
        Op::UpdateStaff => {
            server
                .patch(&format!("/v1/staff/{staff}"), token, &json!({ "name": "Renamed" }))
                .await
        }
        Op::SetClinicRoles => {
            server
                .put(
                    &format!("/v1/staff/{staff}/roles"),
                    token,
                    &json!({ "roles": [grant(Role::Nurse, Some(clinic)), grant(Role::Esthetician, Some(clinic))] }),
                )
                .await
        }
        Op::GrantOrgAdmin => {
            server
                .put(
                    &format!("/v1/staff/{staff}/roles"),
                    token,
                    &json!({ "roles": [grant(Role::Nurse, Some(clinic)), grant(Role::Esthetician, Some(clinic)), grant(Role::OrgAdmin, None)] }),
                )
                .await
        }
        Op::DeactivateStaff => {
            server
                .post(&format!("/v1/staff/{staff}/deactivate"), token, &json!({}))
                .await
        }
        Op::CreateApiClient => {
            server
                .post(
                    "/v1/api-clients",
                    token,
                    &json!({ "name": "Matrix", "roles": [grant(Role::FrontDesk, Some(clinic))] }),
                )
                .await
        }
        Op::ListApiClients => server.get("/v1/api-clients", token).await,
        Op::RevokeApiClient => {
            server
                .delete(&format!("/v1/api-clients/{}", t.api_client), token)
                .await
        }
        Op::ReadAuditLog => server.get("/v1/audit-events", token).await,
    }
}

async fn each_role_may_do_exactly_what_the_permission_matrix_allows(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("matrix").await;
    let clinic = server.create_clinic(&org.admin_token, "Matrix Mitte").await;

    let mut mismatches = Vec::new();
    for role in Role::ALL {
        // Someone holding just this role, at the clinic unless it is organisation-wide.
        let held_at = (!role.is_org_wide()).then_some(clinic);
        let email = format!("{}@matrix.test", role.as_str().replace('_', "-"));
        server
            .create_staff(&org.admin_token, &email, &[grant(role, held_at)])
            .await;
        let token = server.login("matrix", &email, PASSWORD).await.access;

        // A fresh nurse to act on: SetClinicRoles adds a clinic role, GrantOrgAdmin then adds
        // org_admin, so each attempt changes what its action governs.
        let staff = server
            .create_staff(
                &org.admin_token,
                &format!("target-of-{}@matrix.test", role.as_str().replace('_', "-")),
                &[grant(Role::Nurse, Some(clinic))],
            )
            .await;
        let (api_client, _, _) = server
            .create_api_client(&org.admin_token, &[grant(Role::FrontDesk, Some(clinic))])
            .await;
        let targets = Targets {
            clinic,
            staff,
            api_client,
        };

        for op in Op::ALL {
            let allowed = op.action().allows_role(role);
            let answer = attempt(&server, &token, role, op, &targets).await;
            let ok = if allowed {
                answer.status.is_success()
            } else {
                answer.status == 403 && answer.code().as_deref() == Some("forbidden")
            };
            if !ok {
                mismatches.push(format!(
                    "{role} {op:?} ({:?}): matrix says {}, server answered {} {}",
                    op.action(),
                    if allowed { "allowed" } else { "forbidden" },
                    answer.status,
                    answer.text()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "the server disagrees with the permission matrix:\n{}",
        mismatches.join("\n")
    );
}

async fn everyone_sees_their_own_profile_and_only_their_clinics(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let mitte = server.create_clinic(&org.admin_token, "Mitte").await;
    let nord = server.create_clinic(&org.admin_token, "Nord").await;
    let colleague = server
        .create_staff(
            &org.admin_token,
            "colleague@glow.test",
            &[grant(Role::Nurse, Some(nord))],
        )
        .await;

    let mut people = Vec::new();
    for role in Role::ALL.into_iter().filter(|r| !r.is_org_wide()) {
        let email = format!("{}@glow.test", role.as_str().replace('_', "-"));
        let id = server
            .create_staff(&org.admin_token, &email, &[grant(role, Some(mitte))])
            .await;
        people.push((role, email, id));
    }
    for (role, email, id) in people {
        let token = server.login("glow", &email, PASSWORD).await.access;
        let token = Some(token.as_str());

        let own = server
            .get(&format!("/v1/staff/{id}"), token)
            .await
            .expect_status(200)
            .json();
        assert_eq!(own["email"], email);
        let me = server.get("/v1/me", token).await.expect_status(200).json();
        assert_eq!(me["id"], id.to_string());

        let clinics = ids(&server.get("/v1/clinics", token).await.expect_status(200));
        assert_eq!(
            clinics,
            BTreeSet::from([mitte.to_string()]),
            "{role} sees clinics other than their own"
        );
        server
            .get(&format!("/v1/clinics/{nord}"), token)
            .await
            .expect_status(403);

        let staff = ids(&server.get("/v1/staff", token).await.expect_status(200));
        assert!(
            staff.contains(&id.to_string()),
            "{role} does not see themselves"
        );
        assert!(
            !staff.contains(&colleague.to_string()),
            "{role} sees staff of a clinic where they hold no role"
        );
        // Staff at their own clinic are visible exactly to those who may read staff.
        assert_eq!(
            staff.len() > 1,
            Action::StaffRead.allows_role(role),
            "{role} sees {staff:?}"
        );
    }
}

async fn a_clinic_manager_sets_roles_only_at_their_clinic_and_never_grants_org_admin(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let mitte = server.create_clinic(&org.admin_token, "Mitte").await;
    let nord = server.create_clinic(&org.admin_token, "Nord").await;
    server
        .create_staff(
            &org.admin_token,
            "manager@glow.test",
            &[grant(Role::ClinicManager, Some(mitte))],
        )
        .await;
    let nina = server
        .create_staff(
            &org.admin_token,
            "nina@glow.test",
            &[grant(Role::Nurse, Some(mitte))],
        )
        .await;
    let token = server
        .login("glow", "manager@glow.test", PASSWORD)
        .await
        .access;
    let path = format!("/v1/staff/{nina}/roles");

    let at_mitte = server
        .put(
            &path,
            Some(&token),
            &json!({ "roles": [grant(Role::Nurse, Some(mitte)), grant(Role::Esthetician, Some(mitte))] }),
        )
        .await
        .expect_status(200)
        .json();
    assert_eq!(at_mitte["roles"].as_array().map(Vec::len), Some(2));
    // Physician and clinic manager are the organisation's to grant.
    for senior in [Role::Physician, Role::ClinicManager] {
        let refused = server
            .put(
                &path,
                Some(&token),
                &json!({ "roles": [grant(Role::Nurse, Some(mitte)), grant(senior, Some(mitte))] }),
            )
            .await
            .expect_status(403);
        assert_eq!(refused.code().as_deref(), Some("forbidden"));
    }
    let at_nord = server
        .put(
            &path,
            Some(&token),
            &json!({ "roles": [grant(Role::Nurse, Some(mitte)), grant(Role::Nurse, Some(nord))] }),
        )
        .await
        .expect_status(403);
    assert_eq!(at_nord.code().as_deref(), Some("forbidden"));
    server
        .put(
            &path,
            Some(&token),
            &json!({ "roles": [grant(Role::Nurse, Some(mitte)), grant(Role::OrgAdmin, None)] }),
        )
        .await
        .expect_status(403);
    // Nor themselves.
    let me = server.get("/v1/me", Some(&token)).await.json();
    let own_id = me["id"].as_str().expect("an id");
    server
        .put(
            &format!("/v1/staff/{own_id}/roles"),
            Some(&token),
            &json!({ "roles": [grant(Role::ClinicManager, Some(mitte)), grant(Role::OrgAdmin, None)] }),
        )
        .await
        .expect_status(403);

    // Roles apply at once, without a new login.
    server
        .put(
            &path,
            Some(&org.admin_token),
            &json!({ "roles": [grant(Role::OrgAdmin, None)] }),
        )
        .await
        .expect_status(200);
    let nina_token = server
        .login("glow", "nina@glow.test", PASSWORD)
        .await
        .access;
    server
        .post("/v1/clinics", Some(&nina_token), &json!({ "name": "Süd" }))
        .await
        .expect_status(201);
    server
        .put(&path, Some(&org.admin_token), &json!({ "roles": [] }))
        .await
        .expect_status(200);
    server
        .post("/v1/clinics", Some(&nina_token), &json!({ "name": "West" }))
        .await
        .expect_status(403);
}

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

async fn writes_and_logins_appear_in_the_audit_log_with_their_request_id(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let request_id = format!("e2e-{}", Uuid::now_v7());
    let clinic = server
        .send(
            server
                .http
                .post(server.url("/v1/clinics"))
                .bearer_auth(&org.admin_token)
                .header("x-request-id", &request_id)
                .json(&json!({ "name": "Audited" })),
        )
        .await
        .expect_status(201)
        .id();

    let answer = server
        .get(
            &format!("/v1/audit-events?entity_id={clinic}"),
            Some(&org.admin_token),
        )
        .await
        .expect_status(200)
        .json();
    let events = answer["items"].as_array().expect("items");
    assert_eq!(events.len(), 1, "{answer}");
    let event = &events[0];
    assert_eq!(event["action"], "clinic.create");
    assert_eq!(event["actor_kind"], "staff");
    assert_eq!(event["actor_id"], org.admin_id.to_string());
    assert_eq!(event["outcome"], "success");
    assert_eq!(event["request_id"], request_id);
    assert!(event["occurred_at"].is_string());

    let logins = server
        .get("/v1/audit-events?action=auth.login", Some(&org.admin_token))
        .await
        .expect_status(200)
        .json();
    assert!(
        logins["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|e| e["outcome"] == "success")),
        "{logins}"
    );

    // gRPC: the org_admin reads it, others may not.
    let events = server
        .audit_grpc()
        .list_audit_events(authorized(
            pb::ListAuditEventsRequest {
                entity_id: Some(clinic.to_string()),
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .expect("ListAuditEvents")
        .into_inner();
    assert_eq!(events.items.len(), 1);
    assert_eq!(
        events.items[0].request_id.as_deref(),
        Some(request_id.as_str())
    );

    server
        .create_staff(
            &org.admin_token,
            "nina@glow.test",
            &[grant(Role::Nurse, Some(clinic))],
        )
        .await;
    let nurse = server
        .login("glow", "nina@glow.test", PASSWORD)
        .await
        .access;
    let denied = server
        .audit_grpc()
        .list_audit_events(authorized(pb::ListAuditEventsRequest::default(), &nurse))
        .await
        .expect_err("a nurse reads no audit log");
    assert_eq!(denied.code(), Code::PermissionDenied);
}

async fn a_create_retried_with_its_idempotency_key_happens_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let other = server.create_org("other").await;
    let create = |token: &str, key: &str, name: &str| {
        server
            .http
            .post(server.url("/v1/clinics"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({ "name": name }))
    };

    let first = server
        .send(create(&org.admin_token, "retry-1", "Mitte"))
        .await
        .expect_status(201);
    let again = server
        .send(create(&org.admin_token, "retry-1", "Mitte"))
        .await
        .expect_status(201);
    assert_eq!(first.json(), again.json(), "the retry got another answer");
    let reused = server
        .send(create(&org.admin_token, "retry-1", "Nord"))
        .await
        .expect_status(422);
    assert_eq!(reused.code().as_deref(), Some("idempotency_key_reused"));
    // Keys belong to one organisation.
    let theirs = server
        .send(create(&other.admin_token, "retry-1", "Mitte"))
        .await
        .expect_status(201);
    assert_ne!(theirs.id(), first.id());
    let clinics = ids(&server
        .get("/v1/clinics", Some(&org.admin_token))
        .await
        .expect_status(200));
    assert_eq!(clinics, BTreeSet::from([first.id().to_string()]));

    // gRPC: the same key as metadata.
    let request = |name: &str| {
        let mut request = authorized(
            pb::CreateClinicRequest {
                name: name.into(),
                ..Default::default()
            },
            &org.admin_token,
        );
        request
            .metadata_mut()
            .insert("idempotency-key", "grpc-retry-1".parse().expect("metadata"));
        request
    };
    let mut grpc = server.org_grpc();
    let a = grpc
        .create_clinic(request("Süd"))
        .await
        .expect("CreateClinic")
        .into_inner();
    let b = grpc
        .create_clinic(request("Süd"))
        .await
        .expect("the retry")
        .into_inner();
    assert_eq!(a, b);
    let reused = grpc
        .create_clinic(request("West"))
        .await
        .expect_err("another request with the key");
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert!(
        reused.message().starts_with("idempotency_key_reused"),
        "{reused:?}"
    );
}

async fn concurrent_requests_all_succeed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("busy").await;
    let token = org.admin_token.as_str();

    // Writes and reads at once: none may fail (on SQLite: never "database is locked").
    let bodies: Vec<Value> = (0..24)
        .map(|i| json!({ "name": format!("Clinic {i}") }))
        .collect();
    let writes = bodies
        .iter()
        .map(|body| server.post("/v1/clinics", Some(token), body));
    let reads = (0..24).map(|_| server.get("/v1/clinics", Some(token)));
    let (writes, reads) = tokio::join!(
        futures::future::join_all(writes),
        futures::future::join_all(reads)
    );
    for answer in writes {
        answer.expect_status(201);
    }
    for answer in reads {
        answer.expect_status(200);
    }

    // One key sent many times at once: one clinic, every answer the same or "in flight".
    let sends = (0..8).map(|_| {
        server.send(
            server
                .http
                .post(server.url("/v1/clinics"))
                .bearer_auth(token)
                .header("idempotency-key", "burst-1")
                .json(&json!({ "name": "Burst" })),
        )
    });
    let answers = futures::future::join_all(sends).await;
    let mut created = BTreeSet::new();
    for answer in &answers {
        match answer.status.as_u16() {
            201 => {
                created.insert(answer.id());
            }
            409 => {}
            other => panic!("a concurrent retry answered {other}: {}", answer.text()),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    let listed = server
        .get("/v1/clinics?limit=200", Some(token))
        .await
        .expect_status(200)
        .json();
    let bursts = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|c| c["name"] == "Burst")
        .count();
    assert_eq!(bursts, 1);
}
