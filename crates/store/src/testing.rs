//! Fresh, migrated databases for tests: a SQLite file always, and a PostgreSQL database when
//! `SKINLEDGER_TEST_POSTGRES_URL` is set. Each is dropped when the test ends.

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use sea_orm_migration::MigratorTrait;
use skinledger_migration::Migrator;
use uuid::Uuid;

use crate::db::{Db, DbSettings};

pub mod scale;

/// The environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "SKINLEDGER_TEST_POSTGRES_URL";

/// A fresh database for one test.
pub struct TestDb {
    /// The migrated database.
    pub db: Db,
    /// Its URL, for starting a server on it.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh SQLite file in the temporary folder.
    pub async fn sqlite() -> Self {
        Self::sqlite_file(true).await
    }

    /// A fresh SQLite file with no tables yet (for tests that migrate it themselves).
    pub async fn sqlite_empty() -> Self {
        Self::sqlite_file(false).await
    }

    async fn sqlite_file(migrate: bool) -> Self {
        let path =
            std::env::temp_dir().join(format!("skinledger-test-{}.db", Uuid::now_v7().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = connect(&url).await;
        if migrate {
            migrate_all(&db).await;
        }
        Self {
            db,
            url,
            cleanup: Cleanup::SqliteFile(path),
        }
    }

    /// A fresh PostgreSQL database, or `None` when no server is configured.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_database(true, "").await
    }

    /// A fresh, migrated PostgreSQL database whose collation is the ICU locale `icu_locale`
    /// (PostgreSQL 15 or later), or `None` when no server is configured.
    pub async fn postgres_collated(icu_locale: &str) -> Option<Self> {
        let options = format!(" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'");
        Self::postgres_database(true, &options).await
    }

    /// A fresh PostgreSQL database with no tables yet (for servers to migrate), or `None` when
    /// no server is configured.
    pub async fn postgres_empty() -> Option<Self> {
        Self::postgres_database(false, "").await
    }

    async fn postgres_database(migrate: bool, options: &str) -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("skl_test_{}", Uuid::now_v7().simple());
        let admin = Database::connect(admin_url.as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot reach {POSTGRES_URL_VAR}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}{options}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        let db = if migrate {
            connect_and_migrate(&url).await
        } else {
            Db::connect(&DbSettings::new(url.clone()))
                .await
                .unwrap_or_else(|e| panic!("cannot open test database: {e}"))
        };
        Some(Self {
            db,
            url,
            cleanup: Cleanup::PostgresDatabase { admin_url, name },
        })
    }

    /// An empty database of the same backend, without migrations (for the server to migrate).
    pub fn backend_name(&self) -> &'static str {
        match self.cleanup {
            Cleanup::SqliteFile(_) => "sqlite",
            Cleanup::PostgresDatabase { .. } => "postgres",
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside async: a short-lived runtime on its own thread does the work.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_end = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[host_end..].find('/') {
        Some(slash) => &base[..host_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

async fn connect(url: &str) -> Db {
    Db::connect(&DbSettings {
        max_connections: 4,
        // Tests race hundreds of requests against one database on two cores.
        acquire_timeout: std::time::Duration::from_secs(30),
        ..DbSettings::new(url)
    })
    .await
    .unwrap_or_else(|e| panic!("cannot open test database: {e}"))
}

async fn connect_and_migrate(url: &str) -> Db {
    let db = connect(url).await;
    migrate_all(&db).await;
    db
}

/// Applies every migration not applied yet.
pub async fn migrate_all(db: &Db) {
    Migrator::up(db.write(), None)
        .await
        .unwrap_or_else(|e| panic!("cannot migrate test database: {e}"));
}

/// How many migrations come before the one named `name`.
fn migrations_before(name: &str) -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("there is no migration {name}"));
    u32::try_from(position).unwrap_or_else(|_| panic!("{position} migrations"))
}

/// Applies the migrations that come before the one named `name` (for a test of that migration
/// over data written the way it was before).
pub async fn migrate_before(db: &Db, name: &str) {
    let steps = migrations_before(name);
    if steps > 0 {
        Migrator::up(db.write(), Some(steps))
            .await
            .unwrap_or_else(|e| panic!("cannot migrate test database: {e}"));
    }
}

/// Reverts the migrations from the one named `name` on (for a test that a migration fills what
/// it adds from data written before it: revert it, then [`migrate_all`] again).
pub async fn migrate_down_to_before(db: &Db, name: &str) {
    let all = u32::try_from(Migrator::migrations().len()).unwrap_or(u32::MAX);
    let steps = all - migrations_before(name);
    Migrator::down(db.write(), Some(steps))
        .await
        .unwrap_or_else(|e| panic!("cannot revert {name}: {e}"));
}

/// Whether this run is continuous integration: `CI` is set to anything but empty, `0` or
/// `false` (as CI services and `.ci/run` set it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Answers whether the PostgreSQL variant `test` can run (`SKINLEDGER_TEST_POSTGRES_URL` is
/// set). When it cannot, a CI run fails the test, so that a green PostgreSQL test has always
/// run there; any other run says `skipped` on the terminal (not only in captured output) and
/// lets it pass.
pub fn postgres_or_skip(test: &str) -> bool {
    if std::env::var(POSTGRES_URL_VAR).is_ok_and(|u| !u.is_empty()) {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: {POSTGRES_URL_VAR} is not set, and in CI every PostgreSQL test must run"
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: {POSTGRES_URL_VAR} is not set"
    );
    false
}

/// Declares each named `async fn scenario(db: Db)` as two tests, `scenario::sqlite` and
/// `scenario::postgres`; without a PostgreSQL server the PostgreSQL one is skipped, or fails in
/// CI (see [`postgres_or_skip`]).
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let test_db = $crate::testing::TestDb::sqlite().await;
                super::$scenario(test_db.db.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::testing::postgres_or_skip(concat!(module_path!(), "::postgres")) {
                    return;
                }
                let Some(test_db) = $crate::testing::TestDb::postgres().await else {
                    unreachable!("postgres_or_skip answered that PostgreSQL is configured");
                };
                super::$scenario(test_db.db.clone()).await;
            }
        }
    )*};
}
