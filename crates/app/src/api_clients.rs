//! API clients: credentials for an organisation's own systems, with an explicit set of roles.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::names::Name;
use skinledger_domain::permission::{Action, Scope};
use skinledger_domain::role::Grant;
use skinledger_store::entities::api_client;
use skinledger_store::{api_clients, clinics};
use uuid::Uuid;

use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::grants::RoleGrant;
use crate::paging::{Page, PageParams};
use crate::txn::Txn;
use crate::{App, secrets};

/// An API client as the API shows it; the secret only once, in the answer to its creation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ApiClient {
    /// Its id.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// The public client id used at the `client_credentials` grant.
    pub client_id: String,
    /// The secret: present only in the answer that created it.
    pub client_secret: Option<String>,
    /// The roles it acts with.
    pub roles: Vec<RoleGrant>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last obtained a token.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new API client, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiClient {
    /// What it is for.
    pub name: String,
    /// The roles it acts with (at least one).
    pub roles: Vec<RoleGrant>,
}

fn from_row(m: api_client::Model, secret: Option<String>) -> ApiClient {
    ApiClient {
        id: m.id,
        roles: m.grants.iter().copied().map(RoleGrant::from).collect(),
        name: m.name,
        client_id: m.client_id,
        client_secret: secret,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
    }
}

impl App {
    /// Creates an API client (`org_admin`). The secret is in this answer and nowhere else:
    /// only its digest is stored.
    pub async fn create_api_client(&self, actor: &Actor, new: NewApiClient) -> Result<ApiClient> {
        let subject = Subject::new("api_client", None);
        self.audited(actor, "api_client.create", subject, async move {
            actor.require(Action::ApiClientManage, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let name = errors.check("name", Name::parse(&new.name));
            let mut grants = BTreeSet::new();
            if new.roles.is_empty() {
                errors.add("roles", "at least one role is required");
            }
            for (i, r) in new.roles.iter().enumerate() {
                match Grant::new(r.role, r.clinic_id) {
                    Ok(g) => {
                        grants.insert(g);
                    }
                    Err(e) => errors.add(format!("roles[{i}].clinic_id"), e.to_string()),
                }
            }
            let wanted: Vec<Uuid> = grants.iter().filter_map(|g| g.clinic_id).collect();
            let found = clinics::existing(self.db().read(), actor.org_id, &wanted).await?;
            for (i, r) in new.roles.iter().enumerate() {
                if r.clinic_id.is_some_and(|c| !found.contains(&c)) && !r.role.is_org_wide() {
                    errors.add(
                        format!("roles[{i}].clinic_id"),
                        "is not a clinic of this organisation",
                    );
                }
            }
            errors.into_result()?;
            let name = name.ok_or_else(|| Error::invalid("name", "is required"))?;
            let stored: Vec<Grant> = grants.into_iter().collect();
            let secret = secrets::random_secret("sls_");
            let txn = Txn::begin(self.db()).await?;
            let row = api_clients::insert(
                &txn,
                api_client::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(actor.org_id),
                    name: Set(name.to_string()),
                    client_id: Set(secrets::random_id("slc_")),
                    secret_hash: Set(secrets::digest(&secret)),
                    grants: Set(stored.into()),
                    created_by: Set(Some(actor.principal.id())),
                    created_at: Set(Utc::now()),
                    last_used_at: Set(None),
                    revoked_at: Set(None),
                },
            )
            .await?;
            txn.audit(
                AuditEvent::by(actor, "api_client.create", "api_client", Some(row.id))
                    .detail(serde_json::json!({ "roles": &new.roles })),
            );
            txn.commit().await?;
            Ok(from_row(row, Some(secret)))
        })
        .await
    }

    /// The organisation's API clients (`org_admin`), without secrets.
    pub async fn list_api_clients(
        &self,
        actor: &Actor,
        page: &PageParams,
    ) -> Result<Page<ApiClient>> {
        actor.require(Action::ApiClientManage, Scope::Anywhere)?;
        let rows = api_clients::list(self.db().read(), actor.org_id, page.parse()?).await?;
        Ok(Page::from_store(rows, |m| from_row(m, None)))
    }

    /// Revokes an API client (`org_admin`): its tokens stop working at once.
    pub async fn revoke_api_client(&self, actor: &Actor, id: Uuid) -> Result<ApiClient> {
        let subject = Subject::new("api_client", Some(id));
        self.audited(actor, "api_client.revoke", subject, async move {
            let txn = Txn::begin(self.db()).await?;
            let row = api_clients::get(&txn, actor.org_id, id)
                .await?
                .ok_or(Error::NotFound("api_client"))?;
            actor.require(Action::ApiClientManage, Scope::Anywhere)?;
            let row = if row.revoked_at.is_none() {
                let mut active: api_client::ActiveModel = row.into();
                active.revoked_at = Set(Some(Utc::now()));
                let row = api_clients::update(&txn, active).await?;
                txn.audit(AuditEvent::by(
                    actor,
                    "api_client.revoke",
                    "api_client",
                    Some(id),
                ));
                row
            } else {
                row
            };
            txn.commit().await?;
            self.forget_caller(actor.org_id, crate::Principal::ApiClient(id));
            Ok(from_row(row, None))
        })
        .await
    }
}
