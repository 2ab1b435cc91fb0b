//! Tests of screening: answers, their validation, and what they mean under the policy.

use proptest::prelude::*;

use super::*;
use crate::policy::FactorRule;
use crate::wire::tests::assert_wire_names;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn screened_on() -> NaiveDate {
    date(2025, 3, 20)
}

fn policy_with(factor: Contraindication, outcome: FactorOutcome) -> ClinicalPolicy {
    let mut policy = ClinicalPolicy::default();
    for rule in &mut policy.contraindications {
        if rule.factor == factor {
            *rule = FactorRule { factor, outcome };
        }
    }
    policy
}

#[test]
fn every_enum_uses_one_snake_case_name_on_the_wire_and_in_code() {
    assert_wire_names(&Outcome::ALL, Outcome::as_str);
    assert_wire_names(&ReasonBasis::ALL, ReasonBasis::as_str);
}

#[test]
fn a_client_with_no_factors_is_eligible_for_thirty_days() {
    let eval = evaluate(
        &ScreeningAnswers::default(),
        &ClinicalPolicy::default(),
        screened_on(),
    );
    assert_eq!(eval.outcome, Outcome::Eligible);
    assert!(eval.reasons.is_empty());
    assert_eq!(eval.valid_until, date(2025, 4, 19));
}

#[test]
fn pregnancy_is_a_contraindication() {
    let answers = ScreeningAnswers {
        pregnant: true,
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&answers, &ClinicalPolicy::default(), screened_on());
    assert_eq!(eval.outcome, Outcome::Contraindicated);
    assert_eq!(
        eval.reasons,
        vec![Reason {
            factor: Contraindication::Pregnancy,
            outcome: Outcome::Contraindicated,
            until: None,
            basis: None,
        }]
    );
}

#[test]
fn the_most_severe_factor_decides_and_all_are_listed() {
    let answers = ScreeningAnswers {
        herpes_history: true,
        eczema_or_rosacea: true,
        last_waxing_or_resurfacing_on: Some(date(2025, 3, 15)),
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&answers, &ClinicalPolicy::default(), screened_on());
    assert_eq!(eval.outcome, Outcome::Contraindicated);
    let factors: Vec<_> = eval.reasons.iter().map(|r| (r.factor, r.outcome)).collect();
    assert_eq!(
        factors,
        vec![
            (Contraindication::HerpesHistory, Outcome::RequiresClearance),
            (Contraindication::EczemaOrRosacea, Outcome::Contraindicated),
            (
                Contraindication::RecentWaxingOrResurfacing,
                Outcome::Deferred
            ),
        ]
    );
}

#[test]
fn waxing_defers_treatment_until_fourteen_days_after_it() {
    let policy = ClinicalPolicy::default();
    let thirteen_days_ago = ScreeningAnswers {
        last_waxing_or_resurfacing_on: Some(date(2025, 3, 7)),
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&thirteen_days_ago, &policy, screened_on());
    assert_eq!(eval.outcome, Outcome::Deferred);
    assert_eq!(eval.reasons[0].until, Some(date(2025, 3, 21)));
    assert_eq!(
        outcome_with_clearances(&eval.reasons, &[], date(2025, 3, 20)),
        Outcome::Deferred
    );
    assert_eq!(
        outcome_with_clearances(&eval.reasons, &[], date(2025, 3, 21)),
        Outcome::Eligible
    );

    let fourteen_days_ago = ScreeningAnswers {
        last_waxing_or_resurfacing_on: Some(date(2025, 3, 6)),
        ..ScreeningAnswers::default()
    };
    assert_eq!(
        evaluate(&fourteen_days_ago, &policy, screened_on()).outcome,
        Outcome::Eligible
    );
}

#[test]
fn anti_inflammatories_in_the_last_seven_days_are_a_contraindication() {
    let policy = ClinicalPolicy::default();
    let six_days_ago = ScreeningAnswers {
        last_anti_inflammatory_dose_on: Some(date(2025, 3, 14)),
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&six_days_ago, &policy, screened_on());
    assert_eq!(
        eval.reasons,
        vec![Reason {
            factor: Contraindication::AntiInflammatoryMedication,
            outcome: Outcome::Contraindicated,
            until: Some(date(2025, 3, 21)),
            basis: None,
        }]
    );
    // A contraindication does not lapse by itself: the client is rescreened.
    assert_eq!(
        outcome_with_clearances(&eval.reasons, &[], date(2025, 4, 1)),
        Outcome::Contraindicated
    );

    let seven_days_ago = ScreeningAnswers {
        last_anti_inflammatory_dose_on: Some(date(2025, 3, 13)),
        ..ScreeningAnswers::default()
    };
    assert_eq!(
        evaluate(&seven_days_ago, &policy, screened_on()).outcome,
        Outcome::Eligible
    );
}

#[test]
fn the_policy_sets_the_windows_and_the_validity() {
    let policy = ClinicalPolicy {
        waxing_or_resurfacing_window_days: 21,
        screening_validity_days: 10,
        ..ClinicalPolicy::default()
    };
    let answers = ScreeningAnswers {
        last_waxing_or_resurfacing_on: Some(date(2025, 3, 1)),
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&answers, &policy, screened_on());
    assert_eq!(eval.reasons[0].until, Some(date(2025, 3, 22)));
    assert_eq!(eval.valid_until, date(2025, 3, 30));
}

#[test]
fn changing_a_factor_rule_changes_the_outcome() {
    let answers = ScreeningAnswers {
        frequent_alcohol_use: true,
        ..ScreeningAnswers::default()
    };
    let default = evaluate(&answers, &ClinicalPolicy::default(), screened_on());
    assert_eq!(default.outcome, Outcome::Contraindicated);

    let relaxed = policy_with(
        Contraindication::FrequentAlcoholUse,
        FactorOutcome::RequiresClearance,
    );
    assert_eq!(
        evaluate(&answers, &relaxed, screened_on()).outcome,
        Outcome::RequiresClearance
    );

    let allowed = policy_with(Contraindication::FrequentAlcoholUse, FactorOutcome::Allowed);
    let eval = evaluate(&answers, &allowed, screened_on());
    assert_eq!(eval.outcome, Outcome::Eligible);
    assert!(eval.reasons.is_empty());
}

#[test]
fn a_yes_no_factor_deferred_by_policy_waits_for_a_rescreen() {
    let policy = policy_with(Contraindication::ActiveAcne, FactorOutcome::Deferred);
    let answers = ScreeningAnswers {
        active_acne: true,
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&answers, &policy, screened_on());
    assert_eq!(eval.outcome, Outcome::Deferred);
    assert_eq!(eval.reasons[0].until, None);
    assert_eq!(
        outcome_with_clearances(&eval.reasons, &[], date(2026, 1, 1)),
        Outcome::Deferred
    );
}

#[test]
fn a_physician_clearance_lifts_only_what_requires_clearance() {
    let answers = ScreeningAnswers {
        herpes_history: true,
        very_sensitive_skin: true,
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&answers, &ClinicalPolicy::default(), screened_on());
    assert_eq!(eval.outcome, Outcome::RequiresClearance);
    let on = screened_on();
    assert_eq!(
        outcome_with_clearances(&eval.reasons, &[Contraindication::HerpesHistory], on),
        Outcome::RequiresClearance
    );
    assert_eq!(
        outcome_with_clearances(
            &eval.reasons,
            &[
                Contraindication::HerpesHistory,
                Contraindication::VerySensitiveSkin
            ],
            on
        ),
        Outcome::Eligible
    );

    let pregnant = ScreeningAnswers {
        pregnant: true,
        ..ScreeningAnswers::default()
    };
    let eval = evaluate(&pregnant, &ClinicalPolicy::default(), on);
    assert_eq!(
        outcome_with_clearances(&eval.reasons, &[Contraindication::Pregnancy], on),
        Outcome::Contraindicated
    );
}

#[test]
fn only_requires_clearance_can_be_cleared() {
    assert!(can_clear(Outcome::RequiresClearance));
    assert!(!can_clear(Outcome::Contraindicated));
    assert!(!can_clear(Outcome::Deferred));
    assert!(!can_clear(Outcome::Eligible));
}

#[test]
fn outcomes_are_ordered_by_severity() {
    assert!(Outcome::Eligible < Outcome::Deferred);
    assert!(Outcome::Deferred < Outcome::RequiresClearance);
    assert!(Outcome::RequiresClearance < Outcome::Contraindicated);
}

#[test]
fn dates_after_the_screening_and_huge_medication_lists_are_refused() {
    let answers = ScreeningAnswers {
        last_anti_inflammatory_dose_on: Some(date(2025, 3, 21)),
        medications: Some("x".repeat(MAX_MEDICATIONS_LEN + 1)),
        ..ScreeningAnswers::default()
    };
    let fields: Vec<String> = answers
        .validate(screened_on())
        .err()
        .map(|e| e.0.into_iter().map(|f| f.field).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        vec!["last_anti_inflammatory_dose_on", "medications"]
    );
    assert_eq!(ScreeningAnswers::default().validate(screened_on()), Ok(()));
}

#[test]
fn answers_must_name_every_question_and_nothing_else() {
    let complete = r#"{"pregnant": false, "active_acne": false,
        "inflamed_or_infected_skin": false, "active_herpes": false, "herpes_history": false,
        "eczema_or_rosacea": false, "anticoagulants": false, "autoimmune_disease": false,
        "frequent_alcohol_use": false, "very_sensitive_skin": true,
        "last_waxing_or_resurfacing_on": "2025-03-10"}"#;
    let parsed = serde_json::from_str::<ScreeningAnswers>(complete).ok();
    assert_eq!(
        parsed,
        Some(ScreeningAnswers {
            very_sensitive_skin: true,
            last_waxing_or_resurfacing_on: Some(date(2025, 3, 10)),
            ..ScreeningAnswers::default()
        })
    );
    let missing = complete.replace(r#""pregnant": false, "#, "");
    assert!(serde_json::from_str::<ScreeningAnswers>(&missing).is_err());
    let extra = complete.replace(
        r#""pregnant": false"#,
        r#""pregnant": false, "smoker": true"#,
    );
    assert!(serde_json::from_str::<ScreeningAnswers>(&extra).is_err());
}

#[test]
fn contraindication_names_are_the_documented_ones() {
    assert_eq!(Contraindication::ALL.len(), 12);
    assert_eq!(
        "recent_waxing_or_resurfacing".parse(),
        Ok(Contraindication::RecentWaxingOrResurfacing)
    );
    assert_eq!(
        serde_json::to_string(&Outcome::RequiresClearance).ok(),
        Some("\"requires_clearance\"".to_owned())
    );
    assert!("herpes".parse::<Contraindication>().is_err());
}

fn answers_strategy() -> impl Strategy<Value = ScreeningAnswers> {
    (
        proptest::collection::vec(any::<bool>(), 10),
        proptest::option::of(0u32..40),
        proptest::option::of(0u32..40),
    )
        .prop_map(|(b, waxed, dosed)| ScreeningAnswers {
            pregnant: b[0],
            active_acne: b[1],
            inflamed_or_infected_skin: b[2],
            active_herpes: b[3],
            herpes_history: b[4],
            eczema_or_rosacea: b[5],
            anticoagulants: b[6],
            autoimmune_disease: b[7],
            frequent_alcohol_use: b[8],
            very_sensitive_skin: b[9],
            last_waxing_or_resurfacing_on: waxed
                .and_then(|d| screened_on().checked_sub_days(chrono::Days::new(d.into()))),
            last_anti_inflammatory_dose_on: dosed
                .and_then(|d| screened_on().checked_sub_days(chrono::Days::new(d.into()))),
            medications: None,
        })
}

proptest! {
    #[test]
    fn the_outcome_is_the_most_severe_reason(answers in answers_strategy()) {
        let eval = evaluate(&answers, &ClinicalPolicy::default(), screened_on());
        let worst = eval.reasons.iter().map(|r| r.outcome).max().unwrap_or(Outcome::Eligible);
        prop_assert_eq!(eval.outcome, worst);
        prop_assert!(eval.reasons.iter().all(|r| r.outcome != Outcome::Eligible));
    }

    #[test]
    fn clearances_and_time_never_make_a_screening_worse(
        answers in answers_strategy(),
        later in 0u64..60,
    ) {
        let eval = evaluate(&answers, &ClinicalPolicy::default(), screened_on());
        let on = screened_on() + chrono::Days::new(later);
        let with_everything_cleared =
            outcome_with_clearances(&eval.reasons, &Contraindication::ALL, on);
        prop_assert!(with_everything_cleared <= eval.outcome);
        let contraindicated = eval.reasons.iter().any(|r| r.outcome == Outcome::Contraindicated);
        prop_assert_eq!(with_everything_cleared == Outcome::Contraindicated, contraindicated);
    }
}
