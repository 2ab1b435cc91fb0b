//! Webhook payloads never carry clinical content.

use skinledger_app::treatments::{NewAddendum, NewAdverseEvent};
use skinledger_domain::clinical::{AdverseEventKind, Severity};
use skinledger_domain::role::Role;
use skinledger_domain::screening::ScreeningAnswers;
use skinledger_store::Db;

use crate::clinical_support;
use crate::clinical_support::{World, new_client, today};
use crate::inventory_support::{one_of, treatment_using};
use crate::{Receiver, Worker, local, register, until};

skinledger_store::on_both_backends!(payloads_never_carry_clinical_content);

async fn payloads_never_carry_clinical_content(db: Db) {
    let w = World::with_settings(db, local).await;
    let admin = &w.org.admin;
    let receiver = Receiver::accepting().await;
    let _worker = Worker::start(&w.app);
    let hook = register(&w.app, admin, &receiver.url).await;
    let doc = w.staff(&w.org, "doc", Role::Physician, w.org.clinic).await;
    let client = w
        .app
        .create_client(
            &doc,
            skinledger_app::clients::NewClient {
                notes: Some("SECRET client note".into()),
                ..new_client("Ada", "Lovelace")
            },
            None,
        )
        .await
        .expect("client");
    w.screening(
        &doc,
        client.id,
        today(),
        ScreeningAnswers {
            medications: Some("SECRET medication".into()),
            ..ScreeningAnswers::default()
        },
    )
    .await;
    let roller = clinical_support::roller_at(w.org.clinic);
    let treated = w
        .treat(
            &doc,
            skinledger_app::treatments::NewTreatment {
                notes: Some("SECRET session note".into()),
                ..treatment_using(w.org.clinic, client.id, vec![one_of(roller)])
            },
        )
        .await;
    w.app
        .record_adverse_event(
            &doc,
            treated.id,
            NewAdverseEvent {
                kind: AdverseEventKind::Infection,
                severity: Severity::Moderate,
                onset_on: today(),
                notes: Some("SECRET adverse event".into()),
            },
            None,
        )
        .await
        .expect("adverse event");
    w.app
        .sign_treatment(&doc, treated.id, None, None)
        .await
        .expect("signed");
    w.app
        .add_treatment_addendum(
            &doc,
            treated.id,
            NewAddendum {
                text: "SECRET addendum".into(),
            },
            None,
        )
        .await
        .expect("addendum");
    until("the addendum's event is delivered", || async {
        receiver
            .received()
            .iter()
            .any(|r| r.body.contains("treatment.addendum_added"))
    })
    .await;
    let bodies: Vec<String> = receiver.received().into_iter().map(|r| r.body).collect();
    assert!(bodies.iter().any(|b| b.contains("adverse_event.recorded")));
    for body in &bodies {
        assert!(
            !body.contains("SECRET"),
            "clinical content delivered: {body}"
        );
        assert!(!body.contains("medication"), "{body}");
    }
    assert!(hook.enabled);
}
