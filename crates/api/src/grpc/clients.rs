//! `skinledger.v1.ClientService`: clients, screenings, courses.

use skinledger_app::App;
use skinledger_app::clients::{ClientChanges, NewClient};
use skinledger_app::courses::NewCourse;
use skinledger_app::screenings::{NewClearance, NewScreening};
use tonic::{Request, Response, Status};

use super::pb::client_service_server::ClientService;
use super::pb::*;
use super::{Write, caller, idempotency_key, page, resource_id, status};

/// The client service.
#[derive(Debug, Clone)]
pub struct ClientGrpc(pub App);

#[tonic::async_trait]
impl ClientService for ClientGrpc {
    async fn create_client(
        &self,
        request: Request<CreateClientRequest>,
    ) -> Result<Response<Client>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = Write::new(&self.0, &actor, "ClientService/CreateClient")
            .accept(NewClient::try_from(request.into_inner()))
            .await?;
        let created = self
            .0
            .create_client(&actor, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(created.into()))
    }

    async fn get_client(
        &self,
        request: Request<GetClientRequest>,
    ) -> Result<Response<Client>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetClientRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.get_client(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn list_clients(
        &self,
        request: Request<ListClientsRequest>,
    ) -> Result<Response<ListClientsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListClientsRequest { q, limit, cursor } = request.into_inner();
        let answer = self
            .0
            .list_clients(&actor, q.as_deref(), &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn update_client(
        &self,
        request: Request<UpdateClientRequest>,
    ) -> Result<Response<Client>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let if_match = r.if_match;
        let changes = Write::new(&self.0, &actor, "ClientService/UpdateClient")
            .accept(ClientChanges::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .update_client(&actor, id, changes, if_match)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn record_screening(
        &self,
        request: Request<RecordScreeningRequest>,
    ) -> Result<Response<Screening>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let client_id = resource_id(&r.client_id)?;
        let new = Write::new(&self.0, &actor, "ClientService/RecordScreening")
            .accept(NewScreening::try_from(r))
            .await?;
        let recorded = self
            .0
            .record_screening(&actor, client_id, new, key.as_ref())
            .await
            .map_err(status)?;
        Ok(Response::new(recorded.into()))
    }

    async fn list_screenings(
        &self,
        request: Request<ListScreeningsRequest>,
    ) -> Result<Response<ListScreeningsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListScreeningsRequest {
            client_id,
            limit,
            cursor,
        } = request.into_inner();
        let client_id = resource_id(&client_id)?;
        let answer = self
            .0
            .list_client_screenings(&actor, client_id, &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn get_screening(
        &self,
        request: Request<GetScreeningRequest>,
    ) -> Result<Response<Screening>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetScreeningRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0
                .get_screening(&actor, id)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn clear_screening_factor(
        &self,
        request: Request<ClearScreeningFactorRequest>,
    ) -> Result<Response<Screening>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let clearance = Write::new(&self.0, &actor, "ClientService/ClearScreeningFactor")
            .accept(NewClearance::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .clear_screening_factor(&actor, id, clearance, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn create_course(
        &self,
        request: Request<CreateCourseRequest>,
    ) -> Result<Response<Course>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let client_id = resource_id(&r.client_id)?;
        let new = Write::new(&self.0, &actor, "ClientService/CreateCourse")
            .accept(NewCourse::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .create_course(&actor, client_id, new, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn list_courses(
        &self,
        request: Request<ListCoursesRequest>,
    ) -> Result<Response<ListCoursesResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListCoursesRequest {
            client_id,
            limit,
            cursor,
        } = request.into_inner();
        let client_id = resource_id(&client_id)?;
        let answer = self
            .0
            .list_client_courses(&actor, client_id, &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn get_course(
        &self,
        request: Request<GetCourseRequest>,
    ) -> Result<Response<Course>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetCourseRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.get_course(&actor, id).await.map_err(status)?.into(),
        ))
    }
}
