//! The clinical policy: every figure the sources disagree on, editable per organisation.
//!
//! [`ClinicalPolicy::default`] is the table in DOMAIN.md. An organisation may change any of it;
//! [`ClinicalPolicy::validate`] keeps the result coherent, naming each field it refuses.

use serde::{Deserialize, Serialize};

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
}

mod defaults;
mod validate;

pub use defaults::default_rule;

#[cfg(test)]
mod tests;
