//! P1: the authenticated read of one client by id over REST and gRPC, and its floor.

use std::time::Duration;

use skinledger::Config;
use skinledger_api::grpc::pb;
use tonic_prost::prost::Message;
use uuid::Uuid;

use crate::figures::{Figures, concurrency, measure, setting};
use crate::floors::{self, print_pgbench_floor};
use crate::h2load;
use crate::peer;
use crate::server::{GrpcApi, Server};

/// P1's figures: REST and gRPC as shares of the floor, driven by the benchmark's own client,
/// and by `h2load` when it is installed.
pub(crate) struct Reads {
    pub(crate) rest: f64,
    pub(crate) grpc: f64,
    pub(crate) h2load: Option<Driven>,
    /// REST (driven by h2load) as a multiple of the FastAPI peer's rate.
    pub(crate) peer: Option<f64>,
    /// On PostgreSQL with `pgbench` installed: the floor as the goal sets it, the read's one
    /// `SELECT` run by `pgbench`, and the reads' shares of it.
    pub(crate) pgbench: Option<AgainstPgbench>,
}

/// The reads as shares of the `pgbench` floor: driven by `h2load` when it is installed, by the
/// benchmark's own client otherwise.
pub(crate) struct AgainstPgbench {
    pub(crate) tps: f64,
    pub(crate) rest: f64,
    pub(crate) grpc: f64,
    pub(crate) grpc_multiplexed: Option<f64>,
}

/// P1: the authenticated read of one client by id over REST and gRPC, and its floor.
pub(crate) async fn reads_by_id(config: &Config, server: &Server, token: &str) -> Reads {
    let api = &server.api;
    let in_flight = concurrency();
    let reads = setting("BENCH_READS", 10_000);
    let warm_up = reads / 10;
    let (status, me) = api.call(reqwest::Method::GET, "/v1/me", token, None).await;
    assert_eq!(status, 200, "{me}");
    let org: Uuid = me["organization_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the organisation id");
    let (status, page) = api
        .call(reqwest::Method::GET, "/v1/clients?limit=1", token, None)
        .await;
    assert_eq!(status, 200, "{page}");
    let id = page["items"][0]["id"]
        .as_str()
        .expect("a demo client")
        .to_owned();
    let client_id: Uuid = id.parse().expect("a client id");

    // The floor: the same statement the read makes, through a pool set up as the server's.
    let db = skinledger::connect(config).await.expect("database");
    let select = |_| {
        let db = &db;
        async move {
            let row = skinledger_store::clients::get(db.read(), org, client_id)
                .await
                .expect("the select");
            assert!(row.is_some());
        }
    };
    measure("", warm_up, in_flight, select).await;
    let mut floor = measure("floor: the same SELECT, no HTTP", reads, in_flight, select).await;
    db.close().await.expect("the floor's pool closes");
    let pgbench_floor = if config.database_url.starts_with("postgres") {
        floors::pgbench_read_floor(config, org, client_id, in_flight).await
    } else {
        None
    };

    let path = format!("/v1/clients/{id}");
    let rest_read = |_| {
        let path = &path;
        async move {
            let (status, _) = api.call(reqwest::Method::GET, path, token, None).await;
            assert_eq!(status, 200);
        }
    };
    measure("", warm_up, in_flight, rest_read).await;
    let mut rest = measure("REST GET /v1/clients/{id}", reads, in_flight, rest_read).await;

    let grpc_api = GrpcApi::connect(api, token, in_flight).await;
    let grpc_read = |i| {
        let (grpc, id) = (&grpc_api, id.clone());
        async move { grpc.get_client(i, id).await }
    };
    measure("", warm_up, in_flight, grpc_read).await;
    let mut grpc = measure("gRPC GetClient", reads, in_flight, grpc_read).await;

    floor.print();
    print_pgbench_floor(
        "pgbench: the read's SELECT",
        pgbench_floor,
        rest.throughput(),
    );
    rest.print();
    grpc.print();
    rest.print_against("REST / floor", &mut floor);
    grpc.print_against("gRPC / floor", &mut floor);
    grpc.print_against("gRPC / REST", &mut rest);

    let (h2load, peer) = if h2load::installed().await {
        let answer = grpc_api.client(0, id.clone()).await;
        let driven = driven_by_h2load(server, token, &id, &answer, &floor, reads).await;
        // The peer's schema is PostgreSQL's: it reads UUIDs as text.
        let peer = if config.database_url.starts_with("postgres") {
            peer::rate(config, token, &id, in_flight, reads).await
        } else {
            None
        };
        if let Some(rate) = peer {
            println!(
                "  {:<48} throughput {:>5.1} x",
                "REST (h2load) / the FastAPI peer",
                driven.rest_rate / rate
            );
            // What the goal of 20 times the peer asks of the database itself.
            println!(
                "  {:<48} throughput {:>5.2} x",
                "20 x the FastAPI peer / floor",
                20.0 * rate / floor.throughput()
            );
        }
        let peer = peer.map(|rate| driven.rest_rate / rate);
        (Some(driven), peer)
    } else {
        println!("  (h2load is not installed: no figures from a client of its own process)");
        (None, None)
    };
    let pgbench = pgbench_floor.map(|tps| {
        let against = match &h2load {
            Some(driven) => {
                let rate = |share: f64| share * floor.throughput() / tps;
                AgainstPgbench {
                    tps,
                    rest: rate(driven.rest),
                    grpc: rate(driven.grpc),
                    grpc_multiplexed: Some(rate(driven.grpc_multiplexed)),
                }
            }
            None => AgainstPgbench {
                tps,
                rest: rest.throughput() / tps,
                grpc: grpc.throughput() / tps,
                grpc_multiplexed: None,
            },
        };
        let ceiling = h2load.as_ref().map(|driven| driven.ceiling / tps);
        for (name, share) in [
            ("GET /healthz (h2load) / the pgbench floor", ceiling),
            ("REST / the pgbench floor", Some(against.rest)),
            ("gRPC / the pgbench floor", Some(against.grpc)),
            (
                "gRPC multiplexed / the pgbench floor",
                against.grpc_multiplexed,
            ),
        ] {
            if let Some(share) = share {
                println!("  {name:<48} throughput {share:>5.2} x");
            }
        }
        against
    });
    Reads {
        rest: rest.ratio(&floor),
        grpc: grpc.ratio(&floor),
        h2load,
        peer,
        pgbench,
    }
}

/// The same `reads` with `h2load` as the client, as many connections as requests in flight:
/// REST over HTTP/1.1, gRPC over HTTP/2 with one call at a time on each connection, and gRPC
/// with [`STREAMS`] calls in flight on each of fewer connections, as a gRPC client multiplexes
/// its channel. Then each transport paced at half of the rate it reached, for the latencies at
/// half of peak. Every answer must be a 2xx, and every gRPC answer the client itself (its bytes
/// counted: a refusal has a 200 status too, with no message).
async fn driven_by_h2load(
    server: &Server,
    token: &str,
    id: &str,
    answer: &pb::Client,
    floor: &Figures,
    reads: usize,
) -> Driven {
    let in_flight = concurrency();
    let api = &server.api;
    let authorization = format!("authorization: Bearer {token}");
    let rest_url = format!("{}/v1/clients/{id}", api.base);
    let rest = h2load::Request {
        url: &rest_url,
        headers: std::slice::from_ref(&authorization),
        body: None,
        http1: true,
    };
    // The same read over HTTP/2, as gRPC travels: what sets gRPC apart from REST, the
    // transport or the encoding.
    let rest_h2 = h2load::Request {
        http1: false,
        ..rest
    };
    // A gRPC call's body: not compressed, its length, the message.
    let message = pb::GetClientRequest { id: id.to_owned() }.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(message.len()).expect("short").to_be_bytes());
    framed.extend_from_slice(&message);
    let body = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(body.path(), framed).expect("the call's body");
    let grpc_url = format!("{}/skinledger.v1.ClientService/GetClient", api.base);
    let headers = [
        authorization.clone(),
        "content-type: application/grpc".to_owned(),
        "te: trailers".to_owned(),
    ];
    let grpc = h2load::Request {
        url: &grpc_url,
        headers: &headers,
        body: Some(body.path()),
        http1: false,
    };
    let answer_bytes = 5 + answer.encoded_len();

    let closed = h2load::Load::closed(in_flight, reads);
    // The ceiling of the server's HTTP stack on this machine: the liveness probe, through the
    // same layers (request id, access log, metrics), with no token and no database.
    let health_url = format!("{}/healthz", api.base);
    let health = h2load::Request {
        url: &health_url,
        headers: &[],
        body: None,
        http1: true,
    };
    let (ceiling, ceiling_cpu) = h2load_run(
        "GET /healthz (no token, no database), h2load",
        &health,
        closed,
        None,
        Some(server),
    )
    .await;
    let multiplexed = h2load::Load {
        connections: in_flight.div_ceil(STREAMS),
        streams: STREAMS,
        ..closed
    };
    let grpc_answers = Some(answer_bytes);
    let server = Some(server);
    let (rest_rate, rest_cpu) = h2load_run(
        "REST GET /v1/clients/{id}, h2load",
        &rest,
        closed,
        None,
        server,
    )
    .await;
    let (grpc_rate, grpc_cpu) = h2load_run(
        "gRPC GetClient, h2load",
        &grpc,
        closed,
        grpc_answers,
        server,
    )
    .await;
    let (rest_h2_rate, rest_h2_cpu) = h2load_run(
        "REST GET /v1/clients/{id} over HTTP/2, h2load",
        &rest_h2,
        closed,
        None,
        server,
    )
    .await;
    let (grpc_multiplexed, multiplexed_cpu) = h2load_run(
        &format!("gRPC GetClient, h2load, {STREAMS} calls a connection"),
        &grpc,
        multiplexed,
        grpc_answers,
        server,
    )
    .await;
    let rest_p99 = paced_p99("REST", &rest, closed, rest_rate.per_second, None).await;
    let grpc_p99 = paced_p99("gRPC", &grpc, closed, grpc_rate.per_second, grpc_answers).await;
    let driven = Driven {
        rest: rest_rate.per_second / floor.throughput(),
        grpc: grpc_rate.per_second / floor.throughput(),
        grpc_multiplexed: grpc_multiplexed.per_second / floor.throughput(),
        rest_h2: rest_h2_rate.per_second / floor.throughput(),
        rest_rate: rest_rate.per_second,
        ceiling: ceiling.per_second,
        ceiling_cpu: ceiling_cpu.unwrap_or_default(),
        cpu: [rest_cpu, rest_h2_cpu, grpc_cpu, multiplexed_cpu].map(Option::unwrap_or_default),
        rest_p99,
        grpc_p99,
    };
    for (name, share) in [
        ("REST (h2load) / floor", driven.rest),
        ("gRPC (h2load) / floor", driven.grpc),
        ("gRPC multiplexed (h2load) / floor", driven.grpc_multiplexed),
        ("REST over HTTP/2 (h2load) / floor", driven.rest_h2),
        ("gRPC / REST (h2load)", driven.grpc / driven.rest),
        (
            "gRPC / REST over HTTP/2 (h2load)",
            driven.grpc / driven.rest_h2,
        ),
        (
            "gRPC multiplexed / REST (h2load)",
            driven.grpc_multiplexed / driven.rest,
        ),
    ] {
        println!("  {name:<48} throughput {share:>5.2} x");
    }
    driven
}

/// Calls in flight on one connection when gRPC is driven multiplexed.
const STREAMS: usize = 8;

/// What `h2load` reached: shares of the floor, REST's rate, and the p99 latencies at half of
/// each transport's peak.
pub(crate) struct Driven {
    pub(crate) rest: f64,
    pub(crate) grpc: f64,
    pub(crate) grpc_multiplexed: f64,
    /// REST over HTTP/2.
    pub(crate) rest_h2: f64,
    pub(crate) rest_rate: f64,
    /// `GET /healthz` a second: the server's HTTP stack alone, no token and no database.
    pub(crate) ceiling: f64,
    /// The server's CPU time a `GET /healthz`.
    pub(crate) ceiling_cpu: Duration,
    /// The server's CPU time a read: REST, REST over HTTP/2, gRPC, gRPC multiplexed.
    pub(crate) cpu: [Duration; 4],
    pub(crate) rest_p99: Duration,
    pub(crate) grpc_p99: Duration,
}

/// One warmed-up `h2load` run of `request` under `load`, checked (every answer a 2xx, and of
/// `answer_bytes` each when given) and printed, with `server`'s CPU time a request when given.
pub(crate) async fn h2load_run(
    label: &str,
    request: &h2load::Request<'_>,
    load: h2load::Load,
    answer_bytes: Option<usize>,
    server: Option<&Server>,
) -> (h2load::Run, Option<Duration>) {
    let warm_up = h2load::Load {
        requests: load.requests / 10,
        ..load
    };
    h2load::run(request, warm_up)
        .await
        .expect("h2load warms up");
    let before = server.map(|s| (s, s.cpu()));
    let run = h2load::run(request, load).await.expect("h2load runs");
    let cpu = before.map(|(s, before)| (s.cpu() - before).div_f64(load.requests as f64));
    let requests = load.requests;
    assert_eq!(run.ok, requests as u64, "{label}: answers other than 2xx");
    if let Some(bytes) = answer_bytes {
        assert_eq!(
            run.body_bytes,
            (requests * bytes) as u64,
            "{label}: answers other than the client"
        );
    }
    if run.latencies.is_empty() {
        println!(
            "  {label:<48} {requests:>6} requests  {:>8.1} req/s{}",
            run.per_second,
            cpu.map(|cpu| format!("  server CPU {:>4.0} µs a request", cpu.as_secs_f64() * 1e6))
                .unwrap_or_default()
        );
    }
    (run, cpu)
}

/// How long after a paced run's first request its connections are still opening: the requests
/// started meanwhile are left out of its latencies (and their p99 printed apart).
const OPENING: Duration = Duration::from_millis(250);

/// `request` paced at half of `peak` requests a second, for as long as the peak run took: first
/// with the connections' requests spread over each interval, as independent clients send them,
/// then in step, every connection sending at the same tick (a burst of one request a connection
/// each interval). Prints both, in the steady state after [`OPENING`], and answers the spread
/// run's p99.
async fn paced_p99(
    transport: &str,
    request: &h2load::Request<'_>,
    load: h2load::Load,
    peak: f64,
    answer_bytes: Option<usize>,
) -> Duration {
    let mut spread_p99 = Duration::ZERO;
    for spread in [true, false] {
        let paced = h2load::Load {
            paced: Some(h2load::Pace {
                per_second: peak / 2.0,
                spread,
            }),
            requests: load.requests / 2,
            ..load
        };
        let (run, _) = h2load_run(transport, request, paced, answer_bytes, None).await;
        let (opening, steady): (Vec<_>, Vec<_>) = run
            .latencies
            .into_iter()
            .partition(|&(started, _)| started < OPENING);
        let wall = Duration::from_secs_f64(paced.requests as f64 / run.per_second);
        let mut figures = Figures {
            label: format!(
                "{transport} at half of peak ({:.0}/s), {}",
                peak / 2.0,
                if spread { "spread" } else { "in step" }
            ),
            latencies: steady.into_iter().map(|(_, took)| took).collect(),
            wall: wall.saturating_sub(OPENING),
        };
        figures.print();
        let mut opening = Figures {
            label: format!("  its first {} ms", OPENING.as_millis()),
            latencies: opening.into_iter().map(|(_, took)| took).collect(),
            wall: OPENING,
        };
        opening.print();
        if spread {
            spread_p99 = figures.at(0.99);
        }
    }
    spread_p99
}
