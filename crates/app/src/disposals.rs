//! Units written off at the chair: a roller that fell, a cartridge that touched something
//! before use, a pack found open. The practitioner who handled it records it; it leaves the
//! clinic's stock as one `disposal` movement, and the disposal report shows every practitioner
//! who wrote off more than one unit on a day.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::{DisposalReason, MovementKind, Serial, Withdrawal};
use skinledger_domain::local_time::TimeZone;
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::lot as lot_row;
use skinledger_store::{is_unique_violation, lookups, lots, movements, units};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{self, AuditEvent, Subject};
use crate::clinics::{active_clinic, timezone_of};
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self, Entry};
use crate::lots::Balance;
use crate::reports::ReportPeriod;
use crate::text::optional_text;
use skinledger_domain::events::EventType;

/// Disposals by one practitioner on one day above which the day shows in the report.
pub const EXPECTED_PER_DAY: i64 = 1;

/// A unit written off, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisposalRequest {
    /// The lot printed on the unit's pack.
    pub lot_id: Uuid,
    /// The unit's serial; required for a lot received with serials.
    #[serde(default)]
    pub serial: Option<Serial>,
    /// `dropped`, `contaminated` or `packaging_damaged`.
    pub reason: DisposalReason,
    /// What happened, up to 1,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// A unit written off, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Disposal {
    /// The ledger movement it was written as.
    pub movement_id: Uuid,
    /// The clinic.
    pub clinic_id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The lot.
    pub lot_id: Uuid,
    /// The unit's serial, when it was named.
    pub serial: Option<String>,
    /// Why.
    pub reason: DisposalReason,
    /// What happened.
    pub note: Option<String>,
    /// `staff` or `api_client`: who wrote it off.
    #[schema(value_type = audit::ActorKind)]
    pub actor_kind: String,
    /// The staff member (or API client) who wrote it off.
    pub actor_id: Uuid,
    /// The lot's units at the clinic afterwards.
    pub balance: Balance,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Units written off for each reason.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DisposalCounts {
    /// Dropped.
    pub dropped: i64,
    /// Contaminated before use.
    pub contaminated: i64,
    /// Packaging found damaged.
    pub packaging_damaged: i64,
}

impl DisposalCounts {
    fn add(&mut self, reason: DisposalReason) {
        match reason {
            DisposalReason::Dropped => self.dropped += 1,
            DisposalReason::Contaminated => self.contaminated += 1,
            DisposalReason::PackagingDamaged => self.packaging_damaged += 1,
        }
    }

    fn total(self) -> i64 {
        self.dropped + self.contaminated + self.packaging_damaged
    }
}

/// A practitioner who wrote off more than one unit at a clinic on one local day.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DisposalLine {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: String,
    /// The day, on the clinic's calendar.
    pub day: NaiveDate,
    /// `staff` or `api_client`.
    #[schema(value_type = audit::ActorKind)]
    pub actor_kind: String,
    /// Who wrote the units off.
    pub actor_id: Uuid,
    /// Their name, for a staff member.
    pub actor_name: Option<String>,
    /// Units written off that day.
    pub disposals: i64,
    /// The same units, by reason.
    pub reasons: DisposalCounts,
}

/// 409 `lot_recalled`: a recalled lot's units are quarantined, never on a tray to drop.
fn recalled(lot: &lot_row::Model) -> Error {
    Error::Conflict {
        code: ErrorCode::LotRecalled,
        detail: format!(
            "lot {} is recalled; its units are in quarantine and leave it by a manager's \
             adjustment",
            lot.lot_number
        ),
        extra: Some(serde_json::json!({ "lot_id": lot.id })),
    }
}

/// 409 `unknown_serial`: the serial is not a unit of this lot on this clinic's shelf.
fn unknown_serial(lot: &lot_row::Model, serial: &Serial) -> Error {
    Error::Conflict {
        code: ErrorCode::UnknownSerial,
        detail: format!(
            "serial {serial} is not a unit of lot {} on this clinic's shelf",
            lot.lot_number
        ),
        extra: Some(serde_json::json!({ "lot_id": lot.id })),
    }
}

/// 409 `serial_already_used`: the unit was consumed or written off before.
fn serial_gone(lot: &lot_row::Model, serial: &Serial) -> Error {
    Error::Conflict {
        code: ErrorCode::SerialAlreadyUsed,
        detail: format!("serial {serial} was used or written off before"),
        extra: Some(serde_json::json!({ "lot_id": lot.id })),
    }
}

/// Takes the named unit off the shelf: a serial received before must be a unit of this lot on
/// this clinic's shelf; a serial never received is registered as disposed of, only for stock
/// received by quantity, so that no treatment can name it later.
async fn take_unit(
    db: &impl sea_orm::ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: &lot_row::Model,
    serial: Option<&Serial>,
) -> Result<()> {
    let Some(serial) = serial else {
        if lot.serial_tracked {
            return Err(Error::invalid(
                "serial",
                format!(
                    "is required: lot {} was received with serials",
                    lot.lot_number
                ),
            ));
        }
        return Ok(());
    };
    let unit = units::by_serial(db, org, lot.product_id, serial.as_str()).await?;
    match unit {
        Some(unit) if unit.lot_id == lot.id && unit.clinic_id == clinic => {
            if unit.status == units::CONSUMED || unit.status == units::DISPOSED {
                return Err(serial_gone(lot, serial));
            }
            if !units::dispose(db, org, unit.id, clinic).await? {
                return Err(unknown_serial(lot, serial));
            }
            Ok(())
        }
        Some(_) => Err(unknown_serial(lot, serial)),
        None if lot.serial_tracked => Err(unknown_serial(lot, serial)),
        None => {
            let registered =
                units::register_gone(db, org, lot, clinic, serial.as_str(), units::DISPOSED, None)
                    .await;
            match registered {
                Ok(()) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(serial_gone(lot, serial)),
                Err(e) => Err(e.into()),
            }
        }
    }
}

impl App {
    /// Writes off one unit at a clinic (physicians, nurses and estheticians who work there):
    /// the unit leaves the stock on hand as a `disposal` movement. A recalled lot answers 409
    /// `lot_recalled`, an empty shelf `out_of_stock`, a closed clinic `clinic_inactive`.
    pub async fn record_disposal(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        request: DisposalRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Disposal> {
        let subject = Subject::new("lot", Some(request.lot_id)).clinic(clinic_id);
        self.audited(actor, "unit.dispose", subject, async move {
            let org = actor.org_id;
            let db = self.db().read();
            crate::stock::require_clinic(db, org, clinic_id).await?;
            crate::lots::load(db, org, request.lot_id).await?;
            actor.require(Action::UnitDispose, Scope::Clinic(clinic_id))?;
            active_clinic(db, org, clinic_id).await?;
            let mut errors = ValidationErrors::new();
            let note = optional_text(&mut errors, "note", request.note.as_deref(), 1_000);
            errors.into_result()?;
            let sent = request.clone();
            idempotency::run(
                self.db(),
                actor,
                key,
                "unit.dispose",
                &(clinic_id, &request),
                |txn| async move {
                    let request = sent;
                    let lot = lots::get_shared(&txn, org, request.lot_id)
                        .await?
                        .ok_or(Error::NotFound("lot"))?;
                    match lot.status.withdrawal() {
                        None => {}
                        Some(Withdrawal::Recalled) => return Err(recalled(&lot)),
                        Some(Withdrawal::OnHold) => return Err(crate::lots::on_hold(&lot)),
                    }
                    take_unit(&txn, org, clinic_id, &lot, request.serial.as_ref()).await?;
                    let entry = Entry {
                        reason: Some(request.reason.as_str()),
                        note: note.clone(),
                        reference: request.serial.as_ref().map(|s| s.as_str().to_owned()),
                        ..Entry::new(
                            clinic_id,
                            lot.id,
                            MovementKind::Disposal,
                            ledger::on_hand(-1),
                        )
                    };
                    let movement =
                        ledger::post(&txn, actor, entry, None)
                            .await?
                            .ok_or_else(|| Error::Conflict {
                                code: ErrorCode::OutOfStock,
                                detail: format!(
                                    "no unit of lot {} is on hand at this clinic",
                                    lot.lot_number
                                ),
                                extra: Some(
                                    serde_json::json!({ "lot_id": lot.id, "available": 0 }),
                                ),
                            })?;
                    let balance = ledger::balance(&txn, org, clinic_id, lot.id).await?;
                    txn.audit(
                        AuditEvent::by(actor, "unit.dispose", "lot", Some(lot.id)).detail(
                            serde_json::json!({
                                "clinic_id": clinic_id,
                                "reason": request.reason,
                                "serial": request.serial,
                            }),
                        ),
                    );
                    let mut changes = vec![
                        Change::new(EventType::StockAdjusted)
                            .clinic(clinic_id)
                            .lot(lot.id)
                            .subject(movement.id)
                            .data(EventData {
                                product_id: Some(lot.product_id),
                                units: Some(-1),
                                change: Some("disposal".into()),
                                ..EventData::default()
                            }),
                    ];
                    changes.extend(
                        events::low_stock(&txn, org, clinic_id, [(lot.product_id, 1)]).await?,
                    );
                    txn.publish(org, changes);
                    let disposal = Disposal {
                        movement_id: movement.id,
                        clinic_id,
                        product_id: lot.product_id,
                        lot_id: lot.id,
                        serial: movement.reference.clone(),
                        reason: request.reason,
                        note,
                        actor_kind: movement.actor_kind.clone(),
                        actor_id: actor.principal.id(),
                        balance: balance.into(),
                        created_at: movement.created_at,
                    };
                    Ok((disposal, txn))
                },
            )
            .await
        })
        .await
    }

    /// Each practitioner who wrote off more than [`EXPECTED_PER_DAY`] unit on a day from
    /// `from` to `to` inclusive, days counted on each clinic's calendar (clinic managers for
    /// their clinics, `org_admin` for all); newest day first.
    pub async fn disposal_report(
        &self,
        actor: &Actor,
        period: &ReportPeriod,
    ) -> Result<Vec<DisposalLine>> {
        let db = self.db().read();
        let org = actor.org_id;
        let only = period.clinics(db, actor).await?;
        let clinics: BTreeMap<Uuid, _> = lookups::clinics(db, org)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        // A day a whole zone wide on either side, then each movement on its clinic's calendar.
        let margin = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let (Some(from), Some(to)) = (
            period.from.checked_sub_days(Days::new(1)).and_then(margin),
            period.to.checked_add_days(Days::new(2)).and_then(margin),
        ) else {
            return Err(Error::invalid("from", "is outside the calendar"));
        };
        let rows = movements::disposals_between(db, org, only.as_deref(), from, to).await?;
        let mut days: BTreeMap<(NaiveDate, Uuid, Uuid), (String, DisposalCounts)> = BTreeMap::new();
        for row in rows {
            let zone = clinics
                .get(&row.clinic_id)
                .map_or_else(TimeZone::default, timezone_of);
            let day = zone.local_date(row.created_at);
            let (Some(actor_id), Some(reason)) = (row.actor_id, row.reason) else {
                continue;
            };
            if day < period.from || day > period.to {
                continue;
            }
            days.entry((day, row.clinic_id, actor_id))
                .or_insert_with(|| (row.actor_kind.clone(), DisposalCounts::default()))
                .1
                .add(*reason);
        }
        days.retain(|_, (_, counts)| counts.total() > EXPECTED_PER_DAY);
        let staff_ids: Vec<Uuid> = days.keys().map(|(_, _, id)| *id).collect();
        let names: BTreeMap<Uuid, String> = lookups::staff(db, org, &staff_ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let mut lines: Vec<DisposalLine> = days
            .into_iter()
            .map(
                |((day, clinic_id, actor_id), (actor_kind, reasons))| DisposalLine {
                    clinic_id,
                    clinic_name: clinics
                        .get(&clinic_id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                    day,
                    actor_kind,
                    actor_id,
                    actor_name: names.get(&actor_id).cloned(),
                    disposals: reasons.total(),
                    reasons,
                },
            )
            .collect();
        lines.sort_by(|a, b| {
            b.day
                .cmp(&a.day)
                .then(a.clinic_id.cmp(&b.clinic_id))
                .then(a.actor_id.cmp(&b.actor_id))
        });
        Ok(lines)
    }
}
