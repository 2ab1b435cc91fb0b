//! Refresh tokens: issued in families, rotated on use, a retry within the window answered
//! again, and a reused rotated token ending its family.

use chrono::{Duration as ChronoDuration, Utc};
use sea_orm::{ConnectionTrait, Set};
use skinledger_store::entities::{refresh_token, staff as staff_row};
use skinledger_store::{staff, tokens};
use uuid::Uuid;

use crate::actor::Principal;
use crate::audit::{ActorKind, AuditEvent, AuditOutcome};
use crate::error::{Error, Result};
use crate::txn::Txn;
use crate::{App, secrets};

use super::{REFRESH_RETRY_WINDOW, TokenAnswer, anonymous_event, invalid_grant};

impl App {
    pub(super) async fn new_refresh_token(
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
        Ok(Some(TokenAnswer::bearer(access, Some(next))))
    }

    pub(super) async fn refresh_grant(
        &self,
        secret: &str,
        request_id: Option<String>,
    ) -> Result<TokenAnswer> {
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
        Ok(TokenAnswer::bearer(access, Some(refresh)))
    }
}
