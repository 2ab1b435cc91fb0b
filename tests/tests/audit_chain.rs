//! The audit chain as those outside the server see it: an integrator verifies it over REST and
//! gRPC and recomputes every hash of an exported period from the export and the API
//! documentation alone; two `skinledger serve` processes appending at once on one PostgreSQL
//! database keep one chain; and `skinledger audit verify`, run as a process on a database whose
//! audit rows were changed, deleted or inserted with SQL, fails naming the event.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod flow_support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use flow_support::{Rest, Staff, add_staff, register_client, uuid_at};
use futures::future::join_all;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use skinledger_app::read_audit::READ_AUDIT_FLUSH;
use skinledger_domain::role::Role;
use skinledger_e2e::replica::{Replica, create_org_from_cli, run_cli};
use skinledger_e2e::{
    Backend, TestServer, authorized, e2e_on_both_backends, grant, pb, postgres_or_skip,
    server_binary, write_signing_key,
};
use skinledger_store::entities::audit_event;
use skinledger_store::testing::TestDb;
use uuid::Uuid;

e2e_on_both_backends!(
    an_integrator_verifies_the_chain_and_recomputes_an_exported_period_from_the_documentation,
    grpc_answers_the_head_and_the_verification_as_rest_does,
    a_row_changed_deleted_or_inserted_with_sql_fails_skinledger_audit_verify_at_its_number,
);

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

async fn grpc_answers_the_head_and_the_verification_as_rest_does(backend: Backend) {
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
    let head = settled_head(&[&api], &admin).await;
    let n = head["seq"].as_i64().expect("a seq");
    let hash = head["hash"].as_str().expect("a hash").to_owned();

    let mut audit = server.audit_grpc();
    let grpc_head = audit
        .get_audit_head(authorized(pb::GetAuditHeadRequest {}, &admin))
        .await
        .expect("the head")
        .into_inner();
    assert_eq!((grpc_head.seq, grpc_head.hash.as_str()), (n, hash.as_str()));

    let rest = api
        .get("/v1/audit/verify", &admin)
        .await
        .expect_status(200)
        .json();
    let verification = audit
        .verify_audit_chain(authorized(pb::VerifyAuditChainRequest::default(), &admin))
        .await
        .expect("a verification")
        .into_inner();
    assert!(verification.verified);
    assert_eq!(json!(verification.events_checked), rest["events_checked"]);
    assert_eq!(verification.events_checked, n as u64);
    assert_eq!(verification.head, Some(grpc_head.clone()));
    assert_eq!(verification.broken, None);

    let anchored = |seq: i64, hash: &str| {
        authorized(
            pb::VerifyAuditChainRequest {
                anchor_seq: Some(seq),
                anchor_hash: Some(hash.to_owned()),
            },
            &admin,
        )
    };
    let held = audit
        .verify_audit_chain(anchored(n, &hash))
        .await
        .expect("a verification")
        .into_inner();
    assert!(held.verified);
    let rest_mismatch = api
        .get(
            &format!("/v1/audit/verify?anchor_seq={n}&anchor_hash={GENESIS}"),
            &admin,
        )
        .await
        .expect_status(200)
        .json();
    let mismatch = audit
        .verify_audit_chain(anchored(n, GENESIS))
        .await
        .expect("a verification")
        .into_inner();
    assert!(!mismatch.verified);
    let broken = mismatch.broken.expect("a broken link");
    assert_eq!(
        (broken.seq, broken.problem.as_str()),
        (n, "anchor_mismatch")
    );
    assert_eq!(json!(broken.seq), rest_mismatch["broken"]["seq"]);
    assert_eq!(json!(broken.problem), rest_mismatch["broken"]["problem"]);

    let half = audit
        .verify_audit_chain(authorized(
            pb::VerifyAuditChainRequest {
                anchor_seq: Some(1),
                anchor_hash: None,
            },
            &admin,
        ))
        .await
        .expect_err("half an anchor is refused");
    assert_eq!(half.code(), tonic::Code::InvalidArgument);
    for denied in [
        audit
            .get_audit_head(authorized(pb::GetAuditHeadRequest {}, &nurse.token))
            .await
            .map(|_| ()),
        audit
            .verify_audit_chain(authorized(
                pb::VerifyAuditChainRequest::default(),
                &nurse.token,
            ))
            .await
            .map(|_| ()),
    ] {
        assert_eq!(
            denied.expect_err("refused").code(),
            tonic::Code::PermissionDenied
        );
    }

    // ListAuditEvents carries each event's number and hashes, as REST does.
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = audit
            .list_audit_events(authorized(
                pb::ListAuditEventsRequest {
                    limit: Some(5),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .expect("a page")
            .into_inner();
        listed.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let rest_log = audit_log(&api, &admin).await;
    assert_eq!(listed.len(), rest_log.len());
    assert_eq!(listed.len() as i64, n);
    for (grpc, rest) in listed.iter().zip(&rest_log) {
        assert_eq!(json!(grpc.id), rest["id"]);
        assert_eq!(grpc.organization_id, org.id.to_string());
        assert_eq!(json!(grpc.organization_id), rest["organization_id"]);
        assert_eq!(json!(grpc.seq), rest["seq"], "{grpc:?}");
        assert_eq!(json!(grpc.prev_hash), rest["prev_hash"], "{grpc:?}");
        assert_eq!(json!(grpc.hash), rest["hash"], "{grpc:?}");
    }
    let mut seqs: Vec<i64> = listed.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    server.stop().await;
}

/// `skinledger audit verify <args>`, run as a process on the test server's database.
async fn audit_verify(server: &TestServer, dir: &std::path::Path, args: &[&str]) -> Output {
    let binary = tokio::task::spawn_blocking(server_binary)
        .await
        .expect("the server binary is built");
    let key = server
        .config
        .signing_key_file
        .clone()
        .expect("the test server has a key file");
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    run_cli(&binary, &server.db.url, &key, dir, &all).await
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn assert_verified(output: &Output, line: &str) {
    assert!(
        output.status.success(),
        "exit {}: {}{}",
        output.status,
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout(output).contains(line),
        "{line} in {}",
        stdout(output)
    );
}

#[track_caller]
fn assert_broken(output: &Output, line: &str) {
    assert!(
        !output.status.success(),
        "a broken chain exits non-zero: {}",
        stdout(output)
    );
    assert!(
        stdout(output).contains(line),
        "{line} in {}",
        stdout(output)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("do not verify"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn a_row_changed_deleted_or_inserted_with_sql_fails_skinledger_audit_verify_at_its_number(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let api = Rest::of(&server);
    let glow = server.create_org("glow").await;
    let lumen = server.create_org("lumen").await;
    let admin = glow.admin_token.clone();
    let clinic = server.create_clinic(&admin, "Glow Mitte").await;
    server.create_clinic(&lumen.admin_token, "Lumen Nord").await;
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
    let head = settled_head(&[&api], &admin).await;
    let n = head["seq"].as_i64().expect("a seq");
    assert!(n >= 6, "{n} events");
    let hash = head["hash"].as_str().expect("a hash").to_owned();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = server.db.db.write();
    let glow_row = "organization_id = (SELECT id FROM organizations WHERE slug = 'glow')";

    // Untouched.
    let untouched = audit_verify(&server, dir.path(), &[]).await;
    assert_verified(
        &untouched,
        &format!("glow: verified {n} events; head {n} {hash}"),
    );
    assert!(stdout(&untouched).contains("lumen: verified"));

    // One event's action changed.
    let original: String = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT action FROM audit_events WHERE seq = 3 AND {glow_row}"),
        ))
        .await
        .expect("read")
        .expect("event 3")
        .try_get("", "action")
        .expect("an action");
    db.execute_unprepared(&format!(
        "UPDATE audit_events SET action = 'nothing.happened' WHERE seq = 3 AND {glow_row}"
    ))
    .await
    .expect("tampered");
    assert_broken(
        &audit_verify(&server, dir.path(), &["--org", "glow"]).await,
        "glow: BROKEN at 3: changed",
    );
    let everyone = audit_verify(&server, dir.path(), &[]).await;
    assert_broken(&everyone, "glow: BROKEN at 3: changed");
    assert!(
        stdout(&everyone).contains("lumen: verified"),
        "{}",
        stdout(&everyone)
    );
    assert_verified(
        &audit_verify(&server, dir.path(), &["--org", "lumen"]).await,
        "lumen: verified",
    );
    db.execute_unprepared(&format!(
        "UPDATE audit_events SET action = '{original}' WHERE seq = 3 AND {glow_row}"
    ))
    .await
    .expect("restored");
    assert_verified(
        &audit_verify(&server, dir.path(), &["--org", "glow"]).await,
        &format!("glow: verified {n} events"),
    );

    // One event deleted.
    let fourth = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(glow.id))
        .filter(audit_event::Column::Seq.eq(4))
        .one(db)
        .await
        .expect("read")
        .expect("event 4");
    db.execute_unprepared(&format!(
        "DELETE FROM audit_events WHERE seq = 4 AND {glow_row}"
    ))
    .await
    .expect("tampered");
    assert_broken(
        &audit_verify(&server, dir.path(), &["--org", "glow"]).await,
        "glow: BROKEN at 4: missing",
    );
    audit_event::ActiveModel::from(fourth.clone())
        .reset_all()
        .insert(db)
        .await
        .expect("restored");
    assert_verified(
        &audit_verify(&server, dir.path(), &["--org", "glow"]).await,
        &format!("glow: verified {n} events"),
    );

    // One event inserted after the last, well formed and linked: the head recorded does not
    // reach it.
    let mut forged = fourth;
    forged.id = Uuid::now_v7();
    forged.seq = n + 1;
    forged.prev_hash.clone_from(&hash);
    forged.hash = skinledger_domain::audit_chain::Link {
        seq: forged.seq,
        prev_hash: &forged.prev_hash,
        id: forged.id,
        organization_id: forged.organization_id,
        occurred_at: forged.occurred_at,
        actor_kind: &forged.actor_kind,
        actor_id: forged.actor_id,
        action: &forged.action,
        entity_kind: &forged.entity_kind,
        entity_id: forged.entity_id,
        client_id: forged.client_id,
        outcome: &forged.outcome,
        detail: forged.detail.as_deref(),
        request_id: forged.request_id.as_deref(),
    }
    .hash();
    audit_event::ActiveModel::from(forged)
        .reset_all()
        .insert(db)
        .await
        .expect("tampered");
    assert_broken(
        &audit_verify(&server, dir.path(), &["--org", "glow"]).await,
        &format!("glow: BROKEN at {}: inserted", n + 1),
    );
    server.stop().await;
}

/// Two `skinledger serve` processes on one PostgreSQL database, both taking writes, reads and
/// refusals of one organisation at once: the audit events of both (written in each write's
/// transaction, and by each process's background writer) form one chain, numbered 1..n
/// without a gap or a twin, that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_appending_at_once_keep_one_valid_chain() {
    if !postgres_or_skip("two_server_processes_appending_at_once_keep_one_valid_chain") {
        return;
    }
    const EACH: usize = 40;
    let db = TestDb::postgres()
        .await
        .expect("SKINLEDGER_TEST_POSTGRES_URL is set");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let key = dir.path().join("signing.key");
    write_signing_key(&key);
    let binary = tokio::task::spawn_blocking(server_binary)
        .await
        .expect("the server binary is built");
    create_org_from_cli(&binary, &db.url, &key, dir.path(), "pair").await;
    let mut first = Replica::start(&binary, "first", &db.url, &key, dir.path());
    let mut second = Replica::start(&binary, "second", &db.url, &key, dir.path());
    first.wait_until_ready().await;
    second.wait_until_ready().await;
    let servers = [Rest::at(first.base.clone()), Rest::at(second.base.clone())];
    let admin = servers[0].login("pair", "admin@pair.test").await;
    let clinic = servers[0]
        .post("/v1/clinics", &admin, &json!({ "name": "Pair Mitte" }))
        .await
        .expect_status(201)
        .id();
    let nurse = add_staff(
        &servers[1],
        "pair",
        &admin,
        "nurse@pair.test",
        &[grant(Role::Nurse, Some(clinic))],
    )
    .await;
    let ada = uuid_at(
        &register_client(&servers[0], &nurse.token, "Ada", "Lovelace").await,
        "id",
    );

    // Writes (audited in their transaction), reads and refusals (audited by each process's
    // background writer), all at once, alternating between the processes.
    let started = Instant::now();
    let work = (0..EACH * 3).map(|i| {
        let api = &servers[i % 2];
        let (admin, nurse) = (&admin, &nurse.token);
        async move {
            match i % 3 {
                0 => {
                    api.post(
                        "/v1/clients",
                        nurse,
                        &flow_support::new_client("Racer", &format!("Number{i:03}")),
                    )
                    .await
                    .expect_status(201);
                }
                1 => {
                    api.get(&format!("/v1/clients/{ada}"), nurse)
                        .await
                        .expect_status(200);
                }
                _ => {
                    api.post("/v1/clinics", admin, &json!({ "name": "" }))
                        .await
                        .expect_status(422);
                }
            }
        }
    });
    join_all(work).await;
    eprintln!(
        "{} requests through two processes in {:?}",
        EACH * 3,
        started.elapsed()
    );

    let head = settled_head(&[&servers[0], &servers[1]], &admin).await;
    let n = head["seq"].as_i64().expect("a seq");
    let log = audit_log(&servers[1], &admin).await;
    let mut seqs: Vec<i64> = log
        .iter()
        .map(|e| e["seq"].as_i64().expect("a seq"))
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "no gap, no twin");
    let count = |action: &str, outcome: &str| {
        log.iter()
            .filter(|e| e["action"] == action && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(count("client.create", "success"), EACH + 1);
    assert_eq!(count("client.read", "success"), EACH);
    assert_eq!(count("clinic.create", "refused"), EACH);
    assert_documented_chain(&log);
    for api in &servers {
        let verified = api
            .get("/v1/audit/verify", &admin)
            .await
            .expect_status(200)
            .json();
        assert_eq!(verified["verified"], true, "{verified}");
        assert_eq!(verified["events_checked"], n);
        assert_eq!(verified["head"], head);
    }

    drop(first);
    drop(second);
    drop(db);
}
