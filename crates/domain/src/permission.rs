//! Who may do what: the permission matrix, as data.
//!
//! Each [`Action`] lists the roles allowed to perform it. `org_admin` acts anywhere in its
//! organisation; every other role acts only at the clinic where it is held. The `app` layer
//! enforces this table for every use case, and the tests read it rather than restating it.

use serde::Serialize;
use uuid::Uuid;

use crate::role::{Grant, Role};

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See a clinic's details.
    ClinicRead,
    /// Open a new clinic.
    ClinicCreate,
    /// Rename a clinic or change its details.
    ClinicUpdate,
    /// See other staff members at a clinic (everyone sees their own profile).
    StaffRead,
    /// Add a staff member to the organisation.
    StaffCreate,
    /// Change a staff member's name or email.
    StaffUpdate,
    /// Deactivate a staff member.
    StaffDeactivate,
    /// Grant or withdraw clinic roles at a clinic.
    StaffRolesManage,
    /// Grant or withdraw `org_admin`.
    OrgAdminGrant,
    /// Grant or withdraw `physician` or `clinic_manager` at a clinic: the roles that clear
    /// screenings, override intervals and manage staff.
    SeniorRoleGrant,
    /// Create, list and revoke API clients.
    ApiClientManage,
    /// Register, change and remove webhooks; see and retry their deliveries.
    WebhookManage,
    /// Read the audit log.
    AuditRead,
    /// Read the clinical policy.
    PolicyRead,
    /// Change the clinical policy.
    PolicyUpdate,
    /// See clients' names, contact details and treatment dates.
    ClientRead,
    /// Register a client or change their details.
    ClientWrite,
    /// See screening answers, treatment details, notes and adverse events.
    ClinicalRead,
    /// Record a contraindication screening.
    ScreeningRecord,
    /// Clear a factor that requires a physician's clearance.
    ScreeningClear,
    /// Record (and, as its practitioner, edit and sign) a treatment.
    TreatmentRecord,
    /// Treat sooner than the minimum interval, with a recorded reason.
    IntervalOverride,
    /// Add addenda and adverse events to a treatment.
    TreatmentAmend,
    /// Put a client on a course of treatments.
    CourseManage,
    /// See products, lots and a clinic's stock.
    StockRead,
    /// Add products to the catalogue or change what holds at every clinic: name, GTIN, needle
    /// data, labelled maximum depth, single use, the organisation's reorder point.
    CatalogueWrite,
    /// Set or remove a clinic's own reorder point for a product.
    ReorderPointSet,
    /// Receive deliveries, adjust and count stock at a clinic.
    StockManage,
    /// Send stock to another clinic, or receive or cancel a transfer.
    TransferManage,
    /// Write off a single unit dropped or contaminated at the chair.
    UnitDispose,
    /// Recall a lot across the organisation.
    LotRecall,
    /// Trace which clients a lot touched.
    LotTrace,
    /// Read stock and usage reports.
    ReportRead,
}

use Role::{
    ClinicManager as Cm, Esthetician as Es, FrontDesk as Fd, Nurse as Nu, OrgAdmin as Oa,
    Physician as Ph,
};

/// The matrix: each action and the roles that may perform it.
pub const MATRIX: &[(Action, &[Role])] = &[
    (Action::ClinicRead, &[Oa, Cm, Ph, Nu, Es, Fd]),
    (Action::ClinicCreate, &[Oa]),
    (Action::ClinicUpdate, &[Oa]),
    (Action::StaffRead, &[Oa, Cm]),
    (Action::StaffCreate, &[Oa]),
    (Action::StaffUpdate, &[Oa]),
    (Action::StaffDeactivate, &[Oa]),
    (Action::StaffRolesManage, &[Oa, Cm]),
    (Action::OrgAdminGrant, &[Oa]),
    (Action::SeniorRoleGrant, &[Oa]),
    (Action::ApiClientManage, &[Oa]),
    (Action::WebhookManage, &[Oa]),
    (Action::AuditRead, &[Oa]),
    (Action::PolicyRead, &[Oa, Cm, Ph, Nu, Es, Fd]),
    (Action::PolicyUpdate, &[Oa]),
    (Action::ClientRead, &[Oa, Cm, Ph, Nu, Es, Fd]),
    (Action::ClientWrite, &[Oa, Cm, Ph, Nu, Es, Fd]),
    (Action::ClinicalRead, &[Oa, Ph, Nu, Es]),
    (Action::ScreeningRecord, &[Ph, Nu, Es]),
    (Action::ScreeningClear, &[Ph]),
    (Action::TreatmentRecord, &[Ph, Nu, Es]),
    (Action::IntervalOverride, &[Ph]),
    (Action::TreatmentAmend, &[Ph, Nu, Es]),
    (Action::CourseManage, &[Oa, Ph, Nu, Es]),
    (Action::StockRead, &[Oa, Cm, Ph, Nu, Es, Fd]),
    (Action::CatalogueWrite, &[Oa]),
    (Action::ReorderPointSet, &[Oa, Cm]),
    (Action::StockManage, &[Oa, Cm]),
    (Action::TransferManage, &[Oa, Cm]),
    (Action::UnitDispose, &[Ph, Nu, Es]),
    (Action::LotRecall, &[Oa]),
    (Action::LotTrace, &[Oa, Cm]),
    (Action::ReportRead, &[Oa, Cm]),
];

impl Action {
    /// The roles the matrix allows for this action.
    pub fn roles(self) -> &'static [Role] {
        MATRIX
            .iter()
            .find(|(action, _)| *action == self)
            .map_or(&[], |(_, roles)| roles)
    }

    /// Whether `role` may perform this action (where it holds the role).
    pub fn allows_role(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

/// The action that grants or withdraws `role`: `org_admin` alone grants `org_admin`,
/// `physician` and `clinic_manager`; a clinic manager also grants `nurse`, `esthetician` and
/// `front_desk` at their clinics. Nobody changes their own roles (the app enforces that).
pub fn granting(role: Role) -> Action {
    match role {
        Role::OrgAdmin => Action::OrgAdminGrant,
        Role::ClinicManager | Role::Physician => Action::SeniorRoleGrant,
        Role::Nurse | Role::Esthetician | Role::FrontDesk => Action::StaffRolesManage,
    }
}

/// Where an action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// At one clinic: allowed for `org_admin` or a listed role held at that clinic.
    Clinic(Uuid),
    /// Anywhere: allowed for `org_admin` or a listed role held at any clinic.
    Anywhere,
}

/// Whether a principal holding `grants` may perform `action` within `scope`.
pub fn allows(grants: &[Grant], action: Action, scope: Scope) -> bool {
    grants.iter().any(|grant| {
        action.allows_role(grant.role)
            && match (grant.clinic_id, scope) {
                (None, _) => true,
                (Some(_), Scope::Anywhere) => true,
                (Some(held_at), Scope::Clinic(clinic)) => held_at == clinic,
            }
    })
}

/// The clinics at which a principal may perform `action`; `None` means every clinic.
pub fn clinics_for(grants: &[Grant], action: Action) -> Option<Vec<Uuid>> {
    let mut clinics = Vec::new();
    for grant in grants.iter().filter(|g| action.allows_role(g.role)) {
        match grant.clinic_id {
            None => return None,
            Some(clinic) if !clinics.contains(&clinic) => clinics.push(clinic),
            Some(_) => {}
        }
    }
    Some(clinics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_appears_in_the_matrix_once() {
        for (i, (action, roles)) in MATRIX.iter().enumerate() {
            assert!(!roles.is_empty(), "{action:?} has no role");
            assert!(
                MATRIX[i + 1..].iter().all(|(other, _)| other != action),
                "{action:?} listed twice"
            );
        }
    }

    #[test]
    fn a_clinic_role_acts_only_at_its_clinic() {
        let (here, there) = (Uuid::now_v7(), Uuid::now_v7());
        let grants = [Grant {
            role: Role::ClinicManager,
            clinic_id: Some(here),
        }];
        assert!(allows(&grants, Action::StockManage, Scope::Clinic(here)));
        assert!(!allows(&grants, Action::StockManage, Scope::Clinic(there)));
        assert!(allows(&grants, Action::StockManage, Scope::Anywhere));
        assert!(!allows(&grants, Action::LotRecall, Scope::Anywhere));
        assert_eq!(clinics_for(&grants, Action::StockManage), Some(vec![here]));
    }

    #[test]
    fn org_admin_acts_everywhere_it_is_listed() {
        let grants = [Grant {
            role: Role::OrgAdmin,
            clinic_id: None,
        }];
        assert!(allows(
            &grants,
            Action::ClinicCreate,
            Scope::Clinic(Uuid::now_v7())
        ));
        assert_eq!(clinics_for(&grants, Action::StockRead), None);
        assert!(!allows(&grants, Action::TreatmentRecord, Scope::Anywhere));
    }

    #[test]
    fn front_desk_never_reads_clinical_content() {
        assert!(!Action::ClinicalRead.allows_role(Role::FrontDesk));
        assert!(Action::ClientRead.allows_role(Role::FrontDesk));
    }
}
