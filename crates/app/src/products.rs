//! The product catalogue: rollers, pen cartridges and other stock, with their needle data, GTIN
//! and reorder points (one for the organisation, overridable per clinic).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::gtin::Gtin;
use skinledger_domain::inventory::ProductKind;
use skinledger_domain::names::Name;
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::product as product_row;
use skinledger_store::products::{self, ProductFilter};
use skinledger_store::{clinics, is_unique_violation};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::eligibility::depth_of;
use crate::error::{Error, Result};
use crate::idempotency::{self, IdempotencyKey};
use crate::paging::{Page, PageParams};
use crate::txn::Txn;

/// Most needles on one device (large body rollers carry about 1,000).
const MAX_NEEDLE_COUNT: u32 = 5_000;
/// Highest reorder point accepted.
const MAX_REORDER_POINT: u32 = 1_000_000;

/// A product of the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Product {
    /// Its id.
    pub id: Uuid,
    /// `roller`, `pen_cartridge` or `other`.
    pub kind: ProductKind,
    /// Its name.
    pub name: String,
    /// Who makes it.
    pub maker: String,
    /// Its GTIN, as 14 digits.
    pub gtin: Option<String>,
    /// Needle length in millimetres.
    pub needle_length_mm: Option<NeedleDepth>,
    /// Needles on the device.
    pub needle_count: Option<u32>,
    /// The deepest treatment the maker's label allows with it, in millimetres.
    pub max_depth_mm: Option<NeedleDepth>,
    /// Whether a unit touches one client only, once (always for rollers and cartridges).
    pub single_use: bool,
    /// The organisation's reorder point: stock at or below it is low.
    pub reorder_point: u32,
    /// Clinics with a reorder point of their own.
    pub clinic_reorder_points: Vec<ClinicReorderPoint>,
    /// Incremented by every change; the `ETag`.
    pub version: i64,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A clinic's own reorder point for a product.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ClinicReorderPoint {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its reorder point.
    pub reorder_point: u32,
}

/// Setting or removing a clinic's own reorder point.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicReorderPointChange {
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its reorder point; `null` removes it, so the organisation's applies again.
    pub reorder_point: Option<u32>,
}

/// A new product, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// `roller`, `pen_cartridge` or `other`.
    pub kind: ProductKind,
    /// Its name.
    pub name: String,
    /// Who makes it.
    pub maker: String,
    /// Its GTIN-8, -12, -13 or -14, check digit included; unique in the organisation.
    #[serde(default)]
    pub gtin: Option<Gtin>,
    /// Needle length in millimetres; required for rollers and cartridges.
    #[serde(default)]
    pub needle_length_mm: Option<NeedleDepth>,
    /// Needles on the device.
    #[serde(default)]
    pub needle_count: Option<u32>,
    /// The deepest treatment the label allows; the needle length when absent.
    #[serde(default)]
    pub max_depth_mm: Option<NeedleDepth>,
    /// Single use; true for rollers and cartridges (and may not be false), false otherwise
    /// when absent.
    #[serde(default)]
    pub single_use: Option<bool>,
    /// The organisation's reorder point; 0 (never low) when absent.
    #[serde(default)]
    pub reorder_point: Option<u32>,
    /// Reorder points of single clinics.
    #[serde(default)]
    pub clinic_reorder_points: Vec<ClinicReorderPointChange>,
}

/// Changes to a product; absent fields stay as they are. The kind is fixed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChanges {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new maker.
    #[serde(default)]
    pub maker: Option<String>,
    /// A new GTIN.
    #[serde(default)]
    pub gtin: Option<Gtin>,
    /// A new needle length.
    #[serde(default)]
    pub needle_length_mm: Option<NeedleDepth>,
    /// A new needle count.
    #[serde(default)]
    pub needle_count: Option<u32>,
    /// A new labelled maximum depth.
    #[serde(default)]
    pub max_depth_mm: Option<NeedleDepth>,
    /// Whether it is single use.
    #[serde(default)]
    pub single_use: Option<bool>,
    /// A new reorder point for the organisation.
    #[serde(default)]
    pub reorder_point: Option<u32>,
    /// Clinic reorder points to set or remove; others stay.
    #[serde(default)]
    pub clinic_reorder_points: Option<Vec<ClinicReorderPointChange>>,
}

impl ProductChanges {
    /// Whether any field that holds at every clinic is sent (all but clinic reorder points).
    fn touches_catalogue(&self) -> bool {
        let Self {
            name,
            maker,
            gtin,
            needle_length_mm,
            needle_count,
            max_depth_mm,
            single_use,
            reorder_point,
            clinic_reorder_points: _,
        } = self;
        name.is_some()
            || maker.is_some()
            || gtin.is_some()
            || needle_length_mm.is_some()
            || needle_count.is_some()
            || max_depth_mm.is_some()
            || single_use.is_some()
            || reorder_point.is_some()
    }
}

/// Filters of the product list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Only products of this kind.
    #[serde(default)]
    pub kind: Option<ProductKind>,
    /// Only the product with this GTIN.
    #[serde(default)]
    pub gtin: Option<Gtin>,
}

/// The labelled maximum depth of a stored product, if it has one.
pub(crate) fn max_depth(row: &product_row::Model) -> Result<Option<NeedleDepth>> {
    row.max_depth_hundredths.map(depth_of).transpose()
}

impl Product {
    fn from_row(
        row: product_row::Model,
        clinic_reorder_points: Vec<ClinicReorderPoint>,
    ) -> Result<Self> {
        let count = |v: i32| {
            u32::try_from(v).map_err(|_| Error::Internal(format!("stored count {v} is negative")))
        };
        Ok(Self {
            id: row.id,
            kind: *row.kind,
            needle_length_mm: row.needle_length_hundredths.map(depth_of).transpose()?,
            needle_count: row.needle_count.map(count).transpose()?,
            max_depth_mm: max_depth(&row)?,
            single_use: row.single_use,
            reorder_point: count(row.reorder_point)?,
            clinic_reorder_points,
            version: i64::from(row.version),
            name: row.name,
            maker: row.maker,
            gtin: row.gtin,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A product's device data, checked together because each rule spans fields.
struct Device {
    needle_length: Option<NeedleDepth>,
    needle_count: Option<u32>,
    max_depth: Option<NeedleDepth>,
    single_use: bool,
}

impl Device {
    /// Rollers and cartridges need a needle length, are single use, and their labelled maximum
    /// depth (the needle length unless given) cannot exceed the needle length.
    fn check(
        errors: &mut ValidationErrors,
        kind: ProductKind,
        needle_length: Option<NeedleDepth>,
        needle_count: Option<u32>,
        max_depth: Option<NeedleDepth>,
        single_use: Option<bool>,
    ) -> Self {
        let needle_device = kind.is_single_use_needle_device();
        if needle_device && needle_length.is_none() {
            errors.add("needle_length_mm", format!("is required for a {kind}"));
        }
        if needle_device && single_use == Some(false) {
            errors.add("single_use", format!("a {kind} is always single use"));
        }
        if let Some(n) = needle_count
            && !(1..=MAX_NEEDLE_COUNT).contains(&n)
        {
            errors.add(
                "needle_count",
                format!("must be between 1 and {MAX_NEEDLE_COUNT}"),
            );
        }
        let max_depth = max_depth.or(if needle_device { needle_length } else { None });
        if let (Some(max), Some(length)) = (max_depth, needle_length)
            && max > length
        {
            errors.add(
                "max_depth_mm",
                format!("must not exceed the needle length of {length}"),
            );
        }
        Self {
            needle_length,
            needle_count,
            max_depth,
            single_use: single_use.unwrap_or(needle_device),
        }
    }
}

fn reorder_point(errors: &mut ValidationErrors, field: &str, value: u32) -> i32 {
    if value > MAX_REORDER_POINT {
        errors.add(field, format!("must be at most {MAX_REORDER_POINT}"));
    }
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn hundredths(depth: Option<NeedleDepth>) -> Option<i32> {
    depth.map(|d| i32::from(d.hundredths()))
}

fn to_i32(value: Option<u32>) -> Option<i32> {
    value.map(|v| i32::try_from(v).unwrap_or(i32::MAX))
}

/// Checks the clinic reorder points sent: each clinic once, of this organisation, and one the
/// caller may manage products at.
async fn check_clinic_points(
    db: &impl ConnectionTrait,
    actor: &Actor,
    changes: &[ClinicReorderPointChange],
    errors: &mut ValidationErrors,
) -> Result<()> {
    let mut seen = BTreeSet::new();
    let ids: Vec<Uuid> = changes.iter().map(|c| c.clinic_id).collect();
    let found = clinics::existing(db, actor.org_id, &ids).await?;
    for (i, change) in changes.iter().enumerate() {
        let field = format!("clinic_reorder_points[{i}]");
        if !seen.insert(change.clinic_id) {
            errors.add(format!("{field}.clinic_id"), "is listed twice");
        }
        if !found.contains(&change.clinic_id) {
            errors.add(
                format!("{field}.clinic_id"),
                "is not a clinic of this organisation",
            );
        }
        if let Some(value) = change.reorder_point {
            reorder_point(errors, &format!("{field}.reorder_point"), value);
        }
    }
    for change in changes {
        if found.contains(&change.clinic_id) {
            actor.require(Action::ReorderPointSet, Scope::Clinic(change.clinic_id))?;
        }
    }
    Ok(())
}

async fn save_clinic_points(
    db: &impl ConnectionTrait,
    org: Uuid,
    product: Uuid,
    changes: &[ClinicReorderPointChange],
) -> Result<()> {
    for change in changes {
        match change.reorder_point {
            Some(value) => {
                let value = i32::try_from(value).unwrap_or(i32::MAX);
                products::set_reorder_point(db, org, change.clinic_id, product, value).await?;
            }
            None => products::clear_reorder_point(db, org, change.clinic_id, product).await?,
        }
    }
    Ok(())
}

fn gtin_taken() -> Error {
    Error::conflict(
        ErrorCode::AlreadyExists,
        "another product of the organisation has this GTIN",
    )
}

/// A product with its clinic reorder points.
async fn view(db: &impl ConnectionTrait, row: product_row::Model) -> Result<Product> {
    let points = products::reorder_points_of(db, row.organization_id, &[row.id])
        .await?
        .into_iter()
        .map(|p| {
            Ok(ClinicReorderPoint {
                clinic_id: p.clinic_id,
                reorder_point: u32::try_from(p.reorder_point)
                    .map_err(|_| Error::Internal("stored reorder point is negative".into()))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Product::from_row(row, points)
}

/// One product of the organisation, or 404.
pub(crate) async fn load(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> Result<product_row::Model> {
    products::get(db, org, id)
        .await?
        .ok_or(Error::NotFound("product"))
}

impl App {
    /// Adds a product to the catalogue (`org_admin`: a product's data holds at every clinic).
    pub async fn create_product(
        &self,
        actor: &Actor,
        new: NewProduct,
        key: Option<&IdempotencyKey>,
    ) -> Result<Product> {
        let subject = Subject::new("product", None);
        self.audited(actor, "product.create", subject, async move {
            actor.require(Action::CatalogueWrite, Scope::Anywhere)?;
            let mut errors = ValidationErrors::new();
            let name = errors.check("name", Name::parse(&new.name));
            let maker = errors.check("maker", Name::parse(&new.maker));
            let device = Device::check(
                &mut errors,
                new.kind,
                new.needle_length_mm,
                new.needle_count,
                new.max_depth_mm,
                new.single_use,
            );
            let point = reorder_point(&mut errors, "reorder_point", new.reorder_point.unwrap_or(0));
            check_clinic_points(
                self.db().read(),
                actor,
                &new.clinic_reorder_points,
                &mut errors,
            )
            .await?;
            errors.into_result()?;
            let (Some(name), Some(maker)) = (name, maker) else {
                return Err(Error::Internal("validated fields missing".into()));
            };
            let sent = new.clone();
            idempotency::run(
                self.db(),
                actor,
                key,
                "product.create",
                &sent,
                |txn| async move {
                    let now = Utc::now();
                    let inserted = products::insert(
                        &txn,
                        product_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(actor.org_id),
                            kind: Set(new.kind.into()),
                            name: Set(name.as_str().to_owned()),
                            maker: Set(maker.as_str().to_owned()),
                            gtin: Set(new.gtin.as_ref().map(|g| g.as_str().to_owned())),
                            needle_length_hundredths: Set(hundredths(device.needle_length)),
                            needle_count: Set(to_i32(device.needle_count)),
                            max_depth_hundredths: Set(hundredths(device.max_depth)),
                            single_use: Set(device.single_use),
                            reorder_point: Set(point),
                            version: Set(1),
                            created_at: Set(now),
                            updated_at: Set(now),
                        },
                    )
                    .await;
                    let row = match inserted {
                        Ok(row) => row,
                        Err(e) if is_unique_violation(&e) => return Err(gtin_taken()),
                        Err(e) => return Err(e.into()),
                    };
                    save_clinic_points(&txn, actor.org_id, row.id, &new.clinic_reorder_points)
                        .await?;
                    txn.audit(
                        AuditEvent::by(actor, "product.create", "product", Some(row.id))
                            .detail(&new),
                    );
                    let answer = view(&txn, row).await?;
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }

    /// One product (any role).
    pub async fn get_product(&self, actor: &Actor, id: Uuid) -> Result<Product> {
        let db = self.db().read();
        let row = load(db, actor.org_id, id).await?;
        actor.require(Action::StockRead, Scope::Anywhere)?;
        view(db, row).await
    }

    /// The catalogue, oldest first (any role).
    pub async fn list_products(
        &self,
        actor: &Actor,
        query: &ProductQuery,
        page: &PageParams,
    ) -> Result<Page<Product>> {
        actor.require(Action::StockRead, Scope::Anywhere)?;
        let page = page.parse()?;
        let db = self.db().read();
        let filter = ProductFilter {
            kind: query.kind.map(|k| k.as_str().to_owned()),
            gtin: query.gtin.as_ref().map(|g| g.as_str().to_owned()),
        };
        let rows = products::list(db, actor.org_id, &filter, page).await?;
        let ids: Vec<Uuid> = rows.items.iter().map(|p| p.id).collect();
        let points = products::reorder_points_of(db, actor.org_id, &ids).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for row in rows.items {
            let mine = points
                .iter()
                .filter(|p| p.product_id == row.id)
                .map(|p| ClinicReorderPoint {
                    clinic_id: p.clinic_id,
                    reorder_point: u32::try_from(p.reorder_point).unwrap_or(0),
                })
                .collect();
            items.push(Product::from_row(row, mine)?);
        }
        Ok(Page::from_store(
            skinledger_store::Page {
                items,
                next_after: rows.next_after,
            },
            |p| p,
        ))
    }

    /// Changes a product. Fields that hold at every clinic (name, GTIN, needle data, labelled
    /// maximum depth, single use, the organisation's reorder point) only by `org_admin`; a
    /// clinic's own reorder point also by its clinic manager. With `if_match`, a stale version
    /// answers 412.
    pub async fn update_product(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: ProductChanges,
        if_match: Option<i64>,
    ) -> Result<Product> {
        let subject = Subject::new("product", Some(id));
        self.audited(actor, "product.update", subject, async move {
            let org = actor.org_id;
            let txn = Txn::begin(self.db()).await?;
            let row = load(&txn, org, id).await?;
            actor.require(Action::ReorderPointSet, Scope::Anywhere)?;
            if changes.touches_catalogue() {
                actor.require(Action::CatalogueWrite, Scope::Anywhere)?;
            }
            if if_match.is_some_and(|v| v != i64::from(row.version)) {
                return Err(Error::PreconditionFailed);
            }
            let kind = *row.kind;
            let current = Product::from_row(row.clone(), Vec::new())?;
            let mut errors = ValidationErrors::new();
            let name = changes
                .name
                .as_deref()
                .and_then(|n| errors.check("name", Name::parse(n)));
            let maker = changes
                .maker
                .as_deref()
                .and_then(|n| errors.check("maker", Name::parse(n)));
            // A new needle length without a new maximum keeps the stored maximum, which must
            // still fit under it.
            let device = Device::check(
                &mut errors,
                kind,
                changes.needle_length_mm.or(current.needle_length_mm),
                changes.needle_count.or(current.needle_count),
                changes.max_depth_mm.or(current.max_depth_mm),
                Some(changes.single_use.unwrap_or(current.single_use)),
            );
            let point = changes
                .reorder_point
                .map(|p| reorder_point(&mut errors, "reorder_point", p));
            let clinic_points = changes.clinic_reorder_points.clone().unwrap_or_default();
            check_clinic_points(&txn, actor, &clinic_points, &mut errors).await?;
            errors.into_result()?;

            let mut active = product_row::ActiveModel {
                updated_at: Set(Utc::now()),
                needle_length_hundredths: Set(hundredths(device.needle_length)),
                needle_count: Set(to_i32(device.needle_count)),
                max_depth_hundredths: Set(hundredths(device.max_depth)),
                single_use: Set(device.single_use),
                ..Default::default()
            };
            if let Some(name) = name {
                active.name = Set(name.as_str().to_owned());
            }
            if let Some(maker) = maker {
                active.maker = Set(maker.as_str().to_owned());
            }
            if let Some(gtin) = &changes.gtin {
                active.gtin = Set(Some(gtin.as_str().to_owned()));
            }
            if let Some(point) = point {
                active.reorder_point = Set(point);
            }
            match products::update_if_version(&txn, org, id, row.version, active).await {
                Ok(true) => {}
                Ok(false) => return Err(Error::PreconditionFailed),
                Err(e) if is_unique_violation(&e) => return Err(gtin_taken()),
                Err(e) => return Err(e.into()),
            }
            save_clinic_points(&txn, org, id, &clinic_points).await?;
            txn.audit(
                AuditEvent::by(actor, "product.update", "product", Some(id)).detail(&changes),
            );
            let row = load(&txn, org, id).await?;
            let answer = view(&txn, row).await?;
            txn.commit().await?;
            Ok(answer)
        })
        .await
    }
}
