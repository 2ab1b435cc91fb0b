//! Authentication: the token grants, refresh-token rotation, revocation, and turning an access
//! token into an [`Actor`].

use std::net::IpAddr;

use chrono::{Duration as ChronoDuration, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::role::Grant;
use skinledger_store::entities::{refresh_token, staff as staff_row};
use skinledger_store::{api_clients, orgs, staff, tokens};
use uuid::Uuid;

use crate::ErrorCode;
use crate::actor::{Actor, Principal};
use crate::audit::{ActorKind, AuditEvent, AuditOutcome};
use crate::error::{Error, Result};
pub use crate::grants::RoleGrant;
use crate::throttle::{self, Decision};
use crate::txn::Txn;
use crate::{App, secrets};

/// How long after a refresh the same refresh token may come back (a retry after a lost
/// answer) and get the same new one, instead of ending the session as a stolen copy would.
pub const REFRESH_RETRY_WINDOW: ChronoDuration = ChronoDuration::seconds(30);

/// How long a login waits for attempts begun before it to settle before it answers 503.
const SETTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How often it looks.
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// A token request, by grant type.
#[derive(Debug, Clone)]
pub enum TokenGrant {
    /// A staff member's password.
    Password {
        /// The organisation's slug.
        org: String,
        /// The login email.
        email: String,
        /// The password.
        password: String,
    },
    /// A refresh token from an earlier answer.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
    },
    /// An API client's credentials.
    ClientCredentials {
        /// The public client id.
        client_id: String,
        /// The client secret.
        client_secret: String,
    },
}

/// How an access token is presented: `Authorization: Bearer <token>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum TokenType {
    /// The only kind issued.
    Bearer,
}

impl TokenType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        "Bearer"
    }
}

/// The grant types of `POST /v1/auth/token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// A staff member's organisation, email and password.
    Password,
    /// A refresh token from an earlier answer.
    RefreshToken,
    /// An API client's id and secret.
    ClientCredentials,
}

impl GrantType {
    /// Every grant type.
    pub const ALL: [GrantType; 3] = [
        GrantType::Password,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            GrantType::Password => "password",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }
}

/// A token request as sent: the grant type and the fields it needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// `password`, `refresh_token` or `client_credentials`. (Read as text, so that an unknown
    /// grant type is refused naming the ones there are.)
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    /// The organisation's slug (password grant).
    pub org: Option<String>,
    /// The login email (password grant).
    pub email: Option<String>,
    /// The password (password grant).
    pub password: Option<String>,
    /// The refresh token (refresh_token grant).
    pub refresh_token: Option<String>,
    /// The client id (client_credentials grant).
    pub client_id: Option<String>,
    /// The client secret (client_credentials grant).
    pub client_secret: Option<String>,
}

impl TokenRequest {
    /// Checks that the grant type is known and its fields are present, naming each missing one.
    pub fn into_grant(self) -> Result<TokenGrant> {
        fn need(errors: &mut ValidationErrors, field: &str, value: Option<String>) -> String {
            match value.filter(|v| !v.is_empty()) {
                Some(v) => v,
                None => {
                    errors.add(field, "is required for this grant_type");
                    String::new()
                }
            }
        }
        let mut errors = ValidationErrors::new();
        let grant_type = GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == self.grant_type);
        let grant = match grant_type {
            Some(GrantType::Password) => TokenGrant::Password {
                org: need(&mut errors, "org", self.org),
                email: need(&mut errors, "email", self.email),
                password: need(&mut errors, "password", self.password),
            },
            Some(GrantType::RefreshToken) => TokenGrant::RefreshToken {
                refresh_token: need(&mut errors, "refresh_token", self.refresh_token),
            },
            Some(GrantType::ClientCredentials) => TokenGrant::ClientCredentials {
                client_id: need(&mut errors, "client_id", self.client_id),
                client_secret: need(&mut errors, "client_secret", self.client_secret),
            },
            None => {
                return Err(Error::invalid(
                    "grant_type",
                    "must be password, refresh_token or client_credentials",
                ));
            }
        };
        errors.into_result()?;
        Ok(grant)
    }
}

/// The answer to a token request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenAnswer {
    /// The JWT access token.
    pub access_token: String,
    /// How to present the access token.
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// A refresh token (not for client credentials).
    pub refresh_token: Option<String>,
}

/// Who the caller is.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    /// `staff` or `api_client`.
    pub kind: ActorKind,
    /// The staff member's or API client's id.
    pub id: Uuid,
    /// The staff member's email (none for API clients).
    pub email: Option<String>,
    /// The display name.
    pub name: String,
    /// The organisation's id.
    pub organization_id: Uuid,
    /// The organisation's slug.
    pub organization_slug: String,
    /// The organisation's name.
    pub organization_name: String,
    /// Roles per clinic and organisation-wide.
    pub roles: Vec<RoleGrant>,
}

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

fn account_key(org: &str, email: &str) -> String {
    secrets::digest(&format!(
        "{}\n{}",
        org.trim().to_lowercase(),
        email.trim().to_lowercase()
    ))
}

/// The throttling key of an API client's id (apart from every staff account's).
fn api_client_key(client_id: &str) -> String {
    secrets::digest(&format!("api client\n{}", client_id.trim()))
}

/// The throttling key of a client address: a digest, so that the table of attempts holds no
/// address; empty when the address is not known.
fn source_key(source: Option<IpAddr>) -> String {
    source.map_or_else(String::new, |addr| {
        secrets::digest(&format!("source\n{}", canonical(addr)))
    })
}

/// An IPv4 address as itself even when it arrived as IPv4-mapped IPv6.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The outcome of claiming an attempt.
enum Claim {
    /// The attempt is recorded; check the credentials.
    Granted(Uuid),
    /// Refused; try again in this many seconds.
    Throttled(u64),
}

/// A recorded attempt as the throttle sees it.
fn attempt_of(row: skinledger_store::entities::login_failure::Model) -> throttle::Attempt {
    throttle::Attempt {
        id: row.id,
        account: row.account_key,
        source: row.source_key,
        at: row.failed_at,
        pending: row.pending,
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
        // ~19 MiB, and a burst waits here, cheaply, rather than all at once further in.
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
        let verified = match secrets::verify_password(
            password,
            member.as_ref().map(|m| m.password_hash.clone()),
        )
        .await
        {
            Ok(verified) => verified,
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
            (Some(_), Some(member)) if verified && member.active => member,
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
        Ok(TokenAnswer {
            access_token: access.token,
            token_type: TokenType::Bearer,
            expires_in: access.expires_in,
            refresh_token: Some(refresh),
        })
    }

    /// Records an attempt on `account` from `source` and decides it ([`throttle::decide`]):
    /// granted, or throttled (its record removed: a refused attempt is not a failure). An
    /// attempt that must wait for attempts begun before it looks again until they settle; still
    /// waiting after [`SETTLE_WAIT`], it answers 503: busy, not throttled.
    async fn claim_attempt(
        &self,
        account: &str,
        source: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Claim> {
        let db = self.db();
        let since = now - throttle::WINDOW;
        let settle_by = tokio::time::Instant::now() + SETTLE_WAIT;
        let txn = Txn::begin(db).await?;
        let (mine, before) =
            tokens::record_login_attempt(&txn, account, source, now, since).await?;
        txn.commit().await?;
        let mine = attempt_of(mine);
        let mut recorded: Vec<throttle::Attempt> = before.into_iter().map(attempt_of).collect();
        recorded.push(mine.clone());
        let per_source = self.settings().login_failures_per_source;
        let refused = loop {
            match throttle::decide(&recorded, &mine, per_source, Utc::now()) {
                Decision::Go => return Ok(Claim::Granted(mine.id)),
                Decision::Throttled { retry_after_secs } => {
                    break Ok(Claim::Throttled(retry_after_secs));
                }
                Decision::Wait if tokio::time::Instant::now() >= settle_by => {
                    break Err(Error::Unavailable(
                        "other logins to this account are being checked; retry shortly".into(),
                    ));
                }
                Decision::Wait => {
                    tokio::time::sleep(SETTLE_POLL).await;
                    recorded = tokens::login_attempts(db.write(), account, source, since)
                        .await?
                        .into_iter()
                        .map(attempt_of)
                        .collect();
                }
            }
        };
        let txn = Txn::begin(db).await?;
        tokens::forget_login_attempt(&txn, mine.id).await?;
        txn.commit().await?;
        refused
    }

    async fn new_refresh_token(
        &self,
        db: &impl ConnectionTrait,
        member: &staff_row::Model,
        family: Uuid,
    ) -> Result<String> {
        let secret = secrets::random_secret(secrets::REFRESH_PREFIX);
        self.store_refresh_token(db, member, family, Uuid::now_v7(), &secret)
            .await?;
        Ok(secret)
    }

    async fn store_refresh_token(
        &self,
        db: &impl ConnectionTrait,
        member: &staff_row::Model,
        family: Uuid,
        id: Uuid,
        secret: &str,
    ) -> Result<()> {
        let now = Utc::now();
        let ttl = ChronoDuration::from_std(self.settings().refresh_ttl)
            .map_err(|e| Error::Internal(format!("refresh lifetime: {e}")))?;
        tokens::insert_refresh(
            db,
            refresh_token::ActiveModel {
                id: Set(id),
                organization_id: Set(member.organization_id),
                staff_id: Set(member.id),
                family_id: Set(family),
                token_hash: Set(secrets::digest(secret)),
                expires_at: Set(now + ttl),
                created_at: Set(now),
                rotated_at: Set(None),
                revoked_at: Set(None),
                successor_id: Set(None),
                successor_sealed: Set(None),
            },
        )
        .await?;
        Ok(())
    }

    /// A rotated token came back: the answer already given when it is a retry
    /// ([`Self::replay_rotation`]); otherwise someone holds a copy, and the whole family ends.
    async fn retry_or_reuse(
        &self,
        txn: Txn,
        rotated: &refresh_token::Model,
        secret: &str,
        now: chrono::DateTime<Utc>,
        event: impl Fn(&'static str) -> AuditEvent,
    ) -> Result<TokenAnswer> {
        if let Some(answer) = self.replay_rotation(&txn, rotated, secret, now).await? {
            txn.audit(event("auth.refresh").detail(serde_json::json!({ "retry": true })));
            txn.commit().await?;
            return Ok(answer);
        }
        tokens::revoke_family(&txn, rotated.organization_id, rotated.family_id, now).await?;
        txn.audit(event("auth.refresh_token_reuse").outcome(AuditOutcome::Denied));
        txn.commit().await?;
        Err(invalid_grant())
    }

    /// The answer already given for rotating `row`, when `secret` (its own) comes back within
    /// [`REFRESH_RETRY_WINDOW`] and its successor is still unused: a retry after a lost
    /// answer, not a stolen copy. A fresh access token goes with the same refresh token.
    async fn replay_rotation(
        &self,
        db: &impl ConnectionTrait,
        row: &refresh_token::Model,
        secret: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Option<TokenAnswer>> {
        let within = row
            .rotated_at
            .is_some_and(|at| now - at <= REFRESH_RETRY_WINDOW);
        let (Some(successor_id), Some(sealed)) = (row.successor_id, &row.successor_sealed) else {
            return Ok(None);
        };
        if !within || row.revoked_at.is_some() {
            return Ok(None);
        }
        let Some(next) = secrets::unseal(sealed, secret) else {
            return Ok(None);
        };
        let Some(successor) = tokens::refresh_by_id(db, successor_id).await? else {
            return Ok(None);
        };
        let unused = successor.rotated_at.is_none()
            && successor.revoked_at.is_none()
            && successor.expires_at > now
            && secrets::digests_match(&successor.token_hash, &secrets::digest(&next));
        if !unused {
            return Ok(None);
        }
        let Some(member) = staff::get(db, row.organization_id, row.staff_id)
            .await?
            .filter(|m| m.active)
        else {
            return Ok(None);
        };
        let access = self.tokens().issue(
            row.organization_id,
            Principal::Staff(row.staff_id),
            member.session_version,
        )?;
        Ok(Some(TokenAnswer {
            access_token: access.token,
            token_type: TokenType::Bearer,
            expires_in: access.expires_in,
            refresh_token: Some(next),
        }))
    }

    async fn refresh_grant(&self, secret: &str, request_id: Option<String>) -> Result<TokenAnswer> {
        let db = self.db();
        let now = Utc::now();
        let txn = Txn::begin(db).await?;
        let Some(row) = tokens::refresh_by_hash(&txn, &secrets::digest(secret)).await? else {
            return Err(invalid_grant());
        };
        let event = |action| AuditEvent {
            actor_kind: ActorKind::Staff,
            actor_id: Some(row.staff_id),
            entity_id: Some(row.family_id),
            entity_kind: "refresh_token_family",
            ..anonymous_event(row.organization_id, action, request_id.clone())
        };
        if row.revoked_at.is_some() && row.rotated_at.is_none() {
            // Logged out or ended with its family: refused, but not a sign of theft.
            return Err(invalid_grant());
        }
        if row.rotated_at.is_some() {
            return self.retry_or_reuse(txn, &row, secret, now, event).await;
        }
        if row.expires_at <= now {
            return Err(invalid_grant());
        }
        let member = staff::get(&txn, row.organization_id, row.staff_id)
            .await?
            .filter(|m| m.active);
        let Some(member) = member else {
            tokens::revoke_family(&txn, row.organization_id, row.family_id, now).await?;
            txn.commit().await?;
            return Err(invalid_grant());
        };
        let (successor, next) = (
            Uuid::now_v7(),
            secrets::random_secret(secrets::REFRESH_PREFIX),
        );
        let sealed = secrets::seal(&next, secret)
            .ok_or_else(|| Error::Internal("cannot seal a refresh token".into()))?;
        if !tokens::mark_rotated(&txn, row.id, now, successor, &sealed).await? {
            // Another request rotated it between our read and our write: the same token sent
            // twice at once is a retry when it gets the other's answer, reuse otherwise.
            let rotated = tokens::refresh_by_id(&txn, row.id)
                .await?
                .unwrap_or_else(|| row.clone());
            return self.retry_or_reuse(txn, &rotated, secret, now, event).await;
        }
        self.store_refresh_token(&txn, &member, row.family_id, successor, &next)
            .await?;
        let refresh = next;
        let access = self.tokens().issue(
            member.organization_id,
            Principal::Staff(member.id),
            member.session_version,
        )?;
        txn.audit(event("auth.refresh"));
        txn.commit().await?;
        Ok(TokenAnswer {
            access_token: access.token,
            token_type: TokenType::Bearer,
            expires_in: access.expires_in,
            refresh_token: Some(refresh),
        })
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
        Ok(TokenAnswer {
            access_token: access.token,
            token_type: TokenType::Bearer,
            expires_in: access.expires_in,
            refresh_token: None,
        })
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
                    .filter_map(|(clinic, role)| Grant::new(role.parse().ok()?, clinic).ok())
                    .collect())
            }
            Principal::ApiClient(id) => {
                let grants = api_clients::acting_grants(db, org_id, id)
                    .await?
                    .ok_or_else(Error::unauthenticated)?;
                Ok(crate::grants::parse_grants(&grants))
            }
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
