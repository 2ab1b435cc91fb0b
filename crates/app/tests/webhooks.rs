//! Webhooks: deliveries signed as the Standard Webhooks specification says (checked by a
//! verifier written here from the specification), retried until they succeed and then never
//! again, given up with the endpoint disabled and a `webhook.disabled` event when the receiver
//! is dead, one at a time in sequence order per endpoint, never to private addresses unless
//! allowed, never following a redirect, never carrying clinical content; managed by
//! `org_admin` only, within one organisation. Receivers are real HTTP servers on 127.0.0.1.
//! Every scenario runs on SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

pub mod clinical_support;
pub mod inventory_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use clinical_support::{World, new_client, today};
use hmac::{Hmac, Mac};
use inventory_support::{one_of, treatment_using};
use sha2::Sha256;
use skinledger_app::audit::AuditOutcome;
use skinledger_app::events::FeedQuery;
use skinledger_app::treatments::{NewAddendum, NewAdverseEvent};
use skinledger_app::webhooks::{
    AttemptOutcome, DeliveryQuery, DeliveryStatus, NewWebhook, Webhook, WebhookChanges,
    WebhookDelivery, WebhookReplay,
};
use skinledger_app::{Actor, App, AppSettings, Error, ErrorCode, PageParams};
use skinledger_domain::clinical::{AdverseEventKind, Severity};
use skinledger_domain::events::EventType;
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;
use skinledger_store::audit::AuditFilter;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    deliveries_are_signed_as_the_standard_webhooks_specification_says,
    a_failing_receiver_gets_the_event_until_it_succeeds_and_then_never_again,
    a_dead_receiver_gets_its_endpoint_disabled_with_an_event,
    an_endpoint_gets_its_events_one_at_a_time_in_order,
    private_addresses_are_refused_unless_the_configuration_allows_them,
    a_redirect_is_not_followed_and_counts_as_a_failure,
    payloads_never_carry_clinical_content,
    only_org_admin_manages_webhooks_within_their_organisation,
    a_retry_and_a_replay_deliver_again_under_the_same_id,
);

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

/// The Standard Webhooks verification, from the specification: the secret is the base64 after
/// `whsec_`; the signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the header holds
/// space-separated `v1,<base64 HMAC-SHA256>` signatures, one of which must match; the
/// timestamp must be within five minutes of now.
fn verify(secret: &str, received: &Received) -> bool {
    let Some(key) = secret
        .strip_prefix("whsec_")
        .and_then(|k| STANDARD.decode(k).ok())
    else {
        return false;
    };
    let Ok(timestamp) = received.timestamp.parse::<i64>() else {
        return false;
    };
    if (Utc::now().timestamp() - timestamp).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    received
        .signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

async fn deliveries_are_signed_as_the_standard_webhooks_specification_says(db: Db) {
    let w = World::with_settings(db.clone(), local).await;
    let admin = &w.org.admin;
    let receiver = Receiver::accepting().await;
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, admin, &receiver.url).await;
    let secret = hook.secret.clone().expect("the secret, once");
    assert!(secret.starts_with("whsec_"));
    // Shown once: never again.
    assert_eq!(
        w.app.get_webhook(admin, hook.id).await.expect("get").secret,
        None
    );
    let listed = w
        .app
        .list_webhooks(admin, &PageParams::default())
        .await
        .expect("list");
    assert!(listed.items.iter().all(|h| h.secret.is_none()));
    // The database holds no usable copy.
    let row = skinledger_store::webhooks::get(db.read(), w.org.admin.org_id, hook.id)
        .await
        .expect("read")
        .expect("stored");
    assert!(!row.secret_sealed.contains(&secret["whsec_".len()..]));

    let client = w.client(admin, "Ada", "Lovelace").await;
    until("the event is delivered", || async {
        !receiver.received().is_empty()
    })
    .await;
    let got = receiver.received().remove(0);
    assert!(
        verify(&secret, &got),
        "the signature does not verify: {got:?}"
    );
    let tampered = Received {
        body: got.body.replace("client.created", "client.updated"),
        ..got.clone()
    };
    assert!(!verify(&secret, &tampered));

    let event = w
        .app
        .list_events(admin, &FeedQuery::default())
        .await
        .expect("feed")
        .items
        .into_iter()
        .find(|e| e.client_id == Some(client.id))
        .expect("the event in the feed");
    assert_eq!(got.id, event.id.to_string(), "webhook-id is the event's id");
    let body: serde_json::Value = serde_json::from_str(&got.body).expect("JSON");
    assert_eq!(body["type"], "client.created");
    assert_eq!(
        body["data"],
        serde_json::to_value(&event).expect("JSON"),
        "data is the event as the feed shows it"
    );
    assert!(body["timestamp"].is_string());
    until("the delivery is recorded", || async {
        deliveries(&w.app, admin, hook.id)
            .await
            .iter()
            .any(|d| d.status == DeliveryStatus::Delivered)
    })
    .await;
}

async fn a_failing_receiver_gets_the_event_until_it_succeeds_and_then_never_again(db: Db) {
    let w = World::with_settings(db, local).await;
    let admin = &w.org.admin;
    let receiver = Receiver::start(|seen| {
        if seen < 3 {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        } else {
            StatusCode::OK.into_response()
        }
    })
    .await;
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, admin, &receiver.url).await;
    w.client(admin, "Ada", "Lovelace").await;
    until("the event is delivered", || async {
        deliveries(&w.app, admin, hook.id)
            .await
            .iter()
            .any(|d| d.status == DeliveryStatus::Delivered)
    })
    .await;
    let first = deliveries(&w.app, admin, hook.id).await.remove(0);
    let outcomes: Vec<(AttemptOutcome, Option<u16>)> = first
        .attempts
        .iter()
        .map(|a| (a.outcome, a.status_code))
        .collect();
    assert_eq!(
        outcomes,
        [
            (AttemptOutcome::HttpError, Some(500)),
            (AttemptOutcome::HttpError, Some(500)),
            (AttemptOutcome::HttpError, Some(500)),
            (AttemptOutcome::Success, Some(200)),
        ]
    );
    assert!(first.attempts.iter().all(|a| a.latency_ms >= 0));
    assert!(first.next_attempt_at.is_none() && first.finished_at.is_some());

    // The next event goes out only after the first was delivered (per-endpoint order), so once
    // it has arrived, the first was not sent again.
    w.client(admin, "Grace", "Hopper").await;
    until("the second event arrives", || async {
        receiver
            .received()
            .iter()
            .any(|r| r.id != first.event_id.to_string())
    })
    .await;
    let ids: Vec<String> = receiver.received().into_iter().map(|r| r.id).collect();
    let first_id = first.event_id.to_string();
    assert_eq!(
        ids.iter().filter(|id| **id == first_id).count(),
        4,
        "three failures and one success: {ids:?}"
    );
    assert_eq!(
        ids[..4],
        [
            first_id.clone(),
            first_id.clone(),
            first_id.clone(),
            first_id
        ]
    );
}

async fn a_dead_receiver_gets_its_endpoint_disabled_with_an_event(db: Db) {
    let w = World::with_settings(db, |s| {
        local(s);
        s.webhooks.retry_window = Duration::from_millis(800);
    })
    .await;
    let admin = &w.org.admin;
    // A port nothing listens on any more.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address")
    };
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, admin, &format!("http://{dead}/hook")).await;
    w.client(admin, "Ada", "Lovelace").await;
    until("the endpoint is disabled", || async {
        !w.app
            .get_webhook(admin, hook.id)
            .await
            .expect("get")
            .enabled
    })
    .await;
    let disabled = w.app.get_webhook(admin, hook.id).await.expect("get");
    assert!(disabled.disabled_at.is_some());
    let reason = disabled.disabled_reason.expect("a reason");
    assert!(reason.contains("failed"), "{reason}");

    let delivery = deliveries(&w.app, admin, hook.id).await.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert!(delivery.attempts.len() >= 2, "{delivery:?}");
    assert!(
        delivery
            .attempts
            .iter()
            .all(|a| a.outcome == AttemptOutcome::ConnectionError)
    );
    let feed = w
        .app
        .list_events(admin, &FeedQuery::default())
        .await
        .expect("feed");
    let announced = feed
        .items
        .iter()
        .find(|e| e.event_type == EventType::WebhookDisabled)
        .expect("a webhook.disabled event");
    assert_eq!(announced.subject_id, Some(hook.id));
    let audit = w
        .app
        .list_audit_events(
            admin,
            &AuditFilter {
                action: Some("webhook.disable".into()),
                ..AuditFilter::default()
            },
            &PageParams::default(),
        )
        .await
        .expect("audit");
    assert_eq!(audit.items.len(), 1);

    // Enabled again, it resumes.
    let enabled = w
        .app
        .update_webhook(
            admin,
            hook.id,
            WebhookChanges {
                enabled: Some(true),
                ..WebhookChanges::default()
            },
        )
        .await
        .expect("enabled");
    assert!(enabled.enabled && enabled.disabled_reason.is_none());
}

async fn an_endpoint_gets_its_events_one_at_a_time_in_order(db: Db) {
    let w = World::with_settings(db, local).await;
    let admin = &w.org.admin;
    // Every event fails once before it is accepted.
    let receiver = Receiver::start(|seen| {
        if seen == 0 {
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        } else {
            StatusCode::OK.into_response()
        }
    })
    .await;
    let hook = register(&w.app, admin, &receiver.url).await;
    for i in 0..6 {
        w.client(admin, "Client", &format!("Number{i}")).await;
    }
    let _worker = Worker::start(&w.app);
    until("six events are delivered", || async {
        deliveries(&w.app, admin, hook.id)
            .await
            .iter()
            .filter(|d| d.status == DeliveryStatus::Delivered)
            .count()
            == 6
    })
    .await;
    let by_id: BTreeMap<String, i64> = deliveries(&w.app, admin, hook.id)
        .await
        .into_iter()
        .map(|d| (d.event_id.to_string(), d.seq))
        .collect();
    let seqs: Vec<i64> = receiver.received().iter().map(|r| by_id[&r.id]).collect();
    let mut expected: Vec<i64> = by_id.values().flat_map(|s| [*s, *s]).collect();
    expected.sort_unstable();
    assert_eq!(seqs, expected, "each event twice, in sequence order");
    assert_eq!(receiver.most_at_once.load(Ordering::SeqCst), 1);
}

async fn private_addresses_are_refused_unless_the_configuration_allows_them(db: Db) {
    // The server as configured by default: public addresses only.
    let strict = World::new(db.clone()).await;
    let admin = &strict.org.admin;
    let receiver = Receiver::accepting().await;
    let port = receiver.url.split(':').nth(2).expect("a port").to_owned();
    for url in [
        receiver.url.clone(),
        format!("http://localhost:{port}"),
        "http://[::1]/hook".to_owned(),
        "http://10.0.0.1/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "ftp://example.com/hook".to_owned(),
    ] {
        let refused = strict
            .app
            .create_webhook(
                admin,
                NewWebhook {
                    url: url.clone(),
                    event_types: Vec::new(),
                    description: None,
                },
            )
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), ErrorCode::ValidationFailed, "{url}");
        assert!(matches!(&refused, Error::Invalid(e) if e.0.iter().any(|f| f.field == "url")));
    }

    // Allowed by configuration, it is registered; by one address, only that one is.
    let one = World::named(db.clone(), "other", |s| {
        s.webhooks.allowed_addresses = vec!["127.0.0.1".parse().expect("an address")];
    })
    .await;
    let other = &one.org;
    let hook = register(&one.app, &other.admin, &receiver.url).await;
    assert!(hook.enabled);

    // A server that does not allow it refuses to deliver there, and sends nothing.
    let _worker = Worker::start(&strict.app);
    one.client(&other.admin, "Ada", "Lovelace").await;
    until("the attempt is refused", || async {
        deliveries(&one.app, &other.admin, hook.id)
            .await
            .iter()
            .any(|d| !d.attempts.is_empty())
    })
    .await;
    let attempt = deliveries(&one.app, &other.admin, hook.id).await[0].attempts[0].clone();
    assert_eq!(attempt.outcome, AttemptOutcome::AddressRefused);
    assert!(receiver.received().is_empty());
}

async fn a_redirect_is_not_followed_and_counts_as_a_failure(db: Db) {
    let w = World::with_settings(db, local).await;
    let admin = &w.org.admin;
    let elsewhere = Receiver::accepting().await;
    let target = elsewhere.url.clone();
    let redirecting = Receiver::start(move |_| {
        (StatusCode::FOUND, [("location", target.clone())]).into_response()
    })
    .await;
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, admin, &redirecting.url).await;
    w.client(admin, "Ada", "Lovelace").await;
    until("an attempt is recorded", || async {
        deliveries(&w.app, admin, hook.id)
            .await
            .iter()
            .any(|d| !d.attempts.is_empty())
    })
    .await;
    let delivery = deliveries(&w.app, admin, hook.id).await.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Pending, "to be retried");
    assert_eq!(delivery.attempts[0].outcome, AttemptOutcome::HttpError);
    assert_eq!(delivery.attempts[0].status_code, Some(302));
    assert!(elsewhere.received().is_empty(), "the redirect was followed");
}

async fn payloads_never_carry_clinical_content(db: Db) {
    let w = World::with_settings(db, local).await;
    let admin = &w.org.admin;
    let receiver = Receiver::accepting().await;
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, admin, &receiver.url).await;
    let doc = w.staff(&w.org, "doc", Role::Physician, w.org.clinic).await;
    let client = w
        .app
        .create_client(
            &doc,
            skinledger_app::clients::NewClient {
                notes: Some("SECRET client note".into()),
                ..new_client("Ada", "Lovelace")
            },
            None,
        )
        .await
        .expect("client");
    w.screening(
        &doc,
        client.id,
        today(),
        ScreeningAnswers {
            medications: Some("SECRET medication".into()),
            ..ScreeningAnswers::default()
        },
    )
    .await;
    let roller = clinical_support::roller_at(w.org.clinic);
    let treated = w
        .treat(
            &doc,
            skinledger_app::treatments::NewTreatment {
                notes: Some("SECRET session note".into()),
                ..treatment_using(w.org.clinic, client.id, vec![one_of(roller)])
            },
        )
        .await;
    w.app
        .record_adverse_event(
            &doc,
            treated.id,
            NewAdverseEvent {
                kind: AdverseEventKind::Infection,
                severity: Severity::Moderate,
                onset_on: today(),
                notes: Some("SECRET adverse event".into()),
            },
            None,
        )
        .await
        .expect("adverse event");
    w.app
        .sign_treatment(&doc, treated.id, None, None)
        .await
        .expect("signed");
    w.app
        .add_treatment_addendum(
            &doc,
            treated.id,
            NewAddendum {
                text: "SECRET addendum".into(),
            },
            None,
        )
        .await
        .expect("addendum");
    until("the addendum's event is delivered", || async {
        receiver
            .received()
            .iter()
            .any(|r| r.body.contains("treatment.addendum_added"))
    })
    .await;
    let bodies: Vec<String> = receiver.received().into_iter().map(|r| r.body).collect();
    assert!(bodies.iter().any(|b| b.contains("adverse_event.recorded")));
    for body in &bodies {
        assert!(
            !body.contains("SECRET"),
            "clinical content delivered: {body}"
        );
        assert!(!body.contains("medication"), "{body}");
    }
    assert!(hook.enabled);
}

async fn only_org_admin_manages_webhooks_within_their_organisation(db: Db) {
    let w = World::with_settings(db, local).await;
    let admin = &w.org.admin;
    let receiver = Receiver::accepting().await;
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, admin, &receiver.url).await;
    w.client(admin, "Ada", "Lovelace").await;
    until("a delivery", || async {
        !deliveries(&w.app, admin, hook.id).await.is_empty()
    })
    .await;
    let delivery = deliveries(&w.app, admin, hook.id).await[0].id;

    // Each operation as `actor`: the outcome, only whether it was refused and how.
    let attempts = async |actor: &Actor| -> Vec<Option<ErrorCode>> {
        let app = &w.app;
        let code = |r: Result<(), Error>| r.err().map(|e| e.code());
        vec![
            code(
                app.create_webhook(
                    actor,
                    NewWebhook {
                        url: receiver.url.clone(),
                        event_types: Vec::new(),
                        description: None,
                    },
                )
                .await
                .map(drop),
            ),
            code(
                app.list_webhooks(actor, &PageParams::default())
                    .await
                    .map(drop),
            ),
            code(app.get_webhook(actor, hook.id).await.map(drop)),
            code(
                app.update_webhook(actor, hook.id, WebhookChanges::default())
                    .await
                    .map(drop),
            ),
            code(
                app.list_webhook_deliveries(actor, hook.id, &DeliveryQuery::default())
                    .await
                    .map(drop),
            ),
            code(
                app.retry_webhook_delivery(actor, hook.id, delivery)
                    .await
                    .map(drop),
            ),
            code(
                app.replay_webhook(actor, hook.id, WebhookReplay { after: "0".into() })
                    .await
                    .map(drop),
            ),
            code(app.delete_webhook(actor, hook.id).await),
        ]
    };
    for role in Role::ALL.into_iter().filter(|r| *r != Role::OrgAdmin) {
        let member = w.staff(&w.org, role.as_str(), role, w.org.clinic).await;
        assert_eq!(
            attempts(&member).await,
            vec![Some(ErrorCode::Forbidden); 8],
            "{role}"
        );
    }
    // Another organisation's administrator registers and lists their own, and finds none of
    // this one's.
    let other = w.other_org("other").await;
    let mut expected = vec![None, None];
    expected.extend([Some(ErrorCode::NotFound); 6]);
    assert_eq!(attempts(&other.admin).await, expected);
    let theirs = w
        .app
        .list_webhooks(&other.admin, &PageParams::default())
        .await
        .expect("their list");
    assert!(theirs.items.iter().all(|h| h.id != hook.id));
    assert!(w.app.get_webhook(admin, hook.id).await.is_ok());
}

async fn a_retry_and_a_replay_deliver_again_under_the_same_id(db: Db) {
    let mut w = World::with_settings(db, local).await;
    let admin = w.org.admin.clone();
    let receiver = Receiver::accepting().await;
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, &admin, &receiver.url).await;
    let start = hook.cursor.clone();
    w.client(&admin, "Ada", "Lovelace").await;
    w.client(&admin, "Grace", "Hopper").await;
    until("both are delivered", || async {
        deliveries(&w.app, &admin, hook.id)
            .await
            .iter()
            .filter(|d| d.status == DeliveryStatus::Delivered)
            .count()
            == 2
    })
    .await;
    let first = deliveries(&w.app, &admin, hook.id).await.remove(0);
    let retried = w
        .app
        .retry_webhook_delivery(&admin, hook.id, first.id)
        .await
        .expect("retried");
    assert_eq!(retried.status, DeliveryStatus::Pending);
    until("the retry arrives", || async {
        receiver.received().len() == 3
    })
    .await;
    assert_eq!(receiver.received()[2].id, first.event_id.to_string());

    // A replay from before both delivers both again, in order, under their ids.
    let moved = w
        .app
        .replay_webhook(&admin, hook.id, WebhookReplay { after: start })
        .await
        .expect("replayed");
    assert_eq!(moved.id, hook.id);
    until("the replay arrives", || async {
        receiver.received().len() == 5
    })
    .await;
    let ids: Vec<String> = receiver.received().into_iter().map(|r| r.id).collect();
    assert_eq!(ids[3..], ids[..2]);
    // A cursor beyond the webhook's is refused.
    let ahead = w
        .app
        .replay_webhook(
            &admin,
            hook.id,
            WebhookReplay {
                after: "999999".into(),
            },
        )
        .await
        .expect_err("ahead");
    assert_eq!(ahead.code(), ErrorCode::ValidationFailed);

    w.app
        .delete_webhook(&admin, hook.id)
        .await
        .expect("deleted");
    let gone = w.app.get_webhook(&admin, hook.id).await.expect_err("gone");
    assert_eq!(gone.code(), ErrorCode::NotFound);
    let actions: Vec<String> = w
        .audit_log()
        .await
        .into_iter()
        .filter(|e| e.outcome == AuditOutcome::Success.as_str())
        .map(|e| e.action)
        .filter(|a| a.starts_with("webhook."))
        .collect();
    assert_eq!(
        actions,
        [
            "webhook.create",
            "webhook.retry",
            "webhook.replay",
            "webhook.delete"
        ]
    );
}
