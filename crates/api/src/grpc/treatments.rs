//! `skinledger.v1.TreatmentService`: eligibility, treatment records, addenda, adverse events
//! and aftercare.

use skinledger_app::App;
use skinledger_app::eligibility::EligibilityRequest;
use skinledger_app::treatments::{NewAddendum, NewAdverseEvent, NewTreatment, TreatmentChanges};
use tonic::{Request, Response, Status};

use super::pb::treatment_service_server::TreatmentService;
use super::pb::*;
use super::{Write, caller, idempotency_key, page, resource_id, status};

/// The treatment service.
#[derive(Debug, Clone)]
pub struct TreatmentGrpc(pub App);

#[tonic::async_trait]
impl TreatmentService for TreatmentGrpc {
    async fn check_eligibility(
        &self,
        request: Request<CheckEligibilityRequest>,
    ) -> Result<Response<EligibilityAnswer>, Status> {
        let actor = caller(&self.0, &request).await?;
        let check = Write::new(&self.0, &actor, "TreatmentService/CheckEligibility")
            .accept(EligibilityRequest::try_from(request.into_inner()))
            .await?;
        Ok(Response::new(
            self.0
                .check_eligibility(&actor, check)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn create_treatment(
        &self,
        request: Request<CreateTreatmentRequest>,
    ) -> Result<Response<Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let new = Write::new(&self.0, &actor, "TreatmentService/CreateTreatment")
            .accept(NewTreatment::try_from(request.into_inner()))
            .await?;
        Ok(Response::new(
            self.0
                .create_treatment(&actor, new, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn get_treatment(
        &self,
        request: Request<GetTreatmentRequest>,
    ) -> Result<Response<Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetTreatmentRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0
                .get_treatment(&actor, id)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn list_client_treatments(
        &self,
        request: Request<ListClientTreatmentsRequest>,
    ) -> Result<Response<ListTreatmentsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListClientTreatmentsRequest {
            client_id,
            limit,
            cursor,
        } = request.into_inner();
        let client_id = resource_id(&client_id)?;
        let answer = self
            .0
            .list_client_treatments(&actor, client_id, &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn update_treatment(
        &self,
        request: Request<UpdateTreatmentRequest>,
    ) -> Result<Response<Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let r = request.into_inner();
        let id = resource_id(&r.id)?;
        let if_match = r.if_match;
        let changes = Write::new(&self.0, &actor, "TreatmentService/UpdateTreatment")
            .accept(TreatmentChanges::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .update_treatment(&actor, id, changes, if_match)
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn sign_treatment(
        &self,
        request: Request<SignTreatmentRequest>,
    ) -> Result<Response<Treatment>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let SignTreatmentRequest { id, if_match } = request.into_inner();
        let id = resource_id(&id)?;
        Ok(Response::new(
            self.0
                .sign_treatment(&actor, id, if_match, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn add_addendum(
        &self,
        request: Request<AddAddendumRequest>,
    ) -> Result<Response<Addendum>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.treatment_id)?;
        Ok(Response::new(
            self.0
                .add_treatment_addendum(&actor, id, NewAddendum::from(r), key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn record_adverse_event(
        &self,
        request: Request<RecordAdverseEventRequest>,
    ) -> Result<Response<AdverseEvent>, Status> {
        let actor = caller(&self.0, &request).await?;
        let key = idempotency_key(&request)?;
        let r = request.into_inner();
        let id = resource_id(&r.treatment_id)?;
        let new = Write::new(&self.0, &actor, "TreatmentService/RecordAdverseEvent")
            .accept(NewAdverseEvent::try_from(r))
            .await?;
        Ok(Response::new(
            self.0
                .record_adverse_event(&actor, id, new, key.as_ref())
                .await
                .map_err(status)?
                .into(),
        ))
    }

    async fn get_aftercare(
        &self,
        request: Request<GetAftercareRequest>,
    ) -> Result<Response<TreatmentAftercare>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetAftercareRequest { treatment_id } = request.get_ref();
        let id = resource_id(treatment_id)?;
        Ok(Response::new(
            self.0
                .get_treatment_aftercare(&actor, id)
                .await
                .map_err(status)?
                .into(),
        ))
    }
}
