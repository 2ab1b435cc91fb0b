//! Integration events: each change commits its event in its own transaction, numbered per
//! organisation without gaps; refused changes leave none; the feed shows each caller only what
//! their roles may see, never clinical content; it waits for news when asked, and tells a
//! caller whose cursor is older than the retention to resynchronise. Every scenario runs on
//! SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

pub mod clinical_support;
pub mod inventory_support;

use std::time::Duration;

use chrono::{Days, Utc};
use clinical_support::{World, days_ago, new_client, today};
use futures::future::join_all;
use inventory_support::{
    add_product, eligible_client, one_of, receive, roller, set_expiry, treatment_using,
};
use skinledger_app::clients::ClientChanges;
use skinledger_app::events::{Event, EventPage, FeedQuery};
use skinledger_app::transfers::{NewTransfer, TransferLineRequest};
use skinledger_app::treatments::{NewAddendum, NewAdverseEvent};
use skinledger_app::{Actor, App, Error, ErrorCode};
use skinledger_domain::clinical::{AdverseEventKind, Severity};
use skinledger_domain::events::EventType;
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;

skinledger_store::on_both_backends!(
    every_change_is_in_the_feed_once_in_order_and_a_refused_one_is_not,
    events_never_carry_clinical_content,
    stock_changes_and_a_crossed_reorder_point_are_announced,
    a_clinics_own_reorder_point_counts_only_usable_units_on_its_shelf,
    each_caller_sees_only_the_events_of_what_their_roles_may_read,
    concurrent_writers_get_one_gap_free_sequence,
    a_waiting_feed_answers_as_soon_as_an_event_is_written,
    a_cursor_older_than_the_retention_is_told_to_resynchronise,
    expiring_lots_are_announced_once_a_day,
);

/// Everything after `after` that `actor` may see.
async fn feed(app: &App, actor: &Actor, after: &str) -> EventPage {
    app.list_events(
        actor,
        &FeedQuery {
            after: Some(after.to_owned()),
            limit: Some(200),
            ..FeedQuery::default()
        },
    )
    .await
    .expect("the feed")
}

/// Where the feed stands now for `actor`.
async fn now(app: &App, actor: &Actor) -> String {
    let mut cursor = "0".to_owned();
    loop {
        let page = feed(app, actor, &cursor).await;
        if page.items.is_empty() {
            return page.next_cursor;
        }
        cursor = page.next_cursor;
    }
}

/// The events of one type in a page.
fn of_type(page: &EventPage, event_type: EventType) -> Vec<&Event> {
    page.items
        .iter()
        .filter(|e| e.event_type == event_type)
        .collect()
}

fn types(events: &[Event]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

async fn every_change_is_in_the_feed_once_in_order_and_a_refused_one_is_not(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    let doc = w.staff(&w.org, "doc", Role::Physician, w.org.clinic).await;
    let start = now(&w.app, admin).await;

    let client = eligible_client(&w, &doc, "Ada", "Lovelace").await;
    w.app
        .update_client(
            &doc,
            client,
            ClientChanges {
                phone: Some("+49 30 1234567".into()),
                ..ClientChanges::default()
            },
            None,
        )
        .await
        .expect("client updated");
    let roller = clinical_support::roller_at(w.org.clinic);
    let treated = w
        .treat(
            &doc,
            treatment_using(w.org.clinic, client, vec![one_of(roller)]),
        )
        .await;
    w.app
        .sign_treatment(&doc, treated.id, None, None)
        .await
        .expect("signed");
    w.app
        .add_treatment_addendum(
            &doc,
            treated.id,
            NewAddendum {
                text: "Checked.".into(),
            },
            None,
        )
        .await
        .expect("addendum");
    // Refused: a client with no screening. It leaves nothing in the feed.
    let unscreened = w.client(&doc, "Grace", "Hopper").await;
    let refused = w
        .app
        .create_treatment(
            &doc,
            treatment_using(w.org.clinic, unscreened.id, vec![one_of(roller)]),
            None,
        )
        .await
        .expect_err("no screening");
    assert_eq!(refused.code(), ErrorCode::NoValidScreening);

    let page = feed(&w.app, admin, &start).await;
    assert_eq!(
        types(&page.items),
        [
            EventType::ClientCreated,
            EventType::ScreeningRecorded,
            EventType::ClientUpdated,
            EventType::TreatmentCreated,
            EventType::TreatmentSigned,
            EventType::TreatmentAddendumAdded,
            EventType::ClientCreated,
        ]
    );
    let first: i64 = start.parse().expect("a numeric cursor");
    let seqs: Vec<i64> = page.items.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (first + 1..=first + 7).collect::<Vec<_>>(),
        "gaps or reordering"
    );
    let created = &page.items[3];
    assert_eq!(created.treatment_id, Some(treated.id));
    assert_eq!(created.client_id, Some(client));
    assert_eq!(created.clinic_id, Some(w.org.clinic));
    assert_eq!(page.next_cursor, seqs[6].to_string());
    assert!(
        feed(&w.app, admin, &page.next_cursor)
            .await
            .items
            .is_empty()
    );
    // Filters: by type, by clinic.
    let signed = w
        .app
        .list_events(
            admin,
            &FeedQuery {
                after: Some(start.clone()),
                types: vec![EventType::TreatmentSigned],
                ..FeedQuery::default()
            },
        )
        .await
        .expect("filtered feed");
    assert_eq!(types(&signed.items), [EventType::TreatmentSigned]);
    let elsewhere = w
        .app
        .list_events(
            admin,
            &FeedQuery {
                after: Some(start),
                clinic_id: Some(w.org.other_clinic),
                ..FeedQuery::default()
            },
        )
        .await
        .expect("filtered feed");
    assert!(elsewhere.items.is_empty(), "{:?}", elsewhere.items);
}

async fn events_never_carry_clinical_content(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    let doc = w.staff(&w.org, "doc", Role::Physician, w.org.clinic).await;
    let start = now(&w.app, admin).await;
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
    let page = feed(&w.app, admin, &start).await;
    assert!(types(&page.items).contains(&EventType::AdverseEventRecorded));
    let text = serde_json::to_string(&page).expect("JSON");
    assert!(
        !text.contains("SECRET"),
        "clinical content in events: {text}"
    );
    assert!(!text.contains("medication"), "{text}");
}

async fn stock_changes_and_a_crossed_reorder_point_are_announced(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    let doc = w.staff(&w.org, "doc", Role::Physician, w.org.clinic).await;
    let product = add_product(
        &w.app,
        admin,
        skinledger_app::products::NewProduct {
            reorder_point: Some(2),
            ..roller("Low roller", 0.5)
        },
    )
    .await;
    let start = now(&w.app, admin).await;
    let receipt = receive(
        &w.app,
        admin,
        w.org.clinic,
        product.id,
        "LOW-1",
        today() + Days::new(400),
        4,
    )
    .await;
    for name in ["Ada", "Grace", "Edsger"] {
        let client = eligible_client(&w, &doc, name, "Client").await;
        w.treat(
            &doc,
            treatment_using(w.org.clinic, client, vec![one_of(product.id)]),
        )
        .await;
    }
    // 4 → 3 → 2 (crossed: at the reorder point) → 1 (already below: no second event).
    let page = feed(&w.app, admin, &start).await;
    let low = of_type(&page, EventType::StockLow);
    assert_eq!(low.len(), 1, "{:?}", types(&page.items));
    assert_eq!(low[0].clinic_id, Some(w.org.clinic));
    assert_eq!(low[0].data.product_id, Some(product.id));
    assert_eq!(low[0].data.units, Some(2));
    assert_eq!(low[0].data.reorder_point, Some(2));
    let received = page
        .items
        .iter()
        .find(|e| e.event_type == EventType::StockReceived)
        .expect("stock.received");
    assert_eq!(received.lot_id, Some(receipt.lot.id));
    assert_eq!(received.data.units, Some(4));

    let before_transfer = now(&w.app, admin).await;
    w.app
        .send_transfer(
            admin,
            NewTransfer {
                from_clinic_id: w.org.clinic,
                to_clinic_id: w.org.other_clinic,
                lines: vec![TransferLineRequest {
                    lot_id: receipt.lot.id,
                    quantity: 1,
                    serials: Vec::new(),
                }],
                note: None,
            },
            None,
        )
        .await
        .expect("transfer sent");
    let page = feed(&w.app, admin, &before_transfer).await;
    assert_eq!(types(&page.items), [EventType::TransferSent]);
    assert_eq!(page.items[0].clinic_id, Some(w.org.clinic));
    assert_eq!(page.items[0].other_clinic_id, Some(w.org.other_clinic));
}

/// The reorder point that holds at a clinic is its own when set (here 3, the organisation's 0
/// would never report), and only usable units on that clinic's shelf count: an expired lot's
/// units at the clinic and the units at another clinic do not.
async fn a_clinics_own_reorder_point_counts_only_usable_units_on_its_shelf(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    let (clinic, elsewhere) = (w.org.clinic, w.org.other_clinic);
    let doc = w.staff(&w.org, "doc", Role::Physician, clinic).await;
    let product = add_product(
        &w.app,
        admin,
        skinledger_app::products::NewProduct {
            reorder_point: Some(0),
            clinic_reorder_points: vec![skinledger_app::products::ClinicReorderPointChange {
                clinic_id: clinic,
                reorder_point: Some(3),
            }],
            ..roller("Clinic roller", 0.5)
        },
    )
    .await;
    let later = today() + Days::new(400);
    receive(&w.app, admin, clinic, product.id, "USABLE", later, 4).await;
    let stale = receive(&w.app, admin, clinic, product.id, "STALE", later, 10).await;
    set_expiry(&w.app, stale.lot.id, days_ago(1)).await;
    receive(&w.app, admin, elsewhere, product.id, "AWAY", later, 10).await;
    let start = now(&w.app, admin).await;
    let client = eligible_client(&w, &doc, "Rita", "Reorder").await;
    w.treat(
        &doc,
        treatment_using(clinic, client, vec![one_of(product.id)]),
    )
    .await;
    // 4 usable units → 3: at the clinic's reorder point.
    let page = feed(&w.app, admin, &start).await;
    let low = of_type(&page, EventType::StockLow);
    assert_eq!(low.len(), 1, "{:?}", types(&page.items));
    assert_eq!(low[0].clinic_id, Some(clinic));
    assert_eq!(low[0].data.units, Some(3));
    assert_eq!(low[0].data.reorder_point, Some(3));
}

async fn each_caller_sees_only_the_events_of_what_their_roles_may_read(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    let doc = w.staff(&w.org, "doc", Role::Physician, w.org.clinic).await;
    let desk_elsewhere = w
        .staff(&w.org, "desk", Role::FrontDesk, w.org.other_clinic)
        .await;
    let start = now(&w.app, admin).await;
    let client = eligible_client(&w, &doc, "Ada", "Lovelace").await;
    let roller = clinical_support::roller_at(w.org.clinic);
    w.treat(
        &doc,
        treatment_using(w.org.clinic, client, vec![one_of(roller)]),
    )
    .await;
    w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;

    let all = types(&feed(&w.app, admin, &start).await.items);
    assert!(all.contains(&EventType::TreatmentCreated), "{all:?}");
    assert!(all.contains(&EventType::StaffChanged), "{all:?}");
    // The front desk of the other clinic: the organisation's clients, nothing of a clinic it
    // does not work at, and no staff changes.
    let desk = feed(&w.app, &desk_elsewhere, &start).await.items;
    assert!(
        types(&desk).contains(&EventType::ClientCreated),
        "{:?}",
        types(&desk)
    );
    for event in &desk {
        assert!(
            event.clinic_id.is_none() || event.clinic_id == Some(w.org.other_clinic),
            "front desk of Nord sees {event:?}"
        );
        assert_ne!(event.event_type, EventType::StaffChanged);
    }
    // Another organisation never sees any of it.
    let other = w.other_org("elsewhere").await;
    let theirs = feed(&w.app, &other.admin, "0").await.items;
    assert!(
        theirs.iter().all(|e| e.client_id != Some(client)),
        "another organisation's events leak"
    );
}

async fn concurrent_writers_get_one_gap_free_sequence(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    let start = now(&w.app, admin).await;
    let results = join_all((0..12).map(|i| {
        let app = w.app.clone();
        let admin = admin.clone();
        async move {
            app.create_client(&admin, new_client("Parallel", &format!("Client{i}")), None)
                .await
        }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let page = feed(&w.app, admin, &start).await;
    let first: i64 = start.parse().expect("a numeric cursor");
    let seqs: Vec<i64> = page.items.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (first + 1..=first + 12).collect::<Vec<_>>());
}

async fn a_waiting_feed_answers_as_soon_as_an_event_is_written(db: Db) {
    let w = World::new(db).await;
    let admin = w.org.admin.clone();
    let start = now(&w.app, &admin).await;
    let writer = {
        let app = w.app.clone();
        let admin = admin.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            app.create_client(&admin, new_client("Late", "Arrival"), None)
                .await
                .expect("client")
        })
    };
    // Without the event the wait would end empty after 20 s.
    let page = w
        .app
        .list_events(
            &admin,
            &FeedQuery {
                after: Some(start),
                wait: Some(Duration::from_secs(20)),
                ..FeedQuery::default()
            },
        )
        .await
        .expect("the feed");
    let client = writer.await.expect("the writer");
    assert_eq!(types(&page.items), [EventType::ClientCreated]);
    assert_eq!(page.items[0].client_id, Some(client.id));
    let too_long = w
        .app
        .list_events(
            &admin,
            &FeedQuery {
                wait: Some(Duration::from_secs(31)),
                ..FeedQuery::default()
            },
        )
        .await
        .expect_err("over 30 s");
    assert!(matches!(too_long, Error::Invalid(_)), "{too_long:?}");
}

async fn a_cursor_older_than_the_retention_is_told_to_resynchronise(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    w.client(admin, "Ada", "Lovelace").await;
    let head = now(&w.app, admin).await;
    // Retention reached: everything written so far is deleted.
    let purged = skinledger_store::events::purge(
        w.app.db().write(),
        Utc::now() + chrono::Duration::seconds(1),
    )
    .await
    .expect("purged");
    assert!(purged > 0);
    let expired = w
        .app
        .list_events(
            admin,
            &FeedQuery {
                after: Some("1".into()),
                ..FeedQuery::default()
            },
        )
        .await
        .expect_err("an expired cursor");
    assert_eq!(expired.code(), ErrorCode::CursorExpired);
    // From where the feed stood, nothing was lost: the cursor still works.
    assert!(feed(&w.app, admin, &head).await.items.is_empty());
    w.client(admin, "Grace", "Hopper").await;
    assert_eq!(
        types(&feed(&w.app, admin, &head).await.items),
        [EventType::ClientCreated]
    );
    let malformed = w
        .app
        .list_events(
            admin,
            &FeedQuery {
                after: Some("yesterday".into()),
                ..FeedQuery::default()
            },
        )
        .await
        .expect_err("not a cursor");
    assert!(matches!(malformed, Error::Invalid(_)), "{malformed:?}");
}

async fn expiring_lots_are_announced_once_a_day(db: Db) {
    let w = World::new(db).await;
    let admin = &w.org.admin;
    let product = add_product(&w.app, admin, roller("Soon roller", 0.5)).await;
    let soon = receive(
        &w.app,
        admin,
        w.org.clinic,
        product.id,
        "SOON-1",
        today() + Days::new(10),
        3,
    )
    .await;
    let start = now(&w.app, admin).await;
    assert_eq!(w.app.announce_expiring_lots().await.expect("announced"), 1);
    assert_eq!(w.app.announce_expiring_lots().await.expect("announced"), 0);
    let page = feed(&w.app, admin, &start).await;
    assert_eq!(types(&page.items), [EventType::LotExpiring]);
    assert_eq!(page.items[0].lot_id, Some(soon.lot.id));
    assert_eq!(page.items[0].clinic_id, Some(w.org.clinic));
    assert_eq!(page.items[0].data.expires_on, Some(today() + Days::new(10)));
}
