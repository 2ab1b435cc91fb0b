//! A clinic's stock: what it holds by product and lot, hand adjustments with a reason,
//! stocktakes, and the ledger of movements behind every balance.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::{
    AdjustmentReason, LotStatus, MovementKind, ProductKind, StockBalance, StockChange,
    is_expired_on,
};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::{lot as lot_row, movement as movement_row};
use skinledger_store::{clinics, lots, movements, products, stock};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{self, AuditEvent, Subject};
use crate::clinics::active_clinic;
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self, Entry};
use crate::lots::Balance;
use crate::paging::{Page, PageParams};
use crate::text::optional_text;
use skinledger_domain::events::EventType;

mod stocktake;

pub use self::stocktake::{StockCount, Stocktake, StocktakeRequest};

/// Largest change one adjustment or one count may make.
const MAX_ADJUSTMENT: i64 = 100_000;

/// A clinic's stock, by product; lots first-expiry-first-out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ClinicStock {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Products it holds or held units of, by name.
    pub products: Vec<ProductStock>,
}

/// One product's stock at a clinic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ProductStock {
    /// The product.
    pub product_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ProductKind,
    /// Its GTIN.
    pub gtin: Option<String>,
    /// The clinic's reorder point for it (its own, else the organisation's).
    pub reorder_point: u32,
    /// Units of all its lots.
    #[serde(flatten)]
    pub total: Balance,
    /// Its lots at the clinic, first expiry first.
    pub lots: Vec<LotStock>,
}

/// One lot's stock at a clinic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct LotStock {
    /// The lot.
    pub lot_id: Uuid,
    /// The maker's lot number.
    pub lot_number: String,
    /// Its last day of use.
    pub expiry: NaiveDate,
    /// `active`, `recalled`, or `held` (on hold after an adverse-event signal).
    pub status: LotStatus,
    /// Whether it is past its expiry date today.
    pub expired: bool,
    /// Its units here.
    #[serde(flatten)]
    pub balance: Balance,
}

/// A change to a clinic's stock of a lot by hand, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// The lot.
    pub lot_id: Uuid,
    /// Units added (positive, `count_correction` only) or taken away (negative). For a
    /// recalled lot the quarantined units change, otherwise those on hand.
    pub quantity: i64,
    /// `damaged`, `expired`, `lost`, `disposed` or `count_correction`.
    pub reason: AdjustmentReason,
    /// What happened.
    #[serde(default)]
    pub note: Option<String>,
}

/// An adjustment as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Adjustment {
    /// The movement it was written as.
    pub movement_id: Uuid,
    /// The clinic.
    pub clinic_id: Uuid,
    /// The lot.
    pub lot_id: Uuid,
    /// Units added or (negative) taken away.
    pub quantity: i64,
    /// `on_hand`, or `quarantined` for a recalled lot.
    pub bucket: String,
    /// Why.
    pub reason: AdjustmentReason,
    /// What happened.
    pub note: Option<String>,
    /// The lot's units at the clinic afterwards.
    pub balance: Balance,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// One row of the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Movement {
    /// Its id; movements are listed in id order, which is the order they were written.
    pub id: Uuid,
    /// The clinic whose balance changed.
    pub clinic_id: Uuid,
    /// The lot.
    pub lot_id: Uuid,
    /// `receipt`, `consumption`, `transfer_out`, `transfer_in`, `transfer_cancel`,
    /// `adjustment`, `recall_quarantine` or `disposal`.
    pub kind: MovementKind,
    /// Change to the units on hand.
    pub quantity: i64,
    /// Change to the quarantined units.
    pub quarantined_delta: i64,
    /// Change to the units in transit out.
    pub in_transit_delta: i64,
    /// Why: an adjustment's reason (`damaged`, `expired`, `lost`, `disposed`,
    /// `count_correction`) or a disposal's (`dropped`, `contaminated`, `packaging_damaged`).
    #[schema(example = "damaged")]
    pub reason: Option<String>,
    /// A note.
    pub note: Option<String>,
    /// `staff` or `api_client`.
    #[schema(value_type = audit::ActorKind)]
    pub actor_kind: String,
    /// Who.
    pub actor_id: Option<Uuid>,
    /// The treatment that consumed the units.
    pub treatment_id: Option<Uuid>,
    /// The transfer that moved them.
    pub transfer_id: Option<Uuid>,
    /// The delivery note of a receipt; the serial of a unit written off.
    pub reference: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl Movement {
    fn from_row(row: movement_row::Model) -> Self {
        Self {
            id: row.id,
            clinic_id: row.clinic_id,
            lot_id: row.lot_id,
            kind: *row.kind,
            quantity: i64::from(row.quantity),
            quarantined_delta: i64::from(row.quarantined_delta),
            in_transit_delta: i64::from(row.in_transit_delta),
            reason: row.reason,
            note: row.note,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            treatment_id: row.treatment_id,
            transfer_id: row.transfer_id,
            reference: row.reference,
            created_at: row.created_at,
        }
    }
}

/// Filters of the movement list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementQuery {
    /// Only movements of this lot.
    #[serde(default)]
    pub lot_id: Option<Uuid>,
}

/// Which count of a balance a hand change applies to: on hand, or quarantined for a recalled
/// lot (whose units are never on hand again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    OnHand,
    Quarantined,
}

impl Bucket {
    fn of_lot(lot: &lot_row::Model) -> Result<Self> {
        Ok(if lot.status.quarantines_units() {
            Bucket::Quarantined
        } else {
            Bucket::OnHand
        })
    }

    fn count(self, balance: StockBalance) -> i64 {
        match self {
            Bucket::OnHand => balance.on_hand,
            Bucket::Quarantined => balance.quarantined,
        }
    }

    fn change(self, delta: i64) -> StockChange {
        match self {
            Bucket::OnHand => ledger::on_hand(delta),
            Bucket::Quarantined => ledger::quarantined(delta),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bucket::OnHand => "on_hand",
            Bucket::Quarantined => "quarantined",
        }
    }
}

/// A change made by hand.
struct HandChange {
    quantity: i64,
    reason: AdjustmentReason,
    note: Option<String>,
}

/// One clinic of the organisation, or 404.
pub(crate) async fn require_clinic(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<()> {
    clinics::get(db, org, id)
        .await?
        .ok_or(Error::NotFound("clinic"))?;
    Ok(())
}

/// Applies one hand change to a lot at a clinic and writes its movement. Answers `None`,
/// changing nothing, when it would take a count below zero or, with `expected`, when the
/// balance is no longer exactly that.
async fn adjust(
    db: &impl ConnectionTrait,
    actor: &Actor,
    clinic_id: Uuid,
    lot: &lot_row::Model,
    hand: HandChange,
    expected: Option<StockBalance>,
) -> Result<Option<Adjustment>> {
    let bucket = Bucket::of_lot(lot)?;
    let entry = Entry {
        reason: Some(hand.reason.as_str()),
        note: hand.note.clone(),
        ..Entry::new(
            clinic_id,
            lot.id,
            MovementKind::Adjustment,
            bucket.change(hand.quantity),
        )
    };
    let Some(movement) = ledger::post(db, actor, entry, expected).await? else {
        return Ok(None);
    };
    let balance = ledger::balance(db, actor.org_id, clinic_id, lot.id).await?;
    Ok(Some(Adjustment {
        movement_id: movement.id,
        clinic_id,
        lot_id: lot.id,
        quantity: hand.quantity,
        bucket: bucket.name().to_owned(),
        reason: hand.reason,
        note: hand.note,
        balance: balance.into(),
        created_at: movement.created_at,
    }))
}

fn not_enough(lot: &lot_row::Model, available: i64) -> Error {
    Error::Conflict {
        code: ErrorCode::OutOfStock,
        detail: format!(
            "only {available} units of lot {} at this clinic",
            lot.lot_number
        ),
        extra: Some(serde_json::json!({ "lot_id": lot.id, "available": available })),
    }
}

impl App {
    /// A clinic's stock by product, lots first-expiry-first-out (any role at the clinic).
    /// Lots with no units in any count are left out.
    pub async fn get_clinic_stock(&self, actor: &Actor, clinic_id: Uuid) -> Result<ClinicStock> {
        let db = self.db().read();
        let org = actor.org_id;
        require_clinic(db, org, clinic_id).await?;
        actor.require(Action::StockRead, Scope::Clinic(clinic_id))?;
        let rows: Vec<_> = stock::at_clinic(db, org, clinic_id)
            .await?
            .into_iter()
            .filter(|s| s.on_hand > 0 || s.quarantined > 0 || s.in_transit_out > 0)
            .collect();
        let lot_ids: Vec<Uuid> = rows.iter().map(|s| s.lot_id).collect();
        let lots: HashMap<Uuid, lot_row::Model> = lots::by_ids(db, org, &lot_ids)
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
        let mut product_ids: Vec<Uuid> = lots.values().map(|l| l.product_id).collect();
        product_ids.sort();
        product_ids.dedup();
        let products = products::by_ids(db, org, &product_ids).await?;
        let overrides = products::reorder_points_of(db, org, &product_ids).await?;
        let today = Utc::now().date_naive();

        let mut by_product: BTreeMap<Uuid, Vec<LotStock>> = BTreeMap::new();
        for row in &rows {
            let lot = lots
                .get(&row.lot_id)
                .ok_or_else(|| Error::Internal("stock of a missing lot".into()))?;
            by_product
                .entry(lot.product_id)
                .or_default()
                .push(LotStock {
                    lot_id: lot.id,
                    lot_number: lot.lot_number.clone(),
                    expiry: lot.expiry,
                    status: *lot.status,
                    expired: is_expired_on(lot.expiry, today),
                    balance: stock::balance(row).into(),
                });
        }
        let mut answer = Vec::with_capacity(products.len());
        for product in products {
            let mut lots = by_product.remove(&product.id).unwrap_or_default();
            lots.sort_by_key(|l| (l.expiry, l.lot_id));
            let total = lots.iter().fold(Balance::default(), |sum, l| Balance {
                on_hand: sum.on_hand + l.balance.on_hand,
                quarantined: sum.quarantined + l.balance.quarantined,
                in_transit_out: sum.in_transit_out + l.balance.in_transit_out,
            });
            let point = overrides
                .iter()
                .find(|o| o.product_id == product.id && o.clinic_id == clinic_id)
                .map_or(product.reorder_point, |o| o.reorder_point);
            answer.push(ProductStock {
                product_id: product.id,
                kind: *product.kind,
                reorder_point: u32::try_from(point).unwrap_or(0),
                total,
                lots,
                name: product.name,
                gtin: product.gtin,
            });
        }
        answer.sort_by(|a, b| a.name.cmp(&b.name).then(a.product_id.cmp(&b.product_id)));
        Ok(ClinicStock {
            clinic_id,
            products: answer,
        })
    }

    /// Adjusts a clinic's stock of a lot by hand, with a reason (its managers and
    /// `org_admin`). Never below zero: 409 `out_of_stock`.
    pub async fn adjust_stock(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        request: AdjustmentRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Adjustment> {
        let subject = Subject::new("lot", Some(request.lot_id)).clinic(clinic_id);
        self.audited(actor, "stock.adjust", subject, async move {
            let org = actor.org_id;
            let db = self.db().read();
            require_clinic(db, org, clinic_id).await?;
            crate::lots::load(db, org, request.lot_id).await?;
            actor.require(Action::StockManage, Scope::Clinic(clinic_id))?;
            active_clinic(db, org, clinic_id).await?;
            let mut errors = ValidationErrors::new();
            if request.quantity == 0 || request.quantity.abs() > MAX_ADJUSTMENT {
                errors.add(
                    "quantity",
                    format!("must be between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}, and not 0"),
                );
            } else if request.quantity > 0 && request.reason != AdjustmentReason::CountCorrection {
                errors.add(
                    "quantity",
                    format!(
                        "only a count_correction adds units; `{}` takes them away",
                        request.reason
                    ),
                );
            }
            let note = optional_text(&mut errors, "note", request.note.as_deref(), 1_000);
            errors.into_result()?;
            idempotency::run(
                self.db(),
                actor,
                key,
                "stock.adjust",
                &(clinic_id, &request),
                |txn| async move {
                    let lot = lots::get_shared(&txn, org, request.lot_id)
                        .await?
                        .ok_or(Error::NotFound("lot"))?;
                    let hand = HandChange {
                        quantity: request.quantity,
                        reason: request.reason,
                        note,
                    };
                    let Some(adjustment) = adjust(&txn, actor, clinic_id, &lot, hand, None).await?
                    else {
                        let have = ledger::balance(&txn, org, clinic_id, lot.id).await?;
                        return Err(not_enough(&lot, Bucket::of_lot(&lot)?.count(have)));
                    };
                    txn.audit(
                        AuditEvent::by(actor, "stock.adjust", "lot", Some(lot.id)).detail(
                            serde_json::json!({
                                "clinic_id": clinic_id,
                                "quantity": request.quantity,
                                "reason": request.reason,
                            }),
                        ),
                    );
                    let mut changes = vec![
                        Change::new(EventType::StockAdjusted)
                            .clinic(clinic_id)
                            .lot(lot.id)
                            .subject(adjustment.movement_id)
                            .data(EventData {
                                product_id: Some(lot.product_id),
                                units: Some(request.quantity),
                                change: Some("adjustment".into()),
                                ..EventData::default()
                            }),
                    ];
                    changes.extend(
                        events::low_stock(
                            &txn,
                            org,
                            clinic_id,
                            [(lot.product_id, -request.quantity)],
                        )
                        .await?,
                    );
                    txn.publish(org, changes);
                    Ok((adjustment, txn))
                },
            )
            .await
        })
        .await
    }

    /// A page of a clinic's ledger, oldest first (any role at the clinic).
    pub async fn list_movements(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        query: &MovementQuery,
        page: &PageParams,
    ) -> Result<Page<Movement>> {
        let db = self.db().read();
        let org = actor.org_id;
        require_clinic(db, org, clinic_id).await?;
        actor.require(Action::StockRead, Scope::Clinic(clinic_id))?;
        let page = page.parse()?;
        let rows = movements::list(db, org, clinic_id, query.lot_id, page).await?;
        let next_after = rows.next_after;
        let items = rows.items.into_iter().map(Movement::from_row).collect();
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |m| m,
        ))
    }
}
