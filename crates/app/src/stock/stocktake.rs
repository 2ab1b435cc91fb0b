//! Stocktakes: a clinic's counted units per lot, each difference to the balance booked as one
//! `count_correction`, all in one transaction.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::AdjustmentReason;
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::lots;
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::clinics::active_clinic;
use crate::error::{Error, Result};
use crate::events::{self, Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self};
use crate::text::optional_text;
use skinledger_domain::events::EventType;

use super::{Adjustment, Bucket, HandChange, MAX_ADJUSTMENT, adjust, require_clinic};

/// Most lots counted in one stocktake.
const MAX_COUNTS: usize = 1_000;
/// How often a count is re-read when the balance changed between reading and writing it.
const COUNT_ATTEMPTS: usize = 10;

/// A stocktake, as sent: the units counted of each lot.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StocktakeRequest {
    /// One count per lot.
    pub counts: Vec<StockCount>,
    /// Who counted, or anything else worth keeping.
    #[serde(default)]
    pub note: Option<String>,
}

/// The units of one lot found on the shelf (in quarantine, for a recalled lot).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockCount {
    /// The lot.
    pub lot_id: Uuid,
    /// Units counted.
    pub counted: u32,
}

/// A stocktake as recorded: one `count_correction` for each lot whose count differed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Stocktake {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Lots counted.
    pub lots_counted: usize,
    /// The corrections made, in lot order; empty when every count matched.
    pub adjustments: Vec<Adjustment>,
}

impl App {
    /// Records a stocktake at a clinic (its managers and `org_admin`): for each lot counted,
    /// one `count_correction` by the difference to the balance, all in one transaction.
    pub async fn record_stocktake(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        request: StocktakeRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Stocktake> {
        let subject = Subject::new("clinic", Some(clinic_id)).clinic(clinic_id);
        self.audited(actor, "stock.stocktake", subject, async move {
            let org = actor.org_id;
            let db = self.db().read();
            require_clinic(db, org, clinic_id).await?;
            actor.require(Action::StockManage, Scope::Clinic(clinic_id))?;
            active_clinic(db, org, clinic_id).await?;
            let mut errors = ValidationErrors::new();
            if request.counts.is_empty() {
                errors.add("counts", "must count at least one lot");
            }
            if request.counts.len() > MAX_COUNTS {
                errors.add("counts", format!("must count at most {MAX_COUNTS} lots"));
            }
            for (i, count) in request.counts.iter().enumerate() {
                if request.counts[..i].iter().any(|c| c.lot_id == count.lot_id) {
                    errors.add(format!("counts[{i}].lot_id"), "is counted twice");
                }
                if i64::from(count.counted) > MAX_ADJUSTMENT {
                    errors.add(
                        format!("counts[{i}].counted"),
                        format!("must be at most {MAX_ADJUSTMENT}"),
                    );
                }
            }
            let note = optional_text(&mut errors, "note", request.note.as_deref(), 1_000);
            errors.into_result()?;
            let ids: Vec<Uuid> = request.counts.iter().map(|c| c.lot_id).collect();
            if lots::by_ids(db, org, &ids).await?.len() != ids.len() {
                return Err(Error::NotFound("lot"));
            }
            let sent = request.clone();
            idempotency::run(
                self.db(),
                actor,
                key,
                "stock.stocktake",
                &(clinic_id, &sent),
                |txn| async move {
                    let mut counts = request.counts.clone();
                    counts.sort_by_key(|c| c.lot_id);
                    let mut adjustments = Vec::new();
                    for count in &counts {
                        let lot = lots::get_shared(&txn, org, count.lot_id)
                            .await?
                            .ok_or(Error::NotFound("lot"))?;
                        let bucket = Bucket::of_lot(&lot)?;
                        let mut made = None;
                        // The correction is the difference to the balance as it is when written:
                        // a consumption between reading and writing makes us read again.
                        for _ in 0..COUNT_ATTEMPTS {
                            let have = ledger::balance(&txn, org, clinic_id, lot.id).await?;
                            let delta = i64::from(count.counted) - bucket.count(have);
                            if delta == 0 {
                                made = Some(None);
                                break;
                            }
                            let hand = HandChange {
                                quantity: delta,
                                reason: AdjustmentReason::CountCorrection,
                                note: note.clone(),
                            };
                            if let Some(adjustment) =
                                adjust(&txn, actor, clinic_id, &lot, hand, Some(have)).await?
                            {
                                made = Some(Some(adjustment));
                                break;
                            }
                        }
                        match made {
                            Some(adjustment) => adjustments.extend(adjustment),
                            None => {
                                return Err(Error::conflict(
                                    ErrorCode::StockChanged,
                                    "the stock kept changing while the count was recorded; try again",
                                ));
                            }
                        }
                    }
                    txn.audit(AuditEvent::by(actor, "stock.stocktake", "clinic", Some(clinic_id)).detail(
                            serde_json::json!({
                                "lots_counted": counts.len(),
                                "corrections": adjustments.len(),
                            }),
                        ));
                    if !adjustments.is_empty() {
                        let lots_by_id: HashMap<Uuid, Uuid> =
                            lots::by_ids(
                                &txn,
                                org,
                                &adjustments.iter().map(|a| a.lot_id).collect::<Vec<_>>(),
                            )
                            .await?
                            .into_iter()
                            .map(|l| (l.id, l.product_id))
                            .collect();
                        let mut changes = vec![Change::new(EventType::StockAdjusted)
                            .clinic(clinic_id)
                            .data(EventData {
                                units: Some(adjustments.iter().map(|a| a.quantity).sum()),
                                change: Some("stocktake".into()),
                                ..EventData::default()
                            })];
                        changes.extend(
                            events::low_stock(
                                &txn,
                                org,
                                clinic_id,
                                adjustments.iter().filter_map(|a| {
                                    lots_by_id.get(&a.lot_id).map(|p| (*p, -a.quantity))
                                }),
                            )
                            .await?,
                        );
                        txn.publish(org, changes);
                    }
                    Ok((
                        Stocktake {
                            clinic_id,
                            lots_counted: counts.len(),
                            adjustments,
                        },
                        txn,
                    ))
                },
            )
            .await
        })
        .await
    }
}
