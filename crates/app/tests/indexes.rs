//! At the size of a large chain (100,000 clients, as many treatments, consumptions, movements
//! and audit events), every list, search, report and trace query is answered from an index on
//! PostgreSQL: `EXPLAIN` of each statement the store sends shows no sequential scan of those
//! tables. The database is created with an ICU collation, under which an index in the
//! database's collation cannot serve a prefix search.
//!
//! The statements are the store's own: the store functions run on a connection that records
//! what it sends, and each recorded statement is explained with the values it was sent with.

#![expect(clippy::expect_used, reason = "tests")]

pub mod common;

use std::sync::{Arc, Mutex};

use chrono::{Days, Utc};
use common::Harness;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use skinledger_store::audit::AuditFilter;
use skinledger_store::testing::TestDb;
use skinledger_store::testing::scale::{Scale, seed_large_organisation};
use skinledger_store::{PageRequest, audit, clients, consumables, lookups, movements, treatments};
use uuid::Uuid;

/// Clients seeded; each has one treatment that consumed one unit, its movement, and one audit
/// event of a read.
const CLIENTS: u32 = 100_000;

/// Lots the consumptions are spread over.
const LOTS: u32 = 100;

/// The tables that grow with the chain.
const BIG: [&str; 5] = [
    "clients",
    "treatments",
    "treatment_consumables",
    "movements",
    "audit_events",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_searches_reports_and_traces_use_indexes_at_a_hundred_thousand_clients() {
    if !skinledger_store::testing::postgres_or_skip(
        "lists_searches_reports_and_traces_use_indexes_at_a_hundred_thousand_clients",
    ) {
        return;
    }
    let Some(test_db) = TestDb::postgres_collated("en-US").await else {
        unreachable!("postgres_or_skip answered that PostgreSQL is configured");
    };
    let h = Harness::new(test_db.db.clone());
    let org = h.organization("big").await;
    let clinic = h.clinic(&org.admin, "Mitte").await.id;
    let scale = Scale {
        clients: CLIENTS,
        treatments_per_client: 1,
        lots: LOTS,
    };
    seed_large_organisation(&test_db.db, org.id, clinic, org.admin_id, scale).await;

    // Every statement sent through `db`, as sent.
    let sent: Arc<Mutex<Vec<Statement>>> = Arc::default();
    let sink = Arc::clone(&sent);
    let observed = test_db.db.clone().observing(move |statement| {
        sink.lock().expect("the record").push(statement.clone());
    });
    let take = || std::mem::take(&mut *sent.lock().expect("the record"));
    let db = observed.read();
    let (o, page) = (
        org.id,
        PageRequest {
            after: None,
            limit: 51,
        },
    );

    // One client to search for, and one to continue after.
    let one = clients::list(db, o, None, page).await.expect("a page");
    let client = one.items[17].clone();
    let after = PageRequest {
        after: one.next_after,
        ..page
    };
    take();

    let mut queries: Vec<(String, Vec<Statement>)> = Vec::new();
    let mut record = |what: &str| queries.push((what.to_owned(), take()));

    clients::list(db, o, None, page).await.expect("clients");
    record("clients, first page");
    clients::list(db, o, None, after).await.expect("clients");
    record("clients, next page");
    for q in [
        "anna",
        &client.last_name[..6],
        &format!("{} {}", client.first_name, &client.last_name[..4]),
        &client.email.clone().expect("an email")[..12],
        &client.phone.clone().expect("a phone")[..14],
    ] {
        let found = clients::list(db, o, Some(q), page).await.expect("search");
        assert!(!found.items.is_empty(), "{q} finds someone");
        record(&format!("clients matching {q:?}"));
    }
    clients::list(db, o, Some(&client.last_name[..6]), after)
        .await
        .expect("search");
    record("clients matching, next page");

    treatments::list_for_client(db, o, client.id, page)
        .await
        .expect("treatments");
    record("treatments of a client");

    // The trace of a lot, statement by statement as the app runs it.
    let lot: Uuid = test_db
        .db
        .read()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id FROM lots ORDER BY lot_number LIMIT 1",
        ))
        .await
        .expect("a lot")
        .expect("a lot")
        .try_get("", "id")
        .expect("its id");
    let used = consumables::trace(db, o, lot).await.expect("the trace");
    assert!(used.len() > 100, "the lot was used {} times", used.len());
    record("the trace of a lot: its consumptions with their clients");
    let mut practitioners: Vec<Uuid> = used.iter().map(|u| u.practitioner_id).collect();
    practitioners.sort_unstable();
    practitioners.dedup();
    lookups::staff(db, o, &practitioners)
        .await
        .expect("practitioners");
    record("practitioners of the trace");

    let today = Utc::now().date_naive();
    let month_ago = today - Days::new(30);
    consumables::usage(db, o, month_ago, today, None)
        .await
        .expect("usage");
    record("usage report, every clinic");
    consumables::usage(db, o, month_ago, today, Some(&[clinic]))
        .await
        .expect("usage");
    record("usage report, one clinic");

    let now = Utc::now();
    movements::disposals_between(db, o, None, now - chrono::Duration::days(30), now)
        .await
        .expect("disposals");
    record("disposal report");
    movements::list(db, o, clinic, None, page)
        .await
        .expect("movements");
    record("movements of a clinic");
    movements::list(db, o, clinic, Some(lot), page)
        .await
        .expect("movements");
    record("movements of a lot at a clinic");

    let about_client = AuditFilter {
        client_id: Some(client.id),
        ..AuditFilter::default()
    };
    audit::list(db, o, &about_client, page)
        .await
        .expect("audit events");
    record("audit events about a client");
    audit::list(db, o, &AuditFilter::default(), page)
        .await
        .expect("audit events");
    record("audit events");
    audit::chain_after(db, o, Some((50_000, Uuid::nil())), 10_000)
        .await
        .expect("audit chain");
    record("the audit chain from a number on");

    let mut scans = Vec::new();
    for (what, statements) in &queries {
        assert!(!statements.is_empty(), "{what}: no statement recorded");
        for statement in statements {
            let plan = explain(test_db.db.read(), statement).await;
            println!(
                "{what}\n{}\n{}\n",
                shortened(&statement.sql),
                shortened(&plan)
            );
            for table in BIG {
                if plan.contains(&format!("Seq Scan on {table} ")) {
                    scans.push(format!("{what}: {table}\n{plan}"));
                }
            }
            // A page of the chain starts in the index at its number, not at the chain's first
            // event (which made a walk of the chain quadratic).
            if *what == "the audit chain from a number on"
                && !plan
                    .lines()
                    .any(|l| l.contains("Index Cond") && l.contains("seq >="))
            {
                scans.push(format!("{what}: the index is not bounded by seq\n{plan}"));
            }
        }
    }
    assert!(
        scans.is_empty(),
        "sequential scans of big tables:\n{}",
        scans.join("\n")
    );
}

/// `text` with each line cut at 200 characters (lists of ids make long lines).
fn shortened(text: &str) -> String {
    text.lines()
        .map(|line| match line.char_indices().nth(200) {
            Some((at, _)) => format!("{}...", &line[..at]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plan of `statement` with the values it was sent with.
async fn explain(db: &impl ConnectionTrait, statement: &Statement) -> String {
    let explain = Statement {
        sql: format!("EXPLAIN {}", statement.sql),
        ..statement.clone()
    };
    db.query_all_raw(explain)
        .await
        .expect("EXPLAIN")
        .iter()
        .map(|row| {
            row.try_get::<String>("", "QUERY PLAN")
                .expect("a plan line")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
