//! A row changed, deleted or inserted with SQL fails `skinledger audit verify` at its number.

use std::process::Output;

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use skinledger_domain::role::Role;
use skinledger_e2e::replica::run_cli;
use skinledger_e2e::{Backend, TestServer, e2e_on_both_backends, grant, server_binary};
use skinledger_store::entities::audit_event;
use uuid::Uuid;

use crate::flow_support::{Rest, add_staff, register_client, uuid_at};
use crate::{reads_and_a_refusal, settled_head};

e2e_on_both_backends!(
    a_row_changed_deleted_or_inserted_with_sql_fails_skinledger_audit_verify_at_its_number,
);

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
