//! Recalls: an `org_admin` withdraws a lot, every unit left at every clinic goes into
//! quarantine at once, and the lot is never consumed again. The trace names every treatment
//! that consumed it, with the client's contact details, as JSON or CSV.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::{LotStatus, MovementKind, StockBalance, StockChange};
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_store::{consumables, lookups, lots, stock, units};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self, Entry};
use crate::lots::{Lot, LotDetail, detail, load};
use crate::text::{MAX_TEXT_LEN, required_text};
use crate::txn::Txn;
use skinledger_domain::events::EventType;

/// How often one clinic's balance is re-read when it changed between reading and moving it.
const MOVE_ATTEMPTS: usize = 50;

/// A recall, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecallRequest {
    /// Why: the maker's notice, a complaint, a sterility doubt.
    pub reason: String,
}

/// A recall as carried out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Recall {
    /// The lot, now recalled, with its stock.
    pub lot: LotDetail,
    /// Units moved into quarantine, per clinic that had any on hand.
    pub quarantined: Vec<QuarantinedUnits>,
}

/// Units of a recalled lot quarantined at one clinic.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct QuarantinedUnits {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Units moved from on hand into quarantine.
    pub quantity: i64,
}

/// Every treatment that consumed a lot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LotTrace {
    /// The lot.
    pub lot: Lot,
    /// Its product's name.
    pub product_name: String,
    /// Its product's GTIN.
    pub gtin: Option<String>,
    /// The treatments, in the order performed.
    pub treatments: Vec<TraceEntry>,
}

/// One treatment that consumed units of a traced lot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TraceEntry {
    /// The treatment.
    pub treatment_id: Uuid,
    /// When it was performed.
    pub performed_at: DateTime<Utc>,
    /// Where.
    pub clinic_id: Uuid,
    /// The clinic's name.
    pub clinic_name: String,
    /// The client treated.
    pub client_id: Uuid,
    /// Their name.
    pub client_name: String,
    /// Their phone number.
    pub phone: Option<String>,
    /// Their email address.
    pub email: Option<String>,
    /// Who treated them.
    pub practitioner_id: Uuid,
    /// The practitioner's name.
    pub practitioner_name: String,
    /// The serial of the unit, when one was recorded.
    pub serial: Option<String>,
    /// Units of the lot used.
    pub quantity: i64,
}

/// The columns of the CSV trace.
const CSV_HEADER: [&str; 13] = [
    "treatment_id",
    "performed_at",
    "clinic_id",
    "clinic_name",
    "client_id",
    "client_name",
    "phone",
    "email",
    "practitioner_id",
    "practitioner_name",
    "lot_number",
    "serial",
    "quantity",
];

/// What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written: one a spreadsheet would run as a formula (a client named
/// `=HYPERLINK(...)`, or a phone number `+49 ...`) gets a leading `'`, which spreadsheets show
/// as text and do not run.
fn inert(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

/// The byte order mark a spreadsheet needs to read a CSV file as UTF-8.
const BOM: &str = "\u{feff}";

/// The trace as CSV (RFC 4180: a header line, then one line per treatment, CRLF line ends,
/// fields quoted where they must be), every cell safe to open in a spreadsheet; with a UTF-8
/// byte order mark when `bom`, for spreadsheets that otherwise guess the encoding.
pub fn trace_csv(trace: &LotTrace, bom: bool) -> Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let failed = |e: csv::Error| Error::Internal(format!("writing the trace CSV: {e}"));
    writer.write_record(CSV_HEADER).map_err(failed)?;
    for t in &trace.treatments {
        let cells = [
            t.treatment_id.to_string(),
            t.performed_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            t.clinic_id.to_string(),
            t.clinic_name.clone(),
            t.client_id.to_string(),
            t.client_name.clone(),
            t.phone.clone().unwrap_or_default(),
            t.email.clone().unwrap_or_default(),
            t.practitioner_id.to_string(),
            t.practitioner_name.clone(),
            trace.lot.lot_number.clone(),
            t.serial.clone().unwrap_or_default(),
            t.quantity.to_string(),
        ];
        writer
            .write_record(cells.iter().map(|c| inert(c).into_owned()))
            .map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Internal(format!("writing the trace CSV: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::Internal(format!("the trace CSV is not UTF-8: {e}")))?;
    Ok(if bom { format!("{BOM}{text}") } else { text })
}

/// Moves every unit on the shelf at every clinic into quarantine, one movement of `kind` per
/// clinic that had any; answers what moved where.
pub(crate) async fn quarantine_everywhere(
    txn: &Txn,
    actor: &Actor,
    lot: Uuid,
    kind: MovementKind,
    reason: Option<&'static str>,
) -> Result<Vec<QuarantinedUnits>> {
    let mut quarantined = Vec::new();
    for row in stock::of_lot(txn, actor.org_id, lot).await? {
        let quantity = move_units(
            txn,
            actor,
            Entry {
                reason,
                ..Entry::new(row.clinic_id, lot, kind, StockChange::default())
            },
            |have| have.on_hand,
            |n| StockChange {
                on_hand: -n,
                quarantined: n,
                in_transit_out: 0,
            },
        )
        .await?;
        if quantity > 0 {
            quarantined.push(QuarantinedUnits {
                clinic_id: row.clinic_id,
                quantity,
            });
        }
    }
    Ok(quarantined)
}

/// Moves units of a lot at one clinic: `how_many` of the balance, changing it by `change`.
/// A concurrent change (a consumption that took units first) makes the exact-balance update
/// miss; the balance is read again and what is left is moved. Answers how many moved.
pub(crate) async fn move_units(
    txn: &Txn,
    actor: &Actor,
    entry: Entry,
    how_many: impl Fn(StockBalance) -> i64,
    change: impl Fn(i64) -> StockChange,
) -> Result<i64> {
    for _ in 0..MOVE_ATTEMPTS {
        let have = ledger::balance(txn, actor.org_id, entry.clinic_id, entry.lot_id).await?;
        let n = how_many(have);
        if n <= 0 {
            return Ok(0);
        }
        let attempt = Entry {
            change: change(n),
            ..entry.clone()
        };
        if ledger::post(txn, actor, attempt, Some(have))
            .await?
            .is_some()
        {
            return Ok(n);
        }
    }
    Err(Error::conflict(
        ErrorCode::StockChanged,
        "the lot's stock kept changing; try again",
    ))
}

impl App {
    /// Recalls a lot (`org_admin`): its status becomes `recalled`, the units on hand at every
    /// clinic move into quarantine (one `recall_quarantine` movement per clinic), serials on a
    /// shelf are marked quarantined, all in one transaction. A lot recalled before answers 409
    /// `lot_recalled`; a lot on hold is recalled like an active one (its held units stay in
    /// quarantine).
    pub async fn recall_lot(
        &self,
        actor: &Actor,
        id: Uuid,
        request: RecallRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Recall> {
        let subject = Subject::new("lot", Some(id));
        self.audited(actor, "lot.recall", subject, async move {
            let org = actor.org_id;
            load(self.db().read(), org, id).await?;
            actor.require(Action::LotRecall, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let reason = required_text(&mut errors, "reason", &request.reason, MAX_TEXT_LEN);
            errors.into_result()?;
            let reason = reason.ok_or_else(|| Error::invalid("reason", "must not be empty"))?;
            idempotency::run(
                self.db(),
                actor,
                key,
                "lot.recall",
                &(id, &request),
                |txn| async move {
                    // The update waits for receipts and transfers of the lot under way (they hold
                    // it shared) and makes those that follow see it recalled.
                    if !lots::mark_recalled(
                        &txn,
                        org,
                        id,
                        actor.principal.id(),
                        &reason,
                        Utc::now(),
                    )
                    .await?
                    {
                        let lot = load(&txn, org, id).await?;
                        if *lot.status == LotStatus::Recalled {
                            return Err(Error::conflict(
                                ErrorCode::LotRecalled,
                                "the lot is recalled already",
                            ));
                        }
                        return Err(Error::NotFound("lot"));
                    }
                    let quarantined = quarantine_everywhere(
                        &txn,
                        actor,
                        id,
                        MovementKind::RecallQuarantine,
                        None,
                    )
                    .await?;
                    units::quarantine_lot(&txn, org, id).await?;
                    txn.audit(AuditEvent::by(actor, "lot.recall", "lot", Some(id)).detail(
                        serde_json::json!({ "reason": reason, "quarantined": quarantined }),
                    ));
                    let lot = load(&txn, org, id).await?;
                    let mut changes =
                        vec![Change::new(EventType::LotRecalled).lot(id).data(EventData {
                            product_id: Some(lot.product_id),
                            units: Some(quarantined.iter().map(|q| q.quantity).sum()),
                            ..EventData::default()
                        })];
                    for q in &quarantined {
                        changes.extend(
                            events::low_stock(
                                &txn,
                                org,
                                q.clinic_id,
                                [(lot.product_id, q.quantity)],
                            )
                            .await?,
                        );
                    }
                    txn.publish(org, changes);
                    let answer = Recall {
                        lot: detail(&txn, actor, lot).await?,
                        quarantined,
                    };
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }

    /// Every treatment that consumed a lot, with the client's contact details, clinic, date
    /// and practitioner (clinic managers for their clinics, `org_admin` for all). Each client
    /// named is recorded in the audit log.
    pub async fn trace_lot(&self, actor: &Actor, id: Uuid) -> Result<LotTrace> {
        let db = self.db().read();
        let org = actor.org_id;
        let lot = load(db, org, id).await?;
        actor.require(Action::LotTrace, Scope::Anywhere)?;
        let visible = permission::clinics_for(&actor.grants, Action::LotTrace);
        let used: Vec<_> = consumables::trace(db, org, id)
            .await?
            .into_iter()
            .filter(|c| visible.as_ref().is_none_or(|v| v.contains(&c.clinic_id)))
            .collect();
        // A few practitioners treat with one lot; thousands of treatments name them again.
        let mut practitioner_ids: Vec<Uuid> = used.iter().map(|c| c.practitioner_id).collect();
        practitioner_ids.sort_unstable();
        practitioner_ids.dedup();
        let staff: HashMap<Uuid, _> = lookups::staff(db, org, &practitioner_ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let clinics: HashMap<Uuid, _> = lookups::clinics(db, org)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let product = crate::products::load(db, org, lot.product_id).await?;

        let missing = |what: &str| Error::Internal(format!("trace: {what} missing"));
        // Treatments come in the order performed; each lists the rows of this lot it consumed.
        let entries = used
            .into_iter()
            .map(|c| {
                let practitioner = staff
                    .get(&c.practitioner_id)
                    .ok_or_else(|| missing("practitioner"))?;
                let clinic = clinics.get(&c.clinic_id).ok_or_else(|| missing("clinic"))?;
                Ok(TraceEntry {
                    treatment_id: c.treatment_id,
                    performed_at: c.performed_at,
                    clinic_id: clinic.id,
                    clinic_name: clinic.name.clone(),
                    client_id: c.client_id,
                    client_name: format!("{} {}", c.first_name, c.last_name),
                    phone: c.phone,
                    email: c.email,
                    practitioner_id: practitioner.id,
                    practitioner_name: practitioner.name.clone(),
                    serial: c.serial,
                    quantity: i64::from(c.quantity),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut named: Vec<Uuid> = entries.iter().map(|e| e.client_id).collect();
        named.sort();
        named.dedup();
        for client in named {
            self.read_audit()
                .record(AuditEvent::by(actor, "lot.trace", "lot", Some(id)).client(client))
                .await;
        }
        Ok(LotTrace {
            lot: Lot::from_row(lot)?,
            product_name: product.name,
            gtin: product.gtin,
            treatments: entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_made_inert_and_others_kept() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://evil\",\"x\")",
                "'=HYPERLINK(\"http://evil\",\"x\")",
            ),
            ("+49 30 5550 1234", "'+49 30 5550 1234"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("Anna Berg", "Anna Berg"),
            ("", ""),
        ] {
            assert_eq!(inert(cell), written);
        }
    }
}
