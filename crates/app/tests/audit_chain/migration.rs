//! A log written before the chain is chained in the order it happened, and grows on.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use skinledger_domain::audit_chain::GENESIS;
use skinledger_store::entities::audit_event;
use uuid::Uuid;

use crate::common::Harness;

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
