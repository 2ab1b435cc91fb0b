//! Reading answers: ids, dates, keys and items of a body, and a refusal's status and code.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use futures::StreamExt;
use serde_json::Value;
use skinledger_e2e::Answer;
use uuid::Uuid;

/// Today (UTC), as the server dates things.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A date `days` after `date`.
pub fn plus_days(date: NaiveDate, days: i64) -> NaiveDate {
    date + chrono::Duration::days(days)
}

/// An expiry date comfortably in the future.
pub fn next_year() -> NaiveDate {
    plus_days(today(), 400)
}

/// The `id` field of an answer body.
pub fn id_of(body: &Value) -> Uuid {
    body["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no id in {body}"))
}

/// A UUID field of a JSON value.
pub fn uuid_at(body: &Value, field: &str) -> Uuid {
    body[field]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no {field} in {body}"))
}

/// A `YYYY-MM-DD` date.
pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|_| panic!("not a date: {text}"))
}

/// A date field of a JSON value.
pub fn date_at(body: &Value, field: &str) -> NaiveDate {
    body[field]
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_else(|| panic!("no date {field} in {body}"))
}

/// The keys of a JSON object.
pub fn keys(body: &Value) -> BTreeSet<String> {
    body.as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .keys()
        .cloned()
        .collect()
}

/// The `items` of a list answer.
pub fn items(answer: &Answer) -> Vec<Value> {
    answer.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not a list: {}", answer.text()))
}

/// Checks a refusal's status and problem `code`.
#[track_caller]
pub fn assert_refused(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status.as_u16(), answer.code().as_deref()),
        (status, Some(code)),
        "expected {status} {code}, got {}: {}",
        answer.status,
        answer.text()
    );
}
