//! Clients: created once per idempotency key, found by prefix, changed under If-Match.

use skinledger_app::clients::ClientChanges;
use skinledger_app::{Error, IdempotencyKey, PageParams};
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;

use crate::clinical_support::{World, failure, invalid_fields, new_client, today, treatment};

skinledger_store::on_both_backends!(
    one_idempotency_key_sent_ten_times_creates_one_client_and_one_treatment,
    clients_are_found_by_name_email_or_phone_prefix_and_if_match_guards_changes,
);

async fn one_idempotency_key_sent_ten_times_creates_one_client_and_one_treatment(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;

    let key = IdempotencyKey::parse("client-7f3a").expect("a key");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, nurse, key) = (w.app.clone(), nurse.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            app.create_client(&nurse, new_client("Ida", "Empotent"), Some(&key))
                .await
        }));
    }
    let mut ids = Vec::new();
    for task in futures::future::join_all(tasks).await {
        match task.expect("task ran") {
            Ok(client) => ids.push(client.id),
            Err(e) => assert_eq!(e.code(), "idempotency_key_in_flight", "{e:?}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let again = w
        .app
        .create_client(&nurse, new_client("Ida", "Empotent"), Some(&key))
        .await
        .expect("a later retry gets the first answer");
    assert_eq!(again.id, ids[0]);
    let all = w
        .app
        .list_clients(&nurse, Some("ida"), &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(all.items.len(), 1);
    let e = failure(
        w.app
            .create_client(&nurse, new_client("Ida", "Different"), Some(&key))
            .await,
    );
    assert!(matches!(e, Error::IdempotencyKeyReused));

    let client = ids[0];
    w.screening(&nurse, client, today(), ScreeningAnswers::default())
        .await;
    let key = IdempotencyKey::parse("treatment-91c2").expect("a key");
    let new = treatment(w.org.clinic, client, 1.0, today());
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, nurse, key, new) = (w.app.clone(), nurse.clone(), key.clone(), new.clone());
        tasks.push(tokio::spawn(async move {
            app.create_treatment(&nurse, new, Some(&key)).await
        }));
    }
    let mut ids = Vec::new();
    for task in futures::future::join_all(tasks).await {
        match task.expect("task ran") {
            Ok(treatment) => ids.push(treatment.id),
            Err(e) => assert_eq!(e.code(), "idempotency_key_in_flight", "{e:?}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let listed = w
        .app
        .list_client_treatments(&nurse, client, &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 1);
    let mut other = new.clone();
    other.passes = 9;
    let e = failure(w.app.create_treatment(&nurse, other, Some(&key)).await);
    assert!(matches!(e, Error::IdempotencyKeyReused));
}

async fn clients_are_found_by_name_email_or_phone_prefix_and_if_match_guards_changes(db: Db) {
    let w = World::new(db).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let mut anna = new_client("Anna", "de Vries");
    anna.email = Some("Anna.DV@Example.test".into());
    anna.phone = Some("+49 30 1234567".into());
    let anna = w
        .app
        .create_client(&desk, anna, None)
        .await
        .expect("created");
    assert_eq!(anna.email.as_deref(), Some("anna.dv@example.test"));
    assert_eq!(anna.version, 1);
    let mut ben = new_client("Ben", "Anderson");
    ben.phone = Some("0171 555 0000".into());
    w.app
        .create_client(&desk, ben, None)
        .await
        .expect("created");
    w.client(&desk, "Percy", "100%_Real").await;

    let search = |q: &'static str| {
        let app = w.app.clone();
        let desk = desk.clone();
        async move {
            let page = app
                .list_clients(&desk, Some(q), &PageParams::default())
                .await
                .expect("listed");
            let mut names: Vec<String> = page.items.into_iter().map(|c| c.first_name).collect();
            names.sort();
            names
        }
    };
    assert_eq!(search("anna").await, vec!["Anna"]);
    assert_eq!(search("ANNA DE").await, vec!["Anna"]);
    assert_eq!(search("de vr").await, vec!["Anna"]);
    assert_eq!(search("and").await, vec!["Ben"]);
    assert_eq!(search("an").await, vec!["Anna", "Ben"]);
    assert_eq!(search("anna.dv@").await, vec!["Anna"]);
    assert_eq!(search("+49 30 12").await, vec!["Anna"]);
    assert_eq!(search("0171").await, vec!["Ben"]);
    assert_eq!(search("%").await, Vec::<String>::new());
    assert_eq!(search("_").await, Vec::<String>::new());
    assert_eq!(search("100%_r").await, vec!["Percy"]);
    assert_eq!(search("vries x").await, Vec::<String>::new());

    let first = w
        .app
        .list_clients(
            &desk,
            None,
            &PageParams {
                limit: Some(2),
                cursor: None,
            },
        )
        .await
        .expect("listed");
    assert_eq!(first.items.len(), 2);
    let rest = w
        .app
        .list_clients(
            &desk,
            None,
            &PageParams {
                limit: Some(2),
                cursor: first.next_cursor.clone(),
            },
        )
        .await
        .expect("listed");
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.next_cursor, None);

    let rename = ClientChanges {
        last_name: Some("Smit".into()),
        ..ClientChanges::default()
    };
    let changed = w
        .app
        .update_client(&desk, anna.id, rename.clone(), Some(1))
        .await
        .expect("changed");
    assert_eq!(changed.version, 2);
    assert_eq!(search("smit").await, vec!["Anna"]);
    assert_eq!(search("de vr").await, Vec::<String>::new());
    let e = failure(
        w.app
            .update_client(&desk, anna.id, rename.clone(), Some(1))
            .await,
    );
    assert!(matches!(e, Error::PreconditionFailed));
    let unguarded = w
        .app
        .update_client(
            &desk,
            anna.id,
            ClientChanges {
                phone: Some(String::new()),
                ..ClientChanges::default()
            },
            None,
        )
        .await
        .expect("changed without If-Match");
    assert_eq!(unguarded.version, 3);
    assert_eq!(unguarded.phone, None);
    let read = w.app.get_client(&desk, anna.id).await.expect("read");
    assert_eq!(read.version, 3);

    let mut bad = new_client(" ", "Smith");
    bad.email = Some("not-an-email".into());
    bad.phone = Some("call me".into());
    bad.consent_version = Some("v3".into());
    let e = failure(w.app.create_client(&desk, bad, None).await);
    assert_eq!(
        invalid_fields(&e),
        vec!["first_name", "phone", "email", "consent_signed_at"]
    );
}
