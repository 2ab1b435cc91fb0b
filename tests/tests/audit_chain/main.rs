//! The audit chain as those outside the server see it: an integrator verifies it over REST and
//! gRPC and recomputes every hash of an exported period from the export and the API
//! documentation alone; two `skinledger serve` processes appending at once on one PostgreSQL
//! database keep one chain; and `skinledger audit verify`, run as a process on a database whose
//! audit rows were changed, deleted or inserted with SQL, fails naming the event.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod documented_chain;
#[path = "../flow_support/mod.rs"]
mod flow_support;
mod grpc;
mod tampering;
mod two_processes;

use std::time::{Duration, Instant};

use chrono::DateTime;
use flow_support::{Rest, Staff};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use skinledger_app::read_audit::READ_AUDIT_FLUSH;
use uuid::Uuid;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The SHA-256 of an exported event, recomputed as docs/api.md ("The audit chain") describes
/// it, from the fields of the export and nothing else (no code of the server).
fn documented_hash(event: &Value) -> String {
    let field = |name: &str| {
        event
            .get(name)
            .unwrap_or_else(|| panic!("the export has no {name}: {event}"))
    };
    // Strings escaped as JSON does, absent values as `null`.
    let text = |name: &str| match field(name) {
        Value::Null => "null".to_owned(),
        Value::String(s) => serde_json::to_string(s).expect("a JSON string"),
        other => panic!("{name} is not a string: {other}"),
    };
    // Ids as lowercase hyphenated UUIDs.
    let id = |name: &str| match field(name) {
        Value::Null => "null".to_owned(),
        Value::String(s) => format!(
            "\"{}\"",
            Uuid::parse_str(s)
                .unwrap_or_else(|e| panic!("{name} is no UUID: {e}"))
                .hyphenated()
        ),
        other => panic!("{name} is not an id: {other}"),
    };
    // RFC 3339 UTC with exactly six fractional digits.
    let occurred_at = DateTime::parse_from_rfc3339(field("occurred_at").as_str().expect("a time"))
        .expect("an RFC 3339 time")
        .to_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    // A JSON string holding the detail object serialised compactly.
    let detail = match field("detail") {
        Value::Null => "null".to_owned(),
        object => serde_json::to_string(&serde_json::to_string(object).expect("compact JSON"))
            .expect("a JSON string"),
    };
    let seq = field("seq").as_i64().expect("seq is a number");
    let canonical = format!(
        "[{seq},{},{},{},{},{},{},{},{},{},{},{},{detail},{}]",
        text("prev_hash"),
        id("id"),
        id("organization_id"),
        serde_json::to_string(&occurred_at).expect("a JSON string"),
        text("actor_kind"),
        id("actor_id"),
        text("action"),
        text("entity_kind"),
        id("entity_id"),
        id("client_id"),
        text("outcome"),
        text("request_id"),
    );
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks that `events` (any order) form the chain from its first event, each hash recomputed
/// from the documentation and each linked to the one before.
fn assert_documented_chain(events: &[Value]) {
    let mut by_seq: Vec<&Value> = events.iter().collect();
    by_seq.sort_by_key(|e| e["seq"].as_i64());
    let mut prev = GENESIS.to_owned();
    for (n, event) in (1_i64..).zip(&by_seq) {
        assert_eq!(event["seq"], n, "numbers without a gap: {event}");
        assert_eq!(event["prev_hash"], prev.as_str(), "the link of event {n}");
        assert_eq!(
            documented_hash(event),
            event["hash"].as_str().expect("a hash"),
            "event {n} recomputed from the documentation: {event}"
        );
        prev = event["hash"].as_str().expect("a hash").to_owned();
    }
}

/// The whole audit log as JSON, page by page.
async fn audit_log(api: &Rest, token: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut path = "/v1/audit-events?limit=200".to_owned();
    loop {
        let page = api.get(&path, token).await.expect_status(200).json();
        events.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/audit-events?limit=200&cursor={cursor}"),
            None => return events,
        }
    }
}

/// The head once the background writers of every server in `apis` have written what was read
/// (it stays the same over two flush intervals).
async fn settled_head(apis: &[&Rest], token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = Value::Null;
    loop {
        tokio::time::sleep(READ_AUDIT_FLUSH * 3).await;
        let mut heads = Vec::new();
        for api in apis {
            heads.push(
                api.get("/v1/audit/head", token)
                    .await
                    .expect_status(200)
                    .json(),
            );
        }
        let head = heads[0].clone();
        if heads.iter().all(|h| *h == head) && head == last {
            return head;
        }
        assert!(
            Instant::now() < deadline,
            "the audit head kept moving: {head}"
        );
        last = head;
    }
}

/// A refused write (422, recorded with its detail) and a few audited reads of `client`.
async fn reads_and_a_refusal(api: &Rest, admin: &str, nurse: &Staff, client: Uuid) {
    for _ in 0..3 {
        api.get(&format!("/v1/clients/{client}"), &nurse.token)
            .await
            .expect_status(200);
    }
    let refused = api
        .post("/v1/clinics", admin, &json!({ "name": "" }))
        .await
        .expect_status(422);
    assert_eq!(refused.code().as_deref(), Some("validation_failed"));
}
