//! Transfers between clinics.

use skinledger_app::transfers::{
    NewTransfer, Transfer, TransferLine, TransferLineRequest, TransferQuery,
};
use skinledger_app::{Page, PageParams};
use skinledger_domain::ValidationErrors;
use skinledger_domain::inventory::Serial;

use crate::grpc::{date, field_id, page, pb, time};

impl From<Transfer> for pb::Transfer {
    fn from(t: Transfer) -> Self {
        let Transfer {
            id,
            from_clinic_id,
            to_clinic_id,
            status,
            lines,
            note,
            created_by,
            created_at,
            received_by,
            received_at,
            cancelled_by,
            cancelled_at,
        } = t;
        pb::Transfer {
            id: id.to_string(),
            from_clinic_id: from_clinic_id.to_string(),
            to_clinic_id: to_clinic_id.to_string(),
            status: status.as_str().to_owned(),
            lines: lines.into_iter().map(Into::into).collect(),
            note,
            created_by: created_by.to_string(),
            created_at: time(created_at),
            received_by: received_by.map(|r| r.to_string()),
            received_at: received_at.map(time),
            cancelled_by: cancelled_by.map(|c| c.to_string()),
            cancelled_at: cancelled_at.map(time),
        }
    }
}

impl From<TransferLine> for pb::TransferLine {
    fn from(l: TransferLine) -> Self {
        let TransferLine {
            lot_id,
            product_id,
            lot_number,
            expiry,
            quantity,
            serials,
        } = l;
        pb::TransferLine {
            lot_id: lot_id.to_string(),
            product_id: product_id.to_string(),
            lot_number,
            expiry: date(expiry),
            quantity,
            serials,
        }
    }
}

impl From<Page<Transfer>> for pb::ListTransfersResponse {
    fn from(page: Page<Transfer>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListTransfersResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::SendTransferRequest> for NewTransfer {
    type Error = ValidationErrors;

    fn try_from(r: pb::SendTransferRequest) -> Result<Self, ValidationErrors> {
        let pb::SendTransferRequest {
            from_clinic_id,
            to_clinic_id,
            lines,
            note,
        } = r;
        let mut errors = ValidationErrors::new();
        let from_clinic_id = field_id(&mut errors, "from_clinic_id", &from_clinic_id);
        let to_clinic_id = field_id(&mut errors, "to_clinic_id", &to_clinic_id);
        let lines = lines
            .into_iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let pb::TransferLineRequest {
                    lot_id,
                    quantity,
                    serials,
                } = l;
                let serials = serials
                    .iter()
                    .enumerate()
                    .filter_map(|(j, s)| {
                        errors.check(&format!("lines[{i}].serials[{j}]"), Serial::parse(s))
                    })
                    .collect();
                Some(TransferLineRequest {
                    lot_id: field_id(&mut errors, &format!("lines[{i}].lot_id"), &lot_id)?,
                    quantity,
                    serials,
                })
            })
            .collect();
        let (Some(from_clinic_id), Some(to_clinic_id), true) =
            (from_clinic_id, to_clinic_id, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(NewTransfer {
            from_clinic_id,
            to_clinic_id,
            lines,
            note,
        })
    }
}

/// The filters and the page asked for.
pub fn transfer_query(
    r: pb::ListTransfersRequest,
) -> Result<(TransferQuery, PageParams), ValidationErrors> {
    let pb::ListTransfersRequest {
        clinic_id,
        status,
        limit,
        cursor,
    } = r;
    let mut errors = ValidationErrors::new();
    let query = TransferQuery {
        clinic_id: clinic_id.and_then(|c| field_id(&mut errors, "clinic_id", &c)),
        status: status.and_then(|s| errors.check("status", s.parse())),
    };
    errors.into_result()?;
    Ok((query, page(limit, cursor)))
}
