//! `skinledger.v1.AuthService`.

use skinledger_app::App;
use skinledger_app::auth::TokenRequest;
use tonic::{Request, Response, Status};

use crate::edge::CallerAddr;

use super::pb::auth_service_server::AuthService;
use super::pb::{MeRequest, MeResponse, RevokeRequest, RevokeResponse, TokenResponse};
use super::{caller, pb, request_id, status};

/// The auth service.
#[derive(Debug, Clone)]
pub struct AuthGrpc(pub App);

#[tonic::async_trait]
impl AuthService for AuthGrpc {
    async fn token(
        &self,
        request: Request<pb::TokenRequest>,
    ) -> Result<Response<TokenResponse>, Status> {
        let request_id = request_id(&request);
        let source = request
            .extensions()
            .get::<CallerAddr>()
            .map(|CallerAddr(addr)| *addr);
        let grant = TokenRequest::from(request.into_inner())
            .into_grant()
            .map_err(status)?;
        let answer = self
            .0
            .token_from(grant, request_id, source)
            .await
            .map_err(status)?;
        Ok(Response::new(answer.into()))
    }

    async fn revoke(
        &self,
        request: Request<RevokeRequest>,
    ) -> Result<Response<RevokeResponse>, Status> {
        let request_id = request_id(&request);
        let RevokeRequest { refresh_token } = request.into_inner();
        self.0
            .revoke(&refresh_token, request_id)
            .await
            .map_err(status)?;
        Ok(Response::new(RevokeResponse {}))
    }

    async fn me(&self, request: Request<MeRequest>) -> Result<Response<MeResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let MeRequest {} = request.get_ref();
        let me = self.0.me(&actor).await.map_err(status)?;
        Ok(Response::new(me.into()))
    }
}
