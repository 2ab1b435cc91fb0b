//! The built-in clinical policy: the table in DOMAIN.md, the policy of an organisation that has
//! not changed it, and the value of every field a stored policy leaves out.

use super::{
    AftercareRule, ClinicalPolicy, CourseTemplate, FactorOutcome, FactorRule, IntervalBand,
    RoleDepth, RoleEndpoints,
};
use crate::clinical::Endpoint;
use crate::contraindication::Contraindication;
use crate::depth::NeedleDepth;
use crate::role::Role;
use crate::signal::SignalRule;

/// The DOMAIN.md default outcome of each contraindication.
pub const fn default_rule(factor: Contraindication) -> FactorOutcome {
    use Contraindication as C;
    match factor {
        C::HerpesHistory | C::VerySensitiveSkin => FactorOutcome::RequiresClearance,
        C::RecentWaxingOrResurfacing => FactorOutcome::Deferred,
        // Active acne is "contraindicated (defer until clear)": it has no date to defer to,
        // so it blocks until a new screening finds the skin clear.
        C::Pregnancy
        | C::ActiveAcne
        | C::InflamedOrInfectedSkin
        | C::ActiveHerpes
        | C::EczemaOrRosacea
        | C::Anticoagulants
        | C::AntiInflammatoryMedication
        | C::AutoimmuneDisease
        | C::FrequentAlcoholUse => FactorOutcome::Contraindicated,
    }
}

/// Shorthand for the defaults, whose figures are known to be valid.
pub(super) fn depth(hundredths: u16) -> NeedleDepth {
    NeedleDepth::from_hundredths(hundredths).unwrap_or(NeedleDepth::MAX)
}

fn aftercare_rule(code: &str, instruction: &str, days: u32) -> AftercareRule {
    AftercareRule {
        code: code.to_owned(),
        instruction: instruction.to_owned(),
        days,
    }
}

fn course_template(code: &str, name: &str, sessions: u32, min: u32, max: u32) -> CourseTemplate {
    CourseTemplate {
        code: code.to_owned(),
        name: name.to_owned(),
        sessions,
        min_interval_days: min,
        max_interval_days: max,
    }
}

impl Default for ClinicalPolicy {
    fn default() -> Self {
        Self {
            contraindications: Contraindication::ALL
                .into_iter()
                .map(|factor| FactorRule {
                    factor,
                    outcome: default_rule(factor),
                })
                .collect(),
            anti_inflammatory_window_days: 7,
            waxing_or_resurfacing_window_days: 14,
            max_depth_by_role: vec![
                RoleDepth {
                    role: Role::Esthetician,
                    max_needle_depth_mm: depth(50),
                },
                RoleDepth {
                    role: Role::Nurse,
                    max_needle_depth_mm: depth(150),
                },
                RoleDepth {
                    role: Role::Physician,
                    max_needle_depth_mm: depth(250),
                },
            ],
            // An esthetician stops short of bleeding (source 004).
            endpoints_by_role: vec![
                RoleEndpoints {
                    role: Role::Esthetician,
                    endpoints: vec![Endpoint::Erythema],
                },
                RoleEndpoints {
                    role: Role::Nurse,
                    endpoints: Endpoint::ALL.to_vec(),
                },
                RoleEndpoints {
                    role: Role::Physician,
                    endpoints: Endpoint::ALL.to_vec(),
                },
            ],
            max_backdate_days: 7,
            interval_bands: vec![
                IntervalBand {
                    up_to_mm: Some(depth(50)),
                    min_days: 14,
                },
                IntervalBand {
                    up_to_mm: Some(depth(100)),
                    min_days: 28,
                },
                IntervalBand {
                    up_to_mm: None,
                    min_days: 42,
                },
            ],
            screening_validity_days: 30,
            // Results show at 6 to 8 weeks; the earlier end is what a client is told to expect.
            results_expected_after_days: 42,
            aftercare: vec![
                aftercare_rule("avoid_sun", "Avoid the sun; apply sunscreen.", 14),
                aftercare_rule(
                    "no_anti_inflammatories",
                    "No anti-inflammatory medication.",
                    7,
                ),
                aftercare_rule(
                    "no_make_up",
                    "No make-up; only sunscreen and healing care.",
                    3,
                ),
                aftercare_rule(
                    "avoid_heat",
                    "Avoid heat: sauna, steam room, swimming pool.",
                    15,
                ),
                aftercare_rule(
                    "no_exfoliation",
                    "No waxing, resurfacing, scrubbing or exfoliation.",
                    14,
                ),
                aftercare_rule(
                    "no_ice_arnica_bromelain",
                    "No ice; no arnica or bromelain.",
                    7,
                ),
                aftercare_rule(
                    "avoid_smoking_alcohol_exercise",
                    "Avoid smoking, alcohol, heavy exercise and sweating.",
                    7,
                ),
                aftercare_rule("moisturise", "Moisturise once or twice a day.", 7),
            ],
            course_templates: vec![
                // 3 sessions 6 to 8 weeks apart (source 000).
                course_template("rejuvenation", "Rejuvenation", 3, 42, 56),
                // "One a month for 4 to 6 months" (002): the longer course, since stopping early
                // is easier than extending; "a month" taken as 28 days with a week's slack.
                course_template("acne_scarring", "Acne scarring", 6, 28, 35),
                // "Every 3 to 6 months, then a yearly touch-up" (002): two sessions cover the
                // 3-to-6-month phase; the yearly touch-up is booked as a course of its own.
                course_template("maintenance", "Maintenance", 2, 90, 180),
            ],
            adverse_event_signal: SignalRule::default(),
        }
    }
}
