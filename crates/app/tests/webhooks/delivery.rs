//! Delivery: retried until it succeeds, one at a time in order, replayed, or disabled.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use skinledger_app::audit::AuditOutcome;
use skinledger_app::events::FeedQuery;
use skinledger_app::webhooks::{AttemptOutcome, DeliveryStatus, WebhookChanges, WebhookReplay};
use skinledger_app::{ErrorCode, PageParams};
use skinledger_domain::events::EventType;
use skinledger_store::Db;
use skinledger_store::audit::AuditFilter;

use crate::clinical_support::World;
use crate::{Receiver, Worker, deliveries, local, register, until};

skinledger_store::on_both_backends!(
    a_failing_receiver_gets_the_event_until_it_succeeds_and_then_never_again,
    a_dead_receiver_gets_its_endpoint_disabled_with_an_event,
    an_endpoint_gets_its_events_one_at_a_time_in_order,
    a_retry_and_a_replay_deliver_again_under_the_same_id,
);

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
