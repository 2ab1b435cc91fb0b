//! gRPC answers the chain head and its verification as REST does.

use serde_json::json;
use skinledger_domain::role::Role;
use skinledger_e2e::{Backend, TestServer, authorized, e2e_on_both_backends, grant, pb};

use crate::flow_support::{Rest, add_staff, register_client, uuid_at};
use crate::{GENESIS, audit_log, reads_and_a_refusal, settled_head};

e2e_on_both_backends!(grpc_answers_the_head_and_the_verification_as_rest_does,);

async fn grpc_answers_the_head_and_the_verification_as_rest_does(backend: Backend) {
    let server = TestServer::start(backend).await;
    let api = Rest::of(&server);
    let org = server.create_org("glow").await;
    let admin = org.admin_token.clone();
    let clinic = server.create_clinic(&admin, "Glow Mitte").await;
    let nurse = add_staff(
        &api,
        "glow",
        &admin,
        "nurse@glow.test",
        &[grant(Role::Nurse, Some(clinic))],
    )
    .await;
    let ada = uuid_at(
        &register_client(&api, &nurse.token, "Ada", "Lovelace").await,
        "id",
    );
    reads_and_a_refusal(&api, &admin, &nurse, ada).await;
    let head = settled_head(&[&api], &admin).await;
    let n = head["seq"].as_i64().expect("a seq");
    let hash = head["hash"].as_str().expect("a hash").to_owned();

    let mut audit = server.audit_grpc();
    let grpc_head = audit
        .get_audit_head(authorized(pb::GetAuditHeadRequest {}, &admin))
        .await
        .expect("the head")
        .into_inner();
    assert_eq!((grpc_head.seq, grpc_head.hash.as_str()), (n, hash.as_str()));

    let rest = api
        .get("/v1/audit/verify", &admin)
        .await
        .expect_status(200)
        .json();
    let verification = audit
        .verify_audit_chain(authorized(pb::VerifyAuditChainRequest::default(), &admin))
        .await
        .expect("a verification")
        .into_inner();
    assert!(verification.verified);
    assert_eq!(json!(verification.events_checked), rest["events_checked"]);
    assert_eq!(verification.events_checked, n as u64);
    assert_eq!(verification.head, Some(grpc_head.clone()));
    assert_eq!(verification.broken, None);

    let anchored = |seq: i64, hash: &str| {
        authorized(
            pb::VerifyAuditChainRequest {
                anchor_seq: Some(seq),
                anchor_hash: Some(hash.to_owned()),
            },
            &admin,
        )
    };
    let held = audit
        .verify_audit_chain(anchored(n, &hash))
        .await
        .expect("a verification")
        .into_inner();
    assert!(held.verified);
    let rest_mismatch = api
        .get(
            &format!("/v1/audit/verify?anchor_seq={n}&anchor_hash={GENESIS}"),
            &admin,
        )
        .await
        .expect_status(200)
        .json();
    let mismatch = audit
        .verify_audit_chain(anchored(n, GENESIS))
        .await
        .expect("a verification")
        .into_inner();
    assert!(!mismatch.verified);
    let broken = mismatch.broken.expect("a broken link");
    assert_eq!(
        (broken.seq, broken.problem.as_str()),
        (n, "anchor_mismatch")
    );
    assert_eq!(json!(broken.seq), rest_mismatch["broken"]["seq"]);
    assert_eq!(json!(broken.problem), rest_mismatch["broken"]["problem"]);

    let half = audit
        .verify_audit_chain(authorized(
            pb::VerifyAuditChainRequest {
                anchor_seq: Some(1),
                anchor_hash: None,
            },
            &admin,
        ))
        .await
        .expect_err("half an anchor is refused");
    assert_eq!(half.code(), tonic::Code::InvalidArgument);
    for denied in [
        audit
            .get_audit_head(authorized(pb::GetAuditHeadRequest {}, &nurse.token))
            .await
            .map(|_| ()),
        audit
            .verify_audit_chain(authorized(
                pb::VerifyAuditChainRequest::default(),
                &nurse.token,
            ))
            .await
            .map(|_| ()),
    ] {
        assert_eq!(
            denied.expect_err("refused").code(),
            tonic::Code::PermissionDenied
        );
    }

    // ListAuditEvents carries each event's number and hashes, as REST does.
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = audit
            .list_audit_events(authorized(
                pb::ListAuditEventsRequest {
                    limit: Some(5),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .expect("a page")
            .into_inner();
        listed.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let rest_log = audit_log(&api, &admin).await;
    assert_eq!(listed.len(), rest_log.len());
    assert_eq!(listed.len() as i64, n);
    for (grpc, rest) in listed.iter().zip(&rest_log) {
        assert_eq!(json!(grpc.id), rest["id"]);
        assert_eq!(grpc.organization_id, org.id.to_string());
        assert_eq!(json!(grpc.organization_id), rest["organization_id"]);
        assert_eq!(json!(grpc.seq), rest["seq"], "{grpc:?}");
        assert_eq!(json!(grpc.prev_hash), rest["prev_hash"], "{grpc:?}");
        assert_eq!(json!(grpc.hash), rest["hash"], "{grpc:?}");
    }
    let mut seqs: Vec<i64> = listed.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    server.stop().await;
}
