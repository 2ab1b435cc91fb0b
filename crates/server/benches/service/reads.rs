//! P1: the authenticated read of one client by id over REST and gRPC, and its floor.

use skinledger::Config;
use skinledger_api::grpc::pb;
use tonic_prost::prost::Message;
use uuid::Uuid;

use crate::figures::{Figures, concurrency, measure, setting};
use crate::h2load;
use crate::server::{GrpcApi, HttpApi};

/// P1's figures: REST and gRPC as shares of the floor, driven by the benchmark's own client,
/// and by `h2load` when it is installed.
pub(crate) struct Reads {
    pub(crate) rest: f64,
    pub(crate) grpc: f64,
    pub(crate) h2load: Option<(f64, f64)>,
}

/// P1: the authenticated read of one client by id over REST and gRPC, and its floor.
pub(crate) async fn reads_by_id(config: &Config, api: &HttpApi, token: &str) -> Reads {
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
    rest.print();
    grpc.print();
    rest.print_against("REST / floor", &mut floor);
    grpc.print_against("gRPC / floor", &mut floor);
    grpc.print_against("gRPC / REST", &mut rest);

    let h2load = if h2load::installed().await {
        let answer = grpc_api.client(0, id.clone()).await;
        Some(driven_by_h2load(api, token, &id, &answer, &floor, reads).await)
    } else {
        println!("  (h2load is not installed: no figures from a client of its own process)");
        None
    };
    Reads {
        rest: rest.ratio(&floor),
        grpc: grpc.ratio(&floor),
        h2load,
    }
}

/// The same `reads` with `h2load` as the client, as many connections as requests in flight:
/// REST over HTTP/1.1, gRPC over HTTP/2. Every answer must be a 2xx, and every gRPC answer the
/// client itself (its bytes counted: a refusal has a 200 status too, with no message). Answers
/// the REST and gRPC shares of `floor`.
async fn driven_by_h2load(
    api: &HttpApi,
    token: &str,
    id: &str,
    answer: &pb::Client,
    floor: &Figures,
    reads: usize,
) -> (f64, f64) {
    let in_flight = concurrency();
    let authorization = format!("authorization: Bearer {token}");
    let rest_url = format!("{}/v1/clients/{id}", api.base);
    let rest = h2load::Request {
        url: &rest_url,
        headers: std::slice::from_ref(&authorization),
        body: None,
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
    };
    let answer_bytes = 5 + answer.encoded_len();

    let mut shares = [0.0; 2];
    for (share, (label, request, bytes)) in shares.iter_mut().zip([
        ("REST GET /v1/clients/{id}, h2load", &rest, None),
        ("gRPC GetClient, h2load", &grpc, Some(answer_bytes)),
    ]) {
        h2load::run(request, in_flight, reads / 10)
            .await
            .expect("h2load warms up");
        let run = h2load::run(request, in_flight, reads)
            .await
            .expect("h2load runs");
        assert_eq!(run.ok, reads as u64, "{label}: answers other than 2xx");
        if let Some(bytes) = bytes {
            assert_eq!(
                run.body_bytes,
                (reads * bytes) as u64,
                "{label}: answers other than the client"
            );
        }
        println!(
            "  {label:<48} {reads:>6} requests  {:>8.1} req/s",
            run.per_second
        );
        *share = run.per_second / floor.throughput();
    }
    let [rest_share, grpc_share] = shares;
    for (name, share) in [
        ("REST (h2load) / floor", rest_share),
        ("gRPC (h2load) / floor", grpc_share),
        ("gRPC / REST (h2load)", grpc_share / rest_share),
    ] {
        println!("  {name:<48} throughput {share:>5.2} x");
    }
    (rest_share, grpc_share)
}
