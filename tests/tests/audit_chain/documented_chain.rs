//! An integrator verifies the chain and recomputes an exported period from the docs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, TestServer, e2e_on_both_backends, grant};

use crate::flow_support::{Rest, add_staff, register_client, uuid_at};
use crate::{
    GENESIS, assert_documented_chain, audit_log, documented_hash, reads_and_a_refusal, settled_head,
};

e2e_on_both_backends!(
    an_integrator_verifies_the_chain_and_recomputes_an_exported_period_from_the_documentation,
);

fn ids<'a>(events: impl Iterator<Item = &'a Value>) -> BTreeSet<String> {
    events
        .map(|e| e["id"].as_str().expect("an id").to_owned())
        .collect()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

async fn an_integrator_verifies_the_chain_and_recomputes_an_exported_period_from_the_documentation(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let api = Rest::of(&server);
    let org = server.create_org("glow").await;
    let admin = org.admin_token.clone();
    let clinic = server.create_clinic(&admin, "Glow Mitte").await;
    let nurse = add_staff(
        &api,
        "glow",
        &admin,
        "nurse@glow.test",
        &[grant(Role::Nurse, Some(clinic))],
    )
    .await;
    let ada = uuid_at(
        &register_client(&api, &nurse.token, "Ada", "Lovelace").await,
        "id",
    );
    reads_and_a_refusal(&api, &admin, &nurse, ada).await;

    // The period exported: a write, reads, a refusal.
    pause().await;
    let from = Utc::now();
    pause().await;
    let grace = uuid_at(
        &register_client(&api, &nurse.token, "Grace", "Hopper").await,
        "id",
    );
    reads_and_a_refusal(&api, &admin, &nurse, grace).await;
    pause().await;
    let to = Utc::now();
    pause().await;
    server.create_clinic(&admin, "Glow Nord").await;

    let head = settled_head(&[&api], &admin).await;
    let n = head["seq"].as_i64().expect("a seq");
    assert_eq!(head["hash"].as_str().map(str::len), Some(64), "{head}");

    // The whole log: numbered 1..n, and every hash recomputable from the documentation.
    let log = audit_log(&api, &admin).await;
    assert_eq!(log.len() as i64, n, "the head counts every event");
    assert_documented_chain(&log);
    let last = log.iter().find(|e| e["seq"] == n).expect("the last event");
    assert_eq!(last["hash"], head["hash"]);

    // The walk of the server agrees.
    let verified = api
        .get("/v1/audit/verify", &admin)
        .await
        .expect_status(200)
        .json();
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(verified["events_checked"], n);
    assert_eq!(verified["head"], head);
    assert_eq!(verified["broken"], Value::Null);

    // Anchors: the head and an earlier event hold; a hash the chain never had does not.
    let hash = head["hash"].as_str().expect("a hash");
    let second = log.iter().find(|e| e["seq"] == 2).expect("event 2");
    for (seq, anchor) in [
        (n, hash.to_owned()),
        (2, second["hash"].as_str().expect("a hash").to_owned()),
    ] {
        let anchored = api
            .get(
                &format!("/v1/audit/verify?anchor_seq={seq}&anchor_hash={anchor}"),
                &admin,
            )
            .await
            .expect_status(200)
            .json();
        assert_eq!(anchored["verified"], true, "anchor {seq}: {anchored}");
    }
    let flipped = format!(
        "{}{}",
        &hash[..63],
        if hash.ends_with('0') { '1' } else { '0' }
    );
    let mismatch = api
        .get(
            &format!("/v1/audit/verify?anchor_seq={n}&anchor_hash={flipped}"),
            &admin,
        )
        .await
        .expect_status(200)
        .json();
    assert_eq!(mismatch["verified"], false, "{mismatch}");
    assert_eq!(mismatch["broken"]["problem"], "anchor_mismatch");
    assert_eq!(mismatch["broken"]["seq"], n);

    // Half an anchor, or a malformed one, is refused.
    for (query, field) in [
        ("anchor_seq=1".to_owned(), "anchor_hash"),
        (format!("anchor_hash={hash}"), "anchor_seq"),
        (
            "anchor_seq=1&anchor_hash=not-a-hash".to_owned(),
            "anchor_hash",
        ),
    ] {
        let refused = api
            .get(&format!("/v1/audit/verify?{query}"), &admin)
            .await
            .expect_status(422);
        assert_eq!(refused.code().as_deref(), Some("validation_failed"));
        assert!(
            refused.invalid_fields().iter().any(|f| f == field),
            "{query}: {}",
            refused.text()
        );
    }

    // Only an org_admin reads the chain.
    for path in ["/v1/audit/head", "/v1/audit/verify", "/v1/audit-events"] {
        let denied = api.get(path, &nurse.token).await.expect_status(403);
        assert_eq!(denied.code().as_deref(), Some("forbidden"), "{path}");
    }

    // The export of the period as JSON Lines.
    let exported = api
        .send(
            api.request(
                reqwest::Method::GET,
                &format!("/v1/audit-events?from={}&to={}", rfc3339(from), rfc3339(to)),
                &admin,
            )
            .header("accept", "application/jsonl"),
        )
        .await
        .expect_status(200);
    let content_type = exported.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/jsonl"),
        "{content_type}"
    );
    let body = exported.text();
    assert!(body.ends_with('\n'), "every line ends with a newline");
    let lines: Vec<&str> = body.lines().collect();
    let events: Vec<Value> = lines
        .iter()
        .map(|line| {
            let event: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a line that is not JSON ({e}): {line}"));
            assert!(event.is_object(), "one object per line: {line}");
            event
        })
        .collect();

    // Exactly the events of the period.
    let in_period = |e: &Value| {
        let at = DateTime::parse_from_rfc3339(e["occurred_at"].as_str().expect("a time"))
            .expect("a time")
            .to_utc();
        from <= at && at < to
    };
    assert!(events.iter().all(in_period), "an event outside the period");
    assert_eq!(
        ids(events.iter()),
        ids(log.iter().filter(|e| in_period(e))),
        "the export holds the period's events"
    );
    let actions: BTreeSet<&str> = events
        .iter()
        .map(|e| e["action"].as_str().expect("an action"))
        .collect();
    for action in ["client.create", "client.read", "clinic.create"] {
        assert!(actions.contains(action), "{action} in {actions:?}");
    }
    assert!(
        (events.len() as i64) < n,
        "events before and after the period are left out"
    );

    // Each exported event's hash recomputed from its line alone, following the documentation,
    // and linked to the event before it (in the export, or before the period).
    let hashes: BTreeMap<i64, &Value> = log
        .iter()
        .chain(&events)
        .map(|e| (e["seq"].as_i64().expect("a seq"), &e["hash"]))
        .collect();
    let genesis = json!(GENESIS);
    for (line, event) in lines.iter().zip(&events) {
        assert_eq!(
            documented_hash(event),
            event["hash"].as_str().expect("a hash"),
            "recomputed from the export: {line}"
        );
        // The detail object is compact, its members in the order the line gives them.
        if !event["detail"].is_null() {
            let compact = serde_json::to_string(&event["detail"]).expect("JSON");
            assert!(
                line.contains(&format!("\"detail\":{compact}")),
                "{compact} in {line}"
            );
        }
        let seq = event["seq"].as_i64().expect("a seq");
        let before = if seq == 1 {
            &genesis
        } else {
            hashes.get(&(seq - 1)).expect("the event before")
        };
        assert_eq!(&event["prev_hash"], before, "the link of event {seq}");
    }
    assert!(
        events.iter().any(|e| !e["detail"].is_null()),
        "a refusal with its detail is exported"
    );

    // A period that is not one is refused.
    for query in [("from", "yesterday"), ("to", "2026-13-01T00:00:00Z")] {
        let refused = api
            .send(
                api.request(
                    reqwest::Method::GET,
                    &format!("/v1/audit-events?{}={}", query.0, query.1),
                    &admin,
                )
                .header("accept", "application/jsonl"),
            )
            .await
            .expect_status(422);
        assert_eq!(refused.code().as_deref(), Some("validation_failed"));
        assert_eq!(refused.invalid_fields(), vec![query.0.to_owned()]);
    }
    server.stop().await;
}
