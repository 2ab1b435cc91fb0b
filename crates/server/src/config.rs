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
];

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
        figment
            .merge(Env::prefixed("SKINLEDGER_").only(ENV_KEYS))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
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
    fn debug_output_hides_the_database_password() {
        let c = Config {
            database_url: "postgres://app:hunter2@db/skinledger".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"));
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
