//! The queue between requests and the background audit writer is bounded: while the writer
//! cannot write, requests wait for room instead of their events piling up in memory, and once
//! it can, every event is written.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter};
use skinledger_app::audit::AuditEvent;
use skinledger_app::read_audit::{BATCH, QUEUE};
use skinledger_store::Db;
use skinledger_store::entities::audit_event;

use crate::common::Harness;

skinledger_store::on_both_backends!(
    a_writer_that_cannot_write_holds_back_the_reads_not_their_events
);

async fn a_writer_that_cannot_write_holds_back_the_reads_not_their_events(db: Db) {
    let h = Arc::new(Harness::new(db.clone()));
    let org = h.organization("glow").await;
    let events = BATCH + QUEUE + 100;

    // Another transaction holds what the writer needs: on SQLite the one write connection, on
    // PostgreSQL the audit table.
    let blocker = db.begin().await.expect("a transaction");
    if db.backend() == DbBackend::Postgres {
        blocker
            .execute_unprepared("LOCK TABLE audit_events IN EXCLUSIVE MODE")
            .await
            .expect("the audit table locked");
    }

    let recorded = Arc::new(AtomicUsize::new(0));
    let recording = tokio::spawn({
        let (h, actor, recorded) = (h.clone(), org.admin.clone(), recorded.clone());
        async move {
            for _ in 0..events {
                h.read_audit()
                    .record(AuditEvent::by(&actor, "client.read", "client", None))
                    .await;
                recorded.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    // The writer takes one batch and waits on its insert; the queue fills; then the requests
    // wait.
    let mut held = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = recorded.load(Ordering::Relaxed);
        if now == held && now > 0 {
            break;
        }
        held = now;
    }
    assert!(!recording.is_finished(), "all {events} events were taken");
    assert!(
        (QUEUE..=BATCH + QUEUE + 1).contains(&held),
        "{held} events taken while the writer could not write"
    );

    blocker.rollback().await.expect("the blocker let go");
    tokio::time::timeout(Duration::from_secs(60), recording)
        .await
        .expect("the requests went on once the writer could write")
        .expect("recorded");
    h.flush_read_audit().await;
    let written = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .filter(audit_event::Column::Action.eq("client.read"))
        .count(db.read())
        .await
        .expect("counted");
    assert_eq!(written, events as u64, "every event written, once");
}
