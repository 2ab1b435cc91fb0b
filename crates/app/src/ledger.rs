//! The stock ledger: every change of a balance goes through here, together with its movement
//! row, in the caller's transaction. So the sum of a lot's movements at a clinic is always its
//! balance there.
//!
//! A balance changes only by a conditional update that the database refuses when a count would
//! go below zero; callers turn a refusal into the error that fits (`out_of_stock` mostly).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Set};
use skinledger_domain::inventory::{MovementKind, StockBalance, StockChange};
use skinledger_store::entities::movement;
use skinledger_store::{movements, stock};
use uuid::Uuid;

use crate::ErrorCode;
use crate::actor::Actor;
use crate::error::{Error, Result};

/// One change of one balance, with what the movement row says about it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub clinic_id: Uuid,
    pub lot_id: Uuid,
    pub kind: MovementKind,
    pub change: StockChange,
    /// Why, for an adjustment or a disposal: the reason's wire name.
    pub reason: Option<&'static str>,
    pub note: Option<String>,
    pub treatment_id: Option<Uuid>,
    pub transfer_id: Option<Uuid>,
    pub reference: Option<String>,
    /// When the change happened, when it was before it was recorded (a delivery entered
    /// late); now when `None`.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl Entry {
    /// A change of `kind` to the balance of `lot` at `clinic`.
    pub fn new(clinic_id: Uuid, lot_id: Uuid, kind: MovementKind, change: StockChange) -> Self {
        Self {
            clinic_id,
            lot_id,
            kind,
            change,
            reason: None,
            note: None,
            treatment_id: None,
            transfer_id: None,
            reference: None,
            occurred_at: None,
        }
    }
}

/// A change to `on_hand` only.
pub(crate) fn on_hand(delta: i64) -> StockChange {
    StockChange {
        on_hand: delta,
        ..StockChange::default()
    }
}

/// A change to `quarantined` only.
pub(crate) fn quarantined(delta: i64) -> StockChange {
    StockChange {
        quarantined: delta,
        ..StockChange::default()
    }
}

/// Applies `entry` and writes its movement. With `expected`, applies it only while the balance
/// is exactly that. Answers `None`, changing nothing, when the database refused the change.
pub(crate) async fn post(
    db: &impl ConnectionTrait,
    actor: &Actor,
    entry: Entry,
    expected: Option<StockBalance>,
) -> Result<Option<movement::Model>> {
    let org = actor.org_id;
    let change = entry.change;
    if change.on_hand > 0 || change.quarantined > 0 || change.in_transit_out > 0 {
        stock::ensure(db, org, entry.clinic_id, entry.lot_id).await?;
    }
    if !stock::apply(db, org, entry.clinic_id, entry.lot_id, change, expected).await? {
        return Ok(None);
    }
    write_movement(db, actor, entry).await.map(Some)
}

/// Writes the movement of a change already applied to the balance in the same transaction
/// (consumption takes units first, then records where they came from).
pub(crate) async fn write_movement(
    db: &impl ConnectionTrait,
    actor: &Actor,
    entry: Entry,
) -> Result<movement::Model> {
    let change = entry.change;
    let row = movements::insert(
        db,
        movement::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(actor.org_id),
            clinic_id: Set(entry.clinic_id),
            lot_id: Set(entry.lot_id),
            kind: Set(entry.kind.into()),
            quantity: Set(to_i32(change.on_hand)?),
            quarantined_delta: Set(to_i32(change.quarantined)?),
            in_transit_delta: Set(to_i32(change.in_transit_out)?),
            reason: Set(entry.reason.map(str::to_owned)),
            note: Set(entry.note),
            actor_kind: Set(actor.principal.kind().as_str().to_owned()),
            actor_id: Set(Some(actor.principal.id())),
            treatment_id: Set(entry.treatment_id),
            transfer_id: Set(entry.transfer_id),
            reference: Set(entry.reference),
            created_at: Set(entry.occurred_at.unwrap_or_else(Utc::now)),
        },
    )
    .await?;
    Ok(row)
}

/// Posts every entry, in (clinic, lot) order so that concurrent writers lock balances in the
/// same order; the first refused entry fails the whole with 409 `out_of_stock`, and the caller's
/// transaction is then rolled back.
pub(crate) async fn post_all(
    db: &impl ConnectionTrait,
    actor: &Actor,
    mut entries: Vec<Entry>,
) -> Result<Vec<movement::Model>> {
    entries.sort_by_key(|e| (e.clinic_id, e.lot_id));
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let lot = entry.lot_id;
        match post(db, actor, entry, None).await? {
            Some(row) => rows.push(row),
            None => {
                return Err(Error::Conflict {
                    code: ErrorCode::OutOfStock,
                    detail: "not enough units of the lot at the clinic".into(),
                    extra: Some(serde_json::json!({ "lot_id": lot })),
                });
            }
        }
    }
    Ok(rows)
}

/// The current balance of a lot at a clinic; zero when it never had any.
pub(crate) async fn balance(
    db: &impl ConnectionTrait,
    org: Uuid,
    clinic: Uuid,
    lot: Uuid,
) -> Result<StockBalance> {
    Ok(stock::get(db, org, clinic, lot)
        .await?
        .map(|row| stock::balance(&row))
        .unwrap_or_default())
}

/// A quantity for a column; every quantity is validated far below `i32::MAX` before here.
pub(crate) fn to_i32(value: i64) -> Result<i32> {
    i32::try_from(value).map_err(|_| Error::Internal(format!("quantity {value} out of range")))
}
