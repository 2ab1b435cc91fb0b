//! Tokens, the caller and role grants.

use skinledger_app::auth::{Me, RoleGrant, TokenAnswer, TokenRequest};
use skinledger_domain::ValidationErrors;
use skinledger_domain::role::Role;

use crate::grpc::{field_id, pb};

impl From<pb::TokenRequest> for TokenRequest {
    /// Proto3 strings cannot be absent: an empty one is a field not sent.
    fn from(r: pb::TokenRequest) -> Self {
        let pb::TokenRequest {
            grant_type,
            org,
            email,
            password,
            refresh_token,
            client_id,
            client_secret,
        } = r;
        let sent = |s: String| (!s.is_empty()).then_some(s);
        TokenRequest {
            grant_type,
            org: sent(org),
            email: sent(email),
            password: sent(password),
            refresh_token: sent(refresh_token),
            client_id: sent(client_id),
            client_secret: sent(client_secret),
        }
    }
}

impl From<TokenAnswer> for pb::TokenResponse {
    fn from(a: TokenAnswer) -> Self {
        let TokenAnswer {
            access_token,
            token_type,
            expires_in,
            refresh_token,
        } = a;
        pb::TokenResponse {
            access_token,
            token_type: token_type.as_str().to_owned(),
            expires_in,
            refresh_token,
        }
    }
}

impl From<Me> for pb::MeResponse {
    fn from(me: Me) -> Self {
        let Me {
            kind,
            id,
            email,
            name,
            organization_id,
            organization_slug,
            organization_name,
            roles,
        } = me;
        pb::MeResponse {
            kind: kind.as_str().to_owned(),
            id: id.to_string(),
            email,
            name,
            organization_id: organization_id.to_string(),
            organization_slug,
            organization_name,
            roles: roles.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<RoleGrant> for pb::RoleGrant {
    fn from(g: RoleGrant) -> Self {
        let RoleGrant { role, clinic_id } = g;
        pb::RoleGrant {
            role: role.as_str().to_owned(),
            clinic_id: clinic_id.map(|c| c.to_string()),
        }
    }
}

/// Role grants as sent, each field named `roles[i].…` when it does not parse.
pub fn role_grants(grants: Vec<pb::RoleGrant>) -> Result<Vec<RoleGrant>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut out = Vec::new();
    for (i, g) in grants.into_iter().enumerate() {
        let pb::RoleGrant { role, clinic_id } = g;
        let role = errors.check(&format!("roles[{i}].role"), role.parse::<Role>());
        let clinic_id = match clinic_id.as_deref() {
            None => Some(None),
            Some(raw) => field_id(&mut errors, &format!("roles[{i}].clinic_id"), raw).map(Some),
        };
        if let (Some(role), Some(clinic_id)) = (role, clinic_id) {
            out.push(RoleGrant { role, clinic_id });
        }
    }
    errors.into_result()?;
    Ok(out)
}
