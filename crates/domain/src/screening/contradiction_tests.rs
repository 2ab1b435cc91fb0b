//! Tests of a rescreen that denies what a recent screening found blocking.

use chrono::NaiveDate;

use super::*;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 20).unwrap_or(NaiveDate::MIN)
}

fn pregnant(outcome: Outcome) -> Reason {
    Reason {
        factor: Contraindication::Pregnancy,
        outcome,
        until: None,
        basis: None,
    }
}

#[test]
fn denying_a_recent_contraindication_needs_a_physician() {
    let policy = ClinicalPolicy::default();
    let earlier = [pregnant(Outcome::Contraindicated)];
    let evaluation = evaluate_after(
        &ScreeningAnswers::default(),
        &policy,
        day(),
        Some(EarlierScreening {
            reasons: &earlier,
            cleared: &[],
        }),
    );
    assert_eq!(evaluation.outcome, Outcome::RequiresClearance);
    assert_eq!(
        evaluation.reasons,
        vec![Reason {
            factor: Contraindication::Pregnancy,
            outcome: Outcome::RequiresClearance,
            until: None,
            basis: Some(ReasonBasis::ContradictsEarlierScreening),
        }]
    );
}

#[test]
fn a_cleared_factor_or_a_confirmed_one_is_not_a_contradiction() {
    let policy = ClinicalPolicy::default();
    let earlier = [pregnant(Outcome::RequiresClearance)];
    let cleared = [Contraindication::Pregnancy];
    let evaluation = evaluate_after(
        &ScreeningAnswers::default(),
        &policy,
        day(),
        Some(EarlierScreening {
            reasons: &earlier,
            cleared: &cleared,
        }),
    );
    assert_eq!(evaluation.outcome, Outcome::Eligible);

    let still = ScreeningAnswers {
        pregnant: true,
        ..ScreeningAnswers::default()
    };
    let earlier = [pregnant(Outcome::Contraindicated)];
    let evaluation = evaluate_after(
        &still,
        &policy,
        day(),
        Some(EarlierScreening {
            reasons: &earlier,
            cleared: &[],
        }),
    );
    assert_eq!(evaluation.reasons, vec![pregnant(Outcome::Contraindicated)]);
}
