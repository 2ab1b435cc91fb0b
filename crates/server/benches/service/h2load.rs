//! The reads driven by `h2load` (nghttp2's load generator), when it is installed: a client of
//! its own process, written in C, so that the load takes less of the two cores the server and
//! the database share than the benchmark's own Rust client does.

use std::process::Stdio;

/// What one `h2load` run measured.
pub(crate) struct Run {
    pub(crate) per_second: f64,
    /// Answers with a 2xx status.
    pub(crate) ok: u64,
    /// Bytes of the answers' bodies (HTTP/2 `DATA`), all answers together.
    pub(crate) body_bytes: u64,
    /// Each request's start (from the first request's) and time to its whole answer, when the
    /// run was [`Load::paced`].
    pub(crate) latencies: Vec<(std::time::Duration, std::time::Duration)>,
}

/// A request for `h2load`: `GET url`, or `POST url` with the body in `body` (a gRPC call),
/// over HTTP/1.1 or HTTP/2 (prior knowledge, no TLS).
pub(crate) struct Request<'a> {
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [String],
    pub(crate) body: Option<&'a std::path::Path>,
    pub(crate) http1: bool,
}

/// Whether `h2load` can be run here.
pub(crate) async fn installed() -> bool {
    tokio::process::Command::new("h2load")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// How `h2load` sends its requests.
#[derive(Clone, Copy)]
pub(crate) struct Load {
    /// Connections, each a client of its own.
    pub(crate) connections: usize,
    /// Requests in flight on each connection (HTTP/2 streams; 1 over HTTP/1.1).
    pub(crate) streams: usize,
    /// Requests in all.
    pub(crate) requests: usize,
    /// The pace of the requests, or as fast as answers come.
    pub(crate) paced: Option<Pace>,
}

/// A paced run's requests.
#[derive(Clone, Copy)]
pub(crate) struct Pace {
    /// Requests a second across all connections.
    pub(crate) per_second: f64,
    /// Whether the connections are opened spread over one interval between a connection's
    /// requests, so that their requests arrive spread out as independent clients' do; opened
    /// all at once, every connection sends at the same tick.
    pub(crate) spread: bool,
}

impl Load {
    /// `requests` requests on `connections` connections, one at a time on each, as fast as
    /// answers come.
    pub(crate) fn closed(connections: usize, requests: usize) -> Self {
        Self {
            connections,
            streams: 1,
            requests,
            paced: None,
        }
    }
}

/// Runs `request` under `load`.
pub(crate) async fn run(request: &Request<'_>, load: Load) -> Result<Run, String> {
    let mut command = tokio::process::Command::new("h2load");
    command
        .args(["-c", &load.connections.to_string()])
        .args(["-m", &load.streams.to_string()])
        .args(["-n", &load.requests.to_string()]);
    // A paced run logs each request, for its latencies.
    let log = match load.paced {
        Some(Pace { per_second, spread }) => {
            let log = tempfile::NamedTempFile::new().map_err(|e| format!("a log file: {e}"))?;
            let each = per_second / load.connections as f64;
            command
                .arg(format!("--rps={each:.2}"))
                .arg("--log-file")
                .arg(log.path());
            if spread {
                // h2load opens `-r` connections each `--rate-period` (whole milliseconds), and
                // each starts its clock when it opens.
                let interval_ms = (1000.0 / each).floor().max(1.0);
                let per_ms = (load.connections as f64 / interval_ms).ceil();
                command
                    .arg(format!("--rate={per_ms}"))
                    .arg("--rate-period=1ms");
            }
            Some(log)
        }
        None => None,
    };
    if let Some(body) = request.body {
        command.arg("-d").arg(body);
    }
    if request.http1 {
        command.arg("--h1");
    }
    for header in request.headers {
        command.args(["-H", header]);
    }
    let output = command
        .arg(request.url)
        .output()
        .await
        .map_err(|e| format!("h2load: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "h2load failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut run = parse(&text).ok_or_else(|| format!("h2load printed no figures: {text}"))?;
    if let Some(log) = log {
        let lines = std::fs::read_to_string(log.path()).map_err(|e| format!("its log: {e}"))?;
        run.latencies = latencies(&lines).ok_or_else(|| "its log does not parse".to_owned())?;
    }
    Ok(run)
}

/// The requests of `h2load --log-file`'s lines (start time in microseconds since the epoch,
/// status, microseconds to the end of the answer, separated by tabs): each one's start, from
/// the first one's, and its latency.
fn latencies(log: &str) -> Option<Vec<(std::time::Duration, std::time::Duration)>> {
    let micros = std::time::Duration::from_micros;
    let logged: Vec<(u64, u64)> = log
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let started = fields.next()?.trim().parse::<f64>().ok()? as u64;
            let took = fields.nth(1)?.trim().parse().ok()?;
            Some((started, took))
        })
        .collect::<Option<_>>()?;
    let first = logged
        .iter()
        .map(|&(started, _)| started)
        .min()
        .unwrap_or(0);
    Some(
        logged
            .into_iter()
            .map(|(started, took)| (micros(started - first), micros(took)))
            .collect(),
    )
}

/// The figures of `h2load`'s report: `finished in 14.18s, 4231.67 req/s, ...`,
/// `status codes: 60000 2xx, ...` and `traffic: ... headers (...), 22.89MB (24000000) data`.
fn parse(text: &str) -> Option<Run> {
    let line = |prefix: &str| text.lines().find_map(|l| l.strip_prefix(prefix));
    let per_second = line("finished in ")?
        .split(", ")
        .nth(1)?
        .strip_suffix(" req/s")?
        .parse()
        .ok()?;
    let ok = line("status codes: ")?
        .split(", ")
        .find_map(|part| part.strip_suffix(" 2xx"))?
        .parse()
        .ok()?;
    let data = line("traffic: ")?.rsplit(", ").next()?;
    let body_bytes = data.split_once('(')?.1.split_once(')')?.0.parse().ok()?;
    Some(Run {
        per_second,
        ok,
        body_bytes,
        latencies: Vec::new(),
    })
}
