//! Measures the running service as its clients use it, and prints the figures.
//!
//! `cargo bench -p skinledger --bench service` runs it on SQLite, and on PostgreSQL too when
//! `SKINLEDGER_TEST_POSTGRES_URL` is set. It starts the real server on a free port with the demo
//! organisation, then measures over HTTP: logins, authenticated reads under concurrency,
//! client registration, treatment recording (eligibility, first-expiry-first-out consumption and
//! the ledger in one transaction) and the trace of a recalled lot that touched every client.
//!
//! The authenticated read of one client by id is measured over REST and over gRPC, next to its
//! floor measured in the same run: the same `SELECT` through the same driver and pool settings,
//! with as many tasks in flight and no HTTP, token or permission check. The ratios say how
//! much the service adds to what the database itself takes.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program"
)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use skinledger::Config;
use skinledger_api::grpc::pb;
use skinledger_store::testing::TestDb;
use tonic::codegen::http::uri::PathAndQuery;
use uuid::Uuid;

const SESSIONS: usize = 300;
const CONCURRENCY: usize = 8;
/// Reads of one client by id, per transport and for the floor.
const READS: usize = 5000;
/// Reads before each measurement, to open connections and fill caches.
const WARM_UP: usize = 500;

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

    /// How `self` compares with `base`: its throughput as a share of `base`'s, its p99 as a
    /// multiple of `base`'s.
    fn print_against(&mut self, name: &str, base: &mut Figures) {
        println!(
            "  {name:<48} throughput {:>5.2} x   p99 {:>5.2} x",
            self.throughput() / base.throughput(),
            self.at(0.99).as_secs_f64() / base.at(0.99).as_secs_f64(),
        );
    }
}

/// Runs `total` calls of `call(i)`, keeping `CONCURRENCY` in flight, timing each.
async fn measure<F, Fut>(label: &str, total: usize, call: F) -> Figures
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
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    Figures {
        label: label.into(),
        latencies,
        wall: started.elapsed(),
    }
}

/// Measures the authenticated read of one client by id over REST and gRPC, and its floor.
async fn reads_by_id(config: &Config, api: &HttpApi, token: &str) {
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
    measure("", WARM_UP, select).await;
    let mut floor = measure("floor: the same SELECT, no HTTP", READS, select).await;

    let path = format!("/v1/clients/{id}");
    let rest_read = |_| {
        let path = &path;
        async move {
            let (status, _) = api.call(reqwest::Method::GET, path, token, None).await;
            assert_eq!(status, 200);
        }
    };
    measure("", WARM_UP, rest_read).await;
    let mut rest = measure("REST GET /v1/clients/{id}", READS, rest_read).await;

    let channel = tonic::transport::Channel::from_shared(api.base.clone())
        .expect("a URI")
        .connect()
        .await
        .expect("a gRPC channel");
    let grpc = tonic::client::Grpc::new(channel);
    let bearer: tonic::metadata::MetadataValue<_> =
        format!("Bearer {token}").parse().expect("metadata");
    let grpc_read = |_| {
        let (mut grpc, bearer, id) = (grpc.clone(), bearer.clone(), id.clone());
        async move {
            let mut request = tonic::Request::new(pb::GetClientRequest { id });
            request.metadata_mut().insert("authorization", bearer);
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
    };
    measure("", WARM_UP, grpc_read).await;
    let mut grpc = measure("gRPC GetClient", READS, grpc_read).await;
    db.close().await.expect("the floor's pool closes");

    floor.print();
    rest.print();
    grpc.print();
    rest.print_against("REST / floor", &mut floor);
    grpc.print_against("gRPC / floor", &mut floor);
    grpc.print_against("gRPC / REST", &mut rest);
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

async fn run(backend: &str, test_db: TestDb) {
    println!("\n{backend}");
    let data = tempfile::tempdir().expect("tempdir");
    let config = Config {
        listen_addr: "127.0.0.1:0".parse().expect("address"),
        database_url: test_db.url.clone(),
        data_dir: data.path().to_owned(),
        ..Config::default()
    };
    {
        let db = skinledger::connect(&config).await.expect("database");
        let (app, audit) = skinledger::app(&config, db).expect("app");
        skinledger::demo::seed(&app).await.expect("demo seeded");
        drop(app);
        audit.finish().await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(skinledger::launch(config.clone(), listener, async {
        let _ = stopped.await;
    }));
    let api = HttpApi {
        http: reqwest::Client::new(),
        base,
    };
    for _ in 0..100 {
        if api
            .http
            .get(format!("{}/readyz", api.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

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
    let mut me = measure("GET /v1/me", 2000, |_| async {
        let (status, _) = api
            .call(reqwest::Method::GET, "/v1/me", &physician, None)
            .await;
        assert_eq!(status, 200);
    })
    .await;
    me.print();
    reads_by_id(&config, &api, &physician).await;

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
    let (status, receipt) = api
        .call(
            reqwest::Method::POST,
            &format!("/v1/clinics/{mitte}/receipts"),
            &admin,
            Some(&json!({"product_id": roller, "lot_number": "BENCH-1", "expiry": expiry, "quantity": SESSIONS + 10})),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let lot = receipt["lot"]["id"].as_str().expect("a lot").to_owned();

    let clients = std::sync::Mutex::new(vec![String::new(); SESSIONS]);
    let mut registered = measure("POST /v1/clients", SESSIONS, |i| {
        let (api, physician, clients) = (&api, &physician, &clients);
        async move {
            let (status, body) = api
                .call(
                    reqwest::Method::POST,
                    "/v1/clients",
                    physician,
                    Some(&json!({"first_name": format!("Bench{i}"), "last_name": "Client", "date_of_birth": "1990-05-17", "phone": format!("+49 151 {i:07}"), "email": format!("bench{i}@example.test")})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            clients.lock().expect("lock")[i] = body["id"].as_str().expect("id").to_owned();
        }
    })
    .await;
    registered.print();
    let clients = clients.into_inner().expect("lock");

    let no = json!({"pregnant": false, "active_acne": false, "inflamed_or_infected_skin": false, "active_herpes": false, "herpes_history": false, "eczema_or_rosacea": false, "anticoagulants": false, "autoimmune_disease": false, "frequent_alcohol_use": false, "very_sensitive_skin": false});
    let mut screened = measure("POST /v1/clients/{id}/screenings", SESSIONS, |i| {
        let (api, physician, clients, no, mitte) = (&api, &physician, &clients, &no, &mitte);
        async move {
            let (status, body) = api
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/clients/{}/screenings", clients[i]),
                    physician,
                    Some(&json!({"clinic_id": mitte, "answers": no})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
    })
    .await;
    screened.print();

    let mut treated = measure("POST /v1/treatments (with consumption)", SESSIONS, |i| {
        let (api, physician, clients, mitte, roller, lot) = (&api, &physician, &clients, &mitte, &roller, &lot);
        async move {
            let body = json!({
                "clinic_id": mitte, "client_id": clients[i], "indications": ["fine_lines_and_wrinkles"], "areas": ["full_face"],
                "device_kind": "roller", "needle_depth_mm": 0.5, "passes": 8, "endpoint": "erythema", "duration_minutes": 30,
                "consumables": [{"product_id": roller, "lot_id": lot}],
            });
            let (status, answer) = api.call(reqwest::Method::POST, "/v1/treatments", physician, Some(&body)).await;
            assert_eq!(status, 201, "{answer}");
        }
    })
    .await;
    treated.print();

    let (status, _) = api
        .call(
            reqwest::Method::POST,
            &format!("/v1/lots/{lot}/recall"),
            &admin,
            Some(&json!({"reason": "benchmark recall"})),
        )
        .await;
    assert_eq!(status, 200);
    let mut traced = measure("GET /v1/lots/{id}/trace (JSON)", 20, |_| {
        let (api, admin, lot) = (&api, &admin, &lot);
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
            assert_eq!(body["treatments"].as_array().map(Vec::len), Some(SESSIONS));
        }
    })
    .await;
    traced.label = format!("GET /v1/lots/{{id}}/trace, {SESSIONS} clients (JSON)");
    traced.print();
    let started = Instant::now();
    let csv = api
        .http
        .get(format!("{}/v1/lots/{lot}/trace", api.base))
        .bearer_auth(&admin)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("text");
    println!(
        "  {:<48} {:>6} lines     {:>8.2} ms",
        "GET /v1/lots/{id}/trace (CSV)",
        csv.lines().count(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("server stopped cleanly");
    drop(test_db);
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    println!(
        "skinledger service benchmark: {SESSIONS} sessions, {CONCURRENCY} requests in flight, {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    run("SQLite (embedded default)", TestDb::sqlite().await).await;
    match TestDb::postgres().await {
        Some(db) => run("PostgreSQL", db).await,
        None => println!("\nPostgreSQL: skipped (set SKINLEDGER_TEST_POSTGRES_URL)"),
    }
}
