//! `skinledger.v1.OrganizationService`: clinics, staff, API clients, clinical policy.

use skinledger_app::api_clients::{ApiClient, NewApiClient};
use skinledger_app::clinics::{Clinic, ClinicChanges, NewClinic};
use skinledger_app::policy::PolicyVersion;
use skinledger_app::staff::{NewStaff, StaffChanges, StaffMember};
use skinledger_app::{App, Error};
use skinledger_domain::ValidationErrors;
use skinledger_domain::local_time::TimeZone;
use skinledger_domain::policy::ClinicalPolicy;
use tonic::{Request, Response, Status};

use super::pb::organization_service_server::OrganizationService;
use super::pb::*;
use super::{
    Write, caller, idempotency_key, page, pb, pb_grants, resource_id, role_grants, status, time,
};

/// The organisation service.
#[derive(Debug, Clone)]
pub struct OrganizationGrpc(pub App);

fn clinic(c: Clinic) -> pb::Clinic {
    pb::Clinic {
        id: c.id.to_string(),
        name: c.name,
        address: c.address,
        phone: c.phone,
        active: c.active,
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
        timezone: c.timezone.name().to_owned(),
    }
}

fn staff(m: StaffMember) -> pb::StaffMember {
    pb::StaffMember {
        id: m.id.to_string(),
        email: m.email,
        name: m.name,
        active: m.active,
        roles: pb_grants(m.roles),
        created_at: time(m.created_at),
        updated_at: time(m.updated_at),
    }
}

fn api_client(c: ApiClient) -> pb::ApiClient {
    pb::ApiClient {
        id: c.id.to_string(),
        name: c.name,
        client_id: c.client_id,
        client_secret: c.client_secret,
        roles: pb_grants(c.roles),
        created_at: time(c.created_at),
        last_used_at: c.last_used_at.map(time),
        revoked_at: c.revoked_at.map(time),
    }
}

/// The policy with its document as the JSON text REST answers as `document`.
fn policy(p: PolicyVersion) -> Result<Policy, Status> {
    let document_json = serde_json::to_string(&p.document)
        .map_err(|e| status(Error::Internal(format!("cannot serialise the policy: {e}"))))?;
    Ok(Policy {
        version: p.version,
        document_json,
        created_by: p.created_by.map(|c| c.to_string()),
        created_at: p.created_at.map(time),
    })
}

#[tonic::async_trait]
impl OrganizationService for OrganizationGrpc {
    async fn create_clinic(
        &self,
        request: Request<CreateClinicRequest>,
    ) -> Result<Response<pb::Clinic>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let mut errors = ValidationErrors::new();
        let timezone = r
            .timezone
            .and_then(|z| errors.check("timezone", TimeZone::parse(&z)));
        Write::new(&self.0, &actor, "OrganizationService/CreateClinic").check(errors)?;
        let new = NewClinic {
            name: r.name,
            address: r.address,
            phone: r.phone,
            timezone,
        };
        let created = self
            .0
            .create_clinic(&actor, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(clinic(created)))
    }

    async fn get_clinic(
        &self,
        request: Request<GetClinicRequest>,
    ) -> Result<Response<pb::Clinic>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(clinic(
            self.0.get_clinic(&actor, id).await.map_err(status)?,
        )))
    }

    async fn list_clinics(
        &self,
        request: Request<ListClinicsRequest>,
    ) -> Result<Response<ListClinicsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let answer = self
            .0
            .list_clinics(&actor, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListClinicsResponse {
            items: answer.items.into_iter().map(clinic).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn update_clinic(
        &self,
        request: Request<UpdateClinicRequest>,
    ) -> Result<Response<pb::Clinic>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let mut errors = ValidationErrors::new();
        let timezone = r
            .timezone
            .and_then(|z| errors.check("timezone", TimeZone::parse(&z)));
        Write::new(&self.0, &actor, "OrganizationService/UpdateClinic").check(errors)?;
        let changes = ClinicChanges {
            name: r.name,
            address: r.address,
            phone: r.phone,
            active: r.active,
            timezone,
        };
        Ok(Response::new(clinic(
            self.0
                .update_clinic(&actor, id, changes)
                .await
                .map_err(status)?,
        )))
    }

    async fn create_staff(
        &self,
        request: Request<CreateStaffRequest>,
    ) -> Result<Response<pb::StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let new = NewStaff {
            email: r.email,
            name: r.name,
            password: r.password,
            roles: role_grants(
                r.roles,
                &Write::new(&self.0, &actor, "OrganizationService/CreateStaff"),
            )?,
        };
        let created = self
            .0
            .create_staff(&actor, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(staff(created)))
    }

    async fn get_staff(
        &self,
        request: Request<GetStaffRequest>,
    ) -> Result<Response<pb::StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(staff(
            self.0.get_staff(&actor, id).await.map_err(status)?,
        )))
    }

    async fn list_staff(
        &self,
        request: Request<ListStaffRequest>,
    ) -> Result<Response<ListStaffResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let answer = self
            .0
            .list_staff(&actor, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListStaffResponse {
            items: answer.items.into_iter().map(staff).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn update_staff(
        &self,
        request: Request<UpdateStaffRequest>,
    ) -> Result<Response<pb::StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let changes = StaffChanges {
            email: r.email,
            name: r.name,
            password: r.password,
            current_password: r.current_password,
        };
        Ok(Response::new(staff(
            self.0
                .update_staff(&actor, id, changes)
                .await
                .map_err(status)?,
        )))
    }

    async fn deactivate_staff(
        &self,
        request: Request<DeactivateStaffRequest>,
    ) -> Result<Response<pb::StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(staff(
            self.0.deactivate_staff(&actor, id).await.map_err(status)?,
        )))
    }

    async fn set_staff_roles(
        &self,
        request: Request<SetStaffRolesRequest>,
    ) -> Result<Response<pb::StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let roles = role_grants(
            r.roles,
            &Write::new(&self.0, &actor, "OrganizationService/SetStaffRoles"),
        )?;
        Ok(Response::new(staff(
            self.0
                .set_staff_roles(&actor, id, roles)
                .await
                .map_err(status)?,
        )))
    }

    async fn create_api_client(
        &self,
        request: Request<CreateApiClientRequest>,
    ) -> Result<Response<pb::ApiClient>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let new = NewApiClient {
            name: r.name,
            roles: role_grants(
                r.roles,
                &Write::new(&self.0, &actor, "OrganizationService/CreateApiClient"),
            )?,
        };
        Ok(Response::new(api_client(
            self.0
                .create_api_client(&actor, new)
                .await
                .map_err(status)?,
        )))
    }

    async fn list_api_clients(
        &self,
        request: Request<ListApiClientsRequest>,
    ) -> Result<Response<ListApiClientsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let answer = self
            .0
            .list_api_clients(&actor, &page(r.limit, r.cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(ListApiClientsResponse {
            items: answer.items.into_iter().map(api_client).collect(),
            next_cursor: answer.next_cursor,
        }))
    }

    async fn revoke_api_client(
        &self,
        request: Request<RevokeApiClientRequest>,
    ) -> Result<Response<pb::ApiClient>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        Ok(Response::new(api_client(
            self.0.revoke_api_client(&actor, id).await.map_err(status)?,
        )))
    }

    async fn get_policy(
        &self,
        request: Request<GetPolicyRequest>,
    ) -> Result<Response<Policy>, Status> {
        let actor = caller(&self.0, &request).await?;
        let current = self.0.get_policy(&actor).await.map_err(status)?;
        Ok(Response::new(policy(current)?))
    }

    async fn put_policy(
        &self,
        request: Request<PutPolicyRequest>,
    ) -> Result<Response<Policy>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        // The same parser as the REST body, so errors name the same fields.
        let document: ClinicalPolicy = crate::rest::extract::parse_json(r.document_json.as_bytes())
            .map_err(crate::error::ApiError::into_status)?;
        let stored = self
            .0
            .put_policy(&actor, document, r.if_match)
            .await
            .map_err(status)?;
        Ok(Response::new(policy(stored)?))
    }
}
