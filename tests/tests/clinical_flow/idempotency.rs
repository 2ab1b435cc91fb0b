//! Idempotency keys: concurrent posts create one record, and keys outlive a restart.

use futures::future::join_all;
use serde_json::{Value, json};
use skinledger_app::orgs::NewOrganization;
use skinledger_e2e::{Backend, PASSWORD, TestServer, e2e_on_both_backends};
use skinledger_store::testing::TestDb;
use uuid::Uuid;

use crate::flow_support::{
    Chain, Rest, answers, assert_refused, create_roller, gtin, items, new_client, receive,
    stock_of, treatment, uuid_at,
};

e2e_on_both_backends!(
    ten_concurrent_posts_with_one_idempotency_key_create_one_record,
    an_idempotency_key_still_answers_after_the_server_restarts,
);

/// Sends `body` to `path` ten times at once with one key; checks that every answer is the same
/// record (or, at most, "still in flight"), and answers its id.
async fn ten_at_once(api: &Rest, token: &str, path: &str, key: &str, body: &Value) -> Uuid {
    let answers = join_all((0..10).map(|_| api.post_with_key(path, token, key, body))).await;
    let mut ids = std::collections::BTreeSet::new();
    for answer in &answers {
        match answer.status.as_u16() {
            201 => {
                ids.insert(answer.id());
            }
            // API.md allows a key still in flight to answer 409, but never a business conflict.
            409 => assert!(
                !matches!(
                    answer.code().as_deref(),
                    Some("out_of_stock" | "already_exists" | "too_soon")
                ),
                "{}",
                answer.text()
            ),
            other => panic!("a retry answered {other}: {}", answer.text()),
        }
    }
    assert_eq!(ids.len(), 1, "one key, several records: {ids:?}");
    let id = ids.pop_first().expect("one id");
    // Once settled, a retry answers the record, and another body is refused.
    let again = api.post_with_key(path, token, key, body).await;
    assert_eq!(again.expect_status(201).id(), id);
    id
}

async fn ten_concurrent_posts_with_one_idempotency_key_create_one_record(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let api = Rest::of(&server);
    let chain = Chain::open(&api, &org).await;
    let (clinic, nurse) = (chain.clinic_a, &chain.nurse_a);

    let body = new_client("Nora", "Quist");
    let client_id = ten_at_once(&api, &nurse.token, "/v1/clients", "client-nora", &body).await;
    let found = api
        .get("/v1/clients?q=quist", &nurse.token)
        .await
        .expect_status(200);
    assert_eq!(items(&found).len(), 1, "{}", found.text());
    let other = api
        .post_with_key(
            "/v1/clients",
            &nurse.token,
            "client-nora",
            &new_client("Nora", "Quistorp"),
        )
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");

    let screening = json!({ "clinic_id": clinic, "answers": answers(&[]) });
    let path = format!("/v1/clients/{client_id}/screenings");
    ten_at_once(&api, &nurse.token, &path, "screening-nora", &screening).await;
    let screenings = api.get(&path, &nurse.token).await.expect_status(200);
    assert_eq!(items(&screenings).len(), 1, "{}", screenings.text());
    let other = api
        .post_with_key(
            &path,
            &nurse.token,
            "screening-nora",
            &json!({ "clinic_id": clinic, "answers": answers(&["pregnant"]) }),
        )
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");

    // A treatment retried ten times at once is recorded once and takes one roller.
    let product = create_roller(&api, &chain.admin, &gtin(404)).await;
    let lot = uuid_at(
        &receive(&api, &chain.manager_a.token, clinic, product, "IK-1", 5).await["lot"],
        "id",
    );
    let session = treatment(clinic, client_id, product);
    ten_at_once(
        &api,
        &nurse.token,
        "/v1/treatments",
        "treatment-nora",
        &session,
    )
    .await;
    let history = api
        .get(&format!("/v1/clients/{client_id}/treatments"), &nurse.token)
        .await
        .expect_status(200);
    assert_eq!(items(&history).len(), 1, "{}", history.text());
    assert_eq!(stock_of(&api, &chain.admin, clinic, lot).await.0.on_hand, 4);
    let mut changed = session.clone();
    changed["passes"] = json!(10);
    let other = api
        .post_with_key("/v1/treatments", &nurse.token, "treatment-nora", &changed)
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");
}

async fn an_idempotency_key_still_answers_after_the_server_restarts(backend: Backend) {
    // One database outlives both servers.
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres()
            .await
            .expect("SKINLEDGER_TEST_POSTGRES_URL is set"),
    };
    let url = db.url.clone();
    let first = TestServer::start_with(backend, |c| c.database_url = url.clone()).await;
    // The harness's own `app` is over its own fresh database, so the organisation is created
    // (as the CLI would) over the shared one.
    let (app, audit) =
        skinledger::app(&first.config, db.db.clone()).expect("the app over the shared database");
    app.create_organization(NewOrganization {
        slug: "glow".into(),
        name: "Glow clinics".into(),
        admin_email: "admin@glow.test".into(),
        admin_password: PASSWORD.into(),
    })
    .await
    .expect("the organisation is created");
    audit.finish().await;

    let api = Rest::of(&first);
    let token = api.login("glow", "admin@glow.test").await;
    let body = new_client("Rosa", "Lind");
    let created = api
        .post_with_key("/v1/clients", &token, "restart-key-1", &body)
        .await
        .expect_status(201)
        .id();
    first.stop().await;

    let second = TestServer::start_with(backend, |c| c.database_url = url.clone()).await;
    let api = Rest::of(&second);
    // The access token is still good: same key, same database.
    let replayed = api
        .post_with_key("/v1/clients", &token, "restart-key-1", &body)
        .await
        .expect_status(201);
    assert_eq!(replayed.id(), created);
    let other = api
        .post_with_key(
            "/v1/clients",
            &token,
            "restart-key-1",
            &new_client("Rosa", "Lindqvist"),
        )
        .await;
    assert_refused(&other, 422, "idempotency_key_reused");
    let found = api
        .get("/v1/clients?q=lind", &token)
        .await
        .expect_status(200);
    assert_eq!(items(&found).len(), 1, "{}", found.text());
    second.stop().await;
    drop(db);
}
