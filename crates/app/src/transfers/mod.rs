//! Transfers between two clinics, in two steps: the sending clinic moves units from on hand to
//! in transit; the receiving clinic confirms, and they arrive on its shelf. Until then the
//! sender may cancel, and the units return. A transfer is received or cancelled once: the
//! status changes by a conditional update, so of two concurrent attempts one wins.
//!
//! Units of a lot recalled while in transit arrive (or return) in quarantine.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use skinledger_domain::inventory::{Serial, TransferStatus};
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_store::entities::{
    lot as lot_row, transfer as transfer_row, transfer_line as line_row,
};
use skinledger_store::transfers::{self, TransferFilter};
use skinledger_store::{lots, units};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::paging::{Page, PageParams};

mod close;
mod send;

/// A transfer, as sent by the sending clinic.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    /// The sending clinic.
    pub from_clinic_id: Uuid,
    /// The receiving clinic.
    pub to_clinic_id: Uuid,
    /// Units per lot.
    pub lines: Vec<TransferLineRequest>,
    /// A note for the receiving clinic.
    #[serde(default)]
    pub note: Option<String>,
}

/// Units of one lot to send.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineRequest {
    /// The lot.
    pub lot_id: Uuid,
    /// Units.
    pub quantity: u32,
    /// For a lot received with serials, which units move: one serial per unit, and each
    /// unit's clinic follows it (refused for a lot received by quantity).
    #[serde(default)]
    pub serials: Vec<Serial>,
}

/// A transfer as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Transfer {
    /// Its id.
    pub id: Uuid,
    /// The sending clinic.
    pub from_clinic_id: Uuid,
    /// The receiving clinic.
    pub to_clinic_id: Uuid,
    /// `in_transit`, `received` or `cancelled`.
    pub status: TransferStatus,
    /// Units per lot, in lot order.
    pub lines: Vec<TransferLine>,
    /// The note.
    pub note: Option<String>,
    /// Who sent it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who confirmed receipt.
    pub received_by: Option<Uuid>,
    /// When.
    pub received_at: Option<DateTime<Utc>>,
    /// Who cancelled it.
    pub cancelled_by: Option<Uuid>,
    /// When.
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// Units of one lot in a transfer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TransferLine {
    /// The lot.
    pub lot_id: Uuid,
    /// Its product.
    pub product_id: Uuid,
    /// Its lot number.
    pub lot_number: String,
    /// Its expiry date.
    pub expiry: NaiveDate,
    /// Units.
    pub quantity: i64,
    /// The serials of the units that travel, for a lot received with serials.
    pub serials: Vec<String>,
}

/// Filters of the transfer list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// Only transfers from or to this clinic.
    #[serde(default)]
    pub clinic_id: Option<Uuid>,
    /// Only transfers in this status.
    #[serde(default)]
    pub status: Option<TransferStatus>,
}

/// Builds the answers for `rows`, loading their lines and lots in one go.
async fn views(
    db: &impl ConnectionTrait,
    org: Uuid,
    rows: Vec<transfer_row::Model>,
) -> Result<Vec<Transfer>> {
    let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
    let lines = transfers::lines_of(db, org, &ids).await?;
    let lot_ids: Vec<Uuid> = lines.iter().map(|l| l.lot_id).collect();
    let mut serials: HashMap<(Uuid, Uuid), Vec<String>> = HashMap::new();
    for id in &ids {
        for unit in units::travelling(db, org, *id).await? {
            serials
                .entry((*id, unit.lot_id))
                .or_default()
                .push(unit.serial);
        }
    }
    let lots: HashMap<Uuid, lot_row::Model> = lots::by_ids(db, org, &lot_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        let mine = lines
            .iter()
            .filter(|l| l.transfer_id == row.id)
            .map(|l| {
                let lot = lots
                    .get(&l.lot_id)
                    .ok_or_else(|| Error::Internal("transfer of a missing lot".into()))?;
                Ok(TransferLine {
                    lot_id: l.lot_id,
                    product_id: lot.product_id,
                    lot_number: lot.lot_number.clone(),
                    expiry: lot.expiry,
                    quantity: i64::from(l.quantity),
                    serials: serials
                        .get(&(row.id, l.lot_id))
                        .cloned()
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        answers.push(Transfer {
            id: row.id,
            from_clinic_id: row.from_clinic_id,
            to_clinic_id: row.to_clinic_id,
            status: *row.status,
            lines: mine,
            note: row.note,
            created_by: row.created_by,
            created_at: row.created_at,
            received_by: row.received_by,
            received_at: row.received_at,
            cancelled_by: row.cancelled_by,
            cancelled_at: row.cancelled_at,
        });
    }
    Ok(answers)
}

async fn view(db: &impl ConnectionTrait, org: Uuid, row: transfer_row::Model) -> Result<Transfer> {
    views(db, org, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("transfer view missing".into()))
}

async fn load(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<transfer_row::Model> {
    transfers::get(db, org, id)
        .await?
        .ok_or(Error::NotFound("transfer"))
}

/// The lots of a transfer's lines, read under a shared lock in lot order (see
/// [`lots::get_shared`]), so that a recall either precedes the arrival or waits for it.
async fn lock_lots(
    db: &impl ConnectionTrait,
    org: Uuid,
    lines: &[line_row::Model],
) -> Result<HashMap<Uuid, lot_row::Model>> {
    let mut ids: Vec<Uuid> = lines.iter().map(|l| l.lot_id).collect();
    ids.sort();
    let mut found = HashMap::new();
    for id in ids {
        let lot = lots::get_shared(db, org, id)
            .await?
            .ok_or(Error::NotFound("lot"))?;
        found.insert(id, lot);
    }
    Ok(found)
}

impl App {
    /// One transfer (any role at the sending or the receiving clinic).
    pub async fn get_transfer(&self, actor: &Actor, id: Uuid) -> Result<Transfer> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        if !actor.may(Action::StockRead, Scope::Clinic(row.from_clinic_id)) {
            actor.require(Action::StockRead, Scope::Clinic(row.to_clinic_id))?;
        }
        view(db, actor.org_id, row).await
    }

    /// A page of transfers from or to the clinics the caller may see, oldest first.
    pub async fn list_transfers(
        &self,
        actor: &Actor,
        query: &TransferQuery,
        page: &PageParams,
    ) -> Result<Page<Transfer>> {
        actor.require(Action::StockRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let db = self.db().read();
        let visible = permission::clinics_for(&actor.grants, Action::StockRead);
        let filter = TransferFilter {
            clinic_id: query.clinic_id,
            status: query.status,
        };
        let rows = transfers::list(db, actor.org_id, visible.as_deref(), &filter, page).await?;
        let next_after = rows.next_after;
        let items = views(db, actor.org_id, rows.items).await?;
        Ok(Page::from_store(
            skinledger_store::Page { items, next_after },
            |t| t,
        ))
    }
}
