//! Tests of the eligibility check: each blocker, their order, and the earliest eligible day.

use chrono::Days;
use proptest::prelude::*;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn mm(hundredths: u16) -> NeedleDepth {
    NeedleDepth::from_hundredths(hundredths).unwrap_or(NeedleDepth::MAX)
}

fn today() -> NaiveDate {
    date(2025, 6, 2)
}

fn days_before(days: u64) -> NaiveDate {
    today() - Days::new(days)
}

const NURSE: &[Role] = &[Role::Nurse];
const ESTHETICIAN: &[Role] = &[Role::Esthetician];

/// A nurse treating at 1.0 mm, screened clear yesterday, never treated before.
fn clear_input<'a>(policy: &'a ClinicalPolicy) -> EligibilityInput<'a> {
    EligibilityInput {
        policy,
        on: today(),
        needle_depth: mm(100),
        practitioner_roles_at_clinic: NURSE,
        screening: Some(ScreeningState {
            reasons: &[],
            cleared: &[],
            valid_until: today() + Days::new(29),
        }),
        last_treatment: None,
        next_treatment: None,
        endpoint: None,
    }
}

fn reason(factor: Contraindication, outcome: Outcome, until: Option<NaiveDate>) -> Reason {
    Reason {
        factor,
        outcome,
        until,
        basis: None,
    }
}

#[test]
fn a_clear_client_with_a_nurse_in_scope_is_eligible_today() {
    let policy = ClinicalPolicy::default();
    let result = check(&clear_input(&policy));
    assert!(result.is_eligible());
    assert_eq!(result.earliest_eligible_on, Some(today()));
}

#[test]
fn a_missing_screening_blocks_but_can_be_taken_today() {
    let policy = ClinicalPolicy::default();
    let input = EligibilityInput {
        screening: None,
        ..clear_input(&policy)
    };
    let result = check(&input);
    assert_eq!(result.blockers, vec![Blocker::NoValidScreening]);
    assert_eq!(result.earliest_eligible_on, Some(today()));
}

#[test]
fn a_screening_is_valid_through_its_last_day_and_not_after() {
    let policy = ClinicalPolicy::default();
    let mut input = clear_input(&policy);
    input.screening = Some(ScreeningState {
        reasons: &[],
        cleared: &[],
        valid_until: today(),
    });
    assert!(check(&input).is_eligible());
    input.screening = Some(ScreeningState {
        reasons: &[],
        cleared: &[],
        valid_until: days_before(1),
    });
    assert_eq!(check(&input).blockers, vec![Blocker::NoValidScreening]);
}

#[test]
fn a_contraindication_blocks_with_no_date_in_sight() {
    let policy = ClinicalPolicy::default();
    let reasons = [reason(
        Contraindication::Pregnancy,
        Outcome::Contraindicated,
        None,
    )];
    let mut input = clear_input(&policy);
    input.screening = Some(ScreeningState {
        reasons: &reasons,
        cleared: &[Contraindication::Pregnancy],
        valid_until: today(),
    });
    let result = check(&input);
    assert_eq!(
        result.blockers,
        vec![Blocker::Contraindicated {
            factor: Contraindication::Pregnancy
        }]
    );
    assert_eq!(result.earliest_eligible_on, None);
}

#[test]
fn a_factor_requiring_clearance_blocks_until_a_physician_clears_it() {
    let policy = ClinicalPolicy::default();
    let reasons = [reason(
        Contraindication::HerpesHistory,
        Outcome::RequiresClearance,
        None,
    )];
    let mut input = clear_input(&policy);
    input.screening = Some(ScreeningState {
        reasons: &reasons,
        cleared: &[],
        valid_until: today(),
    });
    let result = check(&input);
    assert_eq!(
        result.blockers,
        vec![Blocker::RequiresClearance {
            factor: Contraindication::HerpesHistory
        }]
    );
    assert_eq!(result.earliest_eligible_on, None);

    input.screening = Some(ScreeningState {
        reasons: &reasons,
        cleared: &[Contraindication::HerpesHistory],
        valid_until: today(),
    });
    assert!(check(&input).is_eligible());
}

#[test]
fn a_deferral_blocks_until_its_date_and_then_lifts() {
    let policy = ClinicalPolicy::default();
    let until = today() + Days::new(3);
    let reasons = [reason(
        Contraindication::RecentWaxingOrResurfacing,
        Outcome::Deferred,
        Some(until),
    )];
    let mut input = clear_input(&policy);
    input.screening = Some(ScreeningState {
        reasons: &reasons,
        cleared: &[],
        valid_until: today() + Days::new(10),
    });
    let result = check(&input);
    assert_eq!(
        result.blockers,
        vec![Blocker::Deferred {
            factor: Contraindication::RecentWaxingOrResurfacing,
            until: Some(until),
        }]
    );
    assert_eq!(result.earliest_eligible_on, Some(until));

    input.on = until;
    assert!(check(&input).is_eligible());
}

#[test]
fn a_deferral_without_a_date_waits_for_a_rescreen() {
    let policy = ClinicalPolicy::default();
    let reasons = [reason(
        Contraindication::ActiveAcne,
        Outcome::Deferred,
        None,
    )];
    let mut input = clear_input(&policy);
    input.screening = Some(ScreeningState {
        reasons: &reasons,
        cleared: &[],
        valid_until: today(),
    });
    let result = check(&input);
    assert_eq!(result.blockers.len(), 1);
    assert_eq!(result.earliest_eligible_on, None);
}

#[test]
fn a_session_too_soon_after_the_last_is_blocked_until_the_interval_passes() {
    let policy = ClinicalPolicy::default();
    let mut input = clear_input(&policy);
    input.last_treatment = Some((days_before(20), mm(100)));
    let result = check(&input);
    let next = days_before(20) + Days::new(28);
    assert_eq!(
        result.blockers,
        vec![Blocker::TooSoon {
            next_eligible_on: next
        }]
    );
    assert_eq!(result.earliest_eligible_on, Some(next));
}

#[test]
fn a_session_dated_before_an_existing_one_respects_the_interval_too() {
    let policy = ClinicalPolicy::default();
    let mut input = EligibilityInput {
        needle_depth: mm(50),
        practitioner_roles_at_clinic: ESTHETICIAN,
        ..clear_input(&policy)
    };
    // An existing session 13 days after the planned one: too close.
    input.next_treatment = Some((today() + Days::new(13), mm(50)));
    assert_eq!(
        check(&input).blockers,
        vec![Blocker::TooSoon {
            next_eligible_on: today() + Days::new(27)
        }]
    );
    // Exactly 14 days after: the edge passes.
    input.next_treatment = Some((today() + Days::new(14), mm(50)));
    assert!(check(&input).is_eligible());
    // A deeper later session governs with its longer interval.
    input.next_treatment = Some((today() + Days::new(27), mm(100)));
    assert_eq!(check(&input).blockers.len(), 1);
    input.next_treatment = Some((today() + Days::new(28), mm(100)));
    assert!(check(&input).is_eligible());
    input.next_treatment = Some((today() + Days::new(41), mm(200)));
    assert_eq!(check(&input).blockers.len(), 1);
    input.next_treatment = Some((today() + Days::new(42), mm(200)));
    assert!(check(&input).is_eligible());
}

#[test]
fn an_endpoint_beyond_the_roles_is_outside_scope_of_practice() {
    let policy = ClinicalPolicy::default();
    let input = EligibilityInput {
        needle_depth: mm(50),
        practitioner_roles_at_clinic: ESTHETICIAN,
        endpoint: Some(Endpoint::PinpointBleeding),
        ..clear_input(&policy)
    };
    assert_eq!(
        check(&input).blockers,
        vec![Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(mm(50)),
            endpoint: Some(Endpoint::PinpointBleeding),
        }]
    );
    let nurse = EligibilityInput {
        practitioner_roles_at_clinic: NURSE,
        ..input
    };
    assert!(check(&nurse).is_eligible());
}

#[test]
fn half_a_millimetre_waits_fourteen_days_inclusive() {
    let policy = ClinicalPolicy::default();
    let mut input = EligibilityInput {
        needle_depth: mm(50),
        practitioner_roles_at_clinic: ESTHETICIAN,
        ..clear_input(&policy)
    };
    input.last_treatment = Some((days_before(13), mm(50)));
    assert_eq!(
        check(&input).blockers.first().map(Blocker::code),
        Some(ErrorCode::TooSoon)
    );
    input.last_treatment = Some((days_before(14), mm(50)));
    assert!(check(&input).is_eligible());
}

#[test]
fn just_over_half_a_millimetre_waits_the_longer_interval() {
    let policy = ClinicalPolicy::default();
    let last = date(2025, 1, 1);
    assert_eq!(
        next_eligible_on(&policy, last, mm(50), mm(50)),
        date(2025, 1, 15)
    );
    assert_eq!(
        next_eligible_on(&policy, last, mm(51), mm(50)),
        date(2025, 1, 29)
    );
    assert_eq!(
        next_eligible_on(&policy, last, mm(100), mm(100)),
        date(2025, 1, 29)
    );
    assert_eq!(
        next_eligible_on(&policy, last, mm(100), mm(101)),
        date(2025, 2, 12)
    );
}

#[test]
fn the_deeper_of_the_last_and_planned_needle_sets_the_interval() {
    let policy = ClinicalPolicy::default();
    let last = date(2025, 1, 1);
    // Shallow after deep waits for the deep session's recovery ...
    assert_eq!(
        next_eligible_on(&policy, last, mm(200), mm(25)),
        date(2025, 2, 12)
    );
    // ... and deep after shallow waits as a deep session would.
    assert_eq!(
        next_eligible_on(&policy, last, mm(25), mm(200)),
        date(2025, 2, 12)
    );
}

#[test]
fn an_esthetician_may_go_to_half_a_millimetre_and_no_deeper() {
    let policy = ClinicalPolicy::default();
    let mut input = EligibilityInput {
        needle_depth: mm(50),
        practitioner_roles_at_clinic: ESTHETICIAN,
        ..clear_input(&policy)
    };
    assert!(check(&input).is_eligible());
    input.needle_depth = mm(51);
    let result = check(&input);
    assert_eq!(
        result.blockers,
        vec![Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(mm(50)),
            endpoint: None,
        }]
    );
    assert_eq!(result.earliest_eligible_on, None);
}

#[test]
fn a_nurse_may_go_to_one_and_a_half_millimetres_and_no_deeper() {
    let policy = ClinicalPolicy::default();
    let mut input = EligibilityInput {
        needle_depth: mm(150),
        ..clear_input(&policy)
    };
    assert!(check(&input).is_eligible());
    input.needle_depth = mm(151);
    assert_eq!(
        check(&input).blockers,
        vec![Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(mm(150)),
            endpoint: None,
        }]
    );
}

#[test]
fn front_desk_never_treats() {
    let policy = ClinicalPolicy::default();
    let input = EligibilityInput {
        needle_depth: mm(25),
        practitioner_roles_at_clinic: &[Role::FrontDesk, Role::ClinicManager],
        ..clear_input(&policy)
    };
    assert_eq!(
        check(&input).blockers,
        vec![Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: None,
            endpoint: None,
        }]
    );
}

#[test]
fn a_practitioner_without_a_role_at_the_clinic_is_not_assigned_there() {
    let policy = ClinicalPolicy::default();
    let input = EligibilityInput {
        practitioner_roles_at_clinic: &[],
        ..clear_input(&policy)
    };
    let result = check(&input);
    assert_eq!(result.blockers, vec![Blocker::NotAssignedToClinic]);
    assert_eq!(result.earliest_eligible_on, None);
}

#[test]
fn every_blocker_is_reported_at_once_in_a_stable_order() {
    let policy = ClinicalPolicy::default();
    let until = today() + Days::new(5);
    let reasons = [
        reason(Contraindication::Pregnancy, Outcome::Contraindicated, None),
        reason(
            Contraindication::HerpesHistory,
            Outcome::RequiresClearance,
            None,
        ),
        reason(
            Contraindication::RecentWaxingOrResurfacing,
            Outcome::Deferred,
            Some(until),
        ),
    ];
    let input = EligibilityInput {
        needle_depth: mm(200),
        screening: Some(ScreeningState {
            reasons: &reasons,
            cleared: &[],
            valid_until: today(),
        }),
        last_treatment: Some((days_before(1), mm(100))),
        next_treatment: None,
        endpoint: None,
        ..clear_input(&policy)
    };
    let result = check(&input);
    let codes: Vec<&str> = result.blockers.iter().map(|b| b.code().as_str()).collect();
    assert_eq!(
        codes,
        vec![
            "contraindicated",
            "requires_clearance",
            "deferred",
            "too_soon",
            "outside_scope_of_practice",
        ]
    );
    assert_eq!(result.earliest_eligible_on, None);

    let unassigned = EligibilityInput {
        screening: None,
        practitioner_roles_at_clinic: &[],
        ..input
    };
    let codes: Vec<&str> = check(&unassigned)
        .blockers
        .iter()
        .map(|b| b.code().as_str())
        .collect();
    assert_eq!(
        codes,
        vec!["no_valid_screening", "too_soon", "not_assigned_to_clinic"]
    );
}

#[test]
fn time_bound_blockers_give_the_latest_of_their_dates() {
    let policy = ClinicalPolicy::default();
    let until = today() + Days::new(5);
    let reasons = [reason(
        Contraindication::RecentWaxingOrResurfacing,
        Outcome::Deferred,
        Some(until),
    )];
    let input = EligibilityInput {
        screening: Some(ScreeningState {
            reasons: &reasons,
            cleared: &[],
            valid_until: today(),
        }),
        last_treatment: Some((days_before(1), mm(100))),
        next_treatment: None,
        endpoint: None,
        ..clear_input(&policy)
    };
    let result = check(&input);
    assert_eq!(result.blockers.len(), 2);
    assert_eq!(
        result.earliest_eligible_on,
        Some(days_before(1) + Days::new(28))
    );
}

#[test]
fn blockers_serialise_with_their_code() -> Result<(), serde_json::Error> {
    let all = [
        Blocker::NoValidScreening,
        Blocker::Contraindicated {
            factor: Contraindication::Pregnancy,
        },
        Blocker::RequiresClearance {
            factor: Contraindication::VerySensitiveSkin,
        },
        Blocker::Deferred {
            factor: Contraindication::RecentWaxingOrResurfacing,
            until: Some(today()),
        },
        Blocker::TooSoon {
            next_eligible_on: today(),
        },
        Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(mm(50)),
            endpoint: Some(Endpoint::PinpointBleeding),
        },
        Blocker::NotAssignedToClinic,
    ];
    for blocker in all {
        let json = serde_json::to_value(blocker)?;
        assert_eq!(json["code"], blocker.code().as_str());
        assert_eq!(serde_json::from_value::<Blocker>(json)?, blocker);
    }
    assert_eq!(
        serde_json::to_value(Blocker::OutsideScopeOfPractice {
            max_needle_depth_mm: Some(mm(50)),
            endpoint: None,
        })?,
        serde_json::json!({"code": "outside_scope_of_practice", "max_needle_depth_mm": 0.5})
    );
    assert_eq!(
        serde_json::to_value(Blocker::Deferred {
            factor: Contraindication::RecentWaxingOrResurfacing,
            until: Some(date(2025, 6, 16)),
        })?,
        serde_json::json!({
            "code": "deferred",
            "factor": "recent_waxing_or_resurfacing",
            "until": "2025-06-16"
        })
    );
    Ok(())
}

fn reason_strategy() -> impl Strategy<Value = Reason> {
    (
        proptest::sample::select(Contraindication::ALL.to_vec()),
        proptest::sample::select(vec![
            Outcome::Deferred,
            Outcome::RequiresClearance,
            Outcome::Contraindicated,
        ]),
        proptest::option::of(0u64..60),
    )
        .prop_map(|(factor, outcome, until)| Reason {
            factor,
            outcome,
            until: until.map(|d| days_before(30) + Days::new(d)),
            basis: None,
        })
}

proptest! {
    #[test]
    fn on_the_earliest_eligible_day_nothing_blocks(
        reasons in proptest::collection::vec(reason_strategy(), 0..4),
        cleared in proptest::collection::vec(
            proptest::sample::select(Contraindication::ALL.to_vec()), 0..4),
        screened in proptest::option::of(0u64..60),
        last in proptest::option::of((0u64..60, 1u16..=300)),
        planned in 1u16..=300,
        roles in proptest::collection::vec(proptest::sample::select(Role::ALL.to_vec()), 0..3),
    ) {
        let policy = ClinicalPolicy::default();
        let input = EligibilityInput {
            policy: &policy,
            on: today(),
            needle_depth: mm(planned),
            practitioner_roles_at_clinic: &roles,
            screening: screened.map(|ago| ScreeningState {
                reasons: &reasons,
                cleared: &cleared,
                valid_until: days_before(ago) + Days::new(30),
            }),
            last_treatment: last.map(|(ago, depth)| (days_before(ago), mm(depth))),
            next_treatment: None,
            endpoint: None,
        };
        let result = check(&input);
        if result.is_eligible() {
            prop_assert_eq!(result.earliest_eligible_on, Some(today()));
        }
        if let Some(day) = result.earliest_eligible_on {
            prop_assert!(day >= today());
            // Rescreen on that day if needed, keeping whatever the old screening found.
            let rescreened = ScreeningState {
                reasons: if result.blockers.contains(&Blocker::NoValidScreening) {
                    &[]
                } else {
                    &reasons
                },
                cleared: &cleared,
                valid_until: day,
            };
            let later = EligibilityInput { on: day, screening: Some(rescreened), ..input };
            prop_assert_eq!(check(&later).blockers, Vec::new());
        }
    }
}
