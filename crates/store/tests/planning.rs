//! The embedded database plans each statement once. SQLite plans a prepared statement again at
//! each execution when its plan may depend on a value bound to it: a bound `LIMIT` (every
//! `.one()` and every page has one) or a bound `LIKE` pattern (the client search). The build
//! turns that off with the query planner stability guarantee (`.cargo/config.toml`), and
//! turns on the `sqlite_stmt` table that counts, per prepared statement, its runs and how
//! often it was prepared again.

#![expect(clippy::expect_used, reason = "tests")]

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use skinledger_store::paging::PageRequest;
use skinledger_store::testing::TestDb;
use skinledger_store::{clients, orgs};
use uuid::Uuid;

/// Runs and re-preparations of the statements prepared on `db`'s connection whose SQL contains
/// `fragment`, summed.
async fn counts(db: &DatabaseConnection, fragment: &str) -> (i64, i64) {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT coalesce(sum(run), 0) AS runs, coalesce(sum(reprep), 0) AS repreps \
             FROM sqlite_stmt WHERE instr(sql, ?) > 0",
            [fragment.into()],
        ))
        .await
        .expect("sqlite_stmt is there");
    let row = rows.first().expect("one row");
    (
        row.try_get("", "runs").expect("runs"),
        row.try_get("", "repreps").expect("repreps"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_with_a_bound_limit_or_pattern_is_planned_once() {
    let test_db = TestDb::sqlite().await;
    // The write pool has one connection: every statement below is prepared on it.
    let db = test_db.db.write();
    let org = Uuid::now_v7();
    orgs::insert(db, org, "planned", "Planned")
        .await
        .expect("an organisation");

    for _ in 0..10 {
        let found = orgs::by_slug(db, "planned").await.expect("the read");
        assert_eq!(found.map(|o| o.id), Some(org));
    }
    let (runs, repreps) = counts(db, "\"organizations\".\"slug\" = ?").await;
    assert!(runs >= 10, "the read by slug ran {runs} times");
    assert_eq!(repreps, 0, "the read by slug was planned again");

    for (q, limit) in [("an", 10), ("bo", 20), ("an", 10), ("ca", 50), ("d", 1)] {
        let page = PageRequest { after: None, limit };
        clients::list(db, org, Some(q), page)
            .await
            .expect("the search");
    }
    let (runs, repreps) = counts(db, "LIKE ?").await;
    assert!(runs >= 5, "the search ran {runs} times");
    assert_eq!(repreps, 0, "the search was planned again");
}
