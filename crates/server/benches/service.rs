//! Measures the running service as its clients use it, next to what the database itself takes
//! for the same work, and prints the figures and their ratios.
//!
//! `cargo bench -p skinledger --bench service` runs it on SQLite, and on PostgreSQL too when
//! `SKINLEDGER_TEST_POSTGRES_URL` is set. The server is the real `skinledger` binary, built with
//! optimisations and started as a process of its own on a fresh database with the demo
//! organisation; this program is its client, over REST and gRPC, with `BENCH_CONCURRENCY`
//! requests in flight (32 by default). It prints, for each goal:
//!
//! - **P1 read**: the authenticated read of one client by id over REST and gRPC, against its
//!   floor: the same `SELECT` through the same driver and pool settings, as many in flight, with
//!   no HTTP, token, permission or audit. On PostgreSQL with `pgbench` installed, also against
//!   the floor as the goal sets it: that one `SELECT`, as the driver sends it, run by `pgbench`
//!   (prepared, as many clients as requests in flight). With `h2load` installed the same reads are driven by
//!   it too, a client of its own process written in C (REST over HTTP/1.1, gRPC over HTTP/2,
//!   and REST over HTTP/2 as well, to tell the transport's cost from the encoding's), so that
//!   the client takes less of the cores the server and the database share; `GET /healthz`
//!   driven the same way gives the ceiling of the server's HTTP stack with no token and no
//!   database.
//! - **P2 write**: `POST /v1/treatments` with eligibility, first-expiry-first-out consumption,
//!   ledger, audit and events, against its floor: the same use case run in this process on the
//!   same database (the same statements through the same driver, no HTTP or token), and the
//!   oversell check (the lot's balance is exactly what was received less what was used).
//! - **P4 footprint**: the server's resident memory when ready and at its peak under
//!   `BENCH_MIXED_CONCURRENCY` (64) requests of mixed load in flight, and how long it takes to be
//!   ready on an existing database.
//!
//! `BENCH_SESSIONS` (300) sets the treatments per side and `BENCH_READS` (10,000) the reads per
//! transport. On SQLite the server has one worker thread per core; on PostgreSQL, which shares
//! the machine, half the cores (`BENCH_WORKER_THREADS` sets them, 0 for one per core). Nothing
//! here asserts a time.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program"
)]

#[path = "service/clients.rs"]
mod clients;
#[path = "service/figures.rs"]
mod figures;
#[path = "service/floors.rs"]
mod floors;
#[path = "service/h2load.rs"]
mod h2load;
#[path = "service/peer.rs"]
mod peer;
#[path = "service/pgbench.rs"]
mod pgbench;
#[path = "service/reads.rs"]
mod reads;
#[path = "service/server.rs"]
mod server;

use std::time::{Duration, Instant};

use clients::{eligible_clients, treatment};
use figures::{Figures, concurrency, measure, setting};
use floors::{pgbench_journal_floor, pgbench_write_floor, print_pgbench_floor};
use reads::reads_by_id;
use serde_json::json;
use server::{GrpcApi, Server};
use skinledger::Config;
use skinledger_store::testing::TestDb;

/// What one backend reached, for the summary.
struct Reached {
    backend: String,
    p1: reads::Reads,
    p2: f64,
    p2_journal: Option<f64>,
    p2_replayed: Option<f64>,
    oversold: bool,
    ready: Duration,
    rss_ready: f64,
    rss_peak: f64,
}

pub(crate) async fn run(backend: &str, test_db: TestDb, workers: usize) -> Reached {
    let threads = if workers == 0 {
        "one per core".to_owned()
    } else {
        workers.to_string()
    };
    let backend = format!("{backend}, worker_threads {threads}");
    println!("\n{backend}");
    let in_flight = concurrency();
    let sessions = setting("BENCH_SESSIONS", 300);
    let data = tempfile::tempdir().expect("tempdir");
    let config = Config {
        database_url: test_db.url.clone(),
        data_dir: data.path().to_owned(),
        worker_threads: workers,
        ..Config::default()
    };
    // The first start migrates and seeds; the second is a start on an existing database.
    let (seeding, _) = Server::start(&config, true).await;
    seeding.stop().await;
    let (server, ready) = Server::start(&config, false).await;
    let (rss_ready, _) = server.memory();
    println!(
        "  {:<48} {:>8.1} ms  resident {rss_ready:.1} MiB",
        "ready on an existing database",
        ready.as_secs_f64() * 1e3
    );
    let api = &server.api;

    // One account's logins run one after another: concurrent attempts on one account count
    // towards its throttling, as password guesses would.
    let started = Instant::now();
    let mut latencies = Vec::new();
    for _ in 0..16 {
        let t = Instant::now();
        api.login("nurse@demo.test").await;
        latencies.push(t.elapsed());
    }
    Figures {
        label: "password login (argon2id), sequential".into(),
        latencies,
        wall: started.elapsed(),
    }
    .print();

    let physician = api.login("physician@demo.test").await;
    let admin = api.login("admin@demo.test").await;
    let mut me = measure("GET /v1/me", 2000, in_flight, |_| async {
        let (status, _) = api
            .call(reqwest::Method::GET, "/v1/me", &physician, None)
            .await;
        assert_eq!(status, 200);
    })
    .await;
    me.print();
    server.print_memory("after the logins");

    println!("  P1: the read of one client by id");
    let p1 = reads_by_id(&config, &server, &physician).await;
    server.print_memory("after the reads");

    let (_, clinics) = api
        .call(reqwest::Method::GET, "/v1/clinics", &admin, None)
        .await;
    let mitte = clinics["items"][0]["id"]
        .as_str()
        .expect("a clinic")
        .to_owned();
    let (_, products) = api
        .call(
            reqwest::Method::GET,
            "/v1/products?kind=roller",
            &admin,
            None,
        )
        .await;
    let roller = products["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|p| p["name"].as_str().is_some_and(|n| n.contains("0.5")))
        })
        .and_then(|p| p["id"].as_str())
        .expect("the demo roller")
        .to_owned();
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(365)).to_string();
    let received = 2 * sessions + 10;
    let (status, receipt) = api
        .call(
            reqwest::Method::POST,
            &format!("/v1/clinics/{mitte}/receipts"),
            &admin,
            Some(&json!({"product_id": roller, "lot_number": "BENCH-1", "expiry": expiry, "quantity": received})),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let lot = receipt["lot"]["id"].as_str().expect("a lot").to_owned();

    println!("  P2: recording a treatment that consumes a roller");
    let for_service = eligible_clients(api, &physician, &mitte, sessions, "svc").await;
    let for_floor = eligible_clients(api, &physician, &mitte, sessions, "floor").await;

    // The floor: the same use case on the same database, in this process: the same statements
    // through the same driver, with no HTTP, token or JSON.
    let db = skinledger::connect(&config).await.expect("database");
    let (app, audit) = skinledger::app(&config, db.clone()).expect("app");
    let actor = app
        .authenticate(&physician, None)
        .await
        .expect("the physician");
    let mut floor = measure(
        "floor: the same use case, no HTTP",
        sessions,
        in_flight,
        |i| {
            let (app, actor) = (&app, &actor);
            let new: skinledger_app::treatments::NewTreatment =
                serde_json::from_value(treatment(&mitte, &for_floor[i], &roller, &lot))
                    .expect("a treatment");
            async move {
                app.create_treatment(actor, new, None)
                    .await
                    .expect("recorded");
            }
        },
    )
    .await;
    let mut treated = measure("REST POST /v1/treatments", sessions, in_flight, |i| {
        let body = treatment(&mitte, &for_service[i], &roller, &lot);
        let physician = &physician;
        async move {
            let (status, answer) = api
                .call(
                    reqwest::Method::POST,
                    "/v1/treatments",
                    physician,
                    Some(&body),
                )
                .await;
            assert_eq!(status, 201, "{answer}");
        }
    })
    .await;
    floor.print();
    treated.print();
    treated.print_against("REST / floor", &mut floor);
    let p2 = treated.ratio(&floor);
    let journal = if backend.starts_with("PostgreSQL") {
        pgbench_journal_floor(
            &config,
            &test_db.url,
            usize::try_from(config.database_max_connections).expect("a pool size"),
        )
        .await
    } else {
        None
    };
    print_pgbench_floor(
        "pgbench: one organisation's journal, lock + commit",
        journal,
        treated.throughput(),
    );
    let org = actor.org_id;
    let balance = skinledger_store::stock::get(
        db.read(),
        org,
        mitte.parse().expect("clinic id"),
        lot.parse().expect("lot id"),
    )
    .await
    .expect("the balance")
    .expect("a balance");
    let oversold = i64::from(balance.on_hand) != (received - 2 * sessions) as i64;
    println!(
        "  {:<48} received {received}, used {}, on hand {}",
        "the lot's balance",
        2 * sessions,
        balance.on_hand
    );
    drop(app);
    audit.finish().await;
    db.close().await.expect("the pool closes");
    let replayed = if backend.starts_with("PostgreSQL") {
        pgbench_write_floor(
            &config,
            &test_db.url,
            api,
            &admin,
            &physician,
            &mitte,
            &roller,
            sessions,
        )
        .await
        .map_err(|e| println!("  pgbench replay of the write: {e}"))
        .ok()
    } else {
        None
    };
    print_pgbench_floor(
        &match replayed {
            Some((_, statements)) => format!("pgbench: the write's {statements} statements"),
            None => "pgbench: the write's own statements".to_owned(),
        },
        replayed.map(|(tps, _)| tps),
        treated.throughput(),
    );
    server.print_memory("after the writes");

    // P4: mixed load with many requests in flight, then the server's memory.
    let mixed = setting("BENCH_MIXED_CONCURRENCY", 64);
    let grpc = GrpcApi::connect(api, &physician, mixed).await;
    let some_client = for_service[0].clone();
    let mut load = measure(
        "mixed: reads (REST, gRPC), client writes",
        8 * sessions,
        mixed,
        |i| {
            let (grpc, physician, client) = (&grpc, &physician, &some_client);
            async move {
                match i % 4 {
                    0 => {
                        let body = json!({"first_name": format!("Mix{i}"), "last_name": "Load", "date_of_birth": "1985-01-02"});
                        let (status, _) = api
                            .call(reqwest::Method::POST, "/v1/clients", physician, Some(&body))
                            .await;
                        assert_eq!(status, 201);
                    }
                    1 => grpc.get_client(i, client.clone()).await,
                    _ => {
                        let (status, _) = api
                            .call(
                                reqwest::Method::GET,
                                &format!("/v1/clients/{client}"),
                                physician,
                                None,
                            )
                            .await;
                        assert_eq!(status, 200);
                    }
                }
            }
        },
    )
    .await;
    load.label = format!("mixed, {mixed} in flight (REST, gRPC, writes)");
    load.print();
    server.print_memory("after the mixed load");
    let (_, rss_peak) = server.memory();

    let (status, _) = api
        .call(
            reqwest::Method::POST,
            &format!("/v1/lots/{lot}/recall"),
            &admin,
            Some(&json!({"reason": "benchmark recall"})),
        )
        .await;
    assert_eq!(status, 200);
    let mut traced = measure("GET /v1/lots/{id}/trace (JSON)", 20, 4, |_| {
        let (admin, lot) = (&admin, &lot);
        async move {
            let (status, body) = api
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/lots/{lot}/trace"),
                    admin,
                    None,
                )
                .await;
            assert_eq!(status, 200);
            assert_eq!(
                body["treatments"].as_array().map(Vec::len),
                Some(2 * sessions)
            );
        }
    })
    .await;
    traced.label = format!("GET /v1/lots/{{id}}/trace, {} clients (JSON)", 2 * sessions);
    traced.print();

    server.stop().await;
    drop(test_db);
    Reached {
        backend,
        p1,
        p2,
        p2_journal: journal.map(|tps| treated.throughput() / tps),
        p2_replayed: replayed.map(|(tps, _)| treated.throughput() / tps),
        oversold,
        ready,
        rss_ready,
        rss_peak,
    }
}

fn summary(reached: &[Reached]) {
    println!("\nGoals (ratios to the floor measured in the same run)");
    for r in reached {
        println!("  {}", r.backend);
        println!(
            "    P1 read    REST {:.2} x, gRPC {:.2} x the floor (goal 0.6 x){}",
            r.p1.rest,
            r.p1.grpc,
            r.p1.h2load
                .as_ref()
                .map(|d| format!(
                    "; driven by h2load: REST {:.2} x, gRPC {:.2} x, gRPC multiplexed {:.2} x",
                    d.rest, d.grpc, d.grpc_multiplexed
                ))
                .unwrap_or_default()
        );
        if let Some(p) = &r.p1.pgbench {
            println!(
                "               against the read's SELECT run by pgbench ({:.0} tx/s): REST {:.2} x, gRPC {:.2} x{} (goal 0.6 x)",
                p.tps,
                p.rest,
                p.grpc,
                p.grpc_multiplexed
                    .map(|m| format!(", gRPC multiplexed {m:.2} x"))
                    .unwrap_or_default()
            );
        }
        if let Some(d) = &r.p1.h2load {
            let [rest, rest_h2, grpc, multiplexed] = d.cpu.map(|cpu| cpu.as_secs_f64() * 1e6);
            println!(
                "               server CPU a read: REST {rest:.0} µs, REST over HTTP/2 {rest_h2:.0} µs, gRPC {grpc:.0} µs, multiplexed {multiplexed:.0} µs"
            );
            println!(
                "               the HTTP ceiling, GET /healthz (no token, no database): {:.0} req/s at {:.0} µs of server CPU{}",
                d.ceiling,
                d.ceiling_cpu.as_secs_f64() * 1e6,
                r.p1.pgbench
                    .as_ref()
                    .map(|p| format!(" = {:.2} x the pgbench floor", d.ceiling / p.tps))
                    .unwrap_or_default()
            );
            println!(
                "               p99 at half of peak, arrivals spread, steady: REST {:.2} ms, gRPC {:.2} ms (goal 5 ms); gRPC / REST {:.2} x, multiplexed {:.2} x (goal 1 x), gRPC / REST over HTTP/2 {:.2} x{}",
                d.rest_p99.as_secs_f64() * 1e3,
                d.grpc_p99.as_secs_f64() * 1e3,
                d.grpc / d.rest,
                d.grpc_multiplexed / d.rest,
                d.grpc / d.rest_h2,
                r.p1.peer
                    .map(|p| format!("; REST {p:.1} x the FastAPI peer (goal 20 x)"))
                    .unwrap_or_default()
            );
        }
        println!(
            "    P2 write   {:.2} x the use case without HTTP{}{} (goal 0.5 x the replay); oversold: {}",
            r.p2,
            r.p2_replayed
                .map(|j| format!(", {j:.2} x its statements replayed by pgbench"))
                .unwrap_or_default(),
            r.p2_journal
                .map(|j| format!(", {j:.2} x the journal's pgbench ceiling"))
                .unwrap_or_default(),
            if r.oversold { "YES" } else { "none" }
        );
        println!(
            "    P4         ready in {:.0} ms (goal 300 ms); resident {:.1} MiB ready, {:.1} MiB at peak (goal 50 MiB)",
            r.ready.as_secs_f64() * 1e3,
            r.rss_ready,
            r.rss_peak
        );
    }
}

/// The server's `worker_threads` on PostgreSQL: `BENCH_WORKER_THREADS` when set (0 for one per
/// core), otherwise half the cores, as docs/operations.md advises when the database runs on the
/// same machine, as it does here.
fn postgres_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    setting("BENCH_WORKER_THREADS", (cores / 2).max(1))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    println!(
        "skinledger service benchmark: {} requests in flight, {} cores",
        concurrency(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let mut reached = vec![run("SQLite (embedded default)", TestDb::sqlite().await, 0).await];
    match TestDb::postgres().await {
        Some(db) => reached.push(run("PostgreSQL", db, postgres_workers()).await),
        None => println!("\nPostgreSQL: skipped (set SKINLEDGER_TEST_POSTGRES_URL)"),
    }
    summary(&reached);
}
