//! Login attempts are ordered by id in the order they became visible: an attempt recorded after
//! a row from a replica whose clock is ahead still gets an id above it, and sees it.

#![expect(clippy::expect_used, reason = "tests")]

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
use skinledger_store::entities::login_failure;
use skinledger_store::{Db, tokens};
use uuid::{NoContext, Timestamp, Uuid};

skinledger_store::on_both_backends!(an_attempt_is_numbered_after_every_attempt_before_it);

async fn an_attempt_is_numbered_after_every_attempt_before_it(db: Db) {
    let now = Utc::now();
    let ahead = now + Duration::hours(1);
    let seconds = u64::try_from(ahead.timestamp()).expect("after 1970");
    let from_the_future = Uuid::new_v7(Timestamp::from_unix(NoContext, seconds, 0));
    login_failure::ActiveModel {
        id: Set(from_the_future),
        account_key: Set("account".into()),
        source_key: Set("elsewhere".into()),
        failed_at: Set(now),
        pending: Set(true),
    }
    .insert(db.write())
    .await
    .expect("an attempt from a replica whose clock is ahead");

    let txn = db.write().begin().await.expect("a transaction");
    let (mine, before) =
        tokens::record_login_attempt(&txn, "account", "here", now, now - Duration::minutes(15))
            .await
            .expect("recorded");
    txn.commit().await.expect("committed");

    assert_eq!(
        before.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![from_the_future]
    );
    assert!(mine.id > from_the_future, "{} ≤ {from_the_future}", mine.id);
    assert!(mine.pending);
}
