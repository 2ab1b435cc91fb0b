//! Lots, their balances, recalls and traces.

use skinledger_app::lots::{Balance, ClinicBalance, Lot, LotDetail};
use skinledger_app::recalls::{LotTrace, QuarantinedUnits, Recall, RecallRequest, TraceEntry};
use skinledger_app::signals::{LotSignal, Release, ReleaseRequest, SignalEvent};
use skinledger_domain::signal::SignalRule;

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
            held_at,
            hold_reason,
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
            held_at: held_at.map(time),
            hold_reason,
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

impl From<SignalRule> for pb::SignalRule {
    fn from(r: SignalRule) -> Self {
        let SignalRule {
            min_severity,
            count,
            window_days,
            rate_percent,
            rate_min_treatments,
        } = r;
        pb::SignalRule {
            min_severity: Some(min_severity.as_str().to_owned()),
            count: Some(count),
            window_days: Some(window_days),
            rate_percent: Some(rate_percent),
            rate_min_treatments: Some(rate_min_treatments),
        }
    }
}

impl From<SignalEvent> for pb::SignalEvent {
    fn from(e: SignalEvent) -> Self {
        let SignalEvent {
            adverse_event_id,
            treatment_id,
            clinic_id,
            severity,
            onset_on,
            in_window,
        } = e;
        pb::SignalEvent {
            adverse_event_id: adverse_event_id.to_string(),
            treatment_id: treatment_id.to_string(),
            clinic_id: clinic_id.to_string(),
            severity: severity.as_str().to_owned(),
            onset_on: date(onset_on),
            in_window,
        }
    }
}

impl From<LotSignal> for pb::LotSignal {
    fn from(s: LotSignal) -> Self {
        let LotSignal {
            lot_id,
            status,
            held_at,
            rule,
            window_start,
            in_window,
            treatments,
            affected_treatments,
            rate_percent,
            crossed,
            adverse_events,
        } = s;
        pb::LotSignal {
            lot_id: lot_id.to_string(),
            status: status.as_str().to_owned(),
            held_at: held_at.map(time),
            rule: Some(rule.into()),
            window_start: date(window_start),
            in_window,
            treatments,
            affected_treatments,
            rate_percent,
            crossed,
            adverse_events: adverse_events.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<pb::ReleaseLotRequest> for ReleaseRequest {
    fn from(r: pb::ReleaseLotRequest) -> Self {
        let pb::ReleaseLotRequest {
            // The lot released: the handler reads it first.
            id: _,
            reason,
        } = r;
        ReleaseRequest { reason }
    }
}

impl From<Release> for pb::Release {
    fn from(r: Release) -> Self {
        let Release { lot, restored } = r;
        pb::Release {
            lot: Some(lot.into()),
            restored: restored.into_iter().map(Into::into).collect(),
        }
    }
}
