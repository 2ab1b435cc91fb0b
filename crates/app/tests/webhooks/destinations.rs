//! Where deliveries may go: no private addresses unless allowed, no redirects.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use skinledger_app::webhooks::{AttemptOutcome, DeliveryStatus, NewWebhook};
use skinledger_app::{Error, ErrorCode};
use skinledger_store::Db;

use crate::clinical_support::World;
use crate::{Receiver, Worker, deliveries, local, register, until};

skinledger_store::on_both_backends!(
    private_addresses_are_refused_unless_the_configuration_allows_them,
    a_redirect_is_not_followed_and_counts_as_a_failure,
);

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
