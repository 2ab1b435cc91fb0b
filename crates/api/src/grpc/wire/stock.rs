//! Clinic stock: receipts, adjustments, disposals, stocktakes and the movement ledger.

use skinledger_app::disposals::{Disposal, DisposalRequest};
use skinledger_app::lots::Balance;
use skinledger_app::receipts::{Receipt, ReceiptRequest};
use skinledger_app::stock::{
    Adjustment, AdjustmentRequest, ClinicStock, LotStock, Movement, MovementQuery, ProductStock,
    StockCount, Stocktake, StocktakeRequest,
};
use skinledger_app::{Page, PageParams};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::{LotNumber, Serial};

use crate::grpc::{date, field_id, page, parse_date, parse_time, pb, time};

impl From<ClinicStock> for pb::ClinicStock {
    fn from(s: ClinicStock) -> Self {
        let ClinicStock {
            clinic_id,
            products,
        } = s;
        pb::ClinicStock {
            clinic_id: clinic_id.to_string(),
            products: products.into_iter().map(Into::into).collect(),
        }
    }
}

/// The sums over its lots flattened into the product's entry, as in REST.
impl From<ProductStock> for pb::ProductStock {
    fn from(p: ProductStock) -> Self {
        let ProductStock {
            product_id,
            name,
            kind,
            gtin,
            reorder_point,
            total:
                Balance {
                    on_hand,
                    quarantined,
                    in_transit_out,
                },
            lots,
        } = p;
        pb::ProductStock {
            product_id: product_id.to_string(),
            name,
            kind: kind.as_str().to_owned(),
            gtin,
            reorder_point,
            on_hand,
            quarantined,
            in_transit_out,
            lots: lots.into_iter().map(Into::into).collect(),
        }
    }
}

/// The balance flattened into the lot's entry, as in REST.
impl From<LotStock> for pb::LotStock {
    fn from(l: LotStock) -> Self {
        let LotStock {
            lot_id,
            lot_number,
            expiry,
            status,
            expired,
            balance:
                Balance {
                    on_hand,
                    quarantined,
                    in_transit_out,
                },
        } = l;
        pb::LotStock {
            lot_id: lot_id.to_string(),
            lot_number,
            expiry: date(expiry),
            status: status.as_str().to_owned(),
            expired,
            on_hand,
            quarantined,
            in_transit_out,
        }
    }
}

impl From<Receipt> for pb::Receipt {
    fn from(r: Receipt) -> Self {
        let Receipt {
            movement_id,
            clinic_id,
            product_id,
            lot,
            quantity,
            serials,
            reference,
            balance,
            received_at,
        } = r;
        pb::Receipt {
            movement_id: movement_id.to_string(),
            clinic_id: clinic_id.to_string(),
            product_id: product_id.to_string(),
            lot: Some(lot.into()),
            quantity,
            serials,
            reference,
            balance: Some(balance.into()),
            received_at: time(received_at),
        }
    }
}

impl TryFrom<pb::ReceiveStockRequest> for ReceiptRequest {
    type Error = ValidationErrors;

    fn try_from(r: pb::ReceiveStockRequest) -> Result<Self, ValidationErrors> {
        let pb::ReceiveStockRequest {
            // The receiving clinic: the handler reads it first.
            clinic_id: _,
            product_id,
            gtin,
            lot_number,
            expiry,
            quantity,
            serials,
            gs1,
            reference,
            received_at,
        } = r;
        let mut errors = ValidationErrors::new();
        let product_id = product_id.and_then(|p| field_id(&mut errors, "product_id", &p));
        let gtin = gtin.and_then(|g| errors.check("gtin", g.parse()));
        let lot_number = lot_number.and_then(|l| errors.check("lot_number", LotNumber::parse(&l)));
        let expiry = expiry.and_then(|d| parse_date(&mut errors, "expiry", &d));
        let serials = serials
            .iter()
            .enumerate()
            .filter_map(|(i, s)| errors.check(&format!("serials[{i}]"), Serial::parse(s)))
            .collect();
        let received_at = received_at.and_then(|t| parse_time(&mut errors, "received_at", &t));
        errors.into_result()?;
        Ok(ReceiptRequest {
            product_id,
            gtin,
            lot_number,
            expiry,
            quantity,
            serials,
            gs1,
            reference,
            received_at,
        })
    }
}

impl From<Adjustment> for pb::Adjustment {
    fn from(a: Adjustment) -> Self {
        let Adjustment {
            movement_id,
            clinic_id,
            lot_id,
            quantity,
            bucket,
            reason,
            note,
            balance,
            created_at,
        } = a;
        pb::Adjustment {
            movement_id: movement_id.to_string(),
            clinic_id: clinic_id.to_string(),
            lot_id: lot_id.to_string(),
            quantity,
            bucket,
            reason: reason.as_str().to_owned(),
            note,
            balance: Some(balance.into()),
            created_at: time(created_at),
        }
    }
}

impl TryFrom<pb::AdjustStockRequest> for AdjustmentRequest {
    type Error = ValidationErrors;

    fn try_from(r: pb::AdjustStockRequest) -> Result<Self, ValidationErrors> {
        let pb::AdjustStockRequest {
            // The clinic: the handler reads it first.
            clinic_id: _,
            lot_id,
            quantity,
            reason,
            note,
        } = r;
        let mut errors = ValidationErrors::new();
        let lot_id = field_id(&mut errors, "lot_id", &lot_id);
        let reason = errors.check("reason", reason.parse());
        let (Some(lot_id), Some(reason), true) = (lot_id, reason, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(AdjustmentRequest {
            lot_id,
            quantity,
            reason,
            note,
        })
    }
}

impl From<Disposal> for pb::Disposal {
    fn from(d: Disposal) -> Self {
        let Disposal {
            movement_id,
            clinic_id,
            product_id,
            lot_id,
            serial,
            reason,
            note,
            actor_kind,
            actor_id,
            balance,
            created_at,
        } = d;
        pb::Disposal {
            movement_id: movement_id.to_string(),
            clinic_id: clinic_id.to_string(),
            product_id: product_id.to_string(),
            lot_id: lot_id.to_string(),
            serial,
            reason: reason.as_str().to_owned(),
            note,
            actor_kind,
            actor_id: actor_id.to_string(),
            balance: Some(balance.into()),
            created_at: time(created_at),
        }
    }
}

impl TryFrom<pb::RecordDisposalRequest> for DisposalRequest {
    type Error = ValidationErrors;

    fn try_from(r: pb::RecordDisposalRequest) -> Result<Self, ValidationErrors> {
        let pb::RecordDisposalRequest {
            // The clinic: the handler reads it first.
            clinic_id: _,
            lot_id,
            serial,
            reason,
            note,
        } = r;
        let mut errors = ValidationErrors::new();
        let lot_id = field_id(&mut errors, "lot_id", &lot_id);
        let serial = serial.and_then(|s| errors.check("serial", Serial::parse(&s)));
        let reason = errors.check("reason", reason.parse());
        let (Some(lot_id), Some(reason), true) = (lot_id, reason, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(DisposalRequest {
            lot_id,
            serial,
            reason,
            note,
        })
    }
}

impl From<Stocktake> for pb::Stocktake {
    fn from(s: Stocktake) -> Self {
        let Stocktake {
            clinic_id,
            lots_counted,
            adjustments,
        } = s;
        pb::Stocktake {
            clinic_id: clinic_id.to_string(),
            lots_counted: u64::try_from(lots_counted).unwrap_or(u64::MAX),
            adjustments: adjustments.into_iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<pb::RecordStocktakeRequest> for StocktakeRequest {
    type Error = ValidationErrors;

    fn try_from(r: pb::RecordStocktakeRequest) -> Result<Self, ValidationErrors> {
        let pb::RecordStocktakeRequest {
            // The clinic counted: the handler reads it first.
            clinic_id: _,
            counts,
            note,
        } = r;
        let mut errors = ValidationErrors::new();
        let counts = counts
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let pb::StockCount { lot_id, counted } = c;
                Some(StockCount {
                    lot_id: field_id(&mut errors, &format!("counts[{i}].lot_id"), &lot_id)?,
                    counted,
                })
            })
            .collect();
        errors.into_result()?;
        Ok(StocktakeRequest { counts, note })
    }
}

impl From<Movement> for pb::Movement {
    fn from(m: Movement) -> Self {
        let Movement {
            id,
            clinic_id,
            lot_id,
            kind,
            quantity,
            quarantined_delta,
            in_transit_delta,
            reason,
            note,
            actor_kind,
            actor_id,
            treatment_id,
            transfer_id,
            reference,
            created_at,
        } = m;
        pb::Movement {
            id: id.to_string(),
            clinic_id: clinic_id.to_string(),
            lot_id: lot_id.to_string(),
            kind: kind.as_str().to_owned(),
            quantity,
            quarantined_delta,
            in_transit_delta,
            reason,
            note,
            actor_kind,
            actor_id: actor_id.map(|a| a.to_string()),
            treatment_id: treatment_id.map(|t| t.to_string()),
            transfer_id: transfer_id.map(|t| t.to_string()),
            reference,
            created_at: time(created_at),
        }
    }
}

impl From<Page<Movement>> for pb::ListMovementsResponse {
    fn from(page: Page<Movement>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListMovementsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

/// The filter and the page asked for.
pub fn movement_query(
    r: pb::ListMovementsRequest,
) -> Result<(MovementQuery, PageParams), ValidationErrors> {
    let pb::ListMovementsRequest {
        // The clinic whose ledger it is: the handler reads it first.
        clinic_id: _,
        lot_id,
        limit,
        cursor,
    } = r;
    let mut errors = ValidationErrors::new();
    let query = MovementQuery {
        lot_id: lot_id.and_then(|l| field_id(&mut errors, "lot_id", &l)),
    };
    errors.into_result()?;
    Ok((query, page(limit, cursor)))
}
