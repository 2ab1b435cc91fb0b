//! Stock reports for managers: what is low, what expires soon, and what was used (units written
//! off at the chair are reported by `disposals`).
//!
//! Each covers the clinics the caller may read reports of: every clinic for `org_admin`, their
//! own for a clinic manager.

use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use skinledger_domain::inventory::{ProductKind, lot_usable_on, reorder_point_at, runs_low};
use skinledger_domain::permission::{self, Action, Scope};
use skinledger_store::entities::{clinic as clinic_row, lot as lot_row, product as product_row};
use skinledger_store::{consumables, lookups, lots, products, stock};
use uuid::Uuid;

use crate::App;
use crate::actor::Actor;
use crate::error::{Error, Result};

/// The horizon of the expiry report when none is asked for, in days.
pub const DEFAULT_WITHIN_DAYS: u32 = 30;
/// The longest horizon of the expiry report, in days.
pub const MAX_WITHIN_DAYS: u32 = 3_650;

/// The error for a horizon outside 1 to [`MAX_WITHIN_DAYS`] days, or not a number at all.
pub fn within_days_refused() -> Error {
    Error::invalid(
        "within_days",
        format!("must be a whole number of days from 1 to {MAX_WITHIN_DAYS}"),
    )
}

/// A product at or below its reorder point at a clinic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LowStockLine {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: String,
    /// The product.
    pub product_id: Uuid,
    /// Its name.
    pub product_name: String,
    /// Its kind.
    pub kind: ProductKind,
    /// Usable units on hand: of active lots not past their expiry date.
    pub on_hand: i64,
    /// The reorder point in force at the clinic (its own, else the organisation's).
    pub reorder_point: u32,
}

/// Units of a lot at a clinic that expire within the horizon (or already have).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ExpiringLine {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: String,
    /// The product.
    pub product_id: Uuid,
    /// Its name.
    pub product_name: String,
    /// The lot.
    pub lot_id: Uuid,
    /// Its lot number.
    pub lot_number: String,
    /// Its last day of use.
    pub expiry: NaiveDate,
    /// Days from today to the expiry date; negative once expired.
    pub days_left: i64,
    /// Units on hand.
    pub on_hand: i64,
}

/// The period and clinic of a usage or disposal report.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportPeriod {
    /// The first day, inclusive.
    pub from: NaiveDate,
    /// The last day, inclusive.
    pub to: NaiveDate,
    /// Only this clinic.
    #[serde(default)]
    pub clinic_id: Option<Uuid>,
}

impl ReportPeriod {
    /// Checks the caller may read this report and the period holds (`to` not before `from`);
    /// answers the clinics it covers: the one asked for, else the caller's (`None`: all).
    pub(crate) async fn clinics(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        actor: &Actor,
    ) -> Result<Option<Vec<Uuid>>> {
        if let Some(clinic) = self.clinic_id {
            crate::stock::require_clinic(db, actor.org_id, clinic).await?;
            actor.require(Action::ReportRead, Scope::Clinic(clinic))?;
        }
        actor.require(Action::ReportRead, Scope::Anywhere)?;
        if self.to < self.from {
            return Err(Error::invalid("to", "must not be before from"));
        }
        Ok(match self.clinic_id {
            Some(clinic) => Some(vec![clinic]),
            None => permission::clinics_for(&actor.grants, Action::ReportRead),
        })
    }
}

/// Units of a product consumed by treatments at a clinic within the period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct UsageLine {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: String,
    /// The product.
    pub product_id: Uuid,
    /// Its name.
    pub product_name: String,
    /// Units consumed.
    pub units: i64,
}

/// What a report is drawn from: the caller's clinics and the catalogue.
struct Reach {
    clinics: Vec<clinic_row::Model>,
    ids: Option<Vec<Uuid>>,
    products: HashMap<Uuid, product_row::Model>,
}

impl Reach {
    async fn load(db: &impl sea_orm::ConnectionTrait, actor: &Actor) -> Result<Self> {
        actor.require(Action::ReportRead, Scope::Anywhere)?;
        let ids = permission::clinics_for(&actor.grants, Action::ReportRead);
        let clinics = lookups::clinics(db, actor.org_id)
            .await?
            .into_iter()
            .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
            .collect();
        let products = products::all(db, actor.org_id)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(Self {
            clinics,
            ids,
            products,
        })
    }

    fn clinic_name(&self, id: Uuid) -> String {
        self.clinics
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    fn product(&self, id: Uuid) -> Result<&product_row::Model> {
        self.products
            .get(&id)
            .ok_or_else(|| Error::Internal("report: product missing".into()))
    }
}

/// The lots of the given stock rows.
async fn lots_of(
    db: &impl sea_orm::ConnectionTrait,
    org: Uuid,
    rows: &[skinledger_store::entities::stock::Model],
) -> Result<HashMap<Uuid, lot_row::Model>> {
    let ids: Vec<Uuid> = rows.iter().map(|s| s.lot_id).collect();
    Ok(lots::by_ids(db, org, &ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect())
}

impl App {
    /// Every product at or below its reorder point at each open clinic (clinic managers and
    /// `org_admin`). A reorder point of 0 means the product is never reported.
    pub async fn low_stock_report(&self, actor: &Actor) -> Result<Vec<LowStockLine>> {
        let db = self.db().read();
        let org = actor.org_id;
        let scope = Reach::load(db, actor).await?;
        let overrides: HashMap<(Uuid, Uuid), i32> = products::all_reorder_points(db, org)
            .await?
            .into_iter()
            .map(|o| ((o.clinic_id, o.product_id), o.reorder_point))
            .collect();
        let rows = stock::on_hand(db, org, scope.ids.as_deref()).await?;
        let lots = lots_of(db, org, &rows).await?;
        let today = Utc::now().date_naive();
        let mut usable: HashMap<(Uuid, Uuid), i64> = HashMap::new();
        for row in &rows {
            let Some(lot) = lots.get(&row.lot_id) else {
                continue;
            };
            if lot_usable_on(*lot.status, lot.expiry, today).is_ok() {
                *usable.entry((row.clinic_id, lot.product_id)).or_default() +=
                    i64::from(row.on_hand);
            }
        }
        let mut catalogue: Vec<&product_row::Model> = scope.products.values().collect();
        catalogue.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let mut lines = Vec::new();
        for clinic in scope.clinics.iter().filter(|c| c.active) {
            for product in &catalogue {
                let point = reorder_point_at(
                    i64::from(product.reorder_point),
                    overrides
                        .get(&(clinic.id, product.id))
                        .copied()
                        .map(i64::from),
                );
                let on_hand = usable.get(&(clinic.id, product.id)).copied().unwrap_or(0);
                if runs_low(on_hand, point) {
                    lines.push(LowStockLine {
                        clinic_id: clinic.id,
                        clinic_name: clinic.name.clone(),
                        product_id: product.id,
                        product_name: product.name.clone(),
                        kind: *product.kind,
                        on_hand,
                        reorder_point: u32::try_from(point).unwrap_or(0),
                    });
                }
            }
        }
        Ok(lines)
    }

    /// Units on hand whose lot expires within `within_days` days from today (1 to 3650,
    /// default 30), or has expired, first expiry first (clinic managers and `org_admin`).
    pub async fn expiring_report(
        &self,
        actor: &Actor,
        within_days: Option<u32>,
    ) -> Result<Vec<ExpiringLine>> {
        let within_days = within_days.unwrap_or(DEFAULT_WITHIN_DAYS);
        let db = self.db().read();
        let org = actor.org_id;
        let scope = Reach::load(db, actor).await?;
        if !(1..=MAX_WITHIN_DAYS).contains(&within_days) {
            return Err(within_days_refused());
        }
        let today = Utc::now().date_naive();
        let horizon = today
            .checked_add_days(Days::new(u64::from(within_days)))
            .unwrap_or(NaiveDate::MAX);
        let rows = stock::on_hand(db, org, scope.ids.as_deref()).await?;
        let lots = lots_of(db, org, &rows).await?;
        let mut lines = Vec::new();
        for row in &rows {
            let Some(lot) = lots.get(&row.lot_id) else {
                continue;
            };
            if lot.expiry > horizon {
                continue;
            }
            let product = scope.product(lot.product_id)?;
            lines.push(ExpiringLine {
                clinic_id: row.clinic_id,
                clinic_name: scope.clinic_name(row.clinic_id),
                product_id: product.id,
                product_name: product.name.clone(),
                lot_id: lot.id,
                lot_number: lot.lot_number.clone(),
                expiry: lot.expiry,
                days_left: (lot.expiry - today).num_days(),
                on_hand: i64::from(row.on_hand),
            });
        }
        lines.sort_by_key(|l| (l.expiry, l.clinic_id, l.lot_id));
        Ok(lines)
    }

    /// Units consumed by treatments per clinic and product from `from` to `to` inclusive,
    /// optionally at one clinic (clinic managers and `org_admin`).
    pub async fn usage_report(
        &self,
        actor: &Actor,
        query: &ReportPeriod,
    ) -> Result<Vec<UsageLine>> {
        let db = self.db().read();
        let org = actor.org_id;
        let only = query.clinics(db, actor).await?;
        let scope = Reach::load(db, actor).await?;
        let rows = consumables::usage(db, org, query.from, query.to, only.as_deref()).await?;
        rows.into_iter()
            .map(|(clinic_id, product_id, units)| {
                let product = scope.product(product_id)?;
                Ok(UsageLine {
                    clinic_id,
                    clinic_name: scope.clinic_name(clinic_id),
                    product_id,
                    product_name: product.name.clone(),
                    units,
                })
            })
            .collect()
    }
}
