//! Clinical fields withheld from the front desk, and every clinical read and write audited.

use skinledger_app::PageParams;
use skinledger_app::clients::ClientChanges;
use skinledger_app::eligibility::EligibilityRequest;
use skinledger_app::treatments::{NewAddendum, Treatment};
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;

use crate::clinical_support::{World, failure, json_keys, mm, new_client, today, treatment};

skinledger_store::on_both_backends!(
    front_desk_never_receives_clinical_fields,
    writes_and_reads_of_clinical_data_are_audited_naming_the_client,
);

async fn front_desk_never_receives_clinical_fields(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let mut new = new_client("Clara", "Vogel");
    new.phone = Some("+49 30 1234567".into());
    new.notes = Some("keloid tendency on the jaw".into());
    let client = w
        .app
        .create_client(&nurse, new, None)
        .await
        .expect("client created");
    assert_eq!(client.notes.as_deref(), Some("keloid tendency on the jaw"));

    let seen = w.app.get_client(&desk, client.id).await.expect("readable");
    assert_eq!(seen.phone.as_deref(), Some("+49 30 1234567"));
    assert!(!json_keys(&seen).contains(&"notes".to_owned()));
    let listed = w
        .app
        .list_clients(&desk, Some("clara"), &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 1);
    assert!(!json_keys(&listed.items[0]).contains(&"notes".to_owned()));

    let mut with_notes = new_client("Desk", "Written");
    with_notes.notes = Some("anything".into());
    let e = failure(w.app.create_client(&desk, with_notes, None).await);
    assert_eq!(e.code(), "forbidden");
    let e = failure(
        w.app
            .update_client(
                &desk,
                client.id,
                ClientChanges {
                    notes: Some(String::new()),
                    ..ClientChanges::default()
                },
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "forbidden");

    w.screening(&nurse, client.id, today(), ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;
    let full = json_keys(&t);
    for key in [
        "notes",
        "needle_depth_mm",
        "indications",
        "aftercare",
        "adverse_events",
    ] {
        assert!(
            full.contains(&key.to_owned()),
            "{key} missing for the nurse"
        );
    }

    let reduced = [
        "client_id",
        "clinic_id",
        "id",
        "performed_at",
        "practitioner_id",
        "status",
    ];
    let seen = w.app.get_treatment(&desk, t.id).await.expect("readable");
    assert_eq!(json_keys(&seen), reduced);
    assert!(seen.clinical.is_none());
    // Both shapes read back as they were written (an idempotent replay answers from the JSON).
    for shown in [&t, &seen] {
        let json = serde_json::to_value(shown).expect("serialised");
        let back: Treatment = serde_json::from_value(json).expect("read back");
        assert_eq!(&back, shown);
    }
    let listed = w
        .app
        .list_client_treatments(&desk, client.id, &PageParams::default())
        .await
        .expect("listed");
    assert_eq!(json_keys(&listed.items[0]), reduced);

    for e in [
        failure(
            w.app
                .list_client_screenings(&desk, client.id, &PageParams::default())
                .await,
        ),
        failure(w.app.get_treatment_aftercare(&desk, t.id).await),
        failure(
            w.app
                .add_treatment_addendum(&desk, t.id, NewAddendum { text: "x".into() }, None)
                .await,
        ),
    ] {
        assert_eq!(e.code(), "forbidden");
    }
    // Front desk books sessions: it learns whether and from when, never why.
    let booking = w
        .app
        .check_eligibility(
            &desk,
            EligibilityRequest {
                client_id: client.id,
                clinic_id: w.org.clinic,
                practitioner_id: nurse.staff_id(),
                needle_depth_mm: mm(0.5),
                date: None,
                endpoint: None,
            },
        )
        .await
        .expect("front desk may check eligibility");
    assert!(!booking.eligible, "treated today, so too soon");
    assert!(booking.earliest_eligible_on.is_some());
    let json = serde_json::to_value(&booking).expect("serialises");
    for clinical in ["blockers", "screening_id", "policy_version"] {
        assert!(
            json.get(clinical).is_none(),
            "{clinical} shown to front desk"
        );
    }

    // A nurse of another clinic of the organisation sees the reduced record too.
    let other = w
        .staff(&w.org, "other", Role::Nurse, w.org.other_clinic)
        .await;
    let seen = w.app.get_treatment(&other, t.id).await.expect("readable");
    assert_eq!(json_keys(&seen), reduced);
    // The org admin sees it all.
    let seen = w
        .app
        .get_treatment(&w.org.admin, t.id)
        .await
        .expect("readable");
    assert!(json_keys(&seen).contains(&"notes".to_owned()));
}

async fn writes_and_reads_of_clinical_data_are_audited_naming_the_client(db: Db) {
    let mut w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let client = w.client(&nurse, "Audit", "Ed").await;
    w.screening(&nurse, client.id, today(), ScreeningAnswers::default())
        .await;
    let t = w
        .treat(&nurse, treatment(w.org.clinic, client.id, 1.0, today()))
        .await;
    w.app.get_treatment(&nurse, t.id).await.expect("read");
    w.app
        .list_client_screenings(&nurse, client.id, &PageParams::default())
        .await
        .expect("listed");
    w.app.get_client(&nurse, client.id).await.expect("read");
    w.app
        .sign_treatment(&nurse, t.id, None, None)
        .await
        .expect("signed");

    let log = w.audit_log().await;
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e.client_id == Some(client.id))
        .map(|e| e.action.as_str())
        .collect();
    for action in [
        "client.create",
        "screening.record",
        "treatment.create",
        "treatment.read",
        "screening.list",
        "client.read",
        "treatment.sign",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert!(
        log.iter()
            .filter(|e| e.client_id == Some(client.id))
            .all(|e| e.actor_id == nurse.staff_id())
    );
}
