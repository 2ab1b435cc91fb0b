//! The rules at the chair against the running server, tried as a request that does not play
//! fair would: every refusal, over REST and over gRPC, leaves exactly one audit event with its
//! code and outcome; one 422 names every invalid field; front desk books from `eligible` and
//! `earliest_eligible_on` without a clinical word; a unit dropped at the chair is written off
//! and reported.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

#[path = "../flow_support/mod.rs"]
mod flow_support;
mod front_desk;
mod refusals;
mod write_offs;
