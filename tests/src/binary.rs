//! The skinledger binary, for tests that start the server as a process of its own.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Mutex, Once};

/// The `skinledger` binary, built by cargo when missing or out of date. Tests in another
/// package have no `CARGO_BIN_EXE_skinledger`, so it is found next to the test executable
/// (`<target>/<profile>/deps/<test>` puts it at `<target>/<profile>/skinledger`).
pub fn server_binary() -> PathBuf {
    static BUILD: Once = Once::new();
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable lives in <target>/<profile>/deps")
        .to_owned();
    let binary = profile_dir.join(format!("skinledger{}", std::env::consts::EXE_SUFFIX));
    BUILD.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut command = std::process::Command::new(cargo);
        command.args([
            "build",
            "--quiet",
            "-p",
            "skinledger",
            "--bin",
            "skinledger",
        ]);
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some(profile) => {
                command.args(["--profile", profile]);
            }
        }
        if std::env::var_os("CARGO_TARGET_DIR").is_none()
            && let Some(target_dir) = profile_dir.parent()
        {
            command.arg("--target-dir").arg(target_dir);
        }
        // Cargo sets these for the test run; passed on, they would make build scripts that
        // watch them (ring's, for one) rerun, and the next ordinary build rerun them again.
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text == "OUT_DIR"
                || key_text.starts_with("CARGO_PKG_")
                || key_text.starts_with("CARGO_BIN_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&key_text.as_ref())
            {
                command.env_remove(&key);
            }
        }
        command.current_dir(env!("CARGO_MANIFEST_DIR"));
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "cargo build -p skinledger failed");
    });
    assert!(binary.exists(), "{} was not built", binary.display());
    binary
}

/// A port no one listens on, never the same twice in this test process: tests run at once, and
/// two servers started on one port would answer each other's requests.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        if GIVEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(port)
        {
            return port;
        }
    }
}
