//! Webhooks: deliveries signed as the Standard Webhooks specification says (checked by a
//! verifier written here from the specification), retried until they succeed and then never
//! again, given up with the endpoint disabled and a `webhook.disabled` event when the receiver
//! is dead, one at a time in sequence order per endpoint, never to private addresses unless
//! allowed, never following a redirect, never carrying clinical content; managed by
//! `org_admin` only, within one organisation. Receivers are real HTTP servers on 127.0.0.1.
//! Every scenario runs on SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

#[path = "../clinical_support/mod.rs"]
pub mod clinical_support;
mod delivery;
mod destinations;
#[path = "../inventory_support/mod.rs"]
pub mod inventory_support;
mod management;
mod payloads;
mod signatures;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use skinledger_app::webhooks::{DeliveryQuery, NewWebhook, Webhook, WebhookDelivery};
use skinledger_app::{Actor, App, AppSettings, PageParams};
use uuid::Uuid;

/// Settings for webhooks to a receiver on this machine, retried quickly.
fn local(settings: &mut AppSettings) {
    settings.webhooks.allow_private_addresses = true;
    settings.webhooks.timeout = Duration::from_secs(5);
    settings.webhooks.retry_base = Duration::from_millis(20);
    settings.webhooks.retry_window = Duration::from_secs(600);
}

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

type Plan = dyn Fn(usize) -> Response + Send + Sync;

/// A receiver: a real HTTP server on 127.0.0.1 answering each request by `plan`, given how
/// many times it saw that `webhook-id` before.
struct Receiver {
    url: String,
    log: Arc<Mutex<Vec<Received>>>,
    most_at_once: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone)]
struct ReceiverState {
    log: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Plan>,
    now: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
}

/// Counts a request under way until it is answered (or dropped).
struct UnderWay(Arc<AtomicUsize>);

impl Drop for UnderWay {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn receive(
    axum::extract::State(state): axum::extract::State<ReceiverState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let at_once = state.now.fetch_add(1, Ordering::SeqCst) + 1;
    let _under_way = UnderWay(state.now.clone());
    state.most_at_once.fetch_max(at_once, Ordering::SeqCst);
    // Long enough for a second request to overlap, were one made.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let received = Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    };
    let seen = {
        let mut log = state.log.lock().expect("log");
        let seen = log.iter().filter(|r| r.id == received.id).count();
        log.push(received);
        seen
    };
    (state.plan)(seen)
}

impl Receiver {
    async fn start(plan: impl Fn(usize) -> Response + Send + Sync + 'static) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let state = ReceiverState {
            log: log.clone(),
            plan: Arc::new(plan),
            now: Arc::new(AtomicUsize::new(0)),
            most_at_once: most_at_once.clone(),
        };
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("an address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url: format!("http://{addr}/hook"),
            log,
            most_at_once,
            server,
        }
    }

    async fn accepting() -> Self {
        Self::start(|_| StatusCode::NO_CONTENT.into_response()).await
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().expect("log").clone()
    }
}

/// Runs the app's webhook worker until dropped.
struct Worker(tokio::task::JoinHandle<()>);

impl Worker {
    fn start(app: &App) -> Self {
        Self(tokio::spawn(
            app.webhook_worker().run(std::future::pending::<()>()),
        ))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Waits (at most a minute) until `done` holds.
async fn until<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn register(app: &App, admin: &Actor, url: &str) -> Webhook {
    app.create_webhook(
        admin,
        NewWebhook {
            url: url.to_owned(),
            event_types: Vec::new(),
            description: Some("test receiver".into()),
        },
    )
    .await
    .expect("webhook registered")
}

async fn deliveries(app: &App, admin: &Actor, webhook: Uuid) -> Vec<WebhookDelivery> {
    app.list_webhook_deliveries(
        admin,
        webhook,
        &DeliveryQuery {
            status: None,
            page: PageParams {
                limit: Some(200),
                cursor: None,
            },
        },
    )
    .await
    .expect("deliveries")
    .items
}
