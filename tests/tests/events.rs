//! The event feed from outside, as an integrator and a mobile app follow it: REST pages and the
//! gRPC stream deliver the same sequence; a stream resumed from a cursor misses nothing and
//! carries new events as they are written; a long poll answers when an event arrives; and an
//! acknowledged write still has its event after the server is killed with SIGKILL.

#![expect(
    clippy::expect_used,
    reason = "scenarios are tests run by the macro's #[tokio::test] fns: a failed step fails the test"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use skinledger_e2e::{
    Backend, TestServer, authorized, e2e_on_both_backends, free_port, pb, server_binary,
};
use tonic::Code;

e2e_on_both_backends!(
    rest_pages_and_the_grpc_stream_deliver_the_same_sequence,
    a_long_poll_answers_when_an_event_arrives,
    bad_feed_requests_are_refused_naming_the_field,
);

fn client_body(last: &str) -> Value {
    json!({ "first_name": "Feed", "last_name": last, "date_of_birth": "1990-04-01" })
}

/// Every event after `after` over REST, page by page (`limit` per page).
async fn rest_feed(server: &TestServer, token: &str, after: &str, limit: u32) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor = after.to_owned();
    loop {
        let page = server
            .get(
                &format!("/v1/events?after={cursor}&limit={limit}"),
                Some(token),
            )
            .await
            .expect_status(200)
            .json();
        let items = page["items"].as_array().expect("items").clone();
        cursor = page["next_cursor"].as_str().expect("a cursor").to_owned();
        if items.is_empty() {
            return events;
        }
        events.extend(items);
    }
}

/// The next `n` events of a gRPC stream, waiting at most 20 s in all.
async fn take(stream: &mut tonic::Streaming<pb::Event>, n: usize) -> Vec<pb::Event> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut events = Vec::new();
    while events.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = tokio::time::timeout(left, stream.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} events arrived", events.len()));
        events.push(
            next.expect("the stream is still open")
                .expect("an event, not an error"),
        );
    }
    events
}

async fn rest_pages_and_the_grpc_stream_deliver_the_same_sequence(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("feed").await;
    let admin = org.admin_token.as_str();
    for i in 0..7 {
        server
            .post(
                "/v1/clients",
                Some(admin),
                &client_body(&format!("Client{i}")),
            )
            .await
            .expect_status(201);
    }
    // REST, three per page.
    let rest = rest_feed(&server, admin, "0", 3).await;
    assert_eq!(rest.len(), 7);
    let rest_ids: Vec<(i64, String)> = rest
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().expect("seq"),
                e["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rest_ids.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
    assert!(rest.iter().all(|e| e["type"] == "client.created"));
    let metrics = server.get("/metrics", None).await.expect_status(200).text();
    assert!(
        metrics.contains("# HELP skinledger_events_written_total ")
            && metrics.lines().any(|l| l
                .starts_with(r#"skinledger_events_written_total{type="client.created"}"#)),
        "events written are not counted by type:\n{metrics}"
    );

    // The gRPC stream from the start: the same events, in the same order.
    let mut events = pb::event_service_client::EventServiceClient::new(server.channel.clone());
    let mut stream = events
        .watch_events(authorized(pb::WatchEventsRequest::default(), admin))
        .await
        .expect("a stream")
        .into_inner();
    let streamed = take(&mut stream, 7).await;
    assert_eq!(
        streamed
            .iter()
            .map(|e| (e.seq, e.id.clone()))
            .collect::<Vec<_>>(),
        rest_ids
    );
    // It carries what is written after it started.
    let late = server
        .post("/v1/clients", Some(admin), &client_body("Late"))
        .await
        .expect_status(201)
        .id();
    let live = take(&mut stream, 1).await;
    assert_eq!(live[0].seq, 8);
    assert_eq!(live[0].r#type, "client.created");
    assert_eq!(
        live[0].client_id.as_deref(),
        Some(late.to_string().as_str())
    );
    drop(stream);

    // Resumed from a cursor in the middle: nothing missed, nothing repeated.
    let mut resumed = events
        .watch_events(authorized(
            pb::WatchEventsRequest {
                after: Some("4".into()),
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("a stream")
        .into_inner();
    let rest_of_it = take(&mut resumed, 4).await;
    assert_eq!(
        rest_of_it.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [5, 6, 7, 8]
    );

    // ListEvents pages as REST does.
    let page = events
        .list_events(authorized(
            pb::ListEventsRequest {
                after: Some("6".into()),
                limit: Some(10),
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("a page")
        .into_inner();
    assert_eq!(page.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 8]);
    assert_eq!(page.next_cursor, "8");

    // Without a token: no stream.
    let refused = events
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), Code::Unauthenticated);
}

async fn a_long_poll_answers_when_an_event_arrives(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("poll").await;
    let admin = org.admin_token.clone();
    let write = {
        let http = server.http.clone();
        let url = server.url("/v1/clients");
        let admin = admin.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            http.post(url)
                .bearer_auth(admin)
                .json(&client_body("Awaited"))
                .send()
                .await
                .expect("answered")
                .status()
        }
    };
    // Without the write, the poll would answer an empty page after 25 s.
    let (page, written) = tokio::join!(
        server.get("/v1/events?after=0&wait=25s", Some(&admin)),
        write
    );
    assert_eq!(written, 201);
    let page = page.expect_status(200).json();
    assert_eq!(page["items"][0]["type"], "client.created", "{page}");
    assert_eq!(page["next_cursor"], "1");
    // Nothing newer: a short wait ends with an empty page and the same cursor.
    let empty = server
        .get("/v1/events?after=1&wait=1", Some(&admin))
        .await
        .expect_status(200)
        .json();
    assert_eq!(empty, json!({ "items": [], "next_cursor": "1" }));
}

async fn bad_feed_requests_are_refused_naming_the_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("bad").await;
    let admin = org.admin_token.as_str();
    for (query, field) in [
        ("types=client.created,client.deleted", "types"),
        ("wait=31", "wait"),
        ("wait=soon", "wait"),
        ("after=-1", "after"),
        ("after=abc", "after"),
        ("limit=0", "limit"),
    ] {
        let answer = server
            .get(&format!("/v1/events?{query}"), Some(admin))
            .await
            .expect_status(422);
        assert_eq!(answer.code().as_deref(), Some("validation_failed"));
        assert!(
            answer.invalid_fields().iter().any(|f| f == field),
            "{query}: {:?}",
            answer.invalid_fields()
        );
    }
    server.get("/v1/events", None).await.expect_status(401);
}

/// Stops the child on every path out of the test.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &std::path::Path, port: u16) -> Running {
    let mut command = Command::new(server_binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SKINLEDGER_") {
            command.env_remove(key);
        }
    }
    Running(
        command
            .current_dir(dir)
            .args(["serve", "--demo"])
            .env("SKINLEDGER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("skinledger serve starts"),
    )
}

async fn ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(
        http.get(format!("{base}/readyz")).send().await,
        Ok(r) if r.status() == 200
    ) {
        assert!(Instant::now() < deadline, "/readyz never answered 200");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn admin_token(http: &reqwest::Client, base: &str) -> String {
    let answer: Value = http
        .post(format!("{base}/v1/auth/token"))
        .json(&json!({ "grant_type": "password", "org": "demo",
                       "email": "admin@demo.test", "password": "demo-password" }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    answer["access_token"].as_str().expect("a token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_write_keeps_its_event_when_the_server_is_killed() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let server = serve(dir.path(), port);
    ready(&http, &base).await;
    let token = admin_token(&http, &base).await;
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let answer = http
            .post(format!("{base}/v1/clients"))
            .bearer_auth(&token)
            .json(&client_body(&format!("Killed{i}")))
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), 201);
        let body: Value = answer.json().await.expect("JSON");
        acknowledged.push(body["id"].as_str().expect("an id").to_owned());
    }
    // SIGKILL: no shutdown, no flush.
    drop(server);

    let _server = serve(dir.path(), port);
    ready(&http, &base).await;
    let token = admin_token(&http, &base).await;
    let mut events = Vec::new();
    let mut cursor = "0".to_owned();
    loop {
        let page: Value = http
            .get(format!("{base}/v1/events?after={cursor}&limit=200"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
        let items = page["items"].as_array().expect("items").clone();
        cursor = page["next_cursor"].as_str().expect("a cursor").to_owned();
        if items.is_empty() {
            break;
        }
        events.extend(items);
    }
    for id in &acknowledged {
        assert_eq!(
            events
                .iter()
                .filter(|e| e["type"] == "client.created" && e["client_id"] == id.as_str())
                .count(),
            1,
            "client {id} was acknowledged but has no event after SIGKILL"
        );
    }
}
