//! Connections to SQLite or PostgreSQL, chosen by the database URL.

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};

/// How to reach the database.
#[derive(Clone)]
pub struct DbSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Pool size for PostgreSQL, and for SQLite's readers.
    pub max_connections: u32,
    /// A PostgreSQL schema to work in instead of `public` (tests use one per test).
    pub schema: Option<String>,
}

impl std::fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("schema", &self.schema)
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
/// then fails with "database is locked". On PostgreSQL both handles are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: DatabaseConnection,
    write: DatabaseConnection,
    shared: bool,
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) when missing.
    pub async fn connect(settings: &DbSettings) -> Result<Self, DbErr> {
        let url = settings.url.as_str();
        if url.starts_with("sqlite:") {
            if let Some(path) = sqlite_file(url)
                && let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| {
                    DbErr::Custom(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
            let write = Database::connect(sqlite_options(url, 1)).await?;
            if url.contains(":memory:") {
                // An in-memory database lives in its one connection: reads must share it.
                return Ok(Self {
                    read: write.clone(),
                    write,
                    shared: true,
                });
            }
            let read =
                Database::connect(sqlite_options(url, settings.max_connections.max(1))).await?;
            Ok(Self {
                read,
                write,
                shared: false,
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(settings.max_connections.max(2))
                .min_connections(1)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(30))
                .sqlx_logging(false);
            if let Some(schema) = &settings.schema {
                options.set_schema_search_path(schema.clone());
            }
            let pool = Database::connect(options).await?;
            Ok(Self {
                read: pool.clone(),
                write: pool,
                shared: true,
            })
        } else {
            Err(DbErr::Custom(format!(
                "unsupported database URL `{}`: use sqlite:// or postgres://",
                redact_url(url)
            )))
        }
    }

    /// The handle for queries that only read.
    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    /// The handle for writes; on SQLite, one connection shared by all writers in turn.
    pub fn write(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Opens a transaction on the write handle.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.write.begin().await
    }

    /// Which backend this is.
    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Answers whether the database is reachable now.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.ping().await
    }

    /// Closes both handles.
    pub async fn close(self) -> Result<(), DbErr> {
        self.write.close().await?;
        if !self.shared {
            self.read.close().await?;
        }
        Ok(())
    }
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

fn sqlite_options(url: &str, connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(60))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
        });
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/skinledger"),
            "postgres://app:***@db:5432/skinledger"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
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
