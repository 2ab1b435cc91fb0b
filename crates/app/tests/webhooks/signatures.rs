//! Deliveries are signed as the Standard Webhooks specification says.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use skinledger_app::PageParams;
use skinledger_app::events::FeedQuery;
use skinledger_app::webhooks::DeliveryStatus;
use skinledger_store::Db;

use crate::clinical_support::World;
use crate::{Received, Receiver, Worker, deliveries, local, register, until};

skinledger_store::on_both_backends!(
    deliveries_are_signed_as_the_standard_webhooks_specification_says,
);

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
