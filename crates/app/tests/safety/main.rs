//! The rules that stand between a client and an unsafe session, tried as a request that does
//! not play fair would: refusals on the record, back-dating in both directions, stock as it
//! stood, closed clinics, contradicted screenings, endpoints by role, unknown serials and the
//! clinic's own calendar. Every scenario runs on SQLite and on PostgreSQL.

#![expect(clippy::expect_used, reason = "tests")]

#[path = "../clinical_support/mod.rs"]
pub mod clinical_support;
mod closed_clinics;
#[path = "../inventory_support/mod.rs"]
pub mod inventory_support;
mod refusals;
mod reorder_points;
mod session_dates;
mod write_offs;

use skinledger_app::disposals::DisposalRequest;
use skinledger_domain::inventory::DisposalReason;

/// One unit of `lot` written off because it fell.
fn dropped(lot_id: uuid::Uuid, serial: Option<&str>) -> DisposalRequest {
    DisposalRequest {
        lot_id,
        serial: serial.map(inventory_support::serial),
        reason: DisposalReason::Dropped,
        note: Some("fell off the tray".into()),
    }
}
