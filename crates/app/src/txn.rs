//! A write transaction and the record it leaves: the audit events and integration events of a
//! change are staged while it runs and appended when it commits, last, under the
//! organisation's journal lock (`skinledger_store::journal`).
//!
//! Appending last keeps one lock order for every writer (rows first, the journal head last), so
//! writers of one organisation never wait for each other in opposite orders, and the head is
//! held only for the few statements of the append. The audit events are numbered and hashed
//! into the organisation's chain (`skinledger_domain::audit_chain`) in commit order; the
//! integration events get their feed numbers the same way.

use std::collections::BTreeMap;
use std::sync::Mutex;

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use skinledger_store::{Db, audit as store_audit, events as store_events, journal};
use uuid::Uuid;

use crate::audit::{AuditEvent, Stamped};
use crate::changes::{self, Change};
use crate::error::Result;

/// A write transaction on the write handle. Use it like a connection; [`Txn::audit`] and
/// [`Txn::publish`] stage what it tells, and [`Txn::commit`] appends that and commits. Dropped
/// without a commit, it rolls back and nothing staged is written.
#[derive(Debug)]
pub struct Txn {
    inner: DatabaseTransaction,
    staged: Mutex<Staged>,
}

/// What a transaction will append when it commits.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    pub(crate) audit: Vec<Stamped>,
    pub(crate) events: Vec<(Uuid, Change)>,
}

impl Txn {
    /// Opens a write transaction.
    pub async fn begin(db: &Db) -> Result<Self> {
        Ok(Self {
            inner: db.begin().await?,
            staged: Mutex::new(Staged::default()),
        })
    }

    /// Stages an audit event, appended to its organisation's chain when the transaction commits.
    pub(crate) fn audit(&self, event: AuditEvent) {
        self.staged().audit.push(event.stamp());
    }

    /// Stages integration events of the organisation, appended in order when the transaction
    /// commits.
    pub(crate) fn publish(&self, org: Uuid, changes: Vec<Change>) {
        self.staged()
            .events
            .extend(changes.into_iter().map(|c| (org, c)));
    }

    fn staged(&self) -> std::sync::MutexGuard<'_, Staged> {
        // Nothing panics while holding the lock, so it cannot be poisoned; recover anyway.
        self.staged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends what was staged, then commits.
    pub async fn commit(self) -> Result<()> {
        let staged = std::mem::take(&mut *self.staged());
        append(&self.inner, staged, false).await?;
        self.inner.commit().await?;
        Ok(())
    }

    /// Rolls back; nothing staged is written.
    pub async fn rollback(self) -> Result<()> {
        self.inner.rollback().await?;
        Ok(())
    }
}

/// Appends audit and integration events, each organisation under its journal lock, taken in
/// order of organisation id. With `skip_existing`, audit events already in the log (a batch
/// retried after a lost answer) are left out.
pub(crate) async fn append(
    db: &impl ConnectionTrait,
    staged: Staged,
    skip_existing: bool,
) -> Result<(), DbErr> {
    let Staged { mut audit, events } = staged;
    if skip_existing {
        let ids: Vec<Uuid> = audit.iter().map(Stamped::id).collect();
        let existing = store_audit::existing(db, &ids).await?;
        audit.retain(|e| !existing.contains(&e.id()));
    }
    let mut by_org: BTreeMap<Uuid, (Vec<Stamped>, Vec<Change>)> = BTreeMap::new();
    for event in audit {
        by_org.entry(event.org()).or_default().0.push(event);
    }
    for (org, change) in events {
        by_org.entry(org).or_default().1.push(change);
    }
    for (org, (audit, changes)) in by_org {
        let count =
            |n: usize| i64::try_from(n).map_err(|_| DbErr::Custom("too many events".into()));
        let head = journal::reserve(db, org, count(changes.len())?, count(audit.len())?).await?;
        if !audit.is_empty() {
            let mut prev = head.audit_hash;
            let mut rows = Vec::with_capacity(audit.len());
            for (seq, event) in (head.audit_seq + 1..).zip(&audit) {
                let hash = event.link(seq, &prev).hash();
                rows.push(event.row(seq, &prev, &hash));
                prev = hash;
            }
            store_audit::insert(db, rows).await?;
            journal::set_audit_hash(db, org, &prev).await?;
        }
        if !changes.is_empty() {
            let rows = changes::rows(org, head.event_seq, changes);
            store_events::insert(db, rows).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        self.inner.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        self.inner.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }
}
