//! Lots, their balances, recalls and traces.

use skinledger_app::lots::{Balance, ClinicBalance, Lot, LotDetail};
use skinledger_app::recalls::{LotTrace, QuarantinedUnits, Recall, RecallRequest, TraceEntry};

use crate::grpc::{date, pb, time};

impl From<Lot> for pb::Lot {
    fn from(l: Lot) -> Self {
        let Lot {
            id,
            product_id,
            lot_number,
            expiry,
            status,
            recalled_at,
            recall_reason,
            created_at,
        } = l;
        pb::Lot {
            id: id.to_string(),
            product_id: product_id.to_string(),
            lot_number,
            expiry: date(expiry),
            status: status.as_str().to_owned(),
            recalled_at: recalled_at.map(time),
            recall_reason,
            created_at: time(created_at),
        }
    }
}

impl From<Balance> for pb::Balance {
    fn from(b: Balance) -> Self {
        let Balance {
            on_hand,
            quarantined,
            in_transit_out,
        } = b;
        pb::Balance {
            on_hand,
            quarantined,
            in_transit_out,
        }
    }
}

/// The balance flattened into the clinic's entry, as in REST.
impl From<ClinicBalance> for pb::ClinicBalance {
    fn from(b: ClinicBalance) -> Self {
        let ClinicBalance {
            clinic_id,
            balance:
                Balance {
                    on_hand,
                    quarantined,
                    in_transit_out,
                },
        } = b;
        pb::ClinicBalance {
            clinic_id: clinic_id.to_string(),
            on_hand,
            quarantined,
            in_transit_out,
        }
    }
}

impl From<LotDetail> for pb::LotDetail {
    fn from(d: LotDetail) -> Self {
        let LotDetail {
            lot,
            product_name,
            gtin,
            stock,
        } = d;
        pb::LotDetail {
            lot: Some(lot.into()),
            product_name,
            gtin,
            stock: stock.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<pb::RecallLotRequest> for RecallRequest {
    fn from(r: pb::RecallLotRequest) -> Self {
        let pb::RecallLotRequest {
            // The lot recalled: the handler reads it first.
            id: _,
            reason,
        } = r;
        RecallRequest { reason }
    }
}

impl From<Recall> for pb::Recall {
    fn from(r: Recall) -> Self {
        let Recall { lot, quarantined } = r;
        pb::Recall {
            lot: Some(lot.into()),
            quarantined: quarantined.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<QuarantinedUnits> for pb::QuarantinedUnits {
    fn from(q: QuarantinedUnits) -> Self {
        let QuarantinedUnits {
            clinic_id,
            quantity,
        } = q;
        pb::QuarantinedUnits {
            clinic_id: clinic_id.to_string(),
            quantity,
        }
    }
}

impl From<TraceEntry> for pb::TraceEntry {
    fn from(e: TraceEntry) -> Self {
        let TraceEntry {
            treatment_id,
            performed_at,
            clinic_id,
            clinic_name,
            client_id,
            client_name,
            phone,
            email,
            practitioner_id,
            practitioner_name,
            serial,
            quantity,
        } = e;
        pb::TraceEntry {
            treatment_id: treatment_id.to_string(),
            performed_at: time(performed_at),
            clinic_id: clinic_id.to_string(),
            clinic_name,
            client_id: client_id.to_string(),
            client_name,
            phone,
            email,
            practitioner_id: practitioner_id.to_string(),
            practitioner_name,
            serial,
            quantity,
        }
    }
}

impl From<LotTrace> for pb::LotTrace {
    fn from(t: LotTrace) -> Self {
        let LotTrace {
            lot,
            product_name,
            gtin,
            treatments,
        } = t;
        pb::LotTrace {
            lot: Some(lot.into()),
            product_name,
            gtin,
            treatments: treatments.into_iter().map(Into::into).collect(),
        }
    }
}
