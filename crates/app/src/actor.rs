//! The caller of a use case: who, in which organisation, holding which roles.

use serde::Serialize;
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_domain::role::{Grant, Role};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Principal {
    /// A staff member, logged in with a password.
    Staff(Uuid),
    /// An organisation's own system, with client credentials.
    ApiClient(Uuid),
}

impl Principal {
    /// The principal's id.
    pub fn id(self) -> Uuid {
        match self {
            Principal::Staff(id) | Principal::ApiClient(id) => id,
        }
    }

    /// `staff` or `api_client`.
    pub fn kind(self) -> ActorKind {
        match self {
            Principal::Staff(_) => ActorKind::Staff,
            Principal::ApiClient(_) => ActorKind::ApiClient,
        }
    }
}

/// An authenticated caller, as resolved for one request.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The caller's organisation; every query is scoped to it.
    pub org_id: Uuid,
    /// The staff member or API client.
    pub principal: Principal,
    /// The roles held: read from the database, or resolved by this process less than the
    /// `caller_cache` bound ago (changes made in this process apply at once).
    pub grants: Vec<Grant>,
    /// The request id, carried into audit events.
    pub request_id: Option<String>,
}

impl Actor {
    /// Fails with 403 unless the matrix allows `action` within `scope`.
    pub fn require(&self, action: Action, scope: Scope) -> Result<()> {
        if permission::allows(&self.grants, action, scope) {
            Ok(())
        } else {
            Err(Error::forbidden())
        }
    }

    /// Whether the matrix allows `action` within `scope`.
    pub fn may(&self, action: Action, scope: Scope) -> bool {
        permission::allows(&self.grants, action, scope)
    }

    /// Whether the caller holds `org_admin`.
    pub fn is_org_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::OrgAdmin)
    }

    /// The staff id, when the caller is a staff member.
    pub fn staff_id(&self) -> Option<Uuid> {
        match self.principal {
            Principal::Staff(id) => Some(id),
            Principal::ApiClient(_) => None,
        }
    }

    /// The roles held at one clinic (org-wide roles excluded).
    pub fn roles_at(&self, clinic: Uuid) -> Vec<Role> {
        self.grants
            .iter()
            .filter(|g| g.clinic_id == Some(clinic))
            .map(|g| g.role)
            .collect()
    }
}

skinledger_domain::wire_enum! {
    /// Who did something, as the audit log and the stock ledger record it.
    pub enum ActorKind ("actor kind") {
        /// A staff member.
        Staff => "staff",
        /// An integration's API client.
        ApiClient => "api_client",
        /// Someone not (yet) authenticated, such as a failed login.
        Anonymous => "anonymous",
        /// The server itself or its command line.
        System => "system",
    }
}
