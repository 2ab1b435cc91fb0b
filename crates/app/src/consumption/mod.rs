//! The devices a treatment consumes, taken from the treating clinic's stock in the treatment's
//! own transaction: first expiry first out, never an expired or recalled lot, never below zero,
//! never one serial twice.
//!
//! Every rule is held by the database, not by this process: stock is taken with a conditional
//! update that finds no row once the units are gone, a serial's unit is marked consumed only
//! while it is on the shelf, and `treatment_consumables` refuses a second row for a serial.
//! When a concurrent treatment took the units the allocation counted on, the allocation is
//! made again from what is left.

mod take;

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::clinical::DeviceKind;
use skinledger_domain::depth::NeedleDepth;
use skinledger_domain::fefo::FefoError;
use skinledger_domain::inventory::{ProductKind, Serial};
use skinledger_store::entities::{lot as lot_row, product as product_row};
use skinledger_store::{consumables, lots, products};
use uuid::Uuid;

use crate::ErrorCode;
use crate::error::{Error, Result};
use crate::products::max_depth;

pub(crate) use self::take::consume;

/// Most units of one product a treatment consumes.
const MAX_UNITS: u32 = 20;
/// Most consumables listed for one treatment.
const MAX_CONSUMABLES: usize = 20;
/// How often an allocation is made again after concurrent treatments took its units.
const ALLOCATION_ATTEMPTS: usize = 50;

/// A device used in a treatment, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumableRequest {
    /// The product used.
    pub product_id: Uuid,
    /// The serial of the unit used, when it carries one (then `quantity` is 1).
    #[serde(default)]
    pub serial: Option<Serial>,
    /// The lot used; first expiry first out from the clinic's stock when absent.
    #[serde(default)]
    pub lot_id: Option<Uuid>,
    /// Units used; 1 when absent.
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// Units a treatment consumed from one lot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ConsumedUnit {
    /// The product.
    pub product_id: Uuid,
    /// The lot they came from.
    pub lot_id: Uuid,
    /// Its lot number.
    pub lot_number: String,
    /// Its expiry date.
    pub expiry: NaiveDate,
    /// The unit's serial, when one was given.
    pub serial: Option<String>,
    /// Units.
    pub quantity: i64,
}

/// One consumable, checked, with its product.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    index: usize,
    product: product_row::Model,
    serial: Option<Serial>,
    lot_id: Option<Uuid>,
    quantity: i64,
}

/// The consumables of a treatment, checked.
#[derive(Debug, Clone)]
pub(crate) struct Plan(Vec<Planned>);

/// Checks the consumables sent for a treatment at `depth` with a `device_kind`: at least one
/// single-use needle device, each product of the organisation (404 otherwise), each needle
/// device of the treatment's kind (a roller for a roller session, a pen cartridge for a pen
/// session), and no needle device labelled for less than `depth` (422 naming
/// `needle_depth_mm` and the consumable).
pub(crate) async fn plan(
    db: &impl ConnectionTrait,
    org: Uuid,
    requests: &[ConsumableRequest],
    depth: NeedleDepth,
    device_kind: DeviceKind,
) -> Result<Plan> {
    let mut errors = ValidationErrors::new();
    if requests.len() > MAX_CONSUMABLES {
        errors.add(
            "consumables",
            format!("must list at most {MAX_CONSUMABLES}"),
        );
    }
    for (i, c) in requests.iter().enumerate() {
        if !(1..=MAX_UNITS).contains(&c.quantity) {
            errors.add(
                format!("consumables[{i}].quantity"),
                format!("must be between 1 and {MAX_UNITS}"),
            );
        } else if c.serial.is_some() && c.quantity != 1 {
            errors.add(
                format!("consumables[{i}].quantity"),
                "must be 1 with a serial: a serial names one unit",
            );
        }
        if let Some(serial) = &c.serial
            && requests[..i]
                .iter()
                .any(|o| o.product_id == c.product_id && o.serial.as_ref() == Some(serial))
        {
            errors.add(format!("consumables[{i}].serial"), "is listed twice");
        }
    }
    errors.into_result()?;

    let mut errors = ValidationErrors::new();
    let ids: Vec<Uuid> = requests.iter().map(|c| c.product_id).collect();
    let found: HashMap<Uuid, product_row::Model> = products::by_ids(db, org, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut planned = Vec::with_capacity(requests.len());
    let mut needle_devices = 0;
    for (index, c) in requests.iter().enumerate() {
        let product = found
            .get(&c.product_id)
            .cloned()
            .ok_or(Error::NotFound("product"))?;
        let kind = *product.kind;
        if kind.is_single_use_needle_device() {
            needle_devices += 1;
            check_depth(&mut errors, Some(index), &product, depth)?;
            check_kind(&mut errors, Some(index), &product, kind, device_kind);
        }
        planned.push(Planned {
            index,
            product,
            serial: c.serial.clone(),
            lot_id: c.lot_id,
            quantity: i64::from(c.quantity),
        });
    }
    if needle_devices == 0 {
        errors.add(
            "consumables",
            "must name at least one single-use needle device (a roller or a pen cartridge)",
        );
    }
    errors.into_result()?;
    Ok(Plan(planned))
}

/// Records an error when `depth` is beyond the labelled maximum of a needle device, naming
/// `needle_depth_mm` and, when the device was sent in this request, `consumables[index]`.
fn check_depth(
    errors: &mut ValidationErrors,
    index: Option<usize>,
    product: &product_row::Model,
    depth: NeedleDepth,
) -> Result<()> {
    if let Some(max) = max_depth(product)?
        && depth > max
    {
        errors.add(
            "needle_depth_mm",
            format!(
                "{depth} is deeper than the {max} labelled for {}",
                product.name
            ),
        );
        if let Some(index) = index {
            errors.add(
                format!("consumables[{index}]"),
                format!("{} is labelled for at most {max}", product.name),
            );
        }
    }
    Ok(())
}

/// Records an error when a needle device is not of the treatment's kind, naming `device_kind`
/// and, when the device was sent in this request, `consumables[index].product_id`.
fn check_kind(
    errors: &mut ValidationErrors,
    index: Option<usize>,
    product: &product_row::Model,
    kind: ProductKind,
    device_kind: DeviceKind,
) {
    if kind.device_kind() != Some(device_kind) {
        errors.add(
            "device_kind",
            format!("is `{device_kind}`, but {} is a `{kind}`", product.name),
        );
        if let Some(index) = index {
            errors.add(
                format!("consumables[{index}].product_id"),
                format!("is a `{kind}`, not a device for a `{device_kind}` session"),
            );
        }
    }
}

/// Checks a new device kind against the needle devices a treatment consumed.
pub(crate) async fn check_device_kind_of_treatment(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment_id: Uuid,
    device_kind: DeviceKind,
) -> Result<()> {
    let used = consumables::of_treatments(db, org, &[treatment_id]).await?;
    let ids: Vec<Uuid> = used.iter().map(|c| c.product_id).collect();
    let mut errors = ValidationErrors::new();
    for product in products::by_ids(db, org, &ids).await? {
        let kind = *product.kind;
        if kind.is_single_use_needle_device() {
            check_kind(&mut errors, None, &product, kind, device_kind);
        }
    }
    Ok(errors.into_result()?)
}

/// Checks a new depth against the needle devices a treatment consumed (a draft's depth may be
/// corrected, but never beyond what the device allows).
pub(crate) async fn check_depth_of_treatment(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment_id: Uuid,
    depth: NeedleDepth,
) -> Result<()> {
    let used = consumables::of_treatments(db, org, &[treatment_id]).await?;
    let ids: Vec<Uuid> = used.iter().map(|c| c.product_id).collect();
    let mut errors = ValidationErrors::new();
    for product in products::by_ids(db, org, &ids).await? {
        if product.kind.is_single_use_needle_device() {
            check_depth(&mut errors, None, &product, depth)?;
        }
    }
    Ok(errors.into_result()?)
}

/// The refusal for a FEFO error on consumable `index`.
fn refusal(error: FefoError, planned: &Planned) -> Error {
    let what = &planned.product.name;
    let detail = match error {
        FefoError::OutOfStock { available } => {
            format!("not enough {what} at this clinic: {available} usable units")
        }
        FefoError::LotExpired => format!("the {what} on hand are past their expiry date"),
        FefoError::LotRecalled => format!("the {what} on hand are from a recalled lot"),
        FefoError::LotOnHold => {
            format!("the lot of {what} named is on hold after an adverse-event signal")
        }
    };
    Error::Conflict {
        code: error.code(),
        detail,
        extra: Some(serde_json::json!({
            "consumable": planned.index,
            "product_id": planned.product.id,
        })),
    }
}

fn serial_used(planned: &Planned) -> Error {
    Error::Conflict {
        code: ErrorCode::SerialAlreadyUsed,
        detail: "this serial was consumed before; a single-use unit is never used twice".into(),
        extra: Some(serde_json::json!({
            "consumable": planned.index,
            "product_id": planned.product.id,
        })),
    }
}

/// What each of the given treatments consumed.
pub(crate) async fn consumed_by(
    db: &impl ConnectionTrait,
    org: Uuid,
    treatment_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ConsumedUnit>>> {
    let rows = consumables::of_treatments(db, org, treatment_ids).await?;
    let lot_ids: Vec<Uuid> = rows.iter().map(|r| r.lot_id).collect();
    let lots: HashMap<Uuid, lot_row::Model> = lots::by_ids(db, org, &lot_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut answer: HashMap<Uuid, Vec<ConsumedUnit>> = HashMap::new();
    for row in rows {
        let lot = lots
            .get(&row.lot_id)
            .ok_or_else(|| Error::Internal("consumption of a missing lot".into()))?;
        answer
            .entry(row.treatment_id)
            .or_default()
            .push(ConsumedUnit {
                product_id: row.product_id,
                lot_id: row.lot_id,
                lot_number: lot.lot_number.clone(),
                expiry: lot.expiry,
                serial: row.serial,
                quantity: i64::from(row.quantity),
            });
    }
    Ok(answer)
}
