//! Typed columns on both backends: a product's kind, a client's Fitzpatrick type (nullable)
//! and a policy document are written as their wire names and JSON text and read back as the
//! domain values; a stored value the code does not know fails the read with an error naming
//! the column and the value, instead of a panic or a silent default.

#![expect(clippy::expect_used, reason = "tests")]

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use skinledger_domain::clinical::FitzpatrickType;
use skinledger_domain::inventory::ProductKind;
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_domain::role::{Grant, Role};
use skinledger_store::entities::{client, policy, product, staff, staff_role};
use skinledger_store::{Db, clients, orgs, policies, products, staff as staff_store};
use uuid::Uuid;

skinledger_store::on_both_backends!(
    typed_columns_round_trip,
    an_unknown_stored_name_is_refused_naming_it,
    unreadable_stored_json_is_refused_naming_its_column,
    a_role_the_code_does_not_know_refuses_the_caller,
);

async fn org(db: &Db) -> Uuid {
    let id = Uuid::now_v7();
    orgs::insert(db.write(), id, &format!("org-{}", id.simple()), "Codec")
        .await
        .expect("an organisation");
    id
}

async fn product(db: &Db, org: Uuid, kind: ProductKind) -> product::Model {
    let now = Utc::now();
    products::insert(
        db.write(),
        product::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            kind: Set(kind.into()),
            name: Set("Cartridge 12".into()),
            maker: Set("Maker".into()),
            gtin: Set(None),
            needle_length_hundredths: Set(Some(150)),
            needle_count: Set(Some(12)),
            max_depth_hundredths: Set(Some(150)),
            single_use: Set(true),
            reorder_point: Set(0),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await
    .expect("a product")
}

async fn client(db: &Db, org: Uuid, fitzpatrick: Option<FitzpatrickType>) -> client::Model {
    let now = Utc::now();
    clients::insert(
        db.write(),
        client::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            first_name: Set("Ada".into()),
            last_name: Set("Lovelace".into()),
            date_of_birth: Set(NaiveDate::from_ymd_opt(1990, 1, 2).expect("a date")),
            phone: Set(None),
            email: Set(None),
            fitzpatrick_type: Set(fitzpatrick.map(Into::into)),
            consent_version: Set(None),
            consent_signed_at: Set(None),
            photo_consent: Set(false),
            notes: Set(None),
            name_search: Set(clients::name_key("Ada", "Lovelace")),
            reverse_name_search: Set(clients::reverse_name_key("Ada", "Lovelace")),
            email_search: Set(None),
            phone_search: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await
    .expect("a client")
}

/// The text a column of a row holds, as the database has it.
async fn stored<E: EntityTrait>(
    db: &Db,
    column: E::Column,
    id_column: E::Column,
    id: Uuid,
) -> Option<String> {
    E::find()
        .select_only()
        .column(column)
        .filter(id_column.eq(id))
        .into_tuple::<Option<String>>()
        .one(db.read())
        .await
        .expect("the stored text")
        .flatten()
}

async fn typed_columns_round_trip(db: Db) {
    let org = org(&db).await;

    let roller = product(&db, org, ProductKind::PenCartridge).await;
    assert_eq!(*roller.kind, ProductKind::PenCartridge);
    let read = products::get(db.read(), org, roller.id)
        .await
        .expect("the product")
        .expect("it exists");
    assert_eq!(read.kind, ProductKind::PenCartridge);
    assert_eq!(
        stored::<product::Entity>(&db, product::Column::Kind, product::Column::Id, roller.id).await,
        Some("pen_cartridge".to_owned())
    );

    let typed = client(&db, org, Some(FitzpatrickType::Iv)).await;
    let untyped = client(&db, org, None).await;
    for (row, expected, text) in [
        (typed, Some(FitzpatrickType::Iv), Some("iv")),
        (untyped, None, None),
    ] {
        let read = clients::get(db.read(), org, row.id)
            .await
            .expect("the client")
            .expect("it exists");
        assert_eq!(read.fitzpatrick_type.map(|t| t.into_inner()), expected);
        assert_eq!(
            stored::<client::Entity>(
                &db,
                client::Column::FitzpatrickType,
                client::Column::Id,
                row.id
            )
            .await
            .as_deref(),
            text
        );
    }

    let document = ClinicalPolicy {
        screening_validity_days: 90,
        ..ClinicalPolicy::default()
    };
    policies::insert(
        db.write(),
        policy::ActiveModel {
            organization_id: Set(org),
            version: Set(1),
            document: Set(document.clone().into()),
            created_by: Set(None),
            created_at: Set(Utc::now()),
        },
    )
    .await
    .expect("a policy");
    let read = policies::current(db.read(), org)
        .await
        .expect("the policy")
        .expect("it exists");
    assert_eq!(*read.document, document);
    let text = policy::Entity::find_by_id((org, 1))
        .select_only()
        .column(policy::Column::Document)
        .into_tuple::<String>()
        .one(db.read())
        .await
        .expect("the stored document")
        .expect("it exists");
    assert_eq!(
        text,
        serde_json::to_string(&document).expect("the policy serialises"),
        "the document is stored as serde writes it"
    );
}

/// The message of a read that failed, asserting it failed as a database type error.
fn refusal<T: std::fmt::Debug>(read: Result<T, DbErr>) -> String {
    match read.expect_err("the read is refused") {
        e @ (DbErr::Type(_) | DbErr::Json(_)) => e.to_string(),
        other => panic!("refused as something else: {other:?}"),
    }
}

async fn an_unknown_stored_name_is_refused_naming_it(db: Db) {
    let org = org(&db).await;
    let row = product(&db, org, ProductKind::Roller).await;
    product::Entity::update_many()
        .col_expr(product::Column::Kind, Expr::value("scalpel"))
        .filter(product::Column::Id.eq(row.id))
        .exec(db.write())
        .await
        .expect("the kind overwritten");
    let message = refusal(products::get(db.read(), org, row.id).await);
    assert!(message.contains("`kind`"), "{message}");
    assert!(message.contains("`scalpel`"), "{message}");

    let typed = client(&db, org, Some(FitzpatrickType::I)).await;
    client::Entity::update_many()
        .col_expr(client::Column::FitzpatrickType, Expr::value("vii"))
        .filter(client::Column::Id.eq(typed.id))
        .exec(db.write())
        .await
        .expect("the type overwritten");
    let message = refusal(clients::get(db.read(), org, typed.id).await);
    assert!(message.contains("`fitzpatrick_type`"), "{message}");
    assert!(message.contains("`vii`"), "{message}");
}

async fn unreadable_stored_json_is_refused_naming_its_column(db: Db) {
    let org = org(&db).await;
    policies::insert(
        db.write(),
        policy::ActiveModel {
            organization_id: Set(org),
            version: Set(1),
            document: Set(ClinicalPolicy::default().into()),
            created_by: Set(None),
            created_at: Set(Utc::now()),
        },
    )
    .await
    .expect("a policy");
    policy::Entity::update_many()
        .col_expr(
            policy::Column::Document,
            Expr::value(r#"{"screening_validity_days": "ninety"}"#),
        )
        .filter(policy::Column::OrganizationId.eq(org))
        .exec(db.write())
        .await
        .expect("the document overwritten");
    let message = refusal(policies::current(db.read(), org).await);
    assert!(message.contains("`document`"), "{message}");
    assert!(message.contains("ninety"), "{message}");
}

/// A staff member's roles come back as roles; a role row the code does not know (written by a
/// later version, or by hand) fails the caller's resolution naming the value, rather than being
/// skipped so that the caller acts with the roles that are left.
async fn a_role_the_code_does_not_know_refuses_the_caller(db: Db) {
    let org = org(&db).await;
    let now = Utc::now();
    let member = staff_store::insert(
        db.write(),
        staff::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            email: Set("nurse@example.test".into()),
            name: Set("Nurse".into()),
            password_hash: Set(String::new()),
            active: Set(true),
            session_version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await
    .expect("a staff member");
    let grants = [Grant {
        role: Role::OrgAdmin,
        clinic_id: None,
    }];
    staff_store::replace_roles(db.write(), org, member.id, &grants)
        .await
        .expect("the roles");
    let roles = staff_store::acting_roles(db.read(), org, member.id, 0)
        .await
        .expect("the caller");
    assert_eq!(roles, Some(vec![(None, Role::OrgAdmin)]));

    staff_role::Entity::update_many()
        .col_expr(staff_role::Column::Role, Expr::value("chief"))
        .filter(staff_role::Column::StaffId.eq(member.id))
        .exec(db.write())
        .await
        .expect("the role overwritten");
    let message = refusal(staff_store::acting_roles(db.read(), org, member.id, 0).await);
    assert!(message.contains("`chief`"), "{message}");
}
