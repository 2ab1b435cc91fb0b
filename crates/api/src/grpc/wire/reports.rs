//! Stock reports.

use skinledger_app::disposals::{DisposalCounts, DisposalLine};
use skinledger_app::reports::{ExpiringLine, LowStockLine, ReportPeriod, UsageLine};
use skinledger_domain::ValidationErrors;

use crate::grpc::{date, field_id, parse_date, pb};

impl From<LowStockLine> for pb::LowStockLine {
    fn from(l: LowStockLine) -> Self {
        let LowStockLine {
            clinic_id,
            clinic_name,
            product_id,
            product_name,
            kind,
            on_hand,
            reorder_point,
        } = l;
        pb::LowStockLine {
            clinic_id: clinic_id.to_string(),
            clinic_name,
            product_id: product_id.to_string(),
            product_name,
            kind: kind.as_str().to_owned(),
            on_hand,
            reorder_point,
        }
    }
}

impl From<Vec<LowStockLine>> for pb::LowStockResponse {
    fn from(lines: Vec<LowStockLine>) -> Self {
        pb::LowStockResponse {
            items: lines.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<ExpiringLine> for pb::ExpiringLine {
    fn from(l: ExpiringLine) -> Self {
        let ExpiringLine {
            clinic_id,
            clinic_name,
            product_id,
            product_name,
            lot_id,
            lot_number,
            expiry,
            days_left,
            on_hand,
        } = l;
        pb::ExpiringLine {
            clinic_id: clinic_id.to_string(),
            clinic_name,
            product_id: product_id.to_string(),
            product_name,
            lot_id: lot_id.to_string(),
            lot_number,
            expiry: date(expiry),
            days_left,
            on_hand,
        }
    }
}

impl From<Vec<ExpiringLine>> for pb::ExpiringResponse {
    fn from(lines: Vec<ExpiringLine>) -> Self {
        pb::ExpiringResponse {
            items: lines.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<UsageLine> for pb::UsageLine {
    fn from(l: UsageLine) -> Self {
        let UsageLine {
            clinic_id,
            clinic_name,
            product_id,
            product_name,
            units,
        } = l;
        pb::UsageLine {
            clinic_id: clinic_id.to_string(),
            clinic_name,
            product_id: product_id.to_string(),
            product_name,
            units,
        }
    }
}

impl From<Vec<UsageLine>> for pb::UsageResponse {
    fn from(lines: Vec<UsageLine>) -> Self {
        pb::UsageResponse {
            items: lines.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<DisposalLine> for pb::DisposalLine {
    fn from(l: DisposalLine) -> Self {
        let DisposalLine {
            clinic_id,
            clinic_name,
            day,
            actor_kind,
            actor_id,
            actor_name,
            disposals,
            reasons,
        } = l;
        pb::DisposalLine {
            clinic_id: clinic_id.to_string(),
            clinic_name,
            day: date(day),
            actor_kind,
            actor_id: actor_id.to_string(),
            actor_name,
            disposals,
            reasons: Some(reasons.into()),
        }
    }
}

impl From<DisposalCounts> for pb::DisposalCounts {
    fn from(c: DisposalCounts) -> Self {
        let DisposalCounts {
            dropped,
            contaminated,
            packaging_damaged,
        } = c;
        pb::DisposalCounts {
            dropped,
            contaminated,
            packaging_damaged,
        }
    }
}

impl From<Vec<DisposalLine>> for pb::DisposalsResponse {
    fn from(lines: Vec<DisposalLine>) -> Self {
        pb::DisposalsResponse {
            items: lines.into_iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<pb::UsageRequest> for ReportPeriod {
    type Error = ValidationErrors;

    fn try_from(r: pb::UsageRequest) -> Result<Self, ValidationErrors> {
        let pb::UsageRequest {
            from,
            to,
            clinic_id,
        } = r;
        period(&from, &to, clinic_id.as_deref())
    }
}

impl TryFrom<pb::DisposalsRequest> for ReportPeriod {
    type Error = ValidationErrors;

    fn try_from(r: pb::DisposalsRequest) -> Result<Self, ValidationErrors> {
        let pb::DisposalsRequest {
            from,
            to,
            clinic_id,
        } = r;
        period(&from, &to, clinic_id.as_deref())
    }
}

/// The period of a report, every malformed field named.
fn period(from: &str, to: &str, clinic_id: Option<&str>) -> Result<ReportPeriod, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let from = parse_date(&mut errors, "from", from);
    let to = parse_date(&mut errors, "to", to);
    let clinic_id = clinic_id.and_then(|c| field_id(&mut errors, "clinic_id", c));
    let (Some(from), Some(to), true) = (from, to, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(ReportPeriod {
        from,
        to,
        clinic_id,
    })
}
