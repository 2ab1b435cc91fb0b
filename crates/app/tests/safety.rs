//! The rules that stand between a client and an unsafe session, tried as a request that does
//! not play fair would: refusals on the record, back-dating in both directions, stock as it
//! stood, closed clinics, contradicted screenings, endpoints by role, unknown serials and the
//! clinic's own calendar. Every scenario runs on SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

pub mod clinical_support;
pub mod inventory_support;

use chrono::{Days, Duration, TimeZone as _, Utc};
use clinical_support::{World, days_ago, failure, invalid_fields, mm, today, treatment};
use inventory_support::{conflict_code, eligible_client, receive, roller, treatment_using};
use skinledger_app::clinics::{ClinicChanges, NewClinic};
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::disposals::DisposalRequest;
use skinledger_app::products::{ClinicReorderPointChange, ProductChanges};
use skinledger_app::recalls::RecallRequest;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_app::reports::ReportPeriod;
use skinledger_app::screenings::{NewClearance, NewScreening};
use skinledger_domain::clinical::Endpoint;
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::inventory::{DisposalReason, MovementKind};
use skinledger_domain::local_time::TimeZone;
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_domain::role::Role;
use skinledger_domain::screening::{Outcome, ScreeningAnswers};
use skinledger_store::Db;

skinledger_store::on_both_backends!(
    each_refusal_leaves_one_audit_event_with_its_code_and_outcome,
    a_session_dated_inside_the_interval_before_or_after_another_is_refused_and_the_edges_pass,
    back_dating_beyond_the_policy_or_before_the_first_screening_is_refused,
    a_unit_received_after_a_back_dated_session_was_not_there_for_it,
    every_write_at_a_closed_clinic_answers_clinic_inactive_and_reads_still_work,
    a_nurse_cannot_wave_away_a_pregnancy_by_rescreening_but_a_physician_can_clear_it,
    an_esthetician_stops_short_of_bleeding_until_the_policy_says_otherwise,
    a_session_at_half_past_eleven_utc_in_auckland_is_on_the_next_local_day,
    the_chair_writes_off_a_unit_and_more_than_one_a_day_shows_in_the_report,
    a_manager_sets_their_reorder_point_but_never_what_is_safe_at_every_clinic,
);

async fn each_refusal_leaves_one_audit_event_with_its_code_and_outcome(db: Db) {
    let mut w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let client = w.client(&nurse, "Preg", "Nant").await;
    w.screening(
        &nurse,
        client.id,
        today(),
        ScreeningAnswers {
            pregnant: true,
            ..ScreeningAnswers::default()
        },
    )
    .await;
    // 409 contraindicated, 403 forbidden, 422 naming fields.
    let refused = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(refused.code(), "contraindicated");
    let denied = failure(
        w.app
            .create_treatment(
                &desk,
                treatment(w.org.clinic, client.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(denied.code(), "forbidden");
    let mut invalid = treatment(w.org.clinic, client.id, 0.5, today());
    invalid.passes = 0;
    invalid.duration_minutes = 0;
    let invalid = failure(w.app.create_treatment(&nurse, invalid, None).await);
    assert_eq!(invalid_fields(&invalid), vec!["passes", "duration_minutes"]);

    let log = w.audit_log().await;
    let refusals: Vec<_> = log
        .iter()
        .filter(|e| e.action == "treatment.create" && e.outcome != "success")
        .collect();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    let by_code = |code: &str| {
        refusals
            .iter()
            .filter(|e| e.detail.as_ref().and_then(|d| d["code"].as_str()) == Some(code))
            .collect::<Vec<_>>()
    };
    let contraindicated = by_code("contraindicated");
    assert_eq!(contraindicated.len(), 1);
    assert_eq!(contraindicated[0].outcome, "refused");
    assert_eq!(contraindicated[0].client_id, Some(client.id));
    assert_eq!(contraindicated[0].actor_id, nurse.staff_id());
    let detail = contraindicated[0].detail.clone().expect("detail");
    assert_eq!(detail["clinic_id"], serde_json::json!(w.org.clinic));
    let forbidden = by_code("forbidden");
    assert_eq!(forbidden.len(), 1);
    assert_eq!(forbidden[0].outcome, "denied");
    assert_eq!(forbidden[0].actor_id, desk.staff_id());
    let validation = by_code("validation_failed");
    assert_eq!(validation.len(), 1);
    let fields = validation[0].detail.clone().expect("detail")["fields"].clone();
    assert_eq!(fields, serde_json::json!(["passes", "duration_minutes"]));
    // Nothing was written by the refused requests.
    assert!(
        !log.iter()
            .any(|e| e.action == "treatment.create" && e.outcome == "success")
    );
}

async fn a_session_dated_inside_the_interval_before_or_after_another_is_refused_and_the_edges_pass(
    db: Db,
) {
    let w = World::new(db).await;
    w.allow_backdating_a_year().await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    for (depth, days) in [(0.5, 14), (1.0, 28), (1.5, 42)] {
        let client = w.client(&nurse, "Both", &format!("Ways{days}")).await;
        for on in [days_ago(days), today()] {
            w.screening(&nurse, client.id, on, ScreeningAnswers::default())
                .await;
        }
        // The existing session, today.
        w.treat(&nurse, treatment(w.org.clinic, client.id, depth, today()))
            .await;
        // Dated a day inside the interval before it: refused, it cannot dodge the rule.
        let before = failure(
            w.app
                .create_treatment(
                    &nurse,
                    treatment(w.org.clinic, client.id, depth, days_ago(days - 1)),
                    None,
                )
                .await,
        );
        assert_eq!(before.code(), "too_soon", "{depth} mm");
        // Exactly the interval before it: passes.
        w.treat(
            &nurse,
            treatment(w.org.clinic, client.id, depth, days_ago(days)),
        )
        .await;
    }
    // After a session: a day inside the interval is refused, the edge passes.
    let client = w.client(&nurse, "After", "Wards").await;
    w.screening(&nurse, client.id, days_ago(28), ScreeningAnswers::default())
        .await;
    w.treat(
        &nurse,
        treatment(w.org.clinic, client.id, 0.5, days_ago(28)),
    )
    .await;
    let after = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, days_ago(15)),
                None,
            )
            .await,
    );
    assert_eq!(after.code(), "too_soon");
    w.treat(
        &nurse,
        treatment(w.org.clinic, client.id, 0.5, days_ago(14)),
    )
    .await;
}

async fn back_dating_beyond_the_policy_or_before_the_first_screening_is_refused(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Back", "Dated").await;
    w.screening(&nurse, client.id, today(), ScreeningAnswers::default())
        .await;
    // Eight days back, under the default of seven: 422 naming performed_at.
    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, days_ago(8)),
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["performed_at"]);
    // Before the only screening: there was none to rely on.
    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, days_ago(2)),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "no_valid_screening");
}

async fn a_unit_received_after_a_back_dated_session_was_not_there_for_it(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let p = inventory_support::add_product(app, admin, roller("Fresh roller 0.5 mm", 0.5)).await;
    receive(
        app,
        admin,
        clinic,
        p.id,
        "FRESH-1",
        today() + Days::new(90),
        5,
    )
    .await;
    let client = w.client(&nurse, "Early", "Bird").await;
    w.screening(&nurse, client.id, days_ago(3), ScreeningAnswers::default())
        .await;
    let mut early = treatment_using(clinic, client.id, vec![inventory_support::one_of(p.id)]);
    early.performed_at = Some(Utc::now() - Duration::days(2));
    let e = failure(app.create_treatment(&nurse, early.clone(), None).await);
    assert_eq!(conflict_code(&e), "out_of_stock");
    // A delivery entered late, dated before the session, serves it.
    app.receive_stock(
        admin,
        clinic,
        ReceiptRequest {
            product_id: Some(p.id),
            lot_number: Some(inventory_support::lot_no("FRESH-0")),
            expiry: Some(today() + Days::new(60)),
            quantity: Some(1),
            received_at: Some(Utc::now() - Duration::days(3)),
            ..ReceiptRequest::default()
        },
        None,
    )
    .await
    .expect("late delivery entered");
    app.create_treatment(&nurse, early, None)
        .await
        .expect("the unit was on the shelf then");
    inventory_support::assert_ledger_holds(app, admin, clinic).await;
}

async fn every_write_at_a_closed_clinic_answers_clinic_inactive_and_reads_still_work(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let client = eligible_client(&w, &nurse, "Closed", "Door").await;
    let p = inventory_support::add_product(app, admin, roller("Door roller 0.5 mm", 0.5)).await;
    let r = receive(
        app,
        admin,
        clinic,
        p.id,
        "DOOR-1",
        today() + Days::new(90),
        5,
    )
    .await;
    app.update_clinic(
        admin,
        clinic,
        ClinicChanges {
            active: Some(false),
            ..ClinicChanges::default()
        },
    )
    .await
    .expect("clinic closed");

    let treat = failure(
        app.create_treatment(&nurse, treatment(clinic, client, 0.5, today()), None)
            .await,
    );
    let receipt = failure(
        app.receive_stock(
            admin,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(inventory_support::lot_no("DOOR-2")),
                expiry: Some(today() + Days::new(90)),
                quantity: Some(1),
                ..ReceiptRequest::default()
            },
            None,
        )
        .await,
    );
    let adjust = failure(
        app.adjust_stock(
            admin,
            clinic,
            skinledger_app::stock::AdjustmentRequest {
                lot_id: r.lot.id,
                quantity: -1,
                reason: skinledger_domain::inventory::AdjustmentReason::Damaged,
                note: None,
            },
            None,
        )
        .await,
    );
    let stocktake = failure(
        app.record_stocktake(
            admin,
            clinic,
            skinledger_app::stock::StocktakeRequest {
                counts: vec![skinledger_app::stock::StockCount {
                    lot_id: r.lot.id,
                    counted: 4,
                }],
                note: None,
            },
            None,
        )
        .await,
    );
    let transfer_in = failure(
        app.send_transfer(
            admin,
            skinledger_app::transfers::NewTransfer {
                from_clinic_id: w.org.other_clinic,
                to_clinic_id: clinic,
                lines: vec![skinledger_app::transfers::TransferLineRequest {
                    lot_id: r.lot.id,
                    quantity: 1,
                    serials: vec![],
                }],
                note: None,
            },
            None,
        )
        .await,
    );
    let disposal = failure(
        app.record_disposal(&nurse, clinic, dropped(r.lot.id, None), None)
            .await,
    );
    for (what, e) in [
        ("treatment", treat),
        ("receipt", receipt),
        ("adjustment", adjust),
        ("stocktake", stocktake),
        ("transfer in", transfer_in),
        ("disposal", disposal),
    ] {
        assert_eq!(e.code(), "clinic_inactive", "{what}");
    }
    // Reads still work.
    app.get_clinic_stock(admin, clinic)
        .await
        .expect("stock readable");
    let seen = app
        .get_clinic(admin, clinic)
        .await
        .expect("clinic readable");
    assert!(!seen.active);
    inventory_support::assert_ledger_holds(app, admin, clinic).await;
}

async fn a_nurse_cannot_wave_away_a_pregnancy_by_rescreening_but_a_physician_can_clear_it(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let client = w.client(&nurse, "Quick", "Rescreen").await;
    w.screening(
        &nurse,
        client.id,
        today(),
        ScreeningAnswers {
            pregnant: true,
            ..ScreeningAnswers::default()
        },
    )
    .await;
    // Ten minutes later the answer is "no".
    let rescreen = w
        .app
        .record_screening(
            &nurse,
            client.id,
            NewScreening {
                clinic_id: Some(w.org.clinic),
                screened_on: None,
                answers: ScreeningAnswers::default(),
            },
            None,
        )
        .await
        .expect("rescreened");
    assert_eq!(rescreen.outcome, Outcome::RequiresClearance);
    let json = serde_json::to_value(&rescreen.reasons).expect("serialises");
    assert_eq!(json[0]["basis"], "contradicts_earlier_screening");
    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "requires_clearance");
    // A nurse cannot clear it; a physician can, with a reason.
    let clearance = || NewClearance {
        factor: Contraindication::Pregnancy,
        reason: "pregnancy test negative".into(),
    };
    let e = failure(
        w.app
            .clear_screening_factor(&nurse, rescreen.id, clearance(), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    w.app
        .clear_screening_factor(&physician, rescreen.id, clearance(), None)
        .await
        .expect("cleared by a physician");
    w.treat(&nurse, treatment(w.org.clinic, client.id, 0.5, today()))
        .await;
}

async fn an_esthetician_stops_short_of_bleeding_until_the_policy_says_otherwise(db: Db) {
    let w = World::new(db).await;
    let esthetician = w
        .staff(&w.org, "esthetician", Role::Esthetician, w.org.clinic)
        .await;
    let client = eligible_client(&w, &esthetician, "Pin", "Point").await;
    let mut bleeding = treatment(w.org.clinic, client, 0.5, today());
    bleeding.endpoint = Endpoint::PinpointBleeding;
    let e = failure(
        w.app
            .create_treatment(&esthetician, bleeding.clone(), None)
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");
    // A roller session with a pen cartridge is a mistake in the request.
    let mut mismatched = treatment(w.org.clinic, client, 0.5, today());
    mismatched.device_kind = skinledger_domain::clinical::DeviceKind::Pen;
    let e = failure(w.app.create_treatment(&esthetician, mismatched, None).await);
    assert!(invalid_fields(&e).contains(&"device_kind".to_owned()));

    let mut policy = ClinicalPolicy::default();
    for rule in &mut policy.endpoints_by_role {
        if rule.role == Role::Esthetician {
            rule.endpoints.push(Endpoint::PinpointBleeding);
        }
    }
    w.app
        .put_policy(&w.org.admin, policy, None)
        .await
        .expect("policy changed");
    w.treat(&esthetician, bleeding).await;
}

async fn a_session_at_half_past_eleven_utc_in_auckland_is_on_the_next_local_day(db: Db) {
    let w = World::new(db).await;
    let auckland = TimeZone::parse("Pacific/Auckland").expect("a zone");
    let clinic = w
        .app
        .create_clinic(
            &w.org.admin,
            NewClinic {
                name: "Auckland".into(),
                address: None,
                phone: None,
                timezone: Some(auckland),
            },
            None,
        )
        .await
        .expect("clinic opened");
    assert_eq!(clinic.timezone, auckland);
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic.id).await;
    let (app, admin) = (&w.app, &w.org.admin);
    let p = inventory_support::add_product(app, admin, roller("Kiwi roller 0.5 mm", 0.5)).await;
    app.receive_stock(
        admin,
        clinic.id,
        ReceiptRequest {
            product_id: Some(p.id),
            lot_number: Some(inventory_support::lot_no("KIWI-1")),
            expiry: Some(today() + Days::new(90)),
            quantity: Some(2),
            received_at: Some(Utc::now() - Duration::days(6)),
            ..ReceiptRequest::default()
        },
        None,
    )
    .await
    .expect("received");
    let client = w.client(&nurse, "Kia", "Ora").await;
    w.screening(&nurse, client.id, days_ago(5), ScreeningAnswers::default())
        .await;
    // The last 23:30 UTC at least a day ago.
    let yesterday = today() - Days::new(2);
    let at = Utc.from_utc_datetime(&yesterday.and_hms_opt(23, 30, 0).expect("a time"));
    let mut session = treatment_using(
        clinic.id,
        client.id,
        vec![ConsumableRequest {
            product_id: p.id,
            serial: None,
            lot_id: None,
            quantity: 1,
        }],
    );
    session.performed_at = Some(at);
    session.needle_depth_mm = mm(0.5);
    let t = w.treat(&nurse, session).await;
    let local = yesterday + Days::new(1);
    assert_eq!(t.clinical.as_ref().map(|c| c.performed_on), Some(local));
    let care = w
        .app
        .get_treatment_aftercare(&nurse, t.id)
        .await
        .expect("aftercare");
    assert_eq!(care.performed_on, local);
    let first = care.aftercare.instructions.first().expect("an instruction");
    assert_eq!(first.until, local + Days::new(u64::from(first.days)));
    // The interval counts from the local day too.
    let next = w
        .app
        .check_eligibility(
            &nurse,
            skinledger_app::eligibility::EligibilityRequest {
                client_id: client.id,
                clinic_id: clinic.id,
                practitioner_id: None,
                needle_depth_mm: mm(0.5),
                date: Some(today()),
                endpoint: None,
            },
        )
        .await
        .expect("checked");
    assert_eq!(next.earliest_eligible_on, Some(local + Days::new(14)));
}

/// One unit of `lot` written off because it fell.
fn dropped(lot_id: uuid::Uuid, serial: Option<&str>) -> DisposalRequest {
    DisposalRequest {
        lot_id,
        serial: serial.map(inventory_support::serial),
        reason: DisposalReason::Dropped,
        note: Some("fell off the tray".into()),
    }
}

async fn the_chair_writes_off_a_unit_and_more_than_one_a_day_shows_in_the_report(db: Db) {
    let mut w = World::new(db).await;
    let (admin, clinic, other) = (w.org.admin.clone(), w.org.clinic, w.org.other_clinic);
    let app = w.app.clone();
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, clinic).await;
    let esthetician = w
        .staff(&w.org, "esthetician", Role::Esthetician, clinic)
        .await;
    let manager = w
        .staff(&w.org, "manager", Role::ClinicManager, clinic)
        .await;
    let manager_b = w
        .staff(&w.org, "manager-b", Role::ClinicManager, other)
        .await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, clinic).await;
    let nurse_b = w.staff(&w.org, "nurse-b", Role::Nurse, other).await;
    let p = inventory_support::add_product(&app, &admin, roller("Tray roller 0.5 mm", 0.5)).await;
    let by_count = receive(
        &app,
        &admin,
        clinic,
        p.id,
        "TRAY-1",
        today() + Days::new(90),
        3,
    )
    .await;
    let by_serial = app
        .receive_stock(
            &admin,
            clinic,
            ReceiptRequest {
                product_id: Some(p.id),
                lot_number: Some(inventory_support::lot_no("TRAY-SN")),
                expiry: Some(today() + Days::new(120)),
                serials: vec![
                    inventory_support::serial("SN-A"),
                    inventory_support::serial("SN-B"),
                ],
                ..ReceiptRequest::default()
            },
            None,
        )
        .await
        .expect("serialised delivery");

    // A practitioner of the clinic writes a unit off: one movement, one unit fewer.
    let first = app
        .record_disposal(&nurse, clinic, dropped(by_count.lot.id, None), None)
        .await
        .expect("written off");
    assert_eq!(first.balance.on_hand, 2);
    assert_eq!(first.reason, DisposalReason::Dropped);
    assert_eq!(Some(first.actor_id), nurse.staff_id());
    let ledger = app
        .list_movements(
            &admin,
            clinic,
            &skinledger_app::stock::MovementQuery {
                lot_id: Some(by_count.lot.id),
            },
            &skinledger_app::PageParams::default(),
        )
        .await
        .expect("ledger");
    let last = ledger.items.last().expect("a movement");
    assert_eq!(
        (last.kind, last.quantity, last.reason.as_deref()),
        (MovementKind::Disposal, -1, Some("dropped"))
    );

    // Only clinical roles of that clinic write units off.
    for who in [&desk, &manager, &nurse_b, &admin] {
        let e = failure(
            app.record_disposal(who, clinic, dropped(by_count.lot.id, None), None)
                .await,
        );
        assert_eq!(e.code(), "forbidden");
    }

    // A lot received with serials: the unit is named, and only a unit on this shelf.
    let e = failure(
        app.record_disposal(&nurse, clinic, dropped(by_serial.lot.id, None), None)
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["serial"]);
    let e = failure(
        app.record_disposal(
            &nurse,
            clinic,
            dropped(by_serial.lot.id, Some("SN-Z")),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "unknown_serial");
    let sn_a = app
        .record_disposal(
            &esthetician,
            clinic,
            DisposalRequest {
                reason: DisposalReason::PackagingDamaged,
                ..dropped(by_serial.lot.id, Some("SN-A"))
            },
            None,
        )
        .await
        .expect("named unit written off");
    assert_eq!(sn_a.serial.as_deref(), Some("SN-A"));
    let e = failure(
        app.record_disposal(
            &nurse,
            clinic,
            dropped(by_serial.lot.id, Some("SN-A")),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "serial_already_used");
    // A unit written off can never be used in a treatment afterwards.
    let client = eligible_client(&w, &nurse, "Never", "Twice").await;
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(
                clinic,
                client,
                vec![ConsumableRequest {
                    product_id: p.id,
                    serial: Some(inventory_support::serial("SN-A")),
                    lot_id: None,
                    quantity: 1,
                }],
            ),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "serial_already_used");
    // A serial named for stock received by quantity is registered, so it is gone too.
    app.record_disposal(
        &nurse,
        clinic,
        dropped(by_count.lot.id, Some("LOOSE-1")),
        None,
    )
    .await
    .expect("a unit received by quantity, named at disposal");
    let e = failure(
        app.create_treatment(
            &nurse,
            treatment_using(
                clinic,
                client,
                vec![ConsumableRequest {
                    product_id: p.id,
                    serial: Some(inventory_support::serial("LOOSE-1")),
                    lot_id: None,
                    quantity: 1,
                }],
            ),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "serial_already_used");

    // The shelf can run empty, and a recalled lot is in quarantine, not on a tray.
    app.record_disposal(&nurse, clinic, dropped(by_count.lot.id, None), None)
        .await
        .expect("the last unit");
    let e = failure(
        app.record_disposal(&nurse, clinic, dropped(by_count.lot.id, None), None)
            .await,
    );
    assert_eq!(conflict_code(&e), "out_of_stock");
    app.recall_lot(
        &admin,
        by_serial.lot.id,
        RecallRequest {
            reason: "maker's notice".into(),
        },
        None,
    )
    .await
    .expect("recalled");
    let e = failure(
        app.record_disposal(
            &nurse,
            clinic,
            dropped(by_serial.lot.id, Some("SN-B")),
            None,
        )
        .await,
    );
    assert_eq!(conflict_code(&e), "lot_recalled");
    inventory_support::assert_ledger_holds(&app, &admin, clinic).await;

    // The nurse wrote off three units today, the esthetician one: only the nurse shows.
    let period = ReportPeriod {
        from: days_ago(1),
        to: today(),
        clinic_id: None,
    };
    let lines = app
        .disposal_report(&manager, &period)
        .await
        .expect("report");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(Some(line.actor_id), nurse.staff_id());
    assert_eq!(line.actor_name.as_deref(), Some("nurse"));
    assert_eq!(
        (line.day, line.clinic_id, line.disposals),
        (today(), clinic, 3)
    );
    assert_eq!(line.reasons.dropped, 3);
    assert_eq!(
        app.disposal_report(&admin, &period).await.expect("report"),
        lines
    );
    // Another clinic's manager sees none of it, and asking for this clinic is refused.
    assert!(
        app.disposal_report(&manager_b, &period)
            .await
            .expect("report")
            .is_empty()
    );
    let e = failure(
        app.disposal_report(
            &manager_b,
            &ReportPeriod {
                clinic_id: Some(clinic),
                ..period.clone()
            },
        )
        .await,
    );
    assert_eq!(e.code(), "forbidden");
    let e = failure(app.disposal_report(&nurse, &period).await);
    assert_eq!(e.code(), "forbidden");
    let e = failure(
        app.disposal_report(
            &manager,
            &ReportPeriod {
                from: today(),
                to: days_ago(1),
                clinic_id: None,
            },
        )
        .await,
    );
    assert_eq!(invalid_fields(&e), vec!["to"]);

    // Every refused write-off is on the record, as the nurse's successes are.
    let log = w.audit_log().await;
    let codes: Vec<_> = log
        .iter()
        .filter(|e| e.action == "unit.dispose" && e.outcome != "success")
        .filter_map(|e| e.detail.as_ref()?["code"].as_str().map(str::to_owned))
        .collect();
    for code in [
        "forbidden",
        "validation_failed",
        "unknown_serial",
        "serial_already_used",
        "out_of_stock",
        "lot_recalled",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} in {codes:?}");
    }
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "unit.dispose" && e.outcome == "success")
            .count(),
        4
    );
}

async fn a_manager_sets_their_reorder_point_but_never_what_is_safe_at_every_clinic(db: Db) {
    let w = World::new(db).await;
    let (app, admin, clinic) = (&w.app, &w.org.admin, w.org.clinic);
    let manager = w
        .staff(&w.org, "manager", Role::ClinicManager, clinic)
        .await;
    let p = inventory_support::add_product(app, admin, roller("Labelled roller 1.0 mm", 1.0)).await;
    let deeper = ProductChanges {
        max_depth_mm: Some(mm(0.5)),
        ..ProductChanges::default()
    };
    let e = failure(
        app.update_product(&manager, p.id, deeper.clone(), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let unchanged = app.get_product(admin, p.id).await.expect("product");
    assert_eq!(
        (unchanged.max_depth_mm, unchanged.version),
        (p.max_depth_mm, p.version)
    );
    app.update_product(
        &manager,
        p.id,
        ProductChanges {
            clinic_reorder_points: Some(vec![ClinicReorderPointChange {
                clinic_id: clinic,
                reorder_point: Some(5),
            }]),
            ..ProductChanges::default()
        },
        None,
    )
    .await
    .expect("own reorder point");
    let changed = app
        .update_product(admin, p.id, deeper, None)
        .await
        .expect("the organisation changes the label");
    assert_eq!(changed.max_depth_mm, Some(mm(0.5)));
}
