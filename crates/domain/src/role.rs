//! Roles a staff member or API client holds, per clinic or across the organisation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A role. Every role but [`Role::OrgAdmin`] is held at one clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages everything in the organisation.
    OrgAdmin,
    /// Runs one clinic: its staff roles and its stock.
    ClinicManager,
    /// Treats up to the deepest needles, clears screenings, overrides intervals.
    Physician,
    /// Treats up to the nurse's depth limit.
    Nurse,
    /// Treats superficially, up to the esthetician's depth limit.
    Esthetician,
    /// Books and greets clients; sees contact details and dates, never clinical content.
    FrontDesk,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::OrgAdmin,
        Role::ClinicManager,
        Role::Physician,
        Role::Nurse,
        Role::Esthetician,
        Role::FrontDesk,
    ];

    /// The wire name (`clinic_manager`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::OrgAdmin => "org_admin",
            Role::ClinicManager => "clinic_manager",
            Role::Physician => "physician",
            Role::Nurse => "nurse",
            Role::Esthetician => "esthetician",
            Role::FrontDesk => "front_desk",
        }
    }

    /// Whether the role spans the organisation rather than one clinic.
    pub fn is_org_wide(self) -> bool {
        matches!(self, Role::OrgAdmin)
    }

    /// Whether the role performs treatments.
    pub fn is_clinical(self) -> bool {
        matches!(self, Role::Physician | Role::Nurse | Role::Esthetician)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
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
