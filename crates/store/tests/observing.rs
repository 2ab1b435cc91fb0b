//! A database handle that observes the statements sent through it, its transactions' included,
//! each with its values, on both backends: what a use case sends, for measuring it.

#![expect(clippy::expect_used, reason = "tests")]

use std::sync::{Arc, Mutex};

use sea_orm::TransactionTrait;
use skinledger_store::{Db, orgs};
use uuid::Uuid;

skinledger_store::on_both_backends!(every_statement_is_observed_with_its_values);

async fn every_statement_is_observed_with_its_values(db: Db) {
    let seen: Arc<Mutex<Vec<sea_orm::Statement>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let observed = db.clone().observing(move |statement| {
        sink.lock().expect("the record").push(statement.clone());
    });

    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    orgs::insert(observed.write(), first, "first", "First")
        .await
        .expect("an organisation");
    let txn = observed.write().begin().await.expect("a transaction");
    orgs::insert(&txn, second, "second", "Second")
        .await
        .expect("an organisation in a transaction");
    txn.commit().await.expect("committed");
    let found = orgs::by_slug(observed.read(), "second")
        .await
        .expect("a read")
        .expect("the organisation");
    assert_eq!(found.id, second);
    // A handle cloned before keeps no observer.
    orgs::by_slug(db.read(), "first").await.expect("a read");

    let seen = seen.lock().expect("the record");
    let texts: Vec<String> = seen.iter().map(ToString::to_string).collect();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(
        texts[0].starts_with("INSERT INTO \"organizations\""),
        "{}",
        texts[0]
    );
    assert!(texts[0].contains(&first.to_string()), "{}", texts[0]);
    assert!(texts[1].contains(&second.to_string()), "{}", texts[1]);
    assert!(texts[2].starts_with("SELECT"), "{}", texts[2]);
    assert!(texts[2].contains("'second'"), "{}", texts[2]);
}
