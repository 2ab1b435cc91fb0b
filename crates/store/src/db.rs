//! Connections to SQLite or PostgreSQL, chosen by the database URL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};

use crate::reader::{Reader, Reads};

/// How to reach the database.
#[derive(Clone)]
pub struct DbSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Pool size for PostgreSQL, and for SQLite's readers.
    pub max_connections: u32,
    /// A PostgreSQL schema to work in instead of `public` (tests use one per test).
    pub schema: Option<String>,
    /// How long a request waits for a connection before it answers 503.
    pub acquire_timeout: Duration,
    /// How long opening a PostgreSQL connection may take.
    pub connect_timeout: Duration,
    /// The longest a PostgreSQL statement may run (`statement_timeout`); none when zero.
    pub statement_timeout: Duration,
}

impl DbSettings {
    /// Settings for `url` with the server's defaults: 10 connections, 1.5 s to get one and
    /// 1.5 s to open one (so that a request answers 503 within 2 s when the database is
    /// gone), 30 s per statement.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            schema: None,
            acquire_timeout: Duration::from_millis(1_500),
            connect_timeout: Duration::from_millis(1_500),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("schema", &self.schema)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// The URL with any password replaced, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The database: a read handle and a write handle.
///
/// SQLite takes one writer at a time, so every transaction that writes goes through a write
/// handle of exactly one connection, while WAL lets the read pool read alongside it; nothing
/// then fails with "database is locked". On PostgreSQL both handles share one pool, and reads
/// outside transactions have connections of their own besides (see [`Reader`]).
#[derive(Clone, Debug)]
pub struct Db {
    read: Reader,
    write: DatabaseConnection,
    shared: bool,
    /// The SQLite file, whose writability readiness checks.
    sqlite_file: Option<PathBuf>,
    /// Transactions waiting for a connection of the write handle now.
    waiting: Arc<AtomicU64>,
}

/// The state of one connection pool now, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// `read` or `write` (SQLite), or `shared` (PostgreSQL, one pool for both).
    pub pool: &'static str,
    /// Connections open.
    pub size: u32,
    /// Connections open and not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
    /// Transactions waiting for a connection (reads outside a transaction are not counted:
    /// the driver does not tell how many wait).
    pub waiting: u64,
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) when missing. A SQLite file that
    /// cannot be written is refused here, naming it.
    pub async fn connect(settings: &DbSettings) -> Result<Self, DbErr> {
        let url = settings.url.as_str();
        if url.starts_with("sqlite:") {
            let file = sqlite_file(url).map(PathBuf::from);
            if let Some(file) = &file {
                create_private(file).map_err(|e| {
                    DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
                        "cannot create the SQLite database {}: {e}",
                        file.display()
                    )))
                })?;
            }
            if let Some(file) = file.as_deref().filter(|f| f.exists()) {
                writable(file)?;
            }
            let write = Database::connect(sqlite_options(url, 1, Writer::Yes, settings))
                .await
                .map_err(|e| match &file {
                    Some(file) => DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
                        "cannot open the SQLite database {}: {e}",
                        file.display()
                    ))),
                    None => e,
                })?;
            if url.contains(":memory:") {
                // An in-memory database lives in its one connection: reads must share it.
                return Ok(Self {
                    read: Reader::pooled(write.clone()),
                    write,
                    shared: true,
                    sqlite_file: None,
                    waiting: Arc::default(),
                });
            }
            if let Some(file) = &file {
                writable(file)?;
            }
            let read = Database::connect(sqlite_options(
                url,
                settings.max_connections.max(1),
                Writer::No,
                settings,
            ))
            .await?;
            Ok(Self {
                read: Reader::pooled(read),
                write,
                shared: false,
                sqlite_file: file,
                waiting: Arc::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = postgres_options(url, settings);
            let unreachable = |cause: String| {
                DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
                    "cannot reach PostgreSQL at {}: {cause}",
                    host_of(url)
                )))
            };
            // The pool opens its first connection while one connection of its own is tried
            // beside it, so that a refusal says why (a pool only says it timed out) without
            // making a start that succeeds wait for two connections one after the other (each
            // may take a TLS handshake).
            let probe = url
                .parse::<PgConnectOptions>()
                .map_err(|e| unreachable(e.to_string()))?;
            let pooled = tokio::spawn(Database::connect(options));
            let refusal = match tokio::time::timeout(
                settings.connect_timeout,
                sea_orm::sqlx::PgConnection::connect_with(&probe),
            )
            .await
            {
                Ok(Ok(connection)) => {
                    let _ = connection.close().await;
                    None
                }
                Ok(Err(e)) => Some(unreachable(e.to_string())),
                Err(_) => Some(unreachable(format!(
                    "no answer within {} ms",
                    settings.connect_timeout.as_millis()
                ))),
            };
            if let Some(refusal) = refusal {
                pooled.abort();
                return Err(refusal);
            }
            let pool = pooled
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .map_err(|e| unreachable(describe(&e)))?;
            let reads = Reads::new(
                with_statement_timeout(probe, settings.statement_timeout),
                settings.schema.as_deref(),
                settings.max_connections,
                settings.acquire_timeout,
                settings.connect_timeout,
            );
            Ok(Self {
                read: Reader::with_reads(pool.clone(), reads),
                write: pool,
                shared: true,
                sqlite_file: None,
                waiting: Arc::default(),
            })
        } else {
            Err(DbErr::Custom(format!(
                "unsupported database URL `{}`: use sqlite:// or postgres://",
                redact_url(url)
            )))
        }
    }

    /// Calls `observe` with every statement sent through this handle from now on, its
    /// transactions' included, each with its values: what a use case sends, for measuring it.
    /// Handles cloned before keep no observer.
    #[must_use]
    pub fn observing(
        mut self,
        observe: impl Fn(&sea_orm::Statement) + Send + Sync + 'static,
    ) -> Self {
        let observe = Arc::new(observe);
        let on_write = Arc::clone(&observe);
        self.write
            .set_metric_callback(move |info| on_write(info.statement));
        // Observed reads go through the pool, whose statements the callback sees.
        if !self.shared {
            let mut read = self.read.pool().clone();
            read.set_metric_callback(move |info| observe(info.statement));
            self.read = Reader::pooled(read);
        } else {
            self.read = Reader::pooled(self.write.clone());
        }
        self
    }

    /// The handle for queries that only read.
    pub fn read(&self) -> &Reader {
        &self.read
    }

    /// The handle for writes; on SQLite, one connection shared by all writers in turn.
    pub fn write(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Opens a transaction on the write handle, counted as waiting until it has a connection.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        struct Waiting<'a>(&'a AtomicU64);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.waiting);
        self.write.begin().await
    }

    /// Each connection pool's state now: one pool on PostgreSQL, a read pool and the one
    /// writer on SQLite.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        let waiting = self.waiting.load(Ordering::Relaxed);
        let stats = |pool: &'static str, conn: &DatabaseConnection, waiting: u64| {
            match conn.get_database_backend() {
                DbBackend::Postgres => {
                    let p = conn.get_postgres_connection_pool();
                    Some((p.size(), p.num_idle(), p.options().get_max_connections()))
                }
                DbBackend::Sqlite => {
                    let p = conn.get_sqlite_connection_pool();
                    Some((p.size(), p.num_idle(), p.options().get_max_connections()))
                }
                _ => None,
            }
            .map(|(size, idle, max)| PoolStats {
                pool,
                size,
                idle: u32::try_from(idle).unwrap_or(u32::MAX),
                max,
                waiting,
            })
        };
        if self.shared {
            let reads = self.read.reads().map(|reads| {
                let (size, idle, max) = reads.stats();
                PoolStats {
                    pool: "reads",
                    size,
                    idle,
                    max,
                    waiting: 0,
                }
            });
            stats("shared", &self.write, waiting)
                .into_iter()
                .chain(reads)
                .collect()
        } else {
            [
                stats("read", self.read.pool(), 0),
                stats("write", &self.write, waiting),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Answers whether the database is reachable now.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.pool().ping().await
    }

    /// Answers whether the database takes writes now: it answers, and a SQLite file can be
    /// written (a read-only file or file system is not ready).
    pub async fn ready(&self) -> Result<(), DbErr> {
        self.read.pool().ping().await?;
        if let Some(file) = &self.sqlite_file {
            writable(file)?;
        }
        Ok(())
    }

    /// Closes both handles.
    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(reads) = self.read.reads() {
            reads.close().await;
        }
        self.write.close().await?;
        if !self.shared {
            self.read.pool().clone().close().await?;
        }
        Ok(())
    }
}

/// `host:port` of a PostgreSQL URL, for messages (never the credentials).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// The innermost message of a database error, without the layers that repeat it.
pub fn describe(err: &DbErr) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

/// Creates the database file and its folder when missing, readable by the owner only: the
/// folder 0700, the file 0600 (SQLite gives its WAL and shared-memory files the same mode).
fn create_private(file: &Path) -> std::io::Result<()> {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            folder.mode(0o700);
        }
        folder.create(parent)?;
    }
    if !file.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(file) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The longest a SQLite write waits for the write connection.
const WRITER_QUEUE: Duration = Duration::from_secs(30);

/// Whether a pool is SQLite's one writer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    Yes,
    No,
}

/// Opens the file for writing without changing it: the check the operating system makes.
fn writable(file: &Path) -> Result<(), DbErr> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .map(drop)
        .map_err(|e| {
            DbErr::Conn(sea_orm::RuntimeErr::Internal(format!(
                "the SQLite database {} cannot be written: {e}",
                file.display()
            )))
        })
}

/// How long a pooled PostgreSQL connection may sit idle before it is checked again before use.
pub(crate) const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// `options` with PostgreSQL's `statement_timeout` set to `timeout` (none when zero), for the
/// pool's connections and the read connections alike.
fn with_statement_timeout(options: PgConnectOptions, timeout: Duration) -> PgConnectOptions {
    if timeout.is_zero() {
        options
    } else {
        options.options([("statement_timeout", timeout.as_millis().to_string())])
    }
}

fn postgres_options(url: &str, settings: &DbSettings) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.max_connections.max(2))
        .min_connections(1)
        .connect_timeout(settings.connect_timeout)
        .acquire_timeout(settings.acquire_timeout)
        // A connection is checked before it is handed out only once it has been idle long
        // enough to have been dropped (a restart, a failover, a proxy): checking a busy pool's
        // connections at every request is a round trip more per request.
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .sqlx_logging(false);
    let timeout = settings.statement_timeout;
    options.map_sqlx_postgres_opts(move |o| with_statement_timeout(o, timeout));
    if let Some(schema) = &settings.schema {
        options.set_schema_search_path(schema.clone());
    }
    options
}

fn sqlite_options(
    url: &str,
    connections: u32,
    writer: Writer,
    settings: &DbSettings,
) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    let file = sqlite_file(url).map(PathBuf::from);
    options
        .max_connections(connections)
        .min_connections(1)
        // A file on a local disk does not hang up: no check before each use (it would be a
        // round trip to the connection's thread per request).
        .test_before_acquire(false)
        // Writers queue for the one write connection: a burst of them waits its turn.
        .acquire_timeout(match writer {
            Writer::Yes => settings.acquire_timeout.max(WRITER_QUEUE),
            Writer::No => settings.acquire_timeout,
        })
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // A commit is on disk before it is acknowledged, power loss included.
                .synchronous(if writer == Writer::Yes {
                    SqliteSynchronous::Full
                } else {
                    SqliteSynchronous::Normal
                })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
        });
    if writer == Writer::Yes {
        options.map_sqlx_sqlite_pool_opts(move |pool| {
            let file = file.clone();
            pool
                // A connection opened on a read-only file stays read-only: open none then, so
                // that writes work again as soon as the file can be written.
                .after_connect(move |_, _| {
                    let file = file.clone();
                    Box::pin(async move {
                        match &file {
                            Some(file) => writable(file).map_err(|e| {
                                sea_orm::sqlx::Error::Configuration(e.to_string().into())
                            }),
                            None => Ok(()),
                        }
                    })
                })
                // A commit that failed (a full disk) can leave the connection believing a
                // transaction is open, so that the next BEGIN would only make a savepoint and
                // every later "commit" would be lost: such a connection is closed, never reused.
                .after_release(|conn, _| {
                    Box::pin(async move {
                        conn.ping().await?;
                        Ok(!conn.is_in_transaction())
                    })
                })
        });
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_connections_are_checked_only_when_they_may_have_been_dropped() {
        let postgres = postgres_options(
            "postgres://app@db/skinledger",
            &DbSettings::new("postgres://app@db/skinledger"),
        );
        assert!(
            !postgres.get_test_before_acquire(),
            "no check at every request"
        );
        assert_eq!(
            postgres.get_test_before_acquire_if_idle_for(),
            Some(PING_AFTER_IDLE),
            "a check after a second idle"
        );
        let url = "sqlite://data/x.db?mode=rwc";
        for writer in [Writer::Yes, Writer::No] {
            let sqlite = sqlite_options(url, 1, writer, &DbSettings::new(url));
            assert!(!sqlite.get_test_before_acquire());
            assert_eq!(sqlite.get_test_before_acquire_if_idle_for(), None);
        }
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/skinledger"),
            "postgres://app:***@db:5432/skinledger"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn messages_name_the_host_and_never_the_password() {
        assert_eq!(
            host_of("postgres://app:s3cret@db.internal:5439/x?sslmode=require"),
            "db.internal:5439"
        );
        assert_eq!(host_of("postgres://localhost/x"), "localhost");
    }

    #[test]
    fn the_sqlite_file_is_found_in_its_url() {
        assert_eq!(
            sqlite_file("sqlite://data/x.db?mode=rwc"),
            Some("data/x.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
