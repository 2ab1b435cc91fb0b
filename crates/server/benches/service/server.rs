//! The skinledger binary running as a process of its own, and its REST and gRPC clients.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use skinledger::Config;
use skinledger_api::grpc::pb;
use tonic::codegen::http::uri::PathAndQuery;
use tonic_prost::prost::Message;

/// The `skinledger` binary running as a process of its own.
pub(crate) struct Server {
    pub(crate) child: tokio::process::Child,
    pub(crate) api: HttpApi,
}

impl Server {
    /// Starts `skinledger serve` (seeding the demo with `demo`) and waits until it is ready;
    /// answers the server and how long it took to be ready.
    pub(crate) async fn start(config: &Config, demo: bool) -> (Server, Duration) {
        let port = free_port();
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
        if config.worker_threads > 0 {
            command.env(
                "SKINLEDGER_WORKER_THREADS",
                config.worker_threads.to_string(),
            );
        }
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
    pub(crate) fn memory(&self) -> (f64, f64) {
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

    /// The CPU time the server has used so far, user and system (`/proc/<pid>/stat`).
    pub(crate) fn cpu(&self) -> Duration {
        let pid = self.child.id().expect("running");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("its stat");
        // The fields after the command's name: state is the first, utime the 12th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11..13]
            .iter()
            .map(|t| t.parse::<u64>().expect("clock ticks"))
            .sum();
        Duration::from_secs_f64(ticks as f64 / clock_ticks())
    }

    pub(crate) fn print_memory(&self, when: &str) {
        let (now, peak) = self.memory();
        println!(
            "  {:<48} now {now:.1} MiB, peak {peak:.1} MiB",
            format!("server resident memory {when}")
        );
    }

    pub(crate) async fn stop(mut self) {
        terminate(&mut self.child).await;
    }
}

/// A port of this machine no one listens on.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Stops `child` as an operator would, with SIGTERM (a server that forks workers stops them
/// too), and waits up to 30 s for it.
pub(crate) async fn terminate(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = tokio::process::Command::new("kill")
            .arg(pid.to_string())
            .status()
            .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
}

/// Clock ticks a second, as `/proc` counts CPU time (asked of `getconf` once).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// gRPC clients of the server, one HTTP/2 connection per request in flight.
pub(crate) struct GrpcApi {
    pub(crate) channels: Vec<tonic::client::Grpc<tonic::transport::Channel>>,
    pub(crate) bearer: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
}

impl GrpcApi {
    pub(crate) async fn connect(api: &HttpApi, token: &str, connections: usize) -> Self {
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

    pub(crate) async fn get_client(&self, i: usize, id: String) {
        assert!(self.client(i, id).await.encoded_len() > 0);
    }

    /// The client `id` as `GetClient` answers it, on the `i`th connection.
    pub(crate) async fn client(&self, i: usize, id: String) -> pb::Client {
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
        answer.into_inner()
    }
}

/// The server under measurement, over HTTP.
pub(crate) struct HttpApi {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

impl HttpApi {
    pub(crate) async fn call(
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

    pub(crate) async fn login(&self, email: &str) -> String {
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
