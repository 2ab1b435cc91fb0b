//! Two server processes appending at once keep one valid chain.

use std::time::Instant;

use futures::future::join_all;
use serde_json::json;
use skinledger_domain::role::Role;
use skinledger_e2e::replica::{Replica, create_org_from_cli};
use skinledger_e2e::{grant, postgres_or_skip, server_binary, write_signing_key};
use skinledger_store::testing::TestDb;

use crate::flow_support;
use crate::flow_support::{Rest, add_staff, register_client, uuid_at};
use crate::{assert_documented_chain, audit_log, settled_head};

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
