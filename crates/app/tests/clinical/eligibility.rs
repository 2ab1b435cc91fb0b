//! Eligibility: each blocker alone and together, treatments refused, interval bands.

use chrono::Days;
use skinledger_app::eligibility::EligibilityRequest;
use skinledger_app::{Error, PageParams};
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::eligibility::Blocker;
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;

use crate::answers_with;
use crate::clinical_support::{World, blocker_codes, days_ago, failure, mm, today, treatment};

skinledger_store::on_both_backends!(
    each_eligibility_blocker_is_reported_alone_and_all_together,
    treatment_creation_refuses_with_the_first_blocker_and_lists_them_all,
    interval_bands_hold_at_their_edges,
);

async fn each_eligibility_blocker_is_reported_alone_and_all_together(db: Db) {
    let w = World::new(db).await;
    w.allow_backdating_a_year().await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let elsewhere = w
        .staff(&w.org, "elsewhere", Role::Nurse, w.org.other_clinic)
        .await;
    let dry_run = |client, depth: f64| EligibilityRequest {
        client_id: client,
        clinic_id: w.org.clinic,
        practitioner_id: None,
        needle_depth_mm: mm(depth),
        date: None,
        endpoint: None,
    };
    let codes = |answer: &skinledger_app::eligibility::EligibilityAnswer| -> Vec<&'static str> {
        answer
            .blockers
            .iter()
            .flatten()
            .map(|b| b.code().as_str())
            .collect()
    };

    // No screening at all.
    let unscreened = w.client(&nurse, "Una", "Screened").await;
    let a = w
        .app
        .check_eligibility(&nurse, dry_run(unscreened.id, 1.0))
        .await
        .expect("checked");
    assert_eq!(codes(&a), vec!["no_valid_screening"]);
    assert_eq!(a.earliest_eligible_on, Some(today()));
    assert!(!a.eligible);

    // An expired screening counts as none.
    let expired = w.client(&nurse, "Ex", "Pired").await;
    w.screening(
        &nurse,
        expired.id,
        days_ago(31),
        ScreeningAnswers::default(),
    )
    .await;
    let a = w
        .app
        .check_eligibility(&nurse, dry_run(expired.id, 1.0))
        .await
        .expect("checked");
    assert_eq!(codes(&a), vec!["no_valid_screening"]);

    // Each screening outcome alone.
    for (factor, code) in [
        (Contraindication::Pregnancy, "contraindicated"),
        (Contraindication::HerpesHistory, "requires_clearance"),
        (Contraindication::RecentWaxingOrResurfacing, "deferred"),
    ] {
        let client = w.client(&nurse, "Solo", factor.as_str()).await;
        w.screening(&nurse, client.id, today(), answers_with(factor))
            .await;
        let a = w
            .app
            .check_eligibility(&nurse, dry_run(client.id, 1.0))
            .await
            .expect("checked");
        assert_eq!(codes(&a), vec![code], "{factor}");
        let expected_earliest = match code {
            // Waxing three days ago defers to fourteen days after it.
            "deferred" => Some(days_ago(3) + Days::new(14)),
            _ => None,
        };
        assert_eq!(a.earliest_eligible_on, expected_earliest, "{factor}");
    }

    // Too soon after the last session.
    let regular = w.client(&nurse, "Reg", "Ular").await;
    w.screening(
        &nurse,
        regular.id,
        days_ago(20),
        ScreeningAnswers::default(),
    )
    .await;
    w.treat(
        &nurse,
        treatment(w.org.clinic, regular.id, 1.0, days_ago(20)),
    )
    .await;
    let a = w
        .app
        .check_eligibility(&nurse, dry_run(regular.id, 1.0))
        .await
        .expect("checked");
    assert_eq!(
        a.blockers,
        Some(vec![Blocker::TooSoon {
            next_eligible_on: days_ago(20) + Days::new(28)
        }])
    );
    assert_eq!(a.earliest_eligible_on, Some(days_ago(20) + Days::new(28)));

    // Beyond the nurse's depth, and the practitioner not assigned to the clinic.
    let fine = w.client(&nurse, "Fine", "Client").await;
    w.screening(&nurse, fine.id, today(), ScreeningAnswers::default())
        .await;
    let a = w
        .app
        .check_eligibility(&nurse, dry_run(fine.id, 2.0))
        .await
        .expect("checked");
    assert_eq!(codes(&a), vec!["outside_scope_of_practice"]);
    assert_eq!(
        a.blockers.as_deref().and_then(<[Blocker]>::first),
        Some(&Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(mm(1.5)),
            endpoint: None,
        })
    );
    let a = w
        .app
        .check_eligibility(&elsewhere, dry_run(fine.id, 0.5))
        .await
        .expect("checked");
    assert_eq!(codes(&a), vec!["not_assigned_to_clinic"]);
    // The same, asked by a physician on the other practitioner's behalf.
    let on_behalf = EligibilityRequest {
        practitioner_id: elsewhere.staff_id(),
        ..dry_run(fine.id, 0.5)
    };
    let a = w
        .app
        .check_eligibility(&physician, on_behalf)
        .await
        .expect("checked");
    assert_eq!(codes(&a), vec!["not_assigned_to_clinic"]);
    // A practitioner who has left holds no role anywhere, whatever their role rows say.
    let leaver = w.staff(&w.org, "leaver", Role::Nurse, w.org.clinic).await;
    let for_leaver = || EligibilityRequest {
        practitioner_id: leaver.staff_id(),
        ..dry_run(fine.id, 0.5)
    };
    let a = w
        .app
        .check_eligibility(&physician, for_leaver())
        .await
        .expect("checked");
    assert!(a.eligible, "{a:?}");
    w.app
        .deactivate_staff(&w.org.admin, leaver.staff_id().expect("a staff member"))
        .await
        .expect("deactivated");
    let a = w
        .app
        .check_eligibility(&physician, for_leaver())
        .await
        .expect("checked");
    assert_eq!(codes(&a), vec!["not_assigned_to_clinic"]);
    let a = w
        .app
        .check_eligibility(&nurse, dry_run(fine.id, 1.5))
        .await
        .expect("checked");
    assert!(a.eligible);
    assert_eq!(a.earliest_eligible_on, Some(today()));

    // Everything at once: every blocker reported, in a stable order.
    let everything = ScreeningAnswers {
        pregnant: true,
        herpes_history: true,
        last_waxing_or_resurfacing_on: Some(days_ago(3)),
        ..ScreeningAnswers::default()
    };
    w.screening(&nurse, regular.id, today(), everything).await;
    let a = w
        .app
        .check_eligibility(&nurse, dry_run(regular.id, 2.0))
        .await
        .expect("checked");
    assert_eq!(
        codes(&a),
        vec![
            "contraindicated",
            "requires_clearance",
            "deferred",
            "too_soon",
            "outside_scope_of_practice",
        ]
    );
    assert_eq!(a.earliest_eligible_on, None);
    let a = w
        .app
        .check_eligibility(&elsewhere, dry_run(unscreened.id, 1.0))
        .await
        .expect("checked");
    assert_eq!(
        codes(&a),
        vec!["no_valid_screening", "not_assigned_to_clinic"]
    );
}

async fn treatment_creation_refuses_with_the_first_blocker_and_lists_them_all(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let elsewhere = w
        .staff(&w.org, "elsewhere", Role::Nurse, w.org.other_clinic)
        .await;

    let unscreened = w.client(&nurse, "Una", "Screened").await;
    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, unscreened.id, 1.0, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "no_valid_screening");
    assert_eq!(blocker_codes(&e), vec!["no_valid_screening"]);

    for (factor, code) in [
        (Contraindication::Pregnancy, "contraindicated"),
        (Contraindication::VerySensitiveSkin, "requires_clearance"),
        (Contraindication::RecentWaxingOrResurfacing, "deferred"),
    ] {
        let client = w.client(&nurse, "Solo", factor.as_str()).await;
        w.screening(&nurse, client.id, today(), answers_with(factor))
            .await;
        let e = failure(
            w.app
                .create_treatment(
                    &nurse,
                    treatment(w.org.clinic, client.id, 1.0, today()),
                    None,
                )
                .await,
        );
        assert_eq!(e.code(), code, "{factor}");
        assert!(matches!(e, Error::Conflict { .. }));
    }

    let client = w.client(&nurse, "Two", "Sessions").await;
    w.screening(&nurse, client.id, days_ago(5), ScreeningAnswers::default())
        .await;
    w.treat(&nurse, treatment(w.org.clinic, client.id, 0.5, days_ago(5)))
        .await;
    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "too_soon");

    let e = failure(
        w.app
            .create_treatment(
                &elsewhere,
                treatment(w.org.clinic, client.id, 0.5, days_ago(5)),
                None,
            )
            .await,
    );
    // Too soon as well (the same day as the first), but who treats decides first: 403.
    assert_eq!(e.code(), "not_assigned_to_clinic");
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");

    let fresh = w.client(&nurse, "Fresh", "Face").await;
    w.screening(&nurse, fresh.id, today(), ScreeningAnswers::default())
        .await;
    let e = failure(
        w.app
            .create_treatment(
                &elsewhere,
                treatment(w.org.clinic, fresh.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "not_assigned_to_clinic");

    let everything = ScreeningAnswers {
        pregnant: true,
        herpes_history: true,
        last_waxing_or_resurfacing_on: Some(days_ago(3)),
        ..ScreeningAnswers::default()
    };
    w.screening(&nurse, client.id, today(), everything).await;
    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 1.0, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "contraindicated");
    assert_eq!(
        blocker_codes(&e),
        vec![
            "contraindicated",
            "requires_clearance",
            "deferred",
            "too_soon"
        ]
    );

    // Nothing was written by the refusals.
    let listed = w
        .app
        .list_client_treatments(&nurse, client.id, &PageParams::default())
        .await
        .expect("treatments");
    assert_eq!(listed.items.len(), 1);
}

async fn interval_bands_hold_at_their_edges(db: Db) {
    let w = World::new(db).await;
    w.allow_backdating_a_year().await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let start = days_ago(100);
    let check = |client, depth: f64, after: u64| EligibilityRequest {
        client_id: client,
        clinic_id: w.org.clinic,
        practitioner_id: None,
        needle_depth_mm: mm(depth),
        date: Some(start + Days::new(after)),
        endpoint: None,
    };
    for (depth, min_days) in [(0.5, 14), (0.51, 28), (1.0, 28), (1.01, 42)] {
        let client = w.client(&nurse, "Band", &depth.to_string()).await;
        w.screening(&nurse, client.id, start, ScreeningAnswers::default())
            .await;
        // Rescreened each few weeks, so that only the interval decides.
        w.screening(
            &nurse,
            client.id,
            start + Days::new(25),
            ScreeningAnswers::default(),
        )
        .await;
        w.treat(&nurse, treatment(w.org.clinic, client.id, depth, start))
            .await;
        let early = w
            .app
            .check_eligibility(&nurse, check(client.id, depth, min_days - 1))
            .await
            .expect("checked");
        assert_eq!(
            early.blockers,
            Some(vec![Blocker::TooSoon {
                next_eligible_on: start + Days::new(min_days)
            }]),
            "{depth} mm, day {}",
            min_days - 1
        );
        let on_time = w
            .app
            .check_eligibility(&nurse, check(client.id, depth, min_days))
            .await
            .expect("checked");
        assert!(on_time.eligible, "{depth} mm, day {min_days}: {on_time:?}");
    }
}
