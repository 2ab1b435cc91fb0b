//! `skinledger.v1.OrganizationService`: clinics, staff, API clients, clinical policy.

use skinledger_app::App;
use skinledger_app::api_clients::NewApiClient;
use skinledger_app::clinics::{ClinicChanges, NewClinic};
use skinledger_app::staff::{NewStaff, StaffChanges};
use skinledger_domain::policy::ClinicalPolicy;
use tonic::{Request, Response, Status};

use super::pb::organization_service_server::OrganizationService;
use super::pb::*;
use super::wire::auth::role_grants;
use super::{Write, caller, idempotency_key, page, resource_id, status};

/// The organisation service.
#[derive(Debug, Clone)]
pub struct OrganizationGrpc(pub App);

#[tonic::async_trait]
impl OrganizationService for OrganizationGrpc {
    async fn create_clinic(
        &self,
        request: Request<CreateClinicRequest>,
    ) -> Result<Response<Clinic>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = Write::new(&self.0, &actor, "OrganizationService/CreateClinic")
            .accept(NewClinic::try_from(request.into_inner()))
            .await?;
        let created = self
            .0
            .create_clinic(&actor, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(created.into()))
    }

    async fn get_clinic(
        &self,
        request: Request<GetClinicRequest>,
    ) -> Result<Response<Clinic>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetClinicRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.get_clinic(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn list_clinics(
        &self,
        request: Request<ListClinicsRequest>,
    ) -> Result<Response<ListClinicsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListClinicsRequest { limit, cursor } = request.into_inner();
        let answer = self
            .0
            .list_clinics(&actor, &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn update_clinic(
        &self,
        request: Request<UpdateClinicRequest>,
    ) -> Result<Response<Clinic>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let changes = Write::new(&self.0, &actor, "OrganizationService/UpdateClinic")
            .accept(ClinicChanges::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .update_clinic(&actor, id, changes)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn create_staff(
        &self,
        request: Request<CreateStaffRequest>,
    ) -> Result<Response<StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = Write::new(&self.0, &actor, "OrganizationService/CreateStaff")
            .accept(NewStaff::try_from(request.into_inner()))
            .await?;
        let created = self
            .0
            .create_staff(&actor, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(created.into()))
    }

    async fn get_staff(
        &self,
        request: Request<GetStaffRequest>,
    ) -> Result<Response<StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetStaffRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.get_staff(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn list_staff(
        &self,
        request: Request<ListStaffRequest>,
    ) -> Result<Response<ListStaffResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListStaffRequest { limit, cursor } = request.into_inner();
        let answer = self
            .0
            .list_staff(&actor, &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn update_staff(
        &self,
        request: Request<UpdateStaffRequest>,
    ) -> Result<Response<StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        Ok(Response::new(
            self.0
                .update_staff(&actor, id, StaffChanges::from(r))
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn deactivate_staff(
        &self,
        request: Request<DeactivateStaffRequest>,
    ) -> Result<Response<StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let DeactivateStaffRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0
                .deactivate_staff(&actor, id)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn set_staff_roles(
        &self,
        request: Request<SetStaffRolesRequest>,
    ) -> Result<Response<StaffMember>, Status> {
        let actor = caller(&self.0, &request).await?;
        let SetStaffRolesRequest { id, roles } = request.into_inner();
        let id = resource_id(&id)?;
        let roles = Write::new(&self.0, &actor, "OrganizationService/SetStaffRoles")
            .accept(role_grants(roles))
            .await?;
        Ok(Response::new(
            self.0
                .set_staff_roles(&actor, id, roles)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn create_api_client(
        &self,
        request: Request<CreateApiClientRequest>,
    ) -> Result<Response<ApiClient>, Status> {
        let actor = caller(&self.0, &request).await?;
        let new = Write::new(&self.0, &actor, "OrganizationService/CreateApiClient")
            .accept(NewApiClient::try_from(request.into_inner()))
            .await?;
        Ok(Response::new(
            self.0
                .create_api_client(&actor, new)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn list_api_clients(
        &self,
        request: Request<ListApiClientsRequest>,
    ) -> Result<Response<ListApiClientsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListApiClientsRequest { limit, cursor } = request.into_inner();
        let answer = self
            .0
            .list_api_clients(&actor, &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn revoke_api_client(
        &self,
        request: Request<RevokeApiClientRequest>,
    ) -> Result<Response<ApiClient>, Status> {
        let actor = caller(&self.0, &request).await?;
        let RevokeApiClientRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0
                .revoke_api_client(&actor, id)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn get_policy(
        &self,
        request: Request<GetPolicyRequest>,
    ) -> Result<Response<Policy>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetPolicyRequest {} = request.get_ref();
        let current = self.0.get_policy(&actor).await.map_err(status)?;
        Ok(Response::new(Policy::try_from(current).map_err(status)?))
    }

    async fn put_policy(
        &self,
        request: Request<PutPolicyRequest>,
    ) -> Result<Response<Policy>, Status> {
        let actor = caller(&self.0, &request).await?;
        let PutPolicyRequest {
            document_json,
            if_match,
        } = request.into_inner();
        // The same parser as the REST body, so errors name the same fields.
        let document: ClinicalPolicy = crate::common::parse_json(document_json.as_bytes())
            .map_err(crate::error::ApiError::into_status)?;
        let stored = self
            .0
            .put_policy(&actor, document, if_match)
            .await
            .map_err(status)?;
        Ok(Response::new(Policy::try_from(stored).map_err(status)?))
    }
}
