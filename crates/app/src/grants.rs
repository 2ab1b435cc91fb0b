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

/// Parses stored role rows into grants, skipping rows that are no longer understood.
pub(crate) fn grants_of(rows: &[skinledger_store::entities::staff_role::Model]) -> Vec<Grant> {
    rows.iter()
        .filter_map(|r| {
            let role = r.role.parse::<Role>().ok()?;
            Grant::new(role, r.clinic_id).ok()
        })
        .collect()
}

/// Reads the stored grants of an API client.
pub(crate) fn parse_grants(stored: &str) -> Vec<Grant> {
    serde_json::from_str::<Vec<RoleGrant>>(stored)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|g| Grant::new(g.role, g.clinic_id).ok())
        .collect()
}
