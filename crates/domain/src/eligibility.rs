//! Eligibility: whether a client may be treated today at a given depth by a given practitioner.
//!
//! [`check`] reports every blocker at once, in a stable order, so the person at the chair sees
//! the whole picture rather than fixing one refusal only to meet the next, together with the
//! earliest day the treatment could go ahead if time alone can lift the blockers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::calendar::days_after;
use crate::clinical::Endpoint;
use crate::contraindication::Contraindication;
use crate::depth::NeedleDepth;
use crate::policy::ClinicalPolicy;
use crate::role::Role;
use crate::screening::{Outcome, Reason};

/// The client's latest screening as stored: its reasons, the clearances since, its validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreeningState<'a> {
    /// The reasons found when it was evaluated.
    pub reasons: &'a [Reason],
    /// Factors a physician has cleared since.
    pub cleared: &'a [Contraindication],
    /// The last day it may be relied on.
    pub valid_until: NaiveDate,
}

/// Everything [`check`] needs to know about a planned treatment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EligibilityInput<'a> {
    /// The organisation's policy.
    pub policy: &'a ClinicalPolicy,
    /// The day of the planned treatment.
    pub on: NaiveDate,
    /// The planned needle depth.
    pub needle_depth: NeedleDepth,
    /// The roles the practitioner holds at the clinic where the treatment takes place.
    pub practitioner_roles_at_clinic: &'a [Role],
    /// The client's latest screening, if any.
    pub screening: Option<ScreeningState<'a>>,
    /// The client's last treatment on or before the day: its day and needle depth.
    pub last_treatment: Option<(NaiveDate, NeedleDepth)>,
    /// The client's first treatment after the day, when the planned one is dated before it:
    /// the interval holds in both directions, so a back-dated session cannot dodge it.
    pub next_treatment: Option<(NaiveDate, NeedleDepth)>,
    /// Where the practitioner plans to stop, when known; checked against the policy's endpoints
    /// for the practitioner's roles.
    pub endpoint: Option<Endpoint>,
}

/// One reason the treatment cannot go ahead; `code` on the wire is the API's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Blocker {
    /// No screening, or the latest one has run out.
    NoValidScreening,
    /// A factor that blocks whatever happens, until a rescreen no longer finds it.
    Contraindicated {
        /// The factor.
        factor: Contraindication,
    },
    /// A factor that blocks until a physician clears it.
    RequiresClearance {
        /// The factor.
        factor: Contraindication,
    },
    /// A factor that blocks until a date, or until a rescreen when `until` is `null`.
    Deferred {
        /// The factor.
        factor: Contraindication,
        /// The first day it no longer blocks.
        until: Option<NaiveDate>,
    },
    /// The minimum interval since the last treatment has not passed.
    TooSoon {
        /// The first day the interval allows.
        next_eligible_on: NaiveDate,
    },
    /// The planned depth or endpoint is beyond what the practitioner's roles allow.
    OutsideScopeOfPractice {
        /// The deepest the practitioner may go; `null` when their roles do not treat at all.
        max_needle_depth_mm: Option<NeedleDepth>,
        /// The planned endpoint, when it is the endpoint that the roles do not allow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<Endpoint>,
    },
    /// The practitioner holds no role at the clinic.
    NotAssignedToClinic,
}

impl Blocker {
    /// The stable snake_case code, the same as the serialised `code` tag.
    pub fn code(&self) -> ErrorCode {
        match self {
            Blocker::NoValidScreening => ErrorCode::NoValidScreening,
            Blocker::Contraindicated { .. } => ErrorCode::Contraindicated,
            Blocker::RequiresClearance { .. } => ErrorCode::RequiresClearance,
            Blocker::Deferred { .. } => ErrorCode::Deferred,
            Blocker::TooSoon { .. } => ErrorCode::TooSoon,
            Blocker::OutsideScopeOfPractice { .. } => ErrorCode::OutsideScopeOfPractice,
            Blocker::NotAssignedToClinic => ErrorCode::NotAssignedToClinic,
        }
    }

    /// The day from which this blocker no longer applies by the mere passing of time, or
    /// `None` when someone must act: a rescreen, a clearance, another practitioner.
    pub fn lifts_on(&self, on: NaiveDate) -> Option<NaiveDate> {
        match *self {
            // A new screening can be taken the same day, just before the treatment.
            Blocker::NoValidScreening => Some(on),
            Blocker::Deferred { until, .. } => until,
            Blocker::TooSoon { next_eligible_on } => Some(next_eligible_on),
            Blocker::Contraindicated { .. }
            | Blocker::RequiresClearance { .. }
            | Blocker::OutsideScopeOfPractice { .. }
            | Blocker::NotAssignedToClinic => None,
        }
    }
}

/// The answer of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// Every blocker: screening first (in factor order), then interval, then scope.
    pub blockers: Vec<Blocker>,
    /// The earliest day the treatment could go ahead, or `None` when time alone cannot get there.
    pub earliest_eligible_on: Option<NaiveDate>,
}

impl Eligibility {
    /// Whether the treatment may go ahead.
    pub fn is_eligible(&self) -> bool {
        self.blockers.is_empty()
    }
}

/// The first day after a session on `last_date` at `last_depth` that a session at
/// `planned_depth` may take place.
///
/// The interval is that of the deeper of the two needles: the skin must have recovered from the
/// last session, and the next one must not land on skin that has not recovered enough for it.
pub fn next_eligible_on(
    policy: &ClinicalPolicy,
    last_date: NaiveDate,
    last_depth: NeedleDepth,
    planned_depth: NeedleDepth,
) -> NaiveDate {
    let governing = last_depth.max(planned_depth);
    days_after(last_date, policy.min_interval_days(governing))
}

/// Checks a planned treatment against screening, interval and scope of practice.
pub fn check(input: &EligibilityInput<'_>) -> Eligibility {
    let mut blockers = Vec::new();

    match input.screening {
        Some(screening) if input.on <= screening.valid_until => {
            blockers.extend(
                screening
                    .reasons
                    .iter()
                    .filter(|reason| reason.still_blocks(screening.cleared, input.on))
                    .filter_map(screening_blocker),
            );
        }
        // An expired screening's reasons are not reported: the rescreen will decide afresh.
        _ => blockers.push(Blocker::NoValidScreening),
    }

    if let Some(next) = interval_blocks(input) {
        blockers.push(Blocker::TooSoon {
            next_eligible_on: next,
        });
    }

    if input.practitioner_roles_at_clinic.is_empty() {
        blockers.push(Blocker::NotAssignedToClinic);
    } else {
        let max = input
            .policy
            .max_depth_for_any(input.practitioner_roles_at_clinic);
        let endpoint_refused = input.endpoint.filter(|&endpoint| {
            !input
                .policy
                .allows_endpoint(input.practitioner_roles_at_clinic, endpoint)
        });
        if max.is_none_or(|max| input.needle_depth > max) || endpoint_refused.is_some() {
            blockers.push(Blocker::OutsideScopeOfPractice {
                max_needle_depth_mm: max,
                endpoint: endpoint_refused,
            });
        }
    }

    let earliest_eligible_on = blockers.iter().try_fold(input.on, |earliest, blocker| {
        blocker.lifts_on(input.on).map(|day| earliest.max(day))
    });
    Eligibility {
        blockers,
        earliest_eligible_on,
    }
}

/// The first day the planned session would respect the interval on both sides, when it does
/// not now: after the last session before it, and before the next session after it.
fn interval_blocks(input: &EligibilityInput<'_>) -> Option<NaiveDate> {
    let mut earliest: Option<NaiveDate> = None;
    if let Some((last_date, last_depth)) = input.last_treatment {
        let next = next_eligible_on(input.policy, last_date, last_depth, input.needle_depth);
        if input.on < next {
            earliest = Some(next);
        }
    }
    if let Some((next_date, next_depth)) = input.next_treatment {
        // The later session must lie a full interval after the planned one; if it does not,
        // the planned one can only go ahead a full interval after that later session.
        let needed = next_eligible_on(input.policy, input.on, input.needle_depth, next_depth);
        if next_date < needed {
            let after = next_eligible_on(input.policy, next_date, next_depth, input.needle_depth);
            earliest = Some(earliest.map_or(after, |e| e.max(after)));
        }
    }
    earliest
}

fn screening_blocker(reason: &Reason) -> Option<Blocker> {
    let factor = reason.factor;
    match reason.outcome {
        Outcome::Eligible => None,
        Outcome::Deferred => Some(Blocker::Deferred {
            factor,
            until: reason.until,
        }),
        Outcome::RequiresClearance => Some(Blocker::RequiresClearance { factor }),
        Outcome::Contraindicated => Some(Blocker::Contraindicated { factor }),
    }
}

#[cfg(test)]
mod tests;
