//! A test server on a free port over a fresh database, and the calls tests make to it.

use std::net::SocketAddr;
use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use skinledger::Config;
use skinledger_app::App;
use skinledger_app::orgs::NewOrganization;
use skinledger_app::read_audit::ReadAuditTask;
use skinledger_store::testing::TestDb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::answers::{Answer, Org, Tokens, tokens_of};
use crate::{AUDIENCE, Backend, ISSUER, PASSWORD, pb, write_signing_key};

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
