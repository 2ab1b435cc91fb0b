//! Courses: a planned series of sessions, and where a client stands in one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{MAX_POLICY_DAYS, days_after};
use crate::error::ValidationErrors;

/// Most sessions one course may plan: two years of monthly sessions.
pub const MAX_SESSIONS: u32 = 24;

/// A validated course plan, taken from a policy template or set for one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCoursePlan")]
pub struct CoursePlan {
    sessions: u32,
    min_interval_days: u32,
    max_interval_days: u32,
}

/// The wire shape, checked by [`CoursePlan::new`] before it becomes a plan.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoursePlan {
    sessions: u32,
    min_interval_days: u32,
    max_interval_days: u32,
}

impl TryFrom<RawCoursePlan> for CoursePlan {
    type Error = ValidationErrors;

    fn try_from(raw: RawCoursePlan) -> Result<Self, Self::Error> {
        Self::new(raw.sessions, raw.min_interval_days, raw.max_interval_days)
    }
}

impl CoursePlan {
    /// A plan of 1 to 24 sessions, each 1 to 365 days after the last, min not above max.
    pub fn new(
        sessions: u32,
        min_interval_days: u32,
        max_interval_days: u32,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !(1..=MAX_SESSIONS).contains(&sessions) {
            errors.add(
                "sessions",
                format!("must be between 1 and {MAX_SESSIONS}, got {sessions}"),
            );
        }
        for (field, days) in [
            ("min_interval_days", min_interval_days),
            ("max_interval_days", max_interval_days),
        ] {
            if !(1..=MAX_POLICY_DAYS).contains(&days) {
                errors.add(
                    field,
                    format!("must be between 1 and {MAX_POLICY_DAYS} days, got {days}"),
                );
            }
        }
        if min_interval_days > max_interval_days {
            errors.add(
                "max_interval_days",
                format!("must not be less than min_interval_days ({min_interval_days})"),
            );
        }
        errors.into_result()?;
        Ok(Self {
            sessions,
            min_interval_days,
            max_interval_days,
        })
    }

    /// Sessions in the course.
    pub fn sessions(&self) -> u32 {
        self.sessions
    }

    /// Fewest days between two sessions.
    pub fn min_interval_days(&self) -> u32 {
        self.min_interval_days
    }

    /// Most days between two sessions before the next is overdue.
    pub fn max_interval_days(&self) -> u32 {
        self.max_interval_days
    }
}

/// The days within which the next session of a course should take place, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueWindow {
    /// The earliest day the course plans for it.
    pub from: NaiveDate,
    /// The last day before it is overdue.
    pub to: NaiveDate,
}

/// Where a client stands in a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CourseProgress {
    /// Sessions already performed.
    pub sessions_done: u32,
    /// Sessions still planned.
    pub sessions_remaining: u32,
    /// When the next session is due; `null` once the course is complete.
    pub next_due: Option<DueWindow>,
    /// Whether every planned session has been performed.
    pub completed: bool,
}

/// Progress through `plan` begun on `started_on`, given the dates of the sessions performed.
///
/// The first session is due from `started_on` with the plan's longest interval as slack, so a
/// course that never began shows as overdue just like one that stalled. The window of every
/// later session counts from the latest session, whatever order the dates come in. The course
/// window is advisory: the clinical minimum interval is still enforced by
/// [`crate::eligibility::check`].
pub fn progress(
    plan: &CoursePlan,
    started_on: NaiveDate,
    session_dates: &[NaiveDate],
) -> CourseProgress {
    let sessions_done = u32::try_from(session_dates.len()).unwrap_or(u32::MAX);
    let sessions_remaining = plan.sessions.saturating_sub(sessions_done);
    let completed = sessions_remaining == 0;
    let next_due = if completed {
        None
    } else {
        let (from, to) = match session_dates.iter().max() {
            None => (started_on, days_after(started_on, plan.max_interval_days)),
            Some(&last) => (
                days_after(last, plan.min_interval_days),
                days_after(last, plan.max_interval_days),
            ),
        };
        Some(DueWindow { from, to })
    };
    CourseProgress {
        sessions_done,
        sessions_remaining,
        next_due,
        completed,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Days;
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    fn rejuvenation() -> Result<CoursePlan, ValidationErrors> {
        CoursePlan::new(3, 42, 56)
    }

    fn fields(result: Result<CoursePlan, ValidationErrors>) -> Vec<String> {
        result
            .err()
            .map(|e| e.0.into_iter().map(|f| f.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_new_course_is_due_from_its_start() -> Result<(), ValidationErrors> {
        let p = progress(&rejuvenation()?, date(2025, 1, 6), &[]);
        assert_eq!(
            p,
            CourseProgress {
                sessions_done: 0,
                sessions_remaining: 3,
                next_due: Some(DueWindow {
                    from: date(2025, 1, 6),
                    to: date(2025, 3, 3),
                }),
                completed: false,
            }
        );
        Ok(())
    }

    #[test]
    fn the_next_session_is_due_between_min_and_max_days_after_the_latest()
    -> Result<(), ValidationErrors> {
        let dates = [date(2025, 3, 3), date(2025, 1, 6)];
        let p = progress(&rejuvenation()?, date(2025, 1, 6), &dates);
        assert_eq!(p.sessions_done, 2);
        assert_eq!(p.sessions_remaining, 1);
        assert_eq!(
            p.next_due,
            Some(DueWindow {
                from: date(2025, 4, 14),
                to: date(2025, 4, 28),
            })
        );
        Ok(())
    }

    #[test]
    fn a_course_with_every_session_done_is_complete() -> Result<(), ValidationErrors> {
        let dates = [date(2025, 1, 6), date(2025, 2, 17), date(2025, 3, 31)];
        let p = progress(&rejuvenation()?, date(2025, 1, 6), &dates);
        assert!(p.completed);
        assert_eq!(p.sessions_remaining, 0);
        assert_eq!(p.next_due, None);
        Ok(())
    }

    #[test]
    fn an_extra_session_leaves_the_course_complete_rather_than_negative()
    -> Result<(), ValidationErrors> {
        let plan = CoursePlan::new(1, 14, 28)?;
        let p = progress(
            &plan,
            date(2025, 1, 6),
            &[date(2025, 1, 6), date(2025, 2, 3)],
        );
        assert_eq!(
            (p.sessions_done, p.sessions_remaining, p.completed),
            (2, 0, true)
        );
        Ok(())
    }

    #[test]
    fn implausible_plans_are_refused_field_by_field() {
        assert_eq!(fields(CoursePlan::new(0, 28, 35)), vec!["sessions"]);
        assert_eq!(fields(CoursePlan::new(25, 28, 35)), vec!["sessions"]);
        assert_eq!(fields(CoursePlan::new(6, 0, 35)), vec!["min_interval_days"]);
        assert_eq!(
            fields(CoursePlan::new(6, 28, 366)),
            vec!["max_interval_days"]
        );
        assert_eq!(
            fields(CoursePlan::new(6, 40, 35)),
            vec!["max_interval_days"]
        );
        assert!(CoursePlan::new(24, 365, 365).is_ok());
        assert!(CoursePlan::new(1, 1, 1).is_ok());
    }

    #[test]
    fn a_plan_is_checked_when_read_from_json() {
        let ok = serde_json::from_str::<CoursePlan>(
            r#"{"sessions": 6, "min_interval_days": 28, "max_interval_days": 35}"#,
        );
        assert_eq!(ok.ok(), CoursePlan::new(6, 28, 35).ok());
        assert!(
            serde_json::from_str::<CoursePlan>(
                r#"{"sessions": 6, "min_interval_days": 40, "max_interval_days": 35}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<CoursePlan>(
                r#"{"sessions": 6, "min_interval_days": 28, "max_interval_days": 35, "x": 1}"#
            )
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn progress_always_adds_up(
            sessions in 1u32..=24,
            min in 1u32..=365,
            extra in 0u32..=365,
            gaps in proptest::collection::vec(0u64..400, 0..30),
        ) {
            let max = (min + extra).min(365);
            let plan = CoursePlan::new(sessions, min, max)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let start = date(2025, 1, 1);
            let mut day = start;
            let mut dates = Vec::new();
            for gap in gaps {
                day = day + Days::new(gap);
                dates.push(day);
            }
            let p = progress(&plan, start, &dates);
            prop_assert_eq!(p.sessions_done as usize, dates.len());
            prop_assert_eq!(p.completed, p.next_due.is_none());
            prop_assert_eq!(p.completed, dates.len() >= sessions as usize);
            if !p.completed {
                prop_assert_eq!(p.sessions_done + p.sessions_remaining, sessions);
            }
            if let Some(window) = p.next_due {
                prop_assert!(window.from <= window.to);
                let last = dates.last().copied().unwrap_or(start);
                prop_assert!(window.from >= last);
            }
        }
    }
}
