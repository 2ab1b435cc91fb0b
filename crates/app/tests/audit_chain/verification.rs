//! An intact chain: numbered once, verified across pages, per organisation, by admins.

use futures::future::join_all;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use skinledger_app::audit_chain::Anchor;
use skinledger_domain::audit_chain::{Break, GENESIS, Link};
use skinledger_domain::role::Role;
use skinledger_store::Db;
use skinledger_store::entities::audit_event;
use uuid::Uuid;

use crate::common::{Harness, Org, at, expect_code};
use crate::{busy_organisation, client, clinic, verify};

skinledger_store::on_both_backends!(
    an_untouched_chain_numbers_every_event_once_and_verifies,
    concurrent_writers_and_reads_of_one_organisation_keep_one_chain,
    organisations_have_chains_of_their_own,
    only_an_org_admin_verifies_or_reads_the_head,
    a_chain_of_several_pages_verifies_and_breaks_where_a_page_ends_or_begins,
);

async fn an_untouched_chain_numbers_every_event_once_and_verifies(db: Db) {
    let (h, org) = busy_organisation(db).await;
    let log = h.audit_log(&org.admin).await;
    assert!(log.len() >= 8, "{} events", log.len());
    let mut seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=log.len() as i64).collect::<Vec<_>>());
    assert!(
        log.iter().any(|e| e.action == "client.read"),
        "reads join the chain"
    );
    assert!(
        log.iter().any(|e| e.outcome == "refused"),
        "refusals join the chain"
    );

    // Each event's hash is its canonical form's, linked to the one before.
    let mut by_seq = log.clone();
    by_seq.sort_by_key(|e| e.seq);
    let mut prev = GENESIS.to_owned();
    for e in &by_seq {
        assert_eq!(e.prev_hash, prev, "event {}", e.seq);
        let detail = e.detail.as_ref().map(|d| d.0.to_string());
        let recomputed = Link {
            seq: e.seq,
            prev_hash: &e.prev_hash,
            id: e.id,
            organization_id: org.id,
            occurred_at: e.occurred_at,
            actor_kind: &e.actor_kind,
            actor_id: e.actor_id,
            action: &e.action,
            entity_kind: &e.entity_kind,
            entity_id: e.entity_id,
            client_id: e.client_id,
            outcome: &e.outcome,
            detail: detail.as_deref(),
            request_id: e.request_id.as_deref(),
        }
        .hash();
        assert_eq!(
            recomputed, e.hash,
            "event {} recomputed from its export",
            e.seq
        );
        prev.clone_from(&e.hash);
    }

    let verdict = verify(&h, &org).await;
    assert!(verdict.verified, "{verdict:?}");
    assert_eq!(verdict.broken, None);
    assert_eq!(verdict.events_checked, log.len() as u64);
    let head = h.audit_head(&org.admin).await.expect("head");
    assert_eq!(head, verdict.head);
    assert_eq!(head.seq, log.len() as i64);
    assert_eq!(head.hash, prev);

    // The head verifies as an anchor; so does any earlier event's hash at its number.
    for (seq, hash) in [(head.seq, head.hash.clone()), (3, by_seq[2].hash.clone())] {
        let anchored = h
            .verify_audit_chain(&org.admin, Some(Anchor { seq, hash }))
            .await
            .expect("verification ran");
        assert!(anchored.verified, "anchor {seq}: {anchored:?}");
    }
}

async fn concurrent_writers_and_reads_of_one_organisation_keep_one_chain(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let created = h
        .create_client(&org.admin, client("Ada"), None)
        .await
        .expect("client");
    let writes = (0..12).map(|i| {
        let h = &h;
        let admin = &org.admin;
        async move {
            if i % 3 == 0 {
                h.get_client(admin, created.id).await.map(|_| ())
            } else {
                h.create_clinic(admin, clinic(&format!("Glow {i}")), None)
                    .await
                    .map(|_| ())
            }
        }
    });
    for result in join_all(writes).await {
        result.expect("done");
    }
    h.flush_read_audit().await;
    let log = h.audit_log(&org.admin).await;
    let mut seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=log.len() as i64).collect::<Vec<_>>(),
        "no gap, no twin"
    );
    let verdict = verify(&h, &org).await;
    assert!(verdict.verified, "{verdict:?}");
    assert_eq!(verdict.events_checked, log.len() as u64);
}

async fn organisations_have_chains_of_their_own(db: Db) {
    let h = Harness::new(db);
    let glow = h.organization("glow").await;
    let lumen = h.organization("lumen").await;
    h.clinic(&glow.admin, "Glow Mitte").await;
    h.clinic(&lumen.admin, "Lumen Nord").await;
    h.clinic(&lumen.admin, "Lumen Sued").await;
    let glow_log = h.audit_log(&glow.admin).await;
    let lumen_log = h.audit_log(&lumen.admin).await;
    assert_eq!(glow_log.iter().map(|e| e.seq).min(), Some(1));
    assert_eq!(lumen_log.iter().map(|e| e.seq).min(), Some(1));
    assert_eq!(
        h.audit_head(&lumen.admin).await.expect("head").seq,
        lumen_log.len() as i64
    );
    assert!(verify(&h, &glow).await.verified);
    assert!(verify(&h, &lumen).await.verified);
    let all = h.verify_audit_chains(None).await.expect("all verified");
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|(_, v)| v.verified));
    let one = h.verify_audit_chains(Some("lumen")).await.expect("one");
    assert_eq!(one.len(), 1);
    expect_code(h.verify_audit_chains(Some("nobody")).await, "not_found");
}

async fn only_an_org_admin_verifies_or_reads_the_head(db: Db) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let mitte = h.clinic(&org.admin, "Glow Mitte").await;
    h.member(
        &org.admin,
        "manager@glow.test",
        vec![at(Role::ClinicManager, mitte.id)],
    )
    .await;
    let manager = h.log_in("glow", "manager@glow.test").await;
    expect_code(h.audit_head(&manager).await, "forbidden");
    expect_code(h.verify_audit_chain(&manager, None).await, "forbidden");
    let bad = Anchor::parse(Some(0), Some("xyz".into())).expect_err("refused");
    let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["anchor_seq", "anchor_hash"]);
    assert!(Anchor::parse(Some(3), None).is_err());
    assert_eq!(Anchor::parse(None, None).expect("no anchor"), None);
}

/// Appends `count` reads of the organisation's clients to its chain, a thousand per
/// transaction, numbered and hashed under its journal lock as the application appends.
async fn append_reads(db: &Db, org: &Org, count: i64) {
    use sea_orm::TransactionTrait;
    let mut done = 0;
    while done < count {
        let n = (count - done).min(1_000);
        let txn = db.write().begin().await.expect("a transaction");
        let head = skinledger_store::journal::reserve(&txn, org.id, 0, n)
            .await
            .expect("reserved");
        let mut prev = head.audit_hash;
        let mut rows = Vec::new();
        for seq in head.audit_seq + 1..=head.audit_seq + n {
            let (id, client) = (Uuid::now_v7(), Uuid::now_v7());
            let now = chrono::Utc::now();
            let hash = Link {
                seq,
                prev_hash: &prev,
                id,
                organization_id: org.id,
                occurred_at: now,
                actor_kind: "staff",
                actor_id: Some(org.admin_id),
                action: "client.read",
                entity_kind: "client",
                entity_id: Some(client),
                client_id: Some(client),
                outcome: "success",
                detail: None,
                request_id: None,
            }
            .hash();
            rows.push(audit_event::ActiveModel {
                id: Set(id),
                organization_id: Set(org.id),
                actor_kind: Set("staff".into()),
                actor_id: Set(Some(org.admin_id)),
                action: Set("client.read".into()),
                entity_kind: Set("client".into()),
                entity_id: Set(Some(client)),
                client_id: Set(Some(client)),
                outcome: Set("success".into()),
                detail: Set(None),
                request_id: Set(None),
                occurred_at: Set(now),
                seq: Set(seq),
                prev_hash: Set(prev.clone()),
                hash: Set(hash.clone()),
            });
            prev = hash;
        }
        skinledger_store::audit::insert(&txn, rows)
            .await
            .expect("appended");
        skinledger_store::journal::set_audit_hash(&txn, org.id, &prev)
            .await
            .expect("head recorded");
        txn.commit().await.expect("committed");
        done += n;
    }
}

/// The walk reads the chain 10,000 events at a time: events on both sides of a page's end
/// are checked like any other.
async fn a_chain_of_several_pages_verifies_and_breaks_where_a_page_ends_or_begins(db: Db) {
    let h = Harness::new(db.clone());
    let org = h.organization("glow").await;
    h.flush_read_audit().await;
    append_reads(&db, &org, 25_000).await;
    let head = h.audit_head(&org.admin).await.expect("head");
    assert!(head.seq > 25_000, "{head:?}");

    let verdict = verify(&h, &org).await;
    assert!(verdict.verified, "{verdict:?}");
    assert_eq!(verdict.events_checked, head.seq as u64);
    let twentieth_thousand = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .filter(audit_event::Column::Seq.eq(20_000))
        .one(db.read())
        .await
        .expect("read")
        .expect("event 20,000");
    let anchored = h
        .verify_audit_chain(
            &org.admin,
            Some(Anchor {
                seq: 20_000,
                hash: twentieth_thousand.hash,
            }),
        )
        .await
        .expect("verification ran");
    assert!(anchored.verified, "{anchored:?}");

    // The first event of the second page deleted: the walk names it.
    audit_event::Entity::delete_many()
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .filter(audit_event::Column::Seq.eq(10_001))
        .exec(db.write())
        .await
        .expect("tampered");
    let broken = verify(&h, &org).await.broken.expect("a broken link");
    assert_eq!((broken.seq, broken.problem), (10_001, Break::Missing));
    // The last event of the first page changed as well: the earlier break is named.
    audit_event::Entity::update_many()
        .col_expr(audit_event::Column::Action, Expr::value("client.update"))
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .filter(audit_event::Column::Seq.eq(10_000))
        .exec(db.write())
        .await
        .expect("tampered");
    let verdict = verify(&h, &org).await;
    let broken = verdict.broken.expect("a broken link");
    assert_eq!((broken.seq, broken.problem), (10_000, Break::Changed));
    assert_eq!(verdict.events_checked, 10_000);
}
