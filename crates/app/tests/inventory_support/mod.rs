//! Set-up for the inventory tests: products, deliveries, eligible clients, treatments that
//! consume given devices, and the check that every balance is the sum of its movements.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use skinledger_app::consumption::ConsumableRequest;
use skinledger_app::lots::Balance;
use skinledger_app::products::{NewProduct, Product};
use skinledger_app::receipts::{Receipt, ReceiptRequest};
use skinledger_app::stock::MovementQuery;
use skinledger_app::treatments::NewTreatment;
use skinledger_app::{Actor, App, Error, PageParams};
use skinledger_domain::gtin::Gtin;
use skinledger_domain::inventory::{LotNumber, ProductKind, Serial};
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::entities::lot;
use uuid::Uuid;

use crate::clinical_support::{World, mm, today, treatment};

/// A single-use roller with needles of `length_mm`, labelled for that depth.
pub fn roller(name: &str, length_mm: f64) -> NewProduct {
    NewProduct {
        kind: ProductKind::Roller,
        name: name.into(),
        maker: "Dermaroll GmbH".into(),
        gtin: None,
        needle_length_mm: Some(mm(length_mm)),
        needle_count: Some(192),
        max_depth_mm: None,
        single_use: None,
        reorder_point: None,
        clinic_reorder_points: Vec::new(),
    }
}

/// A GTIN that must parse.
pub fn gtin(digits: &str) -> Gtin {
    Gtin::parse(digits).expect("a GTIN")
}

/// A lot number that must parse.
pub fn lot_no(text: &str) -> LotNumber {
    LotNumber::parse(text).expect("a lot number")
}

/// A serial that must parse.
pub fn serial(text: &str) -> Serial {
    Serial::parse(text).expect("a serial")
}

/// Adds a product that must be accepted.
pub async fn add_product(app: &App, actor: &Actor, new: NewProduct) -> Product {
    app.create_product(actor, new, None)
        .await
        .expect("product created")
}

/// Receives `quantity` units of a new or known lot that must be accepted.
pub async fn receive(
    app: &App,
    actor: &Actor,
    clinic: Uuid,
    product: Uuid,
    lot_number: &str,
    expiry: NaiveDate,
    quantity: u32,
) -> Receipt {
    app.receive_stock(
        actor,
        clinic,
        ReceiptRequest {
            product_id: Some(product),
            lot_number: Some(lot_no(lot_number)),
            expiry: Some(expiry),
            quantity: Some(quantity),
            ..ReceiptRequest::default()
        },
        None,
    )
    .await
    .expect("delivery received")
}

/// One unit of `product`, first expiry first out.
pub fn one_of(product: Uuid) -> ConsumableRequest {
    ConsumableRequest {
        product_id: product,
        serial: None,
        lot_id: None,
        quantity: 1,
    }
}

/// A treatment today at `clinic` with a 0.5 mm needle consuming `consumables`.
pub fn treatment_using(
    clinic: Uuid,
    client: Uuid,
    consumables: Vec<ConsumableRequest>,
) -> NewTreatment {
    NewTreatment {
        consumables,
        ..treatment(clinic, client, 0.5, today())
    }
}

/// A client screened today with nothing to report, so they may be treated now.
pub async fn eligible_client(w: &World, actor: &Actor, first: &str, last: &str) -> Uuid {
    let client = w.client(actor, first, last).await;
    w.screening(actor, client.id, today(), ScreeningAnswers::default())
        .await;
    client.id
}

/// Moves a lot's expiry date, as the passing of time would: lots are never received expired.
pub async fn set_expiry(app: &App, lot_id: Uuid, expiry: NaiveDate) {
    lot::Entity::update_many()
        .col_expr(lot::Column::Expiry, Expr::value(expiry))
        .filter(lot::Column::Id.eq(lot_id))
        .exec(app.db().write())
        .await
        .expect("expiry moved");
}

/// The code of an error, asserting it is a 409.
pub fn conflict_code(error: &Error) -> &'static str {
    match error {
        Error::Conflict { code, .. } => code.as_str(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// The units of one lot at a clinic, as the stock view shows them (zero when not listed).
pub async fn balance_of(app: &App, actor: &Actor, clinic: Uuid, lot_id: Uuid) -> Balance {
    balances(app, actor, clinic)
        .await
        .remove(&lot_id)
        .unwrap_or_default()
}

/// Every lot's units at a clinic, as the stock view shows them.
pub async fn balances(app: &App, actor: &Actor, clinic: Uuid) -> BTreeMap<Uuid, Balance> {
    let stock = app
        .get_clinic_stock(actor, clinic)
        .await
        .expect("stock readable");
    let mut found = BTreeMap::new();
    for product in stock.products {
        for lot in product.lots {
            found.insert(lot.lot_id, lot.balance);
        }
    }
    found
}

/// The sums of every movement at a clinic, per lot.
pub async fn movement_sums(app: &App, actor: &Actor, clinic: Uuid) -> BTreeMap<Uuid, Balance> {
    let mut sums: BTreeMap<Uuid, Balance> = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = app
            .list_movements(
                actor,
                clinic,
                &MovementQuery::default(),
                &PageParams {
                    limit: Some(200),
                    cursor,
                },
            )
            .await
            .expect("movements listed");
        for m in page.items {
            let sum = sums.entry(m.lot_id).or_default();
            sum.on_hand += m.quantity;
            sum.quarantined += m.quarantined_delta;
            sum.in_transit_out += m.in_transit_delta;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return sums,
        }
    }
}

/// Asserts that at `clinic` every balance equals the sum of its movements and no count is
/// below zero.
pub async fn assert_ledger_holds(app: &App, actor: &Actor, clinic: Uuid) {
    let sums = movement_sums(app, actor, clinic).await;
    let balances = balances(app, actor, clinic).await;
    let lots: BTreeSet<Uuid> = sums.keys().chain(balances.keys()).copied().collect();
    for lot in lots {
        let sum = sums.get(&lot).copied().unwrap_or_default();
        let balance = balances.get(&lot).copied().unwrap_or_default();
        assert_eq!(sum, balance, "lot {lot} at clinic {clinic}");
        assert!(
            balance.on_hand >= 0 && balance.quarantined >= 0 && balance.in_transit_out >= 0,
            "negative balance {balance:?} of lot {lot} at clinic {clinic}"
        );
    }
}
