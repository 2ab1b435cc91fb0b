//! `Idempotency-Key`: a retried write gets the first answer again and changes nothing.
//!
//! A request first claims its key: a row under the primary key (organisation, key), committed
//! on its own, so the database, not one process, decides which request does the work. The work
//! and its answer then commit together in one transaction. Another request with the key meanwhile
//! gets 409 `idempotency_key_in_flight`; after it, the stored answer. Only successful answers are
//! kept: a request that failed changed nothing, so its claim is released and a retry runs again.
//! A claim left by a process that died mid-request is taken over once it is [`CLAIM_TIMEOUT`] old.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use skinledger_store::{Db, idempotency, is_unique_violation};

use crate::ErrorCode;
use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::secrets;
use crate::txn::Txn;

/// A client-chosen key for one logical write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key of 1 to 255 visible ASCII characters.
    pub fn parse(raw: &str) -> Result<Self> {
        let ok = !raw.is_empty() && raw.len() <= 255 && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::invalid(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            ))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Runs `work` in one write transaction, remembering its answer under `key` when one is given.
///
/// `operation` names the use case and `request` is what the client sent: both are hashed, so
/// that the same key with another request is refused with `idempotency_key_reused`.
pub async fn run<T, F, Fut>(
    db: &Db,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
    operation: &'static str,
    request: &impl Serialize,
    work: F,
) -> Result<T>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(Txn) -> Fut,
    Fut: Future<Output = Result<(T, Txn)>>,
{
    let Some(key) = key else {
        let txn = Txn::begin(db).await?;
        let (answer, txn) = work(txn).await?;
        txn.commit().await?;
        return Ok(answer);
    };
    let hash = request_hash(actor, operation, request)?;
    if let Claim::Answered(response) = claim(db, actor, key, operation, &hash).await? {
        return serde_json::from_str(&response)
            .map_err(|e| Error::Internal(format!("cannot read stored idempotent answer: {e}")));
    }
    let outcome = async {
        let txn = Txn::begin(db).await?;
        let (answer, txn) = work(txn).await?;
        let response = serde_json::to_string(&answer)
            .map_err(|e| Error::Internal(format!("cannot store idempotent answer: {e}")))?;
        idempotency::set_response(&txn, actor.org_id, key.as_str(), response).await?;
        txn.commit().await?;
        Ok(answer)
    }
    .await;
    if outcome.is_err() {
        // Nothing was written: free the key so that a retry runs again.
        let released = async {
            let txn = Txn::begin(db).await?;
            idempotency::release_claim(&txn, actor.org_id, key.as_str()).await?;
            txn.commit().await
        }
        .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "cannot release an idempotency claim; it expires on its own");
        }
    }
    outcome
}

/// How long a claim without an answer blocks its key before another request may take it over.
pub const CLAIM_TIMEOUT: chrono::Duration = chrono::Duration::minutes(2);

/// What claiming a key found.
enum Claim {
    /// The key is ours: do the work.
    Ours,
    /// An earlier request with this key and body completed with this answer.
    Answered(String),
}

/// Claims the key in a transaction of its own, so that concurrent requests see the claim.
async fn claim(
    db: &Db,
    actor: &Actor,
    key: &IdempotencyKey,
    operation: &str,
    hash: &str,
) -> Result<Claim> {
    let txn = Txn::begin(db).await?;
    let existing = idempotency::get(&txn, actor.org_id, key.as_str()).await?;
    let outcome = match existing {
        Some(row) if row.request_hash != hash => Err(Error::IdempotencyKeyReused),
        Some(row) if !row.response.is_empty() => Ok(Claim::Answered(row.response)),
        Some(row) => {
            let stale = row.created_at < chrono::Utc::now() - CLAIM_TIMEOUT;
            if stale
                && idempotency::take_over_claim(&txn, actor.org_id, key.as_str(), row.created_at)
                    .await?
            {
                Ok(Claim::Ours)
            } else {
                Err(in_flight())
            }
        }
        None => {
            match idempotency::insert(
                &txn,
                actor.org_id,
                key.as_str(),
                operation,
                hash,
                String::new(),
            )
            .await
            {
                Ok(()) => Ok(Claim::Ours),
                // Another request claimed it between our read and our insert.
                Err(e) if is_unique_violation(&e) => Err(in_flight()),
                Err(e) => Err(e.into()),
            }
        }
    };
    match &outcome {
        Ok(Claim::Ours) => txn.commit().await?,
        _ => {
            let _ = txn.rollback().await;
        }
    }
    outcome
}

fn in_flight() -> Error {
    Error::conflict(
        ErrorCode::IdempotencyKeyInFlight,
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
}

fn request_hash(actor: &Actor, operation: &str, request: &impl Serialize) -> Result<String> {
    let body = serde_json::to_string(request)
        .map_err(|e| Error::Internal(format!("cannot hash request: {e}")))?;
    Ok(secrets::digest(&format!(
        "{operation}\n{}\n{body}",
        actor.principal.id()
    )))
}

/// Keys are kept for at least this long before they may be purged.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(48);

/// Forgets keys older than the retention period.
pub async fn purge(db: &Db) -> Result<u64> {
    let txn = Txn::begin(db).await?;
    let purged = idempotency::purge_before(&txn, chrono::Utc::now() - RETENTION).await?;
    txn.commit().await?;
    Ok(purged)
}
