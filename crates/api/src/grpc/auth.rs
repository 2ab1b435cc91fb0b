//! `skinledger.v1.AuthService`.

use skinledger_app::App;
use skinledger_app::auth::TokenRequest;
use tonic::{Request, Response, Status};

use crate::edge::ClientAddr;

use super::pb::auth_service_server::AuthService;
use super::pb::{MeRequest, MeResponse, RevokeRequest, RevokeResponse, TokenResponse};
use super::{caller, pb, pb_grants, request_id, status};

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
            .get::<ClientAddr>()
            .map(|ClientAddr(addr)| *addr);
        let r = request.into_inner();
        let some = |s: String| (!s.is_empty()).then_some(s);
        let grant = TokenRequest {
            grant_type: r.grant_type,
            org: some(r.org),
            email: some(r.email),
            password: some(r.password),
            refresh_token: some(r.refresh_token),
            client_id: some(r.client_id),
            client_secret: some(r.client_secret),
        }
        .into_grant()
        .map_err(status)?;
        let answer = self
            .0
            .token_from(grant, request_id, source)
            .await
            .map_err(status)?;
        Ok(Response::new(TokenResponse {
            access_token: answer.access_token,
            token_type: answer.token_type.as_str().to_owned(),
            expires_in: answer.expires_in,
            refresh_token: answer.refresh_token,
        }))
    }

    async fn revoke(
        &self,
        request: Request<RevokeRequest>,
    ) -> Result<Response<RevokeResponse>, Status> {
        let request_id = request_id(&request);
        self.0
            .revoke(&request.into_inner().refresh_token, request_id)
            .await
            .map_err(status)?;
        Ok(Response::new(RevokeResponse {}))
    }

    async fn me(&self, request: Request<MeRequest>) -> Result<Response<MeResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let me = self.0.me(&actor).await.map_err(status)?;
        Ok(Response::new(MeResponse {
            kind: me.kind.as_str().to_owned(),
            id: me.id.to_string(),
            email: me.email,
            name: me.name,
            organization_id: me.organization_id.to_string(),
            organization_slug: me.organization_slug,
            organization_name: me.organization_name,
            roles: pb_grants(me.roles),
        }))
    }
}
