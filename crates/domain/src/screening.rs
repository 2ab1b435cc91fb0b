//! Contraindication screening: the answers a client gives before treatment, and what they mean.
//!
//! [`evaluate`] turns answers into reasons under the organisation's [`ClinicalPolicy`]; the
//! reasons are stored with the screening, and [`outcome_with_clearances`] re-reads them later,
//! once a physician has cleared some factors or a deferral has run out.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::days_after;
use crate::contraindication::Contraindication;
use crate::error::ValidationErrors;
use crate::policy::{ClinicalPolicy, FactorOutcome};
use crate::wire::wire_enum;

/// Longest free-text medication list accepted, ample for any real list.
pub const MAX_MEDICATIONS_LEN: usize = 2000;

wire_enum! {
    /// Where a screening, or one factor of it, leaves the client; ordered least to most severe.
    pub enum Outcome ("screening outcome") {
        /// Nothing stands in the way.
        Eligible => "eligible",
        /// Blocked until a date, or until rescreened.
        Deferred => "deferred",
        /// Blocked until a physician records a clearance.
        RequiresClearance => "requires_clearance",
        /// Blocked; no clearance lifts it.
        Contraindicated => "contraindicated",
    }
}

/// What a client answered at screening.
///
/// Every yes/no answer must be sent: a question left out is not the same as "no".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScreeningAnswers {
    /// Is the client pregnant?
    pub pregnant: bool,
    /// Active acne or a cystic breakout?
    pub active_acne: bool,
    /// Inflamed or infected skin in the area to treat?
    pub inflamed_or_infected_skin: bool,
    /// An active herpes (cold sore) outbreak?
    pub active_herpes: bool,
    /// Ever had herpes?
    pub herpes_history: bool,
    /// Eczema or rosacea in the area to treat?
    pub eczema_or_rosacea: bool,
    /// Taking anticoagulants or blood thinners?
    pub anticoagulants: bool,
    /// An autoimmune disease?
    pub autoimmune_disease: bool,
    /// Drinks alcohol frequently?
    pub frequent_alcohol_use: bool,
    /// Very sensitive skin?
    pub very_sensitive_skin: bool,
    /// The last waxing or skin resurfacing, if the client remembers any.
    #[serde(default)]
    pub last_waxing_or_resurfacing_on: Option<NaiveDate>,
    /// The last dose of anti-inflammatory medication, if any.
    #[serde(default)]
    pub last_anti_inflammatory_dose_on: Option<NaiveDate>,
    /// Current medications in the client's words, for the practitioner to read; not evaluated.
    #[serde(default)]
    pub medications: Option<String>,
}

impl ScreeningAnswers {
    /// Refuses dates after the screening and an over-long medication list.
    pub fn validate(&self, screened_on: NaiveDate) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        for (field, date) in [
            (
                "last_waxing_or_resurfacing_on",
                self.last_waxing_or_resurfacing_on,
            ),
            (
                "last_anti_inflammatory_dose_on",
                self.last_anti_inflammatory_dose_on,
            ),
        ] {
            if date.is_some_and(|d| d > screened_on) {
                errors.add(field, "must not be after the day of the screening");
            }
        }
        if self
            .medications
            .as_ref()
            .is_some_and(|m| m.chars().count() > MAX_MEDICATIONS_LEN)
        {
            errors.add(
                "medications",
                format!("must be at most {MAX_MEDICATIONS_LEN} characters"),
            );
        }
        errors.into_result()
    }

    /// Whether `factor` is present on `screened_on`, and until when for the dated ones.
    fn finding(
        &self,
        factor: Contraindication,
        policy: &ClinicalPolicy,
        screened_on: NaiveDate,
    ) -> Finding {
        use Contraindication as C;
        let yes = |answer: bool| if answer { Finding::Yes } else { Finding::No };
        let since = |last: Option<NaiveDate>, window_days: u32| match last {
            Some(date) => {
                let until = days_after(date, window_days);
                // A date after the screening is refused by validate; should one get through, it
                // still counts, which errs on the side of the client.
                if screened_on < until {
                    Finding::Until(until)
                } else {
                    Finding::No
                }
            }
            None => Finding::No,
        };
        match factor {
            C::Pregnancy => yes(self.pregnant),
            C::ActiveAcne => yes(self.active_acne),
            C::InflamedOrInfectedSkin => yes(self.inflamed_or_infected_skin),
            C::ActiveHerpes => yes(self.active_herpes),
            C::HerpesHistory => yes(self.herpes_history),
            C::EczemaOrRosacea => yes(self.eczema_or_rosacea),
            C::Anticoagulants => yes(self.anticoagulants),
            C::AutoimmuneDisease => yes(self.autoimmune_disease),
            C::FrequentAlcoholUse => yes(self.frequent_alcohol_use),
            C::VerySensitiveSkin => yes(self.very_sensitive_skin),
            C::AntiInflammatoryMedication => since(
                self.last_anti_inflammatory_dose_on,
                policy.anti_inflammatory_window_days,
            ),
            C::RecentWaxingOrResurfacing => since(
                self.last_waxing_or_resurfacing_on,
                policy.waxing_or_resurfacing_window_days,
            ),
        }
    }
}

/// Whether one factor is present.
enum Finding {
    No,
    Yes,
    /// Present because of a date, and lapsing on this day.
    Until(NaiveDate),
}

/// One factor found at screening, with what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// The factor.
    pub factor: Contraindication,
    /// What it does under the policy at the time of screening; never `eligible`.
    pub outcome: Outcome,
    /// For the dated factors, the day the factor lapses (date + window). A deferred reason stops
    /// blocking on that day; under other outcomes it only says when a rescreen may differ.
    pub until: Option<NaiveDate>,
    /// Why the factor counts when the answers alone would not say so:
    /// `contradicts_earlier_screening` when the client denies a factor that a recent screening
    /// found blocking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<ReasonBasis>,
}

wire_enum! {
    /// Why a factor counts although the client's answers deny it.
    pub enum ReasonBasis ("reason basis") {
        /// A screening within the validity period found the factor blocking; a denial that
        /// soon after needs a physician to confirm it.
        ContradictsEarlierScreening => "contradicts_earlier_screening",
    }
}

/// The client's screening before the one being evaluated, within the validity period: what it
/// found and which of its factors a physician cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlierScreening<'a> {
    /// Its reasons.
    pub reasons: &'a [Reason],
    /// The factors cleared on it.
    pub cleared: &'a [Contraindication],
}

impl Reason {
    /// Whether this reason still blocks treatment on `on`, given the factors cleared since.
    pub fn still_blocks(&self, cleared: &[Contraindication], on: NaiveDate) -> bool {
        match self.outcome {
            Outcome::Eligible => false,
            // Without a date, a deferral lasts until the client is rescreened.
            Outcome::Deferred => self.until.is_none_or(|until| on < until),
            Outcome::RequiresClearance => !cleared.contains(&self.factor),
            Outcome::Contraindicated => true,
        }
    }
}

/// The result of one screening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningEvaluation {
    /// The most severe outcome among the reasons, `eligible` when there are none.
    pub outcome: Outcome,
    /// Every factor found that the policy does not allow, in [`Contraindication::ALL`] order.
    pub reasons: Vec<Reason>,
    /// The last day the screening may be relied on.
    pub valid_until: NaiveDate,
}

/// Evaluates a client's answers under `policy` on the day of screening.
pub fn evaluate(
    answers: &ScreeningAnswers,
    policy: &ClinicalPolicy,
    screened_on: NaiveDate,
) -> ScreeningEvaluation {
    let reasons: Vec<Reason> = Contraindication::ALL
        .into_iter()
        .filter_map(|factor| {
            let until = match answers.finding(factor, policy, screened_on) {
                Finding::No => return None,
                Finding::Yes => None,
                Finding::Until(date) => Some(date),
            };
            let outcome = match policy.rule_for(factor) {
                FactorOutcome::Allowed => return None,
                FactorOutcome::Deferred => Outcome::Deferred,
                FactorOutcome::RequiresClearance => Outcome::RequiresClearance,
                FactorOutcome::Contraindicated => Outcome::Contraindicated,
            };
            Some(Reason {
                factor,
                outcome,
                until,
                basis: None,
            })
        })
        .collect();
    ScreeningEvaluation {
        outcome: outcome_with_clearances(&reasons, &[], screened_on),
        reasons,
        valid_until: days_after(screened_on, policy.screening_validity_days),
    }
}

/// Evaluates a client's answers as [`evaluate`] does, and then holds on to what the client's
/// previous screening within the validity period found: a factor it found contraindicated or
/// awaiting clearance (and not cleared) that the new answers deny becomes `requires_clearance`
/// with basis `contradicts_earlier_screening`, so that a quick rescreen cannot wave away a
/// contraindication without a physician.
pub fn evaluate_after(
    answers: &ScreeningAnswers,
    policy: &ClinicalPolicy,
    screened_on: NaiveDate,
    earlier: Option<EarlierScreening<'_>>,
) -> ScreeningEvaluation {
    let mut evaluation = evaluate(answers, policy, screened_on);
    let Some(earlier) = earlier else {
        return evaluation;
    };
    for found in earlier.reasons {
        let blocking = matches!(
            found.outcome,
            Outcome::Contraindicated | Outcome::RequiresClearance
        ) && found.still_blocks(earlier.cleared, screened_on)
            && found.until.is_none_or(|until| screened_on < until);
        let denied = matches!(
            answers.finding(found.factor, policy, screened_on),
            Finding::No
        );
        if blocking && denied && !evaluation.reasons.iter().any(|r| r.factor == found.factor) {
            evaluation.reasons.push(Reason {
                factor: found.factor,
                outcome: Outcome::RequiresClearance,
                until: None,
                basis: Some(ReasonBasis::ContradictsEarlierScreening),
            });
        }
    }
    evaluation.reasons.sort_by_key(|r| r.factor);
    evaluation.outcome = outcome_with_clearances(&evaluation.reasons, &[], screened_on);
    evaluation
}

/// The outcome of stored reasons on `on`, once `cleared` factors and lapsed deferrals drop out.
pub fn outcome_with_clearances(
    reasons: &[Reason],
    cleared: &[Contraindication],
    on: NaiveDate,
) -> Outcome {
    reasons
        .iter()
        .filter(|reason| reason.still_blocks(cleared, on))
        .map(|reason| reason.outcome)
        .max()
        .unwrap_or(Outcome::Eligible)
}

/// Whether a physician's clearance can lift a reason with this outcome: only
/// `requires_clearance` can; a contraindication stands whoever signs.
pub fn can_clear(outcome: Outcome) -> bool {
    outcome == Outcome::RequiresClearance
}

#[cfg(test)]
mod contradiction_tests {
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
}

#[cfg(test)]
mod tests {
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
}
