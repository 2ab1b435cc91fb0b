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
mod contradiction_tests;

#[cfg(test)]
mod tests;
