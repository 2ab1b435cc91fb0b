//! The floors pgbench measures: the read's `SELECT`, the organisation's journal row, and the write
//! itself.

use std::time::Duration;

use serde_json::json;
use skinledger::Config;
use uuid::Uuid;

use crate::clients::{eligible_clients, treatment};
use crate::pgbench;
use crate::server::HttpApi;

/// The ceiling every write of one organisation shares, measured by `pgbench` when it is
/// installed: each write ends by numbering its audit and integration events under the
/// organisation's journal row, locked until it commits, so the writes of one organisation commit
/// one after another. The script does only that, for an organisation of its own: take the row
/// (the upsert a write sends), record the chain's new hash, commit. Answers transactions per
/// second.
pub(crate) async fn pgbench_journal_floor(
    config: &Config,
    url: &str,
    in_flight: usize,
) -> Option<f64> {
    let db = skinledger::connect(config).await.expect("database");
    let org = Uuid::now_v7();
    skinledger_store::orgs::insert(
        db.write(),
        org,
        &format!("pgbench-{}", org.simple()),
        "pgbench",
    )
    .await
    .expect("an organisation for pgbench");
    db.close().await.expect("the pool closes");
    let script = format!(
        "BEGIN;\n\
         INSERT INTO event_sequences (organization_id, last_seq, purged_through, audit_seq, audit_hash) \
         VALUES ('{org}', 1, 0, 2, '') ON CONFLICT (organization_id) DO UPDATE SET \
         last_seq = event_sequences.last_seq + 1, audit_seq = event_sequences.audit_seq + 2 \
         RETURNING last_seq, audit_seq, audit_hash;\n\
         UPDATE event_sequences SET audit_hash = md5(random()::text) WHERE organization_id = '{org}';\n\
         COMMIT;\n"
    );
    let arguments = [
        "-T".to_owned(),
        "10".to_owned(),
        "-c".to_owned(),
        in_flight.to_string(),
    ];
    pgbench::tps(url, &script, &arguments)
        .await
        .map_err(|e| println!("  pgbench on the journal: {e}"))
        .ok()
}

/// The floor P1 is set against on PostgreSQL: the read's one `SELECT` of the client, recorded
/// as the driver sends it and run by `pgbench` (prepared) with `in_flight` clients for five
/// seconds. Answers transactions per second, or `None` (printed why) where it cannot run.
pub(crate) async fn pgbench_read_floor(
    config: &Config,
    org: Uuid,
    client: Uuid,
    in_flight: usize,
) -> Option<f64> {
    let (db, recorded) = recording(config).await;
    let row = skinledger_store::clients::get(db.read(), org, client)
        .await
        .expect("the select");
    assert!(row.is_some(), "the client is there");
    db.close().await.expect("the pool closes");
    let statements = std::mem::take(&mut *recorded.lock().expect("the record"));
    let [select] = statements.as_slice() else {
        println!(
            "  pgbench: the read sent {} statements, not one",
            statements.len()
        );
        return None;
    };
    pgbench::run_for(
        &config.database_url,
        &pgbench::statement_script(select),
        in_flight,
        5,
    )
    .await
    .map_err(|e| println!("  pgbench on the read: {e}"))
    .ok()
}

/// What a connection to the database sends, statement by statement.
type Recorded = std::sync::Arc<std::sync::Mutex<Vec<skinledger_store::sea_orm::Statement>>>;

/// A connection to the database that records every statement it sends.
async fn recording(config: &Config) -> (skinledger_store::Db, Recorded) {
    let recorded = Recorded::default();
    let sink = std::sync::Arc::clone(&recorded);
    let db = skinledger::connect(config)
        .await
        .expect("database")
        .observing(move |statement| {
            if let Ok(mut recorded) = sink.lock() {
                recorded.push(statement.clone());
            }
        });
    (db, recorded)
}

/// One `pgbench` floor of the write and the share of it the server's `throughput` reaches.
pub(crate) fn print_pgbench_floor(label: &str, tps: Option<f64>, throughput: f64) {
    match tps {
        Some(tps) => println!(
            "  {label:<48} {tps:>8.1} tx/s; REST is {:.2} x of it",
            throughput / tps
        ),
        None => println!("  {label:<48} not measured (PostgreSQL with pgbench only)"),
    }
}

/// The floor of the write itself: one treatment recorded in this process with its statements
/// observed, then replayed by pgbench (see [`pgbench`]), `sessions` writes with as many at once
/// as the server's pool has connections (the writes that reach the database at once), each
/// treating a client of its own, all with rollers of one lot of their own. Answers
/// transactions per second and the statements in one write.
#[expect(clippy::too_many_arguments, reason = "the run's pieces")]
pub(crate) async fn pgbench_write_floor(
    config: &Config,
    url: &str,
    api: &HttpApi,
    admin: &str,
    physician: &str,
    clinic: &str,
    roller: &str,
    sessions: usize,
) -> Result<(f64, usize), String> {
    // As many writes at once as reach the database from the server: its pool's connections.
    let in_flight = usize::try_from(config.database_max_connections).expect("a pool size");
    let per_client = sessions.div_ceil(in_flight);
    let count = in_flight * per_client + 1;
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(365)).to_string();
    let (status, receipt) = api
        .call(
            reqwest::Method::POST,
            &format!("/v1/clinics/{clinic}/receipts"),
            admin,
            Some(&json!({"product_id": roller, "lot_number": "REPLAY-1", "expiry": expiry, "quantity": count + 10})),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let lot = receipt["lot"]["id"].as_str().expect("a lot").to_owned();
    let clients = eligible_clients(api, physician, clinic, count, "replay").await;

    let (db, recorded) = recording(config).await;
    let (app, audit) = skinledger::app(config, db.clone()).expect("app");
    let actor = app
        .authenticate(physician, None)
        .await
        .expect("the physician");
    let new: skinledger_app::treatments::NewTreatment =
        serde_json::from_value(treatment(clinic, &clients[0], roller, &lot)).expect("a treatment");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let began = chrono::Utc::now();
    recorded.lock().expect("the record").clear();
    app.create_treatment(&actor, new, None)
        .await
        .expect("recorded");
    let statements = std::mem::take(&mut *recorded.lock().expect("the record"));
    drop(app);
    audit.finish().await;
    let script = pgbench::script(&statements, began, clients[0].parse().expect("a client id"));
    let numbered: Vec<(i64, Uuid)> = clients[1..]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (client, nth) = (i / per_client, i % per_client + 1);
            (
                i64::try_from(client * 1_000_000 + nth).expect("a number"),
                id.parse().expect("a client id"),
            )
        })
        .collect();
    pgbench::prepare(db.write(), &numbered).await;
    let tps = pgbench::replay(url, &script, in_flight, per_client).await?;
    // Every replayed write took its roller, as the recorded one did.
    let balance = skinledger_store::stock::get(
        db.read(),
        actor.org_id,
        clinic.parse().expect("clinic id"),
        lot.parse().expect("lot id"),
    )
    .await
    .expect("the balance")
    .expect("a balance");
    db.close().await.expect("the pool closes");
    let taken = count + 10 - usize::try_from(balance.on_hand).expect("a count");
    if taken != count {
        return Err(format!("{taken} rollers taken by {count} writes"));
    }
    Ok((tps, script.statements))
}
