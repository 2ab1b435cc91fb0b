//! Measures the running service as its clients use it, and prints the figures.
//!
//! `cargo bench -p skinledger --bench service` runs it on SQLite, and on PostgreSQL too when
//! `SKINLEDGER_TEST_POSTGRES_URL` is set. It starts the real server on a free port with the demo
//! organisation, then measures over HTTP: logins, an authenticated read under concurrency,
//! client registration, treatment recording (eligibility, first-expiry-first-out consumption and
//! the ledger in one transaction) and the trace of a recalled lot that touched every client.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program"
)]

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};
use skinledger::Config;
use skinledger_store::testing::TestDb;

const SESSIONS: usize = 300;
const CONCURRENCY: usize = 8;

struct Figures {
    label: String,
    latencies: Vec<Duration>,
    wall: Duration,
}

impl Figures {
    fn print(&mut self) {
        self.latencies.sort();
        let n = self.latencies.len().max(1);
        let at = |q: f64| self.latencies[((n as f64 * q) as usize).min(n - 1)];
        println!(
            "  {:<40} {:>6} requests  {:>8.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            self.label,
            self.latencies.len(),
            self.latencies.len() as f64 / self.wall.as_secs_f64(),
            at(0.50).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
        );
    }
}

/// Runs `total` calls of `call(i)` with `CONCURRENCY` in flight, timing each.
async fn measure<F, Fut>(label: &str, total: usize, call: F) -> Figures
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(total);
    let mut next = 0;
    while next < total {
        let batch: Vec<_> = (next..(next + CONCURRENCY).min(total))
            .map(|i| {
                let fut = call(i);
                async move {
                    let t = Instant::now();
                    fut.await;
                    t.elapsed()
                }
            })
            .collect();
        next += batch.len();
        latencies.extend(join_all(batch).await);
    }
    Figures {
        label: label.into(),
        latencies,
        wall: started.elapsed(),
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
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
    let server = tokio::spawn(skinledger::launch(config, listener, async {
        let _ = stopped.await;
    }));
    let client = Client {
        http: reqwest::Client::new(),
        base,
    };
    for _ in 0..100 {
        if client
            .http
            .get(format!("{}/readyz", client.base))
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
        client.login("nurse@demo.test").await;
        latencies.push(t.elapsed());
    }
    Figures {
        label: "password login (argon2id), sequential".into(),
        latencies,
        wall: started.elapsed(),
    }
    .print();

    let physician = client.login("physician@demo.test").await;
    let admin = client.login("admin@demo.test").await;
    let mut me = measure("GET /v1/me", 2000, |_| async {
        let (status, _) = client
            .call(reqwest::Method::GET, "/v1/me", &physician, None)
            .await;
        assert_eq!(status, 200);
    })
    .await;
    me.print();

    let (_, clinics) = client
        .call(reqwest::Method::GET, "/v1/clinics", &admin, None)
        .await;
    let mitte = clinics["items"][0]["id"]
        .as_str()
        .expect("a clinic")
        .to_owned();
    let (_, products) = client
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
    let (status, receipt) = client
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
        let (client, physician, clients) = (&client, &physician, &clients);
        async move {
            let (status, body) = client
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
        let (client, physician, clients, no, mitte) = (&client, &physician, &clients, &no, &mitte);
        async move {
            let (status, body) = client
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
        let (client, physician, clients, mitte, roller, lot) = (&client, &physician, &clients, &mitte, &roller, &lot);
        async move {
            let body = json!({
                "clinic_id": mitte, "client_id": clients[i], "indications": ["fine_lines_and_wrinkles"], "areas": ["full_face"],
                "device_kind": "roller", "needle_depth_mm": 0.5, "passes": 8, "endpoint": "erythema", "duration_minutes": 30,
                "consumables": [{"product_id": roller, "lot_id": lot}],
            });
            let (status, answer) = client.call(reqwest::Method::POST, "/v1/treatments", physician, Some(&body)).await;
            assert_eq!(status, 201, "{answer}");
        }
    })
    .await;
    treated.print();

    let (status, _) = client
        .call(
            reqwest::Method::POST,
            &format!("/v1/lots/{lot}/recall"),
            &admin,
            Some(&json!({"reason": "benchmark recall"})),
        )
        .await;
    assert_eq!(status, 200);
    let mut traced = measure("GET /v1/lots/{id}/trace (JSON)", 20, |_| {
        let (client, admin, lot) = (&client, &admin, &lot);
        async move {
            let (status, body) = client
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
    let csv = client
        .http
        .get(format!("{}/v1/lots/{lot}/trace", client.base))
        .bearer_auth(&admin)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("text");
    println!(
        "  {:<40} {:>6} lines     {:>8.2} ms",
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
    println!("skinledger service benchmark: {SESSIONS} sessions, {CONCURRENCY} requests in flight");
    run("SQLite (embedded default)", TestDb::sqlite().await).await;
    match TestDb::postgres().await {
        Some(db) => run("PostgreSQL", db).await,
        None => println!("\nPostgreSQL: skipped (set SKINLEDGER_TEST_POSTGRES_URL)"),
    }
}
