//! The inventory of single-use devices through the app layer: products, receipts by fields and
//! by GS1 string, consumption by treatments (first expiry first out, never expired, recalled,
//! below zero or a serial twice), transfers, adjustments and stocktakes, recalls with their
//! trace, reports, tenant isolation, and the ledger that every balance is the sum of. Every
//! scenario runs on SQLite and on PostgreSQL; the property test runs on SQLite.

#![expect(clippy::expect_used, reason = "tests")]

#[path = "../clinical_support/mod.rs"]
pub mod clinical_support;
mod consumption;
#[path = "../inventory_support/mod.rs"]
pub mod inventory_support;
mod products_and_reports;
mod property;
mod recalls;
mod receipts;
mod stock_counts;
mod tenancy;
mod transfers;

use skinledger_app::PageParams;
use skinledger_app::lots::Balance;
use skinledger_app::recalls::RecallRequest;
use skinledger_app::transfers::{NewTransfer, TransferLineRequest};
use uuid::Uuid;

fn recall(reason: &str) -> RecallRequest {
    RecallRequest {
        reason: reason.into(),
    }
}

fn page(limit: u64) -> PageParams {
    PageParams {
        limit: Some(limit),
        cursor: None,
    }
}

fn transfer(from: Uuid, to: Uuid, lot: Uuid, quantity: u32) -> NewTransfer {
    NewTransfer {
        from_clinic_id: from,
        to_clinic_id: to,
        lines: vec![TransferLineRequest {
            lot_id: lot,
            quantity,
            serials: vec![],
        }],
        note: None,
    }
}

fn balance(on_hand: i64, quarantined: i64, in_transit_out: i64) -> Balance {
    Balance {
        on_hand,
        quarantined,
        in_transit_out,
    }
}
