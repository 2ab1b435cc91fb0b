//! What each role may do, read from the permission matrix, and whom it may grant roles.

use std::collections::BTreeSet;

use serde_json::json;
use skinledger_domain::permission::Action;
use skinledger_domain::role::Role;
use skinledger_e2e::{Answer, Backend, PASSWORD, TestServer, e2e_on_both_backends, grant};
use uuid::Uuid;

use crate::ids;

e2e_on_both_backends!(
    each_role_may_do_exactly_what_the_permission_matrix_allows,
    everyone_sees_their_own_profile_and_only_their_clinics,
    a_clinic_manager_sets_roles_only_at_their_clinic_and_never_grants_org_admin,
);

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
