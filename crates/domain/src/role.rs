//! Roles a staff member or API client holds, per clinic or across the organisation.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::wire_enum;

wire_enum! {
    /// A role. Every role but [`Role::OrgAdmin`] is held at one clinic.
    pub enum Role ("role") {
        /// Manages everything in the organisation.
        OrgAdmin => "org_admin",
        /// Runs one clinic: its staff roles and its stock.
        ClinicManager => "clinic_manager",
        /// Treats up to the deepest needles, clears screenings, overrides intervals.
        Physician => "physician",
        /// Treats up to the nurse's depth limit.
        Nurse => "nurse",
        /// Treats superficially, up to the esthetician's depth limit.
        Esthetician => "esthetician",
        /// Books and greets clients; sees contact details and dates, never clinical content.
        FrontDesk => "front_desk",
    }
}

impl Role {
    /// Whether the role spans the organisation rather than one clinic.
    pub fn is_org_wide(self) -> bool {
        matches!(self, Role::OrgAdmin)
    }

    /// Whether the role performs treatments.
    pub fn is_clinical(self) -> bool {
        matches!(self, Role::Physician | Role::Nurse | Role::Esthetician)
    }
}

/// One role held by a principal: at a clinic, or organisation-wide when `clinic_id` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The clinic it is held at; `None` for organisation-wide roles.
    pub clinic_id: Option<Uuid>,
}

/// Why a grant is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// An organisation-wide role was given a clinic.
    #[error("`{0}` is organisation-wide and takes no clinic_id")]
    OrgWideWithClinic(Role),
    /// A clinic role was given no clinic.
    #[error("`{0}` is held at a clinic and needs a clinic_id")]
    ClinicRoleWithoutClinic(Role),
}

impl Grant {
    /// A grant whose clinic matches the role's kind.
    pub fn new(role: Role, clinic_id: Option<Uuid>) -> Result<Self, GrantError> {
        match (role.is_org_wide(), clinic_id) {
            (true, Some(_)) => Err(GrantError::OrgWideWithClinic(role)),
            (false, None) => Err(GrantError::ClinicRoleWithoutClinic(role)),
            _ => Ok(Self { role, clinic_id }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::assert_wire_names;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_string(&role).expect("serialises"),
                format!("\"{}\"", role.as_str())
            );
        }
        assert!("admin".parse::<Role>().is_err());
        assert_wire_names(&Role::ALL, Role::as_str);
        assert_eq!(
            "wizard".parse::<Role>().map_err(|e| e.to_string()),
            Err("unknown role `wizard`".to_owned())
        );
    }

    #[test]
    fn clinic_roles_need_a_clinic_and_org_admin_takes_none() {
        let clinic = Uuid::now_v7();
        assert!(Grant::new(Role::Nurse, Some(clinic)).is_ok());
        assert!(Grant::new(Role::Nurse, None).is_err());
        assert!(Grant::new(Role::OrgAdmin, None).is_ok());
        assert!(Grant::new(Role::OrgAdmin, Some(clinic)).is_err());
    }
}
