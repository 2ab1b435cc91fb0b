//! P1: the authenticated read of one client by id over REST and gRPC, and its floor.

use skinledger::Config;
use uuid::Uuid;

use crate::figures::{concurrency, measure, setting};
use crate::server::{GrpcApi, HttpApi};

/// P1: the authenticated read of one client by id over REST and gRPC, and its floor. Answers
/// the REST and gRPC ratios to the floor.
pub(crate) async fn reads_by_id(config: &Config, api: &HttpApi, token: &str) -> (f64, f64) {
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

    let grpc = GrpcApi::connect(api, token, in_flight).await;
    let grpc_read = |i| {
        let (grpc, id) = (&grpc, id.clone());
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
    (rest.ratio(&floor), grpc.ratio(&floor))
}
