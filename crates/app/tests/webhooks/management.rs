//! Only an organisation admin manages webhooks, and only their organisation's.

use skinledger_app::webhooks::{DeliveryQuery, NewWebhook, WebhookChanges, WebhookReplay};
use skinledger_app::{Actor, Error, ErrorCode, PageParams};
use skinledger_domain::role::Role;
use skinledger_store::Db;

use crate::clinical_support::World;
use crate::{Receiver, Worker, deliveries, local, register, until};

skinledger_store::on_both_backends!(only_org_admin_manages_webhooks_within_their_organisation);

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
