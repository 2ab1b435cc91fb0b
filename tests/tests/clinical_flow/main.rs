//! The clinical flow against the running server, as a clinic's staff go through it: a client, a
//! screening that needs a physician's clearance, eligibility before and after, a roller taken
//! from stock, the treatment, signing, corrections, an adverse event and the aftercare - over
//! REST and over gRPC. Also what front desk never sees, idempotent creation (concurrent, and
//! across a restart), and that another organisation's records do not exist for a caller.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

#[path = "../flow_support/mod.rs"]
mod flow_support;
mod front_desk;
mod idempotency;
mod journey_over_grpc;
mod journey_over_rest;
mod tenancy;

use flow_support::{date_at, plus_days};
use serde_json::Value;

/// The default aftercare of DOMAIN.md: each instruction's code and its days.
const AFTERCARE: [(&str, i64); 8] = [
    ("avoid_sun", 14),
    ("no_anti_inflammatories", 7),
    ("no_make_up", 3),
    ("avoid_heat", 15),
    ("no_exfoliation", 14),
    ("no_ice_arnica_bromelain", 7),
    ("avoid_smoking_alcohol_exercise", 7),
    ("moisturise", 7),
];

/// Checks aftercare dated from `performed_on` under the default policy, for a 0.5 mm session.
#[track_caller]
fn assert_default_aftercare(aftercare: &Value, performed_on: chrono::NaiveDate) {
    let instructions = aftercare["instructions"]
        .as_array()
        .unwrap_or_else(|| panic!("no instructions in {aftercare}"));
    let ends: Vec<(String, i64, chrono::NaiveDate)> = instructions
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap_or_default().to_owned(),
                i["days"].as_i64().unwrap_or_default(),
                date_at(i, "until"),
            )
        })
        .collect();
    let expected: Vec<(String, i64, chrono::NaiveDate)> = AFTERCARE
        .iter()
        .map(|(code, days)| ((*code).to_owned(), *days, plus_days(performed_on, *days)))
        .collect();
    assert_eq!(ends, expected, "aftercare end dates: {aftercare}");
    // 0.5 mm waits 14 days; results show from six weeks.
    assert_eq!(
        date_at(aftercare, "next_eligible_on"),
        plus_days(performed_on, 14)
    );
    assert_eq!(
        date_at(aftercare, "results_expected_from"),
        plus_days(performed_on, 42)
    );
}
