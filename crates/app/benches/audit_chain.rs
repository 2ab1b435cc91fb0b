//! Measures the walk of one organisation's audit chain at the size of years of a busy chain of
//! clinics, and prints the figures.
//!
//! `cargo bench -p skinledger-app --bench audit_chain` seeds 1,000,000 audit events for one
//! organisation (`AUDIT_EVENTS` to change it) on SQLite, and on PostgreSQL too when
//! `SKINLEDGER_TEST_POSTGRES_URL` is set, appended as the application appends them (numbered
//! and hashed under the organisation's journal lock, a few thousand per transaction). It then
//! times `App::verify_audit_chain_of` (what `GET /v1/audit/verify` and `skinledger audit verify`
//! run) and, to show where that time goes, the same walk with the reading of each page and the
//! checking of its events (hashing, linking) timed apart, one after the other.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program"
)]

use std::time::{Duration, Instant};

use chrono::{SubsecRound as _, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Set, TransactionTrait};
use skinledger_app::orgs::NewOrganization;
use skinledger_app::{App, AppSettings, SigningKey};
use skinledger_domain::audit_chain::Link;
use skinledger_store::entities::audit_event;
use skinledger_store::testing::TestDb;
use skinledger_store::{Db, audit, journal};
use uuid::Uuid;

/// Events per appending transaction: 15 columns each stay within both databases' limits on
/// bound values.
const BATCH: usize = 2_000;
/// Verifications timed per backend.
const RUNS: usize = 5;

fn app(db: Db) -> App {
    let settings = AppSettings {
        issuer: "https://skinledger.bench".into(),
        audience: "skinledger-bench".into(),
        access_ttl: Duration::from_secs(900),
        refresh_ttl: Duration::from_secs(86_400),
        signing_key: SigningKey::new(vec![7; 32]).expect("a 32-byte key"),
        default_timezone: skinledger_domain::local_time::TimeZone::UTC,
        audit_spool: None,
        login_failures_per_source: 20,
        event_retention: Duration::from_secs(30 * 86_400),
        caller_cache: Duration::from_secs(1),
        webhooks: skinledger_app::webhooks::WebhookSettings::default(),
    };
    App::new(db, settings).0
}

/// The `i`th event seeded: mostly reads of clients, some writes, a refusal with its detail
/// now and then, as a clinic's log looks.
fn event(i: u64, org: Uuid, staff: &[Uuid], clients: &[Uuid]) -> audit_event::Model {
    let n = usize::try_from(i).expect("an index");
    let client = clients[n % clients.len()];
    let (action, entity_kind, entity_id, client_id, outcome, detail) = match i % 20 {
        0 => (
            "treatment.create",
            "treatment",
            Some(Uuid::now_v7()),
            Some(client),
            "success",
            None,
        ),
        1 => (
            "clinic.create",
            "clinic",
            None,
            None,
            "refused",
            Some(r#"{"code":"validation_failed","fields":["name"]}"#.to_owned()),
        ),
        2 | 3 => (
            "client.update",
            "client",
            Some(client),
            Some(client),
            "success",
            Some(r#"{"fields":["phone"]}"#.to_owned()),
        ),
        _ => (
            "client.read",
            "client",
            Some(client),
            Some(client),
            "success",
            None,
        ),
    };
    audit_event::Model {
        id: Uuid::now_v7(),
        organization_id: org,
        actor_kind: "staff".into(),
        actor_id: Some(staff[n % staff.len()]),
        action: action.into(),
        entity_kind: entity_kind.into(),
        entity_id,
        client_id,
        outcome: outcome.into(),
        detail,
        request_id: Some(format!("{:032x}", u128::from(i) * 0x9e37_79b9)),
        occurred_at: Utc::now().trunc_subsecs(6),
        seq: 0,
        prev_hash: String::new(),
        hash: String::new(),
    }
}

fn link(row: &audit_event::Model) -> Link<'_> {
    Link {
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
    }
}

/// Appends `count` events to the organisation's chain as the application does: each batch
/// numbered and hashed after the head it reserved, in one transaction.
async fn seed(db: &Db, org: Uuid, count: u64) {
    let staff: Vec<Uuid> = (0..40).map(|_| Uuid::now_v7()).collect();
    let clients: Vec<Uuid> = (0..5_000).map(|_| Uuid::now_v7()).collect();
    let started = Instant::now();
    let mut done = 0_u64;
    while done < count {
        let n = (count - done).min(BATCH as u64);
        let txn = db.write().begin().await.expect("a transaction");
        let head = journal::reserve(&txn, org, 0, i64::try_from(n).expect("a count"))
            .await
            .expect("the head reserved");
        let mut prev = head.audit_hash;
        let mut rows = Vec::with_capacity(BATCH);
        for (seq, i) in (head.audit_seq + 1..).zip(done..done + n) {
            let mut row = event(i, org, &staff, &clients);
            row.seq = seq;
            row.prev_hash = prev;
            row.hash = link(&row).hash();
            prev = row.hash.clone();
            rows.push(audit_event::ActiveModel {
                id: Set(row.id),
                organization_id: Set(row.organization_id),
                actor_kind: Set(row.actor_kind),
                actor_id: Set(row.actor_id),
                action: Set(row.action),
                entity_kind: Set(row.entity_kind),
                entity_id: Set(row.entity_id),
                client_id: Set(row.client_id),
                outcome: Set(row.outcome),
                detail: Set(row.detail),
                request_id: Set(row.request_id),
                occurred_at: Set(row.occurred_at),
                seq: Set(row.seq),
                prev_hash: Set(row.prev_hash),
                hash: Set(row.hash),
            });
        }
        audit::insert(&txn, rows).await.expect("events appended");
        journal::set_audit_hash(&txn, org, &prev)
            .await
            .expect("the head recorded");
        txn.commit().await.expect("committed");
        done += n;
        if done.is_multiple_of(100_000) {
            println!(
                "    seeded {done} events in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
}

/// The walk of the verification, step by step, timing the reads and the checks apart.
async fn walk_timed(db: &Db, org: Uuid) -> (Duration, Duration) {
    use sea_orm::{AccessMode, IsolationLevel};
    use skinledger_domain::audit_chain::Verifier;
    let read = db.read().pool();
    let txn = if read.get_database_backend() == DbBackend::Postgres {
        read.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
        .expect("a transaction")
    } else {
        read.begin().await.expect("a transaction")
    };
    let (mut reading, mut checking) = (Duration::ZERO, Duration::ZERO);
    let mut verifier = Verifier::new();
    let mut after = None;
    loop {
        let started = Instant::now();
        let rows = audit::chain_after(&txn, org, after, 10_000)
            .await
            .expect("a page");
        reading += started.elapsed();
        let started = Instant::now();
        for row in &rows {
            assert!(verifier.check(&link(row), &row.hash), "verified");
        }
        checking += started.elapsed();
        match rows.last() {
            Some(last) if rows.len() == 10_000 => after = Some((last.seq, last.id)),
            _ => break,
        }
    }
    txn.commit().await.expect("committed");
    (reading, checking)
}

async fn measure(label: &str, test_db: TestDb, events: u64) {
    println!("{label}: seeding {events} audit events for one organisation");
    let app = app(test_db.db.clone());
    let org = app
        .create_organization(NewOrganization {
            slug: "bench".into(),
            name: "Bench clinics".into(),
            admin_email: "admin@bench.test".into(),
            admin_password: "correct horse battery staple".into(),
        })
        .await
        .expect("an organisation")
        .id;
    seed(&test_db.db, org, events).await;
    // The table at rest, as autovacuum (PostgreSQL) or the checkpoint (SQLite) leaves it after
    // the appends, so that neither runs during a measurement.
    let write = test_db.db.write();
    let settle = match write.get_database_backend() {
        DbBackend::Postgres => "VACUUM (ANALYZE) audit_events",
        _ => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    write.execute_unprepared(settle).await.expect("settled");
    let total = app.audit_head_of(org).await.expect("the head").seq;

    let mut seconds = Vec::new();
    for run in 1..=RUNS {
        let started = Instant::now();
        let verdict = app
            .verify_audit_chain_of(org, None)
            .await
            .expect("verification ran");
        let elapsed = started.elapsed().as_secs_f64();
        assert!(verdict.verified, "{verdict:?}");
        assert_eq!(
            verdict.events_checked,
            u64::try_from(total).expect("a count")
        );
        println!(
            "  verify run {run}: {} events in {elapsed:.2} s, {:.0} events/s",
            verdict.events_checked,
            verdict.events_checked as f64 / elapsed
        );
        seconds.push(elapsed);
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!(
        "  {label}: verification of {total} events, median of {RUNS}: {median:.2} s ({:.0} events/s)",
        total as f64 / median
    );

    let (reading, checking) = walk_timed(&test_db.db, org).await;
    println!(
        "  {label}: where the time goes, one page after the other: reading {:.2} s, checking {:.2} s",
        reading.as_secs_f64(),
        checking.as_secs_f64()
    );
    drop(app);
    drop(test_db);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events: u64 = std::env::var("AUDIT_EVENTS")
        .ok()
        .and_then(|n| n.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    // `AUDIT_BACKENDS=postgres` (or `sqlite`) measures one of them only.
    let only = std::env::var("AUDIT_BACKENDS").unwrap_or_default();
    if !only.contains("postgres") || only.contains("sqlite") {
        measure("SQLite", TestDb::sqlite().await, events).await;
    }
    if only.contains("sqlite") && !only.contains("postgres") {
        return;
    }
    match TestDb::postgres().await {
        Some(db) => measure("PostgreSQL", db, events).await,
        None => println!("PostgreSQL: skipped, SKINLEDGER_TEST_POSTGRES_URL is not set"),
    }
}
