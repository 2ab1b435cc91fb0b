//! Transfers between two clinics, in two steps: the sending clinic moves units from on hand to
//! in transit; the receiving clinic confirms, and they arrive on its shelf. Until then the
//! sender may cancel, and the units return. A transfer is received or cancelled once: the
//! status changes by a conditional update, so of two concurrent attempts one wins.
//!
//! Units of a lot recalled while in transit arrive (or return) in quarantine.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::{MovementKind, Serial, StockChange, TransferStatus, Withdrawal};
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_store::entities::{
    lot as lot_row, transfer as transfer_row, transfer_line as line_row,
};
use skinledger_store::transfers::{self, TransferFilter};
use skinledger_store::{lots, units};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::clients::optional_text;
use crate::clinics::active_clinic;
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self, Entry};
use crate::paging::{Page, PageParams};
use crate::stock::require_clinic;
use skinledger_domain::events::EventType;

/// Most lots one transfer carries.
const MAX_LINES: usize = 100;
/// Most units of one lot one transfer carries.
const MAX_UNITS: u32 = 100_000;

/// A transfer, as sent by the sending clinic.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    /// The sending clinic.
    pub from_clinic_id: Uuid,
    /// The receiving clinic.
    pub to_clinic_id: Uuid,
    /// Units per lot.
    pub lines: Vec<TransferLineRequest>,
    /// A note for the receiving clinic.
    #[serde(default)]
    pub note: Option<String>,
}

/// Units of one lot to send.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineRequest {
    /// The lot.
    pub lot_id: Uuid,
    /// Units.
    pub quantity: u32,
    /// For a lot received with serials, which units move: one serial per unit, and each
    /// unit's clinic follows it (refused for a lot received by quantity).
    #[serde(default)]
    pub serials: Vec<Serial>,
}

/// A transfer as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Transfer {
    /// Its id.
    pub id: Uuid,
    /// The sending clinic.
    pub from_clinic_id: Uuid,
    /// The receiving clinic.
    pub to_clinic_id: Uuid,
    /// `in_transit`, `received` or `cancelled`.
    pub status: TransferStatus,
    /// Units per lot, in lot order.
    pub lines: Vec<TransferLine>,
    /// The note.
    pub note: Option<String>,
    /// Who sent it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who confirmed receipt.
    pub received_by: Option<Uuid>,
    /// When.
    pub received_at: Option<DateTime<Utc>>,
    /// Who cancelled it.
    pub cancelled_by: Option<Uuid>,
    /// When.
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// Units of one lot in a transfer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TransferLine {
    /// The lot.
    pub lot_id: Uuid,
    /// Its product.
    pub product_id: Uuid,
    /// Its lot number.
    pub lot_number: String,
    /// Its expiry date.
    pub expiry: NaiveDate,
    /// Units.
    pub quantity: i64,
    /// The serials of the units that travel, for a lot received with serials.
    pub serials: Vec<String>,
}

/// Filters of the transfer list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// Only transfers from or to this clinic.
    #[serde(default)]
    pub clinic_id: Option<Uuid>,
    /// Only transfers in this status.
    #[serde(default)]
    pub status: Option<TransferStatus>,
}

/// Builds the answers for `rows`, loading their lines and lots in one go.
async fn views(
    db: &impl ConnectionTrait,
    org: Uuid,
    rows: Vec<transfer_row::Model>,
) -> Result<Vec<Transfer>> {
    let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
    let lines = transfers::lines_of(db, org, &ids).await?;
    let lot_ids: Vec<Uuid> = lines.iter().map(|l| l.lot_id).collect();
    let mut serials: HashMap<(Uuid, Uuid), Vec<String>> = HashMap::new();
    for id in &ids {
        for unit in units::travelling(db, org, *id).await? {
            serials
                .entry((*id, unit.lot_id))
                .or_default()
                .push(unit.serial);
        }
    }
    let lots: HashMap<Uuid, lot_row::Model> = lots::by_ids(db, org, &lot_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        let mine = lines
            .iter()
            .filter(|l| l.transfer_id == row.id)
            .map(|l| {
                let lot = lots
                    .get(&l.lot_id)
                    .ok_or_else(|| Error::Internal("transfer of a missing lot".into()))?;
                Ok(TransferLine {
                    lot_id: l.lot_id,
                    product_id: lot.product_id,
                    lot_number: lot.lot_number.clone(),
                    expiry: lot.expiry,
                    quantity: i64::from(l.quantity),
                    serials: serials
                        .get(&(row.id, l.lot_id))
                        .cloned()
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        answers.push(Transfer {
            id: row.id,
            from_clinic_id: row.from_clinic_id,
            to_clinic_id: row.to_clinic_id,
            status: *row.status,
            lines: mine,
            note: row.note,
            created_by: row.created_by,
            created_at: row.created_at,
            received_by: row.received_by,
            received_at: row.received_at,
            cancelled_by: row.cancelled_by,
            cancelled_at: row.cancelled_at,
        });
    }
    Ok(answers)
}

async fn view(db: &impl ConnectionTrait, org: Uuid, row: transfer_row::Model) -> Result<Transfer> {
    views(db, org, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("transfer view missing".into()))
}

async fn load(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<transfer_row::Model> {
    transfers::get(db, org, id)
        .await?
        .ok_or(Error::NotFound("transfer"))
}

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

/// The lots of a transfer's lines, read under a shared lock in lot order (see
/// [`lots::get_shared`]), so that a recall either precedes the arrival or waits for it.
async fn lock_lots(
    db: &impl ConnectionTrait,
    org: Uuid,
    lines: &[line_row::Model],
) -> Result<HashMap<Uuid, lot_row::Model>> {
    let mut ids: Vec<Uuid> = lines.iter().map(|l| l.lot_id).collect();
    ids.sort();
    let mut found = HashMap::new();
    for id in ids {
        let lot = lots::get_shared(db, org, id)
            .await?
            .ok_or(Error::NotFound("lot"))?;
        found.insert(id, lot);
    }
    Ok(found)
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

    /// One transfer (any role at the sending or the receiving clinic).
    pub async fn get_transfer(&self, actor: &Actor, id: Uuid) -> Result<Transfer> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        if !actor.may(Action::StockRead, Scope::Clinic(row.from_clinic_id)) {
            actor.require(Action::StockRead, Scope::Clinic(row.to_clinic_id))?;
        }
        view(db, actor.org_id, row).await
    }

    /// A page of transfers from or to the clinics the caller may see, oldest first.
    pub async fn list_transfers(
        &self,
        actor: &Actor,
        query: &TransferQuery,
        page: &PageParams,
    ) -> Result<Page<Transfer>> {
        actor.require(Action::StockRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let db = self.db().read();
        let visible = permission::clinics_for(&actor.grants, Action::StockRead);
        let filter = TransferFilter {
            clinic_id: query.clinic_id,
            status: query.status,
        };
        let rows = transfers::list(db, actor.org_id, visible.as_deref(), &filter, page).await?;
        let next_after = rows.next_after;
        let items = views(db, actor.org_id, rows.items).await?;
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |t| t,
        ))
    }
}
