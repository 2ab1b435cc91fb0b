//! The clinical policy: read by everyone, changed by `org_admin`, kept as numbered versions.
//!
//! An organisation that never changed its policy works under the DOMAIN.md defaults, which are
//! version 0 and have no row. Each change inserts the next version; the current policy is the
//! highest. Screenings and treatments record the version they were judged under, and aftercare
//! is always computed under the version its treatment recorded.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::permission::{Action, Scope};
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_store::entities::policy as policy_row;
use skinledger_store::{is_unique_violation, policies};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::events::{Change, EventData};
use crate::txn::Txn;
use skinledger_domain::events::EventType;

/// One version of the organisation's clinical policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PolicyVersion {
    /// The version: 0 for the defaults, then 1, 2, ... for each change. Also the `ETag`.
    pub version: i64,
    /// The policy itself.
    pub document: ClinicalPolicy,
    /// Who made this version (`null` for the defaults).
    pub created_by: Option<Uuid>,
    /// When this version was made (`null` for the defaults).
    pub created_at: Option<DateTime<Utc>>,
}

impl PolicyVersion {
    fn defaults() -> Self {
        Self {
            version: 0,
            document: ClinicalPolicy::default(),
            created_by: None,
            created_at: None,
        }
    }

    fn from_row(row: policy_row::Model) -> Self {
        Self {
            version: i64::from(row.version),
            document: row.document.into_inner(),
            created_by: row.created_by,
            created_at: Some(row.created_at),
        }
    }
}

/// The organisation's current policy and its version.
pub(crate) async fn current(db: &impl ConnectionTrait, org: Uuid) -> Result<(i32, ClinicalPolicy)> {
    match policies::current(db, org).await? {
        Some(row) => Ok((row.version, row.document.into_inner())),
        None => Ok((0, ClinicalPolicy::default())),
    }
}

/// One version of the organisation's policy; version 0 is the defaults.
pub(crate) async fn at_version(
    db: &impl ConnectionTrait,
    org: Uuid,
    version: i32,
) -> Result<ClinicalPolicy> {
    if version == 0 {
        return Ok(ClinicalPolicy::default());
    }
    let row = policies::get_version(db, org, version)
        .await?
        .ok_or_else(|| Error::Internal(format!("policy version {version} is missing")))?;
    Ok(row.document.into_inner())
}

/// How often a change is retried when another change took the same version number first.
const PUT_ATTEMPTS: usize = 3;

impl App {
    /// The policy in force, with its version (anyone in the organisation).
    pub async fn get_policy(&self, actor: &Actor) -> Result<PolicyVersion> {
        actor.require(Action::PolicyRead, Scope::Anywhere)?;
        Ok(
            match policies::current(self.db().read(), actor.org_id).await? {
                Some(row) => PolicyVersion::from_row(row),
                None => PolicyVersion::defaults(),
            },
        )
    }

    /// Replaces the policy (`org_admin`), making a new version.
    ///
    /// With `if_match`, refuses with 412 unless it is the current version. Sending the policy
    /// in force unchanged makes no new version and answers the current one, so a retried PUT
    /// changes nothing.
    pub async fn put_policy(
        &self,
        actor: &Actor,
        document: ClinicalPolicy,
        if_match: Option<i64>,
    ) -> Result<PolicyVersion> {
        let subject = Subject::new("policy", None);
        self.audited(actor, "policy.update", subject, async move {
            actor.require(Action::PolicyUpdate, Scope::Anywhere)?;
            document.validate()?;
            for _ in 0..PUT_ATTEMPTS {
                let txn = Txn::begin(self.db()).await?;
                let stored = policies::current(&txn, actor.org_id).await?;
                let current = match stored {
                    Some(row) => PolicyVersion::from_row(row),
                    None => PolicyVersion::defaults(),
                };
                if if_match.is_some_and(|v| v != current.version) {
                    return Err(Error::PreconditionFailed);
                }
                if current.document == document {
                    txn.rollback().await?;
                    return Ok(current);
                }
                let version = i32::try_from(current.version + 1)
                    .map_err(|_| Error::Internal("policy version overflow".into()))?;
                let inserted = policies::insert(
                    &txn,
                    policy_row::ActiveModel {
                        organization_id: Set(actor.org_id),
                        version: Set(version),
                        document: Set(document.clone().into()),
                        created_by: Set(Some(actor.principal.id())),
                        created_at: Set(Utc::now()),
                    },
                )
                .await;
                let row = match inserted {
                    Ok(row) => row,
                    // Another change took this version number first: start again from it.
                    Err(e) if is_unique_violation(&e) => {
                        let _ = txn.rollback().await;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                txn.audit(
                    AuditEvent::by(actor, "policy.update", "policy", None)
                        .detail(serde_json::json!({ "version": version })),
                );
                txn.publish(
                    actor.org_id,
                    vec![Change::new(EventType::PolicyChanged).data(EventData {
                        version: Some(i64::from(version)),
                        ..EventData::default()
                    })],
                );
                txn.commit().await?;
                return Ok(PolicyVersion::from_row(row));
            }
            Err(Error::PreconditionFailed)
        })
        .await
    }
}
