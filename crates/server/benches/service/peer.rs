//! P1's peer: the same authenticated read as a FastAPI + SQLAlchemy service (`peer.py`) on the
//! same PostgreSQL database, started with uvicorn (one worker per core) when Python has what it
//! needs, and driven by `h2load` as skinledger's REST read is.

use std::process::Stdio;
use std::time::{Duration, Instant};

use skinledger::Config;

use crate::h2load;
use crate::reads::h2load_run;
use crate::server::{free_port, terminate};

/// What the peer needs from Python's packages.
const MODULES: &str = "fastapi, uvicorn, sqlalchemy, psycopg2, jwt";

/// The peer's rate for `reads` reads of client `id` with `token`, `in_flight` connections;
/// `None` (said why) when Python lacks a package.
pub(crate) async fn rate(
    config: &Config,
    token: &str,
    id: &str,
    in_flight: usize,
    reads: usize,
) -> Option<f64> {
    let importable = tokio::process::Command::new("python3")
        .args(["-c", &format!("import {MODULES}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !importable {
        println!(
            "  (no FastAPI peer: `pip install fastapi uvicorn sqlalchemy psycopg2-binary pyjwt`)"
        );
        return None;
    }
    let port = free_port();
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let url = config
        .database_url
        .replacen("postgres://", "postgresql+psycopg2://", 1);
    let mut peer = tokio::process::Command::new("python3")
        .args(["-m", "uvicorn", "peer:app", "--no-access-log"])
        .args(["--log-level", "warning", "--host", "127.0.0.1"])
        .args([
            "--port",
            &port.to_string(),
            "--workers",
            &workers.to_string(),
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/service"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PEER_DATABASE_URL", url)
        .env("PEER_SIGNING_KEY_FILE", config.data_dir.join("signing.key"))
        .env(
            "PEER_POOL_SIZE",
            config.database_max_connections.to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("uvicorn starts");

    let url = format!("http://127.0.0.1:{port}/v1/clients/{id}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let answered = http.get(&url).bearer_auth(token).send().await;
        match answered.map(|r| r.status().as_u16()) {
            Ok(200) => break,
            Ok(status) => panic!("the peer refuses the read: {status}"),
            Err(_) if started.elapsed() < Duration::from_secs(60) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                println!("  (the FastAPI peer did not start: {e})");
                terminate(&mut peer).await;
                return None;
            }
        }
    }
    let authorization = format!("authorization: Bearer {token}");
    let request = h2load::Request {
        url: &url,
        headers: std::slice::from_ref(&authorization),
        body: None,
        http1: true,
    };
    let (run, _) = h2load_run(
        "FastAPI + SQLAlchemy peer, h2load",
        &request,
        h2load::Load::closed(in_flight, reads),
        None,
        None,
    )
    .await;
    // uvicorn stops its workers on SIGTERM; a kill would leave them running.
    terminate(&mut peer).await;
    Some(run.per_second)
}
