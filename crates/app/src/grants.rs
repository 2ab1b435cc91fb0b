//! Roles held, as the API shows them and as they are stored: a staff member's role rows, an
//! API client's list of grants.

use serde::{Deserialize, Serialize};
use skinledger_domain::role::{Grant, Role};
use uuid::Uuid;

/// A role held, as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrant {
    /// The role.
    pub role: Role,
    /// The clinic, or `null` for organisation-wide roles.
    pub clinic_id: Option<Uuid>,
}

impl From<Grant> for RoleGrant {
    fn from(g: Grant) -> Self {
        Self {
            role: g.role,
            clinic_id: g.clinic_id,
        }
    }
}

/// The grants of a staff member's role rows.
pub(crate) fn grants_of(rows: &[skinledger_store::entities::staff_role::Model]) -> Vec<Grant> {
    rows.iter()
        .map(|r| Grant {
            role: *r.role,
            clinic_id: r.clinic_id,
        })
        .collect()
}
