//! Reads outside transactions on PostgreSQL run on connections of their own (`Reader`): each goes
//! back as soon as its statement answers, a read given up mid-statement or cut off closes its
//! connection instead of handing it on, and the bound, the wait and the settings are the pool's;
//! a `Debug` of the handle never shows the password the connections use.

#![expect(clippy::expect_used, reason = "tests")]

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbErr, Statement};
use skinledger_store::testing::{TestDb, postgres_or_skip};
use skinledger_store::{Db, DbSettings, Failure, PoolStats, failure};

/// A fresh PostgreSQL database and a second handle on it with `max` read connections.
async fn postgres(
    test: &str,
    settings: impl FnOnce(DbSettings) -> DbSettings,
) -> Option<(TestDb, Db)> {
    if !postgres_or_skip(test) {
        return None;
    }
    let test_db = TestDb::postgres().await.expect("PostgreSQL is configured");
    let db = Db::connect(&settings(DbSettings::new(test_db.url.clone())))
        .await
        .expect("a second handle");
    Some((test_db, db))
}

fn with_max(max: u32) -> impl FnOnce(DbSettings) -> DbSettings {
    move |s| DbSettings {
        max_connections: max,
        ..s
    }
}

async fn scalar(db: &Db, sql: &str) -> Result<String, DbErr> {
    let row = db
        .read()
        .query_one_raw(Statement::from_string(db.backend(), sql))
        .await?
        .expect("a row");
    row.try_get_by_index::<String>(0)
}

async fn backend_pid(db: &Db) -> i32 {
    let row = db
        .read()
        .query_one_raw(Statement::from_string(
            db.backend(),
            "SELECT pg_backend_pid()",
        ))
        .await
        .expect("a read")
        .expect("a row");
    row.try_get_by_index::<i32>(0).expect("a pid")
}

fn reads(db: &Db) -> PoolStats {
    db.pool_stats()
        .into_iter()
        .find(|p| p.pool == "reads")
        .expect("PostgreSQL reads have connections of their own")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_reuse_their_connections_within_the_bound() {
    let Some((_test_db, db)) = postgres(
        "reads_reuse_their_connections_within_the_bound",
        with_max(3),
    )
    .await
    else {
        return;
    };
    let first = backend_pid(&db).await;
    for _ in 0..50 {
        assert_eq!(
            backend_pid(&db).await,
            first,
            "one reader at a time keeps one connection"
        );
    }
    assert_eq!(reads(&db).size, 1);

    let busy: Vec<_> = (0..12)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { scalar(&db, "SELECT pg_sleep(0.05)::text").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let during = reads(&db);
    assert!(during.size <= 3, "{during:?}");
    for read in busy {
        read.await
            .expect("joined")
            .expect("each read answers in its turn");
    }
    let after = reads(&db);
    assert!(after.size <= 3 && after.size == after.idle, "{after:?}");
    assert_eq!(after.max, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_given_up_mid_statement_closes_its_connection() {
    let Some((_test_db, db)) = postgres(
        "a_read_given_up_mid_statement_closes_its_connection",
        with_max(1),
    )
    .await
    else {
        return;
    };
    let before = backend_pid(&db).await;
    let given_up = tokio::time::timeout(
        Duration::from_millis(100),
        scalar(&db, "SELECT pg_sleep(5)::text"),
    )
    .await;
    assert!(given_up.is_err(), "the read was still running");
    let after = backend_pid(&db).await;
    assert_ne!(
        after, before,
        "a connection whose statement was cut short is not handed to the next read"
    );
    assert_eq!(
        scalar(&db, "SELECT 'answer'").await.expect("a read"),
        "answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_statement_keeps_its_connection_in_step() {
    let Some((_test_db, db)) = postgres(
        "a_refused_statement_keeps_its_connection_in_step",
        with_max(1),
    )
    .await
    else {
        return;
    };
    let before = backend_pid(&db).await;
    let refused = scalar(&db, "SELECT (1 / 0)::text")
        .await
        .expect_err("division by zero");
    assert_eq!(failure(&refused), Failure::Other, "{refused}");
    assert_eq!(backend_pid(&db).await, before, "the connection is kept");
    assert_eq!(
        scalar(&db, "SELECT 'answer'").await.expect("a read"),
        "answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_waits_its_turn_then_answers_unavailable() {
    let Some((_test_db, db)) = postgres("a_read_waits_its_turn_then_answers_unavailable", |s| {
        DbSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_millis(300),
            ..s
        }
    })
    .await
    else {
        return;
    };
    let holder = {
        let db = db.clone();
        tokio::spawn(async move { scalar(&db, "SELECT pg_sleep(2)::text").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waited = scalar(&db, "SELECT 'late'")
        .await
        .expect_err("no connection was free");
    assert!(matches!(waited, DbErr::ConnectionAcquire(_)), "{waited:?}");
    assert_eq!(failure(&waited), Failure::Unavailable);
    holder
        .await
        .expect("joined")
        .expect("the first read answers");
    assert_eq!(scalar(&db, "SELECT 'next'").await.expect("a read"), "next");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_come_back_after_their_connections_are_cut() {
    let Some((test_db, db)) = postgres(
        "reads_come_back_after_their_connections_are_cut",
        with_max(2),
    )
    .await
    else {
        return;
    };
    let terminate = |pid: i32| {
        let admin = test_db.db.write().clone();
        async move {
            admin
                .execute_unprepared(&format!("SELECT pg_terminate_backend({pid}, 5000)"))
                .await
                .expect("terminated");
        }
    };

    // Cut just after use: the next read may meet the cut (and says the database is unavailable),
    // the one after it has a new connection.
    let pid = backend_pid(&db).await;
    terminate(pid).await;
    if let Err(cut) = scalar(&db, "SELECT 'first'").await {
        assert_eq!(failure(&cut), Failure::Unavailable, "{cut}");
    }
    let again = backend_pid(&db).await;
    assert_ne!(again, pid);

    // Cut while idle for more than a second: checked before use, replaced, no read fails.
    terminate(again).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(
        scalar(&db, "SELECT 'after idle'").await.expect("a read"),
        "after idle"
    );
    assert_ne!(backend_pid(&db).await, again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_run_with_the_pools_settings() {
    let Some((test_db, db)) = postgres("reads_run_with_the_pools_settings", |s| DbSettings {
        statement_timeout: Duration::from_millis(250),
        ..s
    })
    .await
    else {
        return;
    };
    assert_eq!(
        scalar(&db, "SHOW statement_timeout").await.expect("a read"),
        "250ms"
    );
    let cancelled = scalar(&db, "SELECT pg_sleep(2)::text")
        .await
        .expect_err("cancelled");
    assert!(
        cancelled.to_string().contains("statement timeout"),
        "{cancelled}"
    );

    test_db
        .db
        .write()
        .execute_unprepared("CREATE SCHEMA elsewhere")
        .await
        .expect("a schema");
    let in_schema = Db::connect(&DbSettings {
        schema: Some("elsewhere".into()),
        ..DbSettings::new(test_db.url.clone())
    })
    .await
    .expect("a handle on the schema");
    assert_eq!(
        scalar(&in_schema, "SHOW search_path")
            .await
            .expect("a read"),
        "elsewhere"
    );

    // The server trusts local connections here, so any password gets in: it must never show.
    let with_password = test_db
        .url
        .replacen("://postgres@", "://postgres:never-shown@", 1);
    assert_ne!(with_password, test_db.url, "the test URL names its user");
    let handle = Db::connect(&DbSettings::new(with_password))
        .await
        .expect("a handle with a password");
    scalar(&handle, "SELECT 'read'").await.expect("a read");
    let shown = format!("{handle:?}");
    assert!(!shown.contains("never-shown"), "{shown}");
}
