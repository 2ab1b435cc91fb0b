//! Verifying an organisation's audit chain, and its head for anchoring elsewhere.

use sea_orm::{AccessMode, DbBackend, IsolationLevel, TransactionTrait};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::audit_chain::{Break, GENESIS, Link, Verifier, is_hash};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::audit_event;
use skinledger_store::{audit, journal, orgs};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::error::{Error, Result};

/// Events read per query while verifying.
const PAGE: u64 = 10_000;

/// The last event of an organisation's audit chain: anchor it elsewhere (a ticket, an email, a
/// notary) and a later verification proves nothing before it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditHead {
    /// The number of the last audit event (0 before the first).
    pub seq: i64,
    /// Its hash (64 zeros before the first).
    pub hash: String,
}

/// An anchor to check: the chain must still hold this hash at this number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The number anchored.
    pub seq: i64,
    /// The hash it had.
    pub hash: String,
}

impl Anchor {
    /// An anchor from its two parts, which come together or not at all.
    pub fn parse(
        seq: Option<i64>,
        hash: Option<String>,
    ) -> std::result::Result<Option<Self>, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let anchor = match (seq, hash) {
            (None, None) => None,
            (Some(seq), Some(hash)) => {
                if seq < 1 {
                    errors.add("anchor_seq", "must be 1 or more");
                }
                if !is_hash(&hash) {
                    errors.add("anchor_hash", "must be 64 lowercase hexadecimal digits");
                }
                Some(Self { seq, hash })
            }
            (None, Some(_)) => {
                errors.add("anchor_seq", "is required with anchor_hash");
                None
            }
            (Some(_), None) => {
                errors.add("anchor_hash", "is required with anchor_seq");
                None
            }
        };
        errors.into_result()?;
        Ok(anchor)
    }
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditVerification {
    /// Whether every event links to the one before, every hash matches its event, the chain
    /// ends at the head recorded, and the anchor (when given) holds.
    pub verified: bool,
    /// Events read.
    pub events_checked: u64,
    /// The head the organisation recorded.
    pub head: AuditHead,
    /// The first broken link, when there is one.
    pub broken: Option<BrokenLink>,
}

/// Where and how a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BrokenLink {
    /// The number of the event where the chain first breaks.
    pub seq: i64,
    /// What is wrong there.
    pub problem: Break,
}

/// A walk of the chain under way: the verifier, and whether the anchor held where it was met.
struct Walk {
    verifier: Verifier,
    anchor: Option<Anchor>,
    anchored: Option<bool>,
}

impl Walk {
    /// Checks a page of events in order; answers `false` once the chain is broken.
    fn check(&mut self, rows: &[audit_event::Model]) -> bool {
        for row in rows {
            let link = Link {
                seq: row.seq,
                prev_hash: &row.prev_hash,
                id: row.id,
                organization_id: row.organization_id,
                occurred_at: row.occurred_at,
                actor_kind: &row.actor_kind,
                actor_id: row.actor_id,
                action: &row.action,
                entity_kind: &row.entity_kind,
                entity_id: row.entity_id,
                client_id: row.client_id,
                outcome: &row.outcome,
                detail: row.detail.as_deref(),
                request_id: row.request_id.as_deref(),
            };
            if let Some(a) = &self.anchor
                && a.seq == row.seq
                && self.anchored.is_none()
            {
                self.anchored = Some(a.hash == row.hash);
            }
            if !self.verifier.check(&link, &row.hash) {
                return false;
            }
        }
        true
    }
}

impl App {
    /// The head of the caller's organisation's audit chain (`org_admin`).
    pub async fn audit_head(&self, actor: &Actor) -> Result<AuditHead> {
        actor.require(Action::AuditRead, Scope::Anywhere)?;
        self.audit_head_of(actor.org_id).await
    }

    /// The head of an organisation's audit chain.
    pub async fn audit_head_of(&self, org: Uuid) -> Result<AuditHead> {
        Ok(match journal::head(self.db().read(), org).await? {
            Some(head) => AuditHead {
                seq: head.audit_seq,
                hash: head.audit_hash,
            },
            None => AuditHead {
                seq: 0,
                hash: GENESIS.to_owned(),
            },
        })
    }

    /// Walks the caller's organisation's audit chain (`org_admin`).
    pub async fn verify_audit_chain(
        &self,
        actor: &Actor,
        anchor: Option<Anchor>,
    ) -> Result<AuditVerification> {
        actor.require(Action::AuditRead, Scope::Anywhere)?;
        self.verify_audit_chain_of(actor.org_id, anchor).await
    }

    /// Walks an organisation's audit chain from its first event to the head it recorded, in one
    /// consistent snapshot, and reports the first broken link.
    pub async fn verify_audit_chain_of(
        &self,
        org: Uuid,
        anchor: Option<Anchor>,
    ) -> Result<AuditVerification> {
        let read = self.db().read().pool();
        let txn = match read.get_database_backend() {
            DbBackend::Postgres => {
                read.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
            }
            // A SQLite read transaction sees one snapshot from its first read on.
            _ => read.begin().await?,
        };
        let head = journal::head(&txn, org).await?;
        let mut walk = Walk {
            verifier: Verifier::new(),
            anchor: anchor.clone(),
            anchored: None,
        };
        let mut rows = audit::chain_after(&txn, org, None, PAGE).await?;
        loop {
            let after = match rows.last() {
                Some(last) if rows.len() as u64 == PAGE => Some((last.seq, last.id)),
                _ => None,
            };
            // The page read is checked on another thread while the next one is read.
            let checking = tokio::task::spawn_blocking(move || {
                let intact = walk.check(&rows);
                (walk, intact)
            });
            let next = match after {
                Some(after) => Some(audit::chain_after(&txn, org, Some(after), PAGE).await),
                None => None,
            };
            let intact;
            (walk, intact) = checking
                .await
                .map_err(|e| Error::Internal(format!("the chain's check stopped: {e}")))?;
            match next {
                Some(next) if intact => rows = next?,
                _ => break,
            }
        }
        let Walk {
            verifier, anchored, ..
        } = walk;
        let _ = txn.commit().await;
        let recorded = head.map_or_else(
            || AuditHead {
                seq: 0,
                hash: GENESIS.to_owned(),
            },
            |h| AuditHead {
                seq: h.audit_seq,
                hash: h.audit_hash,
            },
        );
        let verdict = verifier.finish(recorded.seq, &recorded.hash);
        let mut broken = verdict
            .broken
            .map(|(seq, problem)| BrokenLink { seq, problem });
        if broken.is_none()
            && let Some(a) = &anchor
            && anchored != Some(true)
        {
            broken = Some(BrokenLink {
                seq: a.seq,
                problem: Break::AnchorMismatch,
            });
        }
        Ok(AuditVerification {
            verified: broken.is_none(),
            events_checked: verdict.checked,
            head: recorded,
            broken,
        })
    }

    /// Verifies every organisation's chain, or the one with this slug (the command line).
    pub async fn verify_audit_chains(
        &self,
        slug: Option<&str>,
    ) -> Result<Vec<(String, AuditVerification)>> {
        let mut out = Vec::new();
        for org in orgs::all(self.db().read()).await? {
            if slug.is_some_and(|s| s != org.slug) {
                continue;
            }
            out.push((
                org.slug.clone(),
                self.verify_audit_chain_of(org.id, None).await?,
            ));
        }
        if slug.is_some() && out.is_empty() {
            return Err(Error::NotFound("organization"));
        }
        Ok(out)
    }

    /// Writes each organisation's audit head to the log, for anchoring (run daily).
    pub async fn log_audit_heads(&self) -> Result<()> {
        for org in orgs::all(self.db().read()).await? {
            let head = self.audit_head_of(org.id).await?;
            tracing::info!(
                organization = %org.slug,
                audit_seq = head.seq,
                audit_hash = %head.hash,
                "audit chain head"
            );
        }
        Ok(())
    }
}
