//! Serving: the demo in an empty folder, bad configurations, and the data folder's owner.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use skinledger_e2e::server_binary;

use crate::{Running, free_port, ready, run, skinledger, text};

#[test]
fn serve_demo_in_an_empty_folder_answers_and_the_demo_nurse_logs_in() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let mut child = skinledger(dir.path())
        .args(["serve", "--demo"])
        .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("skinledger serve --demo starts");
    // The logins go to stderr, so that stdout carries only the log.
    let stdout = child.stderr.take().expect("stderr");
    let child = Running(child);

    // The logins are printed before serving.
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !printed
        .iter()
        .any(|l: &String| l.contains("frontdesk@demo.test"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(_) => panic!("the demo logins were not printed; got {printed:?}"),
        }
    }
    let printed = printed.join("\n");
    for email in [
        "admin@demo.test",
        "manager@demo.test",
        "physician@demo.test",
        "nurse@demo.test",
        "esthetician@demo.test",
        "frontdesk@demo.test",
    ] {
        assert!(printed.contains(email), "{email} not printed:\n{printed}");
    }
    assert!(printed.contains("demo-password"), "{printed}");

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let (http, base) = ready(port, Duration::from_secs(10)).await;

        let token: serde_json::Value = http
            .post(format!("{base}/v1/auth/token"))
            .json(&json!({ "grant_type": "password", "org": "demo",
                           "email": "nurse@demo.test", "password": "demo-password" }))
            .send()
            .await
            .expect("the token endpoint answers")
            .json()
            .await
            .expect("a JSON answer");
        let access = token["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {token}"));
        let me: serde_json::Value = http
            .get(format!("{base}/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .expect("/v1/me answers")
            .json()
            .await
            .expect("a JSON answer");
        assert_eq!(me["email"], "nurse@demo.test");
        assert_eq!(me["organization_slug"], "demo");
        assert_eq!(me["roles"][0]["role"], "nurse", "{me}");
    });

    // SIGTERM: a graceful stop, exit status 0.
    let mut child = child;
    #[cfg(unix)]
    {
        let pid = child.0.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.0.try_wait().expect("the child's status") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "the server stopped with {status}");
    }
    #[cfg(not(unix))]
    {
        let _ = child.0.kill();
    }
    assert!(
        dir.path().join("data").join("signing.key").exists(),
        "no signing key was generated under ./data"
    );
}

#[cfg(unix)]
#[test]
fn each_bad_configuration_stops_the_server_at_once_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let private = |name: &str, contents: &str, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join(name);
        std::fs::write(&path, contents).expect("a key file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    };
    let short = private("short.key", "c2hvcnQga2V5\n", 0o600);
    let placeholder = private(
        "placeholder.key",
        "REPLACE_ME_WITH_OUTPUT_OF_openssl_rand_-base64_48",
        0o600,
    );
    let shared = private("shared.key", &skinledger_e2e::signing_key_file(), 0o644);
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken_addr = taken.local_addr().expect("an address").to_string();
    let closed = free_port();
    let cases: Vec<(Vec<(&str, String)>, String)> = vec![
        (
            vec![("SKINLEDGER_SIGNING_KEY_FILE", short.display().to_string())],
            "fewer than 32".into(),
        ),
        (
            vec![(
                "SKINLEDGER_SIGNING_KEY_FILE",
                placeholder.display().to_string(),
            )],
            "placeholder".into(),
        ),
        (
            vec![("SKINLEDGER_SIGNING_KEY_FILE", shared.display().to_string())],
            "chmod 600".into(),
        ),
        (
            vec![("SKINLEDGER_TLS_CERT_FILE", "/etc/hostname".into())],
            "tls_key_file".into(),
        ),
        (
            vec![("SKINLEDGER_WORKER_THREADS", "100000".into())],
            "worker_threads must be at most".into(),
        ),
        (
            vec![("SKINLEDGER_LISTEN_ADRESS", "127.0.0.1:9".into())],
            "SKINLEDGER_LISTEN_ADRESS".into(),
        ),
        (
            vec![("SKINLEDGER_LISTEN_ADDR", taken_addr.clone())],
            format!("cannot listen on {taken_addr}"),
        ),
        (
            vec![(
                "SKINLEDGER_DATABASE_URL",
                format!("postgres://app:secret@127.0.0.1:{closed}/skinledger"),
            )],
            format!("cannot reach PostgreSQL at 127.0.0.1:{closed}"),
        ),
    ];
    // Built before the clock starts.
    server_binary();
    for (env, expected) in cases {
        let started = Instant::now();
        let mut command = skinledger(dir.path());
        command.arg("serve").env("RUST_BACKTRACE", "1");
        for (key, value) in &env {
            command.env(key, value);
        }
        let output = command.output().expect("skinledger runs");
        let took = started.elapsed();
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{env:?} started");
        assert!(took < Duration::from_secs(5), "{env:?} took {took:?}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{env:?}: not one line:\n{stderr}");
        assert!(lines[0].contains(&expected), "{env:?}: {stderr}");
        assert!(
            !stderr.contains("secret"),
            "the password was printed: {stderr}"
        );
    }
    drop(taken);
}

#[cfg(unix)]
#[test]
fn a_fresh_start_keeps_the_data_folder_and_database_files_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let seeded = run(dir.path(), &["demo"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let data = dir.path().join("data");
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&data), 0o700, "the data folder");
    for entry in std::fs::read_dir(&data).expect("the data folder") {
        let path = entry.expect("an entry").path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others: {:o}",
            path.display(),
            mode(&path)
        );
    }
    assert!(data.join("skinledger.db").exists());
}

/// The threads serving requests are as many as `worker_threads` says, whatever the cores, as
/// the runtime itself counts them in `/metrics`.
#[test]
fn the_server_serves_on_as_many_worker_threads_as_configured() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for asked in [1, 5] {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let port = free_port();
        let _child = Running(
            skinledger(dir.path())
                .arg("serve")
                .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
                .env("SKINLEDGER_WORKER_THREADS", asked.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("skinledger serve starts"),
        );
        let metrics = runtime.block_on(async {
            let (http, base) = ready(port, Duration::from_secs(30)).await;
            http.get(format!("{base}/metrics"))
                .send()
                .await
                .expect("/metrics answers")
                .text()
                .await
                .expect("a text answer")
        });
        let line = format!("skinledger_runtime_worker_threads {asked}");
        assert!(
            metrics.lines().any(|l| l == line),
            "worker_threads = {asked}, no `{line}` in:\n{metrics}"
        );
    }
}
