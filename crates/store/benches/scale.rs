//! Whether the large queries stay flat as an organisation grows: the same list, search,
//! client-history, lot-trace and usage-report statements the app sends, timed on a small and on a
//! large organisation seeded directly in SQL (PostgreSQL; skipped without
//! `SKINLEDGER_TEST_POSTGRES_URL`).
//!
//! `cargo bench -p skinledger-store --bench scale`. `SCALE_SMALL` (10,000) and `SCALE_LARGE`
//! (200,000) set the clients of each organisation, `SCALE_TREATMENTS` (5) the treatments of each
//! client, so the large one holds 1,000,000 treatments; 100 lots share the consumptions (a lot
//! of the large organisation was used by 10,000 treatments). Each query runs 31 times after a
//! warm-up; the median and the slowest are printed, then the ratio of the large organisation's
//! median to the small one's. Nothing here asserts a time.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program"
)]

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use skinledger_store::entities::{client, staff};
use skinledger_store::testing::TestDb;
use skinledger_store::testing::scale::{Scale, seed_large_organisation};
use skinledger_store::{Db, PageRequest, clients, consumables, orgs, treatments};
use uuid::Uuid;

const RUNS: usize = 31;
const LOTS: u32 = 100;

const QUERIES: [&str; 8] = [
    "clients, first page",
    "clients by first-name prefix",
    "clients by email prefix",
    "clients by phone prefix",
    "a client's treatments (history)",
    "lot trace (consumptions with their clients)",
    "usage report over a year",
    "usage report over a month",
];

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One organisation seeded at a size, with a client and a lot to ask about.
struct Organisation {
    id: Uuid,
    client: client::Model,
    lot: Uuid,
}

async fn organisation(db: &Db, clients: u32, treatments_per_client: u32) -> Organisation {
    let id = Uuid::now_v7();
    orgs::insert(db.write(), id, &format!("scale-{}", id.simple()), "Scale")
        .await
        .expect("an organisation");
    let now = Utc::now();
    let practitioner = staff::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(id),
        email: Set("physician@scale.test".into()),
        name: Set("Physician".into()),
        password_hash: Set(String::new()),
        active: Set(true),
        session_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db.write())
    .await
    .expect("a practitioner");
    let clinic = Uuid::now_v7();
    db.write()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO clinics (id, organization_id, name, address, phone, active, timezone, \
             created_at, updated_at) VALUES ($1, $2, 'Mitte', NULL, NULL, true, 'UTC', now(), now())",
            [clinic.into(), id.into()],
        ))
        .await
        .expect("a clinic");
    let started = Instant::now();
    let scale = Scale {
        clients,
        treatments_per_client,
        lots: LOTS,
    };
    seed_large_organisation(db, id, clinic, practitioner.id, scale).await;
    println!(
        "  seeded {clients} clients and {} treatments in {:.0} s",
        u64::from(clients) * u64::from(treatments_per_client),
        started.elapsed().as_secs_f64()
    );
    let first = PageRequest {
        after: None,
        limit: 51,
    };
    let page = clients::list(db.read(), id, None, first)
        .await
        .expect("clients");
    let client = page.items[page.items.len() / 2].clone();
    let lot: Uuid = db
        .read()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM lots WHERE organization_id = $1 ORDER BY lot_number LIMIT 1",
            [id.into()],
        ))
        .await
        .expect("a lot")
        .expect("a lot")
        .try_get("", "id")
        .expect("its id");
    Organisation { id, client, lot }
}

/// The median and the slowest of [`RUNS`] runs of `query`, after one run to warm the cache.
async fn time<F, Fut>(query: F) -> (Duration, Duration)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    query().await;
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        query().await;
        runs.push(started.elapsed());
    }
    runs.sort();
    (runs[RUNS / 2], runs[RUNS - 1])
}

/// Times every query on one organisation, in the order of [`QUERIES`].
async fn measure(db: &Db, org: &Organisation) -> Vec<(Duration, Duration)> {
    let (o, first) = (
        org.id,
        PageRequest {
            after: None,
            limit: 51,
        },
    );
    let email = org.client.email.clone().expect("an email");
    let phone = org.client.phone.clone().expect("a phone");
    let searches = [
        org.client.first_name[..3].to_lowercase(),
        email[..10].to_owned(),
        phone[..14].to_owned(),
    ];
    let today = Utc::now().date_naive();
    let mut figures = Vec::new();
    figures.push(
        time(|| async {
            clients::list(db.read(), o, None, first)
                .await
                .expect("clients");
        })
        .await,
    );
    for q in &searches {
        figures.push(
            time(|| async {
                let found = clients::list(db.read(), o, Some(q), first)
                    .await
                    .expect("search");
                assert!(!found.items.is_empty(), "{q} finds someone");
            })
            .await,
        );
    }
    figures.push(
        time(|| async {
            treatments::list_for_client(db.read(), o, org.client.id, first)
                .await
                .expect("history");
        })
        .await,
    );
    figures.push(
        time(|| async {
            consumables::trace(db.read(), o, org.lot)
                .await
                .expect("the trace");
        })
        .await,
    );
    for days in [365, 30] {
        figures.push(
            time(|| async {
                consumables::usage(db.read(), o, today - Days::new(days), today, None)
                    .await
                    .expect("usage");
            })
            .await,
        );
    }
    figures
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(test_db) = TestDb::postgres().await else {
        println!("PostgreSQL: skipped (set SKINLEDGER_TEST_POSTGRES_URL)");
        return;
    };
    let per_client = setting("SCALE_TREATMENTS", 5);
    let sizes = [
        setting("SCALE_SMALL", 10_000),
        setting("SCALE_LARGE", 200_000),
    ];
    let mut results = Vec::new();
    for clients in sizes {
        println!("organisation of {clients} clients");
        let org = organisation(&test_db.db, clients, per_client).await;
        let uses = consumables::trace(test_db.db.read(), org.id, org.lot)
            .await
            .expect("consumptions")
            .len();
        println!("  the lot traced was used by {uses} treatments");
        results.push(measure(&test_db.db, &org).await);
    }
    let (small, large) = (&results[0], &results[1]);
    println!(
        "\n  {:<46} {:>20} {:>20} {:>8}",
        "query: median, slowest of 31",
        format!("{} clients", sizes[0]),
        format!("{} clients", sizes[1]),
        "ratio"
    );
    for (i, name) in QUERIES.iter().enumerate() {
        let (s, l) = (small[i], large[i]);
        println!(
            "  {name:<46} {:>7.2} {:>7.2} ms {:>7.2} {:>7.2} ms {:>7.2} x",
            ms(s.0),
            ms(s.1),
            ms(l.0),
            ms(l.1),
            l.0.as_secs_f64() / s.0.as_secs_f64()
        );
    }
}
