//! `skinledger.v1.WebhookService`: endpoints receiving the organisation's events, signed.

use skinledger_app::App;
use skinledger_app::webhooks::{NewWebhook, WebhookReplay};
use tonic::{Request, Response, Status};

use super::pb::webhook_service_server::WebhookService;
use super::pb::*;
use super::wire::webhooks::{delivery_query, webhook_changes};
use super::{Write, caller, checked, page, resource_id, status};

/// The webhook service.
#[derive(Debug, Clone)]
pub struct WebhookGrpc(pub App);

#[tonic::async_trait]
impl WebhookService for WebhookGrpc {
    async fn create_webhook(
        &self,
        request: Request<CreateWebhookRequest>,
    ) -> Result<Response<Webhook>, Status> {
        let actor = caller(&self.0, &request).await?;
        let new = Write::new(&self.0, &actor, "WebhookService/CreateWebhook")
            .accept(NewWebhook::try_from(request.into_inner()))
            .await?;
        let created = self.0.create_webhook(&actor, new).await.map_err(status)?;
        Ok(Response::new(created.into()))
    }

    async fn list_webhooks(
        &self,
        request: Request<ListWebhooksRequest>,
    ) -> Result<Response<ListWebhooksResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ListWebhooksRequest { limit, cursor } = request.into_inner();
        let answer = self
            .0
            .list_webhooks(&actor, &page(limit, cursor))
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn get_webhook(
        &self,
        request: Request<GetWebhookRequest>,
    ) -> Result<Response<Webhook>, Status> {
        let actor = caller(&self.0, &request).await?;
        let GetWebhookRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        Ok(Response::new(
            self.0.get_webhook(&actor, id).await.map_err(status)?.into(),
        ))
    }

    async fn update_webhook(
        &self,
        request: Request<UpdateWebhookRequest>,
    ) -> Result<Response<Webhook>, Status> {
        let actor = caller(&self.0, &request).await?;
        let id = resource_id(&request.get_ref().id)?;
        let changes = Write::new(&self.0, &actor, "WebhookService/UpdateWebhook")
            .accept(webhook_changes(request.into_inner()))
            .await?;
        let updated = self
            .0
            .update_webhook(&actor, id, changes)
            .await
            .map_err(status)?;
        Ok(Response::new(updated.into()))
    }

    async fn delete_webhook(
        &self,
        request: Request<DeleteWebhookRequest>,
    ) -> Result<Response<DeleteWebhookResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let DeleteWebhookRequest { id } = request.get_ref();
        let id = resource_id(id)?;
        self.0.delete_webhook(&actor, id).await.map_err(status)?;
        Ok(Response::new(DeleteWebhookResponse {}))
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<ListWebhookDeliveriesRequest>,
    ) -> Result<Response<ListWebhookDeliveriesResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let webhook = resource_id(&request.get_ref().webhook_id)?;
        let query = checked(delivery_query(request.into_inner()))?;
        let answer = self
            .0
            .list_webhook_deliveries(&actor, webhook, &query)
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn retry_webhook_delivery(
        &self,
        request: Request<RetryWebhookDeliveryRequest>,
    ) -> Result<Response<WebhookDelivery>, Status> {
        let actor = caller(&self.0, &request).await?;
        let RetryWebhookDeliveryRequest {
            webhook_id,
            delivery_id,
        } = request.get_ref();
        let webhook = resource_id(webhook_id)?;
        let delivery = resource_id(delivery_id)?;
        let retried = self
            .0
            .retry_webhook_delivery(&actor, webhook, delivery)
            .await
            .map_err(status)?;
        Ok(Response::new(retried.into()))
    }

    async fn replay_webhook(
        &self,
        request: Request<ReplayWebhookRequest>,
    ) -> Result<Response<Webhook>, Status> {
        let actor = caller(&self.0, &request).await?;
        let ReplayWebhookRequest { id, after } = request.into_inner();
        let id = resource_id(&id)?;
        let replayed = self
            .0
            .replay_webhook(&actor, id, WebhookReplay { after })
            .await
            .map_err(status)?;
        Ok(Response::new(replayed.into()))
    }
}
