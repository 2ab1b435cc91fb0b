//! Who may do what: every role against every operation of the foundation, judged by the
//! permission matrix of `skinledger-domain` (read, not restated), plus the limits of a clinic
//! manager and what everyone may always see and change of their own.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

pub mod common;

use common::{
    Harness, Org, PASSWORD, at, email, expect_code, expect_forbidden, org_admin, page_of,
};
use skinledger_app::api_clients::NewApiClient;
use skinledger_app::auth::RoleGrant;
use skinledger_app::clinics::{ClinicChanges, NewClinic};
use skinledger_app::staff::{NewStaff, StaffChanges, StaffMember};
use skinledger_app::{Actor, Error};
use skinledger_domain::permission::Action;
use skinledger_domain::role::Role;
use skinledger_store::Db;
use skinledger_store::audit::AuditFilter;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    every_role_may_do_exactly_what_the_permission_matrix_allows,
    a_clinic_manager_cannot_grant_org_admin_nor_roles_at_clinics_they_do_not_manage,
    everyone_sees_their_own_profile_and_the_clinics_where_they_hold_a_role,
    everyone_may_change_their_own_name_and_password,
    nobody_can_deactivate_themselves,
);

/// One organisation with clinics A and B and one staff member per role, each logged in:
/// `org_admin` organisation-wide, every other role at clinic A.
struct Team {
    h: Harness,
    org: Org,
    clinic_a: Uuid,
    clinic_b: Uuid,
    members: Vec<Member>,
}

struct Member {
    role: Role,
    profile: StaffMember,
    actor: Actor,
}

impl Team {
    async fn new(db: Db) -> Self {
        let h = Harness::new(db);
        let org = h.organization("glow").await;
        let clinic_a = h.clinic(&org.admin, "Glow A").await.id;
        let clinic_b = h.clinic(&org.admin, "Glow B").await.id;
        let mut members = Vec::new();
        for role in Role::ALL {
            let grant = if role.is_org_wide() {
                org_admin()
            } else {
                at(role, clinic_a)
            };
            let member_email = email("glow", role.as_str());
            let profile = h.member(&org.admin, &member_email, vec![grant]).await;
            let actor = h.log_in("glow", &member_email).await;
            members.push(Member {
                role,
                profile,
                actor,
            });
        }
        Self {
            h,
            org,
            clinic_a,
            clinic_b,
            members,
        }
    }

    fn member(&self, role: Role) -> &Member {
        self.members.iter().find(|m| m.role == role).unwrap()
    }

    /// A staff member added by the administrator, holding `roles`.
    async fn colleague(&self, local: &str, roles: Vec<RoleGrant>) -> StaffMember {
        self.h
            .member(&self.org.admin, &email("glow", local), roles)
            .await
    }
}

/// The operations of the foundation, each judged by one action of the matrix.
#[derive(Debug, Clone, Copy)]
enum Operation {
    CreateClinic,
    UpdateClinic,
    GetClinic,
    GetColleagueAtClinic,
    CreateStaff,
    UpdateAnotherMember,
    DeactivateStaff,
    GrantNurseAtClinicA,
    CreateApiClient,
    ListApiClients,
    ListAuditEvents,
}

impl Operation {
    const ALL: [Operation; 11] = [
        Operation::CreateClinic,
        Operation::UpdateClinic,
        Operation::GetClinic,
        Operation::GetColleagueAtClinic,
        Operation::CreateStaff,
        Operation::UpdateAnotherMember,
        Operation::DeactivateStaff,
        Operation::GrantNurseAtClinicA,
        Operation::CreateApiClient,
        Operation::ListApiClients,
        Operation::ListAuditEvents,
    ];

    fn action(self) -> Action {
        match self {
            Operation::CreateClinic => Action::ClinicCreate,
            Operation::UpdateClinic => Action::ClinicUpdate,
            Operation::GetClinic => Action::ClinicRead,
            Operation::GetColleagueAtClinic => Action::StaffRead,
            Operation::CreateStaff => Action::StaffCreate,
            Operation::UpdateAnotherMember => Action::StaffUpdate,
            Operation::DeactivateStaff => Action::StaffDeactivate,
            Operation::GrantNurseAtClinicA => Action::StaffRolesManage,
            Operation::CreateApiClient | Operation::ListApiClients => Action::ApiClientManage,
            Operation::ListAuditEvents => Action::AuditRead,
        }
    }
}

/// Staff members an operation acts on, fresh for each role so that no attempt depends on
/// another's outcome.
struct Targets {
    colleague_at_a: Uuid,
    to_update: Uuid,
    to_deactivate: Uuid,
    to_promote: Uuid,
}

/// Tries `operation` as `member`, answering only whether it was allowed.
async fn attempt(
    team: &Team,
    member: &Member,
    targets: &Targets,
    op: Operation,
) -> Result<(), Error> {
    let h = &team.h;
    let actor = &member.actor;
    let role = member.role.as_str();
    match op {
        Operation::CreateClinic => h
            .create_clinic(
                actor,
                NewClinic {
                    name: format!("Opened by {role}"),
                    address: None,
                    phone: None,
                    timezone: None,
                },
                None,
            )
            .await
            .map(drop),
        Operation::UpdateClinic => h
            .update_clinic(
                actor,
                team.clinic_a,
                ClinicChanges {
                    phone: Some("+49 30 1234567".into()),
                    ..ClinicChanges::default()
                },
            )
            .await
            .map(drop),
        Operation::GetClinic => h.get_clinic(actor, team.clinic_a).await.map(drop),
        Operation::GetColleagueAtClinic => {
            h.get_staff(actor, targets.colleague_at_a).await.map(drop)
        }
        Operation::CreateStaff => h
            .create_staff(
                actor,
                NewStaff {
                    email: email("glow", &format!("hired-by-{role}")),
                    name: "New hire".into(),
                    password: PASSWORD.into(),
                    roles: vec![],
                },
                None,
            )
            .await
            .map(drop),
        Operation::UpdateAnotherMember => h
            .update_staff(
                actor,
                targets.to_update,
                StaffChanges {
                    name: Some(format!("Renamed by {role}")),
                    ..StaffChanges::default()
                },
            )
            .await
            .map(drop),
        Operation::DeactivateStaff => h
            .deactivate_staff(actor, targets.to_deactivate)
            .await
            .map(drop),
        Operation::GrantNurseAtClinicA => h
            .set_staff_roles(
                actor,
                targets.to_promote,
                vec![at(Role::Nurse, team.clinic_a)],
            )
            .await
            .map(drop),
        Operation::CreateApiClient => h
            .create_api_client(
                actor,
                NewApiClient {
                    name: format!("Made by {role}"),
                    roles: vec![at(Role::FrontDesk, team.clinic_a)],
                },
            )
            .await
            .map(drop),
        Operation::ListApiClients => h.list_api_clients(actor, &page_of(10)).await.map(drop),
        Operation::ListAuditEvents => h
            .list_audit_events(actor, &AuditFilter::default(), &page_of(10))
            .await
            .map(drop),
    }
}

async fn every_role_may_do_exactly_what_the_permission_matrix_allows(db: Db) {
    let team = Team::new(db).await;
    let colleague_at_a = team
        .colleague("colleague", vec![at(Role::FrontDesk, team.clinic_a)])
        .await
        .id;
    let mut mismatches = Vec::new();

    for member in &team.members {
        let role = member.role.as_str();
        let targets = Targets {
            colleague_at_a,
            to_update: team.colleague(&format!("update-{role}"), vec![]).await.id,
            to_deactivate: team.colleague(&format!("leave-{role}"), vec![]).await.id,
            to_promote: team.colleague(&format!("promote-{role}"), vec![]).await.id,
        };
        for op in Operation::ALL {
            let allowed = op.action().allows_role(member.role);
            let outcome = attempt(&team, member, &targets, op).await;
            let as_the_matrix_says = match &outcome {
                Ok(()) => allowed,
                Err(Error::Forbidden { code, .. }) => !allowed && *code == "forbidden",
                Err(_) => false,
            };
            if !as_the_matrix_says {
                mismatches.push(format!(
                    "{role} {op:?}: matrix allows {allowed}, got {outcome:?}"
                ));
            }
        }
    }

    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

async fn a_clinic_manager_cannot_grant_org_admin_nor_roles_at_clinics_they_do_not_manage(db: Db) {
    let team = Team::new(db).await;
    let manager = &team.member(Role::ClinicManager).actor;
    let (a, b) = (team.clinic_a, team.clinic_b);
    let newcomer = team.colleague("newcomer", vec![]).await;
    let at_b = team.colleague("at-b", vec![at(Role::Physician, b)]).await;
    let admin = team.member(Role::OrgAdmin).profile.clone();

    expect_forbidden(set_roles(&team, manager, newcomer.id, vec![org_admin()]).await);
    expect_forbidden(set_roles(&team, manager, newcomer.id, vec![at(Role::Nurse, b)]).await);
    expect_forbidden(
        set_roles(
            &team,
            manager,
            newcomer.id,
            vec![at(Role::Nurse, a), at(Role::Nurse, b)],
        )
        .await,
    );
    // Withdrawing a role at another clinic, or someone's org_admin, is just as out of reach.
    expect_forbidden(set_roles(&team, manager, at_b.id, vec![at(Role::Nurse, a)]).await);
    expect_forbidden(set_roles(&team, manager, admin.id, vec![at(Role::Nurse, a)]).await);

    let roles_of = |id| {
        let h = &team.h;
        let admin = &team.org.admin;
        async move { h.get_staff(admin, id).await.unwrap().roles }
    };
    assert_eq!(roles_of(newcomer.id).await, vec![]);
    assert_eq!(roles_of(at_b.id).await, vec![at(Role::Physician, b)]);
    assert_eq!(roles_of(admin.id).await, vec![org_admin()]);
    // What they may do: clinic roles at their own clinic, leaving other clinics untouched.
    let changed = set_roles(
        &team,
        manager,
        at_b.id,
        vec![at(Role::Physician, b), at(Role::Nurse, a)],
    )
    .await
    .expect("a manager adds a role at their clinic");
    assert_eq!(changed.roles.len(), 2);
}

async fn set_roles(
    team: &Team,
    actor: &Actor,
    id: Uuid,
    roles: Vec<RoleGrant>,
) -> Result<StaffMember, Error> {
    team.h.set_staff_roles(actor, id, roles).await
}

async fn everyone_sees_their_own_profile_and_the_clinics_where_they_hold_a_role(db: Db) {
    let team = Team::new(db).await;

    for member in &team.members {
        let own = team
            .h
            .get_staff(&member.actor, member.profile.id)
            .await
            .unwrap_or_else(|e| panic!("{} cannot see themselves: {e:?}", member.role));
        assert_eq!(own.roles, member.profile.roles);
        assert_eq!(own.email, member.profile.email);

        let mut clinics = team.h.visible_clinics(&member.actor).await;
        clinics.sort();
        let mut expected = if member.role.is_org_wide() {
            vec![team.clinic_a, team.clinic_b]
        } else if Action::ClinicRead.allows_role(member.role) {
            vec![team.clinic_a]
        } else {
            vec![]
        };
        expected.sort();
        assert_eq!(clinics, expected, "{} sees the wrong clinics", member.role);

        let other_clinic = team.h.get_clinic(&member.actor, team.clinic_b).await;
        if member.role.is_org_wide() {
            other_clinic.expect("org_admin sees every clinic");
        } else {
            expect_forbidden(other_clinic);
        }
    }
}

async fn everyone_may_change_their_own_name_and_password(db: Db) {
    let team = Team::new(db).await;

    for member in &team.members {
        let new_password = format!("{} has a new password", member.role);
        let changed = team
            .h
            .update_staff(
                &member.actor,
                member.profile.id,
                StaffChanges {
                    name: Some(format!("Renamed {}", member.role)),
                    password: Some(new_password.clone()),
                    current_password: Some(PASSWORD.into()),
                    ..StaffChanges::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{} cannot change themselves: {e:?}", member.role));

        assert_eq!(changed.name, format!("Renamed {}", member.role));
        assert_eq!(
            changed.roles, member.profile.roles,
            "roles stay as they were"
        );
        team.h
            .password_login("glow", &member.profile.email, &new_password)
            .await
            .expect("the new password works");
        common::expect_unauthenticated(
            team.h
                .password_login("glow", &member.profile.email, PASSWORD)
                .await,
            "invalid_credentials",
        );
    }
}

async fn nobody_can_deactivate_themselves(db: Db) {
    let team = Team::new(db).await;
    let admin = team.member(Role::OrgAdmin);

    let err = expect_code(
        team.h
            .deactivate_staff(&admin.actor, admin.profile.id)
            .await,
        "cannot_deactivate_self",
    );

    assert!(matches!(err, Error::Conflict { .. }));
    assert!(
        team.h
            .get_staff(&admin.actor, admin.profile.id)
            .await
            .unwrap()
            .active
    );
}
