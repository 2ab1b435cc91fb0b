//! Lists page with a cursor and check their limit.

use std::collections::BTreeSet;

use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, pb};

use crate::ids;

e2e_on_both_backends!(lists_page_with_a_cursor_and_check_their_limit);

async fn lists_page_with_a_cursor_and_check_their_limit(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let admin = Some(org.admin_token.as_str());
    let mut created = BTreeSet::new();
    for name in ["A", "B", "C", "D", "E"] {
        created.insert(
            server
                .create_clinic(&org.admin_token, name)
                .await
                .to_string(),
        );
    }

    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/clinics?limit=2&cursor={c}"),
            None => "/v1/clinics?limit=2".to_owned(),
        };
        let page = server.get(&path, admin).await.expect_status(200);
        let items = ids(&page);
        assert!(items.len() <= 2);
        for id in &items {
            assert!(seen.insert(id.clone()), "{id} seen twice");
        }
        pages += 1;
        assert!(pages <= 5, "paging does not end");
        match page.json()["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);
    assert!(pages >= 3);

    // The same over gRPC.
    let mut grpc = server.org_grpc();
    let first = grpc
        .list_clinics(authorized(
            pb::ListClinicsRequest {
                limit: Some(3),
                cursor: None,
            },
            &org.admin_token,
        ))
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(first.items.len(), 3);
    let second = grpc
        .list_clinics(authorized(
            pb::ListClinicsRequest {
                limit: Some(3),
                cursor: first.next_cursor.clone(),
            },
            &org.admin_token,
        ))
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.next_cursor, None);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        let answer = server
            .get(&format!("/v1/clinics?{query}"), admin)
            .await
            .expect_status(422);
        assert_eq!(answer.invalid_fields(), vec![field.to_owned()], "{query}");
    }
    server
        .get("/v1/clinics?limit=200", admin)
        .await
        .expect_status(200);
}
