//! Tests of the clinical policy: its defaults, its lookups and its validation.

use proptest::prelude::*;

use super::defaults::depth;
use super::*;
use crate::wire::tests::assert_wire_names;

fn mm(hundredths: u16) -> NeedleDepth {
    depth(hundredths)
}

fn fields(result: Result<(), ValidationErrors>) -> Vec<String> {
    match result {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0.into_iter().map(|e| e.field).collect(),
    }
}

#[test]
fn factor_outcomes_use_one_snake_case_name_on_the_wire_and_in_code() {
    assert_wire_names(&FactorOutcome::ALL, FactorOutcome::as_str);
}

#[test]
fn the_default_policy_is_valid() {
    assert_eq!(ClinicalPolicy::default().validate(), Ok(()));
}

#[test]
fn every_factor_defaults_to_the_outcome_in_the_domain_table() {
    use Contraindication as C;
    use FactorOutcome as O;
    // Restated from DOMAIN.md on purpose, so a change to the defaults must change this too.
    let table = [
        (C::Pregnancy, O::Contraindicated),
        (C::ActiveAcne, O::Contraindicated),
        (C::InflamedOrInfectedSkin, O::Contraindicated),
        (C::ActiveHerpes, O::Contraindicated),
        (C::HerpesHistory, O::RequiresClearance),
        (C::EczemaOrRosacea, O::Contraindicated),
        (C::Anticoagulants, O::Contraindicated),
        (C::AntiInflammatoryMedication, O::Contraindicated),
        (C::AutoimmuneDisease, O::Contraindicated),
        (C::FrequentAlcoholUse, O::Contraindicated),
        (C::VerySensitiveSkin, O::RequiresClearance),
        (C::RecentWaxingOrResurfacing, O::Deferred),
    ];
    assert_eq!(table.len(), Contraindication::ALL.len());
    let policy = ClinicalPolicy::default();
    for (factor, outcome) in table {
        assert_eq!(policy.rule_for(factor), outcome, "{factor}");
    }
    assert_eq!(policy.anti_inflammatory_window_days, 7);
    assert_eq!(policy.waxing_or_resurfacing_window_days, 14);
    assert_eq!(policy.screening_validity_days, 30);
    assert_eq!(policy.results_expected_after_days, 42);
    assert_eq!(policy.max_backdate_days, 7);
}

#[test]
fn an_esthetician_stops_short_of_bleeding_by_default() {
    let policy = ClinicalPolicy::default();
    assert!(policy.allows_endpoint(&[Role::Esthetician], Endpoint::Erythema));
    assert!(!policy.allows_endpoint(&[Role::Esthetician], Endpoint::PinpointBleeding));
    assert!(policy.allows_endpoint(&[Role::Nurse], Endpoint::PinpointBleeding));
    assert!(policy.allows_endpoint(&[Role::Physician], Endpoint::PinpointBleeding));
    assert!(!policy.allows_endpoint(&[Role::FrontDesk], Endpoint::Erythema));
    assert!(policy.allows_endpoint(
        &[Role::Esthetician, Role::Nurse],
        Endpoint::PinpointBleeding
    ));
}

#[test]
fn an_organisation_can_let_estheticians_reach_pinpoint_bleeding() {
    let mut policy = ClinicalPolicy::default();
    for rule in &mut policy.endpoints_by_role {
        if rule.role == Role::Esthetician {
            rule.endpoints.push(Endpoint::PinpointBleeding);
        }
    }
    assert_eq!(policy.validate(), Ok(()));
    assert!(policy.allows_endpoint(&[Role::Esthetician], Endpoint::PinpointBleeding));
}

#[test]
fn endpoint_rules_for_non_clinical_roles_or_twice_are_refused() {
    let mut policy = ClinicalPolicy::default();
    policy.endpoints_by_role.push(RoleEndpoints {
        role: Role::FrontDesk,
        endpoints: vec![Endpoint::Erythema, Endpoint::Erythema],
    });
    policy.max_backdate_days = 400;
    let refused = fields(policy.validate());
    assert!(refused.contains(&"endpoints_by_role[3].role".to_owned()));
    assert!(refused.contains(&"endpoints_by_role[3].endpoints[1]".to_owned()));
    assert!(refused.contains(&"max_backdate_days".to_owned()));
}

#[test]
fn an_organisation_can_change_the_outcome_of_a_factor() {
    let mut policy = ClinicalPolicy::default();
    for rule in &mut policy.contraindications {
        if rule.factor == Contraindication::FrequentAlcoholUse {
            rule.outcome = FactorOutcome::RequiresClearance;
        }
    }
    assert_eq!(
        policy.rule_for(Contraindication::FrequentAlcoholUse),
        FactorOutcome::RequiresClearance
    );
    assert_eq!(
        policy.rule_for(Contraindication::Pregnancy),
        FactorOutcome::Contraindicated
    );
    assert_eq!(policy.validate(), Ok(()));
}

#[test]
fn default_depth_limits_follow_the_scope_of_practice_table() {
    let policy = ClinicalPolicy::default();
    assert_eq!(policy.max_depth_for(Role::Esthetician), Some(mm(50)));
    assert_eq!(policy.max_depth_for(Role::Nurse), Some(mm(150)));
    assert_eq!(policy.max_depth_for(Role::Physician), Some(mm(250)));
    for role in [Role::OrgAdmin, Role::ClinicManager, Role::FrontDesk] {
        assert_eq!(policy.max_depth_for(role), None, "{role}");
    }
}

#[test]
fn someone_with_several_roles_gets_the_most_permissive_limit() {
    let policy = ClinicalPolicy::default();
    assert_eq!(
        policy.max_depth_for_any(&[Role::Esthetician, Role::Nurse, Role::ClinicManager]),
        Some(mm(150))
    );
    assert_eq!(
        policy.max_depth_for_any(&[Role::ClinicManager, Role::FrontDesk]),
        None
    );
    assert_eq!(policy.max_depth_for_any(&[]), None);
}

#[test]
fn a_non_clinical_role_never_treats_even_if_an_unchecked_policy_lists_it() {
    let mut policy = ClinicalPolicy::default();
    policy.max_depth_by_role.push(RoleDepth {
        role: Role::FrontDesk,
        max_needle_depth_mm: mm(50),
    });
    assert_eq!(policy.max_depth_for(Role::FrontDesk), None);
    assert_eq!(fields(policy.validate()), vec!["max_depth_by_role[3].role"]);
}

#[test]
fn interval_band_edges_are_inclusive() {
    let policy = ClinicalPolicy::default();
    assert_eq!(policy.min_interval_days(mm(25)), 14);
    assert_eq!(policy.min_interval_days(mm(50)), 14);
    assert_eq!(policy.min_interval_days(mm(51)), 28);
    assert_eq!(policy.min_interval_days(mm(100)), 28);
    assert_eq!(policy.min_interval_days(mm(101)), 42);
    assert_eq!(policy.min_interval_days(mm(300)), 42);
}

#[test]
fn default_aftercare_has_the_eight_documented_instructions() {
    let policy = ClinicalPolicy::default();
    let codes: Vec<(&str, u32)> = policy
        .aftercare
        .iter()
        .map(|r| (r.code.as_str(), r.days))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("avoid_sun", 14),
            ("no_anti_inflammatories", 7),
            ("no_make_up", 3),
            ("avoid_heat", 15),
            ("no_exfoliation", 14),
            ("no_ice_arnica_bromelain", 7),
            ("avoid_smoking_alcohol_exercise", 7),
            ("moisturise", 7),
        ]
    );
}

#[test]
fn default_course_templates_follow_the_sources() {
    let policy = ClinicalPolicy::default();
    let summary = |code: &str| {
        policy
            .course_template(code)
            .map(|t| (t.sessions, t.min_interval_days, t.max_interval_days))
    };
    assert_eq!(summary("rejuvenation"), Some((3, 42, 56)));
    assert_eq!(summary("acne_scarring"), Some((6, 28, 35)));
    assert_eq!(summary("maintenance"), Some((2, 90, 180)));
    assert_eq!(summary("nonexistent"), None);
}

#[test]
fn a_missing_or_repeated_factor_is_named() {
    let mut policy = ClinicalPolicy::default();
    policy.contraindications[3].factor = Contraindication::Pregnancy;
    let errors = fields(policy.validate());
    assert_eq!(
        errors,
        vec!["contraindications[3].factor", "contraindications"]
    );
}

#[test]
fn duplicate_roles_are_refused() {
    let mut policy = ClinicalPolicy::default();
    policy.max_depth_by_role[1].role = Role::Esthetician;
    assert_eq!(fields(policy.validate()), vec!["max_depth_by_role[1].role"]);
}

#[test]
fn bands_must_increase_and_end_open() {
    let mut policy = ClinicalPolicy {
        interval_bands: vec![
            IntervalBand {
                up_to_mm: Some(mm(100)),
                min_days: 14,
            },
            IntervalBand {
                up_to_mm: None,
                min_days: 28,
            },
            IntervalBand {
                up_to_mm: Some(mm(50)),
                min_days: 400,
            },
        ],
        ..ClinicalPolicy::default()
    };
    assert_eq!(
        fields(policy.validate()),
        vec![
            "interval_bands",
            "interval_bands[1].up_to_mm",
            "interval_bands[2].up_to_mm",
            "interval_bands[2].min_days",
        ]
    );
    policy.interval_bands.clear();
    assert_eq!(fields(policy.validate()), vec!["interval_bands"]);
}

#[test]
fn day_counts_must_lie_within_a_year() {
    let policy = ClinicalPolicy {
        screening_validity_days: 0,
        waxing_or_resurfacing_window_days: 366,
        ..ClinicalPolicy::default()
    };
    assert_eq!(
        fields(policy.validate()),
        vec![
            "waxing_or_resurfacing_window_days",
            "screening_validity_days"
        ]
    );
}

#[test]
fn aftercare_codes_must_be_unique_snake_case_with_sensible_days() {
    let mut policy = ClinicalPolicy::default();
    policy.aftercare[1].code = "avoid_sun".to_owned();
    policy.aftercare[2].code = String::new();
    policy.aftercare[3].days = 0;
    policy.aftercare[4].instruction = " ".to_owned();
    assert_eq!(
        fields(policy.validate()),
        vec![
            "aftercare[1].code",
            "aftercare[2].code",
            "aftercare[3].days",
            "aftercare[4].instruction",
        ]
    );
}

#[test]
fn course_templates_are_checked_like_course_plans() {
    let mut policy = ClinicalPolicy::default();
    policy.course_templates[1].code = "rejuvenation".to_owned();
    policy.course_templates[0].sessions = 25;
    policy.course_templates[2].min_interval_days = 200;
    assert_eq!(
        fields(policy.validate()),
        vec![
            "course_templates[0].sessions",
            "course_templates[1].code",
            "course_templates[2].max_interval_days",
        ]
    );
}

#[test]
fn the_policy_round_trips_through_json_and_refuses_unknown_fields() -> Result<(), serde_json::Error>
{
    let policy = ClinicalPolicy::default();
    let json = serde_json::to_value(&policy)?;
    assert_eq!(json["max_depth_by_role"][0]["max_needle_depth_mm"], 0.5);
    assert_eq!(
        json["interval_bands"][2]["up_to_mm"],
        serde_json::Value::Null
    );
    assert_eq!(json["contraindications"][11]["outcome"], "deferred");
    assert_eq!(serde_json::from_value::<ClinicalPolicy>(json)?, policy);
    assert!(serde_json::from_str::<ClinicalPolicy>(r#"{"screening_validity_dayz": 30}"#).is_err());
    assert_eq!(
        serde_json::from_str::<ClinicalPolicy>(r#"{"screening_validity_days": 60}"#)?,
        ClinicalPolicy {
            screening_validity_days: 60,
            ..ClinicalPolicy::default()
        }
    );
    Ok(())
}

proptest! {
    #[test]
    fn deeper_needles_never_wait_less_under_the_defaults(a in 1u16..=300, b in 1u16..=300) {
        let policy = ClinicalPolicy::default();
        let (shallow, deep) = (mm(a.min(b)), mm(a.max(b)));
        prop_assert!(policy.min_interval_days(shallow) <= policy.min_interval_days(deep));
    }

    #[test]
    fn a_valid_band_list_gives_every_depth_an_interval(
        edges in proptest::collection::btree_set(1u16..300, 0..5),
        days in proptest::collection::vec(0u32..=365, 6),
        probe in 1u16..=300,
    ) {
        let edges: Vec<u16> = edges.into_iter().collect();
        let mut bands: Vec<IntervalBand> = edges
            .iter()
            .zip(&days)
            .map(|(&e, &d)| IntervalBand { up_to_mm: Some(mm(e)), min_days: d })
            .collect();
        bands.push(IntervalBand { up_to_mm: None, min_days: days[5] });
        let policy = ClinicalPolicy { interval_bands: bands, ..ClinicalPolicy::default() };
        prop_assert_eq!(policy.validate(), Ok(()));
        let expected = edges
            .iter()
            .position(|&e| probe <= e)
            .map_or(days[5], |i| days[i]);
        prop_assert_eq!(policy.min_interval_days(mm(probe)), expected);
    }
}
