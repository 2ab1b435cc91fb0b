//! The adverse-event signal of a lot: when enough treatments that used one lot are followed by
//! adverse events, the lot is put on hold everywhere until someone looks at it.
//!
//! Single-use rollers and cartridges come in lots; a contaminated or badly made lot shows itself
//! as a cluster of reactions among the clients treated with it. The rule counts adverse events
//! of at least a given severity on treatments that used the lot: a count within a recent window,
//! or a rate among all the lot's treatments once the lot has been used often enough for a rate
//! to mean something.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ValidationErrors;
use crate::clinical::Severity;

/// When adverse events on one lot's treatments put the lot on hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SignalRule {
    /// The mildest severity that counts.
    pub min_severity: Severity,
    /// Adverse events within the window that put the lot on hold.
    pub count: u32,
    /// Days back from today (by onset) that the count looks at.
    pub window_days: u32,
    /// The share of the lot's treatments followed by a counted adverse event, in percent, that
    /// puts the lot on hold ...
    pub rate_percent: f64,
    /// ... once the lot has been used in at least this many treatments.
    pub rate_min_treatments: u32,
}

impl Default for SignalRule {
    fn default() -> Self {
        Self {
            min_severity: Severity::Moderate,
            count: 3,
            window_days: 30,
            rate_percent: 2.0,
            rate_min_treatments: 50,
        }
    }
}

/// One adverse event after a treatment that used the lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report<T> {
    /// Whatever identifies the treatment (its id).
    pub treatment: T,
    /// How bad it was.
    pub severity: Severity,
    /// When it began.
    pub onset_on: NaiveDate,
}

/// What the rule finds for a lot on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Counted adverse events with their onset within the window.
    pub in_window: u32,
    /// Treatments that used the lot.
    pub treatments: u64,
    /// Of those, treatments followed by at least one counted adverse event (any time).
    pub affected_treatments: u64,
    /// `affected_treatments` as a percentage of `treatments` (0 without treatments).
    pub rate_percent: f64,
    /// Whether the count or the rate crossed the rule's threshold.
    pub crossed: bool,
}

impl SignalRule {
    /// Whether an adverse event of this severity counts.
    pub fn counts(&self, severity: Severity) -> bool {
        severity >= self.min_severity
    }

    /// The first day of the window ending `today`.
    pub fn window_start(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_days(Days::new(u64::from(self.window_days)))
            .unwrap_or(NaiveDate::MIN)
    }

    /// Applies the rule to the adverse events after a lot's `treatments` treatments, on `today`.
    pub fn evaluate<T: PartialEq + Copy>(
        &self,
        treatments: u64,
        reports: &[Report<T>],
        today: NaiveDate,
    ) -> Finding {
        let start = self.window_start(today);
        let counted: Vec<&Report<T>> = reports.iter().filter(|r| self.counts(r.severity)).collect();
        let in_window = counted
            .iter()
            .filter(|r| r.onset_on >= start && r.onset_on <= today)
            .count();
        let mut affected: Vec<T> = Vec::new();
        for r in &counted {
            if !affected.contains(&r.treatment) {
                affected.push(r.treatment);
            }
        }
        let affected_treatments = affected.len() as u64;
        #[expect(
            clippy::cast_precision_loss,
            reason = "treatment counts far below 2^52"
        )]
        let rate_percent = if treatments == 0 {
            0.0
        } else {
            affected_treatments as f64 * 100.0 / treatments as f64
        };
        let in_window = u32::try_from(in_window).unwrap_or(u32::MAX);
        let by_count = self.count > 0 && in_window >= self.count;
        let by_rate = treatments >= u64::from(self.rate_min_treatments)
            && treatments > 0
            && rate_percent >= self.rate_percent;
        Finding {
            in_window,
            treatments,
            affected_treatments,
            rate_percent,
            crossed: by_count || by_rate,
        }
    }

    /// Checks the rule, naming each field under `field` that is out of range.
    pub fn validate(&self, field: &str, errors: &mut ValidationErrors) {
        if self.count == 0 {
            errors.add(format!("{field}.count"), "must be at least 1");
        }
        if self.window_days == 0 {
            errors.add(format!("{field}.window_days"), "must be at least 1");
        }
        if !(self.rate_percent > 0.0 && self.rate_percent <= 100.0) {
            errors.add(
                format!("{field}.rate_percent"),
                "must be more than 0 and at most 100",
            );
        }
        if self.rate_min_treatments == 0 {
            errors.add(format!("{field}.rate_min_treatments"), "must be at least 1");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("a date")
    }

    fn report(treatment: u32, severity: Severity, onset: u32) -> Report<u32> {
        Report {
            treatment,
            severity,
            onset_on: day(onset),
        }
    }

    #[test]
    fn the_third_moderate_event_within_thirty_days_crosses_by_default() {
        let rule = SignalRule::default();
        let two = [
            report(1, Severity::Moderate, 1),
            report(2, Severity::Severe, 2),
        ];
        assert!(!rule.evaluate(10, &two, day(6)).crossed);
        let mut three = two.to_vec();
        three.push(report(3, Severity::Moderate, 5));
        let finding = rule.evaluate(10, &three, day(6));
        assert!(finding.crossed);
        assert_eq!(finding.in_window, 3);
        assert_eq!(finding.affected_treatments, 3);
        assert!((finding.rate_percent - 30.0).abs() < 1e-9);
    }

    #[test]
    fn mild_events_and_events_before_the_window_do_not_count() {
        let rule = SignalRule {
            window_days: 3,
            ..SignalRule::default()
        };
        let reports = [
            report(1, Severity::Mild, 6),
            report(2, Severity::Mild, 6),
            report(3, Severity::Moderate, 1),
            report(4, Severity::Moderate, 2),
            report(5, Severity::Moderate, 6),
        ];
        // Three affected treatments in 1,000 are 0.3 %, under the rate.
        let finding = rule.evaluate(1000, &reports, day(6));
        assert_eq!(finding.in_window, 1);
        assert_eq!(finding.affected_treatments, 3);
        assert!(!finding.crossed);
    }

    #[test]
    fn the_rate_counts_only_once_the_lot_has_enough_treatments() {
        let rule = SignalRule::default();
        // One affected treatment in 49 is 2.04 %, but 49 treatments are too few for a rate.
        let one = [report(1, Severity::Severe, 1)];
        assert!(!rule.evaluate(49, &one, day(20)).crossed);
        // Two in 100 is 2 %: crossed, although both are long past the window.
        let two = [
            report(1, Severity::Severe, 1),
            report(2, Severity::Moderate, 1),
        ];
        assert!(rule.evaluate(100, &two, day(1) + Days::new(90)).crossed);
        // Two events on one treatment are one affected treatment: 1 %.
        let same = [
            report(1, Severity::Severe, 1),
            report(1, Severity::Moderate, 1),
        ];
        let finding = rule.evaluate(100, &same, day(1) + Days::new(90));
        assert_eq!(finding.affected_treatments, 1);
        assert!(!finding.crossed);
    }

    #[test]
    fn a_rule_out_of_range_names_its_fields() {
        let rule = SignalRule {
            count: 0,
            window_days: 0,
            rate_percent: 0.0,
            rate_min_treatments: 0,
            ..SignalRule::default()
        };
        let mut errors = ValidationErrors::new();
        rule.validate("adverse_event_signal", &mut errors);
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "adverse_event_signal.count",
                "adverse_event_signal.window_days",
                "adverse_event_signal.rate_percent",
                "adverse_event_signal.rate_min_treatments",
            ]
        );
        let mut errors = ValidationErrors::new();
        SignalRule::default().validate("s", &mut errors);
        assert!(errors.0.is_empty());
    }
}
