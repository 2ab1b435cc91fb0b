//! Clinical records through the app layer: policy, clients, screenings and clearances,
//! eligibility, treatments with signing, addenda, adverse events and aftercare, courses, who sees
//! what, idempotency and tenant isolation. Every scenario runs on SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

mod clinical_support;

use chrono::Days;
use clinical_support::{
    World, blocker_codes, days_ago, failure, invalid_fields, json_keys, mm, new_client, today,
    treatment,
};
use skinledger_app::clients::ClientChanges;
use skinledger_app::courses::NewCourse;
use skinledger_app::eligibility::EligibilityRequest;
use skinledger_app::screenings::{NewClearance, NewScreening};
use skinledger_app::treatments::{
    ClinicalRecord, NewAddendum, NewAdverseEvent, Treatment, TreatmentChanges,
};
use skinledger_app::{Error, IdempotencyKey, PageParams};
use skinledger_domain::clinical::{AdverseEventKind, Severity, TreatmentStatus};
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::eligibility::Blocker;
use skinledger_domain::policy::{ClinicalPolicy, FactorOutcome, default_rule};
use skinledger_domain::role::Role;
use skinledger_domain::screening::{Outcome, ScreeningAnswers};
use skinledger_store::Db;

skinledger_store::on_both_backends!(
    every_factor_has_its_default_outcome_and_a_policy_change_alters_it,
    only_an_org_admin_changes_the_policy_and_a_bad_one_is_refused_field_by_field,
    each_eligibility_blocker_is_reported_alone_and_all_together,
    treatment_creation_refuses_with_the_first_blocker_and_lists_them_all,
    interval_bands_hold_at_their_edges,
    an_esthetician_cannot_treat_deeper_than_half_a_millimetre_nor_a_nurse_than_one_and_a_half,
    a_physician_may_override_too_soon_and_the_reason_is_recorded,
    only_a_physician_clears_a_factor_and_a_contraindication_cannot_be_cleared,
    a_signed_record_cannot_change_but_takes_addenda_and_adverse_events,
    aftercare_end_dates_count_from_the_treatment_day,
    front_desk_never_receives_clinical_fields,
    one_idempotency_key_sent_ten_times_creates_one_client_and_one_treatment,
    another_organisations_clients_screenings_and_treatments_are_not_found,
    clients_are_found_by_name_email_or_phone_prefix_and_if_match_guards_changes,
    a_course_counts_its_treatments_and_shows_the_next_window,
    writes_and_reads_of_clinical_data_are_audited_naming_the_client,
);

fn answers_with(factor: Contraindication) -> ScreeningAnswers {
    let mut a = ScreeningAnswers::default();
    match factor {
        Contraindication::Pregnancy => a.pregnant = true,
        Contraindication::ActiveAcne => a.active_acne = true,
        Contraindication::InflamedOrInfectedSkin => a.inflamed_or_infected_skin = true,
        Contraindication::ActiveHerpes => a.active_herpes = true,
        Contraindication::HerpesHistory => a.herpes_history = true,
        Contraindication::EczemaOrRosacea => a.eczema_or_rosacea = true,
        Contraindication::Anticoagulants => a.anticoagulants = true,
        Contraindication::AntiInflammatoryMedication => {
            a.last_anti_inflammatory_dose_on = Some(days_ago(2));
        }
        Contraindication::AutoimmuneDisease => a.autoimmune_disease = true,
        Contraindication::FrequentAlcoholUse => a.frequent_alcohol_use = true,
        Contraindication::VerySensitiveSkin => a.very_sensitive_skin = true,
        Contraindication::RecentWaxingOrResurfacing => {
            a.last_waxing_or_resurfacing_on = Some(days_ago(3));
        }
    }
    a
}

fn expected_outcome(rule: FactorOutcome) -> Outcome {
    match rule {
        FactorOutcome::Contraindicated => Outcome::Contraindicated,
        FactorOutcome::RequiresClearance => Outcome::RequiresClearance,
        FactorOutcome::Deferred => Outcome::Deferred,
        FactorOutcome::Allowed => Outcome::Eligible,
    }
}

fn policy_with(factor: Contraindication, outcome: FactorOutcome) -> ClinicalPolicy {
    let mut policy = ClinicalPolicy::default();
    for rule in &mut policy.contraindications {
        if rule.factor == factor {
            rule.outcome = outcome;
        }
    }
    policy
}

async fn every_factor_has_its_default_outcome_and_a_policy_change_alters_it(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    for factor in Contraindication::ALL {
        // A client of their own per factor: a later screening of the same client denying the
        // factor would need a physician's confirmation.
        let client = w.client(&nurse, "Anna", factor.as_str()).await;
        let s = w
            .screening(&nurse, client.id, today(), answers_with(factor))
            .await;
        let expected = expected_outcome(default_rule(factor));
        assert_eq!(s.outcome_at_screening, expected, "{factor}");
        assert_eq!(s.reasons.len(), 1, "{factor}");
        assert_eq!(s.reasons[0].factor, factor);
        assert_eq!(s.reasons[0].outcome, expected, "{factor}");
        assert_eq!(s.policy_version, 0);
    }

    let client = w.client(&nurse, "Anna", "Berg").await;
    let alcohol = answers_with(Contraindication::FrequentAlcoholUse);
    let before = w
        .screening(&nurse, client.id, today(), alcohol.clone())
        .await;
    assert_eq!(before.outcome, Outcome::Contraindicated);

    let changed = w
        .app
        .put_policy(
            &w.org.admin,
            policy_with(
                Contraindication::FrequentAlcoholUse,
                FactorOutcome::RequiresClearance,
            ),
            Some(0),
        )
        .await
        .expect("policy changed");
    assert_eq!(changed.version, 1);

    let after = w.screening(&nurse, client.id, today(), alcohol).await;
    assert_eq!(after.outcome, Outcome::RequiresClearance);
    assert_eq!(after.policy_version, 1);
    // The earlier screening keeps what it was judged under.
    let listed = w
        .app
        .list_client_screenings(&nurse, client.id, &PageParams::default())
        .await
        .expect("screenings");
    let earlier = listed
        .items
        .iter()
        .find(|s| s.id == before.id)
        .expect("earlier screening listed");
    assert_eq!(earlier.outcome, Outcome::Contraindicated);
    assert_eq!(earlier.policy_version, 0);
}

async fn only_an_org_admin_changes_the_policy_and_a_bad_one_is_refused_field_by_field(db: Db) {
    let w = World::new(db).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;

    let current = w.app.get_policy(&physician).await.expect("policy readable");
    assert_eq!(current.version, 0);
    assert_eq!(current.document, ClinicalPolicy::default());

    let refused = failure(
        w.app
            .put_policy(&physician, ClinicalPolicy::default(), None)
            .await,
    );
    assert_eq!(refused.code(), "forbidden");

    let bad = ClinicalPolicy {
        screening_validity_days: 0,
        ..ClinicalPolicy::default()
    };
    let invalid = failure(w.app.put_policy(&w.org.admin, bad, None).await);
    assert_eq!(invalid_fields(&invalid), vec!["screening_validity_days"]);

    // The unchanged policy makes no new version.
    let same = w
        .app
        .put_policy(&w.org.admin, ClinicalPolicy::default(), None)
        .await
        .expect("unchanged policy accepted");
    assert_eq!(same.version, 0);

    let longer = ClinicalPolicy {
        screening_validity_days: 60,
        ..ClinicalPolicy::default()
    };
    let v1 = w
        .app
        .put_policy(&w.org.admin, longer.clone(), None)
        .await
        .expect("policy changed");
    assert_eq!(v1.version, 1);
    let stale = failure(
        w.app
            .put_policy(&w.org.admin, ClinicalPolicy::default(), Some(0))
            .await,
    );
    assert!(matches!(stale, Error::PreconditionFailed));
    let read = w.app.get_policy(&physician).await.expect("policy readable");
    assert_eq!(read.version, 1);
    assert_eq!(read.document, longer);
}

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

async fn an_esthetician_cannot_treat_deeper_than_half_a_millimetre_nor_a_nurse_than_one_and_a_half(
    db: Db,
) {
    let w = World::new(db).await;
    let esthetician = w
        .staff(&w.org, "esthetician", Role::Esthetician, w.org.clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let front_desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let mut clients = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let c = w.client(&nurse, name, "Client").await;
        w.screening(&nurse, c.id, today(), ScreeningAnswers::default())
            .await;
        clients.push(c.id);
    }

    let e = failure(
        w.app
            .create_treatment(
                &esthetician,
                treatment(w.org.clinic, clients[0], 0.75, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");
    assert!(matches!(e, Error::Forbidden { .. }));
    w.treat(
        &esthetician,
        treatment(w.org.clinic, clients[0], 0.5, today()),
    )
    .await;

    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, clients[1], 1.75, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");
    let t = w
        .treat(&nurse, treatment(w.org.clinic, clients[1], 1.5, today()))
        .await;

    // A depth correction of a draft is held to the same limit.
    let e = failure(
        w.app
            .update_treatment(
                &nurse,
                t.id,
                TreatmentChanges {
                    needle_depth_mm: Some(mm(2.0)),
                    ..TreatmentChanges::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");

    // Front desk does not treat at all.
    let e = failure(
        w.app
            .create_treatment(
                &front_desk,
                treatment(w.org.clinic, clients[2], 0.25, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "forbidden");
}

async fn a_physician_may_override_too_soon_and_the_reason_is_recorded(db: Db) {
    let w = World::new(db).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Quick", "Return").await;
    w.screening(&nurse, client.id, days_ago(5), ScreeningAnswers::default())
        .await;
    w.treat(
        &physician,
        treatment(w.org.clinic, client.id, 0.5, days_ago(5)),
    )
    .await;

    let mut again = treatment(w.org.clinic, client.id, 0.5, today());
    let e = failure(
        w.app
            .create_treatment(&physician, again.clone(), None)
            .await,
    );
    assert_eq!(e.code(), "too_soon");

    again.interval_override_reason = Some("touch-up of one scar, agreed with client".into());
    let e = failure(w.app.create_treatment(&nurse, again.clone(), None).await);
    assert_eq!(e.code(), "forbidden");

    let t = w.treat(&physician, again).await;
    assert_eq!(
        clinical(&t).interval_override_reason.as_deref(),
        Some("touch-up of one scar, agreed with client")
    );
    let read = w.app.get_treatment(&physician, t.id).await.expect("read");
    assert_eq!(
        clinical(&read).interval_override_reason,
        clinical(&t).interval_override_reason
    );

    // An override does not lift anything else.
    let pregnant = w.client(&nurse, "Not", "Now").await;
    w.screening(
        &nurse,
        pregnant.id,
        today(),
        answers_with(Contraindication::Pregnancy),
    )
    .await;
    let mut attempt = treatment(w.org.clinic, pregnant.id, 0.5, today());
    attempt.interval_override_reason = Some("urgent".into());
    let e = failure(w.app.create_treatment(&physician, attempt, None).await);
    assert_eq!(e.code(), "contraindicated");
}

async fn only_a_physician_clears_a_factor_and_a_contraindication_cannot_be_cleared(db: Db) {
    let w = World::new(db).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Herpes", "History").await;
    let answers = ScreeningAnswers {
        herpes_history: true,
        very_sensitive_skin: true,
        ..ScreeningAnswers::default()
    };
    let s = w.screening(&nurse, client.id, today(), answers).await;
    assert_eq!(s.outcome, Outcome::RequiresClearance);
    let clearance = |factor| NewClearance {
        factor,
        reason: "antiviral prophylaxis prescribed".into(),
    };

    let e = failure(
        w.app
            .clear_screening_factor(
                &nurse,
                s.id,
                clearance(Contraindication::HerpesHistory),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    let e = failure(
        w.app
            .clear_screening_factor(
                &physician,
                s.id,
                clearance(Contraindication::Pregnancy),
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["factor"]);

    let once = w
        .app
        .clear_screening_factor(
            &physician,
            s.id,
            clearance(Contraindication::HerpesHistory),
            None,
        )
        .await
        .expect("cleared");
    assert_eq!(once.outcome, Outcome::RequiresClearance);
    assert_eq!(once.outcome_at_screening, Outcome::RequiresClearance);
    let e = failure(
        w.app
            .clear_screening_factor(
                &physician,
                s.id,
                clearance(Contraindication::HerpesHistory),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "already_exists");
    let both = w
        .app
        .clear_screening_factor(
            &physician,
            s.id,
            clearance(Contraindication::VerySensitiveSkin),
            None,
        )
        .await
        .expect("cleared");
    assert_eq!(both.outcome, Outcome::Eligible);
    assert_eq!(both.clearances.len(), 2);
    assert_eq!(
        both.clearances[0].cleared_by,
        physician.staff_id().expect("staff")
    );
    w.treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;

    let pregnant = w.client(&nurse, "Pre", "Gnant").await;
    let s = w
        .screening(
            &nurse,
            pregnant.id,
            today(),
            answers_with(Contraindication::Pregnancy),
        )
        .await;
    let e = failure(
        w.app
            .clear_screening_factor(
                &physician,
                s.id,
                clearance(Contraindication::Pregnancy),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "contraindicated");
    assert!(matches!(e, Error::Conflict { .. }));
}

async fn a_signed_record_cannot_change_but_takes_addenda_and_adverse_events(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let colleague = w
        .staff(&w.org, "colleague", Role::Nurse, w.org.clinic)
        .await;
    let client = w.client(&nurse, "Sig", "Ned").await;
    w.screening(&nurse, client.id, days_ago(1), ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, days_ago(1)))
        .await;
    assert_eq!(t.status, TreatmentStatus::Draft);
    assert_eq!(t.version(), Some(1));

    let notes = |text: &str| TreatmentChanges {
        notes: Some(text.into()),
        passes: Some(8),
        ..TreatmentChanges::default()
    };
    let e = failure(
        w.app
            .update_treatment(&colleague, t.id, notes("not mine"), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    let edited = w
        .app
        .update_treatment(&nurse, t.id, notes("slight redness"), Some(1))
        .await
        .expect("draft edited");
    assert_eq!(edited.version(), Some(2));
    assert_eq!(clinical(&edited).notes.as_deref(), Some("slight redness"));
    assert_eq!(clinical(&edited).passes, 8);
    let e = failure(
        w.app
            .update_treatment(&nurse, t.id, notes("stale"), Some(1))
            .await,
    );
    assert!(matches!(e, Error::PreconditionFailed));

    let e = failure(w.app.sign_treatment(&colleague, t.id, None, None).await);
    assert_eq!(e.code(), "forbidden");
    let signed = w
        .app
        .sign_treatment(&nurse, t.id, Some(2), None)
        .await
        .expect("signed");
    assert_eq!(signed.status, TreatmentStatus::Signed);
    assert_eq!(clinical(&signed).signed_by, nurse.staff_id());
    assert!(clinical(&signed).signed_at.is_some());

    let e = failure(
        w.app
            .update_treatment(&nurse, t.id, notes("too late"), None)
            .await,
    );
    assert_eq!(e.code(), "record_signed");
    let e = failure(w.app.sign_treatment(&nurse, t.id, None, None).await);
    assert_eq!(e.code(), "record_signed");

    let addendum = w
        .app
        .add_treatment_addendum(
            &colleague,
            t.id,
            NewAddendum {
                text: "passes were 8 per direction, not in total".into(),
            },
            None,
        )
        .await
        .expect("addendum added");
    assert_eq!(Some(addendum.author_id), colleague.staff_id());
    let event = w
        .app
        .record_adverse_event(
            &nurse,
            t.id,
            NewAdverseEvent {
                kind: AdverseEventKind::Scabbing,
                severity: Severity::Mild,
                onset_on: today(),
                notes: Some("two small scabs on the left cheek".into()),
            },
            None,
        )
        .await
        .expect("adverse event recorded");
    let e = failure(
        w.app
            .record_adverse_event(
                &nurse,
                t.id,
                NewAdverseEvent {
                    kind: AdverseEventKind::Bruising,
                    severity: Severity::Moderate,
                    onset_on: days_ago(2),
                    notes: None,
                },
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["onset_on"]);

    let read = w.app.get_treatment(&nurse, t.id).await.expect("read");
    assert_eq!(read.status, TreatmentStatus::Signed);
    assert_eq!(clinical(&read).notes.as_deref(), Some("slight redness"));
    assert_eq!(clinical(&read).addenda, vec![addendum]);
    assert_eq!(clinical(&read).adverse_events, vec![event]);
    assert_eq!(read.version(), Some(3));
}

async fn aftercare_end_dates_count_from_the_treatment_day(db: Db) {
    let w = World::new(db).await;
    w.allow_backdating_a_year().await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "After", "Care").await;
    let day = days_ago(10);
    w.screening(&nurse, client.id, day, ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, day))
        .await;

    let care = w
        .app
        .get_treatment_aftercare(&nurse, t.id)
        .await
        .expect("aftercare");
    assert_eq!(care.performed_on, day);
    let ends: Vec<(&str, chrono::NaiveDate)> = care
        .aftercare
        .instructions
        .iter()
        .map(|i| (i.code.as_str(), i.until))
        .collect();
    let after = |n: u64| day + Days::new(n);
    assert_eq!(
        ends,
        vec![
            ("avoid_sun", after(14)),
            ("no_anti_inflammatories", after(7)),
            ("no_make_up", after(3)),
            ("avoid_heat", after(15)),
            ("no_exfoliation", after(14)),
            ("no_ice_arnica_bromelain", after(7)),
            ("avoid_smoking_alcohol_exercise", after(7)),
            ("moisturise", after(7)),
        ]
    );
    assert_eq!(care.aftercare.next_eligible_on, after(28));
    assert_eq!(care.aftercare.results_expected_from, after(42));
    assert_eq!(clinical(&t).aftercare, care.aftercare);

    // A later policy change does not rewrite the aftercare already given.
    let mut shorter = ClinicalPolicy::default();
    shorter.aftercare.truncate(1);
    w.app
        .put_policy(&w.org.admin, shorter, None)
        .await
        .expect("policy changed");
    let again = w
        .app
        .get_treatment_aftercare(&nurse, t.id)
        .await
        .expect("aftercare");
    assert_eq!(again.aftercare, care.aftercare);
    // Version 1 lets the test lay down history; the session kept the version it was under.
    assert_eq!(again.policy_version, 1);
    let json = serde_json::to_value(&again).expect("serialises");
    assert_eq!(json["instructions"][2]["until"], after(3).to_string());
}

async fn front_desk_never_receives_clinical_fields(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let mut new = new_client("Clara", "Vogel");
    new.phone = Some("+49 30 1234567".into());
    new.notes = Some("keloid tendency on the jaw".into());
    let client = w
        .app
        .create_client(&nurse, new, None)
        .await
        .expect("client created");
    assert_eq!(client.notes.as_deref(), Some("keloid tendency on the jaw"));

    let seen = w.app.get_client(&desk, client.id).await.expect("readable");
    assert_eq!(seen.phone.as_deref(), Some("+49 30 1234567"));
    assert!(!json_keys(&seen).contains(&"notes".to_owned()));
    let listed = w
        .app
        .list_clients(&desk, Some("clara"), &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 1);
    assert!(!json_keys(&listed.items[0]).contains(&"notes".to_owned()));

    let mut with_notes = new_client("Desk", "Written");
    with_notes.notes = Some("anything".into());
    let e = failure(w.app.create_client(&desk, with_notes, None).await);
    assert_eq!(e.code(), "forbidden");
    let e = failure(
        w.app
            .update_client(
                &desk,
                client.id,
                ClientChanges {
                    notes: Some(String::new()),
                    ..ClientChanges::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    w.screening(&nurse, client.id, today(), ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;
    let full = json_keys(&t);
    for key in [
        "notes",
        "needle_depth_mm",
        "indications",
        "aftercare",
        "adverse_events",
    ] {
        assert!(
            full.contains(&key.to_owned()),
            "{key} missing for the nurse"
        );
    }

    let reduced = [
        "client_id",
        "clinic_id",
        "id",
        "performed_at",
        "practitioner_id",
        "status",
    ];
    let seen = w.app.get_treatment(&desk, t.id).await.expect("readable");
    assert_eq!(json_keys(&seen), reduced);
    assert!(seen.clinical.is_none());
    // Both shapes read back as they were written (an idempotent replay answers from the JSON).
    for shown in [&t, &seen] {
        let json = serde_json::to_value(shown).expect("serialised");
        let back: Treatment = serde_json::from_value(json).expect("read back");
        assert_eq!(&back, shown);
    }
    let listed = w
        .app
        .list_client_treatments(&desk, client.id, &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(json_keys(&listed.items[0]), reduced);

    for e in [
        failure(
            w.app
                .list_client_screenings(&desk, client.id, &PageParams::default())
                .await,
        ),
        failure(w.app.get_treatment_aftercare(&desk, t.id).await),
        failure(
            w.app
                .add_treatment_addendum(&desk, t.id, NewAddendum { text: "x".into() }, None)
                .await,
        ),
    ] {
        assert_eq!(e.code(), "forbidden");
    }
    // Front desk books sessions: it learns whether and from when, never why.
    let booking = w
        .app
        .check_eligibility(
            &desk,
            EligibilityRequest {
                client_id: client.id,
                clinic_id: w.org.clinic,
                practitioner_id: nurse.staff_id(),
                needle_depth_mm: mm(0.5),
                date: None,
                endpoint: None,
            },
        )
        .await
        .expect("front desk may check eligibility");
    assert!(!booking.eligible, "treated today, so too soon");
    assert!(booking.earliest_eligible_on.is_some());
    let json = serde_json::to_value(&booking).expect("serialises");
    for clinical in ["blockers", "screening_id", "policy_version"] {
        assert!(
            json.get(clinical).is_none(),
            "{clinical} shown to front desk"
        );
    }

    // A nurse of another clinic of the organisation sees the reduced record too.
    let other = w
        .staff(&w.org, "other", Role::Nurse, w.org.other_clinic)
        .await;
    let seen = w.app.get_treatment(&other, t.id).await.expect("readable");
    assert_eq!(json_keys(&seen), reduced);
    // The org admin sees it all.
    let seen = w
        .app
        .get_treatment(&w.org.admin, t.id)
        .await
        .expect("readable");
    assert!(json_keys(&seen).contains(&"notes".to_owned()));
}

async fn one_idempotency_key_sent_ten_times_creates_one_client_and_one_treatment(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;

    let key = IdempotencyKey::parse("client-7f3a").expect("a key");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, nurse, key) = (w.app.clone(), nurse.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            app.create_client(&nurse, new_client("Ida", "Empotent"), Some(&key))
                .await
        }));
    }
    let mut ids = Vec::new();
    for task in futures::future::join_all(tasks).await {
        match task.expect("task ran") {
            Ok(client) => ids.push(client.id),
            Err(e) => assert_eq!(e.code(), "idempotency_key_in_flight", "{e:?}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let again = w
        .app
        .create_client(&nurse, new_client("Ida", "Empotent"), Some(&key))
        .await
        .expect("a later retry gets the first answer");
    assert_eq!(again.id, ids[0]);
    let all = w
        .app
        .list_clients(&nurse, Some("ida"), &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(all.items.len(), 1);
    let e = failure(
        w.app
            .create_client(&nurse, new_client("Ida", "Different"), Some(&key))
            .await,
    );
    assert!(matches!(e, Error::IdempotencyKeyReused));

    let client = ids[0];
    w.screening(&nurse, client, today(), ScreeningAnswers::default())
        .await;
    let key = IdempotencyKey::parse("treatment-91c2").expect("a key");
    let new = treatment(w.org.clinic, client, 1.0, today());
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, nurse, key, new) = (w.app.clone(), nurse.clone(), key.clone(), new.clone());
        tasks.push(tokio::spawn(async move {
            app.create_treatment(&nurse, new, Some(&key)).await
        }));
    }
    let mut ids = Vec::new();
    for task in futures::future::join_all(tasks).await {
        match task.expect("task ran") {
            Ok(treatment) => ids.push(treatment.id),
            Err(e) => assert_eq!(e.code(), "idempotency_key_in_flight", "{e:?}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let listed = w
        .app
        .list_client_treatments(&nurse, client, &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 1);
    let mut other = new.clone();
    other.passes = 9;
    let e = failure(w.app.create_treatment(&nurse, other, Some(&key)).await);
    assert!(matches!(e, Error::IdempotencyKeyReused));
}

async fn another_organisations_clients_screenings_and_treatments_are_not_found(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Home", "Org").await;
    let s = w
        .screening(
            &nurse,
            client.id,
            today(),
            answers_with(Contraindication::HerpesHistory),
        )
        .await;
    // Denying the factor minutes later needs a physician's confirmation.
    let denied = w
        .screening(&nurse, client.id, today(), ScreeningAnswers::default())
        .await;
    assert_eq!(denied.outcome, Outcome::RequiresClearance);
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let cleared = w
        .app
        .clear_screening_factor(
            &physician,
            denied.id,
            NewClearance {
                factor: Contraindication::HerpesHistory,
                reason: "confirmed with the client".into(),
            },
            None,
        )
        .await
        .expect("cleared");
    assert_eq!(cleared.outcome, Outcome::Eligible);
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;
    let course = w
        .app
        .create_course(
            &nurse,
            client.id,
            NewCourse {
                template: Some("rejuvenation".into()),
                ..NewCourse::default()
            },
            None,
        )
        .await
        .expect("course");

    let other = w.other_org("elsewhere").await;
    let physician = w
        .staff(&other, "physician", Role::Physician, other.clinic)
        .await;
    let page = PageParams::default();
    for actor in [&other.admin, &physician] {
        let errors = vec![
            failure(w.app.get_client(actor, client.id).await),
            failure(
                w.app
                    .update_client(actor, client.id, ClientChanges::default(), None)
                    .await,
            ),
            failure(w.app.list_client_screenings(actor, client.id, &page).await),
            failure(w.app.get_screening(actor, s.id).await),
            failure(
                w.app
                    .clear_screening_factor(
                        actor,
                        s.id,
                        NewClearance {
                            factor: Contraindication::HerpesHistory,
                            reason: "mine".into(),
                        },
                        None,
                    )
                    .await,
            ),
            failure(w.app.get_treatment(actor, t.id).await),
            failure(w.app.list_client_treatments(actor, client.id, &page).await),
            failure(w.app.get_treatment_aftercare(actor, t.id).await),
            failure(w.app.sign_treatment(actor, t.id, None, None).await),
            failure(
                w.app
                    .add_treatment_addendum(actor, t.id, NewAddendum { text: "x".into() }, None)
                    .await,
            ),
            failure(
                w.app
                    .update_treatment(actor, t.id, TreatmentChanges::default(), None)
                    .await,
            ),
            failure(w.app.get_course(actor, course.id).await),
            failure(
                w.app
                    .record_screening(
                        actor,
                        client.id,
                        NewScreening {
                            clinic_id: None,
                            screened_on: None,
                            answers: ScreeningAnswers::default(),
                        },
                        None,
                    )
                    .await,
            ),
            failure(
                w.app
                    .check_eligibility(
                        actor,
                        EligibilityRequest {
                            client_id: client.id,
                            clinic_id: other.clinic,
                            practitioner_id: physician.staff_id(),
                            needle_depth_mm: mm(0.5),
                            date: None,
                            endpoint: None,
                        },
                    )
                    .await,
            ),
            failure(
                w.app
                    .create_treatment(
                        actor,
                        treatment(other.clinic, client.id, 0.5, today()),
                        None,
                    )
                    .await,
            ),
        ];
        for (i, e) in errors.into_iter().enumerate() {
            assert!(matches!(e, Error::NotFound(_)), "call {i}: {e:?}");
        }
    }
    let theirs = w
        .app
        .list_clients(&other.admin, None, &page)
        .await
        .expect("listed");
    assert!(theirs.items.is_empty());
}

async fn clients_are_found_by_name_email_or_phone_prefix_and_if_match_guards_changes(db: Db) {
    let w = World::new(db).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let mut anna = new_client("Anna", "de Vries");
    anna.email = Some("Anna.DV@Example.test".into());
    anna.phone = Some("+49 30 1234567".into());
    let anna = w
        .app
        .create_client(&desk, anna, None)
        .await
        .expect("created");
    assert_eq!(anna.email.as_deref(), Some("anna.dv@example.test"));
    assert_eq!(anna.version, 1);
    let mut ben = new_client("Ben", "Anderson");
    ben.phone = Some("0171 555 0000".into());
    w.app
        .create_client(&desk, ben, None)
        .await
        .expect("created");
    w.client(&desk, "Percy", "100%_Real").await;

    let search = |q: &'static str| {
        let app = w.app.clone();
        let desk = desk.clone();
        async move {
            let page = app
                .list_clients(&desk, Some(q), &PageParams::default())
                .await
                .expect("listed");
            let mut names: Vec<String> = page.items.into_iter().map(|c| c.first_name).collect();
            names.sort();
            names
        }
    };
    assert_eq!(search("anna").await, vec!["Anna"]);
    assert_eq!(search("ANNA DE").await, vec!["Anna"]);
    assert_eq!(search("de vr").await, vec!["Anna"]);
    assert_eq!(search("and").await, vec!["Ben"]);
    assert_eq!(search("an").await, vec!["Anna", "Ben"]);
    assert_eq!(search("anna.dv@").await, vec!["Anna"]);
    assert_eq!(search("+49 30 12").await, vec!["Anna"]);
    assert_eq!(search("0171").await, vec!["Ben"]);
    assert_eq!(search("%").await, Vec::<String>::new());
    assert_eq!(search("_").await, Vec::<String>::new());
    assert_eq!(search("100%_r").await, vec!["Percy"]);
    assert_eq!(search("vries x").await, Vec::<String>::new());

    let first = w
        .app
        .list_clients(
            &desk,
            None,
            &PageParams {
                limit: Some(2),
                cursor: None,
            },
        )
        .await
        .expect("listed");
    assert_eq!(first.items.len(), 2);
    let rest = w
        .app
        .list_clients(
            &desk,
            None,
            &PageParams {
                limit: Some(2),
                cursor: first.next_cursor.clone(),
            },
        )
        .await
        .expect("listed");
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.next_cursor, None);

    let rename = ClientChanges {
        last_name: Some("Smit".into()),
        ..ClientChanges::default()
    };
    let changed = w
        .app
        .update_client(&desk, anna.id, rename.clone(), Some(1))
        .await
        .expect("changed");
    assert_eq!(changed.version, 2);
    assert_eq!(search("smit").await, vec!["Anna"]);
    assert_eq!(search("de vr").await, Vec::<String>::new());
    let e = failure(
        w.app
            .update_client(&desk, anna.id, rename.clone(), Some(1))
            .await,
    );
    assert!(matches!(e, Error::PreconditionFailed));
    let unguarded = w
        .app
        .update_client(
            &desk,
            anna.id,
            ClientChanges {
                phone: Some(String::new()),
                ..ClientChanges::default()
            },
            None,
        )
        .await
        .expect("changed without If-Match");
    assert_eq!(unguarded.version, 3);
    assert_eq!(unguarded.phone, None);
    let read = w.app.get_client(&desk, anna.id).await.expect("read");
    assert_eq!(read.version, 3);

    let mut bad = new_client(" ", "Smith");
    bad.email = Some("not-an-email".into());
    bad.phone = Some("call me".into());
    bad.consent_version = Some("v3".into());
    let e = failure(w.app.create_client(&desk, bad, None).await);
    assert_eq!(
        invalid_fields(&e),
        vec!["first_name", "phone", "email", "consent_signed_at"]
    );
}

async fn a_course_counts_its_treatments_and_shows_the_next_window(db: Db) {
    let w = World::new(db).await;
    w.allow_backdating_a_year().await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let client = w.client(&nurse, "Course", "Taker").await;
    let start = days_ago(50);
    let course = w
        .app
        .create_course(
            &nurse,
            client.id,
            NewCourse {
                template: Some("rejuvenation".into()),
                started_on: Some(start),
                ..NewCourse::default()
            },
            None,
        )
        .await
        .expect("course created");
    assert_eq!(
        (
            course.sessions,
            course.min_interval_days,
            course.max_interval_days
        ),
        (3, 42, 56)
    );
    assert_eq!(course.name, "Rejuvenation");
    assert_eq!(course.progress.sessions_done, 0);

    w.screening(&nurse, client.id, start, ScreeningAnswers::default())
        .await;
    let mut first = treatment(w.org.clinic, client.id, 1.0, start);
    first.course_id = Some(course.id);
    w.treat(&nurse, first).await;

    let read = w.app.get_course(&desk, course.id).await.expect("readable");
    assert_eq!(read.progress.sessions_done, 1);
    assert_eq!(read.progress.sessions_remaining, 2);
    let window = read.progress.next_due.expect("a next window");
    assert_eq!(window.from, start + Days::new(42));
    assert_eq!(window.to, start + Days::new(56));
    assert!(!read.progress.completed);

    let custom = w
        .app
        .create_course(
            &nurse,
            client.id,
            NewCourse {
                name: Some("Stretch marks, abdomen".into()),
                sessions: Some(4),
                min_interval_days: Some(30),
                max_interval_days: Some(45),
                ..NewCourse::default()
            },
            None,
        )
        .await
        .expect("custom course created");
    assert_eq!(custom.template, None);
    assert_eq!(custom.progress.next_due.map(|d| d.from), Some(today()));
    let listed = w
        .app
        .list_client_courses(&desk, client.id, &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 2);

    let e = failure(
        w.app
            .create_course(
                &nurse,
                client.id,
                NewCourse {
                    name: Some("Bad".into()),
                    sessions: Some(3),
                    min_interval_days: Some(60),
                    max_interval_days: Some(30),
                    ..NewCourse::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["max_interval_days"]);
    let e = failure(
        w.app
            .create_course(
                &nurse,
                client.id,
                NewCourse {
                    template: Some("miracle".into()),
                    ..NewCourse::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(invalid_fields(&e), vec!["template"]);
    let e = failure(
        w.app
            .create_course(&desk, client.id, NewCourse::default(), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    // A course of another client does not count a treatment.
    let someone = w.client(&nurse, "Some", "One").await;
    w.screening(&nurse, someone.id, today(), ScreeningAnswers::default())
        .await;
    let mut wrong = treatment(w.org.clinic, someone.id, 1.0, today());
    wrong.course_id = Some(course.id);
    let e = failure(w.app.create_treatment(&nurse, wrong, None).await);
    assert_eq!(invalid_fields(&e), vec!["course_id"]);
}

async fn writes_and_reads_of_clinical_data_are_audited_naming_the_client(db: Db) {
    let mut w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Audit", "Ed").await;
    w.screening(&nurse, client.id, today(), ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;
    w.app.get_treatment(&nurse, t.id).await.expect("read");
    w.app
        .list_client_screenings(&nurse, client.id, &PageParams::default())
        .await
        .expect("listed");
    w.app.get_client(&nurse, client.id).await.expect("read");
    w.app
        .sign_treatment(&nurse, t.id, None, None)
        .await
        .expect("signed");

    let log = w.audit_log().await;
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e.client_id == Some(client.id))
        .map(|e| e.action.as_str())
        .collect();
    for action in [
        "client.create",
        "screening.record",
        "treatment.create",
        "treatment.read",
        "screening.list",
        "client.read",
        "treatment.sign",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert!(
        log.iter()
            .filter(|e| e.client_id == Some(client.id))
            .all(|e| e.actor_id == nurse.staff_id())
    );
}

/// The clinical record of a treatment shown in full.
fn clinical(t: &Treatment) -> &ClinicalRecord {
    t.clinical.as_ref().expect("the clinical record is shown")
}
