//! Sending a transfer: units leave the sending clinic's shelf and are in transit.

use chrono::Utc;
use sea_orm::Set;
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::{MovementKind, StockChange, TransferStatus, Withdrawal};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::{transfer as transfer_row, transfer_line as line_row};
use skinledger_store::transfers;
use skinledger_store::{lots, units};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::clinics::active_clinic;
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self, Entry};
use crate::stock::require_clinic;
use crate::text::optional_text;
use skinledger_domain::events::EventType;

use super::{NewTransfer, Transfer, lock_lots, view};

/// Most lots one transfer carries.
const MAX_LINES: usize = 100;
/// Most units of one lot one transfer carries.
const MAX_UNITS: u32 = 100_000;

impl App {
    /// Sends units from one clinic to another (managers of the sending clinic and
    /// `org_admin`): they leave on hand and are in transit until received. Not enough units
    /// answers 409 `out_of_stock`, a recalled lot 409 `lot_recalled`.
    pub async fn send_transfer(
        &self,
        actor: &Actor,
        new: NewTransfer,
        key: Option<&IdempotencyKey>,
    ) -> Result<Transfer> {
        let subject = Subject::new("transfer", None).clinic(new.to_clinic_id);
        self.audited(actor, "transfer.send", subject, async move {
            let org = actor.org_id;
            let db = self.db().read();
            require_clinic(db, org, new.from_clinic_id).await?;
            require_clinic(db, org, new.to_clinic_id).await?;
            actor.require(Action::TransferManage, Scope::Clinic(new.from_clinic_id))?;
            let mut errors = ValidationErrors::new();
            if new.from_clinic_id == new.to_clinic_id {
                errors.add("to_clinic_id", "must be another clinic than from_clinic_id");
            }
            if new.lines.is_empty() || new.lines.len() > MAX_LINES {
                errors.add("lines", format!("must list 1 to {MAX_LINES} lots"));
            }
            for (i, line) in new.lines.iter().enumerate() {
                if !(1..=MAX_UNITS).contains(&line.quantity) {
                    errors.add(
                        format!("lines[{i}].quantity"),
                        format!("must be between 1 and {MAX_UNITS}"),
                    );
                }
                if new.lines[..i].iter().any(|l| l.lot_id == line.lot_id) {
                    errors.add(format!("lines[{i}].lot_id"), "is listed twice");
                }
                if !line.serials.is_empty() && line.serials.len() != line.quantity as usize {
                    errors.add(
                        format!("lines[{i}].serials"),
                        "must name one serial per unit sent",
                    );
                }
                for (j, serial) in line.serials.iter().enumerate() {
                    if line.serials[..j].contains(serial) {
                        errors.add(format!("lines[{i}].serials[{j}]"), "is listed twice");
                    }
                }
            }
            let note = optional_text(&mut errors, "note", new.note.as_deref(), 1_000);
            errors.into_result()?;
            let ids: Vec<Uuid> = new.lines.iter().map(|l| l.lot_id).collect();
            let found = lots::by_ids(db, org, &ids).await?;
            if found.len() != ids.len() {
                return Err(Error::NotFound("lot"));
            }
            let mut errors = ValidationErrors::new();
            for (i, line) in new.lines.iter().enumerate() {
                let tracked = found
                    .iter()
                    .any(|l| l.id == line.lot_id && l.serial_tracked);
                if !tracked && !line.serials.is_empty() {
                    errors.add(
                        format!("lines[{i}].serials"),
                        "must not be sent: this lot was received by quantity",
                    );
                }
            }
            errors.into_result()?;
            // Receiving clinics must be open; a closed clinic may still send its stock away.
            active_clinic(db, org, new.to_clinic_id).await?;
            let sent = new.clone();
            idempotency::run(
                self.db(),
                actor,
                key,
                "transfer.send",
                &sent,
                |txn| async move {
                    let now = Utc::now();
                    let row = transfers::insert(
                        &txn,
                        transfer_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(org),
                            from_clinic_id: Set(new.from_clinic_id),
                            to_clinic_id: Set(new.to_clinic_id),
                            status: Set(TransferStatus::InTransit.into()),
                            note: Set(note),
                            created_by: Set(actor.principal.id()),
                            created_at: Set(now),
                            received_by: Set(None),
                            received_at: Set(None),
                            cancelled_by: Set(None),
                            cancelled_at: Set(None),
                        },
                    )
                    .await?;
                    let lines: Vec<line_row::ActiveModel> = new
                        .lines
                        .iter()
                        .map(|l| line_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(org),
                            transfer_id: Set(row.id),
                            lot_id: Set(l.lot_id),
                            quantity: Set(i32::try_from(l.quantity).unwrap_or(i32::MAX)),
                        })
                        .collect();
                    transfers::insert_lines(&txn, lines).await?;
                    let lines = transfers::lines_of(&txn, org, &[row.id]).await?;
                    let lots = lock_lots(&txn, org, &lines).await?;
                    let mut entries = Vec::with_capacity(lines.len());
                    for line in &lines {
                        let lot = lots
                            .get(&line.lot_id)
                            .ok_or_else(|| Error::Internal("transfer line without lot".into()))?;
                        match lot.status.withdrawal() {
                            None => {}
                            Some(Withdrawal::OnHold) => return Err(crate::lots::on_hold(lot)),
                            Some(Withdrawal::Recalled) => {
                                return Err(Error::conflict(
                                    ErrorCode::LotRecalled,
                                    format!(
                                        "lot {} is recalled and stays in quarantine",
                                        lot.lot_number
                                    ),
                                ));
                            }
                        }
                        let q = i64::from(line.quantity);
                        if let Some(sent) = new.lines.iter().find(|l| l.lot_id == line.lot_id)
                            && !sent.serials.is_empty()
                        {
                            let serials: Vec<String> =
                                sent.serials.iter().map(|s| s.as_str().to_owned()).collect();
                            let moved = units::send(
                                &txn,
                                org,
                                line.lot_id,
                                &serials,
                                new.from_clinic_id,
                                row.id,
                            )
                            .await?;
                            if moved != serials.len() as u64 {
                                return Err(Error::Conflict {
                                    code: ErrorCode::UnknownSerial,
                                    detail: format!(
                                        "not every serial named for lot {} is on the sending \
                                         clinic's shelf",
                                        lot.lot_number
                                    ),
                                    extra: Some(serde_json::json!({ "lot_id": lot.id })),
                                });
                            }
                        }
                        entries.push(Entry {
                            transfer_id: Some(row.id),
                            ..Entry::new(
                                new.from_clinic_id,
                                line.lot_id,
                                MovementKind::TransferOut,
                                StockChange {
                                    on_hand: -q,
                                    quarantined: 0,
                                    in_transit_out: q,
                                },
                            )
                        });
                    }
                    ledger::post_all(&txn, actor, entries).await?;
                    txn.audit(
                        AuditEvent::by(actor, "transfer.send", "transfer", Some(row.id)).detail(
                            serde_json::json!({
                                "from_clinic_id": new.from_clinic_id,
                                "to_clinic_id": new.to_clinic_id,
                                "lines": new.lines.len(),
                            }),
                        ),
                    );
                    let sent: Vec<(Uuid, i64)> = lines
                        .iter()
                        .filter_map(|l| {
                            lots.get(&l.lot_id)
                                .map(|lot| (lot.product_id, i64::from(l.quantity)))
                        })
                        .collect();
                    let mut changes = vec![
                        Change::new(EventType::TransferSent)
                            .clinic(new.from_clinic_id)
                            .other_clinic(new.to_clinic_id)
                            .subject(row.id)
                            .data(EventData {
                                units: Some(sent.iter().map(|(_, q)| q).sum()),
                                ..EventData::default()
                            }),
                    ];
                    changes.extend(events::low_stock(&txn, org, new.from_clinic_id, sent).await?);
                    txn.publish(org, changes);
                    let answer = view(&txn, org, row).await?;
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }
}
