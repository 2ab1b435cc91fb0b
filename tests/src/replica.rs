//! `skinledger` as separate processes on one database, as a chain deploys it: `serve` replicas
//! and the command line, each started from the binary cargo built (see
//! [`server_binary`](crate::server_binary)).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{PASSWORD, free_port};

/// A command of `binary` on the database at `database_url`, signing with the key file `key`,
/// its data under `dir/<data>`, with none of this process's `SKINLEDGER_` variables.
pub fn command(binary: &Path, database_url: &str, key: &Path, dir: &Path, data: &str) -> Command {
    let mut command = Command::new(binary);
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("SKINLEDGER_") {
            command.env_remove(var);
        }
    }
    command
        .current_dir(dir)
        .env("SKINLEDGER_DATABASE_URL", database_url)
        .env("SKINLEDGER_SIGNING_KEY_FILE", key)
        .env("SKINLEDGER_DATA_DIR", dir.join(data))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

/// Runs `skinledger <args>` from the command line on the database and waits for it.
pub async fn run_cli(
    binary: &Path,
    database_url: &str,
    key: &Path,
    dir: &Path,
    args: &[&str],
) -> Output {
    tokio::process::Command::from(command(binary, database_url, key, dir, "cli"))
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("skinledger {} does not run: {e}", args.join(" ")))
}

/// Creates an organisation with the command line on the database, its administrator
/// `admin@<slug>.test` with the password [`PASSWORD`].
pub async fn create_org_from_cli(
    binary: &Path,
    database_url: &str,
    key: &Path,
    dir: &Path,
    slug: &str,
) {
    let name = format!("{slug} clinics");
    let admin = format!("admin@{slug}.test");
    let created = run_cli(
        binary,
        database_url,
        key,
        dir,
        &[
            "org",
            "create",
            "--slug",
            slug,
            "--name",
            &name,
            "--admin-email",
            &admin,
            "--admin-password",
            PASSWORD,
        ],
    )
    .await;
    assert!(
        created.status.success(),
        "org create failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
}

/// A `skinledger serve` child process, killed when dropped - also when the test panics, when
/// its log is shown.
pub struct Replica {
    name: &'static str,
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    log: PathBuf,
}

impl Replica {
    /// Starts `skinledger serve` on a free port, its log in `dir/<name>.log`.
    pub fn start(
        binary: &Path,
        name: &'static str,
        database_url: &str,
        key: &Path,
        dir: &Path,
    ) -> Self {
        Self::start_with(binary, name, database_url, key, dir, &[])
    }

    /// As [`Replica::start`], with `settings` (environment variables) added.
    pub fn start_with(
        binary: &Path,
        name: &'static str,
        database_url: &str,
        key: &Path,
        dir: &Path,
        settings: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).unwrap_or_else(|e| panic!("no log file: {e}"));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("no second handle on the log: {e}"));
        let child = command(binary, database_url, key, dir, name)
            .arg("serve")
            .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("SKINLEDGER_DATABASE_MAX_CONNECTIONS", "8")
            .envs(settings.iter().copied())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("skinledger serve does not start: {e}"));
        Self {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Waits until it answers `/readyz`; fails when it exits or takes over a minute.
    pub async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|e| panic!("no HTTP client: {e}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the {} server exited with {status}", self.name);
            }
            if let Ok(response) = http.get(format!("{}/readyz", self.base)).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the {} server was not ready within 60 seconds",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of the {} server's log:", self.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}
