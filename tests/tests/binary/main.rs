//! The `skinledger` binary as a newcomer runs it: `--help` on every command, `serve --demo` in
//! an empty folder answering `/readyz` and a demo login, `demo` twice, and `org create` refusing
//! a slug that exists.
//!
//! These tests run the binary built by cargo (see `skinledger_e2e::server_binary`), each in a
//! fresh temporary folder, with no `SKINLEDGER_*` variable but the ones set here. The embedded
//! SQLite default is what a newcomer gets, so these run once, not per backend.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

mod commands;
mod memory;
mod observability;
mod serving;

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use skinledger_e2e::{free_port, server_binary};

/// The command in `dir`, with the environment of a fresh shell as far as skinledger sees it.
fn skinledger(dir: &Path) -> Command {
    let mut command = Command::new(server_binary());
    command.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SKINLEDGER_") {
            command.env_remove(key);
        }
    }
    command.env("RUST_LOG", "warn");
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    skinledger(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run skinledger {args:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits (up to a minute) until the server at `base` answers `/readyz` with 200.
async fn wait_until_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz never answered 200");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An HTTP client whose requests may take up to `timeout`, and the base address of the server
/// on `port` once it is ready.
async fn ready(port: u16, timeout: Duration) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("an HTTP client");
    let base = format!("http://127.0.0.1:{port}");
    wait_until_ready(&http, &base).await;
    (http, base)
}

/// Stops the child on every path out of the test, so no server outlives it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
