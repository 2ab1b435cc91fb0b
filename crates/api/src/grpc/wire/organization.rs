//! Clinics, staff, API clients and the clinical policy.

use skinledger_app::api_clients::{ApiClient, NewApiClient};
use skinledger_app::clinics::{Clinic, ClinicChanges, NewClinic};
use skinledger_app::policy::PolicyVersion;
use skinledger_app::staff::{NewStaff, StaffChanges, StaffMember};
use skinledger_app::{Error, Page};
use skinledger_domain::ValidationErrors;
use skinledger_domain::local_time::TimeZone;

use super::auth::role_grants;
use crate::grpc::{pb, time};

impl From<Clinic> for pb::Clinic {
    fn from(c: Clinic) -> Self {
        let Clinic {
            id,
            name,
            address,
            phone,
            active,
            timezone,
            created_at,
            updated_at,
        } = c;
        pb::Clinic {
            id: id.to_string(),
            name,
            address,
            phone,
            active,
            created_at: time(created_at),
            updated_at: time(updated_at),
            timezone: timezone.name().to_owned(),
        }
    }
}

impl From<Page<Clinic>> for pb::ListClinicsResponse {
    fn from(page: Page<Clinic>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListClinicsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::CreateClinicRequest> for NewClinic {
    type Error = ValidationErrors;

    fn try_from(r: pb::CreateClinicRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateClinicRequest {
            name,
            address,
            phone,
            timezone,
        } = r;
        let mut errors = ValidationErrors::new();
        let timezone = timezone.and_then(|z| errors.check("timezone", TimeZone::parse(&z)));
        errors.into_result()?;
        Ok(NewClinic {
            name,
            address,
            phone,
            timezone,
        })
    }
}

impl TryFrom<pb::UpdateClinicRequest> for ClinicChanges {
    type Error = ValidationErrors;

    fn try_from(r: pb::UpdateClinicRequest) -> Result<Self, ValidationErrors> {
        let pb::UpdateClinicRequest {
            // The clinic changed: the handler reads it first.
            id: _,
            name,
            address,
            phone,
            active,
            timezone,
        } = r;
        let mut errors = ValidationErrors::new();
        let timezone = timezone.and_then(|z| errors.check("timezone", TimeZone::parse(&z)));
        errors.into_result()?;
        Ok(ClinicChanges {
            name,
            address,
            phone,
            active,
            timezone,
        })
    }
}

impl From<StaffMember> for pb::StaffMember {
    fn from(m: StaffMember) -> Self {
        let StaffMember {
            id,
            email,
            name,
            active,
            roles,
            created_at,
            updated_at,
        } = m;
        pb::StaffMember {
            id: id.to_string(),
            email,
            name,
            active,
            roles: roles.into_iter().map(Into::into).collect(),
            created_at: time(created_at),
            updated_at: time(updated_at),
        }
    }
}

impl From<Page<StaffMember>> for pb::ListStaffResponse {
    fn from(page: Page<StaffMember>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListStaffResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::CreateStaffRequest> for NewStaff {
    type Error = ValidationErrors;

    fn try_from(r: pb::CreateStaffRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateStaffRequest {
            email,
            name,
            password,
            roles,
        } = r;
        Ok(NewStaff {
            email,
            name,
            password,
            roles: role_grants(roles)?,
        })
    }
}

impl From<pb::UpdateStaffRequest> for StaffChanges {
    fn from(r: pb::UpdateStaffRequest) -> Self {
        let pb::UpdateStaffRequest {
            // The staff member changed: the handler reads it first.
            id: _,
            email,
            name,
            password,
            current_password,
        } = r;
        StaffChanges {
            email,
            name,
            password,
            current_password,
        }
    }
}

impl From<ApiClient> for pb::ApiClient {
    fn from(c: ApiClient) -> Self {
        let ApiClient {
            id,
            name,
            client_id,
            client_secret,
            roles,
            created_at,
            last_used_at,
            revoked_at,
        } = c;
        pb::ApiClient {
            id: id.to_string(),
            name,
            client_id,
            client_secret,
            roles: roles.into_iter().map(Into::into).collect(),
            created_at: time(created_at),
            last_used_at: last_used_at.map(time),
            revoked_at: revoked_at.map(time),
        }
    }
}

impl From<Page<ApiClient>> for pb::ListApiClientsResponse {
    fn from(page: Page<ApiClient>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListApiClientsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::CreateApiClientRequest> for NewApiClient {
    type Error = ValidationErrors;

    fn try_from(r: pb::CreateApiClientRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateApiClientRequest { name, roles } = r;
        Ok(NewApiClient {
            name,
            roles: role_grants(roles)?,
        })
    }
}

impl TryFrom<PolicyVersion> for pb::Policy {
    type Error = Error;

    /// The policy with its document as the JSON text REST answers as `document`.
    fn try_from(p: PolicyVersion) -> Result<Self, Error> {
        let PolicyVersion {
            version,
            document,
            created_by,
            created_at,
        } = p;
        let document_json = serde_json::to_string(&document)
            .map_err(|e| Error::Internal(format!("cannot serialise the policy: {e}")))?;
        Ok(pb::Policy {
            version,
            document_json,
            created_by: created_by.map(|c| c.to_string()),
            created_at: created_at.map(time),
        })
    }
}
