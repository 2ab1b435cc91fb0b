//! Two hundred logins at once keep the server under 128 MiB, on small pages, and it gives the
//! memory back once they are over.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::{Running, free_port, ready, skinledger};

/// A line of `/proc/<pid>/status` in KiB, e.g. `VmHWM` (the peak resident set).
#[cfg(target_os = "linux")]
fn status_kib(pid: u32, field: &str) -> u64 {
    proc_kib(pid, "status", field)
}

/// A line of the file `/proc/<pid>/<file>` in KiB.
#[cfg(target_os = "linux")]
fn proc_kib(pid: u32, file: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).expect("the process file");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

#[cfg(target_os = "linux")]
#[test]
fn two_hundred_logins_at_once_keep_the_server_under_128_mib() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let child = skinledger(dir.path())
        .args(["serve", "--demo"])
        .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("skinledger serve --demo starts");
    let child = Running(child);
    let pid = child.0.id();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (answers, anonymous_ready) = runtime.block_on(async {
        let (http, base) = ready(port, Duration::from_secs(60)).await;
        let anonymous_ready = proc_kib(pid, "smaps_rollup", "Anonymous");
        println!(
            "resident set when ready: {} MiB (peak {} MiB), {} MiB of it anonymous",
            status_kib(pid, "VmRSS") / 1024,
            status_kib(pid, "VmHWM") / 1024,
            anonymous_ready / 1024
        );
        // A storm: unknown emails (each checked against a dummy hash), and the nurse's own
        // password, all at once, each from its own address (127.0.0.2 to 127.0.0.201), as a
        // botnet would: no address reaches its own throttling limit, so every password is
        // checked.
        let logins = (0..200u8).map(|i| {
            let base = base.clone();
            let http = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, i + 2]))
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client");
            async move {
                let email = if i % 4 == 0 {
                    "nurse@demo.test".to_owned()
                } else {
                    format!("nobody{i}@demo.test")
                };
                http.post(format!("{base}/v1/auth/token"))
                    .json(&json!({ "grant_type": "password", "org": "demo",
                                   "email": email, "password": "demo-password" }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string())
            }
        });
        let answers = futures::future::join_all(logins).await;
        // The storm is over: the nurse logs in as ever.
        let after = http
            .post(format!("{base}/v1/auth/token"))
            .json(&json!({ "grant_type": "password", "org": "demo",
                           "email": "nurse@demo.test", "password": "demo-password" }))
            .send()
            .await
            .expect("the token endpoint answers");
        assert_eq!(after.status(), 200);
        (answers, anonymous_ready)
    });
    // The password workers' 7 MiB each and the storm's connections are given back, not kept
    // for the next burst.
    let anonymous_after = proc_kib(pid, "smaps_rollup", "Anonymous");
    let peak_mib = status_kib(pid, "VmHWM") / 1024;
    println!("peak resident set during 200 logins at once: {peak_mib} MiB");
    let unexpected: Vec<_> = answers
        .iter()
        .filter(|a| !matches!(a, Ok(200 | 401 | 503)))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    // Right passwords arriving together are not throttled.
    assert!(
        answers.iter().filter(|a| matches!(a, Ok(200))).count() >= 1,
        "{answers:?}"
    );
    assert!(
        peak_mib < 128,
        "the server's resident set peaked at {peak_mib} MiB"
    );
    // The allocator never asks for transparent huge pages: with them each 2 MiB region it
    // touched would be resident whole.
    let huge_kib = proc_kib(pid, "smaps_rollup", "AnonHugePages");
    println!(
        "anonymous memory after the storm: {} MiB",
        anonymous_after / 1024
    );
    assert!(
        anonymous_after < anonymous_ready + 12 * 1024,
        "the server kept {} MiB more after the storm than when ready",
        (anonymous_after.saturating_sub(anonymous_ready)) / 1024
    );
    assert_eq!(
        huge_kib, 0,
        "{huge_kib} KiB of the server's memory is on huge pages"
    );
}
