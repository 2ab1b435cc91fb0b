//! The clinical policy: every figure the sources disagree on, editable per organisation.
//!
//! [`ClinicalPolicy::default`] is the table in DOMAIN.md. An organisation may change any of it;
//! [`ClinicalPolicy::validate`] keeps the result coherent, naming each field it refuses.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::calendar::MAX_POLICY_DAYS;
use crate::clinical::Endpoint;
use crate::contraindication::Contraindication;
use crate::course::CoursePlan;
use crate::depth::NeedleDepth;
use crate::error::ValidationErrors;
use crate::role::Role;
use crate::signal::SignalRule;
use crate::wire::wire_enum;

wire_enum! {
    /// What a screening factor does to a client's eligibility when it is present.
    pub enum FactorOutcome ("factor outcome") {
        /// Blocks treatment until a new screening no longer shows the factor.
        Contraindicated => "contraindicated",
        /// Blocks treatment until a physician records a clearance.
        RequiresClearance => "requires_clearance",
        /// Blocks treatment until a date. For the two dated factors (waxing or resurfacing,
        /// anti-inflammatory medication) that is the last occurrence plus the policy's window;
        /// a yes/no factor has no date to count from, so it is deferred until the client is
        /// rescreened and no longer has it.
        Deferred => "deferred",
        /// Recorded, but does not block treatment.
        Allowed => "allowed",
    }
}

/// How the organisation treats one contraindication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FactorRule {
    /// The screening factor.
    pub factor: Contraindication,
    /// What its presence does.
    pub outcome: FactorOutcome,
}

/// The deepest needle one clinical role may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleDepth {
    /// A clinical role (physician, nurse or esthetician).
    pub role: Role,
    /// Its limit, inclusive.
    pub max_needle_depth_mm: NeedleDepth,
}

/// The minimum days between sessions for needles up to a depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntervalBand {
    /// The deepest needle in this band, inclusive; `null` for the last band, above all others.
    pub up_to_mm: Option<NeedleDepth>,
    /// Days that must pass after a session in this band before the next one.
    pub min_days: u32,
}

/// One aftercare instruction handed to the client after every session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AftercareRule {
    /// Stable snake_case code, so apps can show their own icon or translation.
    pub code: String,
    /// The instruction as the client reads it.
    pub instruction: String,
    /// How many days after the session it runs.
    pub days: u32,
}

/// The endpoints one clinical role may take a session to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleEndpoints {
    /// A clinical role (physician, nurse or esthetician).
    pub role: Role,
    /// Where it may take a session; a role not listed may take none.
    pub endpoints: Vec<Endpoint>,
}

/// A named course of sessions a client can be put on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CourseTemplate {
    /// Stable snake_case code.
    pub code: String,
    /// The name staff see.
    pub name: String,
    /// Sessions in the course.
    pub sessions: u32,
    /// Fewest days between two sessions of the course.
    pub min_interval_days: u32,
    /// Most days between two sessions before the next one is overdue.
    pub max_interval_days: u32,
}

impl CourseTemplate {
    /// The template as a validated plan.
    pub fn plan(&self) -> Result<CoursePlan, ValidationErrors> {
        CoursePlan::new(
            self.sessions,
            self.min_interval_days,
            self.max_interval_days,
        )
    }
}

/// An organisation's clinical policy.
///
/// Fields missing from a document take their DOMAIN.md default, so a policy stored before a
/// field existed still loads; unknown fields are refused, so a misspelt one is not silently lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ClinicalPolicy {
    /// The outcome of each contraindication; every factor appears exactly once.
    pub contraindications: Vec<FactorRule>,
    /// Days after a dose of anti-inflammatory medication during which it counts.
    pub anti_inflammatory_window_days: u32,
    /// Days after waxing or skin resurfacing during which it counts.
    pub waxing_or_resurfacing_window_days: u32,
    /// Depth limits of the roles that may treat; a role not listed may not treat at all.
    pub max_depth_by_role: Vec<RoleDepth>,
    /// The endpoints each role may take a session to; a role not listed reaches none.
    pub endpoints_by_role: Vec<RoleEndpoints>,
    /// How many days in the past a session may be recorded (its `performed_at`).
    pub max_backdate_days: u32,
    /// Minimum intervals by needle depth, shallowest band first, the last open-ended.
    pub interval_bands: Vec<IntervalBand>,
    /// Days a screening stays valid after the day it was taken.
    pub screening_validity_days: u32,
    /// Days after a session when the client can expect to see results.
    pub results_expected_after_days: u32,
    /// Aftercare given after every session.
    pub aftercare: Vec<AftercareRule>,
    /// Courses a client can be put on.
    pub course_templates: Vec<CourseTemplate>,
    /// When adverse events after one lot's treatments put the lot on hold at every clinic.
    pub adverse_event_signal: SignalRule,
}

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
fn depth(hundredths: u16) -> NeedleDepth {
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

impl ClinicalPolicy {
    /// What the presence of `factor` does under this policy.
    pub fn rule_for(&self, factor: Contraindication) -> FactorOutcome {
        self.contraindications
            .iter()
            .find(|rule| rule.factor == factor)
            .map(|rule| rule.outcome)
            // Only an unvalidated policy lacks a rule; the documented default is the least
            // surprising answer then.
            .unwrap_or(default_rule(factor))
    }

    /// The deepest needle `role` may use, or `None` when it may not treat.
    pub fn max_depth_for(&self, role: Role) -> Option<NeedleDepth> {
        // Guarded by is_clinical too, so an unvalidated policy cannot let front desk treat.
        if !role.is_clinical() {
            return None;
        }
        self.max_depth_by_role
            .iter()
            .filter(|limit| limit.role == role)
            .map(|limit| limit.max_needle_depth_mm)
            // Duplicates are refused by validate; if one slips through, the stricter limit holds.
            .min()
    }

    /// The deepest needle someone holding all of `roles` may use: the most permissive of them.
    pub fn max_depth_for_any(&self, roles: &[Role]) -> Option<NeedleDepth> {
        roles
            .iter()
            .filter_map(|&role| self.max_depth_for(role))
            .max()
    }

    /// Whether someone holding all of `roles` may take a session to `endpoint`.
    pub fn allows_endpoint(&self, roles: &[Role], endpoint: Endpoint) -> bool {
        roles.iter().any(|&role| {
            role.is_clinical()
                && self
                    .endpoints_by_role
                    .iter()
                    .any(|rule| rule.role == role && rule.endpoints.contains(&endpoint))
        })
    }

    /// Minimum days after a session at `depth` before the next one.
    pub fn min_interval_days(&self, depth: NeedleDepth) -> u32 {
        self.interval_bands
            .iter()
            .find(|band| band.up_to_mm.is_none_or(|edge| depth <= edge))
            // Only an unvalidated policy (no open-ended band, or no band at all) gets here; the
            // longest interval it names, else the longest default, is the safe answer.
            .or_else(|| self.interval_bands.iter().max_by_key(|band| band.min_days))
            .map(|band| band.min_days)
            .unwrap_or(42)
    }

    /// The course template with `code`, if the organisation has one.
    pub fn course_template(&self, code: &str) -> Option<&CourseTemplate> {
        self.course_templates.iter().find(|t| t.code == code)
    }

    /// Checks that the policy is coherent, naming every field that is not.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        self.validate_contraindications(&mut errors);
        check_days(
            &mut errors,
            "anti_inflammatory_window_days",
            self.anti_inflammatory_window_days,
            1,
        );
        check_days(
            &mut errors,
            "waxing_or_resurfacing_window_days",
            self.waxing_or_resurfacing_window_days,
            1,
        );
        self.validate_depths(&mut errors);
        self.validate_endpoints(&mut errors);
        check_days(&mut errors, "max_backdate_days", self.max_backdate_days, 0);
        self.validate_bands(&mut errors);
        check_days(
            &mut errors,
            "screening_validity_days",
            self.screening_validity_days,
            1,
        );
        check_days(
            &mut errors,
            "results_expected_after_days",
            self.results_expected_after_days,
            1,
        );
        self.validate_aftercare(&mut errors);
        self.validate_courses(&mut errors);
        self.adverse_event_signal
            .validate("adverse_event_signal", &mut errors);
        errors.into_result()
    }

    fn validate_contraindications(&self, errors: &mut ValidationErrors) {
        let mut seen = HashSet::new();
        for (i, rule) in self.contraindications.iter().enumerate() {
            if !seen.insert(rule.factor) {
                errors.add(
                    format!("contraindications[{i}].factor"),
                    format!("`{}` has more than one rule", rule.factor),
                );
            }
        }
        for factor in Contraindication::ALL {
            if !seen.contains(&factor) {
                errors.add(
                    "contraindications",
                    format!("no rule for `{factor}`; every factor needs one"),
                );
            }
        }
    }

    fn validate_depths(&self, errors: &mut ValidationErrors) {
        let mut seen = HashSet::new();
        for (i, limit) in self.max_depth_by_role.iter().enumerate() {
            let field = format!("max_depth_by_role[{i}].role");
            if !limit.role.is_clinical() {
                errors.add(
                    field,
                    format!(
                        "`{}` does not treat; only physician, nurse and esthetician do",
                        limit.role
                    ),
                );
            } else if !seen.insert(limit.role) {
                errors.add(field, format!("`{}` has more than one limit", limit.role));
            }
        }
    }

    fn validate_endpoints(&self, errors: &mut ValidationErrors) {
        let mut seen = HashSet::new();
        for (i, rule) in self.endpoints_by_role.iter().enumerate() {
            let field = format!("endpoints_by_role[{i}].role");
            if !rule.role.is_clinical() {
                errors.add(
                    field,
                    format!(
                        "`{}` does not treat; only physician, nurse and esthetician do",
                        rule.role
                    ),
                );
            } else if !seen.insert(rule.role) {
                errors.add(field, format!("`{}` is listed more than once", rule.role));
            }
            for (j, endpoint) in rule.endpoints.iter().enumerate() {
                if rule.endpoints[..j].contains(endpoint) {
                    errors.add(
                        format!("endpoints_by_role[{i}].endpoints[{j}]"),
                        "is listed twice",
                    );
                }
            }
        }
    }

    fn validate_bands(&self, errors: &mut ValidationErrors) {
        let Some(last) = self.interval_bands.last() else {
            errors.add("interval_bands", "at least one band is needed");
            return;
        };
        if last.up_to_mm.is_some() {
            errors.add(
                "interval_bands",
                "the last band must be open-ended (up_to_mm null) so every depth has an interval",
            );
        }
        let mut previous: Option<NeedleDepth> = None;
        let last_index = self.interval_bands.len() - 1;
        for (i, band) in self.interval_bands.iter().enumerate() {
            match band.up_to_mm {
                None if i != last_index => errors.add(
                    format!("interval_bands[{i}].up_to_mm"),
                    "only the last band may be open-ended",
                ),
                Some(edge) if previous.is_some_and(|p| edge <= p) => errors.add(
                    format!("interval_bands[{i}].up_to_mm"),
                    "bands must go from shallowest to deepest, each deeper than the one before",
                ),
                _ => {}
            }
            previous = band.up_to_mm.or(previous);
            check_days(
                errors,
                &format!("interval_bands[{i}].min_days"),
                band.min_days,
                0,
            );
        }
    }

    fn validate_aftercare(&self, errors: &mut ValidationErrors) {
        let mut seen = HashSet::new();
        for (i, rule) in self.aftercare.iter().enumerate() {
            check_code(
                errors,
                &format!("aftercare[{i}].code"),
                &rule.code,
                &mut seen,
            );
            if rule.instruction.trim().is_empty() {
                errors.add(format!("aftercare[{i}].instruction"), "must not be empty");
            }
            check_days(errors, &format!("aftercare[{i}].days"), rule.days, 1);
        }
    }

    fn validate_courses(&self, errors: &mut ValidationErrors) {
        let mut seen = HashSet::new();
        for (i, template) in self.course_templates.iter().enumerate() {
            check_code(
                errors,
                &format!("course_templates[{i}].code"),
                &template.code,
                &mut seen,
            );
            if template.name.trim().is_empty() {
                errors.add(format!("course_templates[{i}].name"), "must not be empty");
            }
            if let Err(plan_errors) = template.plan() {
                for e in plan_errors.0 {
                    errors.add(format!("course_templates[{i}].{}", e.field), e.message);
                }
            }
        }
    }
}

/// Longest code accepted, generous for a snake_case identifier.
const MAX_CODE_LEN: usize = 64;

fn check_code<'a>(
    errors: &mut ValidationErrors,
    field: &str,
    code: &'a str,
    seen: &mut HashSet<&'a str>,
) {
    let well_formed = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        errors.add(
            field,
            format!("must be 1 to {MAX_CODE_LEN} characters of snake_case (a-z, 0-9, _)"),
        );
    } else if !seen.insert(code) {
        errors.add(field, format!("`{code}` is used more than once"));
    }
}

fn check_days(errors: &mut ValidationErrors, field: &str, days: u32, min: u32) {
    if !(min..=MAX_POLICY_DAYS).contains(&days) {
        errors.add(
            field,
            format!("must be between {min} and {MAX_POLICY_DAYS} days, got {days}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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
    fn the_policy_round_trips_through_json_and_refuses_unknown_fields()
    -> Result<(), serde_json::Error> {
        let policy = ClinicalPolicy::default();
        let json = serde_json::to_value(&policy)?;
        assert_eq!(json["max_depth_by_role"][0]["max_needle_depth_mm"], 0.5);
        assert_eq!(
            json["interval_bands"][2]["up_to_mm"],
            serde_json::Value::Null
        );
        assert_eq!(json["contraindications"][11]["outcome"], "deferred");
        assert_eq!(serde_json::from_value::<ClinicalPolicy>(json)?, policy);
        assert!(
            serde_json::from_str::<ClinicalPolicy>(r#"{"screening_validity_dayz": 30}"#).is_err()
        );
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
}
