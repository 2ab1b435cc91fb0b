//! Receiving deliveries at a clinic: typed in field by field, or scanned from the box as a GS1
//! element string. The lot is found or created by its lot number, and the balance, the
//! movement, any serials and the audit event are written in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use skinledger_domain::ValidationErrors;
use skinledger_domain::gs1;
use skinledger_domain::gtin::Gtin;
use skinledger_domain::inventory::{
    LotNumber, LotStatus, MovementKind, Serial, Withdrawal, is_expired_on,
};
use skinledger_domain::permission::{Action, Scope};
use skinledger_store::entities::{lot as lot_row, product as product_row, unit as unit_row};
use skinledger_store::{clinics, is_unique_violation, lots, products, units};
use uuid::Uuid;

use crate::App;
use crate::ErrorCode;
use crate::actor::Actor;
use crate::audit::{AuditEvent, Subject};
use crate::clinics::{active_clinic, clinic_inactive, timezone_of};
use crate::error::{Error, Result};
use crate::events::{Change, EventData};
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{self, Entry};
use crate::lots::{Balance, Lot};
use crate::text::optional_text;
use skinledger_domain::events::EventType;

/// Most units received in one receipt.
const MAX_RECEIPT_UNITS: u32 = 100_000;
/// Most serials listed in one receipt.
const MAX_SERIALS: usize = 1_000;

/// A delivery received at a clinic, as sent: either `gs1` (the element string a scanner sends,
/// bracketed or raw) or the fields `product_id` or `gtin`, `lot_number` and `expiry`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// The product received (or `gtin`).
    #[serde(default)]
    pub product_id: Option<Uuid>,
    /// The product's GTIN (or `product_id`).
    #[serde(default)]
    pub gtin: Option<Gtin>,
    /// The maker's lot number.
    #[serde(default)]
    pub lot_number: Option<LotNumber>,
    /// The lot's expiry date.
    #[serde(default)]
    pub expiry: Option<NaiveDate>,
    /// Units received; the number of serials when absent, or 1 without serials.
    #[serde(default)]
    pub quantity: Option<u32>,
    /// Serial numbers of the units, one each, when they carry them.
    #[serde(default)]
    pub serials: Vec<Serial>,
    /// The scanned element string, e.g. `(01)09506000134352(17)281231(10)L2407A`.
    #[serde(default)]
    pub gs1: Option<String>,
    /// The delivery note or order number.
    #[serde(default)]
    pub reference: Option<String>,
    /// When the delivery arrived, when it is entered late: not in the future, and at most the
    /// policy's `max_backdate_days` ago. Now when absent. Sessions can use its units from then.
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
}

/// A delivery as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Receipt {
    /// The movement it was written as.
    pub movement_id: Uuid,
    /// Where it was received.
    pub clinic_id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The lot, created by this receipt or found by its number.
    pub lot: Lot,
    /// Units received.
    pub quantity: i64,
    /// Their serials, if given.
    pub serials: Vec<String>,
    /// The delivery note or order number.
    pub reference: Option<String>,
    /// The lot's units at the clinic afterwards.
    pub balance: Balance,
    /// When it was recorded.
    pub received_at: DateTime<Utc>,
}

/// How the request names the product.
enum ProductRef {
    Id(Uuid),
    Gtin { gtin: Gtin, field: &'static str },
}

/// A receipt request, checked.
struct ParsedReceipt {
    product: ProductRef,
    lot_number: LotNumber,
    expiry: NaiveDate,
    quantity: i64,
    serials: Vec<Serial>,
    reference: Option<String>,
    /// The field a wrong lot or expiry is reported on: `gs1` or the field itself.
    from_gs1: bool,
}

impl ParsedReceipt {
    fn field(&self, field: &'static str) -> &'static str {
        if self.from_gs1 { "gs1" } else { field }
    }

    fn parse(req: &ReceiptRequest) -> Result<Self> {
        let mut errors = ValidationErrors::new();
        let mut serials = req.serials.clone();
        let (product, lot_number, expiry) = match &req.gs1 {
            Some(raw) => {
                for (field, sent) in [
                    ("product_id", req.product_id.is_some()),
                    ("gtin", req.gtin.is_some()),
                    ("lot_number", req.lot_number.is_some()),
                    ("expiry", req.expiry.is_some()),
                ] {
                    if sent {
                        errors.add(field, "must not be sent with gs1");
                    }
                }
                let data = gs1::parse(raw).map_err(|e| Error::invalid("gs1", e.to_string()))?;
                if data.gtin.is_none() {
                    errors.add("gs1", "carries no (01) GTIN");
                }
                if data.expiry.is_none() {
                    errors.add("gs1", "carries no (17) expiry date");
                }
                let lot = match &data.lot {
                    Some(lot) => errors.check("gs1", LotNumber::parse(lot)),
                    None => {
                        errors.add("gs1", "carries no (10) lot number");
                        None
                    }
                };
                if let Some(serial) = &data.serial {
                    if serials.is_empty() {
                        serials.extend(errors.check("gs1", Serial::parse(serial)));
                    } else {
                        errors.add("serials", "must not be sent when gs1 carries (21)");
                    }
                }
                let product = data
                    .gtin
                    .map(|gtin| ProductRef::Gtin { gtin, field: "gs1" });
                (product, lot, data.expiry)
            }
            None => {
                let product = match (req.product_id, &req.gtin) {
                    (Some(id), None) => Some(ProductRef::Id(id)),
                    (None, Some(gtin)) => Some(ProductRef::Gtin {
                        gtin: gtin.clone(),
                        field: "gtin",
                    }),
                    (Some(_), Some(_)) => {
                        errors.add("gtin", "send product_id or gtin, not both");
                        None
                    }
                    (None, None) => {
                        errors.add("product_id", "is required, unless gtin or gs1 is sent");
                        None
                    }
                };
                if req.lot_number.is_none() {
                    errors.add("lot_number", "is required, unless gs1 is sent");
                }
                if req.expiry.is_none() {
                    errors.add("expiry", "is required, unless gs1 is sent");
                }
                (product, req.lot_number.clone(), req.expiry)
            }
        };
        if serials.len() > MAX_SERIALS {
            errors.add("serials", format!("must list at most {MAX_SERIALS}"));
        }
        for (i, serial) in serials.iter().enumerate() {
            if serials[..i].contains(serial) {
                errors.add(format!("serials[{i}]"), "is listed twice");
            }
        }
        let default = u32::try_from(serials.len().max(1)).unwrap_or(u32::MAX);
        let quantity = req.quantity.unwrap_or(default);
        if !(1..=MAX_RECEIPT_UNITS).contains(&quantity) {
            errors.add(
                "quantity",
                format!("must be between 1 and {MAX_RECEIPT_UNITS}"),
            );
        } else if !serials.is_empty() && quantity as usize != serials.len() {
            errors.add(
                "quantity",
                format!("must equal the number of serials, {}", serials.len()),
            );
        }
        let reference = optional_text(&mut errors, "reference", req.reference.as_deref(), 100);
        errors.into_result()?;
        let (Some(product), Some(lot_number), Some(expiry)) = (product, lot_number, expiry) else {
            return Err(Error::Internal("validated receipt fields missing".into()));
        };
        Ok(Self {
            product,
            lot_number,
            expiry,
            quantity: i64::from(quantity),
            serials,
            reference,
            from_gs1: req.gs1.is_some(),
        })
    }
}

/// Finds the product named by the request: 404 for an id that is not the organisation's, 422
/// naming the field for a GTIN not in the catalogue.
async fn resolve_product(
    db: &impl ConnectionTrait,
    org: Uuid,
    product: &ProductRef,
) -> Result<product_row::Model> {
    match product {
        ProductRef::Id(id) => crate::products::load(db, org, *id).await,
        ProductRef::Gtin { gtin, field } => products::by_gtin(db, org, gtin.as_str())
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    field,
                    format!("no product with GTIN {gtin} in the catalogue"),
                )
            }),
    }
}

/// The product's lot with this number, created when new, read under a shared lock (see
/// [`lots::get_shared`]) so that a recall cannot slip in before the units are added.
async fn find_or_create_lot(
    db: &impl ConnectionTrait,
    org: Uuid,
    product: Uuid,
    lot_number: &LotNumber,
    expiry: NaiveDate,
    serial_tracked: bool,
) -> Result<lot_row::Model> {
    let existing = lots::by_number(db, org, product, lot_number.as_str()).await?;
    let id = match existing {
        Some(lot) => lot.id,
        None => {
            lots::insert_if_absent(
                db,
                lot_row::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(org),
                    product_id: Set(product),
                    lot_number: Set(lot_number.as_str().to_owned()),
                    expiry: Set(expiry),
                    status: Set(LotStatus::Active.into()),
                    recalled_at: Set(None),
                    recalled_by: Set(None),
                    recall_reason: Set(None),
                    serial_tracked: Set(serial_tracked),
                    created_at: Set(Utc::now()),
                    held_at: Set(None),
                    hold_reason: Set(None),
                },
            )
            .await?;
            // Ours, or the one a concurrent receipt inserted first.
            lots::by_number(db, org, product, lot_number.as_str())
                .await?
                .ok_or_else(|| Error::Internal("lot vanished after insert".into()))?
                .id
        }
    };
    lots::get_shared(db, org, id)
        .await?
        .ok_or_else(|| Error::Internal("lot vanished".into()))
}

impl App {
    /// Receives a delivery at a clinic (its managers and `org_admin`).
    ///
    /// Refuses a GTIN not in the catalogue with 422 naming `gtin` or `gs1`, a lot already
    /// expired today with 409 `lot_expired`, a recalled lot with 409 `lot_recalled`, a known lot
    /// number with another expiry with 422 on `expiry` (or `gs1`), and a serial of the product
    /// received before with 409 `already_exists`.
    pub async fn receive_stock(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        request: ReceiptRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Receipt> {
        let subject = Subject::new("lot", None).clinic(clinic_id);
        self.audited(actor, "stock.receipt", subject, async move {
            let org = actor.org_id;
            let db = self.db().read();
            let clinic = clinics::get(db, org, clinic_id)
                .await?
                .ok_or(Error::NotFound("clinic"))?;
            actor.require(Action::StockManage, Scope::Clinic(clinic_id))?;
            if !clinic.active {
                return Err(clinic_inactive(&clinic));
            }
            let parsed = ParsedReceipt::parse(&request)?;
            let product = resolve_product(db, org, &parsed.product).await?;
            let today = timezone_of(&clinic).today();
            if is_expired_on(parsed.expiry, today) {
                return Err(Error::conflict(
                    ErrorCode::LotExpired,
                    format!(
                        "lot {} expired on {}; expired units are never received",
                        parsed.lot_number, parsed.expiry
                    ),
                ));
            }
            let sent_received_at = request.received_at;
            idempotency::run(
                self.db(),
                actor,
                key,
                "stock.receipt",
                &(clinic_id, &request),
                |txn| async move {
                    // Closed in the meantime?
                    active_clinic(&txn, org, clinic_id).await?;
                    let with_serials = !parsed.serials.is_empty();
                    let lot = find_or_create_lot(
                        &txn,
                        org,
                        product.id,
                        &parsed.lot_number,
                        parsed.expiry,
                        with_serials,
                    )
                    .await?;
                    // Once units of a lot arrive with serials, a serial named at a treatment
                    // must be one of those received: none is registered at use any more.
                    if with_serials && !lot.serial_tracked {
                        lots::mark_serial_tracked(&txn, org, lot.id).await?;
                    }
                    if lot.expiry != parsed.expiry {
                        return Err(Error::invalid(
                            parsed.field("expiry"),
                            format!(
                                "lot {} was received before with expiry {}",
                                lot.lot_number, lot.expiry
                            ),
                        ));
                    }
                    match lot.status.withdrawal() {
                        None => {}
                        Some(Withdrawal::Recalled) => {
                            return Err(Error::conflict(
                                ErrorCode::LotRecalled,
                                format!(
                                    "lot {} is recalled; its units are never received",
                                    lot.lot_number
                                ),
                            ));
                        }
                        Some(Withdrawal::OnHold) => return Err(crate::lots::on_hold(&lot)),
                    }
                    let now = Utc::now();
                    let unit_rows = parsed
                        .serials
                        .iter()
                        .map(|serial| unit_row::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            organization_id: Set(org),
                            product_id: Set(product.id),
                            lot_id: Set(lot.id),
                            serial: Set(serial.as_str().to_owned()),
                            clinic_id: Set(clinic_id),
                            status: Set(units::IN_STOCK.to_owned()),
                            treatment_id: Set(None),
                            transfer_id: Set(None),
                            created_at: Set(now),
                            updated_at: Set(now),
                        })
                        .collect();
                    match units::insert(&txn, unit_rows).await {
                        Ok(()) => {}
                        Err(e) if is_unique_violation(&e) => {
                            return Err(Error::conflict(
                                ErrorCode::AlreadyExists,
                                "a serial of this product was received before",
                            ));
                        }
                        Err(e) => return Err(e.into()),
                    }
                    let (_, policy) = crate::policy::current(&txn, org).await?;
                    let received_at = sent_received_at.unwrap_or_else(Utc::now);
                    let backdate = policy.max_backdate_days;
                    if received_at > Utc::now() + chrono::Duration::minutes(5) {
                        return Err(Error::invalid("received_at", "must not be in the future"));
                    }
                    if received_at < Utc::now() - chrono::Duration::days(i64::from(backdate)) {
                        return Err(Error::invalid(
                            "received_at",
                            format!("must not lie more than {backdate} days in the past"),
                        ));
                    }
                    let entry = Entry {
                        reference: parsed.reference.clone(),
                        occurred_at: Some(received_at),
                        ..Entry::new(
                            clinic_id,
                            lot.id,
                            MovementKind::Receipt,
                            ledger::on_hand(parsed.quantity),
                        )
                    };
                    let movement = ledger::post(&txn, actor, entry, None)
                        .await?
                        .ok_or_else(|| Error::Internal("a receipt was refused".into()))?;
                    txn.audit(
                        AuditEvent::by(actor, "stock.receipt", "lot", Some(lot.id)).detail(
                            serde_json::json!({
                                "clinic_id": clinic_id,
                                "product_id": product.id,
                                "lot_number": lot.lot_number,
                                "quantity": parsed.quantity,
                                "serials": parsed.serials.len(),
                                "reference": parsed.reference,
                            }),
                        ),
                    );
                    txn.publish(
                        org,
                        vec![
                            Change::new(EventType::StockReceived)
                                .clinic(clinic_id)
                                .lot(lot.id)
                                .subject(movement.id)
                                .data(EventData {
                                    product_id: Some(product.id),
                                    units: Some(parsed.quantity),
                                    ..EventData::default()
                                }),
                        ],
                    );
                    let balance = ledger::balance(&txn, org, clinic_id, lot.id).await?;
                    let answer = Receipt {
                        movement_id: movement.id,
                        clinic_id,
                        product_id: product.id,
                        lot: Lot::from_row(lot)?,
                        quantity: parsed.quantity,
                        serials: parsed
                            .serials
                            .iter()
                            .map(|s| s.as_str().to_owned())
                            .collect(),
                        reference: parsed.reference.clone(),
                        balance: balance.into(),
                        received_at: movement.created_at,
                    };
                    Ok((answer, txn))
                },
            )
            .await
        })
        .await
    }
}
