//! Aftercare: what the client is told after a session, each instruction with its end date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::days_after;
use crate::depth::NeedleDepth;
use crate::eligibility::next_eligible_on;
use crate::policy::ClinicalPolicy;

/// One instruction, dated for the client's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AftercareItem {
    /// The policy's stable code for the instruction (`avoid_sun`).
    pub code: String,
    /// The instruction as the client reads it.
    pub instruction: String,
    /// How many days after the session it runs.
    pub days: u32,
    /// The day it runs until: the session day plus `days`.
    pub until: NaiveDate,
}

/// Everything the client takes home from one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Aftercare {
    /// The instructions in the policy's order.
    pub instructions: Vec<AftercareItem>,
    /// The earliest next session at the same depth or shallower.
    pub next_eligible_on: NaiveDate,
    /// When results can be expected to show.
    pub results_expected_from: NaiveDate,
}

/// Dated aftercare for a session on `performed_on` at `depth`.
///
/// The next session's depth is not known yet, so the next eligible day assumes the same depth;
/// a deeper next session may have to wait longer, which [`crate::eligibility::check`] enforces.
pub fn aftercare_for(
    policy: &ClinicalPolicy,
    performed_on: NaiveDate,
    depth: NeedleDepth,
) -> Aftercare {
    Aftercare {
        instructions: policy
            .aftercare
            .iter()
            .map(|rule| AftercareItem {
                code: rule.code.clone(),
                instruction: rule.instruction.clone(),
                days: rule.days,
                until: days_after(performed_on, rule.days),
            })
            .collect(),
        next_eligible_on: next_eligible_on(policy, performed_on, depth, depth),
        results_expected_from: days_after(performed_on, policy.results_expected_after_days),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    fn mm(hundredths: u16) -> NeedleDepth {
        NeedleDepth::from_hundredths(hundredths).unwrap_or(NeedleDepth::MAX)
    }

    #[test]
    fn each_instruction_ends_its_number_of_days_after_the_session() {
        let care = aftercare_for(&ClinicalPolicy::default(), date(2025, 3, 28), mm(50));
        let ends: Vec<(&str, NaiveDate)> = care
            .instructions
            .iter()
            .map(|item| (item.code.as_str(), item.until))
            .collect();
        assert_eq!(
            ends,
            vec![
                ("avoid_sun", date(2025, 4, 11)),
                ("no_anti_inflammatories", date(2025, 4, 4)),
                ("no_make_up", date(2025, 3, 31)),
                ("avoid_heat", date(2025, 4, 12)),
                ("no_exfoliation", date(2025, 4, 11)),
                ("no_ice_arnica_bromelain", date(2025, 4, 4)),
                ("avoid_smoking_alcohol_exercise", date(2025, 4, 4)),
                ("moisturise", date(2025, 4, 4)),
            ]
        );
    }

    #[test]
    fn the_next_session_and_results_are_dated_by_the_policy() {
        let policy = ClinicalPolicy::default();
        let performed_on = date(2025, 3, 28);
        let shallow = aftercare_for(&policy, performed_on, mm(50));
        assert_eq!(shallow.next_eligible_on, date(2025, 4, 11));
        assert_eq!(shallow.results_expected_from, date(2025, 5, 9));
        assert_eq!(
            aftercare_for(&policy, performed_on, mm(100)).next_eligible_on,
            date(2025, 4, 25)
        );
        assert_eq!(
            aftercare_for(&policy, performed_on, mm(150)).next_eligible_on,
            date(2025, 5, 9)
        );
    }

    #[test]
    fn an_organisation_s_own_instructions_are_used() {
        let mut policy = ClinicalPolicy::default();
        policy.aftercare.truncate(1);
        policy.aftercare[0].days = 30;
        let care = aftercare_for(&policy, date(2025, 12, 15), mm(50));
        assert_eq!(care.instructions.len(), 1);
        assert_eq!(care.instructions[0].until, date(2026, 1, 14));
    }

    #[test]
    fn aftercare_serialises_dates_as_plain_days() -> Result<(), serde_json::Error> {
        let care = aftercare_for(&ClinicalPolicy::default(), date(2025, 3, 28), mm(50));
        let json = serde_json::to_value(&care)?;
        assert_eq!(json["instructions"][2]["code"], "no_make_up");
        assert_eq!(json["instructions"][2]["until"], "2025-03-31");
        assert_eq!(json["next_eligible_on"], "2025-04-11");
        Ok(())
    }

    proptest! {
        #[test]
        fn every_end_date_follows_the_session(offset in 0u64..20_000, depth in 1u16..=300) {
            let performed_on = date(2000, 1, 1) + chrono::Days::new(offset);
            let care = aftercare_for(&ClinicalPolicy::default(), performed_on, mm(depth));
            for item in &care.instructions {
                prop_assert_eq!((item.until - performed_on).num_days(), i64::from(item.days));
            }
            prop_assert!(care.next_eligible_on > performed_on);
        }
    }
}
