//! Closing a transfer: received at the other clinic, or cancelled and returned to the sender.

use chrono::Utc;
use skinledger_domain::inventory::{MovementKind, StockChange, TransferStatus};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::lot as lot_row;
use skinledger_store::transfers;
use skinledger_store::units;
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::clinics::active_clinic;
use crate::error::{Error, Result};
use crate::events::{Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self, Entry};
use skinledger_domain::events::EventType;

use super::{Transfer, load, lock_lots, view};

/// The refusal for a transfer that is no longer in transit.
fn closed(status: TransferStatus) -> Error {
    match status {
        TransferStatus::Cancelled => Error::conflict(
            ErrorCode::AlreadyCancelled,
            "the transfer was cancelled; its units went back to the sender",
        ),
        TransferStatus::Received | TransferStatus::InTransit => Error::conflict(
            ErrorCode::AlreadyReceived,
            "the transfer was received already",
        ),
    }
}

/// Where returning or arriving units of a lot go: on the shelf, or into quarantine when the
/// lot was recalled or put on hold meanwhile.
fn arriving(lot: &lot_row::Model, quantity: i64) -> Result<StockChange> {
    Ok(if lot.status.quarantines_units() {
        ledger::quarantined(quantity)
    } else {
        ledger::on_hand(quantity)
    })
}

impl App {
    /// Confirms that a transfer arrived (managers of the receiving clinic and `org_admin`;
    /// anyone else 403): in transit leaves the sender, on hand grows at the receiver. A transfer
    /// no longer in transit answers 409 `already_received` or `already_cancelled`.
    pub async fn receive_transfer(
        &self,
        actor: &Actor,
        id: Uuid,
        key: Option<&IdempotencyKey>,
    ) -> Result<Transfer> {
        let subject = Subject::new("transfer", Some(id));
        self.audited(actor, "transfer.receive", subject, async move {
            let row = load(self.db().read(), actor.org_id, id).await?;
            actor.require(Action::TransferManage, Scope::Clinic(row.to_clinic_id))?;
            active_clinic(self.db().read(), actor.org_id, row.to_clinic_id).await?;
            self.close_transfer(actor, id, TransferStatus::Received, key)
                .await
        })
        .await
    }

    /// Calls off a transfer before receipt (managers of the sending clinic and `org_admin`):
    /// the units return to the sender's shelf. A transfer no longer in transit answers 409.
    pub async fn cancel_transfer(
        &self,
        actor: &Actor,
        id: Uuid,
        key: Option<&IdempotencyKey>,
    ) -> Result<Transfer> {
        let subject = Subject::new("transfer", Some(id));
        self.audited(actor, "transfer.cancel", subject, async move {
            let row = load(self.db().read(), actor.org_id, id).await?;
            actor.require(Action::TransferManage, Scope::Clinic(row.from_clinic_id))?;
            self.close_transfer(actor, id, TransferStatus::Cancelled, key)
                .await
        })
        .await
    }

    async fn close_transfer(
        &self,
        actor: &Actor,
        id: Uuid,
        status: TransferStatus,
        key: Option<&IdempotencyKey>,
    ) -> Result<Transfer> {
        let org = actor.org_id;
        let (action, kind) = match status {
            TransferStatus::Cancelled => ("transfer.cancel", MovementKind::TransferCancel),
            TransferStatus::Received | TransferStatus::InTransit => {
                ("transfer.receive", MovementKind::TransferIn)
            }
        };
        idempotency::run(self.db(), actor, key, action, &id, |txn| async move {
            let row = load(&txn, org, id).await?;
            let current = *row.status;
            if current != TransferStatus::InTransit {
                return Err(closed(current));
            }
            let lines = transfers::lines_of(&txn, org, &[id]).await?;
            let lots = lock_lots(&txn, org, &lines).await?;
            if !transfers::close(&txn, org, id, status, actor.principal.id(), Utc::now()).await? {
                let now = load(&txn, org, id).await?;
                return Err(closed(*now.status));
            }
            let mut entries = Vec::with_capacity(lines.len() * 2);
            for line in &lines {
                let lot = lots
                    .get(&line.lot_id)
                    .ok_or_else(|| Error::Internal("transfer line without lot".into()))?;
                let q = i64::from(line.quantity);
                let arrive = arriving(lot, q)?;
                // Serialised units follow the stock: back to the sender, or to the receiver.
                let clinic = if status == TransferStatus::Cancelled {
                    row.from_clinic_id
                } else {
                    row.to_clinic_id
                };
                let unit_status = if lot.status.quarantines_units() {
                    units::QUARANTINED
                } else {
                    units::IN_STOCK
                };
                units::land(&txn, org, line.lot_id, id, clinic, unit_status).await?;
                let entry = |clinic, change| Entry {
                    transfer_id: Some(id),
                    ..Entry::new(clinic, line.lot_id, kind, change)
                };
                let leave_transit = StockChange {
                    in_transit_out: -q,
                    ..StockChange::default()
                };
                if status == TransferStatus::Cancelled {
                    // One movement at the sender: back from transit to where they belong.
                    entries.push(entry(
                        row.from_clinic_id,
                        StockChange {
                            in_transit_out: -q,
                            ..arrive
                        },
                    ));
                } else {
                    entries.push(entry(row.from_clinic_id, leave_transit));
                    entries.push(entry(row.to_clinic_id, arrive));
                }
            }
            ledger::post_all(&txn, actor, entries).await?;
            txn.audit(AuditEvent::by(actor, action, "transfer", Some(id)).detail(
                serde_json::json!({
                    "from_clinic_id": row.from_clinic_id,
                    "to_clinic_id": row.to_clinic_id,
                }),
            ));
            let (kind, here, there) = match status {
                TransferStatus::Cancelled => (
                    EventType::TransferCancelled,
                    row.from_clinic_id,
                    row.to_clinic_id,
                ),
                _ => (
                    EventType::TransferReceived,
                    row.to_clinic_id,
                    row.from_clinic_id,
                ),
            };
            txn.publish(
                org,
                vec![
                    Change::new(kind)
                        .clinic(here)
                        .other_clinic(there)
                        .subject(id)
                        .data(EventData {
                            units: Some(lines.iter().map(|l| i64::from(l.quantity)).sum()),
                            ..EventData::default()
                        }),
                ],
            );
            let row = load(&txn, org, id).await?;
            let answer = view(&txn, org, row).await?;
            Ok((answer, txn))
        })
        .await
    }
}
