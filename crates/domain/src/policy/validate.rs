//! Whether a clinical policy is coherent, naming every field that is not.

use std::collections::HashSet;

use super::ClinicalPolicy;
use crate::calendar::MAX_POLICY_DAYS;
use crate::contraindication::Contraindication;
use crate::depth::NeedleDepth;
use crate::error::ValidationErrors;

impl ClinicalPolicy {
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
