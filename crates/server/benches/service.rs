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
//!   no HTTP, token, permission or audit.
//! - **P2 write**: `POST /v1/treatments` with eligibility, first-expiry-first-out consumption,
//!   ledger, audit and events, against its floor: the same use case run in this process on the
//!   same database (the same statements through the same driver, no HTTP or token), and the
//!   oversell check (the lot's balance is exactly what was received less what was used).
//! - **P4 footprint**: the server's resident memory when ready and at its peak under
//!   `BENCH_MIXED_CONCURRENCY` (64) requests of mixed load in flight, and how long it takes to be
//!   ready on an existing database.
//!
//! `BENCH_SESSIONS` (300) sets the treatments per side and `BENCH_READS` (10,000) the reads per
//! transport. Nothing here asserts a time.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program"
)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use skinledger::Config;
use skinledger_api::grpc::pb;
use skinledger_store::testing::TestDb;
use tonic::codegen::http::uri::PathAndQuery;
use uuid::Uuid;

#[path = "service/pgbench.rs"]
mod pgbench;

/// A setting from the environment, or its default.
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn concurrency() -> usize {
    setting("BENCH_CONCURRENCY", 32)
}

struct Figures {
    label: String,
    latencies: Vec<Duration>,
    wall: Duration,
}

impl Figures {
    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    fn at(&mut self, quantile: f64) -> Duration {
        self.latencies.sort();
        let n = self.latencies.len().max(1);
        self.latencies[((n as f64 * quantile) as usize).min(n - 1)]
    }

    fn print(&mut self) {
        let (p50, p99) = (self.at(0.50), self.at(0.99));
        println!(
            "  {:<48} {:>6} requests  {:>8.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            self.label,
            self.latencies.len(),
            self.throughput(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
        );
    }

    /// Its throughput as a share of `base`'s.
    fn ratio(&self, base: &Figures) -> f64 {
        self.throughput() / base.throughput()
    }

    /// How `self` compares with `base`: its throughput as a share of `base`'s, its p99 as a
    /// multiple of `base`'s.
    fn print_against(&mut self, name: &str, base: &mut Figures) {
        println!(
            "  {name:<48} throughput {:>5.2} x   p99 {:>5.2} x",
            self.ratio(base),
            self.at(0.99).as_secs_f64() / base.at(0.99).as_secs_f64(),
        );
    }
}

/// Runs `total` calls of `call(i)`, keeping `in_flight` of them running, timing each.
async fn measure<F, Fut>(label: &str, total: usize, in_flight: usize, call: F) -> Figures
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let started = Instant::now();
    let latencies = futures::stream::iter(0..total)
        .map(|i| {
            let fut = call(i);
            async move {
                let t = Instant::now();
                fut.await;
                t.elapsed()
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    Figures {
        label: label.into(),
        latencies,
        wall: started.elapsed(),
    }
}

/// The `skinledger` binary running as a process of its own.
struct Server {
    child: tokio::process::Child,
    api: HttpApi,
}

impl Server {
    /// Starts `skinledger serve` (seeding the demo with `demo`) and waits until it is ready;
    /// answers the server and how long it took to be ready.
    async fn start(config: &Config, demo: bool) -> (Server, Duration) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_skinledger"));
        command
            .arg("serve")
            .env("SKINLEDGER_DATABASE_URL", &config.database_url)
            .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("SKINLEDGER_DATA_DIR", &config.data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if demo {
            command.arg("--demo");
        }
        let started = Instant::now();
        let child = command.spawn().expect("the server starts");
        let api = HttpApi {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
        };
        loop {
            let ready = api
                .http
                .get(format!("{}/readyz", api.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the server did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (Server { child, api }, started.elapsed())
    }

    /// Resident memory now and at its peak, in MiB (`VmRSS`, `VmHWM`).
    fn memory(&self) -> (f64, f64) {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn print_memory(&self, when: &str) {
        let (now, peak) = self.memory();
        println!(
            "  {:<48} now {now:.1} MiB, peak {peak:.1} MiB",
            format!("server resident memory {when}")
        );
    }

    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .arg(pid.to_string())
                .status()
                .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}

/// P1: the authenticated read of one client by id over REST and gRPC, and its floor. Answers
/// the REST and gRPC ratios to the floor.
async fn reads_by_id(config: &Config, api: &HttpApi, token: &str) -> (f64, f64) {
    let in_flight = concurrency();
    let reads = setting("BENCH_READS", 10_000);
    let warm_up = reads / 10;
    let (status, me) = api.call(reqwest::Method::GET, "/v1/me", token, None).await;
    assert_eq!(status, 200, "{me}");
    let org: Uuid = me["organization_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the organisation id");
    let (status, page) = api
        .call(reqwest::Method::GET, "/v1/clients?limit=1", token, None)
        .await;
    assert_eq!(status, 200, "{page}");
    let id = page["items"][0]["id"]
        .as_str()
        .expect("a demo client")
        .to_owned();
    let client_id: Uuid = id.parse().expect("a client id");

    // The floor: the same statement the read makes, through a pool set up as the server's.
    let db = skinledger::connect(config).await.expect("database");
    let select = |_| {
        let db = &db;
        async move {
            let row = skinledger_store::clients::get(db.read(), org, client_id)
                .await
                .expect("the select");
            assert!(row.is_some());
        }
    };
    measure("", warm_up, in_flight, select).await;
    let mut floor = measure("floor: the same SELECT, no HTTP", reads, in_flight, select).await;
    db.close().await.expect("the floor's pool closes");

    let path = format!("/v1/clients/{id}");
    let rest_read = |_| {
        let path = &path;
        async move {
            let (status, _) = api.call(reqwest::Method::GET, path, token, None).await;
            assert_eq!(status, 200);
        }
    };
    measure("", warm_up, in_flight, rest_read).await;
    let mut rest = measure("REST GET /v1/clients/{id}", reads, in_flight, rest_read).await;

    let grpc = GrpcApi::connect(api, token, in_flight).await;
    let grpc_read = |i| {
        let (grpc, id) = (&grpc, id.clone());
        async move { grpc.get_client(i, id).await }
    };
    measure("", warm_up, in_flight, grpc_read).await;
    let mut grpc = measure("gRPC GetClient", reads, in_flight, grpc_read).await;

    floor.print();
    rest.print();
    grpc.print();
    rest.print_against("REST / floor", &mut floor);
    grpc.print_against("gRPC / floor", &mut floor);
    grpc.print_against("gRPC / REST", &mut rest);
    (rest.ratio(&floor), grpc.ratio(&floor))
}

/// gRPC clients of the server, one HTTP/2 connection per request in flight.
struct GrpcApi {
    channels: Vec<tonic::client::Grpc<tonic::transport::Channel>>,
    bearer: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
}

impl GrpcApi {
    async fn connect(api: &HttpApi, token: &str, connections: usize) -> Self {
        let mut channels = Vec::with_capacity(connections);
        for _ in 0..connections.max(1) {
            let channel = tonic::transport::Channel::from_shared(api.base.clone())
                .expect("a URI")
                .connect()
                .await
                .expect("a gRPC channel");
            channels.push(tonic::client::Grpc::new(channel));
        }
        Self {
            channels,
            bearer: format!("Bearer {token}").parse().expect("metadata"),
        }
    }

    async fn get_client(&self, i: usize, id: String) {
        let mut grpc = self.channels[i % self.channels.len()].clone();
        let mut request = tonic::Request::new(pb::GetClientRequest { id });
        request
            .metadata_mut()
            .insert("authorization", self.bearer.clone());
        grpc.ready().await.expect("the channel is ready");
        let answer: tonic::Response<pb::Client> = grpc
            .unary(
                request,
                PathAndQuery::from_static("/skinledger.v1.ClientService/GetClient"),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .expect("GetClient answers");
        assert!(!answer.get_ref().id.is_empty());
    }
}

/// The server under measurement, over HTTP.
struct HttpApi {
    http: reqwest::Client,
    base: String,
}

impl HttpApi {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn login(&self, email: &str) -> String {
        let response = self
            .http
            .post(format!("{}/v1/auth/token", self.base))
            .json(&json!({"grant_type": "password", "org": "demo", "email": email, "password": "demo-password"}))
            .send()
            .await
            .expect("the server answers");
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("a token").to_owned()
    }
}

/// The ceiling every write of one organisation shares, measured by `pgbench` when it is
/// installed: each write ends by numbering its audit and integration events under the
/// organisation's journal row, locked until it commits, so the writes of one organisation commit
/// one after another. The script does only that, for an organisation of its own: take the row
/// (the upsert a write sends), record the chain's new hash, commit. Answers transactions per
/// second.
async fn pgbench_journal_floor(config: &Config, url: &str, in_flight: usize) -> Option<f64> {
    let db = skinledger::connect(config).await.expect("database");
    let org = Uuid::now_v7();
    skinledger_store::orgs::insert(
        db.write(),
        org,
        &format!("pgbench-{}", org.simple()),
        "pgbench",
    )
    .await
    .expect("an organisation for pgbench");
    db.close().await.expect("the pool closes");
    let script = format!(
        "BEGIN;\n\
         INSERT INTO event_sequences (organization_id, last_seq, purged_through, audit_seq, audit_hash) \
         VALUES ('{org}', 1, 0, 2, '') ON CONFLICT (organization_id) DO UPDATE SET \
         last_seq = event_sequences.last_seq + 1, audit_seq = event_sequences.audit_seq + 2 \
         RETURNING last_seq, audit_seq, audit_hash;\n\
         UPDATE event_sequences SET audit_hash = md5(random()::text) WHERE organization_id = '{org}';\n\
         COMMIT;\n"
    );
    let arguments = [
        "-T".to_owned(),
        "10".to_owned(),
        "-c".to_owned(),
        in_flight.to_string(),
    ];
    pgbench::tps(url, &script, &arguments)
        .await
        .map_err(|e| println!("  pgbench on the journal: {e}"))
        .ok()
}

/// One `pgbench` floor of the write and the share of it the server's `throughput` reaches.
fn print_pgbench_floor(label: &str, tps: Option<f64>, throughput: f64) {
    match tps {
        Some(tps) => println!(
            "  {label:<48} {tps:>8.1} tx/s; REST is {:.2} x of it",
            throughput / tps
        ),
        None => println!("  {label:<48} not measured (PostgreSQL with pgbench only)"),
    }
}

/// The floor of the write itself: one treatment recorded in this process with its statements
/// observed, then replayed by pgbench (see [`pgbench`]), `sessions` writes with as many at once
/// as the server's pool has connections (the writes that reach the database at once), each
/// treating a client of its own, all with rollers of one lot of their own. Answers
/// transactions per second and the statements in one write.
#[expect(clippy::too_many_arguments, reason = "the run's pieces")]
async fn pgbench_write_floor(
    config: &Config,
    url: &str,
    api: &HttpApi,
    admin: &str,
    physician: &str,
    clinic: &str,
    roller: &str,
    sessions: usize,
) -> Result<(f64, usize), String> {
    // As many writes at once as reach the database from the server: its pool's connections.
    let in_flight = usize::try_from(config.database_max_connections).expect("a pool size");
    let per_client = sessions.div_ceil(in_flight);
    let count = in_flight * per_client + 1;
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(365)).to_string();
    let (status, receipt) = api
        .call(
            reqwest::Method::POST,
            &format!("/v1/clinics/{clinic}/receipts"),
            admin,
            Some(&json!({"product_id": roller, "lot_number": "REPLAY-1", "expiry": expiry, "quantity": count + 10})),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let lot = receipt["lot"]["id"].as_str().expect("a lot").to_owned();
    let clients = eligible_clients(api, physician, clinic, count, "replay").await;

    let recorded = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&recorded);
    let db = skinledger::connect(config)
        .await
        .expect("database")
        .observing(move |statement| {
            if let Ok(mut recorded) = sink.lock() {
                recorded.push(statement.clone());
            }
        });
    let (app, audit) = skinledger::app(config, db.clone()).expect("app");
    let actor = app
        .authenticate(physician, None)
        .await
        .expect("the physician");
    let new: skinledger_app::treatments::NewTreatment =
        serde_json::from_value(treatment(clinic, &clients[0], roller, &lot)).expect("a treatment");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let began = chrono::Utc::now();
    recorded.lock().expect("the record").clear();
    app.create_treatment(&actor, new, None)
        .await
        .expect("recorded");
    let statements = std::mem::take(&mut *recorded.lock().expect("the record"));
    drop(app);
    audit.finish().await;
    let script = pgbench::script(&statements, began, clients[0].parse().expect("a client id"));
    let numbered: Vec<(i64, Uuid)> = clients[1..]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (client, nth) = (i / per_client, i % per_client + 1);
            (
                i64::try_from(client * 1_000_000 + nth).expect("a number"),
                id.parse().expect("a client id"),
            )
        })
        .collect();
    pgbench::prepare(db.write(), &numbered).await;
    let tps = pgbench::replay(url, &script, in_flight, per_client).await?;
    // Every replayed write took its roller, as the recorded one did.
    let balance = skinledger_store::stock::get(
        db.read(),
        actor.org_id,
        clinic.parse().expect("clinic id"),
        lot.parse().expect("lot id"),
    )
    .await
    .expect("the balance")
    .expect("a balance");
    db.close().await.expect("the pool closes");
    let taken = count + 10 - usize::try_from(balance.on_hand).expect("a count");
    if taken != count {
        return Err(format!("{taken} rollers taken by {count} writes"));
    }
    Ok((tps, script.statements))
}

/// Registers `count` clients, each screened at `clinic` with nothing to report, so that each
/// may be treated today; prints the two rates.
async fn eligible_clients(
    api: &HttpApi,
    token: &str,
    clinic: &str,
    count: usize,
    tag: &str,
) -> Vec<String> {
    let in_flight = concurrency();
    let clients = std::sync::Mutex::new(vec![String::new(); count]);
    let mut registered = measure("POST /v1/clients", count, in_flight, |i| {
        let clients = &clients;
        async move {
            let body = json!({"first_name": format!("{tag}{i}"), "last_name": "Client", "date_of_birth": "1990-05-17", "phone": format!("+49 151 {i:07}"), "email": format!("{tag}{i}@example.test")});
            let (status, body) = api
                .call(reqwest::Method::POST, "/v1/clients", token, Some(&body))
                .await;
            assert_eq!(status, 201, "{body}");
            clients.lock().expect("lock")[i] = body["id"].as_str().expect("id").to_owned();
        }
    })
    .await;
    let clients = clients.into_inner().expect("lock");
    let no = json!({"pregnant": false, "active_acne": false, "inflamed_or_infected_skin": false, "active_herpes": false, "herpes_history": false, "eczema_or_rosacea": false, "anticoagulants": false, "autoimmune_disease": false, "frequent_alcohol_use": false, "very_sensitive_skin": false});
    let mut screened = measure("POST /v1/clients/{id}/screenings", count, in_flight, |i| {
        let (clients, no) = (&clients, &no);
        async move {
            let (status, body) = api
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/clients/{}/screenings", clients[i]),
                    token,
                    Some(&json!({"clinic_id": clinic, "answers": no})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
    })
    .await;
    registered.print();
    screened.print();
    clients
}

/// A treatment of `client` at `clinic` with one roller of `lot`.
fn treatment(clinic: &str, client: &str, roller: &str, lot: &str) -> Value {
    json!({
        "clinic_id": clinic, "client_id": client, "indications": ["fine_lines_and_wrinkles"], "areas": ["full_face"],
        "device_kind": "roller", "needle_depth_mm": 0.5, "passes": 8, "endpoint": "erythema", "duration_minutes": 30,
        "consumables": [{"product_id": roller, "lot_id": lot}],
    })
}

/// What one backend reached, for the summary.
struct Reached {
    backend: String,
    p1_rest: f64,
    p1_grpc: f64,
    p2: f64,
    p2_journal: Option<f64>,
    p2_replayed: Option<f64>,
    oversold: bool,
    ready: Duration,
    rss_ready: f64,
    rss_peak: f64,
}

async fn run(backend: &str, test_db: TestDb) -> Reached {
    println!("\n{backend}");
    let in_flight = concurrency();
    let sessions = setting("BENCH_SESSIONS", 300);
    let data = tempfile::tempdir().expect("tempdir");
    let config = Config {
        database_url: test_db.url.clone(),
        data_dir: data.path().to_owned(),
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
    let (p1_rest, p1_grpc) = reads_by_id(&config, api, &physician).await;
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
        backend: backend.to_owned(),
        p1_rest,
        p1_grpc,
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
            "    P1 read    REST {:.2} x, gRPC {:.2} x the floor (goal 0.6 x)",
            r.p1_rest, r.p1_grpc
        );
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

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    println!(
        "skinledger service benchmark: {} requests in flight, {} cores",
        concurrency(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let mut reached = vec![run("SQLite (embedded default)", TestDb::sqlite().await).await];
    match TestDb::postgres().await {
        Some(db) => reached.push(run("PostgreSQL", db).await),
        None => println!("\nPostgreSQL: skipped (set SKINLEDGER_TEST_POSTGRES_URL)"),
    }
    summary(&reached);
}
