//! A staff member's password hash renewed at the current cost: only over the hash it replaces,
//! so a password changed meanwhile is kept, and nothing else of the row changes.

#![expect(clippy::expect_used, reason = "tests")]

use chrono::{Duration, SubsecRound as _, Utc};
use sea_orm::Set;
use skinledger_store::entities::staff;
use skinledger_store::{Db, orgs, staff as staff_store};
use uuid::Uuid;

skinledger_store::on_both_backends!(a_hash_is_renewed_only_over_the_hash_it_replaces);

async fn a_hash_is_renewed_only_over_the_hash_it_replaces(db: Db) {
    let org = Uuid::now_v7();
    orgs::insert(db.write(), org, "renewal", "Renewal")
        .await
        .expect("an organisation");
    let earlier = Utc::now().trunc_subsecs(3) - Duration::days(1);
    let member = staff_store::insert(
        db.write(),
        staff::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            email: Set("nurse@example.test".into()),
            name: Set("Nurse".into()),
            password_hash: Set("old".into()),
            active: Set(true),
            session_version: Set(3),
            created_at: Set(earlier),
            updated_at: Set(earlier),
        },
    )
    .await
    .expect("a staff member");
    let stored = || async {
        staff_store::get(db.read(), org, member.id)
            .await
            .expect("a read")
            .expect("the staff member")
    };

    // The password was changed meanwhile: the hash read at login is no longer there.
    staff_store::renew_password_hash(db.write(), member.id, "not stored", "renewed")
        .await
        .expect("no error");
    assert_eq!(stored().await, member);

    staff_store::renew_password_hash(db.write(), member.id, "old", "renewed")
        .await
        .expect("renewed");
    let after = stored().await;
    assert_eq!(after.password_hash, "renewed");
    assert_eq!(
        staff::Model {
            password_hash: "old".into(),
            ..after
        },
        member,
        "only the hash changes"
    );
}
