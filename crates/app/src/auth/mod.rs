//! Authentication: the token grants, refresh-token rotation, revocation, and turning an access
//! token into an [`Actor`].
//!
//! - `wire`: token requests and answers as they travel;
//! - `attempts`: recording and throttling login and client-credential attempts;
//! - `refresh`: refresh tokens, their rotation, retries and reuse.

mod attempts;
mod refresh;
mod wire;

use std::net::IpAddr;

use chrono::{Duration as ChronoDuration, Utc};
use sea_orm::Set;
use skinledger_domain::role::Grant;
use skinledger_store::{api_clients, orgs, staff, tokens};
use uuid::Uuid;

use crate::ErrorCode;
use crate::actor::{Actor, Principal};
use crate::audit::{ActorKind, AuditEvent, AuditOutcome};
use crate::error::{Error, Result};
pub use crate::grants::RoleGrant;
use crate::throttle;
use crate::txn::Txn;
use crate::{App, secrets};

use self::attempts::{Claim, account_key, api_client_key, source_key};
pub use self::wire::{GrantType, Me, TokenAnswer, TokenGrant, TokenRequest, TokenType};

/// How long after a refresh the same refresh token may come back (a retry after a lost
/// answer) and get the same new one, instead of ending the session as a stolen copy would.
pub const REFRESH_RETRY_WINDOW: ChronoDuration = ChronoDuration::seconds(30);

fn invalid_credentials() -> Error {
    Error::Unauthenticated {
        code: ErrorCode::InvalidCredentials,
        detail: "the credentials are not valid",
    }
}

fn invalid_grant() -> Error {
    Error::Unauthenticated {
        code: ErrorCode::InvalidGrant,
        detail: "the refresh token is not valid",
    }
}

impl App {
    /// Answers a token request of any grant type, from an address that is not known.
    pub async fn token(
        &self,
        grant: TokenGrant,
        request_id: Option<String>,
    ) -> Result<TokenAnswer> {
        self.token_from(grant, request_id, None).await
    }

    /// Answers a token request of any grant type from `source`, the client's address:
    /// failed attempts are counted per account, per address, and per account and address.
    pub async fn token_from(
        &self,
        grant: TokenGrant,
        request_id: Option<String>,
        source: Option<IpAddr>,
    ) -> Result<TokenAnswer> {
        let source = source_key(source);
        match grant {
            TokenGrant::Password {
                org,
                email,
                password,
            } => {
                self.password_grant(&org, &email, password, &source, request_id)
                    .await
            }
            TokenGrant::RefreshToken { refresh_token } => {
                self.refresh_grant(&refresh_token, request_id).await
            }
            TokenGrant::ClientCredentials {
                client_id,
                client_secret,
            } => {
                self.client_credentials_grant(&client_id, &client_secret, &source, request_id)
                    .await
            }
        }
    }

    async fn password_grant(
        &self,
        org_slug: &str,
        email: &str,
        password: String,
        source: &str,
        request_id: Option<String>,
    ) -> Result<TokenAnswer> {
        // Password logins are admitted a few at a time: each checks a password, which holds
        // 7 MiB (19 MiB for a hash stored at the earlier cost), and a burst waits here,
        // cheaply, rather than all at once further in.
        let _admitted = secrets::admit_password_check().await?;
        let db = self.db();
        let key = account_key(org_slug, email);
        let now = Utc::now();
        // Record the attempt before checking the password, and count it: parallel guesses see
        // each other's rows, so no more passwords are checked at once than one at a time would
        // be, whichever replica receives them. A success removes the account's rows again.
        let org = orgs::by_slug(db.read(), &org_slug.trim().to_lowercase()).await?;
        let attempt = match self.claim_attempt(&key, source, now).await? {
            Claim::Granted(attempt) => attempt,
            Claim::Throttled(retry_after_secs) => {
                // A refused attempt is not a failure.
                if let Some(org) = &org {
                    let txn = Txn::begin(db).await?;
                    txn.audit(
                        anonymous_event(org.id, "auth.login", request_id)
                            .outcome(AuditOutcome::Throttled),
                    );
                    txn.commit().await?;
                }
                return Err(Error::Throttled { retry_after_secs });
            }
        };
        let member = match &org {
            Some(org) => staff::by_email(db.read(), org.id, &email.trim().to_lowercase()).await?,
            None => None,
        };
        let check = match secrets::check_login_password(
            password,
            member.as_ref().map(|m| m.password_hash.clone()),
        )
        .await
        {
            Ok(check) => check,
            Err(e) => {
                // Not checked (every password worker busy): not a failure either.
                let txn = Txn::begin(db).await?;
                tokens::forget_login_attempt(&txn, attempt).await?;
                txn.commit().await?;
                return Err(e);
            }
        };

        let txn = Txn::begin(db).await?;
        let member = match (org, member) {
            (Some(_), Some(member)) if check.verified && member.active => member,
            (org, member) => {
                // The attempt row recorded above stays: it is this failure.
                tokens::settle_login_failure(&txn, attempt).await?;
                if let Some(org) = org {
                    let mut event = anonymous_event(org.id, "auth.login", request_id)
                        .outcome(AuditOutcome::Failure);
                    if let Some(m) = member {
                        event.actor_kind = ActorKind::Staff;
                        event.actor_id = Some(m.id);
                        event.entity_id = Some(m.id);
                    }
                    txn.audit(event);
                }
                txn.commit().await?;
                return Err(invalid_credentials());
            }
        };
        tokens::clear_login_failures(&txn, &key, attempt, now - throttle::WINDOW).await?;
        if let Some(renewed) = &check.renewed {
            staff::renew_password_hash(&txn, member.id, &member.password_hash, renewed).await?;
        }
        let refresh = self
            .new_refresh_token(&txn, &member, Uuid::now_v7())
            .await?;
        let access = self.tokens().issue(
            member.organization_id,
            Principal::Staff(member.id),
            member.session_version,
        )?;
        txn.audit(AuditEvent {
            actor_kind: ActorKind::Staff,
            actor_id: Some(member.id),
            entity_id: Some(member.id),
            ..anonymous_event(member.organization_id, "auth.login", request_id)
        });
        txn.commit().await?;
        Ok(TokenAnswer::bearer(access, Some(refresh)))
    }

    async fn client_credentials_grant(
        &self,
        client_id: &str,
        client_secret: &str,
        source: &str,
        request_id: Option<String>,
    ) -> Result<TokenAnswer> {
        let db = self.db();
        let key = api_client_key(client_id);
        let now = Utc::now();
        let attempt = match self.claim_attempt(&key, source, now).await? {
            Claim::Granted(attempt) => attempt,
            Claim::Throttled(retry_after_secs) => {
                return Err(Error::Throttled { retry_after_secs });
            }
        };
        let client = api_clients::by_client_id(db.read(), client_id.trim()).await?;
        let Some(client) = client else {
            let txn = Txn::begin(db).await?;
            tokens::settle_login_failure(&txn, attempt).await?;
            txn.commit().await?;
            return Err(invalid_credentials());
        };
        let valid = secrets::digests_match(&client.secret_hash, &secrets::digest(client_secret));
        let txn = Txn::begin(db).await?;
        let base = AuditEvent {
            actor_kind: ActorKind::ApiClient,
            actor_id: Some(client.id),
            entity_kind: "api_client",
            entity_id: Some(client.id),
            ..anonymous_event(
                client.organization_id,
                "auth.client_credentials",
                request_id,
            )
        };
        if !valid || client.revoked_at.is_some() {
            tokens::settle_login_failure(&txn, attempt).await?;
            txn.audit(base.outcome(AuditOutcome::Failure));
            txn.commit().await?;
            return Err(invalid_credentials());
        }
        tokens::clear_login_failures(&txn, &key, attempt, now - throttle::WINDOW).await?;
        let mut active: skinledger_store::entities::api_client::ActiveModel = client.clone().into();
        active.last_used_at = Set(Some(Utc::now()));
        api_clients::update(&txn, active).await?;
        txn.audit(base);
        txn.commit().await?;
        let access =
            self.tokens()
                .issue(client.organization_id, Principal::ApiClient(client.id), 0)?;
        Ok(TokenAnswer::bearer(access, None))
    }

    /// Revokes the family of a refresh token (logout). Unknown tokens are ignored, so the
    /// answer tells nothing about which tokens exist.
    pub async fn revoke(&self, secret: &str, request_id: Option<String>) -> Result<()> {
        let db = self.db();
        let txn = Txn::begin(db).await?;
        if let Some(row) = tokens::refresh_by_hash(&txn, &secrets::digest(secret)).await? {
            tokens::revoke_family(&txn, row.organization_id, row.family_id, Utc::now()).await?;
            txn.audit(AuditEvent {
                actor_kind: ActorKind::Staff,
                actor_id: Some(row.staff_id),
                entity_kind: "refresh_token_family",
                entity_id: Some(row.family_id),
                ..anonymous_event(row.organization_id, "auth.revoke", request_id)
            });
        }
        txn.commit().await?;
        Ok(())
    }

    /// Turns a bearer token into the caller, with its current roles and status: from callers
    /// resolved within the `caller_cache` bound, or else with one statement.
    pub async fn authenticate(&self, bearer: &str, request_id: Option<String>) -> Result<Actor> {
        let (org_id, principal, session) = self.tokens().verify(bearer)?;
        let callers = self.callers();
        let grants = match callers.get(org_id, principal, session) {
            Some(grants) => grants,
            None => {
                let ticket = callers.ticket();
                let grants = self.resolve_caller(org_id, principal, session).await?;
                callers.put(ticket, org_id, principal, session, grants.clone());
                grants
            }
        };
        // The request's span (declared at the edge) names who is calling: every log line of the
        // request then carries the organisation and principal, never anything about a client.
        let span = tracing::Span::current();
        span.record("org", tracing::field::display(org_id));
        span.record(
            "principal",
            tracing::field::display(format_args!(
                "{}:{}",
                principal.kind().as_str(),
                principal.id()
            )),
        );
        Ok(Actor {
            org_id,
            principal,
            grants,
            request_id,
        })
    }

    /// The grants of a caller who may act now, read with one statement: a staff member active
    /// and at the token's session version (a token from before a password change carries an
    /// older one), or an API client not revoked.
    async fn resolve_caller(
        &self,
        org_id: Uuid,
        principal: Principal,
        session: i32,
    ) -> Result<Vec<Grant>> {
        let db = self.db().read();
        match principal {
            Principal::Staff(id) => {
                let roles = staff::acting_roles(db, org_id, id, session)
                    .await?
                    .ok_or_else(Error::unauthenticated)?;
                Ok(roles
                    .into_iter()
                    .map(|(clinic_id, role)| Grant { role, clinic_id })
                    .collect())
            }
            Principal::ApiClient(id) => api_clients::acting_grants(db, org_id, id)
                .await?
                .ok_or_else(Error::unauthenticated),
        }
    }

    /// Who the caller is, with organisation and roles.
    pub async fn me(&self, actor: &Actor) -> Result<Me> {
        let db = self.db().read();
        let org = orgs::by_id(db, actor.org_id)
            .await?
            .ok_or(Error::NotFound("organization"))?;
        let (email, name) = match actor.principal {
            Principal::Staff(id) => {
                let m = staff::get(db, actor.org_id, id)
                    .await?
                    .ok_or(Error::NotFound("staff"))?;
                (Some(m.email), m.name)
            }
            Principal::ApiClient(id) => {
                let c = api_clients::get(db, actor.org_id, id)
                    .await?
                    .ok_or(Error::NotFound("api_client"))?;
                (None, c.name)
            }
        };
        Ok(Me {
            kind: actor.principal.kind(),
            id: actor.principal.id(),
            email,
            name,
            organization_id: org.id,
            organization_slug: org.slug,
            organization_name: org.name,
            roles: actor.grants.iter().copied().map(RoleGrant::from).collect(),
        })
    }
}

fn anonymous_event(org_id: Uuid, action: &'static str, request_id: Option<String>) -> AuditEvent {
    AuditEvent {
        org_id,
        actor_kind: ActorKind::Anonymous,
        actor_id: None,
        action,
        entity_kind: "staff",
        entity_id: None,
        client_id: None,
        outcome: AuditOutcome::Success,
        detail: None,
        request_id,
    }
}
