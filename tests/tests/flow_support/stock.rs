//! Stock over REST: a roller product, lots received, stock and movements, and their ledger.

use std::collections::HashMap;

use chrono::NaiveDate;
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Rest;
use super::reading::{next_year, uuid_at};

/// A GTIN-14 ending in `n`, with a valid check digit.
pub fn gtin(n: u64) -> String {
    let body = format!("0950600{:06}", n % 1_000_000);
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let digit = c.to_digit(10).unwrap_or(0);
            if i % 2 == 0 { digit * 3 } else { digit }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A date as GS1 (17)/(11) write it.
pub fn yymmdd(date: NaiveDate) -> String {
    date.format("%y%m%d").to_string()
}

/// Adds a 0.5 mm single-use roller to the catalogue; answers its id.
pub async fn create_roller(api: &Rest, token: &str, gtin: &str) -> Uuid {
    api.post(
        "/v1/products",
        token,
        &json!({
            "kind": "roller",
            "name": format!("Roller 0.5 mm {gtin}"),
            "maker": "Dermaroll GmbH",
            "gtin": gtin,
            "needle_length_mm": 0.5,
            "needle_count": 192,
        }),
    )
    .await
    .expect_status(201)
    .id()
}

/// Receives `quantity` units of `lot_number` of a product at `clinic` by typed fields; answers
/// the receipt.
pub async fn receive(
    api: &Rest,
    token: &str,
    clinic: Uuid,
    product: Uuid,
    lot_number: &str,
    quantity: u32,
) -> Value {
    api.post(
        &format!("/v1/clinics/{clinic}/receipts"),
        token,
        &json!({ "product_id": product, "lot_number": lot_number, "expiry": next_year(),
                 "quantity": quantity }),
    )
    .await
    .expect_status(201)
    .json()
}

/// A clinic's counts of one lot: on hand, quarantined, in transit out (zeros when the stock
/// answer leaves the lot out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// On the shelf, usable.
    pub on_hand: i64,
    /// Held back by a recall.
    pub quarantined: i64,
    /// Sent and not yet received.
    pub in_transit_out: i64,
}

/// A lot's counts at a clinic, from `GET /v1/clinics/{id}/stock`; also checks that the lot's
/// status there is `status` when it is listed.
pub async fn stock_of(
    api: &Rest,
    token: &str,
    clinic: Uuid,
    lot: Uuid,
) -> (Counts, Option<String>) {
    let stock = api
        .get(&format!("/v1/clinics/{clinic}/stock"), token)
        .await
        .expect_status(200)
        .json();
    let lot = lot.to_string();
    for product in stock["products"].as_array().into_iter().flatten() {
        for entry in product["lots"].as_array().into_iter().flatten() {
            if entry["lot_id"] == lot.as_str() {
                let count = |f: &str| {
                    entry[f]
                        .as_i64()
                        .unwrap_or_else(|| panic!("no {f} in {entry}"))
                };
                return (
                    Counts {
                        on_hand: count("on_hand"),
                        quarantined: count("quarantined"),
                        in_transit_out: count("in_transit_out"),
                    },
                    entry["status"].as_str().map(str::to_owned),
                );
            }
        }
    }
    (Counts::default(), None)
}

/// Every movement of a clinic's ledger, read page by page with `limit`.
pub async fn movements(api: &Rest, token: &str, clinic: Uuid, limit: u32) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/clinics/{clinic}/movements?limit={limit}&cursor={c}"),
            None => format!("/v1/clinics/{clinic}/movements?limit={limit}"),
        };
        let page = api.get(&path, token).await.expect_status(200).json();
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assert!(
            items.len() <= limit as usize,
            "a page over its limit: {page}"
        );
        all.extend(items);
        pages += 1;
        assert!(pages < 1_000, "the movements never end");
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// The sums of a clinic's movements per lot.
pub fn sums_by_lot(movements: &[Value]) -> HashMap<Uuid, Counts> {
    let mut sums: HashMap<Uuid, Counts> = HashMap::new();
    for m in movements {
        let entry = sums.entry(uuid_at(m, "lot_id")).or_default();
        let delta = |f: &str| m[f].as_i64().unwrap_or_else(|| panic!("no {f} in {m}"));
        entry.on_hand += delta("quantity");
        entry.quarantined += delta("quarantined_delta");
        entry.in_transit_out += delta("in_transit_delta");
    }
    sums
}

/// Checks that a clinic's ledger adds up to its stock of `lot`.
pub async fn assert_ledger_matches_stock(
    api: &Rest,
    token: &str,
    clinic: Uuid,
    lot: Uuid,
) -> Counts {
    let (stock, _) = stock_of(api, token, clinic, lot).await;
    let ledger = sums_by_lot(&movements(api, token, clinic, 7).await)
        .get(&lot)
        .copied()
        .unwrap_or_default();
    assert_eq!(
        ledger, stock,
        "the movements of lot {lot} at clinic {clinic} do not add up to its stock"
    );
    stock
}
