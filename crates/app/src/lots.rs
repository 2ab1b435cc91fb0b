//! Lots as the API shows them, and reading one with its stock at every clinic.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use skinledger_domain::fefo::LotCandidate;
use skinledger_domain::inventory::{LotStatus, StockBalance};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::lot as lot_row;
use skinledger_store::{lots, products, stock};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::error::{Error, Result};

/// A lot: one batch of a product, with its expiry date.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Lot {
    /// Its id.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The maker's lot number.
    pub lot_number: String,
    /// The last day its units may be used.
    pub expiry: NaiveDate,
    /// `active`, `recalled`, or `held` (on hold after an adverse-event signal).
    pub status: LotStatus,
    /// When it was recalled.
    pub recalled_at: Option<DateTime<Utc>>,
    /// Why it was recalled.
    pub recall_reason: Option<String>,
    /// When an adverse-event signal put it on hold, while it is.
    pub held_at: Option<DateTime<Utc>>,
    /// Why it is on hold (`adverse_event_signal`), while it is.
    pub hold_reason: Option<String>,
    /// When it was first received.
    pub created_at: DateTime<Utc>,
}

impl Lot {
    /// The lot a row holds.
    pub(crate) fn from_row(row: lot_row::Model) -> Result<Self> {
        Ok(Self {
            id: row.id,
            product_id: row.product_id,
            status: *row.status,
            lot_number: row.lot_number,
            expiry: row.expiry,
            recalled_at: row.recalled_at,
            recall_reason: row.recall_reason,
            held_at: row.held_at,
            hold_reason: row.hold_reason,
            created_at: row.created_at,
        })
    }
}

/// Units of one lot at one clinic, by where they stand.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Balance {
    /// On the shelf.
    pub on_hand: i64,
    /// Set aside because the lot was recalled.
    pub quarantined: i64,
    /// Sent to another clinic, not yet received there.
    pub in_transit_out: i64,
}

impl From<StockBalance> for Balance {
    fn from(b: StockBalance) -> Self {
        Self {
            on_hand: b.on_hand,
            quarantined: b.quarantined,
            in_transit_out: b.in_transit_out,
        }
    }
}

/// A lot's units at one clinic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ClinicBalance {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its units of the lot.
    #[serde(flatten)]
    pub balance: Balance,
}

/// A lot with its product and its units at each clinic the caller may see.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LotDetail {
    /// The lot.
    pub lot: Lot,
    /// The product's name.
    pub product_name: String,
    /// The product's GTIN.
    pub gtin: Option<String>,
    /// Units per clinic, in clinic order; clinics that never held the lot are left out.
    pub stock: Vec<ClinicBalance>,
}

/// 409 `lot_on_hold`: the lot's units stay in quarantine until it is released.
pub(crate) fn on_hold(lot: &lot_row::Model) -> Error {
    Error::Conflict {
        code: crate::ErrorCode::LotOnHold,
        detail: format!(
            "lot {} is on hold after an adverse-event signal; its units stay in quarantine \
             until an org_admin releases or recalls it",
            lot.lot_number
        ),
        extra: Some(serde_json::json!({ "lot_id": lot.id })),
    }
}

/// The FEFO view of a lot's stock at one clinic.
pub(crate) fn candidate(lot: &lot_row::Model, on_hand: i64) -> Result<LotCandidate> {
    Ok(LotCandidate {
        lot_id: lot.id,
        expiry: lot.expiry,
        status: *lot.status,
        on_hand,
        quarantined: 0,
    })
}

/// One lot of the organisation, or 404.
pub(crate) async fn load(
    db: &impl sea_orm::ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<lot_row::Model> {
    lots::get(db, org, id).await?.ok_or(Error::NotFound("lot"))
}

/// The lot with its product and stock, as `actor` may see it.
pub(crate) async fn detail(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    row: lot_row::Model,
) -> Result<LotDetail> {
    let org = actor.org_id;
    let product = products::get(db, org, row.product_id)
        .await?
        .ok_or_else(|| Error::Internal("lot without product".into()))?;
    let stock = stock::of_lot(db, org, row.id)
        .await?
        .into_iter()
        .filter(|s| actor.may(Action::StockRead, Scope::Clinic(s.clinic_id)))
        .map(|s| ClinicBalance {
            clinic_id: s.clinic_id,
            balance: stock::balance(&s).into(),
        })
        .collect();
    Ok(LotDetail {
        lot: Lot::from_row(row)?,
        product_name: product.name,
        gtin: product.gtin,
        stock,
    })
}

impl App {
    /// One lot with its stock at every clinic the caller may see (any role).
    pub async fn get_lot(&self, actor: &Actor, id: Uuid) -> Result<LotDetail> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        actor.require(Action::StockRead, Scope::Anywhere)?;
        detail(db, actor, row).await
    }
}
