//! Refusals: each audited once, and role limits a rescreening cannot get round.

use skinledger_app::screenings::{NewClearance, NewScreening};
use skinledger_domain::clinical::Endpoint;
use skinledger_domain::contraindication::Contraindication;
use skinledger_domain::policy::ClinicalPolicy;
use skinledger_domain::role::Role;
use skinledger_domain::screening::{Outcome, ScreeningAnswers};
use skinledger_store::Db;

use crate::clinical_support::{World, failure, invalid_fields, today, treatment};
use crate::inventory_support::eligible_client;

skinledger_store::on_both_backends!(
    each_refusal_leaves_one_audit_event_with_its_code_and_outcome,
    a_nurse_cannot_wave_away_a_pregnancy_by_rescreening_but_a_physician_can_clear_it,
    an_esthetician_stops_short_of_bleeding_until_the_policy_says_otherwise,
);

async fn each_refusal_leaves_one_audit_event_with_its_code_and_outcome(db: Db) {
    let mut w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let desk = w.staff(&w.org, "desk", Role::FrontDesk, w.org.clinic).await;
    let client = w.client(&nurse, "Preg", "Nant").await;
    w.screening(
        &nurse,
        client.id,
        today(),
        ScreeningAnswers {
            pregnant: true,
            ..ScreeningAnswers::default()
        },
    )
    .await;
    // 409 contraindicated, 403 forbidden, 422 naming fields.
    let refused = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(refused.code(), "contraindicated");
    let denied = failure(
        w.app
            .create_treatment(
                &desk,
                treatment(w.org.clinic, client.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(denied.code(), "forbidden");
    let mut invalid = treatment(w.org.clinic, client.id, 0.5, today());
    invalid.passes = 0;
    invalid.duration_minutes = 0;
    let invalid = failure(w.app.create_treatment(&nurse, invalid, None).await);
    assert_eq!(invalid_fields(&invalid), vec!["passes", "duration_minutes"]);

    let log = w.audit_log().await;
    let refusals: Vec<_> = log
        .iter()
        .filter(|e| e.action == "treatment.create" && e.outcome != "success")
        .collect();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    let by_code = |code: &str| {
        refusals
            .iter()
            .filter(|e| e.detail.as_ref().and_then(|d| d["code"].as_str()) == Some(code))
            .collect::<Vec<_>>()
    };
    let contraindicated = by_code("contraindicated");
    assert_eq!(contraindicated.len(), 1);
    assert_eq!(contraindicated[0].outcome, "refused");
    assert_eq!(contraindicated[0].client_id, Some(client.id));
    assert_eq!(contraindicated[0].actor_id, nurse.staff_id());
    let detail = contraindicated[0].detail.clone().expect("detail");
    assert_eq!(detail["clinic_id"], serde_json::json!(w.org.clinic));
    let forbidden = by_code("forbidden");
    assert_eq!(forbidden.len(), 1);
    assert_eq!(forbidden[0].outcome, "denied");
    assert_eq!(forbidden[0].actor_id, desk.staff_id());
    let validation = by_code("validation_failed");
    assert_eq!(validation.len(), 1);
    let fields = validation[0].detail.clone().expect("detail")["fields"].clone();
    assert_eq!(fields, serde_json::json!(["passes", "duration_minutes"]));
    // Nothing was written by the refused requests.
    assert!(
        !log.iter()
            .any(|e| e.action == "treatment.create" && e.outcome == "success")
    );
}

async fn a_nurse_cannot_wave_away_a_pregnancy_by_rescreening_but_a_physician_can_clear_it(db: Db) {
    let w = World::new(db).await;
    let nurse = w.staff(&w.org, "nurse", Role::Nurse, w.org.clinic).await;
    let physician = w
        .staff(&w.org, "physician", Role::Physician, w.org.clinic)
        .await;
    let client = w.client(&nurse, "Quick", "Rescreen").await;
    w.screening(
        &nurse,
        client.id,
        today(),
        ScreeningAnswers {
            pregnant: true,
            ..ScreeningAnswers::default()
        },
    )
    .await;
    // Ten minutes later the answer is "no".
    let rescreen = w
        .app
        .record_screening(
            &nurse,
            client.id,
            NewScreening {
                clinic_id: Some(w.org.clinic),
                screened_on: None,
                answers: ScreeningAnswers::default(),
            },
            None,
        )
        .await
        .expect("rescreened");
    assert_eq!(rescreen.outcome, Outcome::RequiresClearance);
    let json = serde_json::to_value(&rescreen.reasons).expect("serialises");
    assert_eq!(json[0]["basis"], "contradicts_earlier_screening");
    let e = failure(
        w.app
            .create_treatment(
                &nurse,
                treatment(w.org.clinic, client.id, 0.5, today()),
                None,
            )
            .await,
    );
    assert_eq!(e.code(), "requires_clearance");
    // A nurse cannot clear it; a physician can, with a reason.
    let clearance = || NewClearance {
        factor: Contraindication::Pregnancy,
        reason: "pregnancy test negative".into(),
    };
    let e = failure(
        w.app
            .clear_screening_factor(&nurse, rescreen.id, clearance(), None)
            .await,
    );
    assert_eq!(e.code(), "forbidden");
    w.app
        .clear_screening_factor(&physician, rescreen.id, clearance(), None)
        .await
        .expect("cleared by a physician");
    w.treat(&nurse, treatment(w.org.clinic, client.id, 0.5, today()))
        .await;
}

async fn an_esthetician_stops_short_of_bleeding_until_the_policy_says_otherwise(db: Db) {
    let w = World::new(db).await;
    let esthetician = w
        .staff(&w.org, "esthetician", Role::Esthetician, w.org.clinic)
        .await;
    let client = eligible_client(&w, &esthetician, "Pin", "Point").await;
    let mut bleeding = treatment(w.org.clinic, client, 0.5, today());
    bleeding.endpoint = Endpoint::PinpointBleeding;
    let e = failure(
        w.app
            .create_treatment(&esthetician, bleeding.clone(), None)
            .await,
    );
    assert_eq!(e.code(), "outside_scope_of_practice");
    // A roller session with a pen cartridge is a mistake in the request.
    let mut mismatched = treatment(w.org.clinic, client, 0.5, today());
    mismatched.device_kind = skinledger_domain::clinical::DeviceKind::Pen;
    let e = failure(w.app.create_treatment(&esthetician, mismatched, None).await);
    assert!(invalid_fields(&e).contains(&"device_kind".to_owned()));

    let mut policy = ClinicalPolicy::default();
    for rule in &mut policy.endpoints_by_role {
        if rule.role == Role::Esthetician {
            rule.endpoints.push(Endpoint::PinpointBleeding);
        }
    }
    w.app
        .put_policy(&w.org.admin, policy, None)
        .await
        .expect("policy changed");
    w.treat(&esthetician, bleeding).await;
}
