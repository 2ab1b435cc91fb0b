//! The inventory flow against the running server, as a clinic chain lives it: a delivery scanned
//! in by its GS1 barcode (bracketed, and raw with group separators) at one clinic, part of it
//! sent to another clinic and received there, a roller used on a client, the lot recalled into
//! quarantine everywhere, and the trace naming the client - over REST and over gRPC. Also that
//! another organisation's products, lots, stock and transfers do not exist for a caller.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

#[path = "../flow_support/mod.rs"]
mod flow_support;
mod lot_over_grpc;
mod lot_over_rest;
mod tenancy;

use flow_support::Counts;

/// Counts as the stock answers them.
fn counts(on_hand: i64, quarantined: i64, in_transit_out: i64) -> Counts {
    Counts {
        on_hand,
        quarantined,
        in_transit_out,
    }
}
