//! Session dates: intervals both ways, back-dating, and the clinic's local day.

use chrono::{Days, Duration, TimeZone as _, Utc};
use skinledger_app::clinics::NewClinic;
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::receipts::ReceiptRequest;
use skinledger_domain::local_time::TimeZone;
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;

use crate::clinical_support::{World, days_ago, failure, invalid_fields, mm, today, treatment};
use crate::inventory_support;
use crate::inventory_support::{conflict_code, receive, roller, treatment_using};

skinledger_store::on_both_backends!(
    a_session_dated_inside_the_interval_before_or_after_another_is_refused_and_the_edges_pass,
    back_dating_beyond_the_policy_or_before_the_first_screening_is_refused,
    a_unit_received_after_a_back_dated_session_was_not_there_for_it,
    a_session_at_half_past_eleven_utc_in_auckland_is_on_the_next_local_day,
);

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
