//! `Idempotency-Key`: a retried write gets the first answer again and changes nothing.
//!
//! The key and the answer are stored in the same transaction as the write, under a primary key
//! of (organisation, key). A concurrent request with the same key waits on that row (PostgreSQL)
//! or on the single writer (SQLite), then finds the stored answer: the database, not one
//! process, decides which request did the work. Only successful answers are stored; a request
//! that failed changed nothing, so its retry is simply run again.

use std::future::Future;

use sea_orm::DatabaseTransaction;
use serde::Serialize;
use serde::de::DeserializeOwned;
use skinledger_store::{Db, idempotency, is_unique_violation};

use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::secrets;

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
    F: FnOnce(DatabaseTransaction) -> Fut,
    Fut: Future<Output = Result<(T, DatabaseTransaction)>>,
{
    let Some(key) = key else {
        let txn = db.begin().await?;
        let (answer, txn) = work(txn).await?;
        txn.commit().await?;
        return Ok(answer);
    };
    let hash = request_hash(actor, operation, request)?;
    let txn = db.begin().await?;
    if let Some(stored) = idempotency::get(&txn, actor.org_id, key.as_str()).await? {
        txn.rollback().await?;
        return replay(&stored.request_hash, &stored.response, &hash);
    }
    // Claim the key before doing the work: a concurrent request with the same key blocks on
    // this row until we commit, then finds our answer instead of doing the work again.
    if let Err(err) = idempotency::insert(
        &txn,
        actor.org_id,
        key.as_str(),
        operation,
        &hash,
        String::new(),
    )
    .await
    {
        let _ = txn.rollback().await;
        if !is_unique_violation(&err) {
            return Err(err.into());
        }
        let stored = idempotency::get(db.write(), actor.org_id, key.as_str())
            .await?
            .ok_or_else(|| Error::Internal("idempotency key vanished".into()))?;
        return replay(&stored.request_hash, &stored.response, &hash);
    }
    let (answer, txn) = work(txn).await?;
    let response = serde_json::to_string(&answer)
        .map_err(|e| Error::Internal(format!("cannot store idempotent answer: {e}")))?;
    idempotency::set_response(&txn, actor.org_id, key.as_str(), response).await?;
    txn.commit().await?;
    Ok(answer)
}

fn replay<T: DeserializeOwned>(stored_hash: &str, response: &str, hash: &str) -> Result<T> {
    if stored_hash != hash {
        return Err(Error::IdempotencyKeyReused);
    }
    serde_json::from_str(response)
        .map_err(|e| Error::Internal(format!("cannot read stored idempotent answer: {e}")))
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
    let txn = db.begin().await?;
    let purged = idempotency::purge_before(&txn, chrono::Utc::now() - RETENTION).await?;
    txn.commit().await?;
    Ok(purged)
}
