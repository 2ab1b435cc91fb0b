//! Configuration: defaults, then a TOML file (`--config`), then `SKINLEDGER_*` variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use skinledger_app::SigningKey;
use skinledger_domain::local_time::TimeZone;
use skinledger_store::db::redact_url;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The server's settings.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where REST and gRPC listen.
    pub listen_addr: SocketAddr,
    /// `sqlite://...` (the embedded default) or `postgres://...`.
    pub database_url: String,
    /// Connections in the pool (PostgreSQL) or of SQLite's readers.
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before answering 503, in
    /// milliseconds (SQLite's writers queue up to 30 s for their one connection).
    pub database_acquire_timeout_ms: u64,
    /// How long opening a PostgreSQL connection may take, in milliseconds.
    pub database_connect_timeout_ms: u64,
    /// The longest a PostgreSQL statement may run, in milliseconds; 0 for no limit.
    pub database_statement_timeout_ms: u64,
    /// Where the embedded database and a generated signing key live.
    pub data_dir: PathBuf,
    /// The `iss` of access tokens.
    pub token_issuer: String,
    /// The `aud` of access tokens.
    pub token_audience: String,
    /// Access token lifetime in seconds.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime in seconds.
    pub refresh_token_ttl_secs: u64,
    /// A file holding the token signing secret; generated under `data_dir` when unset.
    pub signing_key_file: Option<PathBuf>,
    /// `pretty` or `json`.
    pub log_format: LogFormat,
    /// The largest request body, in bytes.
    pub body_limit_bytes: usize,
    /// Whether `serve` applies migrations at start (a Kubernetes Job may do it instead).
    pub run_migrations: bool,
    /// Seconds the server keeps serving, not ready, after SIGTERM before it stops accepting.
    pub shutdown_grace_secs: u64,
    /// The IANA time zone of clinics opened without one (and of screenings taken at no
    /// clinic).
    pub default_timezone: TimeZone,
    /// Seconds a client may take to send a request's headers (on a new connection, including
    /// the TLS handshake); an HTTP/1 connection waiting for its next request is closed after
    /// as long.
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may pause between two chunks before the request is answered 408.
    pub body_read_timeout_secs: u64,
    /// Seconds a connection with no request under way stays open.
    pub idle_timeout_secs: u64,
    /// Connections open at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Threads that serve requests; 0 for one per core. Fewer than the cores leaves the rest
    /// to a database on the same machine (docs/operations.md, "Threads").
    pub worker_threads: usize,
    /// HTTP/2 streams open at once on one connection.
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2 streams a client may reset before the connection is closed with GOAWAY.
    pub http2_max_pending_reset_streams: usize,
    /// A PEM certificate chain: with `tls_key_file`, the server speaks TLS itself (HTTP/2 by
    /// ALPN for gRPC).
    pub tls_cert_file: Option<PathBuf>,
    /// The PEM private key of `tls_cert_file`; readable by the server's user alone.
    pub tls_key_file: Option<PathBuf>,
    /// Whether clients reach the server over HTTPS through a proxy: answers then carry
    /// `Strict-Transport-Security` (always the case when the server speaks TLS itself).
    pub hsts: bool,
    /// When set, `/metrics` and gRPC reflection are served here only, not on `listen_addr`.
    pub ops_listen_addr: Option<SocketAddr>,
    /// Proxies in front of the server whose `X-Forwarded-For` entries are believed: 0 uses the
    /// connection's address; 1 the address the nearest proxy saw; and so on.
    pub trusted_proxy_hops: u8,
    /// Failed logins (of any account, and client-credential requests) from one address in 15
    /// minutes before further attempts from it are slowed down.
    pub login_failures_per_source: u64,
    /// Days integration events are kept in the feed; a cursor older than that answers 410.
    pub event_retention_days: u64,
    /// Milliseconds a resolved caller (a staff member's status, session and roles, or an API
    /// client's grants) is used again without asking the database: the longest a deactivation,
    /// a change of roles or password, or a revoked API client made through another replica
    /// takes to apply here (the replica that makes it applies it at once). 0 asks the database
    /// on every request.
    pub caller_cache_ms: u64,
    /// Whether webhooks may be delivered to private, loopback, link-local and other non-public
    /// addresses (endpoints inside the operator's own network). Off: such endpoints are
    /// refused when registered and when delivered to.
    pub webhook_allow_private_addresses: bool,
    /// Non-public addresses webhooks may reach although `webhook_allow_private_addresses` is
    /// off, e.g. `["10.0.4.7"]` for one receiver inside the network.
    pub webhook_allowed_addresses: Vec<std::net::IpAddr>,
    /// Seconds one webhook request may take, connecting included.
    pub webhook_timeout_secs: u64,
    /// Milliseconds before a failed webhook delivery is first retried; later retries wait 6,
    /// 24, 120, 360 and then 720 times as long (5 s, 30 s, 2 min, 10 min, 30 min, hourly).
    pub webhook_retry_base_ms: u64,
    /// Seconds a failing webhook delivery is retried after its first attempt before it is
    /// given up and its endpoint disabled.
    pub webhook_retry_window_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://data/skinledger.db?mode=rwc".into(),
            database_max_connections: 8,
            database_acquire_timeout_ms: 1_500,
            database_connect_timeout_ms: 1_500,
            database_statement_timeout_ms: 30_000,
            data_dir: PathBuf::from("data"),
            token_issuer: "skinledger".into(),
            token_audience: "skinledger-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 60 * 60,
            signing_key_file: None,
            log_format: LogFormat::Pretty,
            body_limit_bytes: 1024 * 1024,
            run_migrations: true,
            shutdown_grace_secs: 5,
            default_timezone: TimeZone::UTC,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            idle_timeout_secs: 120,
            max_connections: 1024,
            worker_threads: 0,
            http2_max_concurrent_streams: 256,
            http2_max_pending_reset_streams: 20,
            tls_cert_file: None,
            tls_key_file: None,
            hsts: false,
            ops_listen_addr: None,
            trusted_proxy_hops: 0,
            login_failures_per_source: 20,
            event_retention_days: 30,
            caller_cache_ms: 1_000,
            webhook_allow_private_addresses: false,
            webhook_allowed_addresses: Vec::new(),
            webhook_timeout_secs: 10,
            webhook_retry_base_ms: 5_000,
            webhook_retry_window_secs: 24 * 3600,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen_addr", &self.listen_addr)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field(
                "database_acquire_timeout_ms",
                &self.database_acquire_timeout_ms,
            )
            .field(
                "database_connect_timeout_ms",
                &self.database_connect_timeout_ms,
            )
            .field(
                "database_statement_timeout_ms",
                &self.database_statement_timeout_ms,
            )
            .field("data_dir", &self.data_dir)
            .field("token_issuer", &self.token_issuer)
            .field("token_audience", &self.token_audience)
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("refresh_token_ttl_secs", &self.refresh_token_ttl_secs)
            .field("signing_key_file", &self.signing_key_file)
            .field("log_format", &self.log_format)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("run_migrations", &self.run_migrations)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("default_timezone", &self.default_timezone)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("body_read_timeout_secs", &self.body_read_timeout_secs)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("worker_threads", &self.worker_threads)
            .field(
                "http2_max_concurrent_streams",
                &self.http2_max_concurrent_streams,
            )
            .field(
                "http2_max_pending_reset_streams",
                &self.http2_max_pending_reset_streams,
            )
            .field("tls_cert_file", &self.tls_cert_file)
            .field("tls_key_file", &self.tls_key_file)
            .field("hsts", &self.hsts)
            .field("ops_listen_addr", &self.ops_listen_addr)
            .field("trusted_proxy_hops", &self.trusted_proxy_hops)
            .field("login_failures_per_source", &self.login_failures_per_source)
            .field("event_retention_days", &self.event_retention_days)
            .field("caller_cache_ms", &self.caller_cache_ms)
            .field(
                "webhook_allow_private_addresses",
                &self.webhook_allow_private_addresses,
            )
            .field("webhook_allowed_addresses", &self.webhook_allowed_addresses)
            .field("webhook_timeout_secs", &self.webhook_timeout_secs)
            .field("webhook_retry_base_ms", &self.webhook_retry_base_ms)
            .field("webhook_retry_window_secs", &self.webhook_retry_window_secs)
            .finish()
    }
}

/// The environment variables read, each `SKINLEDGER_` + the setting in capitals.
pub const ENV_KEYS: &[&str] = &[
    "listen_addr",
    "database_url",
    "database_max_connections",
    "database_acquire_timeout_ms",
    "database_connect_timeout_ms",
    "database_statement_timeout_ms",
    "data_dir",
    "token_issuer",
    "token_audience",
    "access_token_ttl_secs",
    "refresh_token_ttl_secs",
    "signing_key_file",
    "log_format",
    "body_limit_bytes",
    "run_migrations",
    "shutdown_grace_secs",
    "default_timezone",
    "header_read_timeout_secs",
    "body_read_timeout_secs",
    "idle_timeout_secs",
    "max_connections",
    "worker_threads",
    "http2_max_concurrent_streams",
    "http2_max_pending_reset_streams",
    "tls_cert_file",
    "tls_key_file",
    "hsts",
    "ops_listen_addr",
    "trusted_proxy_hops",
    "login_failures_per_source",
    "event_retention_days",
    "caller_cache_ms",
    "webhook_allow_private_addresses",
    "webhook_allowed_addresses",
    "webhook_timeout_secs",
    "webhook_retry_base_ms",
    "webhook_retry_window_secs",
];

/// The most threads `worker_threads` may ask for.
pub const MAX_WORKER_THREADS: usize = 1024;

/// Variables of the test suite, which share the prefix and are not settings.
const TEST_ENV_PREFIX: &str = "SKINLEDGER_TEST_";

/// The signing key file of the example Kubernetes Secret, which must never be used.
const PLACEHOLDER: &str = "REPLACE_ME";

impl Config {
    /// Loads defaults, then `file` when given, then the environment. A `SKINLEDGER_*` variable
    /// that names no setting is refused, naming it (a misspelling would otherwise be ignored).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let unknown: Vec<String> = std::env::vars_os()
            .filter_map(|(key, _)| key.into_string().ok())
            .filter(|key| {
                key.strip_prefix("SKINLEDGER_").is_some_and(|setting| {
                    !key.starts_with(TEST_ENV_PREFIX)
                        && !ENV_KEYS.contains(&setting.to_lowercase().as_str())
                })
            })
            .collect();
        if !unknown.is_empty() {
            anyhow::bail!(
                "unknown setting {} in the environment; the settings are SKINLEDGER_ + one of: {}",
                unknown.join(", "),
                ENV_KEYS.join(", ")
            );
        }
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(Env::prefixed("SKINLEDGER_").only(ENV_KEYS))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.check()?;
        Ok(config)
    }

    /// Settings that cannot work together, or at all.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            anyhow::bail!(
                "invalid configuration: tls_cert_file and tls_key_file go together; set both or neither"
            );
        }
        for (name, value) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_connections", self.max_connections as u64),
            (
                "http2_max_concurrent_streams",
                u64::from(self.http2_max_concurrent_streams),
            ),
            ("login_failures_per_source", self.login_failures_per_source),
            ("event_retention_days", self.event_retention_days),
            ("webhook_timeout_secs", self.webhook_timeout_secs),
            ("webhook_retry_base_ms", self.webhook_retry_base_ms),
            ("webhook_retry_window_secs", self.webhook_retry_window_secs),
        ] {
            if value == 0 {
                anyhow::bail!("invalid configuration: {name} must be at least 1");
            }
        }
        if self.worker_threads > MAX_WORKER_THREADS {
            anyhow::bail!(
                "invalid configuration: worker_threads must be at most {MAX_WORKER_THREADS} (0 for one per core)"
            );
        }
        if self.ops_listen_addr == Some(self.listen_addr) {
            anyhow::bail!("invalid configuration: ops_listen_addr must differ from listen_addr");
        }
        Ok(())
    }

    /// The TLS acceptor, when the server speaks TLS itself. The key file must be the server's
    /// alone, as the signing key must.
    pub fn tls(&self) -> anyhow::Result<Option<tokio_rustls::TlsAcceptor>> {
        let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return Ok(None);
        };
        refuse_world_readable(key, "TLS key")?;
        crate::serving::tls_acceptor(cert, key).map(Some)
    }

    /// Reads the signing key, or generates one under `data_dir` on first start (with a warning:
    /// replicas must share one key, so production configures a file).
    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        let path = match &self.signing_key_file {
            Some(path) => path.clone(),
            None => {
                let path = self.data_dir.join("signing.key");
                if !path.exists() {
                    tracing::warn!(path = %path.display(), "no signing_key_file configured: generating a signing key; configure one shared by every replica in production");
                    let mut folder = std::fs::DirBuilder::new();
                    folder.recursive(true);
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::DirBuilderExt;
                        folder.mode(0o700);
                    }
                    folder.create(&self.data_dir)?;
                    let mut bytes = [0u8; 48];
                    rand::rng().fill_bytes(&mut bytes);
                    write_private(&path, STANDARD.encode(bytes).as_bytes())?;
                }
                path
            }
        };
        refuse_world_readable(&path, "signing key")?;
        let raw = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read signing key {}: {e}", path.display()))?;
        signing_key_from(&raw).map_err(|e| anyhow::anyhow!("signing key {}: {e}", path.display()))
    }
}

/// A signing key file's contents: base64 of at least 32 random bytes, surrounding whitespace
/// ignored; the example Secret's placeholder is refused.
fn signing_key_from(text: &str) -> anyhow::Result<SigningKey> {
    const HOW: &str = "generate one with `openssl rand -base64 48`";
    if text.contains(PLACEHOLDER) {
        anyhow::bail!("is the example's placeholder, not a key; {HOW}");
    }
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| anyhow::anyhow!("is not base64; {HOW}"))?;
    if bytes.len() < 32 {
        anyhow::bail!("holds {} bytes, fewer than 32; {HOW}", bytes.len());
    }
    SigningKey::new(bytes).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Refuses a secret file every user of the machine may read: whoever reads the signing key can
/// mint tokens for any staff member. Owner-only (0600) or owner and group (0640, as Kubernetes
/// mounts secrets for the pod's group) are accepted. Symbolic links are followed to the file.
fn refuse_world_readable(path: &Path, what: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot read {what} {}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o007 != 0 {
            anyhow::bail!(
                "{what} {} may be read by every user of this machine (mode {:o}); make it the server's alone: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.access_token_ttl_secs, 900);
        assert_eq!(c.refresh_token_ttl_secs, 2_592_000);
        assert_eq!(c.body_limit_bytes, 1_048_576);
        assert!(c.database_url.starts_with("sqlite://data/"));
        assert_eq!(c.worker_threads, 0, "one per core");
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail API returns its own error"
    )]
    fn a_file_overrides_defaults_and_the_environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("skinledger.toml", "listen_addr = \"0.0.0.0:9000\"\nlog_format = \"json\"\ntoken_issuer = \"from-file\"")?;
            jail.set_env("SKINLEDGER_TOKEN_ISSUER", "from-env");
            jail.set_env("SKINLEDGER_TEST_POSTGRES_URL", "postgres://ignored");
            let c = Config::load(Some(Path::new("skinledger.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.listen_addr.to_string(), "0.0.0.0:9000");
            assert_eq!(c.log_format, LogFormat::Json);
            assert_eq!(c.token_issuer, "from-env");
            Ok(())
        });
    }

    #[test]
    fn a_signing_key_is_base64_of_at_least_32_bytes_and_never_the_placeholder() {
        let good = STANDARD.encode([7u8; 48]);
        assert!(signing_key_from(&format!("  {good}\n")).is_ok());
        for (text, complaint) in [
            (STANDARD.encode([7u8; 24]), "fewer than 32"),
            ("not base64 at all!".to_owned(), "not base64"),
            (
                "REPLACE_ME_WITH_OUTPUT_OF_openssl_rand_-base64_48".to_owned(),
                "placeholder",
            ),
        ] {
            let refused = signing_key_from(&text).err().map(|e| e.to_string());
            assert!(
                refused.as_deref().is_some_and(|e| e.contains(complaint)),
                "{text}: {refused:?}"
            );
        }
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail API returns its own error"
    )]
    fn a_misspelled_setting_in_the_environment_is_refused_by_name() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SKINLEDGER_LISTEN_ADRESS", "0.0.0.0:9000");
            let refused = Config::load(None).err().map(|e| e.to_string());
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|e| e.contains("SKINLEDGER_LISTEN_ADRESS")),
                "{refused:?}"
            );
            Ok(())
        });
    }

    #[test]
    fn settings_that_cannot_work_are_refused_by_name() {
        assert!(Config::default().check().is_ok());
        for (config, named) in [
            (
                Config {
                    tls_cert_file: Some("tls.crt".into()),
                    ..Config::default()
                },
                "tls_key_file",
            ),
            (
                Config {
                    header_read_timeout_secs: 0,
                    ..Config::default()
                },
                "header_read_timeout_secs",
            ),
            (
                Config {
                    max_connections: 0,
                    ..Config::default()
                },
                "max_connections",
            ),
            (
                Config {
                    worker_threads: MAX_WORKER_THREADS + 1,
                    ..Config::default()
                },
                "worker_threads",
            ),
            (
                Config {
                    ops_listen_addr: Some(Config::default().listen_addr),
                    ..Config::default()
                },
                "ops_listen_addr",
            ),
        ] {
            let refused = config.check().err().map(|e| e.to_string());
            assert!(
                refused.as_deref().is_some_and(|e| e.contains(named)),
                "{named}: {refused:?}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let c = Config {
            database_url: "postgres://app:hunter2@db/skinledger".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"));
    }

    #[cfg(unix)]
    #[test]
    fn a_signing_key_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("signing.key");
        std::fs::write(&path, STANDARD.encode([7u8; 48])).expect("written");
        let c = Config {
            signing_key_file: Some(path.clone()),
            ..Config::default()
        };
        for (mode, accepted) in [(0o644, false), (0o604, false), (0o600, true), (0o640, true)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let answer = c.signing_key().err().map(|e| e.to_string());
            assert_eq!(answer.is_none(), accepted, "{mode:o}: {answer:?}");
            if !accepted {
                assert!(
                    answer.is_some_and(|e| e.contains("chmod 600")),
                    "{mode:o} names the fix"
                );
            }
        }
    }

    #[test]
    fn a_signing_key_is_generated_once_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let first = c.signing_key().expect("generated");
        let second = c.signing_key().expect("read back");
        assert_eq!(first.expose(), second.expose());
        assert!(first.expose().len() >= 32);
    }
}
