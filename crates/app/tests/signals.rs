//! The adverse-event signal of a lot: the adverse event that crosses the policy's rule puts the
//! lot on hold at every clinic in its own transaction; an `org_admin` releases it (the held units
//! back on their shelves) or recalls it. Every scenario runs on SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

pub mod clinical_support;
pub mod inventory_support;

use chrono::Days;
use clinical_support::{World, failure, today};
use futures::future::join_all;
use inventory_support::{
    add_product, assert_ledger_holds, balance_of, conflict_code, eligible_client, lot_no, one_of,
    receive, roller, treatment_using,
};
use skinledger_app::events::FeedQuery;
use skinledger_app::lots::Balance;
use skinledger_app::recalls::RecallRequest;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::signals::ReleaseRequest;
use skinledger_app::treatments::NewAdverseEvent;
use skinledger_app::{Actor, App};
use skinledger_domain::clinical::{AdverseEventKind, Severity};
use skinledger_domain::events::EventType;
use skinledger_domain::inventory::LotStatus;
use skinledger_domain::role::Role;
use skinledger_domain::signal::SignalRule;
use skinledger_store::Db;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    the_third_moderate_adverse_event_puts_the_lot_on_hold_at_every_clinic,
    a_release_puts_the_held_units_back_and_a_second_release_is_refused,
    a_lot_on_hold_can_be_recalled_instead,
    mild_events_never_hold_a_lot_and_the_policy_sets_the_threshold,
    adverse_events_recorded_at_once_are_all_counted,
);

fn event(severity: Severity) -> NewAdverseEvent {
    NewAdverseEvent {
        kind: AdverseEventKind::Infection,
        severity,
        onset_on: today(),
        notes: None,
    }
}

/// A lot received at both clinics (10 at the first, 6 at the second) and `n` treatments at
/// the first that used it, each on a client of its own.
struct Scene {
    w: World,
    nurse: Actor,
    lot: Uuid,
    treatments: Vec<Uuid>,
}

async fn scene(db: Db, n: usize) -> Scene {
    let w = World::new(db).await;
    let admin = w.org.admin.clone();
    let (a, b) = (w.org.clinic, w.org.other_clinic);
    let nurse = w.staff(&w.org, "nora", Role::Nurse, a).await;
    let p = add_product(&w.app, &admin, roller("Signal roller 0.5 mm", 0.5)).await;
    let at_a = receive(&w.app, &admin, a, p.id, "S-1", today() + Days::new(120), 10).await;
    let at_b = receive(&w.app, &admin, b, p.id, "S-1", today() + Days::new(120), 6).await;
    assert_eq!(at_a.lot.id, at_b.lot.id);
    let mut treatments = Vec::new();
    for i in 0..n {
        let client = eligible_client(&w, &nurse, "Client", &format!("No{i}")).await;
        let t = w
            .treat(&nurse, treatment_using(a, client, vec![one_of(p.id)]))
            .await;
        treatments.push(t.id);
    }
    Scene {
        w,
        nurse,
        lot: at_a.lot.id,
        treatments,
    }
}

async fn record(app: &App, actor: &Actor, treatment: Uuid, severity: Severity) {
    app.record_adverse_event(actor, treatment, event(severity), None)
        .await
        .expect("adverse event recorded");
}

async fn status(app: &App, actor: &Actor, lot: Uuid) -> LotStatus {
    app.get_lot(actor, lot).await.expect("lot").lot.status
}

async fn event_types(app: &App, actor: &Actor) -> Vec<EventType> {
    app.list_events(
        actor,
        &FeedQuery {
            limit: Some(200),
            ..FeedQuery::default()
        },
    )
    .await
    .expect("feed")
    .items
    .into_iter()
    .map(|e| e.event_type)
    .collect()
}

fn units(on_hand: i64, quarantined: i64) -> Balance {
    Balance {
        on_hand,
        quarantined,
        in_transit_out: 0,
    }
}

async fn the_third_moderate_adverse_event_puts_the_lot_on_hold_at_every_clinic(db: Db) {
    let s = scene(db, 3).await;
    let (app, admin) = (&s.w.app, &s.w.org.admin);
    let (a, b) = (s.w.org.clinic, s.w.org.other_clinic);
    record(app, &s.nurse, s.treatments[0], Severity::Moderate).await;
    record(app, &s.nurse, s.treatments[1], Severity::Severe).await;
    assert_eq!(status(app, admin, s.lot).await, LotStatus::Active);
    assert_eq!(balance_of(app, admin, a, s.lot).await, units(7, 0));

    record(app, &s.nurse, s.treatments[2], Severity::Moderate).await;
    let lot = app.get_lot(admin, s.lot).await.expect("lot");
    assert_eq!(lot.lot.status, LotStatus::Held);
    assert_eq!(lot.lot.hold_reason.as_deref(), Some("adverse_event_signal"));
    assert!(lot.lot.held_at.is_some());
    assert_eq!(balance_of(app, admin, a, s.lot).await, units(0, 7));
    assert_eq!(balance_of(app, admin, b, s.lot).await, units(0, 6));
    assert_ledger_holds(app, admin, a).await;
    assert_ledger_holds(app, admin, b).await;

    // The event that crossed and the hold are on the feed, in that order; the hold is audited.
    let types = event_types(app, admin).await;
    let recorded = types
        .iter()
        .rposition(|t| *t == EventType::AdverseEventRecorded)
        .expect("adverse event on the feed");
    let signal = types
        .iter()
        .position(|t| *t == EventType::LotSignal)
        .expect("lot.signal on the feed");
    assert!(recorded < signal);
    assert_eq!(
        types.iter().filter(|t| **t == EventType::LotSignal).count(),
        1
    );

    // The signal as a manager sees it.
    let signal = app.lot_signal(admin, s.lot).await.expect("signal");
    assert_eq!(signal.status, LotStatus::Held);
    assert_eq!(signal.in_window, 3);
    assert_eq!(signal.treatments, 3);
    assert_eq!(signal.affected_treatments, 3);
    assert!(signal.crossed);
    assert!((signal.rate_percent - 100.0).abs() < 1e-9);
    assert_eq!(signal.rule, SignalRule::default());
    let mut behind: Vec<Uuid> = signal
        .adverse_events
        .iter()
        .map(|e| e.treatment_id)
        .collect();
    behind.sort_unstable();
    let mut expected = s.treatments.clone();
    expected.sort_unstable();
    assert_eq!(behind, expected);
    assert!(
        signal
            .adverse_events
            .iter()
            .all(|e| e.in_window && e.clinic_id == a)
    );

    // A manager of the other clinic sees the counts, but not the events at the first clinic.
    let manager_b = s.w.staff(&s.w.org, "mats", Role::ClinicManager, b).await;
    let seen_by_b = app.lot_signal(&manager_b, s.lot).await.expect("signal");
    assert_eq!(seen_by_b.in_window, 3);
    assert!(seen_by_b.adverse_events.is_empty());
    // A nurse may not read it.
    assert_eq!(
        failure(app.lot_signal(&s.nurse, s.lot).await).code(),
        "forbidden"
    );

    // Nothing moves the held lot's units: not a delivery, not a treatment naming it.
    let product = s.lot_product(app, admin).await;
    let e = failure(
        app.receive_stock(
            admin,
            a,
            ReceiptRequest {
                product_id: Some(product),
                lot_number: Some(lot_no("S-1")),
                expiry: Some(today() + Days::new(120)),
                quantity: Some(2),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_on_hold");
    // A fourth event does not hold it twice.
    record(app, &s.nurse, s.treatments[0], Severity::Severe).await;
    let types = event_types(app, admin).await;
    assert_eq!(
        types.iter().filter(|t| **t == EventType::LotSignal).count(),
        1
    );
    let filter = skinledger_store::audit::AuditFilter {
        action: Some("lot.hold".into()),
        ..Default::default()
    };
    let audit = app
        .list_audit_events(admin, &filter, &skinledger_app::PageParams::default())
        .await
        .expect("audit");
    assert_eq!(audit.items.len(), 1);
    assert_eq!(audit.items[0].actor_kind, "system");
    assert_eq!(audit.items[0].entity_id, Some(s.lot));
}

impl Scene {
    async fn lot_product(&self, app: &App, actor: &Actor) -> Uuid {
        app.get_lot(actor, self.lot)
            .await
            .expect("lot")
            .lot
            .product_id
    }
}

async fn a_release_puts_the_held_units_back_and_a_second_release_is_refused(db: Db) {
    let s = scene(db, 3).await;
    let (app, admin) = (&s.w.app, &s.w.org.admin);
    let (a, b) = (s.w.org.clinic, s.w.org.other_clinic);
    for t in &s.treatments {
        record(app, &s.nurse, *t, Severity::Moderate).await;
    }
    assert_eq!(status(app, admin, s.lot).await, LotStatus::Held);

    let reason = |r: &str| ReleaseRequest { reason: r.into() };
    let manager_a = s.w.staff(&s.w.org, "mia", Role::ClinicManager, a).await;
    let e = failure(
        app.release_lot(&manager_a, s.lot, reason("fine"), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let e = failure(app.release_lot(admin, s.lot, reason("  "), None).await);
    assert_eq!(e.code(), "validation_failed");
    assert_eq!(status(app, admin, s.lot).await, LotStatus::Held);

    let released = app
        .release_lot(
            admin,
            s.lot,
            reason("maker's sterility report: lot clean"),
            None,
        )
        .await
        .expect("released");
    assert_eq!(released.lot.lot.status, LotStatus::Active);
    assert_eq!(released.lot.lot.held_at, None);
    let mut restored: Vec<(Uuid, i64)> = released
        .restored
        .iter()
        .map(|r| (r.clinic_id, r.quantity))
        .collect();
    restored.sort_unstable();
    let mut expected = vec![(a, 7), (b, 6)];
    expected.sort_unstable();
    assert_eq!(restored, expected);
    assert_eq!(balance_of(app, admin, a, s.lot).await, units(7, 0));
    assert_eq!(balance_of(app, admin, b, s.lot).await, units(6, 0));
    assert_ledger_holds(app, admin, a).await;
    assert_ledger_holds(app, admin, b).await;
    assert!(
        event_types(app, admin)
            .await
            .contains(&EventType::LotReleased)
    );

    let e = failure(app.release_lot(admin, s.lot, reason("again"), None).await);
    assert_eq!(conflict_code(&e), "lot_not_on_hold");
    // The lot is usable again.
    let client = eligible_client(&s.w, &s.nurse, "After", "Release").await;
    let product = s.lot_product(app, admin).await;
    let t =
        s.w.treat(&s.nurse, treatment_using(a, client, vec![one_of(product)]))
            .await;
    assert_eq!(
        t.clinical.expect("consumables").consumables[0].lot_id,
        s.lot
    );
}

async fn a_lot_on_hold_can_be_recalled_instead(db: Db) {
    let s = scene(db, 3).await;
    let (app, admin) = (&s.w.app, &s.w.org.admin);
    for t in &s.treatments {
        record(app, &s.nurse, *t, Severity::Severe).await;
    }
    let recall = app
        .recall_lot(
            admin,
            s.lot,
            RecallRequest {
                reason: "confirmed contamination".into(),
            },
            None,
        )
        .await
        .expect("recalled");
    assert_eq!(recall.lot.lot.status, LotStatus::Recalled);
    assert!(
        recall.quarantined.is_empty(),
        "the held units were in quarantine already"
    );
    assert_eq!(
        balance_of(app, admin, s.w.org.clinic, s.lot).await,
        units(0, 7)
    );
    let e = failure(
        app.release_lot(
            admin,
            s.lot,
            ReleaseRequest {
                reason: "too late".into(),
            },
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_not_on_hold");
}

async fn mild_events_never_hold_a_lot_and_the_policy_sets_the_threshold(db: Db) {
    let s = scene(db, 4).await;
    let (app, admin) = (&s.w.app, &s.w.org.admin);
    for t in &s.treatments {
        record(app, &s.nurse, *t, Severity::Mild).await;
    }
    assert_eq!(status(app, admin, s.lot).await, LotStatus::Active);
    let signal = app.lot_signal(admin, s.lot).await.expect("signal");
    assert_eq!((signal.in_window, signal.crossed), (0, false));
    assert!(signal.adverse_events.is_empty());

    // An organisation that holds at two severe events.
    let mut policy = app.get_policy(admin).await.expect("policy");
    policy.document.adverse_event_signal = SignalRule {
        min_severity: Severity::Severe,
        count: 2,
        ..SignalRule::default()
    };
    app.put_policy(admin, policy.document.clone(), Some(policy.version))
        .await
        .expect("policy changed");
    record(app, &s.nurse, s.treatments[0], Severity::Moderate).await;
    record(app, &s.nurse, s.treatments[1], Severity::Severe).await;
    assert_eq!(status(app, admin, s.lot).await, LotStatus::Active);
    record(app, &s.nurse, s.treatments[2], Severity::Severe).await;
    assert_eq!(status(app, admin, s.lot).await, LotStatus::Held);

    // A rule out of range is refused, naming its fields.
    policy.document.adverse_event_signal.rate_percent = 0.0;
    let current = app.get_policy(admin).await.expect("policy").version;
    let e = failure(app.put_policy(admin, policy.document, Some(current)).await);
    assert_eq!(e.code(), "validation_failed");
}

async fn adverse_events_recorded_at_once_are_all_counted(db: Db) {
    let s = scene(db, 3).await;
    let (app, admin) = (&s.w.app, &s.w.org.admin);
    let recorded = join_all(
        s.treatments
            .iter()
            .map(|t| app.record_adverse_event(&s.nurse, *t, event(Severity::Moderate), None)),
    )
    .await;
    for r in recorded {
        r.expect("recorded");
    }
    assert_eq!(status(app, admin, s.lot).await, LotStatus::Held);
    assert_eq!(
        balance_of(app, admin, s.w.org.other_clinic, s.lot).await,
        units(0, 6)
    );
}
