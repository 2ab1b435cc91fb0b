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
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use skinledger_store::audit::AuditFilter;
use skinledger_store::testing::TestDb;
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

const FIRST_NAMES: &str = "'Anna','Ben','Clara','David','Emma','Felix','Greta','Hannes','Ida','Jonas',\
     'Karla','Leon','Mia','Noah','Olga','Paul','Rosa','Sami','Tilda','Umut'";

/// Records every statement sent through a connection.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Statement>>>);

impl Recorder {
    fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.0.lock().expect("the recorder"))
    }
}

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
    seed(&test_db.db, org.id, clinic, org.admin_id).await;

    let recorder = Recorder::default();
    let mut conn: DatabaseConnection = Database::connect(test_db.url.as_str())
        .await
        .expect("a connection");
    let sink = recorder.clone();
    conn.set_metric_callback(move |info| {
        sink.0
            .lock()
            .expect("the recorder")
            .push(info.statement.clone());
    });
    let db = &conn;
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
    recorder.take();

    let mut queries: Vec<(String, Vec<Statement>)> = Vec::new();
    let mut record = |what: &str| queries.push((what.to_owned(), recorder.take()));

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
    let used = consumables::of_lot(db, o, lot).await.expect("consumptions");
    assert!(used.len() > 100, "the lot was used {} times", used.len());
    record("consumptions of a lot (trace)");
    let treatment_ids: Vec<Uuid> = used.iter().map(|u| u.treatment_id).collect();
    let traced = lookups::treatments(db, o, &treatment_ids)
        .await
        .expect("treatments");
    record("treatments of the trace");
    let client_ids: Vec<Uuid> = traced.iter().map(|t| t.client_id).collect();
    lookups::clients(db, o, &client_ids).await.expect("clients");
    record("clients of the trace");

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
async fn explain(db: &DatabaseConnection, statement: &Statement) -> String {
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

/// Seeds the organisation with [`CLIENTS`] clients, each with a signed treatment at `clinic`
/// by `practitioner` in the last two years that consumed one roller of one of [`LOTS`] lots,
/// the ledger's movement for it, and an audit event of a read of the client; then lets the
/// planner know the tables' sizes, as autovacuum would.
async fn seed(db: &skinledger_store::Db, org: Uuid, clinic: Uuid, practitioner: Uuid) {
    let product = Uuid::now_v7();
    let statements = [
        format!(
            "INSERT INTO products (id, organization_id, kind, name, maker, gtin, \
             needle_length_hundredths, needle_count, max_depth_hundredths, single_use, \
             reorder_point, version, created_at, updated_at) \
             VALUES ('{product}', '{org}', 'roller', 'Roller 0.5 mm', 'Maker', NULL, 50, 192, \
             NULL, true, 0, 1, now(), now())"
        ),
        format!(
            "INSERT INTO lots (id, organization_id, product_id, lot_number, expiry, status, \
             created_at, serial_tracked) \
             SELECT gen_random_uuid(), '{org}', '{product}', 'LOT-' || lpad(g::text, 4, '0'), \
             current_date + 365, 'active', now(), false FROM generate_series(1, {LOTS}) g"
        ),
        format!(
            "INSERT INTO clients (id, organization_id, first_name, last_name, date_of_birth, \
             phone, email, fitzpatrick_type, consent_version, consent_signed_at, photo_consent, \
             notes, name_search, reverse_name_search, email_search, phone_search, version, \
             created_at, updated_at) \
             SELECT gen_random_uuid(), '{org}', f, l, date '1960-01-01' + g % 15000, \
             '+49 151 ' || lpad(g::text, 7, '0'), lower(f || '.' || l || '@example.test'), \
             NULL, NULL, NULL, false, NULL, lower(f || ' ' || l), lower(l || ' ' || f), \
             lower(f || '.' || l || '@example.test'), '49151' || lpad(g::text, 7, '0'), 1, \
             now(), now() \
             FROM (SELECT g, (ARRAY[{FIRST_NAMES}])[1 + g % 20] AS f, \
                          initcap(substr(md5(g::text), 1, 10)) AS l \
                   FROM generate_series(1, {CLIENTS}) g) s"
        ),
        format!(
            "INSERT INTO treatments (id, organization_id, clinic_id, client_id, practitioner_id, \
             performed_at, performed_on, status, indications, areas, device_kind, \
             needle_depth_hundredths, passes, anaesthetic_product, anaesthetic_minutes, \
             topicals, endpoint, duration_minutes, notes, interval_override_reason, \
             policy_version, course_id, version, signed_at, signed_by, created_at, updated_at) \
             SELECT gen_random_uuid(), '{org}', '{clinic}', id, '{practitioner}', t, t::date, \
             'signed', '[\"fine_lines_and_wrinkles\"]', '[\"full_face\"]', 'roller', 50, 8, \
             NULL, NULL, '[]', 'erythema', 30, NULL, NULL, 0, NULL, 1, t, '{practitioner}', t, t \
             FROM (SELECT id, now() - random() * interval '730 days' AS t FROM clients \
                   WHERE organization_id = '{org}') c"
        ),
        format!(
            "INSERT INTO treatment_consumables (id, organization_id, treatment_id, clinic_id, \
             performed_on, product_id, lot_id, serial, quantity, created_at) \
             SELECT gen_random_uuid(), t.organization_id, t.id, t.clinic_id, t.performed_on, \
             '{product}', l.id, NULL, 1, t.created_at \
             FROM (SELECT *, row_number() OVER () % {LOTS} AS k FROM treatments \
                   WHERE organization_id = '{org}') t \
             JOIN (SELECT id, row_number() OVER (ORDER BY lot_number) - 1 AS k FROM lots \
                   WHERE organization_id = '{org}') l ON l.k = t.k"
        ),
        format!(
            "INSERT INTO movements (id, organization_id, clinic_id, lot_id, kind, quantity, \
             quarantined_delta, in_transit_delta, reason, note, actor_kind, actor_id, \
             treatment_id, transfer_id, reference, created_at) \
             SELECT gen_random_uuid(), organization_id, clinic_id, lot_id, 'consumption', \
             -quantity, 0, 0, NULL, NULL, 'staff', '{practitioner}', treatment_id, NULL, NULL, \
             created_at FROM treatment_consumables WHERE organization_id = '{org}'"
        ),
        format!(
            "INSERT INTO audit_events (id, organization_id, actor_kind, actor_id, action, \
             entity_kind, entity_id, client_id, outcome, detail, request_id, occurred_at, seq, \
             prev_hash, hash) \
             SELECT gen_random_uuid(), organization_id, 'staff', '{practitioner}', \
             'client.read', 'client', id, id, 'success', NULL, NULL, now(), \
             (SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE organization_id = '{org}') \
             + row_number() OVER (ORDER BY id), '', '' FROM clients \
             WHERE organization_id = '{org}'"
        ),
        "VACUUM ANALYZE".to_owned(),
    ];
    for statement in statements {
        db.write()
            .execute_unprepared(&statement)
            .await
            .unwrap_or_else(|e| panic!("{e}: {statement}"));
    }
}
