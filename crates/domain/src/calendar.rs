//! Spans of days on the calendar, as the clinical policy and courses count them.

use chrono::{Days, NaiveDate};

/// The longest span, in days, any policy figure may take: a year.
pub const MAX_POLICY_DAYS: u32 = 365;

/// `date` plus `days`; saturates at the end of the calendar, which no real date approaches.
pub(crate) fn days_after(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}
