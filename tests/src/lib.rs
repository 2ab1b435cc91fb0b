//! The harness of skinledger's black-box tests: a real server on a free port over a fresh
//! database (SQLite always, PostgreSQL when `SKINLEDGER_TEST_POSTGRES_URL` is set), called as
//! clients call it - REST with reqwest, gRPC with a tonic client generated from `proto/`.
//!
//! Organisations can only be created from the command line, so the harness creates them through
//! the same use case the CLI calls (`App::create_organization`); everything else goes over the
//! wire.

#![expect(
    clippy::expect_used,
    reason = "test harness: a step that cannot complete fails the test at that step"
)]

mod answers;
mod binary;
pub mod replica;
mod server;

pub use answers::{Answer, Org, Tokens, authorized, grant, pb_grant, tokens_of};
pub use binary::{free_port, server_binary};
pub use server::{TestServer, test_config};

/// The gRPC contract, as client stubs.
#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
pub mod pb {
    tonic::include_proto!("skinledger.v1");
}

/// The secret the test server signs access tokens with, so tests can forge tokens with it.
/// It is not base64, so the server uses these bytes as they are.
pub const SIGNING_KEY: &[u8] = b"e2e-signing-key:0123456789-abcdefghijklmnopqrstuv";

/// The contents of a signing key file holding [`SIGNING_KEY`]: base64, as the server requires.
pub fn signing_key_file() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(SIGNING_KEY)
}

/// Writes the signing key file at `path`, readable by its owner only (the server refuses a key
/// others may read).
pub fn write_signing_key(path: &std::path::Path) {
    std::fs::write(path, signing_key_file()).expect("the signing key is written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .expect("the signing key is the owner's alone");
    }
}
/// Another secret of the same length, for tokens the server must refuse.
pub const OTHER_KEY: &[u8] = b"e2e-other-key!!!:not-base64:0123456789-abcdefghijklmnop";
/// The `iss` the test server issues and expects.
pub const ISSUER: &str = "skinledger-e2e";
/// The `aud` the test server issues and expects.
pub const AUDIENCE: &str = "skinledger-e2e-clients";
/// The password of every account the harness creates.
pub const PASSWORD: &str = "correct-horse-battery-staple";

/// The database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the server named by `SKINLEDGER_TEST_POSTGRES_URL`.
    Postgres,
}

/// Whether the PostgreSQL test `test` runs: skipped with a line on the terminal when no server
/// is configured, or failed in CI (see `skinledger_store::testing::postgres_or_skip`).
pub fn postgres_or_skip(test: &str) -> bool {
    skinledger_store::testing::postgres_or_skip(test)
}

/// Declares each named `async fn scenario(backend: Backend)` as two tests, `scenario::sqlite`
/// and `scenario::postgres`; without a PostgreSQL server the PostgreSQL one is skipped, or fails
/// in CI (as `skinledger_store::on_both_backends!` does).
#[macro_export]
macro_rules! e2e_on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::postgres_or_skip(concat!(module_path!(), "::postgres")) {
                    return;
                }
                super::$scenario($crate::Backend::Postgres).await;
            }
        }
    )*};
}
