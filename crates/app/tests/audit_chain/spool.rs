//! Events spooled to disk while the database could not take them are written when it can; one
//! the database refuses for good (its organisation is not in this database) is set aside beside
//! the spool instead of holding back every event after it.

use std::path::Path;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use skinledger_app::audit::AuditEvent;
use skinledger_app::read_audit::{REJECTED_FILE, ReadAuditWriter};
use skinledger_store::Db;
use skinledger_store::entities::audit_event;
use uuid::Uuid;

use crate::common::Harness;

skinledger_store::on_both_backends!(
    a_spooled_event_the_database_refuses_is_set_aside_and_the_rest_are_written
);

/// One line of the spool, as an earlier run wrote it.
fn spooled(org: Uuid, actor: Uuid) -> (Uuid, String) {
    let id = Uuid::now_v7();
    let line = serde_json::json!({
        "id": id,
        "organization_id": org,
        "actor_kind": "staff",
        "actor_id": actor,
        "action": "client.read",
        "entity_kind": "client",
        "entity_id": null,
        "client_id": null,
        "outcome": "success",
        "detail": null,
        "request_id": null,
        "occurred_at": chrono::Utc::now(),
    });
    (id, line.to_string())
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn a_spooled_event_the_database_refuses_is_set_aside_and_the_rest_are_written(db: Db) {
    let h = Harness::new(db.clone());
    let org = h.organization("glow").await;
    let elsewhere = Uuid::now_v7();
    let dir = tempfile::tempdir().expect("a folder");
    let spool = dir.path().join("audit-spool.jsonl");

    let (before, first) = spooled(org.id, org.admin_id);
    let (refused, second) = spooled(elsewhere, Uuid::now_v7());
    let (after, third) = spooled(org.id, org.admin_id);
    std::fs::write(&spool, format!("{first}\n{second}\n{third}\n")).expect("a spool");

    let (writer, task) = ReadAuditWriter::start(db.clone(), Some(spool.clone()));
    writer
        .record(AuditEvent::by(&org.admin, "screening.read", "client", None))
        .await;
    task.finish().await;

    let written: Vec<audit_event::Model> = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .filter(audit_event::Column::Action.is_in(["client.read", "screening.read"]))
        .all(db.read())
        .await
        .expect("read");
    let ids: Vec<Uuid> = written.iter().map(|e| e.id).collect();
    assert!(
        ids.contains(&before),
        "the event spooled before the refused one was written"
    );
    assert!(
        ids.contains(&after),
        "the event spooled after the refused one was written"
    );
    assert!(
        written.iter().any(|e| e.action == "screening.read"),
        "the event recorded since was written"
    );
    assert_eq!(written.len(), 3, "each once: {ids:?}");
    let elsewhere_rows = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(elsewhere))
        .all(db.read())
        .await
        .expect("read");
    assert!(elsewhere_rows.is_empty());

    assert!(!spool.exists(), "the spool is gone once written");
    let set_aside = lines(&dir.path().join(REJECTED_FILE));
    assert_eq!(set_aside.len(), 1, "{set_aside:?}");
    let value = |line: &str| serde_json::from_str::<serde_json::Value>(line).expect("JSON");
    assert_eq!(
        value(&set_aside[0]),
        value(&second),
        "the refused event kept as it was spooled"
    );
    assert_eq!(value(&set_aside[0])["id"], serde_json::json!(refused));
}
