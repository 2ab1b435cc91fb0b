//! The background writer of audit events of reads (and of refused writes, whose transaction
//! rolls back): batched so that reads stay reads, and never lost to a database blip.
//!
//! An insert that fails is retried with backoff while new events keep queueing. Past
//! [`MAX_PENDING`] events in memory the oldest go to a spool file (JSON lines under the data
//! folder), written on the next start if not before; on shutdown whatever could not be written
//! is spooled. Events are stamped with their id and time when they happen, so a retry never
//! writes one twice. The queue between the requests and the writer is bounded too ([`QUEUE`]):
//! when the writer falls behind, a request waits for room instead of the queue growing, so
//! reads never outrun their record. An event the database refuses for a reason no retry cures
//! (an organisation it does not hold, say) is set aside in a file beside the spool, so that it
//! never holds back the events after it. `/metrics` shows `skinledger_read_audit_pending`,
//! `skinledger_read_audit_rejected_total` and `skinledger_read_audit_dropped_total` (events lost:
//! only when no spool file is configured and the memory bound is reached, or an event refused
//! cannot be set aside).

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::DbErr;
use skinledger_store::{Db, is_constraint_violation};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::audit::{AuditEvent, Stamped};
use crate::txn::Staged;

/// How long an event of a read waits at most before it is written.
pub const READ_AUDIT_FLUSH: Duration = Duration::from_millis(200);

/// Events the writer gathers into one transaction.
pub const BATCH: usize = 500;

/// Events kept in memory while the database cannot take them; older ones are spooled.
pub const MAX_PENDING: usize = 50_000;

/// Events handed over by requests and not yet taken by the writer. A request whose event finds
/// the queue full waits for room: a writer slower than the reads slows the reads down instead
/// of holding their events in memory without bound.
pub const QUEUE: usize = 4_096;

/// The first wait before a failed insert is retried; it doubles up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// How long a shutdown keeps trying to write before it spools the rest.
const SHUTDOWN_TRIES: Duration = Duration::from_secs(5);

const PENDING_GAUGE: &str = "skinledger_read_audit_pending";
const DROPPED: &str = "skinledger_read_audit_dropped_total";
const RETRIES: &str = "skinledger_read_audit_retries_total";
const REJECTED: &str = "skinledger_read_audit_rejected_total";

/// The file, beside the spool, that keeps the events the database refused.
pub const REJECTED_FILE: &str = "audit-rejected.jsonl";

/// Gives the read-audit metrics their `# HELP` (once a recorder is installed).
pub fn describe_metrics() {
    metrics::describe_gauge!(
        PENDING_GAUGE,
        "Audit events of reads waiting to be written (in memory and spooled)"
    );
    metrics::describe_counter!(
        DROPPED,
        "Audit events of reads lost because even the spool could not be written"
    );
    metrics::describe_counter!(
        RETRIES,
        "Batches of read audit events written again after a database failure"
    );
    metrics::describe_counter!(
        REJECTED,
        "Audit events of reads the database refused for good, set aside beside the spool"
    );
}

/// Appends events of reads in the background, in batches.
#[derive(Debug, Clone)]
pub struct ReadAuditWriter {
    tx: mpsc::Sender<Stamped>,
}

/// The background task of a [`ReadAuditWriter`].
#[derive(Debug)]
pub struct ReadAuditTask {
    handle: JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

impl ReadAuditTask {
    /// Writes every queued event (spooling what the database does not take), then stops the
    /// writer.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.handle.await;
    }
}

impl ReadAuditWriter {
    /// Starts the writer on `db`, spooling to `spool` when given (and first writing what an
    /// earlier run left there).
    pub fn start(db: Db, spool: Option<PathBuf>) -> (Self, ReadAuditTask) {
        let (tx, rx) = mpsc::channel::<Stamped>(QUEUE);
        let (stop, stopped) = oneshot::channel::<()>();
        let queue = Queue::new(db, spool);
        let handle = tokio::spawn(queue.run(rx, stopped));
        (Self { tx }, ReadAuditTask { handle, stop })
    }

    /// Queues an event of a read, waiting while the queue is full.
    pub async fn record(&self, event: AuditEvent) {
        if self.tx.send(event.stamp()).await.is_err() {
            metrics::counter!(DROPPED).increment(1);
            tracing::error!("audit writer stopped; an event of a read was not recorded");
        }
    }
}

/// What the writer holds: events in memory, and the spool file.
struct Queue {
    db: Db,
    pending: VecDeque<Stamped>,
    spool: Option<PathBuf>,
    /// Whether the spool file holds events (an earlier run's, or spilled since): looked up
    /// once at start, then kept, so that a batch costs no file-system call.
    spooled: bool,
    /// Whether the last write failed: its batch may have committed with the answer lost, so
    /// the next write skips events already in the log. A write after a success does not look.
    uncertain: bool,
}

impl Queue {
    fn new(db: Db, spool: Option<PathBuf>) -> Self {
        let spooled = spool.as_deref().is_some_and(Path::exists);
        Self {
            db,
            pending: VecDeque::new(),
            spool,
            spooled,
            uncertain: false,
        }
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Stamped>, mut stopped: oneshot::Receiver<()>) {
        let mut backoff = RETRY_MIN;
        // What an earlier run spooled is written first, without waiting for a new event.
        let mut failing = self.spooled;
        loop {
            // Wait for an event (or, while there is something to retry, for the backoff), then
            // gather what arrives within the flush interval into one insert.
            let mut running = tokio::select! {
                Some(event) = rx.recv() => { self.push(event); true }
                () = tokio::time::sleep(backoff), if failing => true,
                _ = &mut stopped => false,
            };
            if running {
                let deadline = tokio::time::sleep(READ_AUDIT_FLUSH);
                tokio::pin!(deadline);
                while running && self.pending.len() < BATCH {
                    tokio::select! {
                        Some(event) = rx.recv() => self.push(event),
                        () = &mut deadline => break,
                        _ = &mut stopped => running = false,
                    }
                }
            }
            if !running {
                while let Ok(event) = rx.try_recv() {
                    self.push(event);
                }
                self.drain_before_stopping().await;
                return;
            }
            match self.write().await {
                Ok(()) => {
                    failing = false;
                    backoff = RETRY_MIN;
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = %err, pending = self.pending.len(), "cannot write audit events of reads; retrying");
                    }
                    metrics::counter!(RETRIES).increment(1);
                    failing = true;
                    backoff = (backoff * 2).min(RETRY_MAX);
                }
            }
            self.report();
        }
    }

    /// Queues an event, moving the oldest to the spool past the memory bound.
    fn push(&mut self, event: Stamped) {
        self.pending.push_back(event);
        if self.pending.len() > MAX_PENDING {
            let excess: Vec<Stamped> = self
                .pending
                .drain(..self.pending.len() - MAX_PENDING)
                .collect();
            self.spill(&excess);
        }
    }

    /// Appends events to the spool file; without one (or when it cannot be written) they are
    /// lost and counted.
    fn spill(&mut self, events: &[Stamped]) {
        let written = self
            .spool
            .as_deref()
            .is_some_and(|path| match append_spool(path, events) {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, path = %path.display(), "cannot spool audit events");
                    false
                }
            });
        self.spooled |= written;
        if !written {
            metrics::counter!(DROPPED).increment(events.len() as u64);
            tracing::error!(lost = events.len(), "audit events of reads were lost");
        }
    }

    /// Writes what is pending, oldest first: the spool file's events first, then memory.
    async fn write(&mut self) -> Result<(), DbErr> {
        let written = self.write_pending().await;
        self.uncertain = written.is_err();
        written
    }

    async fn write_pending(&mut self) -> Result<(), DbErr> {
        if let Some(path) = self.spool.clone().filter(|_| self.spooled) {
            // A spool may hold events an earlier run wrote before it stopped: always look.
            let spooled = read_spool(&path);
            for chunk in spooled.chunks(BATCH) {
                append(&self.db, self.spool.as_deref(), chunk, true).await?;
            }
            let _ = std::fs::remove_file(&path);
            self.spooled = false;
        }
        while !self.pending.is_empty() {
            let n = self.pending.len().min(BATCH);
            let batch = &self.pending.make_contiguous()[..n];
            append(&self.db, self.spool.as_deref(), batch, self.uncertain).await?;
            self.pending.drain(..n);
        }
        Ok(())
    }

    /// Keeps trying for a little while, then spools what is left for the next start.
    async fn drain_before_stopping(&mut self) {
        let until = tokio::time::Instant::now() + SHUTDOWN_TRIES;
        let mut backoff = RETRY_MIN;
        loop {
            match self.write().await {
                Ok(()) => break,
                Err(err) if tokio::time::Instant::now() + backoff >= until => {
                    tracing::warn!(error = %err, pending = self.pending.len(), "shutting down with audit events unwritten");
                    let rest: Vec<Stamped> = self.pending.drain(..).collect();
                    self.spill(&rest);
                    break;
                }
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RETRY_MAX);
                }
            }
        }
        self.report();
    }

    fn report(&self) {
        #[expect(clippy::cast_precision_loss, reason = "a gauge of an event count")]
        metrics::gauge!(PENDING_GAUGE).set(self.pending.len() as f64);
    }
}

/// Appends a batch to the audit chains in one transaction. With `retry`, events already in the
/// log (a batch written again after its commit's answer was lost) are skipped, so a retry never
/// writes one twice; a first attempt spends no query on looking.
async fn append_batch(db: &Db, audit: Vec<Stamped>, retry: bool) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let staged = Staged {
        audit,
        events: Vec::new(),
    };
    crate::txn::append(&txn, staged, retry).await?;
    txn.commit().await
}

/// Appends `batch`. When the database refuses its data (a key it does not hold), its events
/// are appended one at a time and those refused are set aside, so that one event never holds
/// back the others; any other failure (the database unreachable, its disk full, a timeout) is
/// answered for the whole batch, to be retried.
async fn append(
    db: &Db,
    spool: Option<&Path>,
    batch: &[Stamped],
    retry: bool,
) -> Result<(), DbErr> {
    match append_batch(db, batch.to_vec(), retry).await {
        Err(err) if is_constraint_violation(&err) => {
            tracing::warn!(error = %err, events = batch.len(), "the database refused a batch of audit events of reads; writing them one at a time");
            for event in batch {
                match append_batch(db, vec![event.clone()], true).await {
                    Ok(()) => {}
                    Err(err) if is_constraint_violation(&err) => reject(spool, event, &err),
                    Err(err) => return Err(err),
                }
            }
            Ok(())
        }
        written => written,
    }
}

/// Sets aside an event the database refused: appended to [`REJECTED_FILE`] beside the spool
/// (once more if a retry of its batch meets it again), logged and counted.
fn reject(spool: Option<&Path>, event: &Stamped, err: &DbErr) {
    metrics::counter!(REJECTED).increment(1);
    tracing::error!(error = %err, event = %event.id(), org = %event.org(), "the database refused an audit event of a read; it is set aside");
    let kept = spool.is_some_and(|spool| {
        let path = spool.with_file_name(REJECTED_FILE);
        append_spool(&path, std::slice::from_ref(event))
            .inspect_err(|e| tracing::error!(error = %e, path = %path.display(), "cannot set aside a refused audit event"))
            .is_ok()
    });
    if !kept {
        metrics::counter!(DROPPED).increment(1);
    }
}

/// The events of a spool file; lines that do not parse are skipped (and logged).
fn read_spool(path: &Path) -> Vec<Stamped> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| match serde_json::from_str(&line) {
            Ok(event) => Some(event),
            Err(e) => {
                tracing::error!(error = %e, "unreadable line in the audit spool");
                None
            }
        })
        .collect()
}

/// Appends events to a spool file (owner-only), flushed to disk.
fn append_spool(path: &Path, events: &[Stamped]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    for event in events {
        let line = serde_json::to_string(event).map_err(std::io::Error::other)?;
        writeln!(file, "{line}")?;
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_spool_file_gives_back_the_events_written_to_it() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("audit-spool.jsonl");
        let event = |action| {
            AuditEvent {
                org_id: Uuid::now_v7(),
                actor_kind: crate::audit::ActorKind::Staff,
                actor_id: Some(Uuid::now_v7()),
                action,
                entity_kind: "client",
                entity_id: None,
                client_id: None,
                outcome: crate::audit::AuditOutcome::Success,
                detail: None,
                request_id: Some("r-1".into()),
            }
            .stamp()
        };
        let first = vec![event("client.read"), event("screening.read")];
        append_spool(&path, &first).expect("spooled");
        append_spool(&path, &first[..1]).expect("spooled again");
        let back = read_spool(&path);
        assert_eq!(back.len(), 3);
        assert_eq!(back[..2], first[..]);
        assert!(read_spool(&dir.path().join("none")).is_empty());
    }
}
