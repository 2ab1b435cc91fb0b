//! A changed, deleted, inserted or rewritten event is named by its number.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use skinledger_app::audit_chain::Anchor;
use skinledger_domain::audit_chain::{Break, GENESIS, Link};
use skinledger_store::Db;
use skinledger_store::entities::audit_event;
use uuid::Uuid;

use crate::{busy_organisation, verify};

skinledger_store::on_both_backends!(
    a_changed_event_is_named_by_its_number,
    a_changed_event_with_its_hash_recomputed_breaks_the_next_link,
    a_deleted_event_is_named_by_its_number,
    an_inserted_event_is_named_by_its_number,
    a_chain_rewritten_from_the_start_fails_against_an_earlier_anchor,
);

async fn a_changed_event_is_named_by_its_number(db: Db) {
    let (h, org) = busy_organisation(db.clone()).await;
    audit_event::Entity::update_many()
        .col_expr(audit_event::Column::Action, Expr::value("client.update"))
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .filter(audit_event::Column::Seq.eq(4))
        .exec(db.write())
        .await
        .expect("tampered");
    let verdict = verify(&h, &org).await;
    assert!(!verdict.verified);
    let broken = verdict.broken.expect("a broken link");
    assert_eq!((broken.seq, broken.problem), (4, Break::Changed));
}

async fn a_changed_event_with_its_hash_recomputed_breaks_the_next_link(db: Db) {
    let (h, org) = busy_organisation(db.clone()).await;
    let row = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .filter(audit_event::Column::Seq.eq(5))
        .one(db.read())
        .await
        .expect("read")
        .expect("event 5");
    let forged = Link {
        seq: row.seq,
        prev_hash: &row.prev_hash,
        id: row.id,
        organization_id: row.organization_id,
        occurred_at: row.occurred_at,
        actor_kind: &row.actor_kind,
        actor_id: row.actor_id,
        action: "nothing.happened",
        entity_kind: &row.entity_kind,
        entity_id: row.entity_id,
        client_id: row.client_id,
        outcome: &row.outcome,
        detail: row.detail.as_deref(),
        request_id: row.request_id.as_deref(),
    }
    .hash();
    audit_event::Entity::update_many()
        .col_expr(audit_event::Column::Action, Expr::value("nothing.happened"))
        .col_expr(audit_event::Column::Hash, Expr::value(forged))
        .filter(audit_event::Column::Id.eq(row.id))
        .exec(db.write())
        .await
        .expect("tampered");
    let broken = verify(&h, &org).await.broken.expect("a broken link");
    assert_eq!((broken.seq, broken.problem), (6, Break::Relinked));
}

async fn a_deleted_event_is_named_by_its_number(db: Db) {
    let (h, org) = busy_organisation(db.clone()).await;
    let head = h.audit_head(&org.admin).await.expect("head");
    let delete = |seq: i64| {
        audit_event::Entity::delete_many()
            .filter(audit_event::Column::OrganizationId.eq(org.id))
            .filter(audit_event::Column::Seq.eq(seq))
            .exec(db.write())
    };
    // The last event first: the chain ends before the head recorded.
    delete(head.seq).await.expect("tampered");
    let broken = verify(&h, &org).await.broken.expect("a broken link");
    assert_eq!((broken.seq, broken.problem), (head.seq, Break::Missing));
    // Then one in the middle: the earliest break is named.
    delete(2).await.expect("tampered");
    let broken = verify(&h, &org).await.broken.expect("a broken link");
    assert_eq!((broken.seq, broken.problem), (2, Break::Missing));
}

async fn an_inserted_event_is_named_by_its_number(db: Db) {
    let (h, org) = busy_organisation(db.clone()).await;
    let head = h.audit_head(&org.admin).await.expect("head");
    // A well-formed event, hashed and linked to the last one, that the application never
    // appended: the head recorded does not reach it.
    let seq = head.seq + 1;
    let id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let link = Link {
        seq,
        prev_hash: &head.hash,
        id,
        organization_id: org.id,
        occurred_at: now,
        actor_kind: "staff",
        actor_id: Some(org.admin_id),
        action: "client.read",
        entity_kind: "client",
        entity_id: None,
        client_id: None,
        outcome: "success",
        detail: None,
        request_id: None,
    };
    audit_event::Entity::insert(audit_event::ActiveModel {
        id: Set(id),
        organization_id: Set(org.id),
        actor_kind: Set("staff".into()),
        actor_id: Set(Some(org.admin_id)),
        action: Set("client.read".into()),
        entity_kind: Set("client".into()),
        entity_id: Set(None),
        client_id: Set(None),
        outcome: Set("success".into()),
        detail: Set(None),
        request_id: Set(None),
        occurred_at: Set(now),
        seq: Set(seq),
        prev_hash: Set(head.hash.clone()),
        hash: Set(link.hash()),
    })
    .exec_without_returning(db.write())
    .await
    .expect("tampered");
    let broken = verify(&h, &org).await.broken.expect("a broken link");
    assert_eq!((broken.seq, broken.problem), (seq, Break::Inserted));
}

async fn a_chain_rewritten_from_the_start_fails_against_an_earlier_anchor(db: Db) {
    let (h, org) = busy_organisation(db.clone()).await;
    let anchor = h.audit_head(&org.admin).await.expect("head");
    // Whoever holds the database rewrites event 2 and re-chains everything after it, head
    // included: only an anchor kept elsewhere can tell.
    let mut rows = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(org.id))
        .all(db.read())
        .await
        .expect("read");
    rows.sort_by_key(|r| r.seq);
    let mut prev = GENESIS.to_owned();
    for row in &rows {
        let action = if row.seq == 2 {
            "nothing.happened"
        } else {
            row.action.as_str()
        };
        let hash = Link {
            seq: row.seq,
            prev_hash: &prev,
            id: row.id,
            organization_id: row.organization_id,
            occurred_at: row.occurred_at,
            actor_kind: &row.actor_kind,
            actor_id: row.actor_id,
            action,
            entity_kind: &row.entity_kind,
            entity_id: row.entity_id,
            client_id: row.client_id,
            outcome: &row.outcome,
            detail: row.detail.as_deref(),
            request_id: row.request_id.as_deref(),
        }
        .hash();
        audit_event::Entity::update_many()
            .col_expr(audit_event::Column::Action, Expr::value(action))
            .col_expr(audit_event::Column::PrevHash, Expr::value(prev.clone()))
            .col_expr(audit_event::Column::Hash, Expr::value(hash.clone()))
            .filter(audit_event::Column::Id.eq(row.id))
            .exec(db.write())
            .await
            .expect("tampered");
        prev = hash;
    }
    skinledger_store::journal::set_audit_hash(db.write(), org.id, &prev)
        .await
        .expect("tampered");
    assert!(
        verify(&h, &org).await.verified,
        "a full rewrite is self-consistent"
    );
    let verdict = h
        .verify_audit_chain(
            &org.admin,
            Some(Anchor {
                seq: anchor.seq,
                hash: anchor.hash,
            }),
        )
        .await
        .expect("verification ran");
    let broken = verdict.broken.expect("the anchor no longer holds");
    assert_eq!(
        (broken.seq, broken.problem),
        (anchor.seq, Break::AnchorMismatch)
    );
}
