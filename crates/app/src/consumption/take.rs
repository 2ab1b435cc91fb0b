//! Taking the planned devices from stock: each lot's units by a conditional update, a serial's
//! unit only while it is on the shelf, and the allocation made again when a concurrent
//! treatment took what it counted on.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Set};
use skinledger_domain::fefo::{self, FefoError, LotCandidate};
use skinledger_domain::inventory::{MovementKind, Serial};
use skinledger_store::entities::{
    lot as lot_row, treatment as treatment_row, treatment_consumable as consumable_row,
};
use skinledger_store::{consumables, is_unique_violation, lots, movements, stock, units};
use uuid::Uuid;

use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::ledger::{self, Entry};
use crate::lots::candidate;

use super::{ALLOCATION_ATTEMPTS, ConsumedUnit, Plan, Planned, refusal, serial_used};

/// What the treatment takes from one lot.
struct Taken {
    lot: lot_row::Model,
    quantity: i64,
    serial: Option<String>,
}

/// The session units are taken for: where, and when, as the stock stood then.
#[derive(Debug, Clone, Copy)]
struct Session {
    org: Uuid,
    clinic: Uuid,
    /// The instant of the session: units that arrived later were not there for it.
    performed_at: DateTime<Utc>,
    /// The day lots are judged on for expiry: the session's day or today, whichever is
    /// later, so that back-dating a session does not bring an expired lot back into use.
    judged_on: NaiveDate,
}

impl Session {
    fn of(treatment: &treatment_row::Model, org: Uuid, today: NaiveDate) -> Self {
        Self {
            org,
            clinic: treatment.clinic_id,
            performed_at: treatment.performed_at,
            judged_on: treatment.performed_on.max(today),
        }
    }

    /// Units of `lot` on the shelf here at the session, given `on_hand` now: the fewest on
    /// hand at any moment since.
    async fn stood(&self, db: &impl ConnectionTrait, lot: Uuid, on_hand: i64) -> Result<i64> {
        let later =
            movements::on_hand_changes_after(db, self.org, self.clinic, lot, self.performed_at)
                .await?;
        Ok(fefo::available_since(on_hand, &later))
    }
}

/// The FEFO candidates of a product at a clinic, with their stock as it stood at the session.
/// For a serial never received (`by_quantity_only`), only lots received by quantity are
/// candidates, since a serial may be registered at use only there; the units of the lots left
/// out are counted too.
async fn candidates(
    db: &impl ConnectionTrait,
    session: &Session,
    product: Uuid,
    by_quantity_only: bool,
) -> Result<(Vec<LotCandidate>, HashMap<Uuid, lot_row::Model>, i64)> {
    let lots: HashMap<Uuid, lot_row::Model> = lots::of_product(db, session.org, product)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let ids: Vec<Uuid> = lots.keys().copied().collect();
    let mut found = Vec::new();
    let mut tracked = 0;
    for row in stock::of_lots_at(db, session.org, session.clinic, &ids).await? {
        let Some(lot) = lots.get(&row.lot_id) else {
            continue;
        };
        let on_hand = i64::from(row.on_hand);
        if by_quantity_only && lot.serial_tracked {
            tracked += on_hand;
            continue;
        }
        let stood = if on_hand > 0 {
            session.stood(db, lot.id, on_hand).await?
        } else {
            0
        };
        found.push(LotCandidate {
            quarantined: i64::from(row.quarantined),
            ..candidate(lot, stood)?
        });
    }
    Ok((found, lots, tracked))
}

/// After `quantity` units of `lot` were taken, leaving `left` on hand (the balance row is now
/// held by this transaction), checks that they stood on the shelf at the session.
async fn check_stood(
    db: &impl ConnectionTrait,
    session: &Session,
    lot: Uuid,
    left: i64,
    quantity: i64,
    planned: &Planned,
) -> Result<()> {
    let stood = session
        .stood(db, lot, left.saturating_add(quantity))
        .await?;
    if stood < quantity {
        return Err(refusal(FefoError::OutOfStock { available: stood }, planned));
    }
    Ok(())
}

/// Takes `quantity` units of one lot at a clinic, checking it as the client named it.
///
/// The units are taken first, by the conditional update; the lot is then checked as it was read
/// in this transaction. That is enough: a recall or a hold moves the lot's units off every
/// shelf in the transaction that marks it, so units still on the shelf when the update takes
/// them mean no withdrawal came first. When the units are not there, the balance and the lot
/// are read again to say why (a recall may have come in between), or to try again.
async fn take_from_lot(
    db: &impl ConnectionTrait,
    session: &Session,
    lot: &lot_row::Model,
    planned: &Planned,
    quantity: i64,
) -> Result<()> {
    let (org, clinic) = (session.org, session.clinic);
    let mut current = lot.clone();
    for _ in 0..ALLOCATION_ATTEMPTS {
        let taken =
            stock::apply_returning(db, org, clinic, lot.id, ledger::on_hand(-quantity), None)
                .await?;
        if let Some(after) = taken {
            let left = i64::from(after.on_hand);
            fefo::check_lot(
                &candidate(&current, left.saturating_add(quantity))?,
                session.judged_on,
                quantity,
            )
            .map_err(|e| refusal(e, planned))?;
            return check_stood(db, session, lot.id, left, quantity, planned).await;
        }
        let on_hand = stock::get(db, org, clinic, lot.id)
            .await?
            .map_or(0, |s| i64::from(s.on_hand));
        current = lots::get(db, org, lot.id)
            .await?
            .ok_or(Error::NotFound("lot"))?;
        fefo::check_lot(&candidate(&current, on_hand)?, session.judged_on, quantity)
            .map_err(|e| refusal(e, planned))?;
    }
    Err(refusal(FefoError::OutOfStock { available: 0 }, planned))
}

/// Takes `quantity` units first expiry first out, allocating again when a concurrent
/// treatment took units first. Balances are taken in lot order, the order every writer uses.
async fn take_fefo(
    db: &impl ConnectionTrait,
    session: &Session,
    planned: &Planned,
    quantity: i64,
    by_quantity_only: bool,
) -> Result<Vec<(lot_row::Model, i64)>> {
    let (org, clinic) = (session.org, session.clinic);
    'attempt: for _ in 0..ALLOCATION_ATTEMPTS {
        let (found, lots, tracked) =
            candidates(db, session, planned.product.id, by_quantity_only).await?;
        let mut allocation = match fefo::allocate(&found, session.judged_on, quantity) {
            Ok(allocation) => allocation,
            // The only units on the shelf carry serials, and this one is not among them.
            Err(FefoError::OutOfStock { .. }) if tracked > 0 => {
                return Err(unknown_serial(planned));
            }
            Err(e) => return Err(refusal(e, planned)),
        };
        allocation.sort_by_key(|(lot, _)| *lot);
        let mut taken: Vec<(lot_row::Model, i64)> = Vec::with_capacity(allocation.len());
        for (lot_id, units) in allocation {
            let Some(after) =
                stock::apply_returning(db, org, clinic, lot_id, ledger::on_hand(-units), None)
                    .await?
            else {
                // Give back what this attempt took; it nets out within the transaction.
                for (lot, units) in &taken {
                    stock::apply(db, org, clinic, lot.id, ledger::on_hand(*units), None).await?;
                }
                continue 'attempt;
            };
            check_stood(
                db,
                session,
                lot_id,
                i64::from(after.on_hand),
                units,
                planned,
            )
            .await?;
            let lot = lots
                .get(&lot_id)
                .cloned()
                .ok_or_else(|| Error::Internal("allocated an unknown lot".into()))?;
            taken.push((lot, units));
        }
        // Taken in lot order; told in the order chosen, first expiry first.
        taken.sort_by_key(|(lot, _)| (lot.expiry, lot.id));
        return Ok(taken);
    }
    Err(refusal(FefoError::OutOfStock { available: 0 }, planned))
}

/// The lot a consumable names, which must be of its product.
async fn named_lot(
    db: &impl ConnectionTrait,
    org: Uuid,
    planned: &Planned,
    lot_id: Uuid,
) -> Result<lot_row::Model> {
    let lot = lots::get(db, org, lot_id)
        .await?
        .ok_or(Error::NotFound("lot"))?;
    if lot.product_id != planned.product.id {
        return Err(Error::invalid(
            &format!("consumables[{}].lot_id", planned.index),
            "is a lot of another product",
        ));
    }
    Ok(lot)
}

/// 409 `unknown_serial`: the serial was never received at this clinic, and its stock carries
/// serials, so no unit can be registered under it.
fn unknown_serial(planned: &Planned) -> Error {
    Error::Conflict {
        code: ErrorCode::UnknownSerial,
        detail: format!(
            "serial {} was never received at this clinic; its {} carry the serials they were \
             received with",
            planned.serial.as_ref().map_or("", |s| s.as_str()),
            planned.product.name
        ),
        extra: Some(serde_json::json!({
            "consumable": planned.index,
            "product_id": planned.product.id,
        })),
    }
}

/// Takes the one unit a serial names: a serial received before must still be on this clinic's
/// shelf and fixes the lot; a serial never received is registered as consumed only for stock
/// received by quantity (from the named lot or first expiry first out), and refused with
/// `unknown_serial` for a lot received with serials.
async fn take_serial(
    db: &impl ConnectionTrait,
    session: &Session,
    treatment: &treatment_row::Model,
    planned: &Planned,
    serial: &Serial,
) -> Result<Taken> {
    let (org, clinic) = (session.org, session.clinic);
    let unit = units::by_serial(db, org, planned.product.id, serial.as_str()).await?;
    let lot = match (&unit, planned.lot_id) {
        (Some(unit), lot_id) => {
            if lot_id.is_some_and(|l| l != unit.lot_id) {
                return Err(Error::invalid(
                    &format!("consumables[{}].lot_id", planned.index),
                    format!("serial {serial} belongs to another lot"),
                ));
            }
            if unit.status == units::CONSUMED || unit.status == units::DISPOSED {
                return Err(serial_used(planned));
            }
            if unit.clinic_id != clinic {
                return Err(unknown_serial(planned));
            }
            let lot = named_lot(db, org, planned, unit.lot_id).await?;
            take_from_lot(db, session, &lot, planned, 1).await?;
            lot
        }
        (None, Some(lot_id)) => {
            let lot = named_lot(db, org, planned, lot_id).await?;
            if lot.serial_tracked {
                return Err(unknown_serial(planned));
            }
            take_from_lot(db, session, &lot, planned, 1).await?;
            lot
        }
        (None, None) => take_fefo(db, session, planned, 1, true)
            .await?
            .pop()
            .map(|(lot, _)| lot)
            .ok_or_else(|| Error::Internal("allocated nothing".into()))?,
    };
    match unit {
        Some(unit) => {
            if !units::consume(db, org, unit.id, treatment.id, clinic).await? {
                return Err(serial_used(planned));
            }
        }
        None => {
            let registered = units::register_gone(
                db,
                org,
                &lot,
                clinic,
                serial.as_str(),
                units::CONSUMED,
                Some(treatment.id),
            )
            .await;
            match registered {
                Ok(()) => {}
                Err(e) if is_unique_violation(&e) => return Err(serial_used(planned)),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(Taken {
        lot,
        quantity: 1,
        serial: Some(serial.as_str().to_owned()),
    })
}

/// Consumes the planned devices for `treatment`, inside its transaction: takes the units,
/// writes a `consumption` movement and a `treatment_consumables` row per lot, and an audit
/// event naming the client. `today` is today on the clinic's calendar.
pub(crate) async fn consume(
    db: &crate::txn::Txn,
    actor: &Actor,
    treatment: &treatment_row::Model,
    plan: &Plan,
    today: NaiveDate,
) -> Result<Vec<ConsumedUnit>> {
    let org = actor.org_id;
    let session = Session::of(treatment, org, today);
    let (clinic, on) = (treatment.clinic_id, treatment.performed_on);
    let mut consumed = Vec::new();
    for planned in &plan.0 {
        let taken = match (&planned.serial, planned.lot_id) {
            (Some(serial), _) => vec![take_serial(db, &session, treatment, planned, serial).await?],
            (None, Some(lot_id)) => {
                let lot = named_lot(db, org, planned, lot_id).await?;
                take_from_lot(db, &session, &lot, planned, planned.quantity).await?;
                vec![Taken {
                    lot,
                    quantity: planned.quantity,
                    serial: None,
                }]
            }
            (None, None) => take_fefo(db, &session, planned, planned.quantity, false)
                .await?
                .into_iter()
                .map(|(lot, quantity)| Taken {
                    lot,
                    quantity,
                    serial: None,
                })
                .collect(),
        };
        for t in taken {
            // The balance was taken above; the movement records it.
            let entry = Entry {
                treatment_id: Some(treatment.id),
                ..Entry::new(
                    clinic,
                    t.lot.id,
                    MovementKind::Consumption,
                    ledger::on_hand(-t.quantity),
                )
            };
            ledger::write_movement(db, actor, entry).await?;
            let inserted = consumables::insert(
                db,
                consumable_row::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(org),
                    treatment_id: Set(treatment.id),
                    clinic_id: Set(clinic),
                    client_id: Set(treatment.client_id),
                    practitioner_id: Set(treatment.practitioner_id),
                    performed_at: Set(treatment.performed_at),
                    performed_on: Set(on),
                    product_id: Set(planned.product.id),
                    lot_id: Set(t.lot.id),
                    serial: Set(t.serial.clone()),
                    quantity: Set(ledger::to_i32(t.quantity)?),
                    created_at: Set(Utc::now()),
                },
            )
            .await;
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Err(serial_used(planned)),
                Err(e) => return Err(e.into()),
            }
            consumed.push(ConsumedUnit {
                product_id: planned.product.id,
                lot_id: t.lot.id,
                lot_number: t.lot.lot_number.clone(),
                expiry: t.lot.expiry,
                serial: t.serial,
                quantity: t.quantity,
            });
        }
    }
    db.audit(
        AuditEvent::by(actor, "stock.consume", "treatment", Some(treatment.id))
            .client(treatment.client_id)
            .detail(
                consumed
                    .iter()
                    .map(|c| serde_json::json!({"lot_id": c.lot_id, "quantity": c.quantity}))
                    .collect::<Vec<_>>(),
            ),
    );
    Ok(consumed)
}
