//! The harness of skinledger's black-box tests: a real server on a free port over a fresh
//! database (SQLite always, PostgreSQL when `SKINLEDGER_TEST_POSTGRES_URL` is set), called as
//! clients call it - REST with reqwest, gRPC with a tonic client generated from `proto/`.
//!
//! Organisations can only be created from the command line, so the harness creates them through
//! the same use case the CLI calls (`App::create_organization`); everything else goes over the
//! wire.

#![expect(
    clippy::expect_used,
    reason = "test harness: a step that cannot complete fails the test at that step"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use skinledger::Config;
use skinledger_app::App;
use skinledger_app::orgs::NewOrganization;
use skinledger_app::read_audit::ReadAuditTask;
use skinledger_domain::role::Role;
use skinledger_store::testing::TestDb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use uuid::Uuid;

pub mod replica;

/// The gRPC contract, as client stubs.
#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
pub mod pb {
    tonic::include_proto!("skinledger.v1");
}

/// The secret the test server signs access tokens with, so tests can forge tokens with it.
/// It is not base64, so the server uses these bytes as they are.
pub const SIGNING_KEY: &[u8] = b"e2e-signing-key:0123456789-abcdefghijklmnopqrstuv";

/// The contents of a signing key file holding [`SIGNING_KEY`]: base64, as the server requires.
pub fn signing_key_file() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(SIGNING_KEY)
}

/// Writes the signing key file at `path`, readable by its owner only (the server refuses a key
/// others may read).
pub fn write_signing_key(path: &std::path::Path) {
    std::fs::write(path, signing_key_file()).expect("the signing key is written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .expect("the signing key is the owner's alone");
    }
}
/// Another secret of the same length, for tokens the server must refuse.
pub const OTHER_KEY: &[u8] = b"e2e-other-key!!!:not-base64:0123456789-abcdefghijklmnop";
/// The `iss` the test server issues and expects.
pub const ISSUER: &str = "skinledger-e2e";
/// The `aud` the test server issues and expects.
pub const AUDIENCE: &str = "skinledger-e2e-clients";
/// The password of every account the harness creates.
pub const PASSWORD: &str = "correct-horse-battery-staple";

/// The database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the server named by `SKINLEDGER_TEST_POSTGRES_URL`.
    Postgres,
}

/// Whether the PostgreSQL test `test` runs: skipped with a line on the terminal when no server
/// is configured, or failed in CI (see `skinledger_store::testing::postgres_or_skip`).
pub fn postgres_or_skip(test: &str) -> bool {
    skinledger_store::testing::postgres_or_skip(test)
}

/// Declares each named `async fn scenario(backend: Backend)` as two tests, `scenario::sqlite`
/// and `scenario::postgres`; without a PostgreSQL server the PostgreSQL one is skipped, or fails
/// in CI (as `skinledger_store::on_both_backends!` does).
#[macro_export]
macro_rules! e2e_on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::postgres_or_skip(concat!(module_path!(), "::postgres")) {
                    return;
                }
                super::$scenario($crate::Backend::Postgres).await;
            }
        }
    )*};
}

/// Log lines of the servers under test go to the test's captured output (shown on failure);
/// `RUST_LOG` selects them, warnings by default.
fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// A running server on `127.0.0.1:<free port>` over its own fresh database.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// An HTTP client for REST calls.
    pub http: reqwest::Client,
    /// A gRPC channel to the same port.
    pub channel: Channel,
    /// The configuration it was started with.
    pub config: Config,
    /// The use cases over the same database, for what only the CLI does (creating
    /// organisations).
    pub app: App,
    /// The database (dropped, and deleted, with the server).
    pub db: TestDb,
    audit: Option<ReadAuditTask>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// An organisation created for a test, with its first administrator logged in.
#[derive(Debug, Clone)]
pub struct Org {
    /// Its id.
    pub id: Uuid,
    /// Its slug, used at login.
    pub slug: String,
    /// The first `org_admin`'s id.
    pub admin_id: Uuid,
    /// The first `org_admin`'s email.
    pub admin_email: String,
    /// An access token of the first `org_admin`.
    pub admin_token: String,
}

/// The tokens of a successful login.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The JWT access token.
    pub access: String,
    /// The refresh token, when the grant issues one.
    pub refresh: Option<String>,
}

/// A REST answer: status, headers and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Value::Null` when it is empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The problem document's `code`, when there is one.
    pub fn code(&self) -> Option<String> {
        self.json()
            .get("code")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The `field` of each entry of a 422's `errors`.
    pub fn invalid_fields(&self) -> Vec<String> {
        self.json()
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.get("field").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The `id` of a created resource.
    pub fn id(&self) -> Uuid {
        self.json()
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or_else(|| panic!("no id in {} {}", self.status, self.text()))
    }

    /// The body as text, for failure messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Panics with the body unless the status is `expected`.
    #[track_caller]
    pub fn expect_status(self, expected: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "expected {expected}, got {}: {}",
            self.status,
            self.text()
        );
        self
    }
}

/// A role grant as REST sends it.
pub fn grant(role: Role, clinic: Option<Uuid>) -> Value {
    json!({ "role": role.as_str(), "clinic_id": clinic })
}

/// A role grant as gRPC sends it.
pub fn pb_grant(role: Role, clinic: Option<Uuid>) -> pb::RoleGrant {
    pb::RoleGrant {
        role: role.as_str().to_owned(),
        clinic_id: clinic.map(|c| c.to_string()),
    }
}

/// Adds `authorization: Bearer <token>` to a gRPC request.
pub fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .expect("a token is valid metadata"),
    );
    request
}

/// The configuration of a test server on `backend` (a fresh database, a signing key and a
/// data folder in the returned temporary folder, any free port), with the database.
pub async fn test_config(backend: Backend) -> (Config, TestDb, tempfile::TempDir) {
    init_logging();
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres()
            .await
            .expect("SKINLEDGER_TEST_POSTGRES_URL is set"),
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let key_file = dir.path().join("signing.key");
    write_signing_key(&key_file);
    let config = Config {
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: db.url.clone(),
        database_max_connections: 4,
        data_dir: dir.path().join("data"),
        token_issuer: ISSUER.into(),
        token_audience: AUDIENCE.into(),
        signing_key_file: Some(key_file),
        // Tests stop servers without a load balancer to wait for.
        shutdown_grace_secs: 0,
        ..Config::default()
    };
    (config, db, dir)
}

impl TestServer {
    /// Starts a server with the test configuration.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server after `adjust` changed the test configuration.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let (mut config, db, dir) = test_config(backend).await;
        adjust(&mut config);

        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        config.listen_addr = addr;
        let (shutdown, stop) = oneshot::channel::<()>();
        let handle = tokio::spawn(skinledger::launch(config.clone(), listener, async move {
            let _ = stop.await;
        }));

        let base_url = format!("http://{addr}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        wait_until_ready(&http, &base_url, &handle).await;
        let channel = Channel::from_shared(base_url.clone())
            .expect("a gRPC endpoint")
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .expect("a gRPC connection");
        let (app, audit) =
            skinledger::app(&config, db.db.clone()).expect("the app over the test db");
        Self {
            base_url,
            addr,
            http,
            channel,
            config,
            app,
            db,
            audit: Some(audit),
            shutdown: Some(shutdown),
            handle: Some(handle),
            _dir: dir,
        }
    }

    /// Sends the server its shutdown signal (as SIGTERM would) without waiting for it to stop.
    pub fn signal_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Stops the server gracefully and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(handle) = self.handle.take() {
            let stopped = tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .expect("the server stops within 10 seconds");
            stopped
                .expect("the server task did not panic")
                .expect("the server stopped without error");
        }
        if let Some(audit) = self.audit.take() {
            audit.finish().await;
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request and collects the answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a body").to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    fn with_token(
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `GET path`, with a bearer token when given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Self::with_token(self.http.get(self.url(path)), token))
            .await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Self::with_token(self.http.delete(self.url(path)), token))
            .await
    }

    /// `method path` with a JSON body.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Answer {
        self.send(Self::with_token(
            self.http.request(method, self.url(path)).json(body),
            token,
        ))
        .await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.json(reqwest::Method::POST, path, token, body).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.json(reqwest::Method::PATCH, path, token, body).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.json(reqwest::Method::PUT, path, token, body).await
    }

    /// `POST /v1/auth/token` with the password grant.
    pub async fn password_grant(&self, org: &str, email: &str, password: &str) -> Answer {
        self.post(
            "/v1/auth/token",
            None,
            &json!({ "grant_type": "password", "org": org, "email": email, "password": password }),
        )
        .await
    }

    /// Logs in with a password over REST; panics unless it succeeds.
    pub async fn login(&self, org: &str, email: &str, password: &str) -> Tokens {
        let answer = self
            .password_grant(org, email, password)
            .await
            .expect_status(200);
        tokens_of(&answer.json())
    }

    /// Creates an organisation (as `skinledger org create` does) and logs its admin in.
    pub async fn create_org(&self, slug: &str) -> Org {
        let admin_email = format!("admin@{slug}.test");
        let org = self
            .app
            .create_organization(NewOrganization {
                slug: slug.into(),
                name: format!("{slug} clinics"),
                admin_email: admin_email.clone(),
                admin_password: PASSWORD.into(),
            })
            .await
            .expect("the organisation is created");
        let tokens = self.login(slug, &admin_email, PASSWORD).await;
        Org {
            id: org.id,
            slug: org.slug,
            admin_id: org.admin_id,
            admin_email,
            admin_token: tokens.access,
        }
    }

    /// Opens a clinic over REST as `token`'s holder.
    pub async fn create_clinic(&self, token: &str, name: &str) -> Uuid {
        self.post("/v1/clinics", Some(token), &json!({ "name": name }))
            .await
            .expect_status(201)
            .id()
    }

    /// Adds a staff member with `roles` over REST; their password is [`PASSWORD`].
    pub async fn create_staff(&self, token: &str, email: &str, roles: &[Value]) -> Uuid {
        self.post(
            "/v1/staff",
            Some(token),
            &json!({ "email": email, "name": email.split('@').next().unwrap_or(email), "password": PASSWORD, "roles": roles }),
        )
        .await
        .expect_status(201)
        .id()
    }

    /// Creates an API client over REST; answers its id, client id and secret.
    pub async fn create_api_client(&self, token: &str, roles: &[Value]) -> (Uuid, String, String) {
        let answer = self
            .post(
                "/v1/api-clients",
                Some(token),
                &json!({ "name": "Booking system", "roles": roles }),
            )
            .await
            .expect_status(201);
        let body = answer.json();
        let text = |field: &str| {
            body.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("no {field} in {body}"))
        };
        (answer.id(), text("client_id"), text("client_secret"))
    }

    /// The `AuthService` client.
    pub fn auth_grpc(&self) -> pb::auth_service_client::AuthServiceClient<Channel> {
        pb::auth_service_client::AuthServiceClient::new(self.channel.clone())
    }

    /// The `OrganizationService` client.
    pub fn org_grpc(&self) -> pb::organization_service_client::OrganizationServiceClient<Channel> {
        pb::organization_service_client::OrganizationServiceClient::new(self.channel.clone())
    }

    /// The `AuditService` client.
    pub fn audit_grpc(&self) -> pb::audit_service_client::AuditServiceClient<Channel> {
        pb::audit_service_client::AuditServiceClient::new(self.channel.clone())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The tokens in a token answer.
pub fn tokens_of(body: &Value) -> Tokens {
    Tokens {
        access: body
            .get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no access_token in {body}")),
        refresh: body
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

async fn wait_until_ready(
    http: &reqwest::Client,
    base_url: &str,
    server: &JoinHandle<anyhow::Result<()>>,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(!server.is_finished(), "the server stopped while starting");
        if let Ok(response) = http.get(format!("{base_url}/readyz")).send().await
            && response.status() == StatusCode::OK
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server was not ready within 30 seconds"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `skinledger` binary, built by cargo when missing or out of date. Tests in another
/// package have no `CARGO_BIN_EXE_skinledger`, so it is found next to the test executable
/// (`<target>/<profile>/deps/<test>` puts it at `<target>/<profile>/skinledger`).
pub fn server_binary() -> PathBuf {
    static BUILD: Once = Once::new();
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable lives in <target>/<profile>/deps")
        .to_owned();
    let binary = profile_dir.join(format!("skinledger{}", std::env::consts::EXE_SUFFIX));
    BUILD.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut command = std::process::Command::new(cargo);
        command.args([
            "build",
            "--quiet",
            "-p",
            "skinledger",
            "--bin",
            "skinledger",
        ]);
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some(profile) => {
                command.args(["--profile", profile]);
            }
        }
        if std::env::var_os("CARGO_TARGET_DIR").is_none()
            && let Some(target_dir) = profile_dir.parent()
        {
            command.arg("--target-dir").arg(target_dir);
        }
        // Cargo sets these for the test run; passed on, they would make build scripts that
        // watch them (ring's, for one) rerun, and the next ordinary build rerun them again.
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text == "OUT_DIR"
                || key_text.starts_with("CARGO_PKG_")
                || key_text.starts_with("CARGO_BIN_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&key_text.as_ref())
            {
                command.env_remove(&key);
            }
        }
        command.current_dir(env!("CARGO_MANIFEST_DIR"));
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "cargo build -p skinledger failed");
    });
    assert!(binary.exists(), "{} was not built", binary.display());
    binary
}
