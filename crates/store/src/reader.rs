//! The read handle: queries that only read, outside any transaction.
//!
//! On PostgreSQL a read that is one statement outside a transaction runs on connections of its
//! own, kept by [`Reads`] rather than by the driver's pool. The driver's pool checks every
//! connection given back to it with a round trip to the server (a `Sync` and its
//! `ReadyForQuery`), in a task it spawns for that, because a connection it gets back may carry an
//! unfinished transaction whose `ROLLBACK` must reach the server. A connection that only ever
//! runs single statements has nothing of the kind to flush: it goes back as soon as its
//! statement has answered, and one whose statement did not finish (the request was cancelled, the
//! connection broke) is closed instead of being reused. On SQLite, and whenever statements are
//! observed, reads go through the pool as before.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::db::PING_AFTER_IDLE;
use crate::error::{Failure, driver_failure};

/// The read handle: the pool, and on PostgreSQL the read connections beside it.
#[derive(Clone, Debug)]
pub struct Reader {
    pool: DatabaseConnection,
    reads: Option<Arc<Reads>>,
}

impl Reader {
    /// Reads through `pool` only.
    pub(crate) fn pooled(pool: DatabaseConnection) -> Self {
        Self { pool, reads: None }
    }

    /// Reads outside transactions on `reads`; everything else through `pool`.
    pub(crate) fn with_reads(pool: DatabaseConnection, reads: Reads) -> Self {
        Self {
            pool,
            reads: Some(Arc::new(reads)),
        }
    }

    /// The pool behind this handle.
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// The read connections' state now, when reads have connections of their own.
    pub(crate) fn reads(&self) -> Option<&Reads> {
        self.reads.as_deref()
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Reader {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.pool.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.pool.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.reads {
            Some(reads) => reads.query_one(stmt).await,
            None => self.pool.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.reads {
            Some(reads) => reads.query_all(stmt).await,
            None => self.pool.query_all_raw(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        self.pool.support_returning()
    }
}

/// PostgreSQL connections for single-statement reads, at most `max` open.
pub(crate) struct Reads {
    options: PgConnectOptions,
    /// `SET search_path ...`, run on each new connection, when a schema is chosen.
    search_path: Option<String>,
    idle: Mutex<Vec<Idle>>,
    /// One permit per connection in use; closed when the handle closes.
    in_use: Semaphore,
    max: u32,
    acquire_timeout: Duration,
    connect_timeout: Duration,
}

/// What the read connections are, never how they connect (the options hold the password).
impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (size, idle, max) = self.stats();
        f.debug_struct("Reads")
            .field("size", &size)
            .field("idle", &idle)
            .field("max", &max)
            .finish_non_exhaustive()
    }
}

struct Idle {
    connection: PgConnection,
    since: Instant,
}

impl Reads {
    pub(crate) fn new(
        options: PgConnectOptions,
        schema: Option<&str>,
        max: u32,
        acquire_timeout: Duration,
        connect_timeout: Duration,
    ) -> Self {
        let max = max.max(1);
        Self {
            options,
            search_path: schema.map(|s| format!("SET search_path = \"{}\"", s.replace('"', ""))),
            idle: Mutex::default(),
            in_use: Semaphore::new(max as usize),
            max,
            acquire_timeout,
            connect_timeout,
        }
    }

    /// Connections open now (idle or in use) and idle now, and the most that may be open.
    pub(crate) fn stats(&self) -> (u32, u32, u32) {
        let idle = u32::try_from(self.idle_list().len()).unwrap_or(u32::MAX);
        let in_use = self
            .max
            .saturating_sub(u32::try_from(self.in_use.available_permits()).unwrap_or(u32::MAX));
        (idle + in_use, idle, self.max)
    }

    /// Closes every idle connection and refuses new reads; reads under way finish.
    pub(crate) async fn close(&self) {
        self.in_use.close();
        let idle = std::mem::take(&mut *self.idle_list());
        for idle in idle {
            let _ = idle.connection.close().await;
        }
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut lent = self.lend().await?;
        let answer = query(stmt).fetch_optional(&mut lent.connection).await;
        lent.settle(answer.map(|row| row.map(QueryResult::from)))
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut lent = self.lend().await?;
        let answer = query(stmt).fetch_all(&mut lent.connection).await;
        lent.settle(answer.map(|rows| rows.into_iter().map(QueryResult::from).collect()))
    }

    fn idle_list(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection for one statement, within `acquire_timeout` (waiting for a turn, checking
    /// an idle connection and opening a new one included), as the pool gives one.
    async fn lend(&self) -> Result<Lent<'_>, DbErr> {
        tokio::time::timeout(self.acquire_timeout, async {
            let permit = self
                .in_use
                .acquire()
                .await
                .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
            let connection = self.idle_or_new().await?;
            Ok(Lent {
                reads: self,
                _permit: permit,
                connection,
            })
        })
        .await
        .unwrap_or(Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)))
    }

    async fn idle_or_new(&self) -> Result<PgConnection, DbErr> {
        loop {
            let Some(Idle {
                mut connection,
                since,
            }) = self.idle_list().pop()
            else {
                break;
            };
            if since.elapsed() < PING_AFTER_IDLE || connection.ping().await.is_ok() {
                return Ok(connection);
            }
            // Dropped: the server is gone or restarted; the next one is tried, then a new one.
        }
        let connect = async {
            let mut connection = PgConnection::connect_with(&self.options).await?;
            if let Some(sql) = &self.search_path {
                sea_orm::sqlx::Executor::execute(
                    &mut connection,
                    sea_orm::sqlx::AssertSqlSafe(sql.as_str()),
                )
                .await?;
            }
            Ok(connection)
        };
        match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(e)) => Err(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))),
            Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        }
    }
}

/// A connection lent for one statement, with its turn. Given back only by [`Lent::settle`] once
/// its statement has answered; dropped any other way (the caller gave up mid-statement), it is
/// closed. The turn ends with it either way.
struct Lent<'a> {
    reads: &'a Reads,
    _permit: SemaphorePermit<'a>,
    connection: PgConnection,
}

impl Lent<'_> {
    /// Gives the connection back when the statement answered (rows, or a refusal of the
    /// statement itself, after which the connection is in step with the server), and closes it
    /// on any other failure: a lost connection, or the server ending the session (PostgreSQL
    /// says why before it hangs up: an administrator's command, a shutdown).
    fn settle<T>(self, answer: Result<T, sea_orm::sqlx::Error>) -> Result<T, DbErr> {
        let in_step = match &answer {
            Ok(_) => true,
            Err(e @ sea_orm::sqlx::Error::Database(_)) => driver_failure(e) == Failure::Other,
            Err(_) => false,
        };
        if in_step {
            self.reads.idle_list().push(Idle {
                connection: self.connection,
                since: Instant::now(),
            });
        }
        answer.map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
    }
}

/// `stmt` for the driver, its text and values moved rather than copied.
fn query(
    stmt: Statement,
) -> sea_orm::sqlx::query::Query<'static, sea_orm::sqlx::Postgres, SqlxValues> {
    let values = stmt
        .values
        .unwrap_or_else(|| sea_orm::sea_query::Values(Vec::new()));
    sea_orm::sqlx::query_with(sea_orm::sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
}
