//! The audit log as a hash chain: every event numbered in one order per organisation, each hash
//! covering the event and the one before, and verification naming the first event changed,
//! deleted or inserted behind the application's back.

#![expect(clippy::expect_used, reason = "tests")]

pub mod common;

use common::{Harness, Org, at, expect_code};
use futures::future::join_all;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use skinledger_app::audit_chain::{Anchor, AuditVerification};
use skinledger_app::clients::NewClient;
use skinledger_app::clinics::NewClinic;
use skinledger_domain::audit_chain::{Break, GENESIS, Link};
use skinledger_domain::role::Role;
use skinledger_store::Db;
use skinledger_store::entities::audit_event;
use uuid::Uuid;

skinledger_store::on_both_backends!(
    an_untouched_chain_numbers_every_event_once_and_verifies,
    a_changed_event_is_named_by_its_number,
    a_changed_event_with_its_hash_recomputed_breaks_the_next_link,
    a_deleted_event_is_named_by_its_number,
    an_inserted_event_is_named_by_its_number,
    a_chain_rewritten_from_the_start_fails_against_an_earlier_anchor,
    concurrent_writers_and_reads_of_one_organisation_keep_one_chain,
    organisations_have_chains_of_their_own,
    only_an_org_admin_verifies_or_reads_the_head,
    a_chain_of_several_pages_verifies_and_breaks_where_a_page_ends_or_begins,
);

fn clinic(name: &str) -> NewClinic {
    NewClinic {
        name: name.into(),
        address: None,
        phone: None,
        timezone: None,
    }
}

fn client(first: &str) -> NewClient {
    NewClient {
        first_name: first.into(),
        last_name: "Lovelace".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 5, 17).expect("a date"),
        phone: None,
        email: None,
        fitzpatrick_type: None,
        consent_version: None,
        consent_signed_at: None,
        photo_consent: false,
        notes: None,
    }
}

/// An organisation with writes, reads (audited in the background), a refusal and a denial on
/// its record; the background writer has written everything when this answers.
async fn busy_organisation(db: Db) -> (Harness, Org) {
    let h = Harness::new(db);
    let org = h.organization("glow").await;
    let mitte = h.clinic(&org.admin, "Glow Mitte").await;
    h.member(
        &org.admin,
        "nurse@glow.test",
        vec![at(Role::Nurse, mitte.id)],
    )
    .await;
    let created = h
        .create_client(&org.admin, client("Ada"), None)
        .await
        .expect("client created");
    for _ in 0..3 {
        h.get_client(&org.admin, created.id).await.expect("read");
    }
    expect_code(
        h.create_clinic(&org.admin, clinic(""), None).await,
        "validation_failed",
    );
    h.flush_read_audit().await;
    (h, org)
}

async fn verify(h: &Harness, org: &Org) -> AuditVerification {
    h.verify_audit_chain(&org.admin, None)
        .await
        .expect("verification ran")
}

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

/// The migration that made the log a chain, over a log written before it: two organisations'
/// events, inserted out of the order they happened, one organisation with integration events
/// numbered already.
mod an_existing_log_is_chained_in_the_order_it_happened_and_grows_on {
    use skinledger_store::testing::{TestDb, postgres_or_skip};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::existing_log_migrated(TestDb::sqlite_empty().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if !postgres_or_skip(concat!(module_path!(), "::postgres")) {
            return;
        }
        let test_db = TestDb::postgres_empty()
            .await
            .expect("SKINLEDGER_TEST_POSTGRES_URL is set");
        super::existing_log_migrated(test_db).await;
    }
}

/// Events of the longer old log: more than two of the migration's chunks.
const LEGACY_BULK: i64 = 2_500;

/// An audit event as written before the chain: no number, no hashes.
struct OldEvent {
    org: Uuid,
    minutes: i64,
    action: &'static str,
    detail: Option<&'static str>,
    request_id: Option<&'static str>,
}

async fn existing_log_migrated(test_db: skinledger_store::testing::TestDb) {
    use chrono::{Duration, SubsecRound as _, Utc};
    use sea_orm::sea_query::{Alias, Query};
    use sea_orm::{ConnectionTrait, QueryOrder};

    let db = test_db.db.clone();
    skinledger_store::testing::migrate_before(&db, "m20261206_000010_audit_chain").await;
    let write = db.write();
    let (glow, lumen) = (Uuid::new_v4(), Uuid::new_v4());
    let start = Utc::now().trunc_subsecs(6) - Duration::days(3);
    for (id, slug) in [(glow, "glow"), (lumen, "lumen")] {
        write
            .execute(
                &Query::insert()
                    .into_table(Alias::new("organizations"))
                    .columns(["id", "slug", "name", "created_at", "updated_at"].map(Alias::new))
                    .values_panic([
                        id.into(),
                        slug.into(),
                        format!("{slug} clinics").into(),
                        start.into(),
                        start.into(),
                    ])
                    .to_owned(),
            )
            .await
            .expect("an organisation the old way");
    }
    // Glow has written integration events: its sequence row exists and keeps its number.
    write
        .execute(
            &Query::insert()
                .into_table(Alias::new("event_sequences"))
                .columns(["organization_id", "last_seq", "purged_through"].map(Alias::new))
                .values_panic([glow.into(), 7_i64.into(), 0_i64.into()])
                .to_owned(),
        )
        .await
        .expect("a sequence row the old way");
    let old = |org, minutes, action| OldEvent {
        org,
        minutes,
        action,
        detail: None,
        request_id: None,
    };
    // Inserted in neither time nor id order (random ids).
    let events = [
        old(glow, 50, "clinic.create"),
        OldEvent {
            detail: Some(r#"{"code":"validation_failed","fields":["name"]}"#),
            request_id: Some("req-ü-1"),
            ..old(glow, 10, "clinic.create")
        },
        old(lumen, 40, "auth.login"),
        old(glow, 30, "client.read"),
        old(glow, 0, "organization.create"),
        old(lumen, 0, "organization.create"),
    ];
    for event in &events {
        write
            .execute(
                &Query::insert()
                    .into_table(Alias::new("audit_events"))
                    .columns(
                        [
                            "id",
                            "organization_id",
                            "actor_kind",
                            "actor_id",
                            "action",
                            "entity_kind",
                            "entity_id",
                            "client_id",
                            "outcome",
                            "detail",
                            "request_id",
                            "occurred_at",
                        ]
                        .map(Alias::new),
                    )
                    .values_panic([
                        Uuid::new_v4().into(),
                        event.org.into(),
                        "system".into(),
                        Option::<Uuid>::None.into(),
                        event.action.into(),
                        "organization".into(),
                        Some(event.org).into(),
                        Option::<Uuid>::None.into(),
                        "success".into(),
                        event.detail.map(str::to_owned).into(),
                        event.request_id.map(str::to_owned).into(),
                        (start + Duration::minutes(event.minutes)).into(),
                    ])
                    .to_owned(),
            )
            .await
            .expect("an audit event the old way");
    }

    // And a longer log, written in scrambled time order, that the migration reads in chunks.
    let bulk: Vec<i64> = (0..LEGACY_BULK)
        .map(|i| 100 + (i * 7919) % LEGACY_BULK)
        .collect();
    for batch in bulk.chunks(250) {
        let mut insert = Query::insert()
            .into_table(Alias::new("audit_events"))
            .columns(
                [
                    "id",
                    "organization_id",
                    "actor_kind",
                    "action",
                    "entity_kind",
                    "outcome",
                    "occurred_at",
                ]
                .map(Alias::new),
            )
            .to_owned();
        for minutes in batch {
            insert.values_panic([
                Uuid::new_v4().into(),
                lumen.into(),
                "staff".into(),
                "client.read".into(),
                "client".into(),
                "success".into(),
                (start + Duration::minutes(*minutes)).into(),
            ]);
        }
        write.execute(&insert).await.expect("old events in bulk");
    }

    skinledger_store::testing::migrate_all(&db).await;

    let h = Harness::new(db.clone());
    let lumen_count = 2 + u64::try_from(LEGACY_BULK).expect("a count");
    for (org, count) in [(glow, 4_u64), (lumen, lumen_count)] {
        let verdict = h
            .verify_audit_chain_of(org, None)
            .await
            .expect("verification ran");
        assert!(verdict.verified, "{verdict:?}");
        assert_eq!(verdict.events_checked, count);
        assert_eq!(verdict.head.seq, count as i64);
        // Numbered in the order they happened.
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::OrganizationId.eq(org))
            .order_by_asc(audit_event::Column::Seq)
            .all(db.read())
            .await
            .expect("read");
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=count as i64).collect::<Vec<_>>());
        assert!(
            rows.windows(2).all(|w| w[0].occurred_at < w[1].occurred_at),
            "numbered in time order"
        );
        assert_eq!(rows[0].prev_hash, GENESIS);
        assert_eq!(
            rows.last().map(|r| r.hash.as_str()),
            Some(verdict.head.hash.as_str())
        );
    }
    let glow_actions: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(glow))
        .order_by_asc(audit_event::Column::Seq)
        .all(db.read())
        .await
        .expect("read")
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        glow_actions,
        [
            "organization.create",
            "clinic.create",
            "client.read",
            "clinic.create"
        ]
    );
    let head = skinledger_store::journal::head(db.read(), glow)
        .await
        .expect("read")
        .expect("glow's head");
    assert_eq!(
        head.event_seq, 7,
        "the integration events keep their numbers"
    );

    // The next event of the organisation continues its chain: a failed login.
    let before = h.audit_head_of(glow).await.expect("head");
    assert!(
        h.password_login("glow", "nobody@glow.test", "not the password")
            .await
            .is_err()
    );
    h.flush_read_audit().await;
    let verdict = h
        .verify_audit_chain_of(glow, None)
        .await
        .expect("verification ran");
    assert!(verdict.verified, "{verdict:?}");
    assert_eq!(verdict.events_checked, 5);
    let login = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(glow))
        .filter(audit_event::Column::Seq.eq(5))
        .one(db.read())
        .await
        .expect("read")
        .expect("event 5");
    assert_eq!(login.action, "auth.login");
    assert_eq!(login.prev_hash, before.hash);
    assert_eq!(
        skinledger_store::journal::head(db.read(), glow)
            .await
            .expect("read")
            .expect("glow's head")
            .event_seq,
        7
    );
    drop(h);
    drop(test_db);
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
